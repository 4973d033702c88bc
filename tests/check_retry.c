/* check_retry: retries within the slot: the backoff, the state they live in, and the real binary against the mock. */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dosnap/retry.h"
#include "dosnap/schedule.h"
#include "dosnap/state.h"
#include "dosnap/util.h"
#include "mockutil.h"
#include "suites.h"
#include "testutil.h"

/* demo.json */
#define WEB1	310000001
#define WEB2	310000002
#define SLOT	"20261126T0330Z"

#define assert_exit(res, code) \
	ck_assert_msg((res).status == (code), "exit %d, want %d\nstdout:\n%s\nstderr:\n%s", \
	    (res).status, (code), (res).out, (res).err)
#define assert_has(hay, needle) \
	ck_assert_msg(strstr((hay), (needle)) != NULL, "'%s' not in:\n%s", (needle), (hay))
#define assert_lacks(hay, needle) \
	ck_assert_msg(strstr((hay), (needle)) == NULL, "'%s' in:\n%s", (needle), (hay))

/* --- the backoff ---------------------------------------------------------- */

START_TEST(test_delays)
{
	static const int64_t want[] = { 60, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600 };
	int i;

	for (i = 0; i < 10; i++)
		ck_assert_int_eq(retry_delay(i), want[i]);
	ck_assert_int_eq(retry_delay(1000000), 3600);
	/* From the start of the failed attempt's minute. */
	ck_assert_int_eq(retry_at(1795663837, 1), 1795663800 + 60);
	ck_assert_int_eq(retry_at(1795663800, 3), 1795663800 + 240);
}
END_TEST

/* An entry "*\/15 * * * *" in UTC, for windows. */
static void
expr_entry(const char *expr, struct sched_entry *e, int64_t catchup)
{
	struct sched_diags d = { 0 };

	ck_assert_int_eq(sched_expr_parse(expr, NULL, e, &d), 0);
	e->opts.catchup = catchup;
	sched_diags_release(&d);
}

START_TEST(test_window)
{
	struct sched_entry e;
	int64_t slot = 1795663800, end;	/* 2026-11-26T03:30:00Z */

	expr_entry("*/15 * * * *", &e, 86400);
	ck_assert_int_eq(retry_window_end(&e, slot, &end), 0);
	ck_assert_int_eq(end, slot + 900);	/* the next fire time */
	e.opts.catchup = 300;
	ck_assert_int_eq(retry_window_end(&e, slot, &end), 0);
	ck_assert_int_eq(end, slot + 360);	/* catch-up: the slot's minute and 5 more */
	sched_entry_release(&e);
}
END_TEST

/* A state entry of slot 03:30 with one droplet of OUTCOME retried at AT. */
static void
one_droplet(struct state *st, struct state_entry **ret, enum state_outcome outcome, int64_t at)
{
	struct state_entry *se = state_get(st, 0xabcdef);
	struct state_droplet *d;

	ck_assert_ptr_nonnull(se);
	se->slot = 1795663800;
	d = state_droplet_get(se, WEB2);
	ck_assert_ptr_nonnull(d);
	d->slot = se->slot;
	d->outcome = outcome;
	d->next_retry = at;
	*ret = se;
}

START_TEST(test_due)
{
	struct sched_entry e;
	struct state st;
	struct state_entry *se;
	int64_t slot = 1795663800, got = 0;

	expr_entry("30 3 * * *", &e, 86400);
	state_init(&st);
	one_droplet(&st, &se, STATE_OUTCOME_PASSING, slot + 60);
	ck_assert_int_eq(retry_due(&e, se, slot + 59, &got), 0);
	ck_assert_int_eq(retry_due(&e, se, slot + 60, &got), 1);
	ck_assert_int_eq(got, slot);
	/* The next fire time ends the window. */
	ck_assert_int_eq(retry_due(&e, se, slot + 86399, &got), 1);
	ck_assert_int_eq(retry_due(&e, se, slot + 86400, &got), 0);
	/* catchup= too. */
	e.opts.catchup = 600;
	ck_assert_int_eq(retry_due(&e, se, slot + 659, &got), 1);
	ck_assert_int_eq(retry_due(&e, se, slot + 660, &got), 0);
	e.opts.catchup = 86400;
	/* Lasting and ok are not retried; nor a droplet of an older slot. */
	se->droplets[0].outcome = STATE_OUTCOME_LASTING;
	ck_assert_int_eq(retry_due(&e, se, slot + 120, &got), 0);
	se->droplets[0].outcome = STATE_OUTCOME_OK;
	ck_assert_int_eq(retry_due(&e, se, slot + 120, &got), 0);
	se->droplets[0].outcome = STATE_OUTCOME_PASSING;
	se->droplets[0].slot = slot - 86400;
	ck_assert_int_eq(retry_due(&e, se, slot + 120, &got), 0);
	ck_assert_int_eq(retry_due(&e, NULL, slot + 120, &got), 0);
	state_release(&st);
	sched_entry_release(&e);
}
END_TEST

/* --- the state file --------------------------------------------------------- */

START_TEST(test_state_old_format_loads)
{
	static const char old[] =
	    "dosnap-state 1\n"
	    "last-run 1795663820\n"
	    "entry 00000000000000ab 1795663820 1795663800 75\n"
	    "entry 00000000000000cd 1795663820 0 0\n";
	struct state st;
	const struct state_entry *se;

	state_init(&st);
	ck_assert_int_eq(state_parse(old, sizeof(old) - 1, &st, NULL), 0);
	ck_assert_uint_eq(st.n_entries, 2);
	se = state_find(&st, 0xab);
	ck_assert_ptr_nonnull(se);
	ck_assert_int_eq(se->slot, 1795663800);
	ck_assert_int_eq(se->result, 75);
	ck_assert_int_eq(se->last_ok, 0);
	ck_assert_uint_eq(se->n_droplets, 0);
	ck_assert_uint_eq(st.n_counters, 0);
	state_release(&st);
}
END_TEST

START_TEST(test_state_round_trip)
{
	struct state st, back;
	struct state_entry *se;
	struct state_droplet *d;
	char *dir = tu_mkdtemp(), *path = str_printf("%s/s.state", dir);
	uint64_t *c;

	state_init(&st);
	state_init(&back);
	se = state_get(&st, 0x1234);
	se->checked = 1795663820;
	se->slot = 1795663800;
	se->result = 75;
	se->last_ok = 1764041400;
	se->since = 1763000000;
	d = state_droplet_get(se, WEB2);
	d->slot = se->slot;
	d->outcome = STATE_OUTCOME_PASSING;
	d->attempts = 2;
	d->next_retry = 1795663800 + 180;
	d->last_attempt = 1795663861;
	d->last_success = 1764041460;
	d->duration_ms = 1234;
	d->taken = 41;
	d->deleted = 34;
	snprintf(d->name, sizeof(d->name), "web 2\"x");	/* not a safe word */
	d = state_droplet_get(se, 0);
	d->slot = se->slot;
	d->outcome = STATE_OUTCOME_LASTING;
	c = state_counter(&st, "api-requests");
	ck_assert_ptr_nonnull(c);
	*c = 99;
	ck_assert_ptr_null(state_counter(&st, "Bad Name"));
	ck_assert_int_eq(state_save(&st, path), 0);
	ck_assert_int_eq(state_load(path, &back, NULL), 0);
	se = (struct state_entry *)state_find(&back, 0x1234);
	ck_assert_ptr_nonnull(se);
	ck_assert_int_eq(se->last_ok, 1764041400);
	ck_assert_int_eq(se->since, 1763000000);
	ck_assert_uint_eq(se->n_droplets, 2);
	d = (struct state_droplet *)state_droplet_find(se, WEB2);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(d->outcome, STATE_OUTCOME_PASSING);
	ck_assert_int_eq(d->attempts, 2);
	ck_assert_int_eq(d->next_retry, 1795663980);
	ck_assert_int_eq(d->last_attempt, 1795663861);
	ck_assert_int_eq(d->last_success, 1764041460);
	ck_assert_int_eq(d->duration_ms, 1234);
	ck_assert_uint_eq(d->taken, 41);
	ck_assert_uint_eq(d->deleted, 34);
	ck_assert_str_eq(d->name, "web_2_x");
	ck_assert_int_eq(state_droplet_find(se, 0)->outcome, STATE_OUTCOME_LASTING);
	ck_assert_uint_eq(*state_counter(&back, "api-requests"), 99);
	state_release(&st);
	state_release(&back);
	tu_rmtree(dir);
	free(path);
	free(dir);
}
END_TEST

static const char *const damaged[] = {
	/* A droplet before any entry. */
	"dosnap-state 1\ndroplet 1 0 ok 0 0 0 0 0 0 0 -\n",
	/* Too few fields, an unknown outcome, a name with a space. */
	"dosnap-state 1\nentry 00000000000000ab 1 2 0\ndroplet 1 0 ok 0 0 0 0 0 0 -\n",
	"dosnap-state 1\nentry 00000000000000ab 1 2 0\ndroplet 1 0 fine 0 0 0 0 0 0 0 -\n",
	"dosnap-state 1\nentry 00000000000000ab 1 2 0\ndroplet 1 0 ok 0 0 0 0 0 0 0 a b\n",
	/* The same droplet twice, a negative number. */
	"dosnap-state 1\nentry 00000000000000ab 1 2 0\ndroplet 1 0 ok 0 0 0 0 0 0 0 -\ndroplet 1 0 ok 0 0 0 0 0 0 0 -\n",
	"dosnap-state 1\nentry 00000000000000ab 1 2 0\ndroplet 1 0 ok -1 0 0 0 0 0 0 -\n",
	/* An entry with five or seven fields; a counter with a bad name or value. */
	"dosnap-state 1\nentry 00000000000000ab 1 2 0 3\n",
	"dosnap-state 1\nentry 00000000000000ab 1 2 0 3 4 5\n",
	"dosnap-state 1\ncounter API 1\n",
	"dosnap-state 1\ncounter api x\n",
};

START_TEST(test_state_damaged)
{
	struct state st;
	const char *text = damaged[_i];

	state_init(&st);
	ck_assert_msg(state_parse(text, strlen(text), &st, NULL) == -EBADMSG, "accepted:\n%s",
	    text);
	state_release(&st);
}
END_TEST

/* The per-entry cap: past it the record attempted longest ago goes. */
START_TEST(test_state_droplet_cap)
{
	struct state st;
	struct state_entry *se;
	int64_t i;

	state_init(&st);
	se = state_get(&st, 1);
	for (i = 1; i <= STATE_MAX_DROPLETS; i++)
		state_droplet_get(se, i)->last_attempt = 1000 + i;
	ck_assert_uint_eq(se->n_droplets, STATE_MAX_DROPLETS);
	ck_assert_ptr_nonnull(state_droplet_get(se, STATE_MAX_DROPLETS + 1));
	ck_assert_uint_eq(se->n_droplets, STATE_MAX_DROPLETS);
	ck_assert_ptr_null(state_droplet_find(se, 1));
	ck_assert_ptr_nonnull(state_droplet_find(se, 2));
	state_release(&st);
}
END_TEST

/* --- the real binary against the mock -------------------------------------- */

struct t {
	struct mock *m;
	char *dir, *state_dir, *schedule;
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
}

/* `dosnap CMD -f SCHEDULE --state-dir DIR --now NOW [ARGS...]` against the mock. */
static void
run_at(struct t *t, struct tu_result *res, const char *cmd, const char *now, ...)
{
	const char *argv[32];
	const char *env[] = { t->token_env, NULL };
	const char *a;
	size_t n = 0;
	va_list ap;

	argv[n++] = cmd;
	argv[n++] = "-f";
	argv[n++] = t->schedule;
	argv[n++] = "--state-dir";
	argv[n++] = t->state_dir;
	argv[n++] = "--now";
	argv[n++] = now;
	argv[n++] = "--api-url";
	argv[n++] = mock_url(t->m);
	if (strcmp(cmd, "run") == 0) {
		argv[n++] = "--time-scale";
		argv[n++] = "0.01";
	}
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

static int
slot_snapshots(struct mock *m, int64_t id, const char *name)
{
	struct mock_snapshot s[64];
	int n, i, c = 0;

	n = mock_droplet_snapshots(m, id, s, 64);
	ck_assert_int_ge(n, 0);
	for (i = 0; i < n && i < 64; i++)
		if (strcmp(s[i].name, name) == 0)
			c++;
	return c;
}

static void
assert_droplet_status(struct mock *m, int64_t id, const char *want)
{
	struct mock_droplet_info info;

	ck_assert_int_eq(mock_droplet_get(m, id, &info), 0);
	ck_assert_str_eq(info.status, want);
}

/*
 * The API unreachable in the slot's minute, back a minute later: the
 * snapshot is taken by a retry, once, and nothing more is sent after.
 */
START_TEST(test_outage_then_retry)
{
	struct t t;
	struct tu_result res;
	size_t requests;

	t_start(&t, "30 3 * * *  310000002  keep=7\n");
	add_fault(t.m, "kind=reset");
	run_at(&t, &res, "run", "2026-11-26T03:30:20Z", NULL);
	assert_exit(res, 75);
	assert_has(res.err, "retrying at 2026-11-26T03:31:00+00:00 (attempt 2)");
	tu_result_release(&res);
	ck_assert_int_eq(slot_snapshots(t.m, WEB2, "dosnap-web-2-" SLOT), 0);

	/* Still down later in the minute: nothing is due, nothing sent. */
	requests = mock_request_count(t.m, NULL, NULL, 0);
	run_at(&t, &res, "run", "2026-11-26T03:30:50Z", NULL);
	assert_exit(res, 0);
	ck_assert_uint_eq(mock_request_count(t.m, NULL, NULL, 0), requests);
	tu_result_release(&res);

	/* Dry run and status say when the retry runs. */
	run_at(&t, &res, "run", "2026-11-26T03:30:50Z", "--dry-run", NULL);
	assert_exit(res, 0);
	assert_has(res.out, "slot 2026-11-26T03:30:00+00:00: retry all its targets at "
	    "2026-11-26T03:31:00+00:00");
	tu_result_release(&res);
	run_at(&t, &res, "status", "2026-11-26T03:30:50Z", NULL);
	assert_exit(res, 0);
	assert_has(res.out, "retry all its targets at 2026-11-26T03:31:00+00:00");
	tu_result_release(&res);
	ck_assert_uint_eq(mock_request_count(t.m, NULL, NULL, 0), requests);

	/* Back: the retry takes the slot's snapshot. */
	mock_clear_faults(t.m);
	run_at(&t, &res, "run", "2026-11-26T03:31:05Z", "--dry-run", NULL);
	assert_exit(res, 0);
	assert_has(res.out, "retry: line 1 slot 2026-11-26T03:30:00+00:00");
	tu_result_release(&res);
	run_at(&t, &res, "run", "2026-11-26T03:31:05Z", NULL);
	assert_exit(res, 0);
	assert_has(res.out, "310000002 web-2");
	tu_result_release(&res);
	ck_assert_int_eq(slot_snapshots(t.m, WEB2, "dosnap-web-2-" SLOT), 1);
	assert_droplet_status(t.m, WEB2, "active");

	/* Done: the next minutes send nothing, and status says ok. */
	requests = mock_request_count(t.m, NULL, NULL, 0);
	run_at(&t, &res, "run", "2026-11-26T03:33:05Z", NULL);
	assert_exit(res, 0);
	tu_result_release(&res);
	run_at(&t, &res, "run", "2026-11-26T04:35:05Z", NULL);
	assert_exit(res, 0);
	tu_result_release(&res);
	ck_assert_uint_eq(mock_request_count(t.m, NULL, NULL, 0), requests);
	run_at(&t, &res, "status", "2026-11-26T04:35:05Z", NULL);
	assert_has(res.out, "2026-11-26T03:30:00+00:00 ok");
	assert_lacks(res.out, "retry");
	tu_result_release(&res);
	ck_assert_int_eq(slot_snapshots(t.m, WEB2, "dosnap-web-2-" SLOT), 1);
	t_stop(&t);
}
END_TEST

/*
 * One droplet of two fails for a passing reason: only it is retried; the
 * other is not touched again.
 */
START_TEST(test_only_failed_droplets_retried)
{
	struct t t;
	struct tu_result res;
	size_t web1_requests;

	t_start(&t, "30 3 * * *  310000001 310000002\n");
	add_fault(t.m, "kind=503,method=POST,path=/v2/droplets/310000002/actions");
	run_at(&t, &res, "run", "2026-11-26T03:30:20Z", NULL);
	assert_exit(res, 75);
	assert_has(res.err, "line 1: 1 droplet failed for a passing reason; retrying at "
	    "2026-11-26T03:31:00+00:00");
	tu_result_release(&res);
	ck_assert_int_eq(slot_snapshots(t.m, WEB1, "dosnap-web-1-" SLOT), 1);
	ck_assert_int_eq(slot_snapshots(t.m, WEB2, "dosnap-web-2-" SLOT), 0);
	assert_droplet_status(t.m, WEB2, "active");

	mock_clear_faults(t.m);
	web1_requests = mock_request_count(t.m, NULL, "/v2/droplets/310000001*", 0);
	run_at(&t, &res, "run", "2026-11-26T03:31:20Z", NULL);
	assert_exit(res, 0);
	assert_has(res.out, "310000002 web-2");
	assert_lacks(res.out, "310000001 web-1");
	tu_result_release(&res);
	ck_assert_uint_eq(mock_request_count(t.m, NULL, "/v2/droplets/310000001*", 0),
	    web1_requests);
	ck_assert_int_eq(slot_snapshots(t.m, WEB1, "dosnap-web-1-" SLOT), 1);
	ck_assert_int_eq(slot_snapshots(t.m, WEB2, "dosnap-web-2-" SLOT), 1);
	run_at(&t, &res, "status", "2026-11-26T03:31:30Z", NULL);
	assert_has(res.out, "2026-11-26T03:30:00+00:00 ok");
	tu_result_release(&res);
	t_stop(&t);
}
END_TEST

/* A lasting failure (an errored snapshot) is left to the next slot. */
START_TEST(test_lasting_not_retried)
{
	struct t t;
	struct tu_result res;
	size_t requests;

	t_start(&t, "30 3 * * *  310000002  power=live\n");
	ck_assert_int_eq(mock_droplet_set_misbehaviour(t.m, WEB2, MOCK_MISBEHAVE_ACTIONS_ERROR),
	    0);
	run_at(&t, &res, "run", "2026-11-26T03:30:20Z", NULL);
	assert_exit(res, 69);
	assert_lacks(res.err, "retrying");
	tu_result_release(&res);
	requests = mock_request_count(t.m, NULL, NULL, 0);
	run_at(&t, &res, "run", "2026-11-26T03:31:20Z", NULL);
	assert_exit(res, 0);
	tu_result_release(&res);
	run_at(&t, &res, "run", "2026-11-26T05:00:20Z", NULL);
	assert_exit(res, 0);
	tu_result_release(&res);
	ck_assert_uint_eq(mock_request_count(t.m, NULL, NULL, 0), requests);
	run_at(&t, &res, "status", "2026-11-26T05:00:20Z", NULL);
	assert_has(res.out, "2026-11-26T03:30:00+00:00 failed");
	assert_lacks(res.out, "retry");
	tu_result_release(&res);
	t_stop(&t);
}
END_TEST

/*
 * An outage that lasts: retries at 03:31 and 03:33, the next one (03:37)
 * would fall after the next fire time (03:35), so retries stop there and
 * the new slot runs whole.
 */
START_TEST(test_retries_stop_at_next_fire)
{
	struct t t;
	struct tu_result res;
	size_t requests;

	t_start(&t, "*/5 * * * *  310000002\n");
	add_fault(t.m, "kind=503");
	run_at(&t, &res, "run", "2026-11-26T03:30:10Z", NULL);
	assert_exit(res, 75);
	tu_result_release(&res);
	requests = mock_request_count(t.m, NULL, NULL, 0);
	run_at(&t, &res, "run", "2026-11-26T03:31:10Z", NULL);
	assert_exit(res, 75);
	assert_has(res.err, "retrying at 2026-11-26T03:33:00+00:00 (attempt 3)");
	tu_result_release(&res);
	ck_assert_uint_gt(mock_request_count(t.m, NULL, NULL, 0), requests);
	run_at(&t, &res, "run", "2026-11-26T03:33:10Z", NULL);
	assert_exit(res, 75);
	assert_has(res.err, "the slot's window ends at 2026-11-26T03:35:00+00:00, before the "
	    "next retry");
	tu_result_release(&res);
	requests = mock_request_count(t.m, NULL, NULL, 0);
	run_at(&t, &res, "run", "2026-11-26T03:34:10Z", NULL);
	assert_exit(res, 0);
	tu_result_release(&res);
	ck_assert_uint_eq(mock_request_count(t.m, NULL, NULL, 0), requests);
	run_at(&t, &res, "status", "2026-11-26T03:34:30Z", NULL);
	assert_has(res.out, "gave up retrying");
	tu_result_release(&res);

	mock_clear_faults(t.m);
	run_at(&t, &res, "run", "2026-11-26T03:35:10Z", NULL);
	assert_exit(res, 0);
	tu_result_release(&res);
	ck_assert_int_eq(slot_snapshots(t.m, WEB2, "dosnap-web-2-20261126T0335Z"), 1);
	ck_assert_int_eq(slot_snapshots(t.m, WEB2, "dosnap-web-2-" SLOT), 0);
	t_stop(&t);
}
END_TEST

Suite *
retry_suite(void)
{
	Suite *s = suite_create("retry");
	TCase *unit = tcase_create("unit");
	TCase *e2e = tcase_create("e2e");

	tcase_add_test(unit, test_delays);
	tcase_add_test(unit, test_window);
	tcase_add_test(unit, test_due);
	tcase_add_test(unit, test_state_old_format_loads);
	tcase_add_test(unit, test_state_round_trip);
	tcase_add_loop_test(unit, test_state_damaged, 0,
	    (int)(sizeof(damaged) / sizeof(damaged[0])));
	tcase_add_test(unit, test_state_droplet_cap);
	tcase_set_timeout(e2e, 120);
	tcase_add_test(e2e, test_outage_then_retry);
	tcase_add_test(e2e, test_only_failed_droplets_retried);
	tcase_add_test(e2e, test_lasting_not_retried);
	tcase_add_test(e2e, test_retries_stop_at_next_fire);
	suite_add_tcase(s, unit);
	suite_add_tcase(s, e2e);
	return s;
}
