/* check_faults: the flow under every fault at every request position, and killed at random moments. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chaosutil.h"
#include "mockutil.h"
#include "suites.h"
#include "testutil.h"

#define SLOT_NOW	"2026-11-26T03:30:10Z"
#define SLOT_SUFFIX	"-20261126T0330Z"

/* --- helpers ------------------------------------------------------------- */

/* How many of droplet ID's snapshots carry the slot's name. */
static int
slot_snapshots(struct mock *m, int64_t id)
{
	struct mock_snapshot snaps[64];
	int n, i, count = 0;

	n = mock_droplet_snapshots(m, id, snaps, 64);
	ck_assert_int_ge(n, 0);
	for (i = 0; i < n && i < 64; i++)
		if (strstr(snaps[i].name, SLOT_SUFFIX) != NULL)
			count++;
	return count;
}

static void
droplet_status(struct mock *m, int64_t id, char *buf, size_t size)
{
	struct mock_droplet_info info;

	ck_assert_int_eq(mock_droplet_get(m, id, &info), 0);
	snprintf(buf, size, "%s", info.status);
}

/* Write a one-entry schedule for IDS into DIR; returns its path (malloc'd). */
static char *
write_schedule(const char *dir, const char *targets)
{
	char text[1024];

	snprintf(text, sizeof(text), "CRON_TZ=UTC\n30 3 * * * %s keep=5\n", targets);
	return tu_write(dir, "schedule", text);
}

/* --- the fault matrix ---------------------------------------------------- */

/*
 * One row, one scenario: droplet 1001 (active) of basic.json, the fault
 * SPEC once on the request at position AFTER (0-based; -1: where SPEC says),
 * the droplet misbehaving as MISBEHAVE, `dosnap snapshot -v 1001`.  Every
 * single fault is survivable: retries, adoption of ambiguous POSTs and
 * polling absorb it, so the run must end with the droplet active and the
 * slot's snapshot taken, and the -v log must name the droplet and the cause.
 */
struct fault_row {
	const char *name;	/* NULL: "SPEC at request AFTER" */
	const char *spec;	/* a fault, without its position; NULL: none */
	const char *cause;	/* what the -v log must say about the fault (NULL: nothing) */
	int after;		/* the request it hits; -1: SPEC holds the position */
	unsigned misbehave;	/* MOCK_MISBEHAVE_* for droplet 1001 */
	int want_exit;
	int want_slot_snapshots;
	const char *want_log;	/* what else the log must say (NULL: nothing) */
};

#define POSITIONS 10	/* a one-droplet power-off flow makes about ten requests */

/* SPEC once at each of the first POSITIONS requests. */
#define AT(spec, cause, pos)	{ NULL, spec, cause, pos, 0, 0, 1, NULL }
#define AT_EVERY_POSITION(spec, cause) \
	AT(spec, cause, 0), AT(spec, cause, 1), AT(spec, cause, 2), AT(spec, cause, 3), \
	AT(spec, cause, 4), AT(spec, cause, 5), AT(spec, cause, 6), AT(spec, cause, 7), \
	AT(spec, cause, 8), AT(spec, cause, 9)

static const struct fault_row fault_rows[] = {
	AT_EVERY_POSITION("kind=500", "500"),
	AT_EVERY_POSITION("kind=502", "502"),
	AT_EVERY_POSITION("kind=503", "503"),
	AT_EVERY_POSITION("kind=429,retry-after=1", "429"),
	AT_EVERY_POSITION("kind=reset", NULL),	/* libcurl may retry a dead connection itself */
	AT_EVERY_POSITION("kind=stall,stall-ms=2500", "timed out"),
	AT_EVERY_POSITION("kind=malformed", "JSON"),
	/* The behaviours that are not one failed request. */
	{ "ignored shutdown", NULL, NULL, 0, MOCK_MISBEHAVE_IGNORE_SHUTDOWN, 0, 1,
	  "sending power_off" },
	{ "errored actions", NULL, NULL, 0, MOCK_MISBEHAVE_ACTIONS_ERROR, 75, 0,
	  "still active after power_off" },
	/* power_on failing once: a 500 on the third action POST. */
	{ "power_on failing once", "kind=500,method=POST,path=/v2/droplets/1001/actions,after=2",
	  "500", -1, 0, 0, 1, NULL },
};

#define FAULT_ROWS	((int)(sizeof(fault_rows) / sizeof(fault_rows[0])))
#define FAULT_KINDS	7	/* the AT_EVERY_POSITION lines above */

/* Run ROW; what is wrong with the outcome goes to PROBLEM ("" when nothing). */
static void
run_scenario(const struct fault_row *row, char *problem, size_t size)
{
	struct mock_config cfg;
	struct mock_fault fault;
	struct mock *m;
	struct tu_result res;
	char *dir = tu_mkdtemp(), tok[256], full[256], status[16];
	const char *argv[] = { "snapshot", "-v", "--api-url", NULL, "--time-scale", "0.01",
		"--state-dir", dir, "--shutdown-timeout", "20s", "--now", SLOT_NOW, "1001", NULL };
	const char *env[] = { tok, NULL };
	int n;

	mu_config(&cfg, "basic.json");
	m = mu_start(&cfg);
	mock_droplet_set_misbehaviour(m, 1001, row->misbehave);
	if (row->spec != NULL) {
		if (row->after >= 0)
			snprintf(full, sizeof(full), "%s,after=%d,once", row->spec, row->after);
		else
			snprintf(full, sizeof(full), "%s,once", row->spec);
		ck_assert_int_eq(mock_fault_parse(full, &fault), 0);
		ck_assert_int_eq(mock_add_fault(m, &fault), 0);
	}
	argv[3] = mock_url(m);
	snprintf(tok, sizeof(tok), "DO_TOKEN=%s", mock_token(m));
	tu_run_dosnap(argv, env, &res);

	problem[0] = '\0';
	droplet_status(m, 1001, status, sizeof(status));
	n = slot_snapshots(m, 1001);
	if (strcmp(status, "active") != 0)
		snprintf(problem, size, "droplet left '%s'", status);
	else if (n != row->want_slot_snapshots)
		snprintf(problem, size, "%d snapshots for the slot, want %d", n,
		    row->want_slot_snapshots);
	else if (res.status != row->want_exit)
		snprintf(problem, size, "exit %d, want %d", res.status, row->want_exit);
	else if (strstr(res.err, "droplet 1001 (alpha)") == NULL)
		snprintf(problem, size, "the log does not name the droplet");
	else if (row->want_log != NULL && strstr(res.err, row->want_log) == NULL)
		snprintf(problem, size, "the log does not say '%s'", row->want_log);
	else if (row->cause != NULL &&
	    strstr(res.err, row->cause) == NULL && row->spec != NULL) {
		/* The fault may have hit a request that was not made (fewer polls). */
		size_t i, fired = 0, total = mock_request_count(m, NULL, NULL, 0);
		struct mock_request rq;

		for (i = 0; i < total; i++)
			if (mock_request_get(m, i, &rq) == 0 && rq.fault[0] != '\0')
				fired++;
		if (fired > 0)
			snprintf(problem, size, "the log does not name the cause ('%s')",
			    row->cause);
	}
	if (problem[0] != '\0') {
		size_t len = strlen(problem);

		snprintf(problem + len, size - len, "; stderr: %.300s", res.err);
	}
	tu_result_release(&res);
	mock_stop(m);
	tu_rmtree(dir);
	free(dir);
}

/* Row _i of the matrix; a failure names the row. */
START_TEST(test_fault_matrix)
{
	const struct fault_row *row = &fault_rows[_i];
	char name[128], problem[512];

	if (row->name != NULL)
		snprintf(name, sizeof(name), "%s", row->name);
	else
		snprintf(name, sizeof(name), "%s at request %d", row->spec, row->after);
	run_scenario(row, problem, sizeof(problem));
	ck_assert_msg(problem[0] == '\0', "fault matrix row %d, %s: %s", _i, name, problem);
}
END_TEST

/* The matrix covers every kind at every position, and is not cut short. */
START_TEST(test_fault_matrix_rows)
{
	int k, pos;

	ck_assert_int_ge(FAULT_ROWS, 60);
	ck_assert_int_ge(FAULT_ROWS, FAULT_KINDS * POSITIONS);
	for (k = 0; k < FAULT_KINDS; k++) {
		for (pos = 0; pos < POSITIONS; pos++) {
			const struct fault_row *row = &fault_rows[k * POSITIONS + pos];

			ck_assert_ptr_nonnull(row->spec);
			ck_assert_str_eq(row->spec, fault_rows[k * POSITIONS].spec);
			ck_assert_int_eq(row->after, pos);
		}
	}
}
END_TEST

/* --- killed at random moments ---------------------------------------------- */

#define KILL_DROPLETS	10
#define KILL_ROUNDS	25

static const char *kill_targets =
    "100000001 100000002 100000003 100000004 100000005 "
    "100000006 100000007 100000008 100000009 100000010";

/* Where the children's stderr goes, to be read for sanitizer reports. */
static char err_path[4096];

/*
 * Start `dosnap run` for the slot; returns its pid.  Stdout goes to
 * /dev/null, stderr to err_path (appended), with ASan told to catch stack
 * use after return: a sanitizer build reports what a stop gets wrong.
 */
static pid_t
start_run(struct mock *m, const char *schedule, const char *state_dir)
{
	char tok[256];
	sigset_t stop_sigs, old;
	pid_t pid;

	snprintf(tok, sizeof(tok), "DO_TOKEN=%s", mock_token(m));
	/*
	 * The test may signal the child at any instant, even before execve.
	 * The child is then still a copy of this test process, whose SIGTERM
	 * handler is Check's, and that handler kills the whole process group:
	 * the test itself.  So signals stay blocked across fork, and the child
	 * takes the default action for them before it lets them in.
	 */
	sigemptyset(&stop_sigs);
	sigaddset(&stop_sigs, SIGTERM);
	sigaddset(&stop_sigs, SIGINT);
	sigprocmask(SIG_BLOCK, &stop_sigs, &old);
	pid = fork();
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
	} else {
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* A short stop timeout (0.3 s at this scale): stops that run out happen too. */
		const char *argv[] = { tu_dosnap_bin(), "run", "-f", schedule, "--state-dir",
			state_dir, "--now", SLOT_NOW, "--api-url", mock_url(m), "--time-scale", "0.01",
			"--stop-timeout", "30s", NULL };
		const char *env[] = { "PATH=/usr/bin:/bin", "TZ=UTC", tok,
			"ASAN_OPTIONS=detect_stack_use_after_return=1", NULL };
		int nul = open("/dev/null", O_RDWR);
		int err = open(err_path, O_WRONLY | O_CREAT | O_APPEND, 0644);

		dup2(nul, 0);
		dup2(nul, 1);
		dup2(err >= 0 ? err : nul, 2);
		execve(argv[0], (char *const *)argv, (char *const *)env);
		_exit(127);
	}
	return pid;
}

static int
wait_status(pid_t pid)
{
	char *text;
	size_t len;
	FILE *f;
	int st;

	while (waitpid(pid, &st, 0) < 0)
		ck_assert_int_eq(errno, EINTR);
	/* Whatever the exit, no sanitizer may have had anything to say. */
	f = fopen(err_path, "r");
	if (f != NULL) {
		text = calloc(1, 1024 * 1024 + 1);
		ck_assert_ptr_nonnull(text);
		len = fread(text, 1, 1024 * 1024, f);
		(void)fclose(f);
		text[len] = '\0';
		ck_assert_msg(cu_sanitizer_report(text) == NULL, "sanitizer report:\n%.2000s",
		    cu_sanitizer_report(text));
		free(text);
		(void)truncate(err_path, 0);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void
sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The end state every interruption must lead to, once the runs are done. */
static void
check_end_state(struct mock *m, int round, const char *what)
{
	int64_t id;

	for (id = 100000001; id <= 100000000 + KILL_DROPLETS; id++) {
		char status[16];
		bool was_off = id == 100000003 || id == 100000007;

		droplet_status(m, id, status, sizeof(status));
		ck_assert_msg(strcmp(status, was_off ? "off" : "active") == 0,
		    "%s round %d: droplet %lld is %s, was %s before", what, round, (long long)id,
		    status, was_off ? "off" : "active");
		ck_assert_msg(slot_snapshots(m, id) == 1, "%s round %d: droplet %lld has %d "
		    "snapshots for the slot", what, round, (long long)id, slot_snapshots(m, id));
	}
}

static void
kill_rounds(int sig)
{
	struct mock_config cfg;
	struct mock *m;
	char *dir = tu_mkdtemp(), *sched, state[4096];
	long full_us, delay;
	struct timespec t0, t1;
	int round, rc, reruns;
	unsigned seed = 20261126;
	pid_t pid;

	mu_config(&cfg, NULL);
	cfg.droplets = KILL_DROPLETS;
	m = mu_start(&cfg);
	sched = write_schedule(dir, kill_targets);
	snprintf(err_path, sizeof(err_path), "%s/stderr", dir);

	/* How long an undisturbed run takes: the window to kill in. */
	snprintf(state, sizeof(state), "%s/state-probe", dir);
	mock_droplet_set_status(m, 100000003, "off");
	mock_droplet_set_status(m, 100000007, "off");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = wait_status(start_run(m, sched, state));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_int_eq(rc, 0);
	check_end_state(m, -1, "undisturbed");
	full_us = (t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000;

	for (round = 0; round < KILL_ROUNDS; round++) {
		ck_assert_int_eq(mock_reset(m), 0);
		mock_droplet_set_status(m, 100000003, "off");
		mock_droplet_set_status(m, 100000007, "off");
		snprintf(state, sizeof(state), "%s/state-%d", dir, round);
		/* Stalled requests in flight when the signal comes, in every other round. */
		if (round % 2 == 1) {
			struct mock_fault stall;

			ck_assert_int_eq(mock_fault_parse("kind=stall,stall-ms=400,method=GET,"
			    "after=4,times=2", &stall), 0);
			ck_assert_int_eq(mock_add_fault(m, &stall), 0);
		}
		/* A fixed LCG: the same moments on every machine, for reruns. */
		seed = seed * 1103515245u + 12345u;
		delay = (long)((seed >> 8) % (unsigned)(full_us > 0 ? full_us : 1));
		pid = start_run(m, sched, state);
		sleep_us(delay);
		kill(pid, sig);
		rc = wait_status(pid);
		if (sig == SIGTERM)
			/*
			 * Stopped gracefully (75), finished first (0), or signalled
			 * in its first instants, before any process can have a
			 * handler (143): then it had done nothing yet.
			 */
			ck_assert_msg(rc == 75 || rc == 0 || rc == 128 + SIGTERM,
			    "SIGTERM round %d: exit %d", round, rc);
		/* Run again until the slot is done; recovery may wait out a snapshot. */
		for (reruns = 0; reruns < 5; reruns++) {
			rc = wait_status(start_run(m, sched, state));
			if (rc == 0)
				break;
			sleep_us(300000);
		}
		ck_assert_msg(rc == 0, "round %d (killed after %ld us): rerun exit %d", round, delay,
		    rc);
		/* A last run: recovery of anything left, and nothing due twice. */
		ck_assert_int_eq(wait_status(start_run(m, sched, state)), 0);
		check_end_state(m, round, sig == SIGKILL ? "SIGKILL" : "SIGTERM");
	}
	printf("kill test (%s): %d rounds in a %ld ms flow of %d droplets\n",
	    sig == SIGKILL ? "SIGKILL" : "SIGTERM", KILL_ROUNDS, full_us / 1000, KILL_DROPLETS);
	(void)fflush(stdout);
	mock_stop(m);
	free(sched);
	tu_rmtree(dir);
	free(dir);
}

START_TEST(test_sigkill)
{
	kill_rounds(SIGKILL);
}
END_TEST

START_TEST(test_sigterm)
{
	kill_rounds(SIGTERM);
}
END_TEST

/*
 * The suite's test cases are its shards: `make check` runs each in its own
 * process (CK_INCLUDE_TAGS=<name>; the GNUmakefile's SHARDS_faults lists
 * them), so that two cores share the slowest suite.  The matrix rows are
 * dealt out over MATRIX_SHARDS cases; a case whose name the GNUmakefile
 * does not list still runs, in the suite's "rest" shard.
 */
#define MATRIX_SHARDS	3

static TCase *
shard(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_set_tags(tc, name);
	tcase_set_timeout(tc, 600);
	suite_add_tcase(s, tc);
	return tc;
}

Suite *
faults_suite(void)
{
	static const char *const matrix[MATRIX_SHARDS] = { "matrix1", "matrix2", "matrix3" };
	Suite *s = suite_create("faults");
	TCase *tc;
	int i, row;

	for (i = 0; i < MATRIX_SHARDS; i++) {
		tc = shard(s, matrix[i]);
		if (i == 0)
			tcase_add_test(tc, test_fault_matrix_rows);
		/* Every third row: each shard gets its share of the slow kinds (stalls). */
		for (row = i; row < FAULT_ROWS; row += MATRIX_SHARDS)
			tcase_add_loop_test(tc, test_fault_matrix, row, row + 1);
	}
	tcase_add_test(shard(s, "sigkill"), test_sigkill);
	tcase_add_test(shard(s, "sigterm"), test_sigterm);
	return s;
}
