/* check_due: the due rule: first runs, coalescing, the catch-up bound, the clock, duplicates. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dosnap/due.h"
#include "dosnap/schedule.h"
#include "dosnap/state.h"
#include "dosnap/tz.h"
#include "dosnap/util.h"
#include "suites.h"
#include "testutil.h"

/* Times in the rows are RFC 3339 for readability; NULL means "none". */
static const struct {
	const char *line;	/* one schedule line, in UTC */
	const char *checked;	/* NULL: the state does not know the entry */
	const char *last_slot;
	const char *now;
	const char *slot;	/* NULL: not due */
} rows[] = {
	/* A first run counts only the current minute: no backfill. */
	{ "*/5 * * * * 1", NULL, NULL, "2026-11-26T12:05:10Z", "2026-11-26T12:05:00Z" },
	{ "*/5 * * * * 1", NULL, NULL, "2026-11-26T12:07:30Z", NULL },
	{ "0 * * * * 1", NULL, NULL, "2026-11-26T12:30:00Z", NULL },
	/* The next minute after the last run. */
	{ "*/5 * * * * 1", "2026-11-26T12:04:00Z", NULL, "2026-11-26T12:05:00Z", "2026-11-26T12:05:00Z" },
	{ "*/5 * * * * 1", "2026-11-26T12:05:00Z", NULL, "2026-11-26T12:06:00Z", NULL },
	/* Missed fire times coalesce into the latest. */
	{ "*/5 * * * * 1", "2026-11-26T11:00:00Z", NULL, "2026-11-26T12:07:00Z", "2026-11-26T12:05:00Z" },
	/* The catch-up bound (24 h by default). */
	{ "0 3 * * * 1", "2026-11-24T02:00:00Z", NULL, "2026-11-25T04:00:00Z", "2026-11-25T03:00:00Z" },
	{ "0 3 * * * 1", "2026-11-24T02:00:00Z", NULL, "2026-11-25T02:59:00Z", "2026-11-24T03:00:00Z" },
	/* Monday 2026-11-23 03:00 is 25 h old: beyond the bound, never run. */
	{ "0 3 * * mon 1", "2026-11-22T00:00:00Z", NULL, "2026-11-24T04:00:00Z", NULL },
	{ "0 3 * * * 1 catchup=30m", "2026-11-25T02:00:00Z", NULL, "2026-11-25T03:29:00Z", "2026-11-25T03:00:00Z" },
	{ "0 3 * * * 1 catchup=30m", "2026-11-25T02:00:00Z", NULL, "2026-11-25T03:31:00Z", NULL },
	{ "0 3 * * * 1 catchup=0", "2026-11-25T02:00:00Z", NULL, "2026-11-25T03:00:59Z", "2026-11-25T03:00:00Z" },
	{ "0 3 * * * 1 catchup=0", "2026-11-25T02:00:00Z", NULL, "2026-11-25T03:01:00Z", NULL },
	/* A slot never fires twice, even when "checked" lags (a crash mid-run). */
	{ "0 3 * * * 1", "2026-11-25T02:59:00Z", "2026-11-25T03:00:00Z", "2026-11-25T03:00:30Z", NULL },
	{ "0 3 * * * 1", "2026-11-25T02:59:00Z", "2026-11-24T03:00:00Z", "2026-11-25T03:00:30Z", "2026-11-25T03:00:00Z" },
	/* A run interrupted before its slot was recorded is found again. */
	{ "0 3 * * * 1", "2026-11-25T02:59:00Z", NULL, "2026-11-25T03:05:00Z", "2026-11-25T03:00:00Z" },
	/* A lagging state after the clock went back: checked is in the future. */
	{ "* * * * * 1", "2026-11-25T05:00:00Z", NULL, "2026-11-25T04:00:00Z", NULL },
};

static int64_t
t_or(const char *s, int64_t dflt)
{
	int64_t t;

	if (s == NULL)
		return dflt;
	ck_assert_msg(tz_parse_rfc3339(s, &t) == 0, "bad time in table: %s", s);
	return t;
}

static struct schedule *
parse(const char *text)
{
	struct sched_diags d = { 0 };
	struct schedule *s = NULL;
	int r;

	r = schedule_parse(text, strlen(text), &s, &d);
	ck_assert_msg(r == 0, "schedule did not parse: %s",
	    d.n ? d.items[0].message : "(no diagnostic)");
	sched_diags_release(&d);
	return s;
}

START_TEST(test_due_rows)
{
	char text[256];
	struct schedule *s;
	int64_t slot = 0;
	int r;

	snprintf(text, sizeof(text), "CRON_TZ=UTC\n%s\n", rows[_i].line);
	s = parse(text);
	r = due_entry(&s->entries[0], t_or(rows[_i].checked, -1), t_or(rows[_i].last_slot, 0),
	    t_or(rows[_i].now, 0), &slot);
	if (rows[_i].slot == NULL) {
		ck_assert_msg(r == 0, "row %d: due with slot %lld, expected not due", _i,
		    (long long)slot);
	} else {
		ck_assert_msg(r == 1, "row %d: not due (r=%d), expected %s", _i, r, rows[_i].slot);
		ck_assert_int_eq(slot, t_or(rows[_i].slot, 0));
	}
	schedule_free(s);
}
END_TEST

START_TEST(test_compute_and_mark)
{
	struct schedule *s = parse("CRON_TZ=UTC\n"
	    "*/5 * * * * 1\n"
	    "0 3 * * * 2\n"
	    "*/5 * * * * 1\n");	/* the same line again: one entry */
	struct state st;
	struct due_item *items = NULL;
	size_t n = 0;
	bool back = true;
	int64_t now = t_or("2026-11-25T03:00:20Z", 0);

	state_init(&st);
	ck_assert_int_eq(due_compute(s, &st, now, &items, &n, &back), 0);
	ck_assert(!back);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(items[0].entry->line, 2);
	ck_assert_uint_eq(items[1].entry->line, 3);
	ck_assert_int_eq(items[0].slot, now - 20);

	ck_assert_int_eq(due_mark(&st, items[0].entry, now, items[0].slot, 0), 0);
	ck_assert_int_eq(due_mark(&st, items[1].entry, now, items[1].slot, 0), 0);
	free(items);

	/* The same minute again: nothing is due. */
	ck_assert_int_eq(due_compute(s, &st, now + 30, &items, &n, &back), 0);
	ck_assert_uint_eq(n, 0);
	free(items);

	/* The clock went backwards: nothing is due, and it says so. */
	st.last_run = now;
	ck_assert_int_eq(due_compute(s, &st, now - 3600, &items, &n, &back), 0);
	ck_assert(back);
	ck_assert_uint_eq(n, 0);
	free(items);

	state_release(&st);
	schedule_free(s);
}
END_TEST

/* Editing other lines keeps an entry's identity; changing its text does not. */
START_TEST(test_identity_across_edits)
{
	struct schedule *a = parse("CRON_TZ=UTC\n0 3 * * * 1 keep=2\n");
	struct schedule *b = parse("# a comment\nCRON_TZ=UTC\n\n*/5 * * * * 9\n0  3 * * *   1 keep=2\n");
	struct schedule *c = parse("CRON_TZ=UTC\n0 3 * * * 1 keep=3\n");
	struct schedule *d = parse("CRON_TZ=Europe/Berlin\n0 3 * * * 1 keep=2\n");

	ck_assert_uint_eq(a->entries[0].id, b->entries[1].id);
	ck_assert_uint_ne(a->entries[0].id, c->entries[0].id);
	ck_assert_uint_ne(a->entries[0].id, d->entries[0].id);
	schedule_free(a);
	schedule_free(b);
	schedule_free(c);
	schedule_free(d);
}
END_TEST

/*
 * One run with the clock far ahead (a glitch, a wrong --now) must not stop
 * every later run until that date: a saved time ahead of now by more than
 * the catch-up window is damage.  Within the window the clock went back,
 * and that is still waited out.
 */
START_TEST(test_forget_future)
{
	struct schedule *s = parse("CRON_TZ=UTC\n"
	    "30 3 * * * 1\n"
	    "30 3 * * * 2 catchup=0\n");
	int64_t now = t_or("2026-11-26T03:30:20Z", 0);
	int64_t far = t_or("2031-01-01T00:00:00Z", 0);
	struct state st;
	struct state_entry *a, *b;
	struct due_future *v = NULL;
	struct due_item *items = NULL;
	size_t n = 0;
	bool back = true;

	state_init(&st);
	a = state_get(&st, s->entries[0].id);
	a->checked = far;
	a->slot = far - 30;
	b = state_get(&st, s->entries[1].id);
	b->checked = now + 1800;	/* 30 min ahead: an NTP step back, not damage */
	b->slot = now - 20;
	st.last_run = far;

	ck_assert_int_eq(due_forget_future(s, &st, now, &v, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_ptr_null(v[0].entry);			/* the last run */
	ck_assert_int_eq(v[0].saved, far);
	ck_assert_int_eq(v[0].window, 86400);
	ck_assert_ptr_eq(v[1].entry, &s->entries[0]);
	ck_assert_int_eq(v[1].saved, far);
	free(v);
	ck_assert_int_eq(st.last_run, 0);
	a = state_get(&st, s->entries[0].id);
	ck_assert_int_eq(a->slot, 0);
	b = state_get(&st, s->entries[1].id);
	ck_assert_int_eq(b->checked, now + 1800);	/* within its window: kept */

	/* Entry 1 is due as on a first run; entry 2 waits for its clock. */
	ck_assert_int_eq(due_compute(s, &st, now, &items, &n, &back), 0);
	ck_assert(!back);
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_eq(items[0].entry, &s->entries[0]);
	ck_assert_int_eq(items[0].slot, now - 20);
	free(items);

	/* The clock went back by less than the window: waited out, nothing forgotten. */
	st.last_run = now + 3600;
	ck_assert_int_eq(due_forget_future(s, &st, now, &v, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(v);
	ck_assert_int_eq(st.last_run, now + 3600);
	ck_assert_int_eq(due_compute(s, &st, now, &items, &n, &back), 0);
	ck_assert(back);
	ck_assert_uint_eq(n, 0);

	state_release(&st);
	schedule_free(s);
}
END_TEST

/*
 * The same through the real binary: a run with --now five years ahead,
 * then runs at the real time.  Before, every later run said "the clock
 * went backwards" and nothing was due until 2031.
 */
START_TEST(test_run_after_far_future)
{
	char *dir = tu_mkdtemp(), *sched, *state;
	const char *argv[] = { "run", "-f", NULL, "--state-dir", NULL, "--now", NULL, NULL, NULL };
	struct tu_result res;

	sched = tu_write(dir, "schedule", "CRON_TZ=UTC\n30 3 * * * 999 power=live\n");
	state = str_printf("%s/state", dir);
	argv[2] = sched;
	argv[4] = state;

	/* Nothing due then, so no API needed; the state remembers 2031. */
	argv[6] = "2031-01-01T00:00:20Z";
	tu_run_dosnap(argv, NULL, &res);
	ck_assert_msg(res.status == 0, "exit %d: %s", res.status, res.err);
	tu_result_release(&res);

	/* Back to now (not due this minute): warned once, and it goes on. */
	argv[6] = "2026-11-26T03:31:20Z";
	tu_run_dosnap(argv, NULL, &res);
	ck_assert_msg(res.status == 0, "exit %d: %s", res.status, res.err);
	ck_assert_msg(strstr(res.err, "the clock went backwards") == NULL, "%s", res.err);
	ck_assert_msg(strstr(res.err, "line 2 (30 3 * * * 999 power=live) was handled through "
	    "2031-01-01T00:00:20+00:00, 1496d ahead of now and beyond its catch-up window (24h)") !=
	    NULL, "%s", res.err);
	ck_assert_msg(strstr(res.err, "the entry starts afresh, as on a first run") != NULL, "%s",
	    res.err);
	ck_assert_msg(strstr(res.err, "/state/schedule-") != NULL, "names the state file: %s",
	    res.err);
	tu_result_release(&res);

	/* The next day's slot is due again (a dry run shows it), with no warning. */
	argv[6] = "2026-11-27T03:30:20Z";
	argv[7] = "--dry-run";
	tu_run_dosnap(argv, NULL, &res);
	ck_assert_msg(res.status == 0, "exit %d: %s", res.status, res.err);
	ck_assert_msg(strstr(res.out, "due: line 2 slot 2026-11-27T03:30:00+00:00") != NULL,
	    "out: %s\nerr: %s", res.out, res.err);
	ck_assert_msg(strstr(res.err, "ahead of now") == NULL, "%s", res.err);
	tu_result_release(&res);

	free(state);
	free(sched);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

Suite *
due_suite(void)
{
	Suite *s = suite_create("due");
	TCase *tc = tcase_create("due");

	tcase_add_loop_test(tc, test_due_rows, 0, sizeof(rows) / sizeof(rows[0]));
	tcase_add_test(tc, test_compute_and_mark);
	tcase_add_test(tc, test_identity_across_edits);
	tcase_add_test(tc, test_forget_future);
	tcase_add_test(tc, test_run_after_far_future);
	suite_add_tcase(s, tc);
	return s;
}
