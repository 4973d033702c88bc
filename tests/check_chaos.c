/* check_chaos: seeded random faults, misbehaviours, signals and clock offsets against real runs, then recovery; the invariants after every round. */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chaosutil.h"
#include "mockutil.h"
#include "suites.h"
#include "testutil.h"

/*
 * Each round: a fresh world (three droplets, two active and one off, each
 * with four snapshots of the template 1 to 4 days old), up to three fault
 * rules on random requests (the mock's kinds, 401 and 404 while waiting,
 * 422 storms), up to two misbehaving droplets (power_on refused for ever,
 * stale status, phantom snapshot, ignored shutdown), sometimes SIGTERM (once
 * or twice) or SIGKILL at a random moment, sometimes a clock far off (--now,
 * and the whole process clock with libfaketime when installed), sometimes a
 * read-only state directory (a chmod, or as root a read-only bind mount in
 * the run's own mount namespace, since root ignores permission bits; the
 * run must then stop with 73 before touching a droplet); then runs
 * without faults until one succeeds, as the timer would.  After every round:
 * each droplet in its power state before, no slot with two snapshots, the
 * two snapshots the policy keeps in any case still there, nothing deleted
 * at all while the new snapshot is missing, every run ended within its
 * documented bound, no sanitizer report.
 *
 * DOSNAP_CHAOS_ROUNDS (default 12), DOSNAP_CHAOS_SEED (default: the time,
 * printed), DOSNAP_CHAOS_FIRST (the first round, to replay one),
 * DOSNAP_CHAOS_VERBOSE (print every run's log).
 */

#define N_DROPLETS	3
#define N_OLD		4
#define SCALE		0.002
#define SCALE_ARG	"0.002"
#define KEEP		3
/* The README's bound for these options, in seconds before --time-scale. */
#define SHUTDOWN_S	20
#define TIMEOUT_S	120
#define POWER_S		300
#define STOP_S		300
#define FLOW_BOUND_S	(SHUTDOWN_S + 4 * TIMEOUT_S + 3 * POWER_S + 120)
#define PRUNE_BOUND_S	600
/* Start-up (recovery, resolving, retries of a request) and process slack, real ms. */
#define SLACK_MS	4000
#define RECOVERY_TRIES	6

static const int64_t ids[N_DROPLETS] = { 401, 402, 403 };
static const char *const names[N_DROPLETS] = { "a", "b", "c" };
static const bool was_active[N_DROPLETS] = { true, true, false };

static uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned
pick(uint64_t *s, unsigned n)
{
	return (unsigned)(rnd(s) % n);
}

static void
fmt_slot(time_t t, char *buf, size_t size)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y%m%dT%H%MZ", &tm);
}

static void
fmt_rfc3339(time_t t, char *buf, size_t size)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The world: the old snapshots' names, by droplet and age (k = 1..4 days). */
static char old_names[N_DROPLETS][N_OLD][64];

static char *
write_fixture(const char *dir, time_t now)
{
	char text[8192], when[32], slot[32];
	int len = 0, i, k;

	len += snprintf(text + len, sizeof(text) - (size_t)len, "{\"droplets\":[");
	for (i = 0; i < N_DROPLETS; i++) {
		len += snprintf(text + len, sizeof(text) - (size_t)len,
		    "%s{\"id\":%" PRId64 ",\"name\":\"%s\",\"status\":\"%s\",\"snapshots\":[",
		    i ? "," : "", ids[i], names[i], was_active[i] ? "active" : "off");
		for (k = 1; k <= N_OLD; k++) {
			time_t t = now - k * 86400 - 3600;

			fmt_slot(t, slot, sizeof(slot));
			fmt_rfc3339(t + 5, when, sizeof(when));
			snprintf(old_names[i][k - 1], sizeof(old_names[i][k - 1]), "dosnap-%s-%s",
			    names[i], slot);
			len += snprintf(text + len, sizeof(text) - (size_t)len,
			    "%s{\"id\":%d,\"name\":\"%s\",\"type\":\"snapshot\",\"created_at\":\"%s\"}",
			    k > 1 ? "," : "", 195000000 + i * 10 + k, old_names[i][k - 1], when);
		}
		len += snprintf(text + len, sizeof(text) - (size_t)len, "]}");
	}
	snprintf(text + len, sizeof(text) - (size_t)len, "]}\n");
	return tu_write(dir, "chaos.json", text);
}

static int
count_named(struct mock *m, int64_t id, const char *name)
{
	struct mock_snapshot s[64];
	int n = mock_droplet_snapshots(m, id, s, 64), i, c = 0;

	for (i = 0; i < n && i < 64; i++)
		if (strcmp(s[i].name, name) == 0)
			c++;
	return c;
}

struct round {
	uint64_t seed;
	int index;
	char desc[1024];
	char faults[3][160];
	int n_faults;
	unsigned misbehave[N_DROPLETS];
	int sig;
	long sig_at_ms, gap_ms;
	long offset_s;
	bool read_only;
};

static void
describe(struct round *rd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
describe(struct round *rd, const char *fmt, ...)
{
	size_t len = strlen(rd->desc);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rd->desc + len, sizeof(rd->desc) - len, fmt, ap);
	va_end(ap);
}

static void
plan_round(struct round *rd, uint64_t *s)
{
	static const char *const kinds[] = { "500", "502", "503", "429,retry-after=1", "reset",
		"truncated", "malformed", "stall,stall-ms=300" };
	static const char *const methods[] = { "", "GET", "POST", "DELETE" };
	static const char *const paths[] = { "", "/v2/droplets*", "/v2/actions/*",
		"/v2/snapshots*", "/v2/droplets/[0-9]*/actions", "/v2/droplets/[0-9]*/snapshots" };
	static const struct { unsigned bit; const char *name; } mis[] = {
		{ MOCK_MISBEHAVE_REFUSE_POWER_ON, "refuse_power_on" },
		{ MOCK_MISBEHAVE_STALE_STATUS, "stale_status" },
		{ MOCK_MISBEHAVE_PHANTOM_SNAPSHOT, "phantom_snapshot" },
		{ MOCK_MISBEHAVE_IGNORE_SHUTDOWN, "ignore_shutdown" },
	};
	static const long offsets[] = { 600, 3 * 3600, 40 * 86400L, 400 * 86400L };
	int i, n;

	rd->n_faults = (int)pick(s, 4);
	for (i = 0; i < rd->n_faults; i++) {
		char *f = rd->faults[i];
		unsigned times = pick(s, 4);	/* 0: for ever */

		switch (pick(s, 6)) {
		case 0:
			snprintf(f, 160, "kind=401,method=GET,path=/v2/actions/*,after=%u,times=%u",
			    pick(s, 6), times);
			break;
		case 1:
			snprintf(f, 160, "kind=404,method=GET,path=/v2/*actions/[0-9]*,after=%u,"
			    "times=%u", pick(s, 6), times);
			break;
		case 2:
			snprintf(f, 160, "kind=422,method=POST,path=/v2/droplets/[0-9]*/actions,"
			    "p=0.5,after=%u,times=%u", pick(s, 6), times ? times * 3 : 0);
			break;
		default: {
			const char *m = methods[pick(s, 4)], *p = paths[pick(s, 6)];
			int len = snprintf(f, 160, "kind=%s,after=%u,times=%u", kinds[pick(s, 8)],
			    pick(s, 16), 1 + pick(s, 3));

			if (*m)
				len += snprintf(f + len, 160 - (size_t)len, ",method=%s", m);
			if (*p)
				snprintf(f + len, 160 - (size_t)len, ",path=%s", p);
			break;
		}
		}
		describe(rd, " fault[%s]", f);
	}
	n = (int)pick(s, 3);
	for (i = 0; i < n; i++) {
		unsigned d = pick(s, N_DROPLETS), k = pick(s, 4);

		rd->misbehave[d] |= mis[k].bit;
		describe(rd, " %s", names[d]);
		describe(rd, ":%s", mis[k].name);
	}
	switch (pick(s, 20)) {
	case 0: case 1: case 2: case 3: case 4:
		rd->sig = SIGTERM;
		rd->gap_ms = -1;
		break;
	case 5: case 6:
		rd->sig = SIGTERM;
		rd->gap_ms = 20 + pick(s, 300);
		break;
	case 7: case 8: case 9:
		rd->sig = SIGKILL;
		rd->gap_ms = -1;
		break;
	default:
		rd->sig = 0;
	}
	if (rd->sig != 0) {
		char b[64];

		rd->sig_at_ms = (long)pick(s, 900);
		snprintf(b, sizeof(b), "%s at %ld ms%s", rd->sig == SIGKILL ? "SIGKILL" : "SIGTERM",
		    rd->sig_at_ms, rd->gap_ms >= 0 ? " twice" : "");
		describe(rd, " %s", b);
	}
	if (pick(s, 10) < 4) {
		char b[32];

		rd->offset_s = offsets[pick(s, 4)] * (pick(s, 2) ? 1 : -1) + 7 * 60;
		snprintf(b, sizeof(b), "%+lds", rd->offset_s);
		describe(rd, " clock %s", b);
	}
	/* As root, through a read-only mount where the machine allows one. */
	rd->read_only = pick(s, 10) == 0 && (geteuid() != 0 || cu_readonly_supported());
	if (rd->read_only)
		describe(rd, "%s", " read-only state dir");
}

struct world {
	struct mock *m;
	char *dir;
	char url[128];
	char tok[300];
	time_t now;
	uint64_t seed;
	long max_run_ms;
	long total_runs, read_only_rounds;
};

/* One `dosnap snapshot` of the three droplets; OFFSET moves its clock. */
static void
run_once(struct world *w, const char *state, long offset_s, int sig, long sig_at_ms,
    long gap_ms, struct cu_run *r)
{
	char now_arg[32], preload[300], faketime[48];
	const char *argv[] = { "snapshot", "-v", "--api-url", w->url, "--time-scale", SCALE_ARG,
		"--state-dir", state, "--now", now_arg, "--keep", "3", "--max-age", "30d",
		"--shutdown-timeout", "20s", "--timeout", "2m", "--stop-timeout", "5m",
		"--jobs", "3", "401", "402", "403", NULL };
	const char *env[4] = { w->tok, NULL, NULL, NULL };
	const char *lib = cu_faketime_lib();
	long bound_ms = (long)((FLOW_BOUND_S + PRUNE_BOUND_S) * 1000 * SCALE) + SLACK_MS;

	fmt_rfc3339(w->now + offset_s, now_arg, sizeof(now_arg));
	if (offset_s != 0 && lib != NULL) {
		snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", lib);
		snprintf(faketime, sizeof(faketime), "FAKETIME=%+lds", offset_s);
		env[1] = preload;
		env[2] = faketime;
	}
	cu_dosnap(argv, env, sig, sig_at_ms, gap_ms, bound_ms * 3, r);
	if (getenv("DOSNAP_CHAOS_VERBOSE") != NULL)
		printf("--- run (exit %d, %ld ms):\n%s", r->status, r->elapsed_ms, r->err);
	w->total_runs++;
	if (r->elapsed_ms > w->max_run_ms)
		w->max_run_ms = r->elapsed_ms;
}

#define CHAOS_FAIL(rd, r, ...) do { \
	char _m[600]; \
	snprintf(_m, sizeof(_m), __VA_ARGS__); \
	ck_abort_msg("chaos: seed %" PRIu64 " round %d failed: %s\n  round:%s\n  replay: " \
	    "DOSNAP_SUITES=chaos DOSNAP_CHAOS_SEED=%" PRIu64 " DOSNAP_CHAOS_FIRST=%d " \
	    "DOSNAP_CHAOS_ROUNDS=1\n  stderr (last part):\n%s", (rd)->seed, (rd)->index, _m, \
	    (rd)->desc, (rd)->seed, (rd)->index, \
	    (r)->err != NULL && strlen((r)->err) > 2000 ? (r)->err + strlen((r)->err) - 2000 : \
	    (r)->err != NULL ? (r)->err : ""); \
} while (0)

static void
check_run(const struct round *rd, const struct cu_run *r, int sig, const char *what)
{
	long bound_ms = (long)((FLOW_BOUND_S + PRUNE_BOUND_S) * 1000 * SCALE) + SLACK_MS;
	long stop_ms = (long)(STOP_S * 1000 * SCALE) + SLACK_MS;
	const char *san = cu_sanitizer_report(r->err);

	if (san != NULL)
		CHAOS_FAIL(rd, r, "%s: sanitizer report: %.200s", what, san);
	if (r->status < 0)
		CHAOS_FAIL(rd, r, "%s: still running after %ld ms (bound %ld ms)", what,
		    r->elapsed_ms, bound_ms);
	if (r->elapsed_ms > bound_ms)
		CHAOS_FAIL(rd, r, "%s: took %ld ms, over its bound of %ld ms", what, r->elapsed_ms,
		    bound_ms);
	if (sig == SIGTERM && r->signal_ms >= 0 && r->elapsed_ms - r->signal_ms > stop_ms)
		CHAOS_FAIL(rd, r, "%s: ended %ld ms after SIGTERM, over --stop-timeout's %ld ms",
		    what, r->elapsed_ms - r->signal_ms, stop_ms);
	switch (r->status) {
	case 0: case 69: case 73: case 75: case 77:
		break;
	case 128 + SIGKILL:
		if (sig == SIGKILL)
			break;
		CHAOS_FAIL(rd, r, "%s: killed", what);
		break;
	case 128 + SIGTERM:
		/* Signalled before its handler was installed: it had done nothing. */
		if (sig == SIGTERM && r->signal_ms < 200)
			break;
		CHAOS_FAIL(rd, r, "%s: died of SIGTERM %ld ms in", what, r->signal_ms);
		break;
	default:
		CHAOS_FAIL(rd, r, "%s: exit %d", what, r->status);
	}
}

/* Snapshots: none for the slot twice, the kept ones kept, none deleted without the new one. */
static void
check_snapshots(struct world *w, const struct round *rd, const struct cu_run *r,
    const char *slot_names[N_DROPLETS], const char *when)
{
	int i, k;

	for (i = 0; i < N_DROPLETS; i++) {
		int n = count_named(w->m, ids[i], slot_names[i]);

		if (n > 1)
			CHAOS_FAIL(rd, r, "%s: droplet %s has %d snapshots for the slot", when,
			    names[i], n);
		for (k = 0; k < N_OLD; k++) {
			bool kept = count_named(w->m, ids[i], old_names[i][k]) == 1;

			/* The newest KEEP - 1 old ones survive any run with the new one. */
			if (!kept && (k < KEEP - 1 || n == 0))
				CHAOS_FAIL(rd, r, "%s: droplet %s lost '%s'%s", when, names[i],
				    old_names[i][k], n == 0 ? " while its new snapshot is missing" :
				    ", which --keep 3 keeps");
		}
	}
}

static void
one_round(struct world *w, int index)
{
	struct round rd = { .seed = w->seed, .index = index };
	uint64_t s = w->seed ^ (0x5851f42d4c957f2dull * (uint64_t)(index + 1));
	char state[4096], slot_buf[N_DROPLETS][64], slot[32];
	const char *slot_names[N_DROPLETS];
	struct mock_fault f;
	struct cu_run r = { 0 };
	int i, tries, rc = -1;

	plan_round(&rd, &s);
	ck_assert_int_eq(mock_reset(w->m), 0);
	mock_clear_faults(w->m);
	for (i = 0; i < rd.n_faults; i++) {
		ck_assert_msg(mock_fault_parse(rd.faults[i], &f) == 0, "%s", rd.faults[i]);
		ck_assert_int_eq(mock_add_fault(w->m, &f), 0);
	}
	for (i = 0; i < N_DROPLETS; i++) {
		mock_droplet_set_misbehaviour(w->m, ids[i], rd.misbehave[i]);
		fmt_slot(w->now + rd.offset_s - (w->now + rd.offset_s) % 60, slot, sizeof(slot));
		snprintf(slot_buf[i], sizeof(slot_buf[i]), "dosnap-%s-%s", names[i], slot);
		slot_names[i] = slot_buf[i];
	}
	snprintf(state, sizeof(state), "%s/state-%d", w->dir, index);
	ck_assert_int_eq(mkdir(state, 0755), 0);
	w->read_only_rounds += rd.read_only;
	if (rd.read_only && geteuid() != 0)
		chmod(state, 0555);
	else if (rd.read_only)
		cu_set_readonly(state);

	run_once(w, state, rd.offset_s, rd.sig, rd.sig_at_ms, rd.gap_ms, &r);
	check_run(&rd, &r, rd.sig, "the chaos run");
	/* A state directory it cannot write stops the run before any droplet is touched. */
	if (rd.read_only && r.status < 128 && (r.status != 73 ||
	    (strstr(r.err, "Read-only file system") == NULL &&
	    strstr(r.err, "Permission denied") == NULL)))
		CHAOS_FAIL(&rd, &r, "a read-only state dir: exit %d, not 73 naming the cause", r.status);
	check_snapshots(w, &rd, &r, slot_names, "after the chaos run");
	cu_run_release(&r);

	/* The next runs, as the timer would start them: no faults, a right clock. */
	cu_set_readonly(NULL);
	if (rd.read_only)
		chmod(state, 0755);
	mock_clear_faults(w->m);
	for (i = 0; i < N_DROPLETS; i++)
		mock_droplet_set_misbehaviour(w->m, ids[i], 0);
	for (tries = 0; tries < RECOVERY_TRIES; tries++) {
		run_once(w, state, rd.offset_s, 0, 0, -1, &r);
		check_run(&rd, &r, 0, "a recovery run");
		rc = r.status;
		if (rc == 0 || tries == RECOVERY_TRIES - 1)
			break;
		cu_run_release(&r);
		{
			struct timespec ts = { 0, 100 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
	}
	if (rc != 0)
		CHAOS_FAIL(&rd, &r, "no run succeeded in %d tries after the chaos run (last exit %d)",
		    RECOVERY_TRIES, rc);
	for (i = 0; i < N_DROPLETS; i++) {
		struct mock_droplet_info info;

		ck_assert_int_eq(mock_droplet_get(w->m, ids[i], &info), 0);
		if (strcmp(info.status, was_active[i] ? "active" : "off") != 0)
			CHAOS_FAIL(&rd, &r, "droplet %s is %s, was %s before", names[i], info.status,
			    was_active[i] ? "active" : "off");
		if (count_named(w->m, ids[i], slot_names[i]) != 1)
			CHAOS_FAIL(&rd, &r, "droplet %s has %d snapshots for the slot after recovery",
			    names[i], count_named(w->m, ids[i], slot_names[i]));
	}
	check_snapshots(w, &rd, &r, slot_names, "after recovery");
	cu_run_release(&r);
	tu_rmtree(state);
}

static long
env_long(const char *name, long def)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (v == NULL || *v == '\0')
		return def;
	n = strtol(v, &end, 10);
	return *end == '\0' ? n : def;
}

START_TEST(test_chaos)
{
	struct mock_config cfg;
	struct world w = { 0 };
	char *fixture;
	const char *seed_env = getenv("DOSNAP_CHAOS_SEED");
	long rounds = env_long("DOSNAP_CHAOS_ROUNDS", 12), first = env_long("DOSNAP_CHAOS_FIRST", 0);
	long t0 = cu_now_ms();
	int i;

	w.seed = seed_env != NULL && *seed_env ? strtoull(seed_env, NULL, 10) :
	    (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
	printf("chaos: seed %" PRIu64 ", rounds %ld from %ld%s (replay: DOSNAP_CHAOS_SEED=%" PRIu64
	    ")\n", w.seed, rounds, first, cu_faketime_lib() != NULL ? "" :
	    "; libfaketime missing: clock offsets through --now only", w.seed);
	(void)fflush(stdout);
	w.now = time(NULL);
	w.dir = tu_mkdtemp();
	fixture = write_fixture(w.dir, w.now);
	mu_config(&cfg, NULL);
	cfg.fixture_path = fixture;
	cfg.time_scale = SCALE;
	cfg.seed = w.seed;
	w.m = mu_start(&cfg);
	snprintf(w.url, sizeof(w.url), "%s", mock_url(w.m));
	snprintf(w.tok, sizeof(w.tok), "DO_TOKEN=%s", mock_token(w.m));
	/*
	 * A SIGTERM meant for a process whose pid this test now has (other
	 * test runs on a shared machine) must not end a long soak.
	 */
	signal(SIGTERM, SIG_IGN);
	for (i = (int)first; i < first + rounds; i++) {
		one_round(&w, i);
		if ((i - first + 1) % 50 == 0) {
			printf("chaos: %ld rounds passed, %.0f s\n", i - first + 1,
			    (double)(cu_now_ms() - t0) / 1000);
			(void)fflush(stdout);
		}
	}
	signal(SIGTERM, SIG_DFL);
	printf("chaos: %ld rounds passed in %.1f s (%ld runs, the longest %ld ms; %ld rounds with a "
	    "read-only state dir%s); seed %" PRIu64 "\n", rounds, (double)(cu_now_ms() - t0) / 1000,
	    w.total_runs, w.max_run_ms, w.read_only_rounds, geteuid() != 0 ? "" :
	    cu_readonly_supported() ? ", as root through a read-only mount" :
	    ", none: root, and this machine allows no mount namespace", w.seed);
	(void)fflush(stdout);
	mock_stop(w.m);
	free(fixture);
	tu_rmtree(w.dir);
	free(w.dir);
}
END_TEST

Suite *
chaos_suite(void)
{
	Suite *s = suite_create("chaos");
	TCase *tc = tcase_create("chaos");

	/* CI's 500 rounds take minutes; a long soak sets CK_DEFAULT_TIMEOUT higher. */
	tcase_set_timeout(tc, 3600);
	tcase_add_test(tc, test_chaos);
	suite_add_tcase(s, tc);
	return s;
}
