/* check_metrics: the Prometheus metrics file: escaping, what it holds, when it is written, and promtool's verdict. */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dosnap/metrics.h"
#include "dosnap/schedule.h"
#include "dosnap/state.h"
#include "dosnap/util.h"
#include "mockutil.h"
#include "suites.h"
#include "testutil.h"

#define WEB2	310000002

#define assert_exit(res, code) \
	ck_assert_msg((res).status == (code), "exit %d, want %d\nstdout:\n%s\nstderr:\n%s", \
	    (res).status, (code), (res).out, (res).err)
#define assert_has(hay, needle) \
	ck_assert_msg(strstr((hay), (needle)) != NULL, "'%s' not in:\n%s", (needle), (hay))
#define assert_lacks(hay, needle) \
	ck_assert_msg(strstr((hay), (needle)) == NULL, "'%s' in:\n%s", (needle), (hay))

/*
 * promtool's path, or NULL when it is not installed: then the checks that
 * need it skip with a line, except under CI=true, where CI installs it
 * (Debian's prometheus package) and its absence is a failure.
 */
static const char *
promtool(void)
{
	static const char *const dirs[] = { "/usr/bin", "/usr/local/bin", "/bin" };
	static char path[256];
	const char *ci = getenv("CI");
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/promtool", dirs[i]);
		if (access(path, X_OK) == 0)
			return path;
	}
	ck_assert_msg(ci == NULL || strcmp(ci, "true") != 0,
	    "promtool is not installed, and CI=true needs it (apt-get install prometheus)");
	fprintf(stderr, "check_metrics: promtool is not installed; not validating with it\n");
	return NULL;
}

/* `promtool check metrics` on the file at PATH (it reads standard input). */
static void
assert_promtool_ok(const char *path)
{
	const char *tool = promtool();
	struct tu_result res;
	char *script;

	if (tool == NULL)
		return;
	script = str_printf("exec '%s' check metrics < '%s'", tool, path);
	{
		const char *argv[] = { "-c", script, NULL };

		tu_run("/bin/sh", argv, NULL, &res);
	}
	ck_assert_msg(res.status == 0, "promtool check metrics failed on '%s':\n%s%s", path,
	    res.out, res.err);
	tu_result_release(&res);
	free(script);
}

static char *
slurp(const char *path)
{
	char *text = NULL;
	size_t len;

	ck_assert_msg(read_file_capped(path, METRICS_MAX_BYTES, &text, &len) == 0,
	    "cannot read '%s'", path);
	return text;
}

/* --- escaping and rendering ----------------------------------------------- */

START_TEST(test_escape)
{
	char out[64];

	ck_assert_str_eq(metrics_escape("web-1", out, sizeof(out)), "web-1");
	ck_assert_str_eq(metrics_escape("a\"b\\c\nd", out, sizeof(out)), "a\\\"b\\\\c\\nd");
	/* Cut to fit, never half an escape. */
	ck_assert_str_eq(metrics_escape("ab\"", out, 4), "ab");
	ck_assert_str_eq(metrics_escape("abcdef", out, 4), "abc");
}
END_TEST

START_TEST(test_render)
{
	struct sched_diags d = { 0 };
	struct schedule *s = NULL;
	struct state st;
	struct state_entry *se;
	struct state_droplet *dr;
	static const char sched[] =
	    "30 3 * * *  tag:web  keep=7 name=x-{name}-{slot}\n"
	    "30 3 * * *  tag:web  keep=7 name=x-{name}-{slot}\n";	/* the same entry twice */
	char *text = NULL, *dir = tu_mkdtemp(), *path = str_printf("%s/m.prom", dir);
	size_t len;

	setenv("TZ", "UTC", 1);
	ck_assert_int_eq(schedule_parse(sched, sizeof(sched) - 1, &s, &d), 0);
	state_init(&st);
	se = state_get(&st, s->entries[0].id);
	se->slot = 1795663800;
	se->last_ok = 1795577400;
	se->result = 75;
	dr = state_droplet_get(se, WEB2);
	dr->slot = se->slot;
	dr->outcome = STATE_OUTCOME_PASSING;
	dr->next_retry = 1795663920;
	dr->last_attempt = 1795663830;
	dr->last_success = 1795577430;
	dr->duration_ms = 4321;
	dr->taken = 12;
	dr->deleted = 5;
	snprintf(dr->name, sizeof(dr->name), "we\"b\\2");
	*state_counter(&st, METRICS_C_REQUESTS) = 1234;
	ck_assert_int_eq(metrics_render(s, &st, 1795663900, true, &text, &len), 0);
	ck_assert_uint_eq(strlen(text), len);
#define LBL "{line=\"1\",entry=\"30 3 * * *  tag:web  keep=7 name=x-{name}-{slot}\""
#define DLBL LBL ",droplet_id=\"310000002\",droplet=\"we\\\"b\\\\2\"}"
	assert_has(text, "# TYPE dosnap_entry_last_success_timestamp_seconds gauge\n"
	    "dosnap_entry_last_success_timestamp_seconds" LBL "} 1795577400\n");
	assert_has(text, "dosnap_entry_last_result" LBL "} 75\n");
	assert_has(text, "dosnap_droplet_next_retry_timestamp_seconds" DLBL " 1795663920\n");
	assert_has(text, "dosnap_droplet_last_duration_seconds" DLBL " 4.321\n");
	assert_has(text, "dosnap_droplet_last_attempt_success" DLBL " 0\n");
	assert_has(text, "# TYPE dosnap_snapshots_taken_total counter\n"
	    "dosnap_snapshots_taken_total" DLBL " 12\n");
	assert_has(text, "dosnap_snapshots_deleted_total" DLBL " 5\n");
	assert_has(text, "dosnap_api_requests_total 1234\n");
	assert_has(text, "dosnap_api_rate_limited_total 0\n");
	assert_lacks(text, "dosnap_api_ratelimit_remaining ");	/* never heard */
	assert_lacks(text, "line=\"2\"");			/* one series per entry */
	free(text);
	/* Without retries (snapshot, prune) there is no next retry. */
	ck_assert_int_eq(metrics_render(s, &st, 1795663900, false, &text, &len), 0);
	assert_lacks(text, "dosnap_droplet_next_retry_timestamp_seconds{");
	free(text);
	ck_assert_int_eq(metrics_write(path, s, &st, 1795663900, true), 0);
	assert_promtool_ok(path);
	state_release(&st);
	schedule_free(s);
	sched_diags_release(&d);
	tu_rmtree(dir);
	free(path);
	free(dir);
}
END_TEST

/*
 * The text is capped at METRICS_MAX_BYTES: an entry with a long line and
 * two thousand droplets (six samples of 4 KiB each) is -EFBIG, and nothing
 * is handed back.
 */
START_TEST(test_render_cap)
{
	struct sched_entry e;
	struct schedule s;
	struct state st;
	struct state_entry *se;
	char *text = (char *)"untouched";
	size_t len = 7, i;
	int64_t id;

	memset(&e, 0, sizeof(e));
	memset(&s, 0, sizeof(s));
	e.line = 1;
	e.id = 42;
	e.text = malloc(SCHED_MAX_LINE + 1);
	ck_assert_ptr_nonnull(e.text);
	memset(e.text, 'x', SCHED_MAX_LINE);
	e.text[SCHED_MAX_LINE] = '\0';
	s.entries = &e;
	s.n_entries = 1;
	state_init(&st);
	se = state_get(&st, 42);
	ck_assert_ptr_nonnull(se);
	for (id = 1; id <= 2000; id++) {
		struct state_droplet *d = state_droplet_get(se, id);

		ck_assert_ptr_nonnull(d);
		d->last_attempt = d->last_success = 1795663800;
	}
	ck_assert_int_eq(metrics_render(&s, &st, 1795663860, true, &text, &len), -EFBIG);
	ck_assert_str_eq(text, "untouched");
	ck_assert_uint_eq(len, 7);
	/* A hundred droplets fit. */
	for (i = 0; i < 1900; i++)
		se->n_droplets--;
	ck_assert_int_eq(metrics_render(&s, &st, 1795663860, true, &text, &len), 0);
	ck_assert_uint_gt(len, 100 * 6 * SCHED_MAX_LINE);
	ck_assert_uint_lt(len, METRICS_MAX_BYTES);
	free(text);
	state_release(&st);
	free(e.text);
}
END_TEST

/* The man page's example alert rule is one promtool accepts. */
START_TEST(test_alert_rule_in_man)
{
	char *man = NULL, *dir, *path, *start, *end, manpath[4096];
	const char *tool;
	struct tu_result res;
	size_t len;

	snprintf(manpath, sizeof(manpath), "%s/src/man/dosnap.1", tu_srcdir());
	ck_assert_int_eq(read_file_capped(manpath, 1 << 20, &man, &len), 0);
	start = strstr(man, "groups:\n");
	ck_assert_ptr_nonnull(start);
	end = strstr(start, ".Ed\n");
	ck_assert_ptr_nonnull(end);
	*end = '\0';
	ck_assert_ptr_nonnull(strstr(start, "26 * 3600"));
	tool = promtool();
	if (tool == NULL) {
		free(man);
		return;
	}
	dir = tu_mkdtemp();
	path = tu_write(dir, "rules.yml", start);
	{
		const char *argv[] = { "check", "rules", path, NULL };

		tu_run(tool, argv, NULL, &res);
	}
	ck_assert_msg(res.status == 0, "promtool check rules fails on the man page's rule:\n%s\n"
	    "%s%s", start, res.out, res.err);
	tu_result_release(&res);
	tu_rmtree(dir);
	free(path);
	free(dir);
	free(man);
}
END_TEST

/* --- the real binary ----------------------------------------------------- */

struct t {
	struct mock *m;
	char *dir, *state_dir, *schedule, *prom;
	char token_env[600];
};

static void
t_start(struct t *t, const char *schedule)
{
	struct mock_config cfg;

	memset(t, 0, sizeof(*t));
	mu_config(&cfg, "demo.json");
	t->m = mu_start(&cfg);
	t->dir = tu_mkdtemp();
	t->state_dir = str_printf("%s/state", t->dir);
	t->schedule = tu_write(t->dir, "schedule", schedule);
	t->prom = str_printf("%s/textfile/dosnap.prom", t->dir);
	{
		/* node_exporter's textfile directory, as a test sees it. */
		char *td = str_printf("%s/textfile", t->dir);

		ck_assert_int_eq(mkdir(td, 0755), 0);
		free(td);
	}
	snprintf(t->token_env, sizeof(t->token_env), "DO_TOKEN=%s", mock_token(t->m));
}

static void
t_stop(struct t *t)
{
	mock_stop(t->m);
	tu_rmtree(t->dir);
	free(t->dir);
	free(t->state_dir);
	free(t->schedule);
	free(t->prom);
}

/* `dosnap CMD --state-dir DIR --now NOW --api-url URL --time-scale 0.01 ARGS...`. */
static void
ds(struct t *t, struct tu_result *res, const char *extra_env, const char *cmd,
    const char *now, ...)
{
	const char *argv[32];
	const char *env[] = { t->token_env, extra_env, NULL };
	const char *a;
	size_t n = 0;
	va_list ap;

	argv[n++] = cmd;
	argv[n++] = "--state-dir";
	argv[n++] = t->state_dir;
	argv[n++] = "--now";
	argv[n++] = now;
	argv[n++] = "--api-url";
	argv[n++] = mock_url(t->m);
	argv[n++] = "--time-scale";
	argv[n++] = "0.01";
	va_start(ap, now);
	while ((a = va_arg(ap, const char *)) != NULL && n < 31)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	tu_run_dosnap(argv, env, res);
}

static void
add_fault(struct mock *m, const char *spec)
{
	struct mock_fault f;

	ck_assert_int_eq(mock_fault_parse(spec, &f), 0);
	ck_assert_int_eq(mock_add_fault(m, &f), 0);
}

/*
 * An outage at the slot, a retry that succeeds: the file says so at each
 * step, its counters grow across runs, and promtool accepts it.
 */
START_TEST(test_run_outage_and_retry)
{
	struct t t;
	struct tu_result res;
	char *text, *again;
	struct stat before, after;

	mode_t mask;

	t_start(&t, "30 3 * * *  310000002\n");
	add_fault(t.m, "kind=503,method=POST");
	mask = umask(077);	/* as under the example unit's UMask= */
	ds(&t, &res, NULL, "run", "2026-11-26T03:30:20Z", "-f", t.schedule, "--metrics-file",
	    t.prom, NULL);
	umask(mask);
	assert_exit(res, 75);
	tu_result_release(&res);
	text = slurp(t.prom);
	assert_has(text, "dosnap_droplet_last_attempt_success{line=\"1\",entry=\"30 3 * * *  "
	    "310000002\",droplet_id=\"310000002\",droplet=\"web-2\"} 0\n");
	assert_has(text, "dosnap_droplet_next_retry_timestamp_seconds{line=\"1\",entry=\"30 3 * * "
	    "*  310000002\",droplet_id=\"310000002\",droplet=\"web-2\"} 1795663860\n");
	assert_has(text, "dosnap_entry_last_result{line=\"1\",entry=\"30 3 * * *  310000002\"} 75\n");
	assert_lacks(text, "dosnap_entry_last_success_timestamp_seconds{");
	assert_has(text, "dosnap_api_retries_total ");
	assert_lacks(text, "dosnap_api_requests_total 0\n");
	assert_promtool_ok(t.prom);
	free(text);
	/* Readable by the collector's user, whatever the umask. */
	ck_assert_int_eq(stat(t.prom, &before), 0);
	ck_assert_uint_eq(before.st_mode & 0777, 0644);

	/* A quiet minute leaves the file alone. */
	ck_assert_int_eq(stat(t.prom, &before), 0);
	text = slurp(t.prom);
	ds(&t, &res, NULL, "run", "2026-11-26T03:30:50Z", "-f", t.schedule, "--metrics-file",
	    t.prom, NULL);
	assert_exit(res, 0);
	tu_result_release(&res);
	again = slurp(t.prom);
	ck_assert_str_eq(again, text);
	ck_assert_int_eq(stat(t.prom, &after), 0);
	ck_assert_int_eq(before.st_ino, after.st_ino);
	free(again);
	free(text);

	/* The retry succeeds: the file says so, by way of the environment this time. */
	mock_clear_faults(t.m);
	{
		char env[4200];

		snprintf(env, sizeof(env), "DOSNAP_METRICS_FILE=%s", t.prom);
		ds(&t, &res, env, "run", "2026-11-26T03:31:10Z", "-f", t.schedule, NULL);
	}
	assert_exit(res, 0);
	tu_result_release(&res);
	text = slurp(t.prom);
	assert_has(text, "dosnap_entry_last_success_timestamp_seconds{line=\"1\",entry=\"30 3 * * "
	    "*  310000002\"} 1795663800\n");
	assert_has(text, "droplet=\"web-2\"} 1\n");
	assert_has(text, "dosnap_snapshots_taken_total{line=\"1\",entry=\"30 3 * * *  310000002\","
	    "droplet_id=\"310000002\",droplet=\"web-2\"} 1\n");
	assert_has(text, "dosnap_slot_retries_total 1\n");
	assert_lacks(text, "dosnap_droplet_next_retry_timestamp_seconds{");
	assert_has(text, "dosnap_api_ratelimit_remaining ");
	assert_promtool_ok(t.prom);
	free(text);
	t_stop(&t);
}
END_TEST

/* snapshot and prune write theirs too, with counters that survive across invocations. */
START_TEST(test_snapshot_and_prune)
{
	struct t t;
	struct tu_result res;
	char *text;

	t_start(&t, "");
	ds(&t, &res, NULL, "snapshot", "2026-11-26T03:30:20Z", "310000002", "--keep", "1",
	    "--metrics-file", t.prom, NULL);
	assert_exit(res, 0);
	tu_result_release(&res);
	ds(&t, &res, NULL, "snapshot", "2026-11-26T03:31:20Z", "310000002", "--keep", "1",
	    "--metrics-file", t.prom, NULL);
	assert_exit(res, 0);
	tu_result_release(&res);
	text = slurp(t.prom);
	assert_has(text, "dosnap_snapshots_taken_total{line=\"1\",entry=\"* * * * * 310000002 "
	    "keep=1\",droplet_id=\"310000002\",droplet=\"web-2\"} 2\n");
	assert_has(text, "dosnap_snapshots_deleted_total{line=\"1\",entry=\"* * * * * 310000002 "
	    "keep=1\",droplet_id=\"310000002\",droplet=\"web-2\"} 1\n");
	assert_promtool_ok(t.prom);
	free(text);
	/* A dry run writes nothing. */
	ck_assert_int_eq(unlink(t.prom), 0);
	ds(&t, &res, NULL, "prune", "2026-11-26T03:32:20Z", "310000002", "--keep", "1",
	    "--dry-run", "--metrics-file", t.prom, NULL);
	assert_exit(res, 0);
	tu_result_release(&res);
	ck_assert_int_eq(access(t.prom, F_OK), -1);
	t_stop(&t);
}
END_TEST

/* A metrics file that cannot be written is a warning: the backup goes on and succeeds. */
START_TEST(test_unwritable)
{
	struct t t;
	struct tu_result res;
	char *bad;

	t_start(&t, "30 3 * * *  310000002\n");
	bad = str_printf("%s/no-such-dir/dosnap.prom", t.dir);
	ds(&t, &res, NULL, "run", "2026-11-26T03:30:20Z", "-f", t.schedule, "--metrics-file", bad,
	    NULL);
	assert_exit(res, 0);
	assert_has(res.err, "cannot write the metrics file '");
	assert_has(res.err, "the backups are not affected");
	tu_result_release(&res);
	ds(&t, &res, NULL, "run", "2026-11-26T03:30:20Z", "-f", t.schedule, "--metrics-file", "",
	    NULL);
	assert_exit(res, 64);
	tu_result_release(&res);
	free(bad);
	t_stop(&t);
}
END_TEST

Suite *
metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *unit = tcase_create("unit");
	TCase *e2e = tcase_create("e2e");

	tcase_add_test(unit, test_escape);
	tcase_add_test(unit, test_render);
	tcase_add_test(unit, test_render_cap);
	tcase_add_test(unit, test_alert_rule_in_man);
	tcase_set_timeout(e2e, 60);
	tcase_add_test(e2e, test_run_outage_and_retry);
	tcase_add_test(e2e, test_snapshot_and_prune);
	tcase_add_test(e2e, test_unwritable);
	suite_add_tcase(s, unit);
	suite_add_tcase(s, e2e);
	return s;
}
