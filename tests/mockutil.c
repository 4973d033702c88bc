/* mockutil: the one place tests start the mock on port 0 and make HTTP requests to it. */
#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mockutil.h"

struct buf {
	char *p;
	size_t len, cap, max;
};

static size_t
buf_write(char *data, size_t size, size_t n, void *cls)
{
	struct buf *b = cls;
	size_t len = size * n, ncap;
	char *p;

	if (b->len + len > b->max)
		return 0;	/* over the cap: curl reports a write error */
	if (b->len + len + 1 > b->cap) {
		ncap = (b->len + len + 1) * 2;
		p = realloc(b->p, ncap);
		if (p == NULL)
			return 0;
		b->p = p;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
	return len;
}

static char *
buf_take(struct buf *b)
{
	if (b->p == NULL) {
		b->p = strdup("");
		ck_assert_ptr_nonnull(b->p);
	}
	return b->p;
}

const char *
mu_fixture(const char *name)
{
	static char path[4096];
	const char *src = getenv("DOSNAP_SRCDIR");

	snprintf(path, sizeof(path), "%s/mock/fixtures/%s", src != NULL ? src : ".", name);
	return path;
}

void
mu_config(struct mock_config *cfg, const char *fixture)
{
	mock_config_init(cfg);
	cfg->time_scale = 0.01;
	cfg->fixture_path = fixture != NULL ? mu_fixture(fixture) : NULL;
}

struct mock *
mu_start(const struct mock_config *cfg)
{
	static int curl_ready;
	struct mock_config def;
	struct mock *m = NULL;
	int r;

	if (!curl_ready) {
		ck_assert_int_eq(curl_global_init(CURL_GLOBAL_DEFAULT), 0);
		curl_ready = 1;
	}
	if (cfg == NULL) {
		mu_config(&def, "basic.json");
		cfg = &def;
	}
	r = mock_start(cfg, &m);
	ck_assert_msg(r == 0, "mock_start failed: %s", strerror(-r));
	return m;
}

void
mu_request_ex(struct mock *m, const char *method, const char *path, const char *auth,
    const char *body, long timeout_ms, struct mu_response *res)
{
	struct buf bb = { .max = MU_BODY_MAX }, hb = { .max = MU_HEADERS_MAX };
	struct curl_slist *hdrs = NULL;
	char url[2048], ah[1024];
	CURL *c;

	memset(res, 0, sizeof(*res));
	snprintf(url, sizeof(url), "%s%s", mock_url(m), path);
	c = curl_easy_init();
	ck_assert_ptr_nonnull(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, buf_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &bb);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, buf_write);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &hb);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 10000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (auth != NULL) {
		snprintf(ah, sizeof(ah), "Authorization: %s", auth);
		hdrs = curl_slist_append(hdrs, ah);
	}
	if (body != NULL) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	res->curl_code = (int)curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	res->len = bb.len;
	res->body = buf_take(&bb);
	res->headers = buf_take(&hb);
}

void
mu_request(struct mock *m, const char *method, const char *path, const char *body,
    struct mu_response *res)
{
	char auth[600];

	snprintf(auth, sizeof(auth), "Bearer %s", mock_token(m));
	mu_request_ex(m, method, path, auth, body, 0, res);
}

const char *
mu_header(const struct mu_response *res, const char *name, char *buf, size_t len)
{
	size_t nl = strlen(name);
	const char *p = res->headers;

	while (p != NULL && *p != '\0') {
		const char *eol = strstr(p, "\r\n");
		size_t ll = eol != NULL ? (size_t)(eol - p) : strlen(p);

		if (ll > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			size_t vl;

			while (*v == ' ')
				v++;
			vl = ll - (size_t)(v - p);
			if (vl >= len)
				vl = len - 1;
			memcpy(buf, v, vl);
			buf[vl] = '\0';
			return buf;
		}
		p = eol != NULL ? eol + 2 : NULL;
	}
	return NULL;
}

void
mu_response_release(struct mu_response *res)
{
	free(res->body);
	free(res->headers);
	res->body = res->headers = NULL;
}
