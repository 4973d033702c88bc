/* check_tls: the real dosnap binary over HTTPS and HTTP/2 (nghttpx before the mock), and its certificate failures. */
#include <check.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dosnap/util.h"
#include "mockutil.h"
#include "suites.h"
#include "testutil.h"
#include "tlsfront.h"

#define MAX_ARGS	48
#define NOW		"2026-11-26T03:30:20Z"

/*
 * How many connections a flow may open to the front.  libcurl multiplexes
 * every concurrent request over one HTTP/2 connection (dosnap asks it to
 * wait for that, CURLOPT_PIPEWAIT); a second may open if the first is lost.
 */
#define MAX_CONNECTIONS	2

/* One test's world: certificates, the mock, the front before it, a state directory. */
struct t {
	struct tf_pki pki;
	struct mock *m;
	struct tf_front front;
	char *dir;
	char *state_dir;
	char token_env[600];
	const char *url;		/* where dosnap is pointed: the front's, unless a test says */
	const char *cacert;		/* --cacert, or NULL for none */
};

/* Start the mock with CFG and a front serving CERT ("cert", "wrong", "expired"). */
static void
t_start(struct t *t, const struct mock_config *cfg, const char *cert)
{
	const char *c;

	memset(t, 0, sizeof(*t));
	tf_pki_make(&t->pki);
	t->m = mu_start(cfg);
	c = strcmp(cert, "wrong") == 0 ? t->pki.wrong_host :
	    strcmp(cert, "expired") == 0 ? t->pki.expired : t->pki.cert;
	tf_front_start(&t->front, &t->pki, c, mock_port(t->m));
	t->dir = tu_mkdtemp();
	t->state_dir = str_printf("%s/state", t->dir);
	ck_assert_ptr_nonnull(t->state_dir);
	snprintf(t->token_env, sizeof(t->token_env), "DO_TOKEN=%s", mock_token(t->m));
	t->url = t->front.url;
	t->cacert = t->pki.ca;
}

static void
t_stop(struct t *t)
{
	tf_front_stop(&t->front);
	mock_stop(t->m);
	tf_pki_release(&t->pki);
	tu_rmtree(t->dir);
	free(t->dir);
	free(t->state_dir);
	memset(t, 0, sizeof(*t));
}

/*
 * Run `dosnap CMD --api-url URL [--cacert CA] ARGS...` (ARGS end with NULL);
 * snapshot also gets --time-scale 0.01, --now and its own state directory.
 */
static void
ds(struct t *t, struct tu_result *res, const char *cmd, ...)
{
	const char *argv[MAX_ARGS + 12];
	const char *env[] = { t->token_env, NULL };
	const char *a;
	size_t n = 0;
	va_list ap;

	argv[n++] = cmd;
	argv[n++] = "--api-url";
	argv[n++] = t->url;
	if (t->cacert != NULL) {
		argv[n++] = "--cacert";
		argv[n++] = t->cacert;
	}
	if (strcmp(cmd, "snapshot") == 0) {
		argv[n++] = "--time-scale";
		argv[n++] = "0.01";
		argv[n++] = "--now";
		argv[n++] = NOW;
		argv[n++] = "--state-dir";
		argv[n++] = t->state_dir;
	}
	va_start(ap, cmd);
	while ((a = va_arg(ap, const char *)) != NULL) {
		ck_assert_uint_lt(n, MAX_ARGS);
		argv[n++] = a;
	}
	va_end(ap);
	argv[n] = NULL;
	tu_run_dosnap(argv, env, res);
}

static unsigned
count_lines(const char *s)
{
	unsigned n = 0;

	for (; *s != '\0'; s++)
		if (*s == '\n')
			n++;
	return n;
}

/* Every request came over h2, on at most MAX connections; returns the stats. */
static struct tf_stats
assert_h2(const struct t *t, unsigned max_connections)
{
	struct tf_stats st;

	tf_front_stats(&t->front, &st);
	ck_assert_msg(st.requests > 0, "no request reached the TLS front");
	ck_assert_msg(st.h2 == st.requests, "%u of %u requests over HTTP/2", st.h2, st.requests);
	ck_assert_msg(st.connections >= 1 && st.connections <= max_connections,
	    "%u requests over %u connections, expected at most %u", st.requests, st.connections,
	    max_connections);
	return st;
}

/* Generated droplets, no rate limits (this is about the transport). */
static void
generated(struct mock_config *cfg, unsigned n)
{
	mu_config(cfg, NULL);
	cfg->droplets = n;
	cfg->rate_per_minute = MOCK_RATE_UNLIMITED;
	cfg->rate_per_hour = MOCK_RATE_UNLIMITED;
}

/* --- the production path, on loopback ---------------------------------------- */

START_TEST(test_list_h2)
{
	struct mock_config cfg;
	struct tu_result res;
	struct t t;

	TF_REQUIRE();
	mu_config(&cfg, "basic.json");
	t_start(&t, &cfg, "cert");
	ds(&t, &res, "list", NULL);
	ck_assert_msg(res.status == 0, "exit %d: %s", res.status, res.err);
	ck_assert_ptr_nonnull(strstr(res.out, "alpha-old"));
	tu_result_release(&res);
	assert_h2(&t, 1);
	t_stop(&t);
}
END_TEST

/* The same over IPv6 loopback: the URL's brackets, and a certificate for IP ::1. */
START_TEST(test_list_h2_ipv6)
{
	struct mock_config cfg;
	struct tu_result res;
	struct t t;

	TF_REQUIRE();
	if (!tf_have_ipv6()) {
		tf_skip_note(__func__, "no IPv6 loopback (::1) on this machine");
		return;
	}
	mu_config(&cfg, "basic.json");
	t_start(&t, &cfg, "cert");
	tf_front_stop(&t.front);
	tf_front_start_on(&t.front, &t.pki, t.pki.cert, mock_port(t.m), true);
	t.url = t.front.url;
	ds(&t, &res, "list", NULL);
	ck_assert_msg(res.status == 0, "exit %d: %s", res.status, res.err);
	ck_assert_ptr_nonnull(strstr(res.out, "alpha-old"));
	tu_result_release(&res);
	assert_h2(&t, 1);
	t_stop(&t);
}
END_TEST

/* libcurl itself, to see what the client sees: h2, and links that name the front. */
static size_t
keep_body(char *data, size_t size, size_t n, void *cls)
{
	char *buf = cls;
	size_t have = strlen(buf), len = size * n;

	if (have + len >= 65536)
		return 0;
	memcpy(buf + have, data, len);
	buf[have + len] = '\0';
	return len;
}

START_TEST(test_links_name_the_front)
{
	static char body[65536];
	struct mock_config cfg;
	struct curl_slist *hdrs;
	char url[256], auth[600];
	const cJSON *next;
	long version = 0, status = 0;
	cJSON *js;
	CURL *e;
	struct t t;

	TF_REQUIRE();
	generated(&cfg, 5);
	t_start(&t, &cfg, "cert");
	snprintf(url, sizeof(url), "%s/v2/droplets/?per_page=2", t.front.url);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", mock_token(t.m));
	hdrs = curl_slist_append(NULL, auth);
	e = curl_easy_init();
	ck_assert_ptr_nonnull(e);
	body[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CAINFO, t.pki.ca);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10000L);
	ck_assert_int_eq(curl_easy_perform(e), CURLE_OK);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &version);
	curl_easy_cleanup(e);
	curl_slist_free_all(hdrs);
	ck_assert_int_eq(status, 200);
	ck_assert_int_eq(version, CURL_HTTP_VERSION_2_0);
	js = cJSON_Parse(body);
	ck_assert_ptr_nonnull(js);
	next = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(js, "links"), "pages"), "next");
	ck_assert_msg(cJSON_IsString(next), "no next link: %s", body);
	snprintf(url, sizeof(url), "%s/v2/droplets?page=2&per_page=2", t.front.url);
	ck_assert_str_eq(next->valuestring, url);
	cJSON_Delete(js);
	t_stop(&t);
}
END_TEST

/* 20 droplets through the full power-off flow at once: over one connection. */
START_TEST(test_flow_h2_one_connection)
{
	struct mock_config cfg;
	struct mock_droplet_info info;
	struct tu_result res;
	struct tf_stats st;
	struct t t;
	int64_t id;

	TF_REQUIRE();
	generated(&cfg, 20);
	t_start(&t, &cfg, "cert");
	ds(&t, &res, "snapshot", "-q", "--jobs", "20", "tag:env:prod", "tag:env:staging", NULL);
	ck_assert_msg(res.status == 0, "exit %d: %s", res.status, res.err);
	tu_result_release(&res);
	for (id = 100000001; id <= 100000020; id++) {
		ck_assert_int_eq(mock_droplet_get(t.m, id, &info), 0);
		ck_assert_str_eq(info.status, "active");
		ck_assert_uint_eq(mock_action_count(t.m, id, "snapshot", "completed"), 1);
		ck_assert_uint_eq(mock_action_count(t.m, id, "power_on", "completed"), 1);
	}
	st = assert_h2(&t, MAX_CONNECTIONS);
	fprintf(stderr, "tls: 20-droplet flow: %u requests over %u HTTP/2 connection(s)\n",
	    st.requests, st.connections);
	ck_assert_uint_ge(st.requests, 20 * 3);	/* shutdown, snapshot, power_on each */
	t_stop(&t);
}
END_TEST

/* How many logged requests got the fault KIND ("503", "reset", ...). */
static unsigned
fired(struct mock *m, const char *kind)
{
	struct mock_request rq;
	unsigned n = 0;
	size_t i;

	for (i = 0; mock_request_get(m, i, &rq) == 0; i++)
		if (strcmp(rq.fault, kind) == 0)
			n++;
	return n;
}

/* Injected faults behind the front: retried over h2 until the flow succeeds. */
START_TEST(test_faults_h2)
{
	/* Each on a path every flow asks for often enough that each fires. */
	static const char *const specs[] = {
		"kind=503,method=GET,path=/v2/droplets/*/actions,times=3",
		"kind=500,method=POST,path=/v2/droplets/*/actions,once",
		"kind=429,retry-after=1,method=GET,path=/v2/actions/*,once",
		/* The list of droplets, which the flow polls: the 2nd, 3rd, 4th and 5th ask. */
		"kind=reset,method=GET,path=/v2/droplets,once,after=1",
		"kind=truncated,method=GET,path=/v2/droplets,once,after=1",
		"kind=malformed,method=GET,path=/v2/droplets,once,after=1",
		/* A stream that stalls past dosnap's timeout: cancelled and retried, the others go on. */
		"kind=stall,stall-ms=3000,method=GET,path=/v2/droplets,once,after=1",
	};
	static const char *const kinds[] = { "503", "500", "429", "reset", "truncated", "malformed",
		"stall" };
	struct mock_fault faults[sizeof(specs) / sizeof(specs[0])];
	struct mock_config cfg;
	struct mock_droplet_info info;
	struct tu_result res;
	struct t t;
	size_t i;
	int64_t id;

	TF_REQUIRE();
	generated(&cfg, 6);
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		ck_assert_int_eq(mock_fault_parse(specs[i], &faults[i]), 0);
	cfg.faults = faults;
	cfg.n_faults = sizeof(specs) / sizeof(specs[0]);
	t_start(&t, &cfg, "cert");
	ds(&t, &res, "snapshot", "-v", "--jobs", "6", "tag:env:prod", "tag:env:staging", NULL);
	ck_assert_msg(res.status == 0, "exit %d: %s", res.status, res.err);
	ck_assert_msg(strstr(res.err, "retrying") != NULL, "no retry logged: %s", res.err);
	tu_result_release(&res);
	for (id = 100000001; id <= 100000006; id++) {
		ck_assert_int_eq(mock_droplet_get(t.m, id, &info), 0);
		ck_assert_str_eq(info.status, "active");
		ck_assert_uint_eq(mock_action_count(t.m, id, "snapshot", "completed"), 1);
	}
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		ck_assert_msg(fired(t.m, kinds[i]) >= 1, "fault %s never fired", kinds[i]);
	assert_h2(&t, MAX_CONNECTIONS);
	t_stop(&t);
}
END_TEST

/* Pages over h2: 450 droplets are three pages of 200. */
START_TEST(test_pagination_h2)
{
	struct mock_config cfg;
	struct tu_result res;
	struct t t;

	TF_REQUIRE();
	generated(&cfg, 450);
	t_start(&t, &cfg, "cert");
	ds(&t, &res, "list", NULL);
	ck_assert_msg(res.status == 0, "exit %d: %s", res.status, res.err);
	tu_result_release(&res);
	ck_assert_uint_eq(mock_request_count(t.m, "GET", "/v2/droplets", 200), 3);
	assert_h2(&t, 1);
	t_stop(&t);
}
END_TEST

/* --- certificate failures: lasting, one line, with the fix ------------------------ */

struct cert_case {
	const char *name;
	const char *cert;		/* what the front serves */
	const char *cacert;		/* "ca", "other", "missing" (no such file) or NULL: the system's store */
	const char *says;		/* the line says this, besides the curl error */
};

static const struct cert_case cert_cases[] = {
	{ "unknown CA", "cert", "other", "--cacert FILE" },
	{ "unknown CA, no --cacert", "cert", NULL, "--cacert FILE" },
	{ "wrong host name", "wrong", "ca", "host name" },
	{ "expired", "expired", "ca", "expired" },
	{ "unreadable --cacert", "cert", "missing", "--cacert FILE" },
};

START_TEST(test_certificate_failures)
{
	const struct cert_case *cc = &cert_cases[_i];
	struct mock_config cfg;
	struct tu_result res;
	struct tf_stats st;
	struct t t;

	TF_REQUIRE();
	mu_config(&cfg, "basic.json");
	t_start(&t, &cfg, cc->cert);
	t.cacert = cc->cacert == NULL ? NULL :
	    strcmp(cc->cacert, "other") == 0 ? t.pki.other_ca :
	    strcmp(cc->cacert, "missing") == 0 ? "/nonexistent/ca.pem" : t.pki.ca;

	ds(&t, &res, "list", NULL);
	ck_assert_msg(res.status == 69, "%s: exit %d, expected 69: %s", cc->name, res.status, res.err);
	ck_assert_msg(count_lines(res.err) == 1, "%s: not one line: %s", cc->name, res.err);
	ck_assert_msg(strstr(res.err, cc->says) != NULL, "%s: no '%s' in: %s", cc->name, cc->says,
	    res.err);
	ck_assert_msg(strstr(res.err, "certificate") != NULL, "%s: %s", cc->name, res.err);
	tu_result_release(&res);

	/* The flow: lasting, so not retried, and nothing was asked of the API. */
	ds(&t, &res, "snapshot", "-v", "1001", NULL);
	ck_assert_msg(res.status == 69, "%s: snapshot exit %d, expected 69: %s", cc->name, res.status,
	    res.err);
	ck_assert_msg(strstr(res.err, "retrying") == NULL, "%s: retried: %s", cc->name, res.err);
	ck_assert_msg(strstr(res.err, cc->says) != NULL, "%s: no '%s' in: %s", cc->name, cc->says,
	    res.err);
	tu_result_release(&res);
	tf_front_stats(&t.front, &st);
	ck_assert_uint_eq(st.requests, 0);
	ck_assert_uint_eq(mock_request_count(t.m, NULL, NULL, 0), 0);
	t_stop(&t);
}
END_TEST

/* --- passing transport failures: retried, exit 75 ------------------------------------ */

/* Plain HTTP answers on the port dosnap speaks TLS to: a misrouted port, not a lasting fault. */
START_TEST(test_plain_http_on_https_port)
{
	struct mock_config cfg;
	struct tu_result res;
	char url[64];
	struct t t;

	TF_REQUIRE();
	mu_config(&cfg, "basic.json");
	t_start(&t, &cfg, "cert");
	snprintf(url, sizeof(url), "https://127.0.0.1:%u", mock_port(t.m));
	t.url = url;
	ds(&t, &res, "snapshot", "-v", "1001", NULL);
	ck_assert_msg(res.status == 75, "exit %d, expected 75: %s", res.status, res.err);
	ck_assert_msg(strstr(res.err, "retrying") != NULL, "not retried: %s", res.err);
	tu_result_release(&res);
	ck_assert_uint_eq(mock_action_count(t.m, 0, NULL, NULL), 0);
	t_stop(&t);
}
END_TEST

/* A server that hangs up during the handshake: passing, retried. */
START_TEST(test_close_during_handshake)
{
	struct mock_config cfg;
	struct tf_closer cl;
	struct tu_result res;
	struct t t;

	TF_REQUIRE();
	mu_config(&cfg, "basic.json");
	t_start(&t, &cfg, "cert");
	tf_closer_start(&cl);
	t.url = cl.url;
	ds(&t, &res, "snapshot", "-v", "1001", NULL);
	ck_assert_msg(res.status == 75, "exit %d, expected 75: %s", res.status, res.err);
	ck_assert_msg(strstr(res.err, "retrying") != NULL, "not retried: %s", res.err);
	tu_result_release(&res);
	ck_assert_uint_ge(tf_closer_accepted(&cl), 2);
	tf_closer_stop(&cl);
	t_stop(&t);
}
END_TEST

Suite *
tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *tc = tcase_create("tls");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_list_h2);
	tcase_add_test(tc, test_list_h2_ipv6);
	tcase_add_test(tc, test_links_name_the_front);
	tcase_add_test(tc, test_flow_h2_one_connection);
	tcase_add_test(tc, test_faults_h2);
	tcase_add_test(tc, test_pagination_h2);
	tcase_add_loop_test(tc, test_certificate_failures, 0,
	    (int)(sizeof(cert_cases) / sizeof(cert_cases[0])));
	tcase_add_test(tc, test_plain_http_on_https_port);
	tcase_add_test(tc, test_close_during_handshake);
	suite_add_tcase(s, tc);
	return s;
}
