/* check_flow: the real dosnap binary end to end against the in-process mock: snapshot, run, prune, list. */
#include <check.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dosnap/state.h"
#include "dosnap/util.h"
#include "mockutil.h"
#include "suites.h"
#include "testutil.h"

/*
 * Every test pins the clock with --now, so snapshot names are known in
 * advance: the slot of NOW is SLOT.
 */
#define NOW		"2026-11-26T03:30:20Z"
#define SLOT		"20261126T0330Z"
#define MAX_SNAPS	64
#define MAX_ARGS	64

/* demo.json */
#define WEB1		310000001
#define WEB2		310000002
#define DB		310000003
#define WORKER		310000004
#define STAGING		310000005
#define OLDBOX		310000006
#define DB_VOLUME	"506f78a4-e098-11e5-ad9f-000f53306ae1"

/* misbehave.json */
#define DEAF		320000002
#define STALLS		320000004

/* tests/fixtures/retention.json */
#define KEEPER		330000001
#define NEIGHBOUR	330000002

/* One test's world: its own mock, its own temporary directory. */
struct t {
	struct mock *m;
	char *dir;
	char *state_dir;		/* dir/state, for the intent journal and run's state */
	char token_env[600];
	const char *const *env;		/* NULL: DO_TOKEN with the mock's token */
};

static const char *
test_fixture(const char *name)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/tests/fixtures/%s", tu_srcdir(), name);
	return path;
}

static void
t_start(struct t *t, const struct mock_config *cfg)
{
	memset(t, 0, sizeof(*t));
	t->m = mu_start(cfg);
	t->dir = tu_mkdtemp();
	t->state_dir = str_printf("%s/state", t->dir);
	snprintf(t->token_env, sizeof(t->token_env), "DO_TOKEN=%s", mock_token(t->m));
}

/* Start with FIXTURE from mock/fixtures/ (NULL: 3 generated droplets). */
static void
t_start_fixture(struct t *t, const char *fixture)
{
	struct mock_config cfg;

	mu_config(&cfg, fixture);
	t_start(t, &cfg);
}

static void
t_stop(struct t *t)
{
	mock_stop(t->m);
	tu_rmtree(t->dir);
	free(t->dir);
	free(t->state_dir);
	t->m = NULL;
	t->dir = t->state_dir = NULL;
}

/*
 * Run `dosnap CMD --api-url URL --time-scale 0.01 [--state-dir DIR] ARGS...`
 * (ARGS ends with NULL; `list` takes no time scale, only `snapshot` and
 * `prune` get the state directory here) with the token in the environment,
 * unless t->env says otherwise.
 */
static void
ds_argv(struct t *t, struct tu_result *res, const char *cmd, const char *const *args)
{
	const char *argv[MAX_ARGS + 8];
	const char *env[] = { t->token_env, NULL };
	size_t n = 0, i;

	argv[n++] = cmd;
	argv[n++] = "--api-url";
	argv[n++] = mock_url(t->m);
	if (strcmp(cmd, "list") != 0) {	/* list waits for nothing */
		argv[n++] = "--time-scale";
		argv[n++] = "0.01";
	}
	if (strcmp(cmd, "snapshot") == 0 || strcmp(cmd, "prune") == 0) {
		/* The intent journal: this test's, never /var/lib/dosnap. */
		argv[n++] = "--state-dir";
		argv[n++] = t->state_dir;
	}
	for (i = 0; args[i] != NULL; i++) {
		ck_assert_uint_lt(i, MAX_ARGS);
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	tu_run_dosnap(argv, t->env != NULL ? t->env : env, res);
}

static void
ds(struct t *t, struct tu_result *res, const char *cmd, ...)
{
	const char *args[MAX_ARGS + 1];
	size_t n = 0;
	va_list ap;

	va_start(ap, cmd);
	while ((args[n] = va_arg(ap, const char *)) != NULL) {
		n++;
		ck_assert_uint_lt(n, MAX_ARGS);
	}
	va_end(ap);
	ds_argv(t, res, cmd, args);
}

/* --- what the user sees, and what the mock saw ---------------------------- */

static void
assert_status(struct mock *m, int64_t id, const char *want)
{
	struct mock_droplet_info info;

	ck_assert_int_eq(mock_droplet_get(m, id, &info), 0);
	ck_assert_msg(strcmp(info.status, want) == 0, "droplet %" PRId64 " (%s) is %s, want %s",
	    id, info.name, info.status, want);
}

static void
droplet_name(struct mock *m, int64_t id, char *buf, size_t len)
{
	struct mock_droplet_info info;

	ck_assert_int_eq(mock_droplet_get(m, id, &info), 0);
	snprintf(buf, len, "%s", info.name);
}

/* How many of droplet ID's images are called NAME (backups included). */
static int
count_named(struct mock *m, int64_t id, const char *name)
{
	struct mock_snapshot s[MAX_SNAPS];
	int n, i, c = 0;

	n = mock_droplet_snapshots(m, id, s, MAX_SNAPS);
	ck_assert_int_ge(n, 0);
	ck_assert_int_le(n, MAX_SNAPS);
	for (i = 0; i < n; i++)
		if (strcmp(s[i].name, name) == 0)
			c++;
	return c;
}

/* How many of droplet ID's images have names starting with PREFIX. */
static int
count_prefixed(struct mock *m, int64_t id, const char *prefix)
{
	struct mock_snapshot s[MAX_SNAPS];
	int n, i, c = 0;

	n = mock_droplet_snapshots(m, id, s, MAX_SNAPS);
	ck_assert_int_ge(n, 0);
	ck_assert_int_le(n, MAX_SNAPS);
	for (i = 0; i < n; i++)
		if (strncmp(s[i].name, prefix, strlen(prefix)) == 0)
			c++;
	return c;
}

static int
n_images(struct mock *m, int64_t id)
{
	int n = mock_droplet_snapshots(m, id, NULL, 0);

	ck_assert_int_ge(n, 0);
	return n;
}

/* The slot's snapshot name for droplet ID under the default template. */
static void
slot_name(struct mock *m, int64_t id, char *buf, size_t len)
{
	char name[64];

	droplet_name(m, id, name, sizeof(name));
	snprintf(buf, len, "dosnap-%s-%s", name, SLOT);
}

/* Exactly one snapshot with this slot's name, and it is a real snapshot. */
static void
assert_one_slot_snapshot(struct mock *m, int64_t id)
{
	char want[128];

	slot_name(m, id, want, sizeof(want));
	ck_assert_msg(count_named(m, id, want) == 1, "droplet %" PRId64 " has %d snapshots "
	    "named '%s', want 1", id, count_named(m, id, want), want);
}

/* Requests in the mock's log other than GET; with WHAT, the first one described. */
static size_t
count_changing_requests(struct mock *m, char *what, size_t len)
{
	struct mock_request rq;
	size_t i, n = 0;

	if (what != NULL && len > 0)
		what[0] = '\0';
	for (i = 0; mock_request_get(m, i, &rq) == 0; i++) {
		if (strcmp(rq.method, "GET") == 0)
			continue;
		if (n++ == 0 && what != NULL)
			snprintf(what, len, "%s %s", rq.method, rq.path);
	}
	return n;
}

/*
 * The summary table's row for WHO (e.g. "310000001 web-1") must end in
 * RESULT ("ok", "ok (existed)", "FAILED", "LEFT OFF").
 */
static void
assert_row(const char *out, const char *who, const char *result)
{
	const char *p = out;
	size_t wl = strlen(who), rl = strlen(result);

	ck_assert_msg(strncmp(out, "DROPLET ", 8) == 0, "no summary table header in:\n%s", out);
	while ((p = strchr(p, '\n')) != NULL) {
		const char *eol;
		size_t ll;

		p++;
		eol = strchr(p, '\n');
		ll = eol != NULL ? (size_t)(eol - p) : strlen(p);
		if (ll < wl || strncmp(p, who, wl) != 0 || p[wl] != ' ')
			continue;
		ck_assert_msg(ll > rl + 2 && strncmp(p + ll - rl - 2, "  ", 2) == 0 &&
		    strncmp(p + ll - rl, result, rl) == 0 && p[ll - rl - 3] == 's',
		    "row of '%s' does not end in '%s':\n%.*s", who, result, (int)ll, p);
		return;
	}
	ck_abort_msg("no row for '%s' in the summary:\n%s", who, out);
}

#define assert_has(hay, needle) \
	ck_assert_msg(strstr((hay), (needle)) != NULL, "'%s' not in:\n%s", (needle), (hay))
#define assert_lacks(hay, needle) \
	ck_assert_msg(strstr((hay), (needle)) == NULL, "'%s' unexpectedly in:\n%s", (needle), (hay))
#define assert_exit(res, code) \
	ck_assert_msg((res).status == (code), "exit %d, want %d\nstdout:\n%s\nstderr:\n%s", \
	    (res).status, (code), (res).out, (res).err)

/* --- the flow, droplet by droplet ---------------------------------------- */

START_TEST(test_one_droplet)
{
	struct t t;
	struct tu_result res;

	t_start_fixture(&t, "demo.json");
	ds(&t, &res, "snapshot", "--now", NOW, "310000001", NULL);
	assert_exit(res, 0);
	assert_status(t.m, WEB1, "active");
	ck_assert_int_eq(count_named(t.m, WEB1, "dosnap-web-1-" SLOT), 1);
	/* What it had before is still there: a snapshot and a backup. */
	ck_assert_int_eq(n_images(t.m, WEB1), 3);
	ck_assert_int_eq(count_named(t.m, WEB1, "web-1-before-upgrade"), 1);
	ck_assert_int_eq(count_named(t.m, WEB1, "web-1-2024-04-07-backup"), 1);
	ck_assert_uint_eq(mock_action_count(t.m, WEB1, "shutdown", "completed"), 1);
	ck_assert_uint_eq(mock_action_count(t.m, WEB1, "snapshot", "completed"), 1);
	ck_assert_uint_eq(mock_action_count(t.m, WEB1, "power_off", NULL), 0);
	/* Nothing else was touched. */
	ck_assert_uint_eq(mock_action_count(t.m, WEB2, NULL, NULL), 0);
	assert_row(res.out, "310000001 web-1", "ok");
	assert_has(res.out, "dosnap-web-1-" SLOT);
	assert_has(res.err, "droplet 310000001 (web-1): shutdown sent");
	assert_has(res.err, "droplet 310000001 (web-1): snapshot 'dosnap-web-1-" SLOT "' started");
	assert_has(res.err, "droplet 310000001 (web-1): done: snapshot 'dosnap-web-1-" SLOT "'");
	tu_result_release(&res);
	t_stop(&t);
}
END_TEST

#define MANY 20

START_TEST(test_many_droplets)
{
	struct mock_config cfg;
	struct t t;
	struct tu_result res;
	const char *args[MANY + 8];
	char ids[MANY][24];
	size_t n = 0, i, total;

	mu_config(&cfg, NULL);
	cfg.droplets = MANY;
	t_start(&t, &cfg);
	args[n++] = "--now";
	args[n++] = NOW;
	args[n++] = "--jobs";
	args[n++] = "20";
	for (i = 0; i < MANY; i++) {
		snprintf(ids[i], sizeof(ids[i]), "%" PRId64, (int64_t)100000001 + (int64_t)i);
		args[n++] = ids[i];
	}
	args[n] = NULL;
	ds_argv(&t, &res, "snapshot", args);
	assert_exit(res, 0);
	for (i = 0; i < MANY; i++) {
		int64_t id = 100000001 + (int64_t)i;
		char who[96], name[64];

		assert_status(t.m, id, "active");
		assert_one_slot_snapshot(t.m, id);
		ck_assert_int_eq(n_images(t.m, id), 1);
		droplet_name(t.m, id, name, sizeof(name));
		snprintf(who, sizeof(who), "%" PRId64 " %s", id, name);
		assert_row(res.out, who, "ok");
	}
	/*
	 * Polling backs off and is shared: about 8 requests a droplet, with
	 * room for a loaded machine.  Polling without backoff would need many
	 * times this.
	 */
	total = mock_request_count(t.m, NULL, NULL, 0);
	ck_assert_msg(total <= MANY * 15, "%zu requests for %d droplets", total, MANY);
	tu_result_release(&res);
	t_stop(&t);
}
END_TEST

START_TEST(test_tag)
{
	static const int64_t web[] = { WEB1, WEB2, STAGING };
	static const int64_t others[] = { DB, WORKER, OLDBOX };
	struct t t;
	struct tu_result res;
	size_t i;

	t_start_fixture(&t, "demo.json");
	ds(&t, &res, "snapshot", "--now", NOW, "tag:web", NULL);
	assert_exit(res, 0);
	for (i = 0; i < 3; i++) {
		assert_status(t.m, web[i], "active");
		assert_one_slot_snapshot(t.m, web[i]);
	}
	for (i = 0; i < 3; i++)
		ck_assert_msg(mock_action_count(t.m, others[i], NULL, NULL) == 0,
		    "droplet %" PRId64 " is not tagged web but got actions", others[i]);
	assert_row(res.out, "310000001 web-1", "ok");
	assert_row(res.out, "310000002 web-2", "ok");
	assert_row(res.out, "310000005 staging-web", "ok");
	assert_lacks(res.out, "db-primary");
	tu_result_release(&res);
	t_stop(&t);
}
END_TEST

START_TEST(test_live_mode)
{
	struct t t;
	struct tu_result res;

	t_start_fixture(&t, "demo.json");
	ds(&t, &res, "snapshot", "--now", NOW, "--power", "live", "310000002", NULL);
	assert_exit(res, 0);
	assert_status(t.m, WEB2, "active");
	assert_one_slot_snapshot(t.m, WEB2);
	/* Never powered off: the snapshot was the one action posted. */
	ck_assert_uint_eq(mock_action_count(t.m, WEB2, "shutdown", NULL), 0);
	ck_assert_uint_eq(mock_action_count(t.m, WEB2, "power_off", NULL), 0);
	ck_assert_uint_eq(mock_action_count(t.m, WEB2, "power_on", NULL), 0);
	ck_assert_uint_eq(mock_action_count(t.m, WEB2, NULL, NULL), 1);
	ck_assert_uint_eq(mock_request_count(t.m, "POST", "/v2/droplets/310000002/actions", 0), 1);
	assert_has(res.err, "droplet 310000002 (web-2): active, live snapshot");
	assert_lacks(res.err, "shutdown");
	assert_row(res.out, "310000002 web-2", "ok");
	tu_result_release(&res);
	t_stop(&t);
}
END_TEST

START_TEST(test_ignores_shutdown)
{
	struct t t;
	struct tu_result res;

	t_start_fixture(&t, "misbehave.json");
	ds(&t, &res, "snapshot", "--now", NOW, "--shutdown-timeout", "30s", "320000002", NULL);
	assert_exit(res, 0);
	assert_status(t.m, DEAF, "active");
	assert_one_slot_snapshot(t.m, DEAF);
	ck_assert_uint_eq(mock_action_count(t.m, DEAF, "shutdown", "completed"), 1);
	ck_assert_uint_eq(mock_action_count(t.m, DEAF, "power_off", "completed"), 1);
	assert_has(res.err, "droplet 320000002 (deaf-to-shutdown): still active");
	assert_has(res.err, "after shutdown; sending power_off");
	assert_has(res.err, "droplet 320000002 (deaf-to-shutdown): power_off sent");
	assert_row(res.out, "320000002 deaf-to-shutdown", "ok");
	tu_result_release(&res);
	t_stop(&t);
}
END_TEST

START_TEST(test_already_off)
{
	struct t t;
	struct tu_result res;

	t_start_fixture(&t, "demo.json");
	ds(&t, &res, "snapshot", "--now", NOW, "310000006", NULL);
	assert_exit(res, 0);
	assert_status(t.m, OLDBOX, "off");
	assert_one_slot_snapshot(t.m, OLDBOX);
	ck_assert_uint_eq(mock_action_count(t.m, OLDBOX, NULL, NULL), 1);
	ck_assert_uint_eq(mock_action_count(t.m, OLDBOX, "snapshot", "completed"), 1);
	assert_has(res.out, "310000006 old-build-box      off ");
	assert_row(res.out, "310000006 old-build-box", "ok");
	assert_lacks(res.err, "power_on");
	tu_result_release(&res);
	t_stop(&t);
}
END_TEST

/*
 * Make the droplet's snapshot action end "errored": once the snapshot is in
 * progress, every action of the droplet errors; once it has errored, the
 * droplet behaves again, so that powering it back on works.  (Should the
 * flow's power_on slip in before the watcher clears the flag, the flow's
 * own retry brings it back; the test only gets slower.)
 */
struct err_watch {
	struct mock *m;
	int64_t id;
	atomic_int stop;
	atomic_int phase;		/* 0 waiting, 1 erroring, 2 done */
};

static void *
err_watch_main(void *arg)
{
	struct err_watch *w = arg;
	const struct timespec pause = { 0, 100000 };

	while (!atomic_load(&w->stop) && atomic_load(&w->phase) < 2) {
		if (atomic_load(&w->phase) == 0 &&
		    mock_action_count(w->m, w->id, "snapshot", "in-progress") > 0) {
			mock_droplet_set_misbehaviour(w->m, w->id, MOCK_MISBEHAVE_ACTIONS_ERROR);
			atomic_store(&w->phase, 1);
		} else if (atomic_load(&w->phase) == 1 &&
		    mock_action_count(w->m, w->id, "snapshot", "errored") > 0) {
			mock_droplet_set_misbehaviour(w->m, w->id, MOCK_MISBEHAVE_NONE);
			atomic_store(&w->phase, 2);
		}
		nanosleep(&pause, NULL);
	}
	return NULL;
}

START_TEST(test_snapshot_errored)
{
	struct err_watch w = { 0 };
	struct t t;
	struct tu_result res;
	pthread_t th;

	t_start_fixture(&t, "demo.json");
	w.m = t.m;
	w.id = DB;
	ck_assert_int_eq(pthread_create(&th, NULL, err_watch_main, &w), 0);
	ds(&t, &res, "snapshot", "--now", NOW, "--keep", "1", "310000003", NULL);
	atomic_store(&w.stop, 1);
	pthread_join(th, NULL);
	ck_assert_int_eq(atomic_load(&w.phase), 2);
	assert_exit(res, 69);
	ck_assert_uint_eq(mock_action_count(t.m, DB, "snapshot", "errored"), 1);
	ck_assert_int_eq(count_named(t.m, DB, "dosnap-db-primary-" SLOT), 0);
	/* No retention after a failed snapshot: keep=1 deleted nothing. */
	ck_assert_int_eq(count_named(t.m, DB, "dosnap-db-primary-2024-04-06T0300Z"), 1);
	ck_assert_uint_eq(mock_request_count(t.m, "DELETE", NULL, 0), 0);
	/* Powered back on although the snapshot failed. */
	assert_status(t.m, DB, "active");
	ck_assert_uint_ge(mock_action_count(t.m, DB, "power_on", "completed"), 1);
	assert_has(res.err, "droplet 310000003 (db-primary): snapshot action");
	assert_has(res.err, "errored");
	assert_has(res.err, "droplet 310000003 (db-primary): power_on sent");
	assert_row(res.out, "310000003 db-primary", "FAILED");
	tu_result_release(&res);
	t_stop(&t);
}
END_TEST

/* --- timeouts ------------------------------------------------------------- */

/*
 * The snapshot takes 20 s (mock time), the timeout is 10 s: it is reported
 * as a passing failure, and the flow still waits for it before powering on.
 */
START_TEST(test_timeout_snapshot_slow)
{
	struct t t;
	struct tu_result res;

	t_start_fixture(&t, "demo.json");
	ds(&t, &res, "snapshot", "--now", NOW, "--timeout", "10s", "310000001", NULL);
	assert_exit(res, 75);
	assert_status(t.m, WEB1, "active");
	ck_assert_uint_eq(mock_action_count(t.m, WEB1, "snapshot", "completed"), 1);
	ck_assert_uint_eq(mock_action_count(t.m, WEB1, "power_on", "completed"), 1);
	assert_has(res.err, "droplet 310000001 (web-1): snapshot not finished after 10 s");
	assert_has(res.err, "waiting for it before powering on");
	assert_row(res.out, "310000001 web-1", "FAILED");
	tu_result_release(&res);
	t_stop(&t);
}
END_TEST

/*
 * A snapshot that outlasts even the hard bound (3 x timeout = 30 s; it takes
 * 60 s): the droplet cannot be powered on while it runs, so it is left off,
 * loudly, and the intent journal keeps it for the next run, which powers
 * it on once the snapshot has ended.
 */
START_TEST(test_timeout_left_powered_off)
{
	const struct timespec pause = { 0, 10 * 1000 * 1000 };
	struct mock_config cfg;
	struct t t;
	struct tu_result res;
	int i;

	mu_config(&cfg, "demo.json");
	cfg.action_ms[MOCK_ACTION_SNAPSHOT] = 60 * 1000;	/* 0.6 s of real time */
	t_start(&t, &cfg);
	ds(&t, &res, "snapshot", "--now", NOW, "--timeout", "10s", "310000001", NULL);
	assert_exit(res, 75);
	assert_status(t.m, WEB1, "off");
	ck_assert_uint_eq(mock_action_count(t.m, WEB1, "snapshot", "in-progress"), 1);
	ck_assert_uint_eq(mock_action_count(t.m, WEB1, "power_on", NULL), 0);
	assert_has(res.err, "droplet 310000001 (web-1): LEFT POWERED OFF");
	assert_has(res.err, "still in progress");
	assert_row(res.out, "310000001 web-1", "LEFT OFF");
	tu_result_release(&res);

	for (i = 0; i < 500 && mock_action_count(t.m, WEB1, "snapshot", "completed") == 0; i++)
		nanosleep(&pause, NULL);
	ck_assert_uint_eq(mock_action_count(t.m, WEB1, "snapshot", "completed"), 1);
	assert_status(t.m, WEB1, "off");

	/* The next run, for another droplet, brings web-1 back first. */
	ds(&t, &res, "snapshot", "--now", NOW, "310000006", NULL);
	assert_exit(res, 0);
	assert_has(res.err, "recovering 1 droplet");
	assert_has(res.err, "310000001 (web-1)");
	assert_status(t.m, WEB1, "active");
	ck_assert_uint_eq(mock_action_count(t.m, WEB1, "power_on", "completed"), 1);
	assert_one_slot_snapshot(t.m, WEB1);
	assert_one_slot_snapshot(t.m, OLDBOX);
	tu_result_release(&res);
	t_stop(&t);
}
END_TEST

/*
 * A shutdown that never finishes keeps the droplet busy: power_off is
 * refused (422) until the flow gives up.  It was never off, so it is
 * neither snapshotted nor left off.
 */
START_TEST(test_timeout_shutdown_stalls)
{
	struct t t;
	struct tu_result res;

	t_start_fixture(&t, "misbehave.json");
	ds(&t, &res, "snapshot", "--now", NOW, "--shutdown-timeout", "10s", "--timeout", "10s",
	    "320000004", NULL);
	assert_exit(res, 75);
	assert_status(t.m, STALLS, "active");
	ck_assert_uint_eq(mock_action_count(t.m, STALLS, "snapshot", NULL), 0);
	ck_assert_int_eq(n_images(t.m, STALLS), 0);
	ck_assert_uint_ge(mock_request_count(t.m, "POST", "/v2/droplets/320000004/actions", 422),
	    1);
	assert_has(res.err, "droplet 320000004 (never-finishes): still active");
	assert_has(res.err, "sending power_off");
	assert_has(res.err, "pending event");
	assert_row(res.out, "320000004 never-finishes", "FAILED");
	assert_lacks(res.out, "LEFT OFF");
	tu_result_release(&res);
	t_stop(&t);
}
END_TEST

/* --- the service powering droplets on after a snapshot, or not ----------- */

static const struct after_case {
	enum mock_after_snapshot mode;
	size_t power_on;	/* power_on actions dosnap should post */
	const char *log;	/* what it says about it */
} after_cases[] = {
	{ MOCK_AFTER_SNAPSHOT_KEEP, 1, "droplet 310000002 (web-2): power_on sent" },
	{ MOCK_AFTER_SNAPSHOT_POWER_ON, 0,
	  "droplet 310000002 (web-2): active again (the service powered it on)" },
};

START_TEST(test_after_snapshot)
{
	const struct after_case *c = &after_cases[_i];
	struct mock_config cfg;
	struct t t;
	struct tu_result res;

	mu_config(&cfg, "demo.json");
	cfg.after_snapshot = c->mode;
	t_start(&t, &cfg);
	ds(&t, &res, "snapshot", "--now", NOW, "310000002", NULL);
	assert_exit(res, 0);
	assert_status(t.m, WEB2, "active");
	assert_one_slot_snapshot(t.m, WEB2);
	ck_assert_msg(mock_action_count(t.m, WEB2, "power_on", NULL) == c->power_on,
	    "%zu power_on actions, want %zu\n%s", mock_action_count(t.m, WEB2, "power_on", NULL),
	    c->power_on, res.err);
	assert_has(res.err, c->log);
	if (c->power_on == 0)
		assert_lacks(res.err, "power_on sent");
	assert_lacks(res.err, "trying again");
	assert_row(res.out, "310000002 web-2", "ok");
	tu_result_release(&res);
	t_stop(&t);
}
END_TEST

/* --- volumes -------------------------------------------------------------- */

static const struct volume_case {
	const char *flag;		/* NULL: none */
	int volume_snaps;		/* the volume's snapshots afterwards */
} volume_cases[] = {
	{ "--volumes", 2 },
	{ NULL, 1 },			/* volume snapshots cost money: only when asked */
};

START_TEST(test_volumes)
{
	const struct volume_case *c = &volume_cases[_i];
	struct mock_snapshot vs[MAX_SNAPS];
	struct t t;
	struct tu_result res;
	int n, i, named = 0, manual = 0;

	t_start_fixture(&t, "demo.json");
	if (c->flag != NULL)
		ds(&t, &res, "snapshot", "--now", NOW, c->flag, "310000003", NULL);
	else
		ds(&t, &res, "snapshot", "--now", NOW, "310000003", NULL);
	assert_exit(res, 0);
	assert_status(t.m, DB, "active");
	assert_one_slot_snapshot(t.m, DB);
	n = mock_volume_snapshots(t.m, DB_VOLUME, vs, MAX_SNAPS);
	ck_assert_int_eq(n, c->volume_snaps);
	for (i = 0; i < n; i++) {
		named += strcmp(vs[i].name, "dosnap-db-data-" SLOT) == 0;
		manual += strcmp(vs[i].name, "db-data-manual") == 0;
	}
	ck_assert_int_eq(manual, 1);
	ck_assert_int_eq(named, c->volume_snaps - 1);
	if (c->flag != NULL)
		assert_has(res.err, "droplet 310000003 (db-primary): volume db-data: snapshot "
		    "'dosnap-db-data-" SLOT "' taken");
	else
		assert_lacks(res.err, "volume");
	tu_result_release(&res);
	t_stop(&t);
}
END_TEST

/* --- idempotency ---------------------------------------------------------- */

START_TEST(test_rerun_same_slot)
{
	struct t t;
	struct tu_result res;
	size_t actions;

	t_start_fixture(&t, "demo.json");
	ds(&t, &res, "snapshot", "--now", NOW, "310000001", "310000006", NULL);
	assert_exit(res, 0);
	assert_row(res.out, "310000001 web-1", "ok");
	tu_result_release(&res);
	actions = mock_action_count(t.m, 0, NULL, NULL);

	/* The same minute again: both snapshots exist, nothing is powered off. */
	ds(&t, &res, "snapshot", "--now", "2026-11-26T03:30:59Z", "310000001", "310000006", NULL);
	assert_exit(res, 0);
	assert_row(res.out, "310000001 web-1", "ok (existed)");
	assert_row(res.out, "310000006 old-build-box", "ok (existed)");
	assert_has(res.err, "droplet 310000001 (web-1): snapshot 'dosnap-web-1-" SLOT
	    "' for this slot exists already");
	ck_assert_uint_eq(mock_action_count(t.m, 0, NULL, NULL), actions);
	assert_one_slot_snapshot(t.m, WEB1);
	assert_one_slot_snapshot(t.m, OLDBOX);
	assert_status(t.m, WEB1, "active");
	assert_status(t.m, OLDBOX, "off");
	tu_result_release(&res);
	t_stop(&t);
}
END_TEST

struct concurrent_run {
	struct t *t;
	const char *schedule;
	const char *state_dir;
	struct tu_result res;
};

static void *
concurrent_run_main(void *arg)
{
	struct concurrent_run *cr = arg;
	const char *argv[] = { "run", "-f", cr->schedule, "--state-dir", cr->state_dir,
		"--now", NOW, "--api-url", mock_url(cr->t->m), "--time-scale", "0.01", NULL };
	const char *env[] = { cr->t->token_env, NULL };

	tu_run_dosnap(argv, env, &cr->res);
	return NULL;
}

/* Two hosts running the same schedule: one snapshot per droplet per slot. */
START_TEST(test_two_runs_at_once)
{
	static const int64_t web[] = { WEB1, WEB2, STAGING };
	struct concurrent_run cr[2];
	pthread_t th[2];
	struct t t;
	char *schedule, *dirs[2];
	size_t i;

	t_start_fixture(&t, "demo.json");
	schedule = tu_write(t.dir, "schedule", "30 3 * * *  tag:web  keep=7\n");
	for (i = 0; i < 2; i++) {
		dirs[i] = str_printf("%s/state-%zu", t.dir, i);
		cr[i].t = &t;
		cr[i].schedule = schedule;
		cr[i].state_dir = dirs[i];
		ck_assert_int_eq(pthread_create(&th[i], NULL, concurrent_run_main, &cr[i]), 0);
	}
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < 2; i++) {
		ck_assert_msg(cr[i].res.status == 0, "run %zu: exit %d\n%s\n%s", i,
		    cr[i].res.status, cr[i].res.out, cr[i].res.err);
		assert_has(cr[i].res.out, "310000001 web-1");
	}
	for (i = 0; i < 3; i++) {
		assert_one_slot_snapshot(t.m, web[i]);
		ck_assert_uint_eq(mock_action_count(t.m, web[i], "snapshot", "completed"), 1);
		assert_status(t.m, web[i], "active");
	}
	for (i = 0; i < 2; i++) {
		tu_result_release(&cr[i].res);
		free(dirs[i]);
	}
	free(schedule);
	t_stop(&t);
}
END_TEST

/* --- retention ------------------------------------------------------------ */

static const struct retention_case {
	const char *cmd;
	const char *rule, *value;
	bool new_snapshot;		/* the run takes this slot's snapshot */
	const char *remain[4];		/* keeper's dosnap-* snapshots afterwards, besides the new one */
} retention_cases[] = {
	/* The new one counts as one of the 3. */
	{ "snapshot", "--keep", "3", true,
	  { "dosnap-keeper-20240501T0330Z", "dosnap-keeper-20240401T0330Z" } },
	{ "snapshot", "--max-age", "1d", true, { NULL } },
	{ "prune", "--keep", "2", false,
	  { "dosnap-keeper-20240501T0330Z", "dosnap-keeper-20240401T0330Z" } },
	{ "prune", "--max-age", "1d", false, { NULL } },
};

START_TEST(test_retention)
{
	const struct retention_case *c = &retention_cases[_i];
	struct mock_config cfg;
	struct t t;
	struct tu_result res;
	size_t n_remain = 0;

	mu_config(&cfg, NULL);
	cfg.fixture_path = test_fixture("retention.json");
	t_start(&t, &cfg);
	ds(&t, &res, c->cmd, "--now", NOW, c->rule, c->value, "330000001", NULL);
	assert_exit(res, 0);
	while (n_remain < 4 && c->remain[n_remain] != NULL) {
		ck_assert_msg(count_named(t.m, KEEPER, c->remain[n_remain]) == 1,
		    "'%s' was deleted\n%s", c->remain[n_remain], res.err);
		n_remain++;
	}
	ck_assert_int_eq(count_named(t.m, KEEPER, "dosnap-keeper-" SLOT), c->new_snapshot);
	ck_assert_int_eq(count_prefixed(t.m, KEEPER, "dosnap-keeper-"),
	    (int)n_remain + c->new_snapshot);
	/* A backup and a snapshot the template does not match are never touched. */
	ck_assert_int_eq(count_named(t.m, KEEPER, "keeper-2023-12-31-backup"), 1);
	ck_assert_int_eq(count_named(t.m, KEEPER, "keeper-before-upgrade"), 1);
	assert_lacks(res.err, "keeper-before-upgrade");
	assert_lacks(res.err, "keeper-2023-12-31-backup");
	/* Nor another droplet's. */
	ck_assert_int_eq(n_images(t.m, NEIGHBOUR), 3);
	assert_has(res.err, "droplet 330000001 (keeper): deleting snapshot 180000001 "
	    "'dosnap-keeper-20240101T0330Z'");
	ck_assert_uint_eq(mock_request_count(t.m, "DELETE", "/v2/snapshots/*", 204),
	    5 - n_remain);
	tu_result_release(&res);
	t_stop(&t);
}
END_TEST

/* --- dry run ------------------------------------------------------------- */

/*
 * Every command that could change something, with --dry-run: only GETs
 * reach the mock, nothing changes, no state directory appears, and what
 * would have been done is said.  "@SCHEDULE" stands for the schedule file.
 */
static const struct dry_case {
	const char *cmd;
	const char *args[12];
	const char *say[4];
} dry_cases[] = {
	{ "snapshot",
	  { "--now", NOW, "--dry-run", "--keep", "1", "--volumes", "tag:web", "310000003",
	    "310000006" },
	  { "dry run: droplet 310000001 (web-1): would send shutdown",
	    "dry run: droplet 310000001 (web-1): would send snapshot 'dosnap-web-1-" SLOT "'",
	    "dry run: droplet 310000003 (db-primary): would snapshot volume " DB_VOLUME,
	    "dry run: droplet 310000003 (db-primary): would delete snapshot 170000103 "
	    "'dosnap-db-primary-2024-04-06T0300Z'" } },
	{ "run",
	  { "--dry-run", "-f", "@SCHEDULE", "--state-dir", "@STATE", "--now", NOW },
	  { "due: line 1 slot 2026-11-26T03:30:00+00:00",
	    "dry run: droplet 310000001 (web-1): would send shutdown",
	    "dry run: droplet 310000003 (db-primary): would snapshot volume " DB_VOLUME,
	    "dry run: droplet 310000003 (db-primary): would delete snapshot 170000103 "
	    "'dosnap-db-primary-2024-04-06T0300Z'" } },
	{ "prune",
	  { "--dry-run", "--max-age", "1d" },
	  { "dry run: droplet 310000003 (db-primary): would delete snapshot 170000103 "
	    "'dosnap-db-primary-2024-04-06T0300Z'" } },
};

START_TEST(test_dry_run)
{
	const struct dry_case *c = &dry_cases[_i];
	const char *args[13];
	struct t t;
	struct tu_result res;
	char what[300], *schedule, *all;
	size_t changing, i;

	t_start_fixture(&t, "demo.json");
	schedule = tu_write(t.dir, "schedule",
	    "30 3 * * *  tag:web 310000006  keep=1 volumes=yes\n"
	    "30 3 * * *  310000003          keep=1 volumes=yes\n");
	for (i = 0; i < 12 && c->args[i] != NULL; i++) {
		if (strcmp(c->args[i], "@SCHEDULE") == 0)
			args[i] = schedule;
		else if (strcmp(c->args[i], "@STATE") == 0)
			args[i] = t.state_dir;
		else
			args[i] = c->args[i];
	}
	args[i] = NULL;
	ds_argv(&t, &res, c->cmd, args);
	assert_exit(res, 0);
	changing = count_changing_requests(t.m, what, sizeof(what));
	ck_assert_msg(changing == 0, "%zu requests that change something, first: %s", changing,
	    what);
	ck_assert_uint_gt(mock_request_count(t.m, "GET", NULL, 200), 0);
	ck_assert_uint_eq(mock_action_count(t.m, 0, NULL, NULL), 0);
	assert_status(t.m, WEB1, "active");
	assert_status(t.m, OLDBOX, "off");
	ck_assert_int_eq(n_images(t.m, DB), 1);
	ck_assert_int_eq(mock_volume_snapshots(t.m, DB_VOLUME, NULL, 0), 1);
	ck_assert_msg(access(t.state_dir, F_OK) == -1, "a dry run made '%s'", t.state_dir);
	all = str_printf("%s%s", res.out, res.err);
	for (i = 0; i < 4 && c->say[i] != NULL; i++)
		assert_has(all, c->say[i]);
	assert_lacks(all, "droplet 310000006 (old-build-box): would send shutdown");
	assert_lacks(all, "deleting snapshot");
	free(all);
	free(schedule);
	tu_result_release(&res);
	t_stop(&t);
}
END_TEST

/* --- run with a schedule ------------------------------------------------- */

START_TEST(test_run_schedule)
{
	struct t t;
	struct tu_result res;
	char *schedule, *path = NULL;
	const char *argv[] = { "-f", NULL, "--state-dir", NULL, "--now", NOW, NULL };
	struct stat st;
	size_t requests;

	t_start_fixture(&t, "demo.json");
	schedule = tu_write(t.dir, "schedule",
	    "# the web servers at 03:30 UTC\n"
	    "30 3 * * *  tag:web  keep=7\n"
	    "0 4 * * *   name:db-primary\n");
	argv[1] = schedule;
	argv[3] = t.state_dir;
	ds_argv(&t, &res, "run", argv);
	assert_exit(res, 0);
	assert_one_slot_snapshot(t.m, WEB1);
	assert_one_slot_snapshot(t.m, WEB2);
	assert_one_slot_snapshot(t.m, STAGING);
	ck_assert_uint_eq(mock_action_count(t.m, DB, NULL, NULL), 0);	/* due at 04:00 */
	assert_row(res.out, "310000002 web-2", "ok");
	tu_result_release(&res);
	ck_assert_int_eq(state_path_for(t.state_dir, schedule, &path), 0);
	ck_assert_msg(stat(path, &st) == 0, "no state file '%s'", path);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);

	/* Later in the same minute: nothing due, not a request sent. */
	requests = mock_request_count(t.m, NULL, NULL, 0);
	argv[5] = "2026-11-26T03:30:50Z";
	ds_argv(&t, &res, "run", argv);
	assert_exit(res, 0);
	ck_assert_uint_eq(mock_request_count(t.m, NULL, NULL, 0), requests);
	assert_lacks(res.out, "DROPLET");
	assert_one_slot_snapshot(t.m, WEB1);
	ck_assert_int_eq(count_prefixed(t.m, WEB1, "dosnap-"), 1);
	tu_result_release(&res);
	free(path);
	free(schedule);
	t_stop(&t);
}
END_TEST

/*
 * A slot whose flow failed for good is recorded all the same: the next
 * minute does not try it again (the next slot will).
 */
START_TEST(test_run_failed_slot_not_retried)
{
	struct t t;
	struct tu_result res;
	char *schedule;
	const char *argv[] = { "-f", NULL, "--state-dir", NULL, "--now", NOW, NULL };
	size_t requests;

	t_start_fixture(&t, "demo.json");
	schedule = tu_write(t.dir, "schedule", "30 3 * * *  999999999 310000002\n");
	argv[1] = schedule;
	argv[3] = t.state_dir;
	ds_argv(&t, &res, "run", argv);
	assert_exit(res, 69);
	assert_has(res.err, "999999999 matches no droplet");
	assert_one_slot_snapshot(t.m, WEB2);
	tu_result_release(&res);

	requests = mock_request_count(t.m, NULL, NULL, 0);
	argv[5] = "2026-11-26T03:31:20Z";
	ds_argv(&t, &res, "run", argv);
	assert_exit(res, 0);
	ck_assert_uint_eq(mock_request_count(t.m, NULL, NULL, 0), requests);
	tu_result_release(&res);
	free(schedule);
	t_stop(&t);
}
END_TEST

/* --- what goes wrong before the flow ------------------------------------- */

START_TEST(test_unknown_droplet)
{
	struct t t;
	struct tu_result res;

	t_start_fixture(&t, "demo.json");
	ds(&t, &res, "snapshot", "--now", NOW, "999999999", "310000002", NULL);
	assert_exit(res, 69);
	assert_has(res.err, "999999999 matches no droplet");
	assert_has(res.out, "999999999");
	/* The other target is snapshotted all the same. */
	assert_one_slot_snapshot(t.m, WEB2);
	assert_status(t.m, WEB2, "active");
	assert_row(res.out, "310000002 web-2", "ok");
	tu_result_release(&res);
	t_stop(&t);
}
END_TEST

START_TEST(test_token_missing)
{
	static const char *const no_env[] = { NULL };
	struct t t;
	struct tu_result res;

	t_start_fixture(&t, "demo.json");
	t.env = no_env;
	ds(&t, &res, "snapshot", "--now", NOW, "310000001", NULL);
	assert_exit(res, 78);
	/* Where it looked. */
	assert_has(res.err, "--token-file");
	assert_has(res.err, "$DO_TOKEN");
	assert_has(res.err, "$DIGITALOCEAN_ACCESS_TOKEN");
	assert_has(res.err, "$CREDENTIALS_DIRECTORY");
	ck_assert_uint_eq(mock_request_count(t.m, NULL, NULL, 0), 0);
	tu_result_release(&res);
	t_stop(&t);
}
END_TEST

START_TEST(test_token_wrong)
{
	static const char *const wrong_env[] = { "DO_TOKEN=dop_v1_not-the-right-one", NULL };
	struct t t;
	struct tu_result res;

	t_start_fixture(&t, "demo.json");
	t.env = wrong_env;
	ds(&t, &res, "snapshot", "--now", NOW, "310000001", NULL);
	assert_exit(res, 77);
	assert_has(res.err, "401");
	assert_lacks(res.err, "not-the-right-one");
	ck_assert_uint_gt(mock_request_count(t.m, NULL, NULL, 401), 0);
	ck_assert_uint_eq(mock_action_count(t.m, 0, NULL, NULL), 0);
	tu_result_release(&res);
	t_stop(&t);
}
END_TEST

static const char *tree_needle;
static bool tree_found;

static int
tree_visit(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	char buf[65536];
	size_t n, i, nl = strlen(tree_needle);
	FILE *f;

	(void)ftw;
	if (flag != FTW_F || !S_ISREG(sb->st_mode))
		return 0;
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	ck_assert_int_eq(fclose(f), 0);
	for (i = 0; i + nl <= n; i++)
		if (memcmp(buf + i, tree_needle, nl) == 0)
			tree_found = true;
	return 0;
}

/* Whether any file under DIR holds NEEDLE (in its first 64 KiB). */
static bool
tree_contains(const char *dir, const char *needle)
{
	tree_needle = needle;
	tree_found = false;
	nftw(dir, tree_visit, 16, FTW_PHYS);
	return tree_found;
}

/*
 * The token is in no output even at -vvv, nor in the request log or the
 * state directory.  Loop row 0: from $DO_TOKEN; row 1: from --token-file;
 * row 2: JSON logs; row 3: every snapshot listing fails, so the run ends in
 * error messages (with HTTP statuses and request ids) too.
 */
START_TEST(test_token_never_shown)
{
	static const char secret[] =
	    "dop_v1_5e3c7a1f9b2d4e6f8a0c2e4f6a8b0d2f4e6a8c0e2a4c6e8f0b2d4f6a8c0e2a4c";
	struct mock_config cfg;
	struct mock_request rq;
	struct t t;
	struct tu_result res;
	char *token_file = NULL, *tf_arg = NULL;
	const char *argv[] = { "-v", "-v", "-v", "--now", NOW, "--keep", "1", NULL, NULL, NULL,
		NULL, NULL };
	size_t i, n = 7;

	mu_config(&cfg, "demo.json");
	cfg.token = secret;
	t_start(&t, &cfg);
	if (_i == 1) {
		static const char *const no_env[] = { NULL };

		token_file = tu_write(t.dir, "token", secret);
		ck_assert_int_eq(chmod(token_file, 0600), 0);
		tf_arg = str_printf("--token-file=%s", token_file);
		argv[n++] = tf_arg;
		t.env = no_env;
	}
	if (_i == 2)
		argv[n++] = "--log-format=json";
	if (_i == 3) {
		struct mock_fault fault;

		ck_assert_int_eq(mock_fault_parse("kind=503,path=/v2/droplets/*/snapshots", &fault), 0);
		ck_assert_int_eq(mock_add_fault(t.m, &fault), 0);
	}
	argv[n++] = "310000001";
	argv[n] = NULL;
	ds_argv(&t, &res, "snapshot", argv);
	if (_i == 3) {
		assert_exit(res, 75);
		assert_has(res.err, "503");
	} else {
		assert_exit(res, 0);
		assert_one_slot_snapshot(t.m, WEB1);
	}
	if (_i == 2)
		assert_has(res.err, "{\"time\":");
	/* -vvv did show the HTTP traffic, so the token had every chance to leak. */
	assert_has(res.err, "http:");
	ck_assert_msg(strstr(res.out, secret) == NULL, "token on stdout:\n%s", res.out);
	ck_assert_msg(strstr(res.err, secret) == NULL, "token on stderr:\n%s", res.err);
	ck_assert_msg(strstr(res.err, secret + 7) == NULL, "token's tail on stderr");
	for (i = 0; mock_request_get(t.m, i, &rq) == 0; i++) {
		ck_assert_msg(strstr(rq.path, secret + 7) == NULL, "token in request %zu", i);
		ck_assert_msg(strstr(rq.query, secret + 7) == NULL, "token in request %zu", i);
	}
	ck_assert_uint_gt(i, 0);
	/* Nor in what it keeps on disk (the intent journal). */
	ck_assert_int_eq(access(t.state_dir, F_OK), 0);
	ck_assert_msg(!tree_contains(t.state_dir, secret + 7), "token in '%s'", t.state_dir);
	tu_result_release(&res);
	free(tf_arg);
	free(token_file);
	t_stop(&t);
}
END_TEST

/* --- list ----------------------------------------------------------------- */

START_TEST(test_list)
{
	struct t t;
	struct tu_result res;
	cJSON *js, *it;
	bool seen_new = false, seen_old = false;

	t_start_fixture(&t, "demo.json");
	ds(&t, &res, "snapshot", "--now", NOW, "310000002", NULL);
	assert_exit(res, 0);
	tu_result_release(&res);

	ds(&t, &res, "list", NULL);
	assert_exit(res, 0);
	assert_has(res.out, "SNAPSHOT");
	assert_has(res.out, "dosnap-web-2-" SLOT);
	assert_has(res.out, "310000002 web-2");
	assert_has(res.out, "web-1-before-upgrade");
	/* Backups are not snapshots dosnap made or can list. */
	assert_lacks(res.out, "web-1-2024-04-07-backup");
	tu_result_release(&res);

	/* Filtered to one droplet. */
	ds(&t, &res, "list", "310000002", NULL);
	assert_exit(res, 0);
	assert_has(res.out, "dosnap-web-2-" SLOT);
	assert_lacks(res.out, "web-1-before-upgrade");
	tu_result_release(&res);

	ds(&t, &res, "list", "--json", NULL);
	assert_exit(res, 0);
	js = cJSON_Parse(res.out);
	ck_assert_msg(js != NULL && cJSON_IsArray(js), "not a JSON array:\n%s", res.out);
	cJSON_ArrayForEach(it, js) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
		const cJSON *did = cJSON_GetObjectItemCaseSensitive(it, "droplet_id");
		const cJSON *dname = cJSON_GetObjectItemCaseSensitive(it, "droplet_name");

		ck_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(it, "id")));
		ck_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(it, "created_at")));
		ck_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(it, "size_gigabytes")));
		ck_assert(cJSON_IsString(name) && cJSON_IsString(did) && cJSON_IsString(dname));
		if (strcmp(name->valuestring, "dosnap-web-2-" SLOT) == 0) {
			seen_new = true;
			ck_assert_str_eq(did->valuestring, "310000002");
			ck_assert_str_eq(dname->valuestring, "web-2");
		}
		if (strcmp(name->valuestring, "web-1-before-upgrade") == 0)
			seen_old = true;
	}
	ck_assert_msg(seen_new && seen_old, "snapshots missing from:\n%s", res.out);
	cJSON_Delete(js);
	tu_result_release(&res);
	t_stop(&t);
}
END_TEST

/* --- known bugs: these fail until dosnap is fixed ------------------------ */

/*
 * KNOWN BUG (src/flow.c, on_reply, case FS_RESTORE): a droplet whose
 * shutdown never finished was never off, yet the restore step reports
 * "active again (the service powered it on)".  step_shutdown() sets
 * f->powered_off before anything happened, so go_restore() looks the
 * droplet up and takes "active" for the service having powered it on.
 * A user reading the log believes the droplet went down and came back.
 */
START_TEST(test_never_off_not_reported_as_powered_on)
{
	struct t t;
	struct tu_result res;

	t_start_fixture(&t, "misbehave.json");
	ds(&t, &res, "snapshot", "--now", NOW, "--shutdown-timeout", "10s", "--timeout", "10s",
	    "320000004", NULL);
	assert_exit(res, 75);
	ck_assert_uint_eq(mock_action_count(t.m, STALLS, "power_on", NULL), 0);
	assert_lacks(res.err, "the service powered it on");
	tu_result_release(&res);
	t_stop(&t);
}
END_TEST

Suite *
flow_suite(void)
{
	Suite *s = suite_create("flow");
	TCase *tc = tcase_create("flow");
	TCase *bugs = tcase_create("regressions");

	tcase_set_timeout(tc, 60);
	tcase_set_timeout(bugs, 60);
	tcase_add_test(tc, test_one_droplet);
	tcase_add_test(tc, test_many_droplets);
	tcase_add_test(tc, test_tag);
	tcase_add_test(tc, test_live_mode);
	tcase_add_test(tc, test_ignores_shutdown);
	tcase_add_test(tc, test_already_off);
	tcase_add_test(tc, test_snapshot_errored);
	tcase_add_test(tc, test_timeout_snapshot_slow);
	tcase_add_test(tc, test_timeout_left_powered_off);
	tcase_add_test(tc, test_timeout_shutdown_stalls);
	tcase_add_loop_test(tc, test_after_snapshot, 0,
	    (int)(sizeof(after_cases) / sizeof(after_cases[0])));
	tcase_add_loop_test(tc, test_volumes, 0,
	    (int)(sizeof(volume_cases) / sizeof(volume_cases[0])));
	tcase_add_test(tc, test_rerun_same_slot);
	tcase_add_test(tc, test_two_runs_at_once);
	tcase_add_loop_test(tc, test_retention, 0,
	    (int)(sizeof(retention_cases) / sizeof(retention_cases[0])));
	tcase_add_loop_test(tc, test_dry_run, 0, (int)(sizeof(dry_cases) / sizeof(dry_cases[0])));
	tcase_add_test(tc, test_run_schedule);
	tcase_add_test(tc, test_run_failed_slot_not_retried);
	tcase_add_test(tc, test_unknown_droplet);
	tcase_add_test(tc, test_token_missing);
	tcase_add_test(tc, test_token_wrong);
	tcase_add_loop_test(tc, test_token_never_shown, 0, 4);
	tcase_add_test(tc, test_list);
	tcase_add_test(bugs, test_never_off_not_reported_as_powered_on);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, bugs);
	return s;
}
