/* check_recover: recovery of what a dead run left, through the real binary against the mock. */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dosnap/util.h"
#include "mockutil.h"
#include "suites.h"
#include "testutil.h"

#define NOW		"2026-11-26T03:30:20Z"
#define MAX_ARGS	32

/* demo.json */
#define WEB1		310000001

struct t {
	struct mock *m;
	char *dir;
	char *state_dir;
	char token_env[600];
};

static void
t_start(struct t *t, const struct mock_config *cfg)
{
	memset(t, 0, sizeof(*t));
	t->m = mu_start(cfg);
	t->dir = tu_mkdtemp();
	t->state_dir = str_printf("%s/state", t->dir);
	snprintf(t->token_env, sizeof(t->token_env), "DO_TOKEN=%s", mock_token(t->m));
}

static void
t_stop(struct t *t)
{
	mock_stop(t->m);
	tu_rmtree(t->dir);
	free(t->dir);
	free(t->state_dir);
}

/*
 * Run `dosnap CMD --api-url URL --state-dir DIR ARGS...` (ARGS ends with
 * NULL) with the token in the environment; `--time-scale 0.01` unless
 * ARGS gives one.
 */
static void
ds(struct t *t, struct tu_result *res, const char *cmd, ...)
{
	const char *argv[MAX_ARGS + 8];
	const char *env[] = { t->token_env, NULL };
	bool scaled = false;
	size_t n = 0;
	va_list ap;

	argv[n++] = cmd;
	argv[n++] = "--api-url";
	argv[n++] = mock_url(t->m);
	argv[n++] = "--state-dir";
	argv[n++] = t->state_dir;
	va_start(ap, cmd);
	while ((argv[n] = va_arg(ap, const char *)) != NULL) {
		scaled = scaled || strcmp(argv[n], "--time-scale") == 0;
		n++;
		ck_assert_uint_lt(n, MAX_ARGS);
	}
	va_end(ap);
	if (!scaled) {
		argv[n++] = "--time-scale";
		argv[n++] = "0.01";
	}
	argv[n] = NULL;
	tu_run_dosnap(argv, env, res);
}

#define assert_has(hay, needle) \
	ck_assert_msg(strstr((hay), (needle)) != NULL, "'%s' not in:\n%s", (needle), (hay))
#define assert_lacks(hay, needle) \
	ck_assert_msg(strstr((hay), (needle)) == NULL, "'%s' unexpectedly in:\n%s", (needle), (hay))
#define assert_exit(res, code) \
	ck_assert_msg((res).status == (code), "exit %d, want %d\nstdout:\n%s\nstderr:\n%s", \
	    (res).status, (code), (res).out, (res).err)

static void
assert_status(struct mock *m, int64_t id, const char *want)
{
	struct mock_droplet_info info;

	ck_assert_int_eq(mock_droplet_get(m, id, &info), 0);
	ck_assert_msg(strcmp(info.status, want) == 0, "droplet %" PRId64 " (%s) is %s, want %s",
	    id, info.name, info.status, want);
}

/*
 * Leave web-1 off with its snapshot still in progress, as a run that died
 * (or gave up) mid-snapshot does: the snapshot takes SNAPSHOT_S mock
 * seconds, the run gives up after 3 x 10 s.
 */
static void
leave_web1_off(struct t *t, unsigned snapshot_s)
{
	struct mock_config cfg;
	struct tu_result res;

	mu_config(&cfg, "demo.json");
	cfg.action_ms[MOCK_ACTION_SNAPSHOT] = snapshot_s * 1000;
	t_start(t, &cfg);
	ds(t, &res, "snapshot", "--now", NOW, "--timeout", "10s", "310000001", NULL);
	assert_exit(res, 75);
	assert_has(res.err, "LEFT POWERED OFF");
	tu_result_release(&res);
	assert_status(t->m, WEB1, "off");
	ck_assert_uint_eq(mock_action_count(t->m, WEB1, "snapshot", "in-progress"), 1);
}

/*
 * Recovery waits for a snapshot still in progress, then powers the droplet
 * on, as the README says.  Before, it said "waiting" and left it off until
 * some later invocation.
 */
START_TEST(test_waits_for_snapshot)
{
	struct t t;
	struct tu_result res;

	char *sched;

	leave_web1_off(&t, 200);	/* 2 s of real time */
	/* Nothing due: only recovery runs, and it is all the run does. */
	sched = tu_write(t.dir, "schedule", "0 4 * * * 310000006\n");
	ds(&t, &res, "run", "-f", sched, "--now", NOW, NULL);
	assert_status(t.m, WEB1, "active");
	assert_exit(res, 0);
	assert_has(res.err, "recovering 1 droplet");
	assert_has(res.err, "droplet 310000001 (web-1): action ");
	assert_has(res.err, "still in progress, and it cannot be powered on before that ends; "
	    "waiting for it, up to 360 min");
	assert_has(res.err, "powered back on");
	assert_status(t.m, WEB1, "active");
	ck_assert_uint_eq(mock_action_count(t.m, WEB1, "snapshot", "completed"), 1);
	ck_assert_uint_eq(mock_action_count(t.m, WEB1, "power_on", "completed"), 1);
	tu_result_release(&res);
	free(sched);
	t_stop(&t);
}
END_TEST

/*
 * The wait is bounded: a snapshot that outlasts it (--time-scale 0.0001
 * makes 6 h 2.2 s) leaves the record for the next run, says so and exits
 * 75; and the deadline holds while every poll of the action fails.
 */
START_TEST(test_wait_bounded)
{
	/* After the first look, every poll of the action answers 503. */
	struct mock_fault f = { .method = "GET", .path = "/v2/actions/*",
		.kind = MOCK_FAULT_HTTP_503, .after = 1 };
	struct t t;
	struct tu_result res;
	int64_t t0;
	int round;

	char *sched;

	leave_web1_off(&t, 100000);	/* 1,000 s of real time */
	/* Nothing due: only recovery runs. */
	sched = tu_write(t.dir, "schedule", "0 4 * * * 310000006\n");
	for (round = 0; round < 2; round++) {
		if (round == 1)
			ck_assert_int_eq(mock_add_fault(t.m, &f), 0);
		t0 = clock_mono_ms();
		ds(&t, &res, "run", "-f", sched, "--now", NOW, "--time-scale", "0.0001", NULL);
		assert_exit(res, 75);
		ck_assert_msg(clock_mono_ms() - t0 < 30000, "round %d took %" PRId64 " ms", round,
		    clock_mono_ms() - t0);
		assert_has(res.err, "waiting for it, up to 360 min");
		if (round == 0)
			assert_has(res.err, "still in progress after waiting 21600 s for it; the next "
			    "run powers it on once it ends");
		else
			assert_has(res.err, "503");
		assert_status(t.m, WEB1, "off");
		ck_assert_uint_eq(mock_action_count(t.m, WEB1, "power_on", NULL), 0);
		tu_result_release(&res);
		/* The record stays for the next run. */
		mock_clear_faults(t.m);
		{
			const char *argv[] = { "status", "--state-dir", t.state_dir, "--api-url",
				mock_url(t.m), NULL };
			const char *env[] = { t.token_env, NULL };

			tu_run_dosnap(argv, env, &res);
		}
		assert_has(res.out, "intent journal: 1 open record");
		tu_result_release(&res);
	}
	free(sched);
	t_stop(&t);
}
END_TEST

/*
 * A read-only state directory with an open journal record: recovery only
 * needs to read the journal, so the droplet is powered on first; then the
 * run says the journal cannot be updated and exits 73.  Before, `run` and
 * `snapshot` exited 73 at once and the droplet stayed off.  The directory is
 * made read-only in a mount namespace of the child (unshare(1)); where that
 * is not allowed the test says so and checks nothing.
 */
static const char *const ro_cmds[] = { "run", "snapshot" };

START_TEST(test_readonly_state_dir)
{
	static const char script[] = "mount --bind \"$0\" \"$0\" && "
	    "mount -o remount,bind,ro \"$0\" \"$0\" || exit 99; exec \"$@\"";
	const char *argv[40];
	const char *env[] = { NULL, NULL };
	char *jdir, *sched = NULL;
	struct mock_config cfg;
	struct t t;
	struct tu_result res;
	size_t n = 0;

	if (access("/usr/bin/unshare", X_OK) != 0) {
		fprintf(stderr, "test_readonly_state_dir: no /usr/bin/unshare; not tested\n");
		return;
	}
	mu_config(&cfg, "demo.json");
	t_start(&t, &cfg);
	env[0] = t.token_env;
	ck_assert_int_eq(mkdir(t.state_dir, 0700), 0);
	jdir = str_printf("%s/journal", t.state_dir);
	ck_assert_int_eq(mkdir(jdir, 0700), 0);
	free(tu_write(jdir, ".lock", ""));
	free(tu_write(jdir, "310000001.intent", "dosnap-intent 1\ndroplet 310000001\n"
	    "name web-1\nwas-active 1\nslot 1795663800\nsnapshot dosnap-web-1-20261126T0330Z\n"
	    "action 0\nwritten 1795663830\n"));
	ck_assert_int_eq(mock_droplet_set_status(t.m, WEB1, "off"), 0);

	argv[n++] = "-m";
	argv[n++] = "--propagation";
	argv[n++] = "private";
	if (geteuid() != 0)
		argv[n++] = "-r";	/* a user namespace of our own, where mounting is allowed */
	argv[n++] = "sh";
	argv[n++] = "-c";
	argv[n++] = script;
	argv[n++] = t.state_dir;	/* $0 */
	argv[n++] = tu_dosnap_bin();
	argv[n++] = ro_cmds[_i];
	argv[n++] = "--api-url";
	argv[n++] = mock_url(t.m);
	argv[n++] = "--state-dir";
	argv[n++] = t.state_dir;
	argv[n++] = "--time-scale";
	argv[n++] = "0.01";
	argv[n++] = "--now";
	argv[n++] = NOW;
	if (strcmp(ro_cmds[_i], "run") == 0) {
		sched = tu_write(t.dir, "schedule", "30 3 * * * 310000006\n");
		argv[n++] = "-f";
		argv[n++] = sched;
	} else {
		argv[n++] = "310000006";
	}
	argv[n] = NULL;
	tu_run("/usr/bin/unshare", argv, env, &res);
	if (res.status == 99 || (res.status == 1 && strstr(res.err, "unshare") != NULL)) {
		fprintf(stderr, "test_readonly_state_dir: cannot make a read-only mount here (%s); "
		    "not tested\n", res.err);
	} else {
		/* Power first ... */
		assert_status(t.m, WEB1, "active");
		ck_assert_uint_eq(mock_action_count(t.m, WEB1, "power_on", "completed"), 1);
		assert_has(res.err, "droplet 310000001 (web-1)");
		assert_has(res.err, "powered back on");
		/* ... then the journal that cannot be updated, and nothing else. */
		assert_has(res.err, "310000001.intent' cannot be removed (Read-only file system)");
		assert_has(res.err, "Read-only file system");
		assert_has(res.err, "remount it read-write");
		assert_exit(res, 73);
		ck_assert_uint_eq(mock_action_count(t.m, 310000006, NULL, NULL), 0);
	}
	tu_result_release(&res);
	free(sched);
	free(jdir);
	t_stop(&t);
}
END_TEST

/*
 * A FIFO named like a record in journal/ never blocks a run (timeout(1)
 * turns a hang into exit 124): it is a damaged record, named in the log,
 * and recovery looks at its droplet all the same.
 */
START_TEST(test_fifo_record)
{
	const char *env[] = { NULL, NULL };
	const char *argv[] = { "20", tu_dosnap_bin(), "run", "-f", NULL, "--api-url", NULL,
		"--state-dir", NULL, "--time-scale", "0.01", "--now", NOW, NULL };
	char *jdir, *fifo, *sched;
	struct mock_config cfg;
	struct tu_result res;
	struct stat st;
	struct t t;

	mu_config(&cfg, "demo.json");
	t_start(&t, &cfg);
	env[0] = t.token_env;
	ck_assert_int_eq(mkdir(t.state_dir, 0700), 0);
	jdir = str_printf("%s/journal", t.state_dir);
	ck_assert_int_eq(mkdir(jdir, 0700), 0);
	fifo = str_printf("%s/310000001.intent", jdir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	sched = tu_write(t.dir, "schedule", "0 4 * * * 310000006\n");
	argv[4] = sched;
	argv[6] = mock_url(t.m);
	argv[8] = t.state_dir;
	{
		/*
		 * `status` shows it, and why it cannot be read (with a schedule it
		 * can read: without one, `status` exits 66 after the journal).
		 */
		const char *sargv[] = { "20", tu_dosnap_bin(), "status", "-f", sched, "--state-dir",
			t.state_dir, "--api-url", mock_url(t.m), NULL };

		tu_run("/usr/bin/timeout", sargv, env, &res);
		assert_exit(res, 0);
		assert_has(res.out, "droplet 310000001 (its record cannot be read: it is not a "
		    "regular file");
		tu_result_release(&res);
	}
	tu_run("/usr/bin/timeout", argv, env, &res);
	assert_exit(res, 0);
	assert_has(res.err, "recovery: droplet 310000001, whose journal record '");
	assert_has(res.err, "310000001.intent' cannot be read (it is not a regular file");
	assert_has(res.err, "active, as before; nothing to do");
	ck_assert_int_eq(lstat(fifo, &st), -1);		/* dealt with */
	assert_status(t.m, WEB1, "active");
	tu_result_release(&res);
	free(sched);
	free(fifo);
	free(jdir);
	t_stop(&t);
}
END_TEST

/*
 * Out of memory in recovery's bookkeeping is never silent: when the list
 * of droplets recovery left off cannot be allocated, the run says so and
 * exits 71 (before, the list was dropped without a word and the run went
 * on).  An LD_PRELOAD shim fails calloc(13, 8), the list for 13 records;
 * not under the sanitizers, whose allocator the shim would bypass.
 */
START_TEST(test_oom_bookkeeping)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	fprintf(stderr, "test_oom_bookkeeping: not under a sanitizer\n");
#else
	const char *bin = tu_dosnap_bin(), *slash = strrchr(bin, '/');
	const char *env[] = { NULL, NULL, "DOSNAP_FAIL_CALLOC=13,8", NULL };
	char *shim, *preload, *jdir, *sched;
	struct mock_config cfg;
	struct tu_result res;
	struct t t;
	int i;

	shim = str_printf("%.*s/failcalloc.so", slash != NULL ? (int)(slash - bin) : 1,
	    slash != NULL ? bin : ".");
	ck_assert_msg(access(shim, R_OK) == 0, "no shim '%s' (make build/failcalloc.so)", shim);
	preload = str_printf("LD_PRELOAD=%s", shim);
	mu_config(&cfg, "demo.json");
	t_start(&t, &cfg);
	env[0] = t.token_env;
	env[1] = preload;
	ck_assert_int_eq(mkdir(t.state_dir, 0700), 0);
	jdir = str_printf("%s/journal", t.state_dir);
	ck_assert_int_eq(mkdir(jdir, 0700), 0);
	for (i = 0; i < 13; i++) {
		char name[64], *text;

		/* Droplets that no longer exist: recovery forgets them at once. */
		snprintf(name, sizeof(name), "%d.intent", 990000 + i);
		text = str_printf("dosnap-intent 1\ndroplet %d\nname gone-%d\nwas-active 1\n"
		    "slot 1795663800\nsnapshot s\naction 0\nwritten 1795663830\n", 990000 + i, i);
		free(tu_write(jdir, name, text));
		free(text);
	}
	sched = tu_write(t.dir, "schedule", "0 4 * * * 310000006\n");
	{
		const char *argv[] = { "run", "-f", sched, "--api-url", mock_url(t.m),
			"--state-dir", t.state_dir, "--time-scale", "0.01", "--now", NOW, NULL };

		tu_run_dosnap(argv, env, &res);
	}
	assert_exit(res, 71);
	assert_has(res.err, "recovering 13 droplets");
	assert_has(res.err, "out of memory: cannot keep the list of the droplets recovery left "
	    "off");
	tu_result_release(&res);
	free(sched);
	free(jdir);
	free(preload);
	free(shim);
	t_stop(&t);
#endif
}
END_TEST

/*
 * A stop signal ends the wait for a snapshot at once (systemd's stop must
 * not wait hours): timeout(1) sends SIGTERM 2 s into a wait of up to 6 h
 * (216 s here); the run exits 75 within seconds and the record stays.
 */
START_TEST(test_wait_stopped)
{
	const char *env[] = { NULL, NULL };
	const char *argv[] = { "--preserve-status", "-s", "TERM", "2", tu_dosnap_bin(), "run",
		"-f", NULL, "--api-url", NULL, "--state-dir", NULL, "--time-scale", "0.01",
		"--now", NOW, NULL };
	struct tu_result res;
	char *sched;
	int64_t t0;
	struct t t;

	leave_web1_off(&t, 100000);
	env[0] = t.token_env;
	sched = tu_write(t.dir, "schedule", "0 4 * * * 310000006\n");
	argv[7] = sched;
	argv[9] = mock_url(t.m);
	argv[11] = t.state_dir;
	t0 = clock_mono_ms();
	tu_run("/usr/bin/timeout", argv, env, &res);
	assert_exit(res, 75);
	ck_assert_msg(clock_mono_ms() - t0 < 20000, "took %" PRId64 " ms", clock_mono_ms() - t0);
	assert_has(res.err, "waiting for it, up to 360 min");
	assert_has(res.err, "stopped by a signal while action ");
	assert_has(res.err, "the next run powers it on once it ends");
	assert_status(t.m, WEB1, "off");
	tu_result_release(&res);
	free(sched);
	t_stop(&t);
}
END_TEST

/*
 * A 404 on the recorded snapshot action says nothing of the droplet: it is
 * looked into (the droplet's own actions, then the droplet), not taken for
 * a droplet that is gone.  Before, the record was dropped and the droplet
 * left off for good.
 */
START_TEST(test_action_404_not_gone)
{
	struct mock_config cfg;
	struct tu_result res;
	char *jdir, *sched;
	struct t t;

	mu_config(&cfg, "demo.json");
	t_start(&t, &cfg);
	ck_assert_int_eq(mkdir(t.state_dir, 0700), 0);
	jdir = str_printf("%s/journal", t.state_dir);
	ck_assert_int_eq(mkdir(jdir, 0700), 0);
	free(tu_write(jdir, "310000001.intent", "dosnap-intent 1\ndroplet 310000001\n"
	    "name web-1\nwas-active 1\nslot 1795663800\nsnapshot dosnap-web-1-20261126T0330Z\n"
	    "action 987654321\nwritten 1795663830\n"));
	ck_assert_int_eq(mock_droplet_set_status(t.m, WEB1, "off"), 0);
	sched = tu_write(t.dir, "schedule", "0 4 * * * 310000006\n");
	ds(&t, &res, "run", "-f", sched, "--now", NOW, NULL);
	assert_status(t.m, WEB1, "active");
	assert_exit(res, 0);
	assert_has(res.err, "powered back on");
	assert_lacks(res.err, "no longer exists");
	tu_result_release(&res);
	free(sched);
	free(jdir);
	t_stop(&t);
}
END_TEST

Suite *
recover_suite(void)
{
	Suite *s = suite_create("recover");
	TCase *tc = tcase_create("recover");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_waits_for_snapshot);
	tcase_add_test(tc, test_wait_bounded);
	tcase_add_test(tc, test_wait_stopped);
	tcase_add_loop_test(tc, test_readonly_state_dir, 0, 2);
	tcase_add_test(tc, test_fifo_record);
	tcase_add_test(tc, test_action_404_not_gone);
	tcase_add_test(tc, test_oom_bookkeeping);
	suite_add_tcase(s, tc);
	return s;
}
