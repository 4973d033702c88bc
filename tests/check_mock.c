/* check_mock: the mock server driven over HTTP with libcurl: endpoints, transitions, faults, limits. */
#include <check.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dosnap/util.h"
#include "mockutil.h"
#include "routes.h"
#include "server.h"
#include "testutil.h"

Suite	*mock_suite(void);

/* --- helpers --------------------------------------------------------------- */

static cJSON *
json_of(const struct mu_response *res)
{
	cJSON *js = cJSON_Parse(res->body);

	ck_assert_msg(js != NULL, "response is not JSON: %.200s", res->body);
	return js;
}

/* Request and parse; asserts the status. */
static cJSON *
get_json(struct mock *m, const char *method, const char *path, const char *body, long want)
{
	struct mu_response res;
	cJSON *js;

	mu_request(m, method, path, body, &res);
	ck_assert_msg(res.status == want, "%s %s: status %ld, want %ld: %.300s", method, path,
	    res.status, want, res.body);
	js = json_of(&res);
	mu_response_release(&res);
	return js;
}

static const cJSON *
at(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	ck_assert_msg(v != NULL, "no \"%s\" in JSON", key);
	return v;
}

static const char *
str_at(const cJSON *o, const char *key)
{
	const cJSON *v = at(o, key);

	ck_assert_msg(cJSON_IsString(v), "\"%s\" is not a string", key);
	return v->valuestring;
}

static double
num_at(const cJSON *o, const char *key)
{
	const cJSON *v = at(o, key);

	ck_assert_msg(cJSON_IsNumber(v), "\"%s\" is not a number", key);
	return v->valuedouble;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Start an action; returns its id. */
static long long
start_action(struct mock *m, long long droplet, const char *body)
{
	char path[128];
	cJSON *js;
	long long id;

	snprintf(path, sizeof(path), "/v2/droplets/%lld/actions", droplet);
	js = get_json(m, "POST", path, body, 201);
	ck_assert_str_eq(str_at(at(js, "action"), "status"), "in-progress");
	id = (long long)num_at(at(js, "action"), "id");
	cJSON_Delete(js);
	return id;
}

/* Poll an action until it leaves in-progress (or 5 s pass); returns its final status. */
static char *
wait_action(struct mock *m, long long id)
{
	char path[128], *status = NULL;
	int i;

	snprintf(path, sizeof(path), "/v2/actions/%lld", id);
	for (i = 0; i < 500; i++) {
		cJSON *js = get_json(m, "GET", path, NULL, 200);
		const char *s = str_at(at(js, "action"), "status");

		if (strcmp(s, "in-progress") != 0) {
			status = strdup(s);
			cJSON_Delete(js);
			return status;
		}
		cJSON_Delete(js);
		sleep_ms(10);
	}
	return strdup("in-progress");
}

static char *
droplet_status(struct mock *m, long long id)
{
	char path[128], *s;
	cJSON *js;

	snprintf(path, sizeof(path), "/v2/droplets/%lld", id);
	js = get_json(m, "GET", path, NULL, 200);
	s = strdup(str_at(at(js, "droplet"), "status"));
	cJSON_Delete(js);
	return s;
}

static void
assert_error(const struct mu_response *res, long status, const char *id)
{
	char rid[64];
	cJSON *js;

	ck_assert_int_eq(res->status, status);
	js = json_of(res);
	ck_assert_str_eq(str_at(js, "id"), id);
	ck_assert(strlen(str_at(js, "message")) > 0);
	ck_assert_ptr_nonnull(mu_header(res, "x-request-id", rid, sizeof(rid)));
	ck_assert_str_eq(str_at(js, "request_id"), rid);
	cJSON_Delete(js);
}

/* --- auth, headers, account -------------------------------------------------- */

START_TEST(test_auth)
{
	struct mock *m = mu_start(NULL);
	struct mu_response res;
	char h[64];

	mu_request_ex(m, "GET", "/v2/account", NULL, NULL, 0, &res);
	assert_error(&res, 401, "unauthorized");
	mu_response_release(&res);
	mu_request_ex(m, "GET", "/v2/account", "Bearer wrong", NULL, 0, &res);
	assert_error(&res, 401, "unauthorized");
	mu_response_release(&res);
	mu_request_ex(m, "GET", "/v2/droplets", "Basic bW9jay10b2tlbjo=", NULL, 0, &res);
	assert_error(&res, 401, "unauthorized");
	mu_response_release(&res);

	mu_request(m, "GET", "/v2/account", NULL, &res);
	ck_assert_int_eq(res.status, 200);
	ck_assert_str_eq(mu_header(&res, "content-type", h, sizeof(h)), "application/json; charset=utf-8");
	ck_assert_str_eq(mu_header(&res, "ratelimit-limit", h, sizeof(h)), "5000");
	ck_assert_str_eq(mu_header(&res, "ratelimit-remaining", h, sizeof(h)), "4999");
	ck_assert_ptr_nonnull(mu_header(&res, "ratelimit-reset", h, sizeof(h)));
	ck_assert(strtoll(h, NULL, 10) >= (long long)time(NULL) - 1);
	ck_assert_ptr_nonnull(mu_header(&res, "x-request-id", h, sizeof(h)));
	ck_assert_int_eq(strlen(h), 36);
	{
		cJSON *js = json_of(&res);
		const cJSON *a = at(js, "account");

		ck_assert_str_eq(str_at(a, "status"), "active");
		ck_assert(strlen(str_at(a, "uuid")) > 0);
		num_at(a, "droplet_limit");
		cJSON_Delete(js);
	}
	mu_response_release(&res);
	mock_stop(m);
}
END_TEST

START_TEST(test_droplet_get)
{
	struct mock *m = mu_start(NULL);
	struct mu_response res;
	const cJSON *d;
	cJSON *js;
	char h[64];

	js = get_json(m, "GET", "/v2/droplets/1001", NULL, 200);
	d = at(js, "droplet");
	ck_assert_int_eq((long long)num_at(d, "id"), 1001);
	ck_assert_str_eq(str_at(d, "name"), "alpha");
	ck_assert_str_eq(str_at(d, "status"), "active");
	ck_assert(cJSON_IsFalse(at(d, "locked")));
	ck_assert_int_eq(cJSON_GetArraySize(at(d, "snapshot_ids")), 1);
	ck_assert_int_eq((long long)cJSON_GetArrayItem(at(d, "snapshot_ids"), 0)->valuedouble, 5001);
	ck_assert_int_eq((long long)cJSON_GetArrayItem(at(d, "backup_ids"), 0)->valuedouble, 5002);
	ck_assert_str_eq(str_at(at(d, "region"), "slug"), "nyc3");
	ck_assert_str_eq(str_at(d, "size_slug"), "s-1vcpu-1gb");
	ck_assert_str_eq(cJSON_GetArrayItem(at(d, "tags"), 1)->valuestring, "env:prod");
	at(d, "image");
	at(d, "networks");
	at(d, "next_backup_window");
	cJSON_Delete(js);

	js = get_json(m, "GET", "/v2/droplets/1003", NULL, 200);
	d = at(js, "droplet");
	ck_assert_str_eq(str_at(d, "status"), "off");
	ck_assert_str_eq(cJSON_GetArrayItem(at(d, "volume_ids"), 0)->valuestring,
	    "11111111-2222-4333-8444-555555555555");
	cJSON_Delete(js);

	mu_request(m, "GET", "/v2/droplets/999", NULL, &res);
	assert_error(&res, 404, "not_found");
	mu_response_release(&res);
	mu_request(m, "GET", "/v2/droplets/abc", NULL, &res);
	assert_error(&res, 404, "not_found");
	mu_response_release(&res);
	mu_request(m, "DELETE", "/v2/droplets/1001", NULL, &res);
	assert_error(&res, 405, "method_not_allowed");
	ck_assert_str_eq(mu_header(&res, "allow", h, sizeof(h)), "GET");
	mu_response_release(&res);
	mu_request(m, "GET", "/v2/nothing/here", NULL, &res);
	assert_error(&res, 404, "not_found");
	mu_response_release(&res);
	mu_request(m, "GET", "/v2/droplets//", NULL, &res);
	assert_error(&res, 404, "not_found");
	mu_response_release(&res);
	mock_stop(m);
}
END_TEST

/*
 * The service takes its routes with one trailing slash too, and a widely
 * used client library sends one on nearly every call: every route answers
 * as without it, the request log and fault rules see the path without it.
 */
START_TEST(test_trailing_slash)
{
	struct mock *m = mu_start(NULL);
	struct mock_fault f;
	struct mu_response res;
	const cJSON *pages;
	cJSON *js;
	long long id;
	char *st, h[64];

	js = get_json(m, "GET", "/v2/account/", NULL, 200);
	at(js, "account");
	cJSON_Delete(js);
	js = get_json(m, "GET", "/v2/droplets/?per_page=2", NULL, 200);
	ck_assert_int_eq(cJSON_GetArraySize(at(js, "droplets")), 2);
	pages = at(at(js, "links"), "pages");
	/* Links name the canonical path. */
	ck_assert_ptr_nonnull(strstr(str_at(pages, "next"), "/v2/droplets?page=2&per_page=2"));
	cJSON_Delete(js);
	js = get_json(m, "GET", "/v2/droplets/1001/", NULL, 200);
	ck_assert_str_eq(str_at(at(js, "droplet"), "name"), "alpha");
	cJSON_Delete(js);
	js = get_json(m, "GET", "/v2/droplets/1001/snapshots/", NULL, 200);
	cJSON_Delete(js);
	js = get_json(m, "GET", "/v2/droplets/1001/actions/", NULL, 200);
	cJSON_Delete(js);
	js = get_json(m, "POST", "/v2/droplets/1002/actions/", "{\"type\":\"snapshot\",\"name\":\"s\"}", 201);
	id = (long long)num_at(at(js, "action"), "id");
	cJSON_Delete(js);
	{
		char path[128];

		snprintf(path, sizeof(path), "/v2/actions/%lld/", id);
		js = get_json(m, "GET", path, NULL, 200);
		cJSON_Delete(js);
		snprintf(path, sizeof(path), "/v2/droplets/1002/actions/%lld/", id);
		js = get_json(m, "GET", path, NULL, 200);
		cJSON_Delete(js);
	}
	st = wait_action(m, id);
	ck_assert_str_eq(st, "completed");
	free(st);
	js = get_json(m, "GET", "/v2/actions/", NULL, 200);
	cJSON_Delete(js);
	js = get_json(m, "POST", "/v2/droplets/actions/?tag_name=db", "{\"type\":\"power_on\"}", 201);
	cJSON_Delete(js);
	js = get_json(m, "GET", "/v2/snapshots/", NULL, 200);
	cJSON_Delete(js);
	js = get_json(m, "GET", "/v2/snapshots/5001/", NULL, 200);
	cJSON_Delete(js);
	mu_request(m, "DELETE", "/v2/snapshots/5001/", NULL, &res);
	ck_assert_int_eq(res.status, 204);
	mu_response_release(&res);
	ck_assert_uint_eq(mock_request_count(m, "DELETE", "/v2/snapshots/5001", 204), 1);
	js = get_json(m, "GET", "/v2/volumes/", NULL, 200);
	cJSON_Delete(js);
	js = get_json(m, "GET", "/v2/volumes/11111111-2222-4333-8444-555555555555/", NULL, 200);
	cJSON_Delete(js);
	js = get_json(m, "GET", "/v2/volumes/11111111-2222-4333-8444-555555555555/snapshots/", NULL, 200);
	cJSON_Delete(js);
	js = get_json(m, "GET", "/v2/volumes/snapshots/aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee/", NULL, 200);
	cJSON_Delete(js);

	/* Errors stay what they are without the slash. */
	mu_request(m, "DELETE", "/v2/snapshots/5001/", NULL, &res);
	assert_error(&res, 404, "not_found");
	mu_response_release(&res);
	mu_request(m, "PUT", "/v2/account/", "{}", &res);
	assert_error(&res, 405, "method_not_allowed");
	ck_assert_str_eq(mu_header(&res, "allow", h, sizeof(h)), "GET");
	mu_response_release(&res);
	mu_request(m, "GET", "/v2/", NULL, &res);
	assert_error(&res, 404, "not_found");
	mu_response_release(&res);

	/* A fault rule on the path catches the request with the slash. */
	ck_assert_int_eq(mock_fault_parse("kind=503,path=/v2/droplets,once", &f), 0);
	ck_assert_int_eq(mock_add_fault(m, &f), 0);
	mu_request(m, "GET", "/v2/droplets/", NULL, &res);
	assert_error(&res, 503, "service_unavailable");
	mu_response_release(&res);
	mock_stop(m);
}
END_TEST

/* --- lists and pagination ------------------------------------------------------ */

static int
count_list(struct mock *m, const char *path, const char *key, int *total)
{
	cJSON *js = get_json(m, "GET", path, NULL, 200);
	int n = cJSON_GetArraySize(at(js, key));

	*total = (int)num_at(at(js, "meta"), "total");
	cJSON_Delete(js);
	return n;
}

START_TEST(test_droplet_filters)
{
	struct mock *m = mu_start(NULL);
	int total;

	ck_assert_int_eq(count_list(m, "/v2/droplets", "droplets", &total), 3);
	ck_assert_int_eq(total, 3);
	ck_assert_int_eq(count_list(m, "/v2/droplets?tag_name=env%3Aprod", "droplets", &total), 2);
	ck_assert_int_eq(count_list(m, "/v2/droplets?tag_name=web", "droplets", &total), 2);
	ck_assert_int_eq(count_list(m, "/v2/droplets?tag_name=nope", "droplets", &total), 0);
	ck_assert_int_eq(total, 0);
	ck_assert_int_eq(count_list(m, "/v2/droplets?name=beta", "droplets", &total), 1);
	ck_assert_int_eq(count_list(m, "/v2/droplets?type=gpus", "droplets", &total), 0);
	mock_stop(m);
}
END_TEST

/* The name filter: "exact matches. It is case-insensitive" (the OpenAPI file). */
START_TEST(test_droplet_name_filter)
{
	struct mock *m = mu_start(NULL);
	cJSON *js;
	int total;

	js = get_json(m, "GET", "/v2/droplets?name=BeTa", NULL, 200);
	ck_assert_int_eq(cJSON_GetArraySize(at(js, "droplets")), 1);
	ck_assert_str_eq(str_at(cJSON_GetArrayItem(at(js, "droplets"), 0), "name"), "beta");
	cJSON_Delete(js);
	ck_assert_int_eq(count_list(m, "/v2/droplets?name=ALPHA", "droplets", &total), 1);
	ck_assert_int_eq(total, 1);
	/* Exact: no prefixes or substrings. */
	ck_assert_int_eq(count_list(m, "/v2/droplets?name=bet", "droplets", &total), 0);
	ck_assert_int_eq(count_list(m, "/v2/droplets?name=betaa", "droplets", &total), 0);
	ck_assert_int_eq(total, 0);
	mock_stop(m);
}
END_TEST

static size_t
keep(char *data, size_t size, size_t n, void *cls)
{
	char *buf = cls;
	size_t have = strlen(buf), len = size * n;

	if (have + len >= 16384)
		return 0;
	memcpy(buf + have, data, len);
	buf[have + len] = '\0';
	return len;
}

/* GET /v2/droplets?per_page=1 with HOST and PROTO headers (NULL: curl's own, none); the next link. */
static char *
next_link_for(struct mock *m, const char *host, const char *proto)
{
	static char body[16384];
	struct curl_slist *h = NULL;
	char url[128], line[300], *next;
	const cJSON *n;
	cJSON *js;
	CURL *e = curl_easy_init();

	ck_assert_ptr_nonnull(e);
	body[0] = '\0';
	snprintf(line, sizeof(line), "Authorization: Bearer %s", mock_token(m));
	h = curl_slist_append(h, line);
	if (host != NULL) {
		snprintf(line, sizeof(line), "Host: %s", host);
		h = curl_slist_append(h, line);
	}
	if (proto != NULL) {
		snprintf(line, sizeof(line), "X-Forwarded-Proto: %s", proto);
		h = curl_slist_append(h, line);
	}
	snprintf(url, sizeof(url), "%s/v2/droplets?per_page=1", mock_url(m));
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10000L);
	ck_assert_int_eq(curl_easy_perform(e), CURLE_OK);
	curl_easy_cleanup(e);
	curl_slist_free_all(h);
	js = cJSON_Parse(body);
	ck_assert_ptr_nonnull(js);
	n = at(at(at(js, "links"), "pages"), "next");
	next = strdup(n->valuestring);
	cJSON_Delete(js);
	return next;
}

/*
 * Links name the host the client asked for, as the service's do, so that
 * behind a TLS front they point at the front; an odd Host is not echoed.
 */
START_TEST(test_links_follow_host)
{
	struct mock *m = mu_start(NULL);
	char want[160], *next;

	next = next_link_for(m, NULL, NULL);
	snprintf(want, sizeof(want), "%s/v2/droplets?page=2&per_page=1", mock_url(m));
	ck_assert_str_eq(next, want);
	free(next);
	next = next_link_for(m, "127.0.0.1:8443", "https");
	ck_assert_str_eq(next, "https://127.0.0.1:8443/v2/droplets?page=2&per_page=1");
	free(next);
	next = next_link_for(m, "[::1]:8443", "http");
	ck_assert_str_eq(next, "http://[::1]:8443/v2/droplets?page=2&per_page=1");
	free(next);
	next = next_link_for(m, "evil.example/x?", "https");
	ck_assert_str_eq(next, want);
	free(next);
	mock_stop(m);
}
END_TEST

/* tag_name "can not be combined with name or type": refused, not ANDed. */
START_TEST(test_droplet_filter_combinations)
{
	static const char *const refused[] = {
		"/v2/droplets?tag_name=web&name=alpha",
		"/v2/droplets?name=alpha&tag_name=web",
		"/v2/droplets?tag_name=web&type=droplets",
		"/v2/droplets?tag_name=web&type=gpus",
		"/v2/droplets?tag_name=web&name=alpha&type=droplets",
	};
	struct mock *m = mu_start(NULL);
	struct mu_response res;
	cJSON *js;
	size_t i;
	int total;

	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		mu_request(m, "GET", refused[i], NULL, &res);
		assert_error(&res, 400, "bad_request");
		js = json_of(&res);
		ck_assert_msg(strstr(str_at(js, "message"), "tag_name") != NULL, "%s: %s", refused[i],
		    res.body);
		cJSON_Delete(js);
		mu_response_release(&res);
	}
	/* name and type together are allowed. */
	ck_assert_int_eq(count_list(m, "/v2/droplets?name=alpha&type=droplets", "droplets", &total), 1);
	ck_assert_int_eq(count_list(m, "/v2/droplets?tag_name=web&per_page=1", "droplets", &total), 1);
	ck_assert_int_eq(total, 2);
	mock_stop(m);
}
END_TEST

START_TEST(test_pagination)
{
	struct mock_config cfg;
	struct mock *m;
	struct mu_response res;
	cJSON *js;
	const cJSON *pages;
	char path[512];
	int seen = 0, npages = 0;
	long long last_id = 0;

	mu_config(&cfg, NULL);
	cfg.droplets = 45;
	m = mu_start(&cfg);

	/* Page 1: next and last, no first or prev. */
	js = get_json(m, "GET", "/v2/droplets?per_page=20", NULL, 200);
	ck_assert_int_eq(cJSON_GetArraySize(at(js, "droplets")), 20);
	ck_assert_int_eq((int)num_at(at(js, "meta"), "total"), 45);
	pages = at(at(js, "links"), "pages");
	ck_assert_ptr_null(cJSON_GetObjectItem(pages, "first"));
	ck_assert_ptr_null(cJSON_GetObjectItem(pages, "prev"));
	ck_assert_ptr_nonnull(strstr(str_at(pages, "next"), "/v2/droplets?page=2&per_page=20"));
	ck_assert_ptr_nonnull(strstr(str_at(pages, "last"), "page=3"));
	cJSON_Delete(js);

	/* Page 2 has all four; page 3 only first and prev, and the last 5. */
	js = get_json(m, "GET", "/v2/droplets?page=2&per_page=20", NULL, 200);
	pages = at(at(js, "links"), "pages");
	ck_assert_ptr_nonnull(strstr(str_at(pages, "first"), "page=1"));
	ck_assert_ptr_nonnull(strstr(str_at(pages, "prev"), "page=1"));
	ck_assert_ptr_nonnull(strstr(str_at(pages, "next"), "page=3"));
	ck_assert_ptr_nonnull(strstr(str_at(pages, "last"), "page=3"));
	cJSON_Delete(js);
	js = get_json(m, "GET", "/v2/droplets?page=3&per_page=20", NULL, 200);
	ck_assert_int_eq(cJSON_GetArraySize(at(js, "droplets")), 5);
	pages = at(at(js, "links"), "pages");
	ck_assert_ptr_null(cJSON_GetObjectItem(pages, "next"));
	ck_assert_ptr_null(cJSON_GetObjectItem(pages, "last"));
	cJSON_Delete(js);

	/* Following next links visits every droplet once, in order; filters survive. */
	snprintf(path, sizeof(path), "/v2/droplets?per_page=7&tag_name=env%%3Aprod");
	for (;;) {
		const cJSON *d, *next;

		js = get_json(m, "GET", path, NULL, 200);
		npages++;
		cJSON_ArrayForEach(d, at(js, "droplets")) {
			ck_assert((long long)num_at(d, "id") > last_id);
			last_id = (long long)num_at(d, "id");
			seen++;
		}
		pages = cJSON_GetObjectItem(at(js, "links"), "pages");
		next = pages != NULL ? cJSON_GetObjectItem(pages, "next") : NULL;
		if (next == NULL) {
			ck_assert_int_eq(seen, (int)num_at(at(js, "meta"), "total"));
			cJSON_Delete(js);
			break;
		}
		ck_assert_ptr_nonnull(strstr(next->valuestring, "tag_name=env%3Aprod"));
		ck_assert(strncmp(next->valuestring, mock_url(m), strlen(mock_url(m))) == 0);
		snprintf(path, sizeof(path), "%s", next->valuestring + strlen(mock_url(m)));
		cJSON_Delete(js);
	}
	ck_assert_int_eq(seen, 24);	/* env:prod is droplets 1-3, 7-9, ... of 45 */
	ck_assert_int_eq(npages, 4);

	/* Everything on one page: no pages links at all; per_page caps at 200. */
	js = get_json(m, "GET", "/v2/droplets?per_page=500", NULL, 200);
	ck_assert_int_eq(cJSON_GetArraySize(at(js, "droplets")), 45);
	ck_assert_ptr_null(cJSON_GetObjectItem(at(js, "links"), "pages"));
	cJSON_Delete(js);

	mu_request(m, "GET", "/v2/droplets?per_page=0", NULL, &res);
	assert_error(&res, 400, "bad_request");
	mu_response_release(&res);
	mu_request(m, "GET", "/v2/droplets?page=x", NULL, &res);
	assert_error(&res, 400, "bad_request");
	mu_response_release(&res);
	mock_stop(m);
}
END_TEST

/* --- actions and transitions ---------------------------------------------------- */

START_TEST(test_transitions)
{
	static const struct {
		const char *type;
		const char *after;
	} steps[] = {
		{ "power_off", "off" }, { "power_on", "active" }, { "shutdown", "off" },
		{ "power_cycle", "active" }, { "reboot", "active" },
	};
	struct mock *m = mu_start(NULL);
	struct mock_droplet_info info;
	char body[64], *s;
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		long long id;

		snprintf(body, sizeof(body), "{\"type\":\"%s\"}", steps[i].type);
		id = start_action(m, 1002, body);
		ck_assert_int_eq(mock_droplet_get(m, 1002, &info), 0);
		ck_assert(info.busy);
		s = wait_action(m, id);
		ck_assert_str_eq(s, "completed");
		free(s);
		s = droplet_status(m, 1002);
		ck_assert_ptr_nonnull(s);
		ck_assert_msg(strcmp(s, steps[i].after) == 0, "%s left droplet %s", steps[i].type, s);
		free(s);
	}
	ck_assert_int_eq(mock_droplet_get(m, 1002, &info), 0);
	ck_assert(!info.busy);
	ck_assert_int_eq(info.n_actions, 5);
	ck_assert_int_eq(mock_action_count(m, 1002, NULL, "completed"), 5);
	ck_assert_int_eq(mock_action_count(m, 0, "shutdown", NULL), 1);
	mock_stop(m);
}
END_TEST

START_TEST(test_pending_event)
{
	struct mock *m = mu_start(NULL);
	struct mu_response res;
	cJSON *js;
	long long id;
	char *s;

	id = start_action(m, 1001, "{\"type\":\"power_off\"}");
	mu_request(m, "POST", "/v2/droplets/1001/actions", "{\"type\":\"snapshot\",\"name\":\"x\"}", &res);
	assert_error(&res, 422, "unprocessable_entity");
	js = json_of(&res);
	ck_assert_str_eq(str_at(js, "message"), "Droplet already has a pending event.");
	cJSON_Delete(js);
	mu_response_release(&res);

	/* The droplet's own action list shows the action in progress, newest first. */
	js = get_json(m, "GET", "/v2/droplets/1001/actions", NULL, 200);
	ck_assert_int_eq(cJSON_GetArraySize(at(js, "actions")), 1);
	ck_assert_str_eq(str_at(cJSON_GetArrayItem(at(js, "actions"), 0), "status"), "in-progress");
	ck_assert(cJSON_IsNull(at(cJSON_GetArrayItem(at(js, "actions"), 0), "completed_at")));
	cJSON_Delete(js);
	s = wait_action(m, id);
	ck_assert_str_eq(s, "completed");
	free(s);
	id = start_action(m, 1001, "{\"type\":\"power_on\"}");
	ck_assert(id > 0);
	mock_stop(m);
}
END_TEST

START_TEST(test_bad_bodies)
{
	static const struct {
		const char *body;
		long status;
		const char *id;
	} rows[] = {
		{ "not json", 400, "bad_request" },
		{ "", 400, "bad_request" },
		{ "[1,2]", 400, "bad_request" },
		{ "{}", 422, "unprocessable_entity" },
		{ "{\"type\":42}", 422, "unprocessable_entity" },
		{ "{\"type\":\"resize\"}", 422, "unprocessable_entity" },
		{ "{\"type\":\"teleport\"}", 422, "unprocessable_entity" },
		{ "{\"type\":\"snapshot\",\"name\":7}", 422, "unprocessable_entity" },
	};
	struct mock *m = mu_start(NULL);
	struct mu_response res;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		mu_request(m, "POST", "/v2/droplets/1001/actions", rows[i].body, &res);
		ck_assert_msg(res.status == rows[i].status, "body '%s': %ld", rows[i].body, res.status);
		assert_error(&res, rows[i].status, rows[i].id);
		mu_response_release(&res);
	}
	ck_assert_int_eq(mock_action_count(m, 0, NULL, NULL), 0);
	mock_stop(m);
}
END_TEST

START_TEST(test_snapshot_lifecycle)
{
	struct mock *m = mu_start(NULL);
	struct mock_snapshot snaps[8];
	struct mu_response res;
	const cJSON *s;
	cJSON *js;
	char path[128], *st, idstr[32];
	long long id, img = 0;
	int n;

	id = start_action(m, 1002, "{\"type\":\"snapshot\",\"name\":\"beta-snap-1\"}");
	/* Not listed before it completes. */
	ck_assert_int_eq(mock_droplet_snapshots(m, 1002, snaps, 8), 0);
	st = wait_action(m, id);
	ck_assert_str_eq(st, "completed");
	free(st);
	n = mock_droplet_snapshots(m, 1002, snaps, 8);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(snaps[0].name, "beta-snap-1");
	ck_assert_str_eq(snaps[0].type, "snapshot");

	/* The droplet's list has integer ids... */
	js = get_json(m, "GET", "/v2/droplets/1002/snapshots", NULL, 200);
	s = cJSON_GetArrayItem(at(js, "snapshots"), 0);
	ck_assert(cJSON_IsNumber(at(s, "id")));
	img = (long long)num_at(s, "id");
	ck_assert_int_eq(img, snaps[0].id);
	ck_assert_str_eq(str_at(s, "type"), "snapshot");
	ck_assert_str_eq(str_at(s, "name"), "beta-snap-1");
	cJSON_Delete(js);
	js = get_json(m, "GET", "/v2/droplets/1002", NULL, 200);
	ck_assert_int_eq((long long)cJSON_GetArrayItem(at(at(js, "droplet"), "snapshot_ids"), 0)->valuedouble, img);
	cJSON_Delete(js);

	/* ...and /v2/snapshots strings, with resource_id and resource_type. */
	snprintf(idstr, sizeof(idstr), "%lld", img);
	snprintf(path, sizeof(path), "/v2/snapshots/%lld", img);
	js = get_json(m, "GET", path, NULL, 200);
	s = at(js, "snapshot");
	ck_assert_str_eq(str_at(s, "id"), idstr);
	ck_assert_str_eq(str_at(s, "resource_id"), "1002");
	ck_assert_str_eq(str_at(s, "resource_type"), "droplet");
	cJSON_Delete(js);

	/* /v2/snapshots lists droplet snapshots (not the backup) and volume snapshots. */
	js = get_json(m, "GET", "/v2/snapshots?resource_type=droplet", NULL, 200);
	ck_assert_int_eq((int)num_at(at(js, "meta"), "total"), 2);
	cJSON_ArrayForEach(s, at(js, "snapshots"))
		ck_assert(cJSON_IsString(at(s, "id")));
	cJSON_Delete(js);
	js = get_json(m, "GET", "/v2/snapshots", NULL, 200);
	ck_assert_int_eq((int)num_at(at(js, "meta"), "total"), 3);
	cJSON_Delete(js);

	mu_request(m, "DELETE", path, NULL, &res);
	ck_assert_int_eq(res.status, 204);
	ck_assert_int_eq(res.len, 0);
	mu_response_release(&res);
	mu_request(m, "GET", path, NULL, &res);
	assert_error(&res, 404, "not_found");
	mu_response_release(&res);
	mu_request(m, "DELETE", path, NULL, &res);
	assert_error(&res, 404, "not_found");
	mu_response_release(&res);
	ck_assert_int_eq(mock_droplet_snapshots(m, 1002, snaps, 8), 0);

	/* A backup is not a snapshot. */
	mu_request(m, "GET", "/v2/snapshots/5002", NULL, &res);
	assert_error(&res, 400, "bad_request");
	mu_response_release(&res);
	mu_request(m, "GET", "/v2/snapshots?resource_type=planet", NULL, &res);
	assert_error(&res, 400, "bad_request");
	mu_response_release(&res);
	mock_stop(m);
}
END_TEST

/* Droplet 1003 is off: after a snapshot it stays off, or comes on, as configured. */
START_TEST(test_after_snapshot)
{
	struct mock_config cfg;
	struct mock *m;
	char *s;
	long long id;

	mu_config(&cfg, "basic.json");
	cfg.after_snapshot = _i == 0 ? MOCK_AFTER_SNAPSHOT_KEEP : MOCK_AFTER_SNAPSHOT_POWER_ON;
	m = mu_start(&cfg);
	id = start_action(m, 1003, "{\"type\":\"snapshot\",\"name\":\"g\"}");
	s = wait_action(m, id);
	ck_assert_str_eq(s, "completed");
	free(s);
	s = droplet_status(m, 1003);
	ck_assert_str_eq(s, _i == 0 ? "off" : "active");
	free(s);
	/* A snapshot of a running droplet leaves it running either way. */
	id = start_action(m, 1001, "{\"type\":\"snapshot\"}");
	s = wait_action(m, id);
	free(s);
	s = droplet_status(m, 1001);
	ck_assert_str_eq(s, "active");
	free(s);
	mock_stop(m);
}
END_TEST

START_TEST(test_tag_actions)
{
	struct mock *m = mu_start(NULL);
	struct mu_response res;
	const cJSON *a;
	cJSON *js;
	int n = 0;
	char *s;

	js = get_json(m, "POST", "/v2/droplets/actions?tag_name=env%3Aprod",
	    "{\"type\":\"snapshot\",\"name\":\"nightly\"}", 201);
	cJSON_ArrayForEach(a, at(js, "actions")) {
		ck_assert_str_eq(str_at(a, "type"), "snapshot");
		ck_assert_str_eq(str_at(a, "resource_type"), "droplet");
		n++;
	}
	ck_assert_int_eq(n, 2);
	cJSON_Delete(js);

	/* Busy droplets refuse, all or nothing. */
	mu_request(m, "POST", "/v2/droplets/actions?tag_name=web", "{\"type\":\"power_off\"}", &res);
	assert_error(&res, 422, "unprocessable_entity");
	mu_response_release(&res);
	mu_request(m, "POST", "/v2/droplets/actions?tag_name=web", "{\"type\":\"reboot\"}", &res);
	assert_error(&res, 422, "unprocessable_entity");
	mu_response_release(&res);
	mu_request(m, "POST", "/v2/droplets/actions", "{\"type\":\"power_off\"}", &res);
	assert_error(&res, 422, "unprocessable_entity");
	mu_response_release(&res);
	mu_request(m, "GET", "/v2/droplets/actions?tag_name=web", NULL, &res);
	assert_error(&res, 405, "method_not_allowed");
	mu_response_release(&res);

	sleep_ms(300);
	ck_assert_int_eq(mock_action_count(m, 0, "snapshot", "completed"), 2);
	s = droplet_status(m, 1001);
	ck_assert_str_eq(s, "active");
	free(s);
	js = get_json(m, "GET", "/v2/snapshots?resource_type=droplet&per_page=200", NULL, 200);
	ck_assert_int_eq((int)num_at(at(js, "meta"), "total"), 3);
	cJSON_Delete(js);
	mock_stop(m);
}
END_TEST

START_TEST(test_action_lookup)
{
	struct mock *m = mu_start(NULL);
	struct mu_response res;
	char path[128];
	cJSON *js;
	long long a1, a2;
	char *s;

	a1 = start_action(m, 1001, "{\"type\":\"reboot\"}");
	a2 = start_action(m, 1002, "{\"type\":\"reboot\"}");
	s = wait_action(m, a1);
	free(s);
	s = wait_action(m, a2);
	free(s);
	snprintf(path, sizeof(path), "/v2/droplets/1001/actions/%lld", a1);
	js = get_json(m, "GET", path, NULL, 200);
	ck_assert_int_eq((long long)num_at(at(js, "action"), "resource_id"), 1001);
	ck_assert(cJSON_IsString(at(at(js, "action"), "completed_at")));
	cJSON_Delete(js);
	snprintf(path, sizeof(path), "/v2/droplets/1001/actions/%lld", a2);
	mu_request(m, "GET", path, NULL, &res);
	assert_error(&res, 404, "not_found");
	mu_response_release(&res);
	mu_request(m, "GET", "/v2/actions/12", NULL, &res);
	assert_error(&res, 404, "not_found");
	mu_response_release(&res);

	js = get_json(m, "GET", "/v2/actions?per_page=1", NULL, 200);
	ck_assert_int_eq((int)num_at(at(js, "meta"), "total"), 2);
	ck_assert_int_eq((long long)num_at(cJSON_GetArrayItem(at(js, "actions"), 0), "id"), a2);
	cJSON_Delete(js);
	mock_stop(m);
}
END_TEST

START_TEST(test_misbehaviour)
{
	struct mock_config cfg;
	struct mock *m;
	struct mu_response res;
	long long id;
	char *s;

	mu_config(&cfg, "misbehave.json");
	m = mu_start(&cfg);

	/* ignore_shutdown: the action completes, the droplet stays active. */
	id = start_action(m, 320000002, "{\"type\":\"shutdown\"}");
	s = wait_action(m, id);
	ck_assert_str_eq(s, "completed");
	free(s);
	s = droplet_status(m, 320000002);
	ck_assert_str_eq(s, "active");
	free(s);
	id = start_action(m, 320000002, "{\"type\":\"power_off\"}");
	s = wait_action(m, id);
	free(s);
	s = droplet_status(m, 320000002);
	ck_assert_str_eq(s, "off");
	free(s);

	/* actions_error: errored, nothing changes, and no image appears. */
	id = start_action(m, 320000003, "{\"type\":\"snapshot\",\"name\":\"x\"}");
	s = wait_action(m, id);
	ck_assert_str_eq(s, "errored");
	free(s);
	ck_assert_int_eq(mock_droplet_snapshots(m, 320000003, NULL, 0), 0);

	/* actions_stall: in progress for ever, so the next action is refused. */
	id = start_action(m, 320000004, "{\"type\":\"power_off\"}");
	sleep_ms(200);
	ck_assert_int_eq(mock_action_count(m, 320000004, NULL, "in-progress"), 1);
	mu_request(m, "POST", "/v2/droplets/320000004/actions", "{\"type\":\"power_on\"}", &res);
	assert_error(&res, 422, "unprocessable_entity");
	mu_response_release(&res);
	ck_assert(id > 0);

	/* Set at run time. */
	ck_assert_int_eq(mock_droplet_set_misbehaviour(m, 320000001, MOCK_MISBEHAVE_IGNORE_SHUTDOWN), 0);
	id = start_action(m, 320000001, "{\"type\":\"shutdown\"}");
	s = wait_action(m, id);
	free(s);
	s = droplet_status(m, 320000001);
	ck_assert_str_eq(s, "active");
	free(s);
	ck_assert_int_eq(mock_droplet_set_misbehaviour(m, 42, 0), -ENOENT);
	ck_assert_int_eq(mock_droplet_set_status(m, 320000001, "archive"), 0);
	s = droplet_status(m, 320000001);
	ck_assert_str_eq(s, "archive");
	free(s);
	ck_assert_int_eq(mock_droplet_set_status(m, 320000001, "asleep"), -EINVAL);
	mock_stop(m);
}
END_TEST

/* --- volumes ----------------------------------------------------------------- */

START_TEST(test_volumes)
{
	struct mock *m = mu_start(NULL);
	struct mock_snapshot vs[4];
	struct mu_response res;
	const cJSON *v;
	cJSON *js;
	char path[160], id[40];
	int total;

	ck_assert_int_eq(count_list(m, "/v2/volumes", "volumes", &total), 1);
	ck_assert_int_eq(count_list(m, "/v2/volumes?name=none", "volumes", &total), 0);
	ck_assert_int_eq(count_list(m, "/v2/volumes?region=nyc3", "volumes", &total), 1);
	js = get_json(m, "GET", "/v2/volumes/11111111-2222-4333-8444-555555555555", NULL, 200);
	v = at(js, "volume");
	ck_assert_str_eq(str_at(v, "name"), "gamma-data");
	ck_assert_int_eq((long long)cJSON_GetArrayItem(at(v, "droplet_ids"), 0)->valuedouble, 1003);
	cJSON_Delete(js);
	mu_request(m, "GET", "/v2/volumes/11111111-2222-4333-8444-000000000000", NULL, &res);
	assert_error(&res, 404, "not_found");
	mu_response_release(&res);

	ck_assert_int_eq(count_list(m, "/v2/volumes/11111111-2222-4333-8444-555555555555/snapshots",
	    "snapshots", &total), 1);
	js = get_json(m, "POST", "/v2/volumes/11111111-2222-4333-8444-555555555555/snapshots",
	    "{\"name\":\"vs-2\",\"tags\":[\"dosnap\"]}", 201);
	v = at(js, "snapshot");
	ck_assert_str_eq(str_at(v, "resource_type"), "volume");
	ck_assert_str_eq(str_at(v, "resource_id"), "11111111-2222-4333-8444-555555555555");
	ck_assert_str_eq(cJSON_GetArrayItem(at(v, "tags"), 0)->valuestring, "dosnap");
	snprintf(id, sizeof(id), "%s", str_at(v, "id"));
	cJSON_Delete(js);
	ck_assert_int_eq(mock_volume_snapshots(m, "11111111-2222-4333-8444-555555555555", vs, 4), 2);
	ck_assert_str_eq(vs[1].uuid, id);

	mu_request(m, "POST", "/v2/volumes/11111111-2222-4333-8444-555555555555/snapshots", "{}", &res);
	assert_error(&res, 400, "bad_request");
	mu_response_release(&res);

	snprintf(path, sizeof(path), "/v2/volumes/snapshots/%s", id);
	js = get_json(m, "GET", path, NULL, 200);
	ck_assert_str_eq(str_at(at(js, "snapshot"), "name"), "vs-2");
	cJSON_Delete(js);
	ck_assert_int_eq(count_list(m, "/v2/snapshots?resource_type=volume", "snapshots", &total), 2);
	mu_request(m, "DELETE", path, NULL, &res);
	ck_assert_int_eq(res.status, 204);
	mu_response_release(&res);
	mu_request(m, "GET", path, NULL, &res);
	assert_error(&res, 404, "not_found");
	mu_response_release(&res);
	/* The other one goes through /v2/snapshots. */
	mu_request(m, "DELETE", "/v2/snapshots/aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", NULL, &res);
	ck_assert_int_eq(res.status, 204);
	mu_response_release(&res);
	ck_assert_int_eq(mock_volume_snapshots(m, "11111111-2222-4333-8444-555555555555", vs, 4), 0);
	mock_stop(m);
}
END_TEST

/* --- rate limits ------------------------------------------------------------- */

START_TEST(test_rate_limit_minute)
{
	struct mock_config cfg;
	struct mock *m;
	struct mu_response res;
	char h[32];
	int i;

	mu_config(&cfg, "basic.json");
	cfg.rate_per_minute = 5;	/* a 0.6 s minute at time scale 0.01 */
	m = mu_start(&cfg);
	for (i = 0; i < 5; i++) {
		mu_request(m, "GET", "/v2/droplets/1001", NULL, &res);
		ck_assert_int_eq(res.status, 200);
		ck_assert_int_eq(strtol(mu_header(&res, "ratelimit-remaining", h, sizeof(h)), NULL, 10), 4999 - i);
		mu_response_release(&res);
	}
	mu_request(m, "GET", "/v2/droplets/1001", NULL, &res);
	assert_error(&res, 429, "too_many_requests");
	ck_assert_ptr_nonnull(mu_header(&res, "retry-after", h, sizeof(h)));
	ck_assert_str_eq(h, "1");
	ck_assert_str_eq(mu_header(&res, "ratelimit-remaining", h, sizeof(h)), "4995");
	mu_response_release(&res);
	sleep_ms(700);
	mu_request(m, "GET", "/v2/droplets/1001", NULL, &res);
	ck_assert_int_eq(res.status, 200);
	mu_response_release(&res);
	ck_assert_int_eq(mock_request_count(m, "GET", "/v2/droplets/*", 429), 1);
	mock_stop(m);
}
END_TEST

START_TEST(test_rate_limit_hour)
{
	struct mock *m = mu_start(NULL);
	struct mu_response res;
	char h[32];
	int i;

	mock_set_rate_limits(m, 3, MOCK_RATE_UNLIMITED);
	for (i = 0; i < 3; i++) {
		mu_request(m, "GET", "/v2/account", NULL, &res);
		ck_assert_int_eq(res.status, 200);
		ck_assert_str_eq(mu_header(&res, "ratelimit-limit", h, sizeof(h)), "3");
		mu_response_release(&res);
	}
	mu_request(m, "GET", "/v2/account", NULL, &res);
	assert_error(&res, 429, "too_many_requests");
	ck_assert_ptr_null(mu_header(&res, "retry-after", h, sizeof(h)));
	ck_assert_str_eq(mu_header(&res, "ratelimit-remaining", h, sizeof(h)), "0");
	mu_response_release(&res);
	/* Another token has its own bucket: it is refused for auth, not for rate. */
	mu_request_ex(m, "GET", "/v2/account", "Bearer other", NULL, 0, &res);
	ck_assert_int_eq(res.status, 401);
	mu_response_release(&res);
	mock_set_rate_limits(m, 0, 0);
	mu_request(m, "GET", "/v2/account", NULL, &res);
	ck_assert_int_eq(res.status, 200);
	ck_assert_str_eq(mu_header(&res, "ratelimit-limit", h, sizeof(h)), "5000");
	mu_response_release(&res);
	mock_stop(m);
}
END_TEST

/* --- faults ------------------------------------------------------------------- */

static const struct {
	const char *spec;
	long status;		/* 0: no HTTP status */
	int curl_code;
	const char *error_id;
} fault_rows[] = {
	{ "kind=500", 500, CURLE_OK, "server_error" },
	{ "kind=502", 502, CURLE_OK, "bad_gateway" },
	{ "kind=503", 503, CURLE_OK, "service_unavailable" },
	{ "kind=429,retry-after=7", 429, CURLE_OK, "too_many_requests" },
	{ "kind=reset", 0, CURLE_GOT_NOTHING, NULL },
	{ "kind=stall,stall-ms=2000", 0, CURLE_OPERATION_TIMEDOUT, NULL },
	{ "kind=truncated", 200, CURLE_PARTIAL_FILE, NULL },
	{ "kind=malformed", 200, CURLE_OK, NULL },
};

START_TEST(test_fault_kinds)
{
	struct mock *m = mu_start(NULL);
	struct mock_fault f;
	struct mock_request req;
	struct mu_response res;
	char auth[64], h[32];
	cJSON *js;

	ck_assert_int_eq(mock_fault_parse(fault_rows[_i].spec, &f), 0);
	strcpy(f.method, "GET");
	strcpy(f.path, "/v2/droplets/[0-9]*");
	f.times = 1;
	ck_assert_int_eq(mock_add_fault(m, &f), 0);

	/* Other paths are untouched. */
	mu_request(m, "GET", "/v2/account", NULL, &res);
	ck_assert_int_eq(res.status, 200);
	mu_response_release(&res);

	snprintf(auth, sizeof(auth), "Bearer %s", mock_token(m));
	mu_request_ex(m, "GET", "/v2/droplets/1001", auth, NULL, 400, &res);
	ck_assert_msg(res.curl_code == fault_rows[_i].curl_code, "%s: curl code %d, want %d",
	    fault_rows[_i].spec, res.curl_code, fault_rows[_i].curl_code);
	ck_assert_int_eq(res.status, fault_rows[_i].status);
	if (fault_rows[_i].error_id != NULL)
		assert_error(&res, fault_rows[_i].status, fault_rows[_i].error_id);
	if (fault_rows[_i].status == 429)
		ck_assert_str_eq(mu_header(&res, "retry-after", h, sizeof(h)), "7");
	if (strcmp(fault_rows[_i].spec, "kind=malformed") == 0) {
		js = cJSON_Parse(res.body);
		ck_assert_ptr_null(js);
		ck_assert(res.len > 10);
	}
	mu_response_release(&res);

	/* Once only: the next request is answered properly. */
	mu_request(m, "GET", "/v2/droplets/1001", NULL, &res);
	ck_assert_int_eq(res.status, 200);
	js = json_of(&res);
	cJSON_Delete(js);
	mu_response_release(&res);
	ck_assert_int_eq(mock_request_count(m, "GET", "/v2/droplets/1001", 0), 2);
	ck_assert_int_eq(mock_request_get(m, 1, &req), 0);
	ck_assert_str_eq(req.fault, mock_fault_kind_name(f.kind));
	mock_stop(m);	/* with a stalled connection still parked, for the stall row */
}
END_TEST

static int
faulted_pattern(struct mock *m, char *pattern, int n)
{
	struct mu_response res;
	int i, hits = 0;

	for (i = 0; i < n; i++) {
		mu_request(m, "GET", "/v2/account", NULL, &res);
		pattern[i] = res.status == 503 ? 'x' : '.';
		hits += res.status == 503;
		mu_response_release(&res);
	}
	pattern[n] = '\0';
	return hits;
}

START_TEST(test_fault_schedules)
{
	struct mock_config cfg;
	struct mock_fault faults[1];
	struct mock *m;
	char p1[41], p2[41];
	int hits;

	/* after=2,times=2: requests 3 and 4 fail. */
	mu_config(&cfg, "basic.json");
	ck_assert_int_eq(mock_fault_parse("kind=503,path=/v2/account,after=2,times=2", &faults[0]), 0);
	cfg.faults = faults;
	cfg.n_faults = 1;
	m = mu_start(&cfg);
	faulted_pattern(m, p1, 6);
	ck_assert_str_eq(p1, "..xx..");
	/* Reset brings the configured rule back with fresh counters. */
	ck_assert_int_eq(mock_reset(m), 0);
	faulted_pattern(m, p1, 6);
	ck_assert_str_eq(p1, "..xx..");
	mock_stop(m);

	/* A probability: the same pattern for the same seed, another for another seed. */
	ck_assert_int_eq(mock_fault_parse("kind=503,p=0.5", &faults[0]), 0);
	cfg.seed = 7;
	m = mu_start(&cfg);
	hits = faulted_pattern(m, p1, 40);
	ck_assert_msg(hits >= 8 && hits <= 32, "p=0.5 fired %d of 40", hits);
	mock_reset(m);
	faulted_pattern(m, p2, 40);
	ck_assert_str_eq(p1, p2);
	mock_stop(m);
	cfg.seed = 8;
	m = mu_start(&cfg);
	faulted_pattern(m, p2, 40);
	ck_assert_str_ne(p1, p2);
	mock_stop(m);
}
END_TEST

static const struct {
	const char *spec;
	int ok;
} spec_rows[] = {
	{ "kind=500", 1 },
	{ "kind=stall,stall-ms=100,method=POST,path=/v2/droplets/*/actions", 1 },
	{ "once,kind=reset", 1 },
	{ "kind=429,retry-after=30,p=0.25,after=3", 1 },
	{ "kind=truncated,times=4", 1 },
	{ "", 0 },
	{ "method=GET", 0 },
	{ "kind=418", 0 },
	{ "kind=500,p=1.5", 0 },
	{ "kind=500,times=-1", 0 },
	{ "kind=500,color=red", 0 },
	{ "kind=500,method=TOOLONGMETHOD", 0 },
};

START_TEST(test_fault_parse)
{
	struct mock_fault f;
	int r = mock_fault_parse(spec_rows[_i].spec, &f);

	ck_assert_msg((r == 0) == spec_rows[_i].ok, "'%s' -> %d", spec_rows[_i].spec, r);
	if (r == 0)
		ck_assert_ptr_nonnull(strstr(spec_rows[_i].spec, mock_fault_kind_name(f.kind)));
}
END_TEST

/* --- control plane, request log, reset ------------------------------------------- */

START_TEST(test_control_plane)
{
	struct mock *m = mu_start(NULL);
	struct mu_response res;
	struct mock_request req;
	cJSON *js;
	const cJSON *r;
	long long id;
	char *s;

	id = start_action(m, 1001, "{\"type\":\"power_off\"}");
	s = wait_action(m, id);
	free(s);
	mu_request_ex(m, "GET", "/v2/droplets?tag_name=env%3Aprod", "Bearer secret-wrong-token", NULL, 0, &res);
	mu_response_release(&res);

	/* The state shows what happened; no token needed. */
	mu_request_ex(m, "GET", "/__mock/state", NULL, NULL, 0, &res);
	ck_assert_int_eq(res.status, 200);
	js = json_of(&res);
	ck_assert_int_eq(cJSON_GetArraySize(at(js, "droplets")), 3);
	ck_assert_str_eq(str_at(cJSON_GetArrayItem(at(js, "droplets"), 0), "status"), "off");
	ck_assert_int_eq(cJSON_GetArraySize(at(js, "actions")), 1);
	ck_assert_int_eq(cJSON_GetArraySize(at(js, "snapshots")), 2);
	cJSON_Delete(js);
	mu_response_release(&res);

	/* The request log never holds a token. */
	mu_request_ex(m, "GET", "/__mock/requests", NULL, NULL, 0, &res);
	ck_assert_int_eq(res.status, 200);
	ck_assert_ptr_null(strstr(res.body, "secret-wrong-token"));
	ck_assert_ptr_null(strstr(res.body, mock_token(m)));
	ck_assert_ptr_null(strstr(res.body, "Bearer"));
	js = json_of(&res);
	r = cJSON_GetArrayItem(at(js, "requests"), 0);
	ck_assert_str_eq(str_at(r, "method"), "POST");
	ck_assert_str_eq(str_at(r, "path"), "/v2/droplets/1001/actions");
	ck_assert_int_eq((int)num_at(r, "status"), 201);
	ck_assert(num_at(r, "time") > 1.7e9);
	cJSON_Delete(js);
	mu_response_release(&res);
	ck_assert_int_eq(mock_request_count(m, NULL, NULL, 401), 1);
	ck_assert_int_eq(mock_request_get(m, 0, &req), 0);
	ck_assert_str_eq(req.method, "POST");
	ck_assert_int_eq(mock_request_get(m, mock_request_count(m, NULL, NULL, 0) - 1, &req), 0);
	ck_assert_str_eq(req.query, "tag_name=env:prod");
	ck_assert_int_eq(mock_request_get(m, 1000, &req), -ENOENT);

	/* Faults at run time through the control plane. */
	mu_request_ex(m, "POST", "/__mock/faults", NULL, "kind=502,path=/v2/account,once", 0, &res);
	ck_assert_int_eq(res.status, 201);
	mu_response_release(&res);
	mu_request_ex(m, "POST", "/__mock/faults", NULL, "{\"spec\":\"kind=bogus\"}", 0, &res);
	ck_assert_int_eq(res.status, 400);
	mu_response_release(&res);
	mu_request(m, "GET", "/v2/account", NULL, &res);
	ck_assert_int_eq(res.status, 502);
	mu_response_release(&res);
	mu_request(m, "GET", "/v2/account", NULL, &res);
	ck_assert_int_eq(res.status, 200);
	mu_response_release(&res);

	/* Misbehaviour and status through the control plane. */
	mu_request_ex(m, "POST", "/__mock/droplets/1002", NULL,
	    "{\"status\":\"off\",\"misbehave\":[\"actions_error\"]}", 0, &res);
	ck_assert_int_eq(res.status, 200);
	mu_response_release(&res);
	s = droplet_status(m, 1002);
	ck_assert_str_eq(s, "off");
	free(s);

	/* Reset puts everything back. */
	mu_request_ex(m, "POST", "/__mock/reset", NULL, NULL, 0, &res);
	ck_assert_int_eq(res.status, 204);
	mu_response_release(&res);
	s = droplet_status(m, 1001);
	ck_assert_str_eq(s, "active");
	free(s);
	ck_assert_int_eq(mock_action_count(m, 0, NULL, NULL), 0);
	ck_assert_int_eq(mock_request_count(m, NULL, NULL, 0), 1);
	mu_request_ex(m, "GET", "/__mock/nothing", NULL, NULL, 0, &res);
	ck_assert_int_eq(res.status, 404);
	mu_response_release(&res);
	mock_stop(m);
}
END_TEST

START_TEST(test_fixture_errors)
{
	char *dir = tu_mkdtemp(), *p, why[256];

	ck_assert_int_eq(mock_fixture_check("/nonexistent/fixture.json", why, sizeof(why)), -ENOENT);
	p = tu_write(dir, "bad.json", "{\"droplets\":[{\"id\":1,\"name\":\"a\",\"region\":\"mars1\"}]}");
	ck_assert_int_eq(mock_fixture_check(p, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "mars1"));
	free(p);
	p = tu_write(dir, "dup.json", "{\"droplets\":[{\"id\":1,\"name\":\"a\"},{\"id\":1,\"name\":\"b\"}]}");
	ck_assert_int_eq(mock_fixture_check(p, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "twice"));
	free(p);
	p = tu_write(dir, "mis.json", "{\"droplets\":[{\"id\":1,\"name\":\"a\",\"misbehave\":[\"explode\"]}]}");
	ck_assert_int_eq(mock_fixture_check(p, why, sizeof(why)), -EINVAL);
	free(p);
	p = tu_write(dir, "notjson.json", "droplets: []");
	ck_assert_int_eq(mock_fixture_check(p, why, sizeof(why)), -EINVAL);
	free(p);
	ck_assert_int_eq(mock_fixture_check(mu_fixture("demo.json"), why, sizeof(why)), 0);
	ck_assert_int_eq(mock_fixture_check(mu_fixture("misbehave.json"), why, sizeof(why)), 0);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_demo_fixture)
{
	struct mock_config cfg;
	struct mock *m;
	struct mock_droplet_info info;
	int total;

	mu_config(&cfg, "demo.json");
	m = mu_start(&cfg);
	ck_assert_int_eq(count_list(m, "/v2/droplets", "droplets", &total), 6);
	ck_assert_int_eq(count_list(m, "/v2/droplets?tag_name=web", "droplets", &total), 3);
	ck_assert_int_eq(mock_droplet_get(m, 310000006, &info), 0);
	ck_assert_str_eq(info.status, "off");
	ck_assert_int_eq(mock_droplet_get(m, 310000003, &info), 0);
	ck_assert_int_eq(info.n_volumes, 1);
	ck_assert_int_eq(mock_droplet_get(m, 310000001, &info), 0);
	ck_assert_int_eq(info.n_snapshots, 2);
	ck_assert_int_eq(mock_droplet_get(m, 1, &info), -ENOENT);
	mock_stop(m);
}
END_TEST

/*
 * The operations the mock serves live in one place: its route table names
 * each route's operationId, and mock/served-operations.txt (which the
 * conformance tour reads) must list exactly those.  Every pattern uses only
 * the placeholders the router knows, so no route is dead by a typo.
 */
START_TEST(test_route_table_matches_served_operations)
{
	char path[1024], line[256], listed[64][64];
	const struct route *t;
	size_t n, i, j, n_listed = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/mock/served-operations.txt", tu_srcdir());
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open '%s'", path);
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		ck_assert_msg(n_listed < 64 && strlen(line) < sizeof(listed[0]), "%s: too many or too long lines", path);
		for (i = 0; i < n_listed; i++)
			ck_assert_msg(strcmp(listed[i], line) != 0, "%s lists %s twice", path, line);
		snprintf(listed[n_listed++], sizeof(listed[0]), "%s", line);
	}
	ck_assert_int_eq(fclose(f), 0);

	t = route_table(&n);
	ck_assert_uint_gt(n, 0);
	for (i = 0; i < n; i++) {
		const char *p = t[i].pattern;

		ck_assert_msg(t[i].operation != NULL, "route %s %s has no operationId", t[i].method, p);
		for (j = 0; j < n_listed && strcmp(listed[j], t[i].operation) != 0; j++)
			;
		ck_assert_msg(j < n_listed, "route %s %s serves %s, which %s does not list", t[i].method, p,
		    t[i].operation, path);
		for (j = 0; j < i; j++)
			ck_assert_msg(strcmp(t[j].operation, t[i].operation) != 0, "%s is on two routes",
			    t[i].operation);
		ck_assert_msg(strncmp(p, "/v2/", 4) == 0, "route pattern %s is not under /v2/", p);
		while ((p = strchr(p, '{')) != NULL) {
			ck_assert_msg(strncmp(p, "{id}", 4) == 0 || strncmp(p, "{seg}", 5) == 0,
			    "route %s %s: unknown placeholder", t[i].method, t[i].pattern);
			p++;
		}
	}
	for (j = 0; j < n_listed; j++) {
		for (i = 0; i < n && strcmp(listed[j], t[i].operation) != 0; i++)
			;
		ck_assert_msg(i < n, "%s lists %s, which no route in mock/routes.c serves", path, listed[j]);
	}
}
END_TEST

/*
 * The world's lists are capped (MOCK_MAX_ACTIONS and the others, lowered
 * here), and the request log keeps the last MOCK_MAX_REQUEST_LOG requests,
 * counting every one.
 */
START_TEST(test_world_caps)
{
	static const unsigned ms[MOCK_ACTION__COUNT] = { 0 };
	const struct mparams p = { .time_scale = 1, .action_ms = ms };
	struct mstate *st = NULL;
	struct maction *a = NULL;
	struct mvsnap *vs = NULL;
	char err[256];

	ck_assert_uint_eq(MOCK_MAX_ACTIONS, 1000000);
	ck_assert_int_eq(mstate_load(NULL, 1, 7, 1795663800, &st, err, sizeof(err)), 0);
	ck_assert_uint_eq(st->max_actions, MOCK_MAX_ACTIONS);
	ck_assert_uint_eq(st->max_images, MOCK_MAX_IMAGES);
	ck_assert_uint_eq(st->max_vsnaps, MOCK_MAX_VOLUME_SNAPSHOTS);
	st->max_actions = 2;
	st->max_images = 1;
	st->max_vsnaps = 1;
	/* Zero durations: each action is done at once, so the droplet is free again. */
	ck_assert_int_eq(mstate_start_action(st, &p, &st->droplets[0], MOCK_ACTION_SNAPSHOT, "one",
	    1, 1795663801, &a), 0);
	ck_assert_int_eq(a->status, MACTION_COMPLETED);
	ck_assert_uint_eq(st->n_images, 1);
	ck_assert_int_eq(mstate_start_action(st, &p, &st->droplets[0], MOCK_ACTION_SNAPSHOT, "two",
	    2, 1795663802, &a), 0);
	ck_assert_int_eq(a->status, MACTION_ERRORED);		/* no room for its image */
	ck_assert_uint_eq(st->n_images, 1);
	ck_assert_int_eq(mstate_start_action(st, &p, &st->droplets[0], MOCK_ACTION_POWER_OFF, NULL,
	    3, 1795663803, &a), -E2BIG);
	ck_assert_uint_eq(st->n_actions, 2);
	ck_assert_uint_eq(st->n_volumes, 1);
	ck_assert_int_eq(mstate_snapshot_volume(st, &st->volumes[0], "v1", NULL, 0, 1795663804, &vs), 0);
	ck_assert_int_eq(mstate_snapshot_volume(st, &st->volumes[0], "v2", NULL, 0, 1795663805, &vs),
	    -E2BIG);
	ck_assert_uint_eq(st->n_vsnaps, 1);
	mstate_free(st);
}
END_TEST

START_TEST(test_request_log_cap)
{
	struct mock *m = calloc(1, sizeof(*m));
	struct mock_request r;
	size_t i;

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(pthread_mutex_init(&m->lock, NULL), 0);
	for (i = 0; i <= MOCK_MAX_REQUEST_LOG; i++) {
		char path[32];

		snprintf(path, sizeof(path), "/v2/droplets/%zu", i);
		mock_log_request(m, "GET", path, "", 200, NULL, (double)i);
	}
	ck_assert_uint_eq(m->log_total, MOCK_MAX_REQUEST_LOG + 1);
	ck_assert_uint_eq(m->log_n, MOCK_MAX_REQUEST_LOG);
	ck_assert_uint_eq(m->log_cap, MOCK_MAX_REQUEST_LOG);
	ck_assert_uint_eq(mock_request_count(m, "GET", NULL, 0), MOCK_MAX_REQUEST_LOG);
	/* The oldest went: the first kept is the second sent, the last the last. */
	ck_assert_int_eq(mock_request_get(m, 0, &r), 0);
	ck_assert_str_eq(r.path, "/v2/droplets/1");
	ck_assert_int_eq(mock_request_get(m, MOCK_MAX_REQUEST_LOG - 1, &r), 0);
	ck_assert_int_eq(strcmp(r.path, "/v2/droplets/100000"), 0);
	ck_assert_int_eq(mock_request_get(m, MOCK_MAX_REQUEST_LOG, &r), -ENOENT);
	pthread_mutex_destroy(&m->lock);
	free(m->log);
	free(m);
}
END_TEST

/*
 * The fixture is read by dosnap's capped reader: over MOCK_MAX_FIXTURE is
 * -EFBIG, a directory -EISDIR, a FIFO -EINVAL at once (no wait for a
 * writer), and a link is followed.
 */
START_TEST(test_fixture_reader)
{
	char *dir = tu_mkdtemp(), *p, *link, why[256];
	FILE *f;

	alarm(5);
	p = str_printf("%s/big.json", dir);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(ftruncate(fileno(f), MOCK_MAX_FIXTURE + 1), 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(mock_fixture_check(p, why, sizeof(why)), -EFBIG);
	ck_assert_ptr_nonnull(strstr(why, "cannot read fixture"));
	free(p);
	ck_assert_int_eq(mock_fixture_check(dir, why, sizeof(why)), -EISDIR);
	p = str_printf("%s/fifo.json", dir);
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	ck_assert_int_eq(mock_fixture_check(p, why, sizeof(why)), -EINVAL);
	free(p);
	link = str_printf("%s/demo.json", dir);
	ck_assert_int_eq(symlink(mu_fixture("demo.json"), link), 0);
	ck_assert_int_eq(mock_fixture_check(link, why, sizeof(why)), 0);
	free(link);
	alarm(0);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

Suite *
mock_suite(void)
{
	Suite *s = suite_create("mock");
	TCase *tc = tcase_create("mock");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_auth);
	tcase_add_test(tc, test_droplet_get);
	tcase_add_test(tc, test_droplet_filters);
	tcase_add_test(tc, test_droplet_name_filter);
	tcase_add_test(tc, test_droplet_filter_combinations);
	tcase_add_test(tc, test_trailing_slash);
	tcase_add_test(tc, test_links_follow_host);
	tcase_add_test(tc, test_pagination);
	tcase_add_test(tc, test_transitions);
	tcase_add_test(tc, test_pending_event);
	tcase_add_test(tc, test_bad_bodies);
	tcase_add_test(tc, test_snapshot_lifecycle);
	tcase_add_loop_test(tc, test_after_snapshot, 0, 2);
	tcase_add_test(tc, test_tag_actions);
	tcase_add_test(tc, test_action_lookup);
	tcase_add_test(tc, test_misbehaviour);
	tcase_add_test(tc, test_volumes);
	tcase_add_test(tc, test_rate_limit_minute);
	tcase_add_test(tc, test_rate_limit_hour);
	tcase_add_loop_test(tc, test_fault_kinds, 0, (int)(sizeof(fault_rows) / sizeof(fault_rows[0])));
	tcase_add_test(tc, test_fault_schedules);
	tcase_add_loop_test(tc, test_fault_parse, 0, (int)(sizeof(spec_rows) / sizeof(spec_rows[0])));
	tcase_add_test(tc, test_control_plane);
	tcase_add_test(tc, test_fixture_errors);
	tcase_add_test(tc, test_fixture_reader);
	tcase_add_test(tc, test_world_caps);
	tcase_add_test(tc, test_request_log_cap);
	tcase_add_test(tc, test_demo_fixture);
	tcase_add_test(tc, test_route_table_matches_served_operations);
	suite_add_tcase(s, tc);
	return s;
}
