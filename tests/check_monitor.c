/* check_monitor: `dosnap status --monitor` through the real binary: each state, its exit code and its line. */
#include <check.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dosnap/journal.h"
#include "dosnap/schedule.h"
#include "dosnap/state.h"
#include "dosnap/util.h"
#include "mockutil.h"
#include "suites.h"
#include "testutil.h"

#define SLOT0	INT64_C(1795663800)	/* 2026-11-26T03:30:00Z */
#define DAY	INT64_C(86400)

#define assert_exit(res, code) \
	ck_assert_msg((res).status == (code), "exit %d, want %d\nstdout:\n%s\nstderr:\n%s", \
	    (res).status, (code), (res).out, (res).err)
#define assert_has(hay, needle) \
	ck_assert_msg(strstr((hay), (needle)) != NULL, "'%s' not in:\n%s", (needle), (hay))
#define assert_lacks(hay, needle) \
	ck_assert_msg(strstr((hay), (needle)) == NULL, "'%s' in:\n%s", (needle), (hay))

struct t {
	char *dir, *state_dir, *schedule;
	struct schedule *s;
};

static void
t_start(struct t *t, const char *schedule)
{
	struct sched_diags d = { 0 };

	memset(t, 0, sizeof(*t));
	/* An entry's id holds its zone: the binary runs with TZ=UTC, so must this. */
	setenv("TZ", "UTC", 1);
	tzset();
	t->dir = tu_mkdtemp();
	t->state_dir = str_printf("%s/state", t->dir);
	t->schedule = tu_write(t->dir, "schedule", schedule);
	ck_assert_int_eq(schedule_load(t->schedule, &t->s, &d), 0);
	sched_diags_release(&d);
	ck_assert_int_eq(state_dir_prepare(t->state_dir), 0);
}

static void
t_stop(struct t *t)
{
	schedule_free(t->s);
	tu_rmtree(t->dir);
	free(t->dir);
	free(t->state_dir);
	free(t->schedule);
}

/* The state file as a run would leave it: entry I's last slot, outcome, last success. */
static void
t_state(struct t *t, size_t i, int64_t slot, int result, int64_t last_ok, int64_t since)
{
	struct state st;
	struct state_entry *se;
	char *path = NULL;

	state_init(&st);
	ck_assert_int_eq(state_path_for(t->state_dir, t->schedule, &path), 0);
	(void)state_load(path, &st, NULL);
	se = state_get(&st, t->s->entries[i].id);
	se->checked = slot + 20;
	se->slot = slot;
	se->result = result;
	se->last_ok = last_ok;
	se->since = since;
	st.last_run = slot + 20;
	ck_assert_int_eq(state_save(&st, path), 0);
	state_release(&st);
	free(path);
}

static const char *
rfc3339(int64_t t)
{
	static char buf[32];
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

/* `dosnap status --monitor -f SCHEDULE --state-dir DIR --now NOW [ARGS...]`, no token. */
static void
monitor_at(struct t *t, struct tu_result *res, int64_t now, ...)
{
	const char *argv[24];
	const char *a;
	char when[32];
	size_t n = 0;
	va_list ap;

	snprintf(when, sizeof(when), "%s", rfc3339(now));
	argv[n++] = "status";
	argv[n++] = "--monitor";
	argv[n++] = "-f";
	argv[n++] = t->schedule;
	argv[n++] = "--state-dir";
	argv[n++] = t->state_dir;
	argv[n++] = "--now";
	argv[n++] = when;
	va_start(ap, now);
	while ((a = va_arg(ap, const char *)) != NULL && n < 23)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	tu_run_dosnap(argv, NULL, res);
	/* One line, always, and nothing that looks like a request. */
	if (res->status <= 3)
		ck_assert_msg(strchr(res->out, '\n') == res->out + strlen(res->out) - 1,
		    "not one line:\n%s", res->out);
}

START_TEST(test_unknown_no_state)
{
	struct t t;
	struct tu_result res;

	t_start(&t, "30 3 * * *  310000002\n");
	monitor_at(&t, &res, SLOT0, NULL);
	assert_exit(res, 3);
	assert_has(res.out, "DOSNAP UNKNOWN - no state file '");
	tu_result_release(&res);
	t_stop(&t);
}
END_TEST

START_TEST(test_unknown_bad_schedule)
{
	struct t t;
	struct tu_result res;

	t_start(&t, "30 3 * * *  310000002\n");
	free(tu_write(t.dir, "schedule", "61 3 * * *  310000002\n"));
	monitor_at(&t, &res, SLOT0, NULL);
	assert_exit(res, 3);
	assert_has(res.out, "DOSNAP UNKNOWN - cannot read schedule '");
	tu_result_release(&res);
	t_stop(&t);
}
END_TEST

START_TEST(test_unknown_damaged_state)
{
	struct t t;
	struct tu_result res;
	char *path = NULL;

	t_start(&t, "30 3 * * *  310000002\n");
	ck_assert_int_eq(state_path_for(t.state_dir, t.schedule, &path), 0);
	ck_assert_int_eq(write_file_atomic(path, "dosnap-state 1\nbogus\n", 21, 0600), 0);
	monitor_at(&t, &res, SLOT0, NULL);
	assert_exit(res, 3);
	assert_has(res.out, "is damaged (line 2)");
	tu_result_release(&res);
	free(path);
	t_stop(&t);
}
END_TEST

/* A nightly entry that last succeeded at SLOT0: OK, then WARNING, then CRITICAL. */
START_TEST(test_ok_warning_critical)
{
	struct t t;
	struct tu_result res;

	t_start(&t, "# web\n\n30 3 * * *  tag:web  keep=7\n");
	t_state(&t, 0, SLOT0, 0, SLOT0, SLOT0 - DAY);
	monitor_at(&t, &res, SLOT0 + 70 * 60, NULL);
	assert_exit(res, 0);
	ck_assert_str_eq(res.out, "DOSNAP OK - 1 entry, each with a success within its grace "
	    "| 'line 3'=4200s\n");
	tu_result_release(&res);
	/*
	 * The next night's run may take its grace before it counts: 1 h, but
	 * never less than the entry's timeout= (2 h by default).
	 */
	monitor_at(&t, &res, SLOT0 + DAY + 7199, NULL);
	assert_exit(res, 0);
	tu_result_release(&res);
	monitor_at(&t, &res, SLOT0 + DAY + 7200, NULL);
	assert_exit(res, 1);
	ck_assert_str_eq(res.out, "DOSNAP WARNING - line 3 tag:web: no success since "
	    "2026-11-26T03:30Z (1 run missed) | 'line 3'=93600s\n");
	tu_result_release(&res);
	monitor_at(&t, &res, SLOT0 + 2 * DAY + 7200, NULL);
	assert_exit(res, 2);
	ck_assert_str_eq(res.out, "DOSNAP CRITICAL - line 3 tag:web: no success since "
	    "2026-11-26T03:30Z (2 runs missed) | 'line 3'=180000s\n");
	tu_result_release(&res);
	t_stop(&t);
}
END_TEST

/*
 * The worst entries are named, the others only in the performance data;
 * a failed slot and an entry that never succeeded count as missed.
 */
START_TEST(test_worst_named)
{
	struct t t;
	struct tu_result res;

	t_start(&t, "30 3 * * *  310000001\n0 * * * *  310000002\n30 3 * * *  tag:db\n");
	t_state(&t, 0, SLOT0 + DAY, 0, SLOT0 + DAY, SLOT0 - 10 * DAY);	/* fine */
	t_state(&t, 1, SLOT0 + DAY - 1800, 75, SLOT0, SLOT0 - DAY);	/* hourly, failing */
	t_state(&t, 2, SLOT0 + DAY, 69, 0, SLOT0 + DAY - 1);		/* never succeeded */
	/* At 04:31 the db entry's failed 03:30 run is still within its grace: not named. */
	/* 04:31 the next day: the hourly runs from 04:00 to 02:00 are older than 2 h. */
	monitor_at(&t, &res, SLOT0 + DAY + 3600 + 60, NULL);
	assert_exit(res, 2);
	assert_has(res.out, "DOSNAP CRITICAL - line 2 310000002: no success since "
	    "2026-11-26T03:30Z (23 runs missed)");
	assert_lacks(res.out, "line 1 310000001");
	assert_lacks(res.out, "tag:db");
	assert_has(res.out, "| 'line 1'=3660s 'line 2'=90060s 'line 3'=U\n");
	tu_result_release(&res);
	t_stop(&t);
}
END_TEST

/* An entry that failed its first slot: WARNING once the grace is over; fire times before it was first seen do not count. */
START_TEST(test_never_succeeded)
{
	struct t t;
	struct tu_result res;

	t_start(&t, "30 3 * * *  310000002\n");
	t_state(&t, 0, SLOT0, 69, 0, SLOT0 - 1);
	monitor_at(&t, &res, SLOT0 + 7200, NULL);
	assert_exit(res, 1);
	ck_assert_str_eq(res.out, "DOSNAP WARNING - line 1 310000002: no success yet (1 run missed) "
	    "| 'line 1'=U\n");
	tu_result_release(&res);
	t_stop(&t);
}
END_TEST

/* The grace is at least the entry's timeout=: a long snapshot is not a miss. */
START_TEST(test_grace)
{
	struct t t;
	struct tu_result res;

	t_start(&t, "30 3 * * *  310000002  timeout=3h\n");
	t_state(&t, 0, SLOT0, 0, SLOT0, SLOT0 - DAY);
	monitor_at(&t, &res, SLOT0 + DAY + 2 * 3600, NULL);
	assert_exit(res, 0);
	tu_result_release(&res);
	monitor_at(&t, &res, SLOT0 + DAY + 3 * 3600, NULL);
	assert_exit(res, 1);
	tu_result_release(&res);
	/* --grace longer than the timeout counts. */
	monitor_at(&t, &res, SLOT0 + DAY + 3 * 3600, "--grace", "4h", NULL);
	assert_exit(res, 0);
	tu_result_release(&res);
	t_stop(&t);
}
END_TEST

/* --warn-after and --crit-after replace the computed thresholds. */
START_TEST(test_thresholds)
{
	struct t t;
	struct tu_result res;

	t_start(&t, "30 3 * * *  310000002\n");
	t_state(&t, 0, SLOT0, 0, SLOT0, SLOT0 - DAY);
	monitor_at(&t, &res, SLOT0 + 25 * 3600, "--warn-after", "26h", "--crit-after", "50h",
	    NULL);
	assert_exit(res, 0);
	assert_has(res.out, "| 'line 1'=90000s;93600;180000;0\n");
	tu_result_release(&res);
	monitor_at(&t, &res, SLOT0 + 27 * 3600, "--warn-after", "26h", "--crit-after", "50h",
	    NULL);
	assert_exit(res, 1);
	assert_has(res.out, "DOSNAP WARNING - line 1 310000002: no success since "
	    "2026-11-26T03:30Z (27h ago)");
	tu_result_release(&res);
	monitor_at(&t, &res, SLOT0 + 51 * 3600, "--warn-after", "26h", "--crit-after", "50h",
	    NULL);
	assert_exit(res, 2);
	tu_result_release(&res);
	monitor_at(&t, &res, SLOT0, "--warn-after", "2h", "--crit-after", "1h", NULL);
	assert_exit(res, 64);
	tu_result_release(&res);
	t_stop(&t);
}
END_TEST

/*
 * A droplet left powered off: an open journal record no running dosnap
 * holds, older than five minutes, is CRITICAL.  While a dosnap holds the
 * journal the record is a flow in progress.
 */
START_TEST(test_left_off)
{
	struct t t;
	struct tu_result res;
	struct journal *j = NULL;
	struct journal_record rec = { .droplet_id = 310000002, .was_active = true };
	int64_t now = (int64_t)time(NULL);
	bool may = false;

	t_start(&t, "30 3 * * *  310000002\n");
	t_state(&t, 0, now - 600, 0, now - 600, now - DAY);
	snprintf(rec.name, sizeof(rec.name), "web-2");
	snprintf(rec.snapshot, sizeof(rec.snapshot), "dosnap-web-2-x");
	rec.slot = now - 600;
	ck_assert_int_eq(journal_open(t.state_dir, &j, &may), 0);
	ck_assert_int_eq(journal_write(j, &rec, true), 0);
	monitor_at(&t, &res, now + 600, NULL);
	assert_exit(res, 0);	/* held: a flow in progress */
	tu_result_release(&res);
	journal_close(j);
	monitor_at(&t, &res, now + 60, NULL);
	assert_exit(res, 0);	/* a minute old: a run may be starting */
	tu_result_release(&res);
	monitor_at(&t, &res, now + 600, NULL);
	assert_exit(res, 2);
	assert_has(res.out, "DOSNAP CRITICAL - droplet 310000002 (web-2) left powered off since ");
	tu_result_release(&res);
	t_stop(&t);
}
END_TEST

/*
 * A local clock the last run found off from the API's by more than five
 * minutes is CRITICAL: the schedule and retention follow that clock.
 */
START_TEST(test_clock_off)
{
	struct t t;
	struct tu_result res;
	int64_t now = (int64_t)time(NULL);

	t_start(&t, "30 3 * * *  310000002\n");
	t_state(&t, 0, now - 600, 0, now - 600, now - DAY);
	monitor_at(&t, &res, now, NULL);
	assert_exit(res, 0);	/* no run has seen the API's time: nothing to say */
	tu_result_release(&res);
	ck_assert_int_eq(state_clock_save(t.state_dir, 120, now), 0);
	monitor_at(&t, &res, now, NULL);
	assert_exit(res, 0);	/* two minutes: within what the flow tolerates */
	tu_result_release(&res);
	ck_assert_int_eq(state_clock_save(t.state_dir, 3 * 3600, now), 0);
	monitor_at(&t, &res, now, NULL);
	assert_exit(res, 2);
	assert_has(res.out, "DOSNAP CRITICAL - the local clock is 3h ahead of the API's");
	tu_result_release(&res);
	ck_assert_int_eq(state_clock_save(t.state_dir, -600, now), 0);
	monitor_at(&t, &res, now, NULL);
	assert_exit(res, 2);
	assert_has(res.out, "the local clock is 10m behind the API's");
	tu_result_release(&res);
	t_stop(&t);
}
END_TEST

/* End to end: a run against the mock, then the check, with no token in sight. */
START_TEST(test_after_real_run)
{
	struct t t;
	struct tu_result res;
	struct mock_config cfg;
	struct mock *m;
	char tok[256];

	mu_config(&cfg, "demo.json");
	m = mu_start(&cfg);
	t_start(&t, "30 3 * * *  310000002\n");
	snprintf(tok, sizeof(tok), "DO_TOKEN=%s", mock_token(m));
	{
		const char *argv[] = { "run", "-f", t.schedule, "--state-dir", t.state_dir,
			"--now", "2026-11-26T03:30:20Z", "--api-url", mock_url(m), "--time-scale",
			"0.01", NULL };
		const char *env[] = { tok, NULL };

		tu_run_dosnap(argv, env, &res);
		assert_exit(res, 0);
		tu_result_release(&res);
	}
	/*
	 * The run's --now is days from the mock's Date, as a wrong clock would
	 * be: the run remembered the offset, and the check says so.
	 */
	monitor_at(&t, &res, SLOT0 + 3600, NULL);
	assert_exit(res, 2);
	assert_has(res.out, "DOSNAP CRITICAL - the local clock is ");
	assert_has(res.out, " behind the API's");
	tu_result_release(&res);
	{
		char *clock = str_printf("%s/clock", t.state_dir);

		ck_assert_int_eq(unlink(clock), 0);
		free(clock);
	}
	monitor_at(&t, &res, SLOT0 + 3600, NULL);
	assert_exit(res, 0);
	assert_has(res.out, "DOSNAP OK - 1 entry");
	assert_has(res.out, "'line 1'=3600s");
	tu_result_release(&res);
	/* The run two nights later never came. */
	monitor_at(&t, &res, SLOT0 + 2 * DAY + 7200, NULL);
	assert_exit(res, 2);
	assert_has(res.out, "(2 runs missed)");
	tu_result_release(&res);
	mock_stop(m);
	t_stop(&t);
}
END_TEST

Suite *
monitor_suite(void)
{
	Suite *s = suite_create("monitor");
	TCase *tc = tcase_create("monitor");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_unknown_no_state);
	tcase_add_test(tc, test_unknown_bad_schedule);
	tcase_add_test(tc, test_unknown_damaged_state);
	tcase_add_test(tc, test_ok_warning_critical);
	tcase_add_test(tc, test_worst_named);
	tcase_add_test(tc, test_never_succeeded);
	tcase_add_test(tc, test_grace);
	tcase_add_test(tc, test_thresholds);
	tcase_add_test(tc, test_left_off);
	tcase_add_test(tc, test_clock_off);
	tcase_add_test(tc, test_after_real_run);
	suite_add_tcase(s, tc);
	return s;
}
