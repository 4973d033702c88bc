/* check_api: the API client: decoders, URL rules, and every operation, retry and fault against the mock. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dosnap/api.h"
#include "dosnap/redact.h"
#include "mockutil.h"

/* A token nobody would type by chance, so finding it in a trace means a leak. */
#define TOKEN "dosnap-test-secret-7f3a9c2e51"

#define VOLUME_ID "11111111-2222-4333-8444-555555555555"
#define VOLSNAP_ID "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"

/* --- helpers ------------------------------------------------------------- */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct mock *
start_mock(const char *fixture, unsigned droplets)
{
	struct mock_config cfg;

	mu_config(&cfg, fixture);
	cfg.token = TOKEN;
	if (droplets > 0)
		cfg.droplets = droplets;
	return mu_start(&cfg);
}

/* Settings that make retries quick, so that every path runs in a test's time. */
static void
test_config(struct api_config *cfg, struct mock *m)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->base_url = mock_url(m);
	cfg->token = TOKEN;
	cfg->retry_base_ms = 20;
	cfg->retry_cap_ms = 100;
	cfg->retry_max_attempts = 4;
	cfg->retry_max_total_ms = 20000;
	cfg->request_timeout_ms = 3000;
	cfg->connect_timeout_ms = 2000;
	cfg->adopt_slack_s = -1;
	cfg->rate_reserve = -1;
}

static struct api_client *
new_client(const struct api_config *cfg)
{
	struct api_client *c = NULL;
	int r;

	r = api_client_new(cfg, &c);
	ck_assert_msg(r == 0, "api_client_new: %s", strerror(-r));
	ck_assert_ptr_nonnull(c);
	return c;
}

static struct api_client *
client_for(struct mock *m)
{
	struct api_config cfg;

	test_config(&cfg, m);
	return new_client(&cfg);
}

static void
add_fault(struct mock *m, const char *spec)
{
	struct mock_fault f;

	ck_assert_msg(mock_fault_parse(spec, &f) == 0, "bad fault spec '%s'", spec);
	ck_assert_int_eq(mock_add_fault(m, &f), 0);
}

static const char *
fmt_err(const struct api_error *err)
{
	static char buf[1024];

	return api_error_format(err, buf, sizeof(buf));
}

/*
 * A request made the way the program makes its requests: queued with an
 * *_async call whose callback (keep_cb) moves the whole reply into the
 * caller's, then the loop run until the reply has its request id.
 * fresh() readies a reply for the next call and frees what the last left.
 */
static void
keep_cb(struct api_client *c, struct api_reply *reply, void *userdata)
{
	(void)c;
	api_reply_move(userdata, reply);
}

static struct api_reply *
fresh(struct api_reply *w)
{
	api_reply_release(w);
	memset(w, 0, sizeof(*w));
	return w;
}

/* R is what queueing returned; the reply's R, with ERR filled on failure. */
static int
await(struct api_client *c, int r, const struct api_reply *w, struct api_error *err)
{
	int64_t start = now_ms();

	if (r < 0)
		return r;
	while (w->request == 0) {
		ck_assert_int_ge(api_client_run(c, 1000), 0);
		ck_assert_msg(now_ms() - start < 60000, "the request does not end");
	}
	if (w->r < 0 && err != NULL)
		*err = w->error;
	return w->r;
}

/* --- times and hosts (no network) ----------------------------------------- */

static const struct time_row {
	const char *s;
	int r;
	int64_t t;
} time_rows[] = {
	{ "1970-01-01T00:00:00Z", 0, 0 },
	{ "2020-07-28T16:47:44Z", 0, 1595954864 },
	{ "2020-07-28T16:47:44.123Z", 0, 1595954864 },
	{ "2020-07-28T18:47:44+02:00", 0, 1595954864 },
	{ "2020-07-28T11:47:44-05:00", 0, 1595954864 },
	{ "2024-02-29T00:00:00Z", 0, 1709164800 },
	{ "2024-02-30T00:00:00Z", -EINVAL, 0 },
	{ "2020-07-28 16:47:44Z", 0, 1595954864 },
	{ "2020-07-28T16:47:44", -EINVAL, 0 },
	{ "2020-07-28T16:47:44Zjunk", -EINVAL, 0 },
	{ "2020-13-28T16:47:44Z", -EINVAL, 0 },
	{ "2020-07-28T24:00:00Z", -EINVAL, 0 },
	{ "yesterday", -EINVAL, 0 },
	{ "", -EINVAL, 0 },
};

START_TEST(test_parse_time)
{
	const struct time_row *row = &time_rows[_i];
	int64_t t = -1;
	int r;

	r = api_parse_time(row->s, &t);
	ck_assert_msg(r == row->r, "'%s': r=%d", row->s, r);
	if (r == 0)
		ck_assert_msg(t == row->t, "'%s': %lld != %lld", row->s, (long long)t,
		    (long long)row->t);
}
END_TEST

static const struct host_row {
	const char *host;
	int loopback;
} host_rows[] = {
	{ "127.0.0.1", 1 },
	{ "127.255.3.4", 1 },
	{ "localhost", 1 },
	{ "[::1]", 1 },
	{ "128.0.0.1", 0 },
	{ "10.0.0.1", 0 },
	{ "127.0.0.1.evil.example", 0 },
	{ "localhost.evil.example", 0 },
	{ "localhost.", 0 },		/* a resolver may send it anywhere */
	{ "x.localhost", 0 },
	{ "api.digitalocean.com", 0 },
	{ "[::2]", 0 },
	{ "", 0 },
};

START_TEST(test_loopback)
{
	ck_assert_msg(api_host_is_loopback(host_rows[_i].host) == host_rows[_i].loopback,
	    "host '%s'", host_rows[_i].host);
}
END_TEST

/* Base URLs: plain http only to loopback, and nothing odd in the URL. */
static const struct url_row {
	const char *url;
	int r;
} url_rows[] = {
	{ "https://api.digitalocean.com", 0 },
	{ "https://api.example.com:8443/prefix/", 0 },
	{ "http://127.0.0.1:8080", 0 },
	{ "http://localhost:8080", 0 },
	{ "http://[::1]:8080", 0 },
	{ "http://api.digitalocean.com", -EPERM },
	{ "http://10.1.2.3:8080", -EPERM },
	{ "http://127.0.0.1.nip.io", -EPERM },
	{ "http://localhost.:8080", -EPERM },
	{ "ftp://127.0.0.1", -EINVAL },
	{ "https://user:pw@api.example.com", -EINVAL },
	{ "https://api.example.com/?x=1", -EINVAL },
	{ "not a url", -EINVAL },
};

START_TEST(test_base_url)
{
	struct api_config cfg = { .token = TOKEN, .base_url = url_rows[_i].url };
	struct api_client *c = NULL;
	int r;

	r = api_client_new(&cfg, &c);
	ck_assert_msg(r == url_rows[_i].r, "'%s': r=%d (%s)", url_rows[_i].url, r, strerror(-r));
	if (r == 0)
		ck_assert_ptr_nonnull(c);
	else
		ck_assert_ptr_null(c);
	api_client_free(c);
}
END_TEST

START_TEST(test_client_args)
{
	struct api_config cfg = { .token = TOKEN };
	struct api_client *c = NULL;

	cfg.token = NULL;
	ck_assert_int_eq(api_client_new(&cfg, &c), -EINVAL);
	cfg.token = "has space";
	ck_assert_int_eq(api_client_new(&cfg, &c), -EINVAL);
	cfg.token = "bad\r\nX-Injected: 1";
	ck_assert_int_eq(api_client_new(&cfg, &c), -EINVAL);
	cfg.token = TOKEN;
	cfg.libcurl_path = "/nonexistent/libcurl.so.4";
	ck_assert_int_eq(api_client_new(&cfg, &c), -ELIBACC);
	ck_assert_ptr_null(c);
	api_client_free(NULL);
}
END_TEST

/* --- redaction (no network) ----------------------------------------------- */

/* The one redaction function: two secrets, then cut to SIZE bytes. */
static const struct redact_row {
	const char *src;
	size_t size;
	const char *want;
	size_t used;
} redact_rows[] = {
	{ "a sekret-1 b", 64, "a [REDACTED] b", 12 },
	{ "x other-secret y sekret-1", 64, "x [REDACTED] y [REDACTED]", 25 },
	{ "sekret-1sekret-1", 64, "[REDACTED][REDACTED]", 16 },
	{ "sekret-", 64, "sekret-", 7 },		/* a part alone is no match here... */
	{ "ab sekret-1", 8, "ab ", 3 },		/* ...and the mark goes in whole or not at all */
	{ "ab sekret-1", 14, "ab [REDACTED]", 11 },
	{ "abcdef", 4, "abc", 3 },
	{ "", 8, "", 0 },
};

START_TEST(test_redact)
{
	static const char *const secrets[] = { "sekret-1", "other-secret", "" };
	const struct redact_row *row = &redact_rows[_i];
	char dst[64];
	size_t used = 99, n;

	n = redact_cut(secrets, 3, row->src, strlen(row->src), dst, row->size, &used);
	ck_assert_str_eq(dst, row->want);
	ck_assert_uint_eq(n, strlen(row->want));
	ck_assert_uint_eq(used, row->used);
	ck_assert_uint_eq(redact_match(secrets, 3, row->src, strlen(row->src)),
	    strncmp(row->src, "sekret-1", 8) == 0 ? 8 : 0);
}
END_TEST

START_TEST(test_redact_tail)
{
	static const char *const secrets[] = { "sekret-1" };

	/* A text cut inside a secret loses the part that begins it, whatever its length. */
	ck_assert_uint_eq(redact_drop_tail(secrets, 1, "abc sekret-", 11), 4);
	ck_assert_uint_eq(redact_drop_tail(secrets, 1, "abc s", 5), 4);
	ck_assert_uint_eq(redact_drop_tail(secrets, 1, "abc sekret-1", 12), 12);
	ck_assert_uint_eq(redact_drop_tail(secrets, 1, "abc x", 5), 5);
	ck_assert_uint_eq(redact_drop_tail(secrets, 0, "abc s", 5), 5);
	ck_assert_uint_eq(redact_cut(secrets, 1, "x", 1, NULL, 0, NULL), 0);
}
END_TEST

/* --- decoders (no network) ------------------------------------------------ */

static int
decode(enum api_body_kind kind, const char *body, struct api_reply *reply, char **next)
{
	memset(reply, 0, sizeof(*reply));
	return api_decode(kind, body, strlen(body), reply, next);
}

START_TEST(test_decode_droplet)
{
	struct api_reply rep;

	ck_assert_int_eq(decode(API_BODY_DROPLET,
	    "{\"droplet\":{\"id\":3164494,\"name\":\"example.com\",\"status\":\"off\","
	    "\"locked\":false,\"created_at\":\"2020-07-28T16:47:44Z\",\"disk\":25,"
	    "\"region\":{\"slug\":\"nyc3\",\"name\":\"New York 3\"},"
	    "\"tags\":[\"web\",\"env:prod\",7,null],\"volume_ids\":[\"v-1\"],"
	    "\"extra\":{\"deep\":[1,2,3]}}}", &rep, NULL), 0);
	ck_assert_ptr_nonnull(rep.droplet);
	ck_assert_int_eq(rep.droplet->id, 3164494);
	ck_assert_str_eq(rep.droplet->name, "example.com");
	ck_assert_int_eq(rep.droplet->status, API_DROPLET_OFF);
	ck_assert_int_eq(rep.droplet->created_at, 1595954864);
	ck_assert_int_eq(rep.droplet->disk_gigabytes, 25);
	ck_assert_str_eq(rep.droplet->region, "nyc3");
	/* Numbers in a string array are kept as text; nulls are skipped. */
	ck_assert_uint_eq(rep.droplet->n_tags, 3);
	ck_assert_str_eq(rep.droplet->tags[1], "env:prod");
	ck_assert_str_eq(rep.droplet->tags[2], "7");
	ck_assert_uint_eq(rep.droplet->n_volume_ids, 1);
	api_reply_release(&rep);
	ck_assert_ptr_null(rep.droplet);

	/* Only the id is required; odd types and nulls give defaults. */
	ck_assert_int_eq(decode(API_BODY_DROPLET,
	    "{\"droplet\":{\"id\":\"42\",\"name\":null,\"status\":\"sleeping\",\"tags\":\"x\","
	    "\"created_at\":12345,\"locked\":\"yes\",\"region\":\"nyc3\"}}", &rep, NULL), 0);
	ck_assert_int_eq(rep.droplet->id, 42);
	ck_assert_ptr_null(rep.droplet->name);
	ck_assert_int_eq(rep.droplet->status, API_DROPLET_UNKNOWN);
	ck_assert_int_eq(rep.droplet->created_at, 0);
	ck_assert_uint_eq(rep.droplet->n_tags, 0);
	ck_assert_ptr_null(rep.droplet->region);
	api_reply_release(&rep);

	/* Without an id, or without the object, the answer is refused. */
	ck_assert_int_eq(decode(API_BODY_DROPLET, "{\"droplet\":{\"name\":\"x\"}}", &rep, NULL),
	    -EPROTO);
	ck_assert_ptr_null(rep.droplet);
	ck_assert_int_eq(decode(API_BODY_DROPLET, "{\"droplet\":{\"id\":1.5}}", &rep, NULL),
	    -EPROTO);
	ck_assert_int_eq(decode(API_BODY_DROPLET, "{\"droplets\":[]}", &rep, NULL), -EPROTO);
	ck_assert_int_eq(decode(API_BODY_DROPLET, "[]", &rep, NULL), -EPROTO);
}
END_TEST

START_TEST(test_decode_lists)
{
	struct api_reply rep;
	char *next = NULL;

	ck_assert_int_eq(decode(API_BODY_DROPLET_SNAPSHOTS,
	    "{\"snapshots\":[{\"id\":6372321,\"name\":\"web-01\",\"created_at\":"
	    "\"2020-07-28T16:47:44Z\",\"size_gigabytes\":2.34,\"type\":\"snapshot\"},"
	    "{\"id\":\"6372322\",\"name\":\"nightly\",\"type\":\"backup\"}],"
	    "\"links\":{\"pages\":{\"next\":\"https://api.digitalocean.com/v2/x?page=2\"}},"
	    "\"meta\":{\"total\":3}}", &rep, &next), 0);
	ck_assert_ptr_nonnull(rep.snapshots);
	ck_assert_uint_eq(rep.snapshots->n, 2);
	ck_assert_str_eq(rep.snapshots->items[0].id, "6372321");
	ck_assert_str_eq(rep.snapshots->items[1].id, "6372322");
	ck_assert_int_eq(rep.snapshots->items[0].type, API_SNAPSHOT_TYPE_SNAPSHOT);
	ck_assert_int_eq(rep.snapshots->items[1].type, API_SNAPSHOT_TYPE_BACKUP);
	ck_assert_int_eq(rep.snapshots->items[0].resource_type, API_RESOURCE_DROPLET);
	ck_assert(rep.snapshots->items[0].size_gigabytes > 2.33 &&
	    rep.snapshots->items[0].size_gigabytes < 2.35);
	ck_assert_str_eq(next, "https://api.digitalocean.com/v2/x?page=2");
	free(next);
	api_reply_release(&rep);

	ck_assert_int_eq(decode(API_BODY_SNAPSHOTS,
	    "{\"snapshots\":[{\"id\":\"8eb4d51a\",\"name\":\"v\",\"resource_id\":\"82a4\","
	    "\"resource_type\":\"volume\",\"tags\":null,\"size_gigabytes\":\"big\"}],"
	    "\"links\":{},\"meta\":{\"total\":1}}", &rep, &next), 0);
	ck_assert_ptr_null(next);
	ck_assert_str_eq(rep.snapshots->items[0].resource_id, "82a4");
	ck_assert_int_eq(rep.snapshots->items[0].resource_type, API_RESOURCE_VOLUME);
	ck_assert_int_eq(rep.snapshots->items[0].type, API_SNAPSHOT_TYPE_UNKNOWN);
	api_reply_release(&rep);

	ck_assert_int_eq(decode(API_BODY_ACTIONS,
	    "{\"actions\":[{\"id\":36804636,\"status\":\"in-progress\",\"type\":\"snapshot\","
	    "\"started_at\":\"2020-11-14T16:29:21Z\",\"completed_at\":null,"
	    "\"resource_id\":3164444,\"resource_type\":\"droplet\"},"
	    "{\"id\":2,\"status\":\"errored\",\"type\":\"a_type_name_that_is_much_too_long_to_fit\"}],"
	    "\"meta\":{\"total\":2}}", &rep, NULL), 0);
	ck_assert_uint_eq(rep.actions->n, 2);
	ck_assert_int_eq(rep.actions->items[0].status, API_ACTION_IN_PROGRESS);
	ck_assert_int_eq(rep.actions->items[0].completed_at, 0);
	ck_assert_int_eq(rep.actions->items[0].resource_id, 3164444);
	ck_assert_int_eq(rep.actions->items[1].status, API_ACTION_ERRORED);
	ck_assert_uint_eq(strlen(rep.actions->items[1].type), 31);
	api_reply_release(&rep);

	ck_assert_int_eq(decode(API_BODY_VOLUMES,
	    "{\"volumes\":[{\"id\":\"506f78a4\",\"name\":\"example\",\"droplet_ids\":[7,\"x\",8],"
	    "\"size_gigabytes\":10,\"region\":{\"slug\":\"nyc1\"}}],\"meta\":{\"total\":1}}",
	    &rep, NULL), 0);
	ck_assert_uint_eq(rep.volumes->items[0].n_droplet_ids, 2);
	ck_assert_int_eq(rep.volumes->items[0].droplet_ids[1], 8);
	ck_assert_int_eq(rep.volumes->items[0].size_gigabytes, 10);
	api_reply_release(&rep);

	ck_assert_int_eq(decode(API_BODY_ACCOUNT,
	    "{\"account\":{\"email\":\"sammy@example.com\",\"uuid\":\"b6fr\",\"status\":\"active\","
	    "\"droplet_limit\":25}}", &rep, NULL), 0);
	ck_assert_str_eq(rep.account->email, "sammy@example.com");
	ck_assert_int_eq(rep.account->droplet_limit, 25);
	api_reply_release(&rep);

	/* One bad item fails the whole page: nothing is decided on a partial list. */
	ck_assert_int_eq(decode(API_BODY_DROPLETS,
	    "{\"droplets\":[{\"id\":1},{\"name\":\"no id\"}]}", &rep, NULL), -EPROTO);
	ck_assert_ptr_null(rep.droplets);
	ck_assert_int_eq(decode(API_BODY_DROPLETS, "{\"droplets\":null}", &rep, NULL), -EPROTO);
	ck_assert_int_eq(decode(API_BODY_DROPLETS, "{}", &rep, NULL), -EPROTO);
}
END_TEST

START_TEST(test_decode_bad)
{
	struct api_reply rep;
	char deep[200];
	size_t i;

	ck_assert_int_eq(decode(API_BODY_ACCOUNT, "", &rep, NULL), -EPROTO);
	ck_assert_int_eq(decode(API_BODY_ACCOUNT, "{\"account\":{\"email\":", &rep, NULL), -EPROTO);
	ck_assert_int_eq(decode(API_BODY_ACCOUNT, "<html>502</html>", &rep, NULL), -EPROTO);
	ck_assert_int_eq(decode(API_BODY_ACCOUNT, "{\"account\":{}} trailing", &rep, NULL),
	    -EPROTO);

	/* Nesting past the cap is refused before cJSON sees it. */
	for (i = 0; i < 60; i++)
		deep[i] = '[';
	deep[i] = '\0';
	ck_assert_int_eq(decode(API_BODY_DROPLETS, deep, &rep, NULL), -EPROTO);
	memset(deep, 0, sizeof(deep));
	strcpy(deep, "{\"droplets\":[],\"x\":");
	for (i = strlen(deep); i < 100; i++)
		deep[i] = '{';
	ck_assert_int_eq(decode(API_BODY_DROPLETS, deep, &rep, NULL), -EPROTO);
	/* Brackets inside strings do not count. */
	ck_assert_int_eq(decode(API_BODY_DROPLETS,
	    "{\"droplets\":[{\"id\":1,\"name\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}]}",
	    &rep, NULL), 0);
	ck_assert_str_eq(rep.droplets->items[0].name, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[");
	api_reply_release(&rep);

	ck_assert_int_eq(decode(API_BODY_ERROR,
	    "{\"id\":\"unprocessable_entity\",\"message\":\"Droplet already has a pending event.\","
	    "\"request_id\":\"4d9d8375\"}", &rep, NULL), 0);
	ck_assert_str_eq(rep.error.id, "unprocessable_entity");
	ck_assert_str_eq(rep.error.request_id, "4d9d8375");
	ck_assert_int_eq(api_decode(API_BODY__COUNT, "{}", 2, &rep, NULL), -EINVAL);
}
END_TEST

/* --- every operation against the mock -------------------------------------- */

START_TEST(test_operations)
{
	struct mock *m = start_mock("basic.json", 0);
	struct api_client *c = client_for(m);
	struct api_error err;
	struct api_account *acct = NULL;
	struct api_droplet_list *dl = NULL;
	struct api_droplet *d = NULL;
	struct api_action *a = NULL, *a2 = NULL;
	struct api_action_list *al = NULL;
	struct api_snapshot_list *sl = NULL;
	struct api_snapshot *s = NULL;
	struct api_volume *v = NULL;
	struct mock_droplet_info info;
	struct api_reply w = { 0 };
	bool adopted = true, found;
	size_t i;
	int r;

	r = await(c, api_get_account_async(c, keep_cb, fresh(&w), NULL), &w, &err);
	ck_assert_msg(r == 0, "account: %s", fmt_err(&err));
	acct = w.account;
	w.account = NULL;
	ck_assert_ptr_nonnull(acct->email);
	ck_assert_str_eq(acct->status, "active");
	api_account_free(acct);

	ck_assert_int_eq(api_list_droplets(c, NULL, NULL, &dl, &err), 0);
	ck_assert_uint_eq(dl->n, 3);
	ck_assert_int_eq(dl->items[0].id, 1001);
	ck_assert_str_eq(dl->items[0].name, "alpha");
	api_droplet_list_free(dl);
	ck_assert_int_eq(api_list_droplets(c, "env:prod", NULL, &dl, &err), 0);
	ck_assert_uint_eq(dl->n, 2);
	ck_assert_int_eq(dl->items[1].id, 1003);
	api_droplet_list_free(dl);
	ck_assert_int_eq(api_list_droplets(c, NULL, "beta", &dl, &err), 0);
	ck_assert_uint_eq(dl->n, 1);
	ck_assert_int_eq(dl->items[0].id, 1002);
	api_droplet_list_free(dl);
	ck_assert_int_eq(api_list_droplets(c, "web", "beta", &dl, &err), -EINVAL);

	ck_assert_int_eq(api_get_droplet(c, 1003, &d, &err), 0);
	ck_assert_int_eq(d->status, API_DROPLET_OFF);
	ck_assert_uint_eq(d->n_volume_ids, 1);
	ck_assert_str_eq(d->volume_ids[0], VOLUME_ID);
	api_droplet_free(d);

	r = api_post_droplet_action(c, 1002, "power_off", NULL, &a, &adopted, &err);
	ck_assert_msg(r == 0, "power_off: %s", fmt_err(&err));
	ck_assert(!adopted);
	ck_assert_str_eq(a->type, "power_off");
	ck_assert_int_eq(a->resource_id, 1002);
	ck_assert_int_ne(a->status, API_ACTION_UNKNOWN);
	ck_assert_int_eq(api_get_action(c, a->id, &a2, &err), 0);
	ck_assert_int_eq(a2->id, a->id);
	api_action_free(a2);
	ck_assert_int_eq(await(c, api_get_droplet_action_async(c, 1002, a->id, keep_cb, fresh(&w),
	    NULL), &w, &err), 0);
	ck_assert_str_eq(w.action->type, "power_off");
	api_action_free(a);
	ck_assert_int_eq(api_list_droplet_actions(c, 1002, 0, &al, &err), 0);
	ck_assert_uint_eq(al->n, 1);
	api_action_list_free(al);
	ck_assert_int_eq(await(c, api_post_droplet_action_async(c, 1003, "power_on", NULL, keep_cb,
	    fresh(&w), NULL), &w, &err), 0);
	ck_assert_int_eq(await(c, api_list_actions_async(c, 0, keep_cb, fresh(&w), NULL), &w, &err),
	    0);
	ck_assert_uint_eq(w.actions->n, 2);
	ck_assert_int_eq(await(c, api_list_actions_async(c, 1, keep_cb, fresh(&w), NULL), &w, &err),
	    0);
	ck_assert_uint_eq(w.actions->n, 1);

	ck_assert_int_eq(await(c, api_list_droplet_snapshots_async(c, 1001, keep_cb, fresh(&w),
	    NULL), &w, &err), 0);
	sl = w.snapshots;
	ck_assert_uint_eq(sl->n, 2);
	ck_assert_str_eq(sl->items[0].id, "5001");
	ck_assert_str_eq(sl->items[0].resource_id, "1001");
	ck_assert_int_eq(sl->items[0].type, API_SNAPSHOT_TYPE_SNAPSHOT);
	ck_assert_int_eq(sl->items[1].type, API_SNAPSHOT_TYPE_BACKUP);
	ck_assert_int_eq(sl->items[0].created_at, 1704067200);
	ck_assert_int_eq(api_list_snapshots(c, NULL, &sl, &err), 0);
	ck_assert_uint_eq(sl->n, 2);	/* alpha-old and the volume's; backups are not listed */
	api_snapshot_list_free(sl);
	ck_assert_int_eq(api_list_snapshots(c, "droplet", &sl, &err), 0);
	ck_assert_uint_eq(sl->n, 1);
	ck_assert_str_eq(sl->items[0].resource_id, "1001");
	api_snapshot_list_free(sl);
	ck_assert_int_eq(api_list_snapshots(c, "bogus", &sl, &err), -EINVAL);
	ck_assert_int_eq(api_list_snapshots(c, "droplet", &sl, &err), 0);
	for (i = 0, found = false; i < sl->n; i++)
		if (strcmp(sl->items[i].id, "5001") == 0)
			found = strcmp(sl->items[i].name, "alpha-old") == 0;
	ck_assert(found);
	api_snapshot_list_free(sl);
	ck_assert_int_eq(await(c, api_delete_snapshot_async(c, "5001", keep_cb, fresh(&w), NULL),
	    &w, &err), 0);
	ck_assert_int_eq(mock_droplet_get(m, 1001, &info), 0);
	ck_assert_uint_eq(info.n_snapshots, 1);
	/* Gone: a second delete is a 404 (no earlier ambiguous attempt to excuse it). */
	ck_assert_int_eq(await(c, api_delete_snapshot_async(c, "5001", keep_cb, fresh(&w), NULL),
	    &w, &err), -ENOENT);

	ck_assert_int_eq(await(c, api_get_volume_async(c, VOLUME_ID, keep_cb, fresh(&w), NULL), &w,
	    &err), 0);
	v = w.volume;
	w.volume = NULL;
	ck_assert_str_eq(v->id, VOLUME_ID);
	ck_assert_str_eq(v->name, "gamma-data");
	ck_assert_int_eq(v->size_gigabytes, 50);
	ck_assert_uint_eq(v->n_droplet_ids, 1);
	ck_assert_int_eq(v->droplet_ids[0], 1003);
	api_volume_free(v);
	r = await(c, api_create_volume_snapshot_async(c, VOLUME_ID, "gamma-data-2", keep_cb,
	    fresh(&w), NULL), &w, &err);
	ck_assert_msg(r == 0, "volume snapshot: %s", fmt_err(&err));
	ck_assert(!w.adopted);
	s = w.snapshot;
	w.snapshot = NULL;
	ck_assert_str_eq(s->name, "gamma-data-2");
	api_snapshot_free(s);
	ck_assert_int_eq(await(c, api_list_volume_snapshots_async(c, VOLUME_ID, keep_cb, fresh(&w),
	    NULL), &w, &err), 0);
	sl = w.snapshots;
	ck_assert_uint_eq(sl->n, 2);
	for (i = 0; i < sl->n; i++)
		ck_assert_int_eq(sl->items[i].resource_type, API_RESOURCE_VOLUME);
	ck_assert_int_eq(await(c, api_delete_volume_snapshot_async(c, VOLSNAP_ID, keep_cb, fresh(&w),
	    NULL), &w, &err), 0);
	ck_assert_int_eq(mock_volume_snapshots(m, VOLUME_ID, NULL, 0), 1);

	fresh(&w);
	api_client_free(c);
	mock_stop(m);
}
END_TEST

START_TEST(test_http_errors)
{
	struct mock *m = start_mock("basic.json", 0);
	struct api_client *c = client_for(m);
	struct api_config cfg;
	struct api_error err;
	struct api_droplet *d = NULL;
	struct api_action *a = NULL;
	char buf[512];

	ck_assert_int_eq(api_get_droplet(c, 999999, &d, &err), -ENOENT);
	ck_assert_ptr_null(d);
	ck_assert_int_eq(err.http_status, 404);
	ck_assert(!err.transient);
	ck_assert_str_eq(err.id, "not_found");
	ck_assert_str_eq(err.method, "GET");
	ck_assert_str_eq(err.path, "/v2/droplets/999999");
	ck_assert_uint_gt(strlen(err.request_id), 0);
	ck_assert_int_eq(err.attempts, 1);
	api_error_format(&err, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "GET /v2/droplets/999999: HTTP 404 not_found"));
	ck_assert_ptr_nonnull(strstr(buf, err.request_id));

	/* A pending event: 422 as -EBUSY, not retried. */
	mock_droplet_set_misbehaviour(m, 1002, MOCK_MISBEHAVE_ACTIONS_STALL);
	ck_assert_int_eq(api_post_droplet_action(c, 1002, "power_off", NULL, &a, NULL, &err), 0);
	api_action_free(a);
	ck_assert_int_eq(api_post_droplet_action(c, 1002, "power_on", NULL, &a, NULL, &err), -EBUSY);
	ck_assert_int_eq(err.http_status, 422);
	ck_assert_int_eq(err.attempts, 1);
	ck_assert_ptr_nonnull(strstr(err.message, "pending event"));
	ck_assert_int_eq(api_post_droplet_action(c, 1002, "Bad Type", NULL, &a, NULL, &err), -EINVAL);
	ck_assert_int_eq(api_post_droplet_action(c, 1002, "power_on", "name", &a, NULL, &err), -EINVAL);
	api_client_free(c);

	/* A wrong token: -EACCES, lasting. */
	test_config(&cfg, m);
	cfg.token = "wrong-token";
	c = new_client(&cfg);
	ck_assert_int_eq(api_get_droplet(c, 1001, &d, &err), -EACCES);
	ck_assert_int_eq(err.http_status, 401);
	ck_assert(!err.transient);
	ck_assert_int_eq(err.attempts, 1);
	api_client_free(c);
	mock_stop(m);
}
END_TEST

/* --- retries: every fault kind, once, on a read ---------------------------- */

static const struct fault_row {
	const char *spec;
	long status_seen;	/* what the mock logged for the failed attempt */
} fault_rows[] = {
	{ "kind=500,once", 500 },
	{ "kind=502,once", 502 },
	{ "kind=503,once", 503 },
	{ "kind=429,once,retry-after=1", 429 },
	{ "kind=reset,once", 0 },
	{ "kind=stall,once,stall-ms=2000", 0 },
	{ "kind=truncated,once", 0 },
	{ "kind=malformed,once", 200 },
};

START_TEST(test_retry_each_fault)
{
	const struct fault_row *row = &fault_rows[_i];
	struct mock *m = start_mock("basic.json", 0);
	struct api_config cfg;
	struct api_client *c;
	struct api_error err;
	struct api_droplet *d = NULL;
	char spec[128];
	int r;

	test_config(&cfg, m);
	cfg.request_timeout_ms = 500;
	c = new_client(&cfg);
	snprintf(spec, sizeof(spec), "%s,method=GET,path=/v2/droplets/1001", row->spec);
	add_fault(m, spec);
	r = api_get_droplet(c, 1001, &d, &err);
	ck_assert_msg(r == 0, "%s: %s", row->spec, fmt_err(&err));
	ck_assert_int_eq(d->id, 1001);
	api_droplet_free(d);
	ck_assert_uint_eq(mock_request_count(m, "GET", "/v2/droplets/1001", 0), 2);
	ck_assert_uint_eq(mock_request_count(m, "GET", "/v2/droplets/1001", 200), row->status_seen == 200 ? 2 : 1);
	api_client_free(c);
	mock_stop(m);
}
END_TEST

/* Faults that never stop: the right error once the attempts run out. */
static const struct exhaust_row {
	const char *spec;
	int r;
	bool transient;
	int attempts;
} exhaust_rows[] = {
	{ "kind=503", -EIO, true, 4 },
	{ "kind=reset", -EIO, true, 4 },
	{ "kind=stall,stall-ms=2000", -ETIMEDOUT, true, 4 },
	{ "kind=malformed", -EPROTO, false, 4 },
	{ "kind=429,retry-after=1", -EAGAIN, true, 2 },
};

START_TEST(test_retry_exhausted)
{
	const struct exhaust_row *row = &exhaust_rows[_i];
	struct mock *m = start_mock("basic.json", 0);
	struct api_config cfg;
	struct api_client *c;
	struct api_error err;
	struct api_droplet *d = NULL;
	char spec[128];
	int r;

	test_config(&cfg, m);
	cfg.request_timeout_ms = 300;
	cfg.retry_max_attempts = row->attempts;
	c = new_client(&cfg);
	snprintf(spec, sizeof(spec), "%s,method=GET,path=/v2/droplets/1001", row->spec);
	add_fault(m, spec);
	r = api_get_droplet(c, 1001, &d, &err);
	ck_assert_msg(r == row->r, "%s: r=%d: %s", row->spec, r, fmt_err(&err));
	ck_assert_ptr_null(d);
	ck_assert_int_eq(err.transient, row->transient);
	ck_assert_int_eq(err.attempts, row->attempts);
	ck_assert_uint_eq(mock_request_count(m, "GET", "/v2/droplets/1001", 0),
	    (size_t)row->attempts);
	api_client_free(c);
	mock_stop(m);
}
END_TEST

START_TEST(test_connection_refused)
{
	struct mock *m = start_mock("basic.json", 0);
	struct api_config cfg;
	struct api_client *c;
	struct api_error err;
	struct api_reply w = { 0 };
	char url[64];

	snprintf(url, sizeof(url), "%s", mock_url(m));
	test_config(&cfg, m);
	cfg.base_url = url;
	mock_stop(m);
	c = new_client(&cfg);
	ck_assert_int_eq(await(c, api_get_account_async(c, keep_cb, &w, NULL), &w, &err), -EIO);
	ck_assert_ptr_null(w.account);
	ck_assert(err.transient);
	ck_assert(!err.ambiguous);
	ck_assert_int_eq(err.attempts, 4);
	ck_assert_int_eq(err.http_status, 0);
	ck_assert_uint_gt(strlen(err.curl_error), 0);
	api_client_free(c);
}
END_TEST

/* --- action POSTs: never twice blindly ------------------------------------- */

/* Faults where the mock did the work and then spoiled the answer. */
static const char *const created_faults[] = { "kind=truncated,once", "kind=malformed,once" };

START_TEST(test_ambiguous_created)
{
	struct mock *m = start_mock("basic.json", 0);
	struct api_client *c = client_for(m);
	struct api_error err;
	struct api_action *a = NULL;
	bool adopted = false;
	char spec[128];
	int r;

	snprintf(spec, sizeof(spec), "%s,method=POST,path=/v2/droplets/1001/actions",
	    created_faults[_i]);
	add_fault(m, spec);
	r = api_post_droplet_action(c, 1001, "snapshot", "alpha-dosnap-1", &a, &adopted, &err);
	ck_assert_msg(r == 0, "%s: %s", created_faults[_i], fmt_err(&err));
	ck_assert(adopted);
	ck_assert_str_eq(a->type, "snapshot");
	ck_assert_int_eq(a->resource_id, 1001);
	/* Exactly one snapshot action: adopted, not repeated. */
	ck_assert_uint_eq(mock_action_count(m, 1001, "snapshot", NULL), 1);
	ck_assert_uint_eq(mock_request_count(m, "POST", "/v2/droplets/1001/actions", 0), 1);
	ck_assert_uint_ge(mock_request_count(m, "GET", "/v2/droplets/1001/actions", 200), 1);
	api_action_free(a);
	api_client_free(c);
	mock_stop(m);
}
END_TEST

/* Faults where the mock did nothing: the POST must be sent again. */
static const char *const not_created_faults[] = {
	"kind=500,once", "kind=503,once", "kind=reset,once", "kind=stall,once,stall-ms=2000",
};

START_TEST(test_ambiguous_not_created)
{
	struct mock *m = start_mock("basic.json", 0);
	struct api_config cfg;
	struct api_client *c;
	struct api_error err;
	struct api_action *a = NULL;
	bool adopted = true;
	char spec[128];
	int r;

	test_config(&cfg, m);
	cfg.request_timeout_ms = 500;
	c = new_client(&cfg);
	snprintf(spec, sizeof(spec), "%s,method=POST,path=/v2/droplets/1001/actions",
	    not_created_faults[_i]);
	add_fault(m, spec);
	r = api_post_droplet_action(c, 1001, "snapshot", "alpha-dosnap-1", &a, &adopted, &err);
	ck_assert_msg(r == 0, "%s: %s", not_created_faults[_i], fmt_err(&err));
	ck_assert(!adopted);
	ck_assert_uint_eq(mock_action_count(m, 1001, "snapshot", NULL), 1);
	ck_assert_uint_eq(mock_request_count(m, "POST", "/v2/droplets/1001/actions", 0), 2);
	/* It looked before sending again. */
	ck_assert_uint_eq(mock_request_count(m, "GET", "/v2/droplets/1001/actions", 200), 1);
	api_action_free(a);
	api_client_free(c);
	mock_stop(m);
}
END_TEST

START_TEST(test_post_not_sent_retry)
{
	struct mock *m = start_mock("basic.json", 0);
	struct api_client *c = client_for(m);
	struct api_error err;
	struct api_action *a = NULL;
	int64_t start;
	int r;

	/* A 429 means the request was refused, not processed: retried without looking. */
	add_fault(m, "kind=429,once,retry-after=1,method=POST,path=/v2/droplets/1001/actions");
	start = now_ms();
	r = api_post_droplet_action(c, 1001, "power_off", NULL, &a, NULL, &err);
	ck_assert_msg(r == 0, "%s", fmt_err(&err));
	/* retry-after: 1 is honoured although the backoff alone would be 20 ms. */
	ck_assert_int_ge(now_ms() - start, 950);
	ck_assert_uint_eq(mock_request_count(m, "POST", "/v2/droplets/1001/actions", 0), 2);
	ck_assert_uint_eq(mock_request_count(m, "GET", "/v2/droplets/1001/actions", 0), 0);
	ck_assert_uint_eq(mock_action_count(m, 1001, "power_off", NULL), 1);
	api_action_free(a);
	api_client_free(c);
	mock_stop(m);
}
END_TEST

START_TEST(test_post_ambiguous_exhausted)
{
	struct mock *m = start_mock("basic.json", 0);
	struct api_config cfg;
	struct api_client *c;
	struct api_error err;
	struct api_action *a = NULL;
	int r;

	/* The listing that would tell fails too: the error stays ambiguous, no second POST. */
	test_config(&cfg, m);
	cfg.retry_max_attempts = 2;
	c = new_client(&cfg);
	add_fault(m, "kind=500,method=POST,path=/v2/droplets/1001/actions");
	add_fault(m, "kind=503,method=GET,path=/v2/droplets/1001/actions");
	r = api_post_droplet_action(c, 1001, "power_off", NULL, &a, NULL, &err);
	ck_assert_int_eq(r, -EIO);
	ck_assert(err.ambiguous);
	ck_assert(err.transient);
	ck_assert_int_eq(err.http_status, 500);
	ck_assert_str_eq(err.method, "POST");
	ck_assert_uint_eq(mock_request_count(m, "POST", "/v2/droplets/1001/actions", 0), 1);
	api_client_free(c);
	mock_stop(m);
}
END_TEST

START_TEST(test_volume_snapshot_adopted)
{
	struct mock *m = start_mock("basic.json", 0);
	struct api_client *c = client_for(m);
	struct api_error err;
	struct api_reply w = { 0 };
	int r;

	add_fault(m, "kind=truncated,once,method=POST,path=/v2/volumes/*/snapshots");
	r = await(c, api_create_volume_snapshot_async(c, VOLUME_ID, "gamma-data-dosnap", keep_cb,
	    &w, NULL), &w, &err);
	ck_assert_msg(r == 0, "%s", fmt_err(&err));
	ck_assert(w.adopted);
	ck_assert_str_eq(w.snapshot->name, "gamma-data-dosnap");
	ck_assert_int_eq(mock_volume_snapshots(m, VOLUME_ID, NULL, 0), 2);
	ck_assert_uint_eq(mock_request_count(m, "POST", "/v2/volumes/*/snapshots", 0), 1);
	fresh(&w);
	api_client_free(c);
	mock_stop(m);
}
END_TEST

/* --- pagination ------------------------------------------------------------ */

START_TEST(test_pagination)
{
	struct mock *m = start_mock(NULL, 450);
	struct api_client *c = client_for(m);
	struct api_error err;
	struct api_droplet_list *dl = NULL;
	size_t i;

	ck_assert_int_eq(api_list_droplets(c, NULL, NULL, &dl, &err), 0);
	ck_assert_uint_eq(dl->n, 450);
	for (i = 1; i < dl->n; i++)
		ck_assert_int_ne(dl->items[i].id, dl->items[i - 1].id);
	api_droplet_list_free(dl);
	ck_assert_uint_eq(mock_request_count(m, "GET", "/v2/droplets", 0), 3);

	/* The second page fails once: retried, and the list is whole. */
	add_fault(m, "kind=503,once,after=1,method=GET,path=/v2/droplets");
	ck_assert_int_eq(api_list_droplets(c, NULL, NULL, &dl, &err), 0);
	ck_assert_uint_eq(dl->n, 450);
	api_droplet_list_free(dl);
	ck_assert_uint_eq(mock_request_count(m, "GET", "/v2/droplets", 0), 3 + 4);
	api_client_free(c);
	mock_stop(m);
}
END_TEST

START_TEST(test_pagination_failing_page)
{
	struct mock *m = start_mock(NULL, 450);
	struct api_client *c = client_for(m);
	struct api_error err;
	struct api_droplet_list *dl = NULL;

	/* Page 2 never works: the whole listing fails, no partial list. */
	add_fault(m, "kind=502,after=1,method=GET,path=/v2/droplets");
	ck_assert_int_eq(api_list_droplets(c, NULL, NULL, &dl, &err), -EIO);
	ck_assert_ptr_null(dl);
	ck_assert_int_eq(err.http_status, 502);
	ck_assert(err.transient);
	ck_assert_uint_eq(mock_request_count(m, "GET", "/v2/droplets", 0), 1 + 4);
	api_client_free(c);
	mock_stop(m);
}
END_TEST

/* --- bodies over the cap ------------------------------------------------------ */

/* A listing longer than API_LIST_MAX items is refused, not held in memory. */
START_TEST(test_list_item_cap)
{
	static const char item[] = "{\"id\":7,\"name\":\"d\",\"status\":\"active\"},";
	size_t n = (size_t)API_LIST_MAX + 1, len = 0, cap = 128 + n * (sizeof(item) - 1);
	struct api_reply reply = { 0 };
	char *body = malloc(cap), *next = NULL;
	size_t i;

	ck_assert_ptr_nonnull(body);
	len += (size_t)snprintf(body, cap, "{\"droplets\":[");
	for (i = 0; i < n; i++) {
		memcpy(body + len, item, sizeof(item) - 1);
		len += sizeof(item) - 1;
	}
	body[len - 1] = ']';	/* the last comma */
	len += (size_t)snprintf(body + len, cap - len, ",\"meta\":{\"total\":%zu}}", n);
	ck_assert_int_eq(api_decode(API_BODY_DROPLETS, body, len, &reply, &next), -EFBIG);
	ck_assert_ptr_null(reply.droplets);
	ck_assert_ptr_null(next);
	free(body);
}
END_TEST

START_TEST(test_body_cap)
{
	struct mock *m = start_mock(NULL, 50);
	struct api_config cfg;
	struct api_client *c;
	struct api_error err;
	struct api_droplet_list *dl = NULL;

	test_config(&cfg, m);
	cfg.max_body_bytes = 4096;
	c = new_client(&cfg);
	ck_assert_int_eq(api_list_droplets(c, NULL, NULL, &dl, &err), -EFBIG);
	ck_assert_ptr_null(dl);
	ck_assert(!err.transient);
	ck_assert_ptr_nonnull(strstr(err.message, "larger than 4096"));
	/* Not retried: the next answer would be as big. */
	ck_assert_uint_eq(mock_request_count(m, "GET", "/v2/droplets", 0), 1);
	api_client_free(c);
	mock_stop(m);
}
END_TEST

/* --- pacing ------------------------------------------------------------------ */

struct counter {
	int done, ok, failed, saw_429;
	char first_error[512];
};

static void
count_cb(struct api_client *c, struct api_reply *reply, void *userdata)
{
	struct counter *k = userdata;

	(void)c;
	k->done++;
	if (reply->r == 0) {
		k->ok++;
		return;
	}
	k->failed++;
	if (reply->error.http_status == 429)
		k->saw_429++;
	if (k->first_error[0] == '\0')
		api_error_format(&reply->error, k->first_error, sizeof(k->first_error));
}

static void
run_until_idle(struct api_client *c, int max_seconds)
{
	int loops = 0;

	while (api_client_pending(c) > 0) {
		ck_assert_int_ge(api_client_run(c, 1000), 0);
		ck_assert_msg(++loops < max_seconds * 1000, "the loop does not end");
	}
}

START_TEST(test_pacing_hourly)
{
	struct mock_config mcfg;
	struct mock *m;
	struct api_config cfg;
	struct api_client *c;
	struct counter k = { 0 };
	int i, n = 40;

	/* 20 an "hour" of 1.8 s: the headers count down and the client must wait for them. */
	mu_config(&mcfg, "basic.json");
	mcfg.token = TOKEN;
	mcfg.time_scale = 0.0005;
	mcfg.rate_per_hour = 20;
	mcfg.rate_per_minute = MOCK_RATE_UNLIMITED;
	m = mu_start(&mcfg);
	test_config(&cfg, m);
	cfg.retry_max_attempts = 1;	/* a 429 would reach the caller */
	cfg.retry_max_total_ms = 30000;
	c = new_client(&cfg);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(api_get_droplet_async(c, 1001 + i % 3, count_cb, &k, NULL), 0);
	run_until_idle(c, 30);
	ck_assert_msg(k.ok == n, "%d of %d failed: %s", k.failed, n, k.first_error);
	ck_assert_int_eq(k.saw_429, 0);
	ck_assert_uint_eq(mock_request_count(m, NULL, NULL, 429), 0);
	api_client_free(c);
	mock_stop(m);
}
END_TEST

START_TEST(test_pacing_burst_429)
{
	struct mock_config mcfg;
	struct mock *m;
	struct api_config cfg;
	struct api_client *c;
	struct counter k = { 0 };
	int i, n = 15;

	/* A per-minute limit shows in no header: 429s come, but none reaches the caller. */
	mu_config(&mcfg, "basic.json");
	mcfg.token = TOKEN;
	mcfg.rate_per_minute = 5;
	mcfg.rate_per_hour = MOCK_RATE_UNLIMITED;
	m = mu_start(&mcfg);
	test_config(&cfg, m);
	cfg.retry_max_attempts = 10;
	cfg.retry_max_total_ms = 30000;
	c = new_client(&cfg);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(api_get_droplet_async(c, 1001 + i % 3, count_cb, &k, NULL), 0);
	run_until_idle(c, 30);
	ck_assert_msg(k.ok == n, "%d of %d failed: %s", k.failed, n, k.first_error);
	ck_assert_int_eq(k.saw_429, 0);
	/* The path under test was taken. */
	ck_assert_uint_gt(mock_request_count(m, NULL, NULL, 429), 0);
	api_client_free(c);
	mock_stop(m);
}
END_TEST

START_TEST(test_pacing_own_budget)
{
	struct mock *m = start_mock("basic.json", 0);
	struct api_config cfg;
	struct api_client *c;
	struct counter k = { 0 };
	int64_t start;
	long next;
	int i;

	/* Our own per-minute budget: the fourth request waits for the first to age out. */
	test_config(&cfg, m);
	cfg.rate_per_minute = 3;
	cfg.retry_max_total_ms = 120000;
	c = new_client(&cfg);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(api_get_droplet_async(c, 1001, count_cb, &k, NULL), 0);
	start = now_ms();
	while (k.done < 3 && now_ms() - start < 5000)
		ck_assert_int_ge(api_client_run(c, 100), 0);
	ck_assert_int_eq(api_client_run(c, 300), 0);
	ck_assert_int_eq(k.ok, 3);
	ck_assert_uint_eq(api_client_pending(c), 1);
	next = api_client_next_timeout(c);
	ck_assert_msg(next > 50000 && next <= 60000, "next timeout %ld ms", next);
	ck_assert_uint_eq(mock_request_count(m, "GET", NULL, 0), 3);
	api_client_free(c);
	ck_assert_int_eq(k.done, 4);
	mock_stop(m);
}
END_TEST

/* --- the token never shows ---------------------------------------------------- */

struct capture {
	char *buf;
	size_t len, cap;
	int lines[6];
};

static void
capture_cb(enum api_trace_kind kind, const char *line, void *userdata)
{
	struct capture *cap = userdata;
	size_t n = strlen(line);

	if ((int)kind >= 0 && kind <= API_TRACE_DATA_IN)
		cap->lines[kind]++;
	if (cap->len + n + 2 > cap->cap) {
		size_t ncap = (cap->len + n + 2) * 2;
		char *p = realloc(cap->buf, ncap);

		ck_assert_ptr_nonnull(p);
		cap->buf = p;
		cap->cap = ncap;
	}
	memcpy(cap->buf + cap->len, line, n);
	cap->len += n;
	cap->buf[cap->len++] = '\n';
	cap->buf[cap->len] = '\0';
}

START_TEST(test_trace_redacted)
{
	struct mock *m = start_mock("basic.json", 0);
	struct api_config cfg;
	struct api_client *c;
	struct api_error err;
	struct capture cap = { 0 };
	struct api_reply w = { 0 };
	struct api_droplet *d = NULL;
	struct api_action *a = NULL;
	struct api_droplet_list *dl = NULL;

	test_config(&cfg, m);
	cfg.trace = capture_cb;
	cfg.trace_userdata = &cap;
	cfg.trace_bodies = true;
	c = new_client(&cfg);
	add_fault(m, "kind=503,once,method=GET,path=/v2/account");
	ck_assert_int_eq(await(c, api_get_account_async(c, keep_cb, &w, NULL), &w, &err), 0);
	fresh(&w);
	ck_assert_int_eq(api_list_droplets(c, "web", NULL, &dl, &err), 0);
	api_droplet_list_free(dl);
	ck_assert_int_eq(api_get_droplet(c, 4242, &d, &err), -ENOENT);
	ck_assert_int_eq(api_post_droplet_action(c, 1001, "snapshot", "s1", &a, NULL, &err), 0);
	api_action_free(a);
	api_client_free(c);

	ck_assert_ptr_nonnull(cap.buf);
	/* The token appears nowhere in the trace, not even in part... */
	ck_assert_msg(strstr(cap.buf, TOKEN) == NULL, "the token leaked into the trace");
	ck_assert_ptr_null(strstr(cap.buf, "7f3a9c2e51"));
	/* ...and the trace is really there, at full detail. */
	ck_assert_int_gt(cap.lines[API_TRACE_HEADER_OUT], 0);
	ck_assert_int_gt(cap.lines[API_TRACE_HEADER_IN], 0);
	ck_assert_int_gt(cap.lines[API_TRACE_DATA_IN], 0);
	ck_assert_int_gt(cap.lines[API_TRACE_EVENT], 0);
	ck_assert_ptr_nonnull(strstr(cap.buf, "Authorization: Bearer [REDACTED]"));
	ck_assert_ptr_nonnull(strstr(cap.buf, "User-Agent: dosnap/" DOSNAP_VERSION));
	ck_assert_ptr_nonnull(strstr(cap.buf, "retrying in"));
	free(cap.buf);
	mock_stop(m);
}
END_TEST

/* --- the loop: many requests, one thread --------------------------------------- */

struct flow {
	struct api_client *c;
	int64_t droplet;
	int steps;
	int result;
	bool chained;
};

static void
flow_snapshots_cb(struct api_client *c, struct api_reply *reply, void *userdata)
{
	struct flow *f = userdata;

	(void)c;
	f->steps++;
	f->result = reply->r;
	ck_assert_ptr_nonnull(reply->snapshots);
	/* Take the list: it must then not be freed by the client. */
	api_snapshot_list_free(reply->snapshots);
	reply->snapshots = NULL;
}

static void
flow_droplet_cb(struct api_client *c, struct api_reply *reply, void *userdata)
{
	struct flow *f = userdata;
	struct api_droplet *d = NULL;

	f->steps++;
	f->result = reply->r;
	ck_assert_int_eq(reply->r, 0);
	ck_assert_int_eq(reply->droplet->id, f->droplet);
	/* Blocking calls and nested loops are refused inside a callback. */
	ck_assert_int_eq(api_get_droplet(c, f->droplet, &d, NULL), -EDEADLK);
	ck_assert_int_eq(api_client_run(c, 0), -EDEADLK);
	if (f->chained)
		ck_assert_int_eq(api_list_droplet_snapshots_async(c, f->droplet,
		    flow_snapshots_cb, f, NULL), 0);
}

START_TEST(test_async_loop)
{
	struct mock *m = start_mock("basic.json", 0);
	struct api_client *c = client_for(m);
	struct flow flows[3];
	struct counter k = { 0 };
	uint64_t cancel_id = 0;
	int i;

	for (i = 0; i < 3; i++) {
		flows[i] = (struct flow){ .c = c, .droplet = 1001 + i, .result = 1,
			.chained = i == 0 };
		ck_assert_int_eq(api_get_droplet_async(c, flows[i].droplet, flow_droplet_cb,
		    &flows[i], NULL), 0);
	}
	ck_assert_int_eq(api_get_account_async(c, count_cb, &k, &cancel_id), 0);
	/* Nothing runs before the loop does. */
	ck_assert_uint_eq(api_client_pending(c), 4);
	ck_assert_int_eq(api_client_next_timeout(c), 0);
	ck_assert_int_eq(api_client_cancel(c, cancel_id), 0);
	ck_assert_int_eq(api_client_cancel(c, 987654), -ENOENT);
	ck_assert_int_eq(k.done, 0);
	run_until_idle(c, 10);
	ck_assert_int_eq(k.done, 1);
	ck_assert_int_eq(k.failed, 1);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(flows[i].result, 0);
		ck_assert_int_eq(flows[i].steps, i == 0 ? 2 : 1);
	}
	ck_assert_uint_eq(api_client_pending(c), 0);
	ck_assert_int_eq(api_client_next_timeout(c), -1);
	/* An idle loop waits no longer than asked. */
	ck_assert_int_eq(api_client_run(c, 10), 0);
	ck_assert_int_eq(api_client_run(c, -1), 0);

	/* Freeing the client runs what is still queued with -ECANCELED. */
	memset(&k, 0, sizeof(k));
	ck_assert_int_eq(api_list_droplets_async(c, NULL, NULL, count_cb, &k, NULL), 0);
	api_client_free(c);
	ck_assert_int_eq(k.done, 1);
	ck_assert_int_eq(k.failed, 1);
	mock_stop(m);
}
END_TEST

Suite *api_suite(void);

Suite *
api_suite(void)
{
	Suite *s = suite_create("api");
	TCase *unit = tcase_create("unit");
	TCase *mock = tcase_create("mock");

	tcase_add_loop_test(unit, test_parse_time, 0, (int)(sizeof(time_rows) / sizeof(time_rows[0])));
	tcase_add_loop_test(unit, test_loopback, 0, (int)(sizeof(host_rows) / sizeof(host_rows[0])));
	tcase_add_loop_test(unit, test_base_url, 0, (int)(sizeof(url_rows) / sizeof(url_rows[0])));
	tcase_add_test(unit, test_client_args);
	tcase_add_loop_test(unit, test_redact, 0, (int)(sizeof(redact_rows) / sizeof(redact_rows[0])));
	tcase_add_test(unit, test_redact_tail);
	tcase_add_test(unit, test_decode_droplet);
	tcase_add_test(unit, test_decode_lists);
	tcase_add_test(unit, test_decode_bad);
	suite_add_tcase(s, unit);

	tcase_set_timeout(mock, 60);
	tcase_add_test(mock, test_operations);
	tcase_add_test(mock, test_http_errors);
	tcase_add_loop_test(mock, test_retry_each_fault, 0,
	    (int)(sizeof(fault_rows) / sizeof(fault_rows[0])));
	tcase_add_loop_test(mock, test_retry_exhausted, 0,
	    (int)(sizeof(exhaust_rows) / sizeof(exhaust_rows[0])));
	tcase_add_test(mock, test_connection_refused);
	tcase_add_loop_test(mock, test_ambiguous_created, 0,
	    (int)(sizeof(created_faults) / sizeof(created_faults[0])));
	tcase_add_loop_test(mock, test_ambiguous_not_created, 0,
	    (int)(sizeof(not_created_faults) / sizeof(not_created_faults[0])));
	tcase_add_test(mock, test_post_not_sent_retry);
	tcase_add_test(mock, test_post_ambiguous_exhausted);
	tcase_add_test(mock, test_volume_snapshot_adopted);
	tcase_add_test(mock, test_pagination);
	tcase_add_test(mock, test_pagination_failing_page);
	tcase_add_test(mock, test_body_cap);
	tcase_add_test(unit, test_list_item_cap);
	tcase_add_test(mock, test_pacing_hourly);
	tcase_add_test(mock, test_pacing_burst_429);
	tcase_add_test(mock, test_pacing_own_budget);
	tcase_add_test(mock, test_trace_redacted);
	tcase_add_test(mock, test_async_loop);
	suite_add_tcase(s, mock);
	return s;
}
