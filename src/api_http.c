/* api_http: libcurl's options and callbacks, URLs and the loopback rule, what a failed transfer means. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "dosnap/calendar.h"
#include "dosnap/util.h"

#define CURL_PROTOCOLS_STR_VERSION 0x075500	/* 7.85.0 */

static int
ascii_lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch + ('a' - 'A') : ch;
}

bool
api_prefix_icase(const char *s, const char *prefix)
{
	for (; *prefix != '\0'; s++, prefix++)
		if (ascii_lower((unsigned char)*s) != ascii_lower((unsigned char)*prefix))
			return false;
	return true;
}

/* Percent-encode S (RFC 3986 unreserved characters stay) into a new string. */
char *
api_url_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strnlen(s, STRING_MAX), i, o = 0;
	char *d;

	d = malloc(n * 3 + 1);
	if (d == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' ||
		    ch == '~') {
			d[o++] = (char)ch;
		} else {
			d[o++] = '%';
			d[o++] = hex[ch >> 4];
			d[o++] = hex[ch & 15];
		}
	}
	d[o] = '\0';
	return d;
}

int
api_host_is_loopback(const char *host)
{
	unsigned a, b, c, d;
	char tail;

	if (host == NULL)
		return 0;
	if (strcmp(host, "[::1]") == 0 || strcmp(host, "::1") == 0)
		return 1;
	/*
	 * Only "localhost" itself, which libcurl answers without asking DNS:
	 * "localhost." and "x.localhost" are names a resolver may send anywhere.
	 */
	if (strcmp(host, "localhost") == 0)
		return 1;
	/* Only the plain dotted quad: "127.1" or octal forms are not taken. */
	/* NOLINTNEXTLINE(cert-err34-c): %3u reads at most three digits, so it cannot overflow. */
	if (sscanf(host, "%3u.%3u.%3u.%3u%c", &a, &b, &c, &d, &tail) != 4)
		return 0;
	if (strspn(host, "0123456789.") != strlen(host))
		return 0;
	return a == 127 && b <= 255 && c <= 255 && d <= 255;
}

/*
 * Check BASE_URL and store "scheme://host[:port][/prefix]" in *ret.  The URL
 * parser is libcurl's own, so the host checked here is the host it connects to.
 */
int
api_parse_base_url(const char *base_url, bool *ret_http, char **ret)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *part = NULL;
	size_t plen;
	bool http = false;
	int r = -EINVAL;

	u = api_curl.url();
	if (u == NULL)
		return -ENOMEM;
	if (api_curl.url_set(u, CURLUPART_URL, base_url, 0) != CURLUE_OK)
		goto out;
	if (api_curl.url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    api_curl.url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	if (api_curl.url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK) {
		/* A user name in the URL would be sent as credentials: refuse it. */
		goto out;
	}
	if (api_curl.url_get(u, CURLUPART_QUERY, &part, 0) == CURLUE_OK ||
	    api_curl.url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK)
		goto out;
	if (api_curl.url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
		port = NULL;
	if (api_curl.url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		path = NULL;
	if (strcmp(scheme, "http") == 0) {
		http = true;
		if (!api_host_is_loopback(host)) {
			/* A bearer token must not cross a network in clear text. */
			r = -EPERM;
			goto out;
		}
	} else if (strcmp(scheme, "https") != 0) {
		goto out;
	}
	plen = path != NULL ? strlen(path) : 0;
	while (plen > 0 && path[plen - 1] == '/')
		plen--;
	*ret = str_printf("%s://%s%s%s%.*s", scheme, host, port != NULL ? ":" : "",
	    port != NULL ? port : "", (int)plen, path != NULL ? path : "");
	r = *ret == NULL ? -ENOMEM : 0;
	*ret_http = http;
out:
	api_curl.free(scheme);
	api_curl.free(host);
	api_curl.free(port);
	api_curl.free(path);
	api_curl.free(part);
	api_curl.url_cleanup(u);
	return r;
}

void
api_slist_wipe_free(struct curl_slist *l)
{
	struct curl_slist *p;

	for (p = l; p != NULL; p = p->next)
		if (p->data != NULL)
			wipe_secret(p->data, strlen(p->data));
	if (l != NULL)
		api_curl.slist_free_all(l);
}

struct curl_slist *
api_headers_new(const char *auth, bool post)
{
	const char *lines[] = {
		auth, "Accept: application/json", "Content-Type: application/json", "Expect:",
	};
	struct curl_slist *l = NULL, *n;
	size_t i, count = post ? 4 : 2;

	for (i = 0; i < count; i++) {
		n = api_curl.slist_append(l, lines[i]);
		if (n == NULL) {
			api_slist_wipe_free(l);
			return NULL;
		}
		l = n;
	}
	return l;
}

/*
 * The URL of the next page: the path and query of LINK (from "/v2/" on)
 * under our own base URL, so that a link can never send the token to
 * another host.  -EPROTO for a link that is odd or points back at CURRENT.
 */
int
api_next_url(const struct api_client *c, const char *link, const char *current, char **ret)
{
	const char *p, *v2;
	char *url;
	size_t i;

	for (i = 0; link[i] != '\0'; i++)
		if ((unsigned char)link[i] <= 0x20 || (unsigned char)link[i] >= 0x7f)
			return -EPROTO;
	p = strstr(link, "://");
	p = p != NULL ? strchr(p + 3, '/') : link;
	if (p == NULL)
		return -EPROTO;
	v2 = strstr(p, "/v2/");
	if (v2 == NULL)
		return -EPROTO;
	url = str_printf("%s%s", c->base, v2);
	if (url == NULL)
		return -ENOMEM;
	if (strcmp(url, current) == 0) {
		free(url);
		return -EPROTO;
	}
	*ret = url;
	return 0;
}

static int
debug_cb(CURL *easy, curl_infotype type, char *data, size_t size, void *userdata)
{
	struct req *q = userdata;
	const struct api_client *c = q->c;
	enum api_trace_kind kind;

	(void)easy;
	switch (type) {
	case CURLINFO_TEXT:
		kind = API_TRACE_TEXT;
		break;
	case CURLINFO_HEADER_IN:
		kind = API_TRACE_HEADER_IN;
		break;
	case CURLINFO_HEADER_OUT:
		kind = API_TRACE_HEADER_OUT;
		break;
	case CURLINFO_DATA_IN:
		kind = API_TRACE_DATA_IN;
		break;
	case CURLINFO_DATA_OUT:
		kind = API_TRACE_DATA_OUT;
		break;
	default:
		return 0;
	}
	/* Bodies are traced whole, once, from the request's buffers (api_trace_body). */
	if (kind == API_TRACE_DATA_IN || kind == API_TRACE_DATA_OUT)
		return 0;
	if (c->trace != NULL)
		api_trace_text(c, kind, data, size);
	return 0;
}

static size_t
write_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct req *q = userdata;
	struct api_client *c = q->c;
	size_t n = size * nmemb, before = q->body.alloc;

	/*
	 * One body is capped; so are all of them together, so that many
	 * answers at once cannot add up to more than one run may hold.
	 */
	if (q->body.len + n >= q->body.alloc &&
	    c->bodies - q->body.alloc + q->body.len + n > API_BODIES_MAX) {
		q->body.overflow = true;
		q->bodies_full = true;
		return 0;
	}
	/* Returning less than N makes libcurl fail the transfer. */
	if (api_buf_append(&q->body, data, n) < 0) {
		q->body_nomem = !q->body.overflow;
		c->bodies += q->body.alloc - before;
		return 0;
	}
	c->bodies += q->body.alloc - before;
	return n;
}

/*
 * A header's number, -1 when there is none.  Clamped to HEADER_NUM_MAX, so
 * that arithmetic on it (a reset time in milliseconds) cannot overflow
 * whatever a server sends.
 */
static long
header_long(const char *v, size_t n)
{
	long x = 0;
	size_t i = 0;

	while (i < n && (v[i] == ' ' || v[i] == '\t'))
		i++;
	if (i == n || v[i] < '0' || v[i] > '9')
		return -1;
	for (; i < n && v[i] >= '0' && v[i] <= '9'; i++) {
		x = x * 10 + (v[i] - '0');
		if (x > HEADER_NUM_MAX)
			return HEADER_NUM_MAX;
	}
	return x;
}

/*
 * An HTTP date as servers send it (RFC 9110 IMF-fixdate): "Sun, 06 Nov 1994
 * 08:49:37 GMT", in V (N bytes, not NUL-terminated).  Sets *ret (Unix
 * seconds) and returns 0, or -EINVAL leaving *ret alone.
 */
static int
date_digits(const char *s, size_t k)
{
	int v = 0;
	size_t i;

	for (i = 0; i < k; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT": fixed columns, so no scanf. */
static int
http_date(const char *v, size_t n, int64_t *ret)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	const char *m;
	int day, year, hh, mm, ss, mon = -1, i;

	while (n > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	if (n != 29 || v[3] != ',' || v[4] != ' ' || v[7] != ' ' || v[11] != ' ' ||
	    v[16] != ' ' || v[19] != ':' || v[22] != ':' || memcmp(v + 25, " GMT", 4) != 0)
		return -EINVAL;
	for (i = 0, m = months; i < 12; i++, m += 3)
		if (memcmp(v + 8, m, 3) == 0)
			mon = i;
	day = date_digits(v + 5, 2);
	year = date_digits(v + 12, 4);
	hh = date_digits(v + 17, 2);
	mm = date_digits(v + 20, 2);
	ss = date_digits(v + 23, 2);
	if (mon < 0 || year < 1970 || day < 1 || day > 31 || hh < 0 || hh > 23 || mm < 0 ||
	    mm > 59 || ss < 0 || ss > 60)
		return -EINVAL;
	*ret = cal_days_from_civil(year, (unsigned)mon + 1, (unsigned)day) * 86400 +
	    hh * 3600 + mm * 60 + ss;
	return 0;
}

static size_t
header_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct req *q = userdata;
	size_t n = size * nmemb, vn;
	const char *v;

	if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		/* A new response (after a 100 Continue, say): forget the last one's. */
		q->retry_after_s = -1;
		q->rl_remaining = -1;
		q->rl_reset = 0;
		q->request_id[0] = '\0';
		return n;
	}
	v = memchr(data, ':', n);
	if (v == NULL)
		return n;
	v++;
	vn = n - (size_t)(v - data);
	while (vn > 0 && (v[vn - 1] == '\r' || v[vn - 1] == '\n' || v[vn - 1] == ' '))
		vn--;
	if (n > 20 && api_prefix_icase(data, "ratelimit-remaining:")) {
		q->rl_remaining = header_long(v, vn);
	} else if (n > 16 && api_prefix_icase(data, "ratelimit-reset:")) {
		q->rl_reset = header_long(v, vn);
	} else if (n > 12 && api_prefix_icase(data, "retry-after:")) {
		q->retry_after_s = header_long(v, vn);
	} else if (n > 5 && api_prefix_icase(data, "date:")) {
		(void)http_date(v, vn, &q->reply.server_date);
	} else if (n > 13 && api_prefix_icase(data, "x-request-id:")) {
		while (vn > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			vn--;
		}
		api_token_cut(q->c, v, vn, q->request_id, sizeof(q->request_id));
	}
	return n;
}

int
api_req_start(struct req *q, int64_t now)
{
	struct api_client *c = q->c;
	const char *method = api_req_method(q);
	CURL *e;

	e = api_curl.easy_init();
	if (e == NULL)
		return -ENOMEM;
	api_buf_reset(&q->body);
	q->body.cap = c->max_body;
	q->bodies_full = false;
	q->body_nomem = false;
	q->errbuf[0] = '\0';
	q->retry_after_s = -1;
	q->rl_remaining = -1;
	q->rl_reset = 0;
	q->request_id[0] = '\0';

	SETOPT(e, CURLOPT_URL, api_req_url(q));
	SETOPT(e, CURLOPT_PRIVATE, (void *)q);
	SETOPT(e, CURLOPT_NOSIGNAL, 1L);
	SETOPT(e, CURLOPT_ERRORBUFFER, q->errbuf);
	SETOPT(e, CURLOPT_WRITEFUNCTION, write_cb);
	SETOPT(e, CURLOPT_WRITEDATA, (void *)q);
	SETOPT(e, CURLOPT_HEADERFUNCTION, header_cb);
	SETOPT(e, CURLOPT_HEADERDATA, (void *)q);
	SETOPT(e, CURLOPT_USERAGENT, "dosnap/" DOSNAP_VERSION);
	SETOPT(e, CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(e, CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->cacert != NULL)
		SETOPT(e, CURLOPT_CAINFO, c->cacert);
	if (api_curl.version >= CURL_PROTOCOLS_STR_VERSION)
		SETOPT(e, CURLOPT_PROTOCOLS_STR, c->http_ok ? "http,https" : "https");
	else
		SETOPT(e, CURLOPT_PROTOCOLS, c->http_ok ? (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS) :
		    (long)CURLPROTO_HTTPS);
	SETOPT(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	SETOPT(e, CURLOPT_TIMEOUT_MS, c->request_timeout_ms);
	SETOPT(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	SETOPT(e, CURLOPT_LOW_SPEED_TIME, c->low_speed_time_s);
	SETOPT(e, CURLOPT_PIPEWAIT, 1L);
	SETOPT(e, CURLOPT_ACCEPT_ENCODING, "");
	if (strcmp(method, "POST") == 0) {
		SETOPT(e, CURLOPT_HTTPHEADER, c->hdr_post);
		SETOPT(e, CURLOPT_POSTFIELDS, q->post_body);
		SETOPT(e, CURLOPT_POSTFIELDSIZE, (long)strlen(q->post_body));
		api_trace_body(c, API_TRACE_DATA_OUT, q->post_body, strlen(q->post_body));
	} else {
		SETOPT(e, CURLOPT_HTTPHEADER, c->hdr_get);
		if (strcmp(method, "DELETE") == 0)
			SETOPT(e, CURLOPT_CUSTOMREQUEST, "DELETE");
	}
	if (c->trace != NULL) {
		SETOPT(e, CURLOPT_DEBUGFUNCTION, debug_cb);
		SETOPT(e, CURLOPT_DEBUGDATA, (void *)q);
		SETOPT(e, CURLOPT_VERBOSE, 1L);
	}
	if (api_curl.multi_add_handle(c->multi, e) != CURLM_OK)
		goto fail;
	q->easy = e;
	q->state = RS_RUNNING;
	q->attempts++;
	q->total_attempts++;
	c->stat_requests++;
	if (q->attempts > 1)	/* per phase and page: page 2 is no retry */
		c->stat_retries++;
	c->n_running++;
	api_pacer_note_send(&c->pacer, now);
	if (q->phase == PH_MAIN && strcmp(method, "POST") == 0 && q->first_sent_wall == 0)
		q->first_sent_wall = api_wall_ms() / 1000;
	return 0;

fail:
	api_curl.easy_cleanup(e);
	return -EIO;
}

static bool
curl_code_transient(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_WEIRD_SERVER_REPLY:
		return true;
	default:
		return false;
	}
}

/*
 * A certificate the client cannot trust is a lasting failure: retrying
 * meets the same certificate.  Put what to do first in MSG (libcurl's words
 * after it, where truncation may cut them) and return true; false for any
 * other failure.
 */
static bool
certificate_failure(CURLcode cc, const char *why, char *msg, size_t size)
{
	const char *fix;
	int n;

	if (cc == CURLE_SSL_CACERT_BADFILE)
		fix = "cannot use the CA certificates: check the file given to --cacert FILE";
	else if (cc != CURLE_PEER_FAILED_VERIFICATION)
		return false;
	else if (strstr(why, "expired") != NULL)
		fix = "the server's TLS certificate has expired: the server must renew it, "
		    "or this machine's clock is wrong";
	else if (strstr(why, "not yet valid") != NULL)
		fix = "the server's TLS certificate is not valid yet: check this machine's clock";
	else if (strstr(why, "host name") != NULL || strstr(why, "hostname") != NULL)
		fix = "the server's TLS certificate is for another host name: check the host in --api-url";
	else
		fix = "the server's TLS certificate is not signed by a CA this machine trusts: "
		    "for a private CA, pass its certificate with --cacert FILE";
	n = snprintf(msg, size, "%s (%s)", fix, why);
	if (n > 0 && (size_t)n >= size && size > 1)
		msg[size - 2] = ')';	/* cut inside libcurl's words: close what was opened */
	return true;
}

/* Fill O and ERR for an attempt that did not bring a usable 2xx answer. */
void
api_classify(struct req *q, CURLcode cc, long status, bool sent, struct api_error *err,
    struct api_outcome *o)
{
	memset(o, 0, sizeof(*o));
	if (cc != CURLE_OK) {
		snprintf(err->curl_error, sizeof(err->curl_error), "%s",
		    q->errbuf[0] != '\0' ? q->errbuf : api_curl.easy_strerror(cc));
		if (cc == CURLE_WRITE_ERROR && q->body_nomem) {
			o->r = -ENOMEM;
			snprintf(err->message, sizeof(err->message),
			    "out of memory receiving the answer (%zu bytes so far)", q->body.len);
			return;
		}
		if (cc == CURLE_WRITE_ERROR && q->bodies_full) {
			o->r = -EFBIG;
			snprintf(err->message, sizeof(err->message),
			    "the answers in progress hold more than %u MiB together",
			    API_BODIES_MAX / (1024 * 1024));
			return;
		}
		if (cc == CURLE_WRITE_ERROR && q->body.overflow) {
			o->r = -EFBIG;
			snprintf(err->message, sizeof(err->message),
			    "the response body is larger than %zu bytes (decompressed)",
			    q->c->max_body);
			return;
		}
		if (certificate_failure(cc, err->curl_error, err->message, sizeof(err->message))) {
			o->r = -EPERM;
			return;
		}
		o->r = cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
		o->retry = curl_code_transient(cc);
		o->ambiguous = o->retry && sent;
		err->transient = o->retry;
		return;
	}

	/* An HTTP error: the API says why in its body, 502s from proxies do not. */
	api_json_error(q->body.data, q->body.len, q->c->token, err);
	if (err->request_id[0] == '\0')
		snprintf(err->request_id, sizeof(err->request_id), "%s", q->request_id);

	err->transient = api_status_outcome(status, q->kind == REQ_POST_ACTION, o);
	if (err->message[0] == '\0' && status >= 500)
		snprintf(err->message, sizeof(err->message), "server error");
}
