/* check_cli: the real dosnap binary: check, next, run --dry-run, the lock, damaged state. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dosnap/state.h"
#include "dosnap/util.h"
#include "mockutil.h"
#include "suites.h"
#include "testutil.h"

#define GOOD_SCHEDULE \
	"# nightly\n" \
	"CRON_TZ=Europe/Berlin\n" \
	"30 3 * * sun,thu   123456 111111   keep=4\n" \
	"CRON_TZ=UTC\n" \
	"@daily             tag:web         keep=7 power=live\n" \
	"0 */6 * * *        name:db-primary shutdown-timeout=3m timeout=2h\n"

struct fixture {
	char *dir;
	char *schedule;
	char *state_dir;
};

static void
fixture_init(struct fixture *f, const char *schedule)
{
	f->dir = tu_mkdtemp();
	f->schedule = tu_write(f->dir, "schedule", schedule);
	f->state_dir = str_printf("%s/state", f->dir);
}

static void
fixture_release(struct fixture *f)
{
	tu_rmtree(f->dir);
	free(f->dir);
	free(f->schedule);
	free(f->state_dir);
}

START_TEST(test_check_valid)
{
	struct fixture f;
	struct tu_result res;
	const char *argv[] = { "check", "-f", NULL, "--now", "2026-11-26T00:00:00Z", NULL };

	fixture_init(&f, GOOD_SCHEDULE);
	argv[2] = f.schedule;
	tu_run_dosnap(argv, NULL, &res);
	ck_assert_msg(res.status == 0, "exit %d: %s", res.status, res.err);
	ck_assert_ptr_nonnull(strstr(res.out, "3 entries, valid"));
	ck_assert_ptr_nonnull(strstr(res.out, "Europe/Berlin"));
	/* Thursday 2026-11-26 03:30 in Berlin is 02:30 UTC. */
	ck_assert_ptr_nonnull(strstr(res.out, "next 2026-11-26T03:30:00+01:00"));
	ck_assert_ptr_nonnull(strstr(res.out, "next 2026-11-26T06:00:00+00:00"));
	tu_result_release(&res);
	fixture_release(&f);
}
END_TEST

/* Every error is reported, compiler style, with a caret under the column. */
START_TEST(test_check_errors)
{
	struct fixture f;
	struct tu_result res;
	const char *argv[] = { "check", "-f", NULL, NULL };
	char want[512];

	fixture_init(&f,
	    "# two mistakes\n"
	    "30 3 * * friday 123\n"
	    "0 0 * * * 5 keep=x\n");
	argv[2] = f.schedule;
	tu_run_dosnap(argv, NULL, &res);
	ck_assert_int_eq(res.status, 78);
	snprintf(want, sizeof(want), "%s:2:10: error: ", f.schedule);
	ck_assert_msg(strstr(res.err, want) != NULL, "no '%s' in:\n%s", want, res.err);
	ck_assert_ptr_nonnull(strstr(res.err, "  30 3 * * friday 123\n           ^\n"));
	ck_assert_ptr_nonnull(strstr(res.err, "fri"));
	snprintf(want, sizeof(want), "%s:3:13: error: ", f.schedule);
	ck_assert_msg(strstr(res.err, want) != NULL, "no '%s' in:\n%s", want, res.err);
	ck_assert_ptr_nonnull(strstr(res.err, "2 errors; nothing was run"));
	ck_assert_str_eq(res.out, "");
	tu_result_release(&res);
	fixture_release(&f);
}
END_TEST

START_TEST(test_missing_schedule)
{
	struct tu_result res;
	const char *argv[] = { "check", NULL };
	const char *env[] = { "DOSNAP_SCHEDULE=/nonexistent/schedule", NULL };

	tu_run_dosnap(argv, env, &res);
	ck_assert_int_eq(res.status, 66);
	ck_assert_ptr_nonnull(strstr(res.err, "/nonexistent/schedule"));
	tu_result_release(&res);
}
END_TEST

START_TEST(test_usage_errors)
{
	static const char *const cases[][4] = {
		{ "frobnicate", NULL },
		{ "next", "-n", "0", NULL },
		{ "next", "--tz", "UTC", NULL },
		{ "run", "--jobs", "x", NULL },
		{ "check", "--bogus", NULL },
		{ "--now", "yesterday", "check", NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tu_result res;

		tu_run_dosnap(cases[i], NULL, &res);
		ck_assert_msg(res.status == 64, "case %zu: exit %d", i, res.status);
		ck_assert_ptr_nonnull(strstr(res.err, "--help"));
		tu_result_release(&res);
	}
}
END_TEST

START_TEST(test_next_expr)
{
	struct tu_result res;
	const char *argv[] = { "next", "--expr", "30 2 * * *", "--tz", "Europe/Berlin",
		"--from", "2026-03-28T00:00:00Z", "-n", "3", NULL };

	tu_run_dosnap(argv, NULL, &res);
	ck_assert_msg(res.status == 0, "exit %d: %s", res.status, res.err);
	/* 02:30 does not exist on 2026-03-29 in Berlin: it fires at 03:00 CEST. */
	ck_assert_str_eq(res.out,
	    "2026-03-28T02:30:00+01:00\n"
	    "2026-03-29T03:00:00+02:00\n"
	    "2026-03-30T02:30:00+02:00\n");
	tu_result_release(&res);
}
END_TEST

START_TEST(test_next_schedule_merged)
{
	struct fixture f;
	struct tu_result res;
	const char *argv[] = { "next", "-f", NULL, "-n", "3", "--from", "2026-11-26T05:00:00Z", NULL };
	const char *argv_json[] = { "next", "-f", NULL, "-n", "2", "--json",
		"--from", "2026-11-26T05:00:00Z", NULL };

	fixture_init(&f, GOOD_SCHEDULE);
	argv[2] = f.schedule;
	tu_run_dosnap(argv, NULL, &res);
	ck_assert_msg(res.status == 0, "exit %d: %s", res.status, res.err);
	ck_assert_str_eq(res.out,
	    "2026-11-26T06:00:00+00:00  line 6    name:db-primary\n"
	    "2026-11-26T12:00:00+00:00  line 6    name:db-primary\n"
	    "2026-11-26T18:00:00+00:00  line 6    name:db-primary\n");
	tu_result_release(&res);

	argv_json[2] = f.schedule;
	tu_run_dosnap(argv_json, NULL, &res);
	ck_assert_int_eq(res.status, 0);
	ck_assert_ptr_nonnull(strstr(res.out, "\"time\":\"2026-11-26T06:00:00+00:00\""));
	ck_assert_ptr_nonnull(strstr(res.out, "\"line\":6"));
	ck_assert_ptr_nonnull(strstr(res.out, "\"targets\":\"name:db-primary\""));
	tu_result_release(&res);
	fixture_release(&f);
}
END_TEST

START_TEST(test_dry_run_touches_nothing)
{
	struct fixture f;
	struct tu_result res;
	const char *argv[] = { "run", "--dry-run", "-f", NULL, "--state-dir", NULL,
		"--now", "2026-11-26T06:00:30Z", NULL };

	fixture_init(&f, GOOD_SCHEDULE);
	argv[3] = f.schedule;
	argv[5] = f.state_dir;
	tu_run_dosnap(argv, NULL, &res);
	ck_assert_msg(res.status == 0, "exit %d: %s", res.status, res.err);
	ck_assert_ptr_nonnull(strstr(res.out, "due: line 6 slot 2026-11-26T06:00:00+00:00"));
	ck_assert_ptr_null(strstr(res.out, "line 3"));
	ck_assert_int_eq(access(f.state_dir, F_OK), -1);
	tu_result_release(&res);
	fixture_release(&f);
}
END_TEST

START_TEST(test_run_nothing_due_writes_state_once)
{
	struct fixture f;
	struct tu_result res;
	const char *argv[] = { "run", "-f", NULL, "--state-dir", NULL,
		"--now", "2026-11-26T07:00:30Z", NULL };
	char *path = NULL;
	struct stat a, b;

	fixture_init(&f, GOOD_SCHEDULE);
	argv[2] = f.schedule;
	argv[4] = f.state_dir;
	tu_run_dosnap(argv, NULL, &res);
	ck_assert_msg(res.status == 0, "exit %d: %s", res.status, res.err);
	tu_result_release(&res);
	ck_assert_int_eq(state_path_for(f.state_dir, f.schedule, &path), 0);
	ck_assert_int_eq(stat(path, &a), 0);
	ck_assert_uint_eq(a.st_mode & 0777, 0600);

	/* The next minute finds nothing due and the file is left as it was. */
	argv[6] = "2026-11-26T07:01:30Z";
	tu_run_dosnap(argv, NULL, &res);
	ck_assert_int_eq(res.status, 0);
	ck_assert_int_eq(stat(path, &b), 0);
	ck_assert_uint_eq(a.st_ino, b.st_ino);
	tu_result_release(&res);
	free(path);
	fixture_release(&f);
}
END_TEST

/* Two invocations at once: the second finds the lock taken and exits 0. */
START_TEST(test_lock_taken)
{
	struct fixture f;
	struct tu_result res;
	const char *argv[] = { "run", "-f", NULL, "--state-dir", NULL,
		"--now", "2026-11-26T06:00:30Z", NULL };
	char *path = NULL;
	int fd = -1;

	fixture_init(&f, GOOD_SCHEDULE);
	argv[2] = f.schedule;
	argv[4] = f.state_dir;
	ck_assert_int_eq(state_dir_prepare(f.state_dir), 0);
	ck_assert_int_eq(state_path_for(f.state_dir, f.schedule, &path), 0);
	ck_assert_int_eq(state_lock(path, &fd), 0);
	tu_run_dosnap(argv, NULL, &res);
	ck_assert_msg(res.status == 0, "exit %d: %s", res.status, res.err);
	ck_assert_ptr_nonnull(strstr(res.err, "holds the lock"));
	ck_assert_int_eq(access(path, F_OK), -1);
	tu_result_release(&res);
	state_unlock(fd);
	free(path);
	fixture_release(&f);
}
END_TEST

START_TEST(test_damaged_state_moved_aside)
{
	struct fixture f;
	struct tu_result res;
	const char *argv[] = { "run", "-f", NULL, "--state-dir", NULL,
		"--now", "2026-11-26T07:00:30Z", NULL };
	char *path = NULL, *aside;
	struct state st;
	FILE *sf;

	fixture_init(&f, GOOD_SCHEDULE);
	argv[2] = f.schedule;
	argv[4] = f.state_dir;
	ck_assert_int_eq(state_dir_prepare(f.state_dir), 0);
	ck_assert_int_eq(state_path_for(f.state_dir, f.schedule, &path), 0);
	sf = fopen(path, "w");
	ck_assert_ptr_nonnull(sf);
	fputs("dosnap-state 1\nlast-run 1\ngarbage here\n", sf);
	ck_assert_int_eq(fclose(sf), 0);

	tu_run_dosnap(argv, NULL, &res);
	ck_assert_msg(res.status == 0, "exit %d: %s", res.status, res.err);
	ck_assert_ptr_nonnull(strstr(res.err, "damaged (line 3)"));
	ck_assert_ptr_nonnull(strstr(res.err, "moved it aside"));
	aside = str_printf("%s.corrupt-%d", path, 1795676430);
	ck_assert_int_eq(access(aside, F_OK), 0);
	state_init(&st);
	ck_assert_int_eq(state_load(path, &st, NULL), 0);
	ck_assert_uint_eq(st.n_entries, 3);
	state_release(&st);
	tu_result_release(&res);
	free(aside);
	free(path);
	fixture_release(&f);
}
END_TEST

START_TEST(test_state_dir_group_writable)
{
	struct fixture f;
	struct tu_result res;
	const char *argv[] = { "run", "-f", NULL, "--state-dir", NULL, NULL };

	fixture_init(&f, GOOD_SCHEDULE);
	argv[2] = f.schedule;
	argv[4] = f.state_dir;
	ck_assert_int_eq(mkdir(f.state_dir, 0700), 0);
	ck_assert_int_eq(chmod(f.state_dir, 0777), 0);
	tu_run_dosnap(argv, NULL, &res);
	ck_assert_int_eq(res.status, 73);
	ck_assert_ptr_nonnull(strstr(res.err, "chmod 700"));
	tu_result_release(&res);
	fixture_release(&f);
}
END_TEST

START_TEST(test_help_and_version)
{
	static const char *const cases[][3] = {
		{ "--help", NULL }, { "run", "--help", NULL }, { "check", "--help", NULL },
		{ "next", "--help", NULL }, { "--version", NULL },
		/* Each command prints its help and stops: nothing is looked up. */
		{ "snapshot", "--help", NULL }, { "prune", "--help", NULL },
		{ "list", "--help", NULL }, { "status", "--help", NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tu_result res;

		tu_run_dosnap(cases[i], NULL, &res);
		ck_assert_msg(res.status == 0, "case %zu: exit %d", i, res.status);
		ck_assert(strstr(res.out, "Usage: dosnap") != NULL || strstr(res.out, "dosnap 0.") != NULL);
		ck_assert_msg(res.err[0] == '\0', "case %zu: stderr: %s", i, res.err);
		tu_result_release(&res);
	}
}
END_TEST

/*
 * No option may be abbreviated: getopt_long took "--tok" and "--token" for
 * --token-file, with the token as the file name, and printed it.  --token is
 * refused with the safe ways to pass a token, and no value is ever echoed.
 */
#define SECRET "dop_v1_5eC12e7deadbeef0123456789abcdef0123456789abcdef0123456789ab"

static const struct abbrev_row {
	const char *argv[6];
	int status;
	const char *err_has;
} abbrev_rows[] = {
	{ { "list", "--token", SECRET, NULL }, 64, "--token-file FILE" },
	{ { "list", "--tok=" SECRET, NULL }, 64, "--token-file FILE" },
	{ { "list", "--token=" SECRET, NULL }, 64, "process list" },
	{ { "--token", SECRET, "list", NULL }, 64, "--token-file FILE" },
	{ { "snapshot", "--toke", SECRET, "123", NULL }, 64, "--token-file FILE" },
	{ { "list", "--token-f", "/nonexistent", NULL }, 64, "did you mean '--token-file'?" },
	{ { "check", "--sched", "/nonexistent", NULL }, 64, "not abbreviated" },
	{ { "--vers", NULL }, 64, "did you mean '--version'?" },
	{ { "run", "--dry", NULL }, 64, "did you mean '--dry-run'?" },
	{ { "check", "--bogus=" SECRET, NULL }, 64, "unknown option '--bogus'" },
	{ { "list", "--token-file", SECRET, NULL }, 78, "looks like a token" },
	/* Pasted as a target, after "--" too, it is not echoed as an invalid target. */
	{ { "list", "--", "--token", SECRET, NULL }, 64, "looks like an API token" },
	{ { "snapshot", "--dry-run", SECRET, NULL }, 64, "looks like an API token" },
	{ { "prune", "--keep", "3", "--", SECRET, NULL }, 64, "looks like an API token" },
};

START_TEST(test_no_abbreviations)
{
	const struct abbrev_row *row = &abbrev_rows[_i];
	const char *env[] = { "DOSNAP_API_URL=http://127.0.0.1:9", NULL };
	struct tu_result res;

	tu_run_dosnap(row->argv, env, &res);
	ck_assert_msg(res.status == row->status, "row %d: exit %d: %s", _i, res.status, res.err);
	ck_assert_msg(strstr(res.err, row->err_has) != NULL, "row %d: no '%s' in: %s", _i,
	    row->err_has, res.err);
	/* Not the token, nor any part of it past its well-known prefix. */
	ck_assert_msg(strstr(res.err, "5eC12e7") == NULL && strstr(res.out, "5eC12e7") == NULL,
	    "row %d echoes the token: %s", _i, res.err);
	tu_result_release(&res);
}
END_TEST

/* The full names still work, before and after the command. */
START_TEST(test_full_option_names)
{
	struct fixture f;
	struct tu_result res;
	const char *argv[] = { "--schedule", NULL, "check", "--now=2026-11-26T00:00:00Z",
		"--log-format", "text", NULL };

	fixture_init(&f, GOOD_SCHEDULE);
	argv[1] = f.schedule;
	tu_run_dosnap(argv, NULL, &res);
	ck_assert_msg(res.status == 0, "exit %d: %s", res.status, res.err);
	ck_assert_ptr_nonnull(strstr(res.out, "3 entries, valid"));
	tu_result_release(&res);
	fixture_release(&f);
}
END_TEST

/*
 * What `check` echoes of a line is cut to a window around the column: a line
 * over the limit used to come back whole, with a caret line as long.  Bytes
 * from the file that a terminal would act on never reach it.
 */
START_TEST(test_check_echo_cut)
{
	struct fixture f;
	struct tu_result res;
	const char *argv[] = { "check", "-f", NULL, NULL };
	char *text, *line, *p;
	size_t longest = 0;

	text = malloc(6000);
	ck_assert_ptr_nonnull(text);
	p = text + sprintf(text, "CRON_TZ=UTC\n0 4 * * * tag:");
	memset(p, 'a', 5000);
	p += 5000;
	sprintf(p, "\n0 4 * * * tag:web keep=\033[2J\033]0;pwned\007\n");
	fixture_init(&f, text);
	argv[2] = f.schedule;
	tu_run_dosnap(argv, NULL, &res);
	ck_assert_int_eq(res.status, 78);
	ck_assert_ptr_nonnull(strstr(res.err, ":2:4097: error: line is longer than 4096 bytes"));
	ck_assert_ptr_nonnull(strstr(res.err, "  ...aaaa"));
	for (line = res.err; *line != '\0';) {
		size_t n = strcspn(line, "\n");

		if (n > longest)
			longest = n;
		line += n + (line[n] == '\n');
	}
	ck_assert_msg(longest < 300, "a line of %zu bytes in:\n%.2000s", longest, res.err);
	ck_assert_ptr_nonnull(strstr(res.err, ":3:19: error: keep must be"));
	ck_assert_msg(strchr(res.err, '\033') == NULL && strchr(res.err, '\007') == NULL,
	    "control bytes on stderr:\n%s", res.err);
	tu_result_release(&res);
	fixture_release(&f);
	free(text);
}
END_TEST

/* A repeated entry is a warning: the schedule stays valid, and `check` says where. */
START_TEST(test_check_repeated_entry)
{
	struct fixture f;
	struct tu_result res;
	const char *argv[] = { "check", "-f", NULL, "--now", "2026-11-26T00:00:00Z", NULL, NULL };
	char want[512];

	fixture_init(&f, "CRON_TZ=UTC\n30 3 * * * 123 keep=4\n30 3 * * *  123  keep=4\n");
	argv[2] = f.schedule;
	tu_run_dosnap(argv, NULL, &res);
	ck_assert_msg(res.status == 0, "exit %d: %s", res.status, res.err);
	ck_assert_ptr_nonnull(strstr(res.out, "2 entries, valid"));
	snprintf(want, sizeof(want), "dosnap: warning: %s:3: the same entry as line 2", f.schedule);
	ck_assert_msg(strstr(res.err, want) != NULL, "no '%s' in:\n%s", want, res.err);
	ck_assert_ptr_null(strstr(res.err, "error"));
	tu_result_release(&res);

	/* In a JSON log, the warning is a JSON line like any other. */
	argv[5] = "--log-format=json";
	argv[6] = NULL;
	tu_run_dosnap(argv, NULL, &res);
	ck_assert_msg(res.status == 0, "exit %d: %s", res.status, res.err);
	ck_assert_msg(strncmp(res.err, "{\"time\":", 8) == 0 &&
	    strstr(res.err, "\"level\":\"warning\"") != NULL, "%s", res.err);
	tu_result_release(&res);
	fixture_release(&f);
}
END_TEST

/* A misspelt zone on the command line gets a "did you mean" too. */
START_TEST(test_next_tz_suggest)
{
	struct tu_result res;
	const char *argv[] = { "next", "--expr", "@daily", "--tz", "Europe/Berln", NULL };

	tu_run_dosnap(argv, NULL, &res);
	ck_assert_int_eq(res.status, 64);
	ck_assert_msg(strstr(res.err, "did you mean 'Europe/Berlin'?") != NULL, "%s", res.err);
	tu_result_release(&res);
}
END_TEST

/*
 * `list` with a target that names no droplet says so and exits 69, as
 * `snapshot` and `prune` do, instead of "(no snapshots)" and 0.
 */
START_TEST(test_list_unmatched_target)
{
	struct mock_config cfg;
	struct mock *m;
	struct tu_result res;
	char token_env[256];
	const char *env[] = { token_env, NULL };
	const char *argv[] = { "list", "--api-url", NULL, "name:nope", NULL, NULL };

	mu_config(&cfg, "demo.json");
	m = mu_start(&cfg);
	snprintf(token_env, sizeof(token_env), "DO_TOKEN=%s", mock_token(m));
	argv[2] = mock_url(m);
	tu_run_dosnap(argv, env, &res);
	ck_assert_msg(res.status == 69, "exit %d: %s%s", res.status, res.out, res.err);
	ck_assert_msg(strstr(res.err, "name:nope matches no droplet") != NULL, "%s", res.err);
	ck_assert_ptr_null(strstr(res.out, "(no snapshots)"));
	tu_result_release(&res);

	/* With a target that matches, its snapshots are shown and the exit is still 69. */
	argv[4] = "name:web-1";
	tu_run_dosnap(argv, env, &res);
	ck_assert_msg(res.status == 69, "exit %d: %s%s", res.status, res.out, res.err);
	ck_assert_ptr_nonnull(strstr(res.out, "web-1-before-upgrade"));
	ck_assert_ptr_nonnull(strstr(res.err, "name:nope matches no droplet"));
	ck_assert_ptr_null(strstr(res.err, "web-1 matches"));
	tu_result_release(&res);

	argv[3] = "tag:nope";
	argv[4] = NULL;
	tu_run_dosnap(argv, env, &res);
	ck_assert_int_eq(res.status, 69);
	ck_assert_ptr_nonnull(strstr(res.err, "tag:nope matches no droplet"));
	tu_result_release(&res);
	mock_stop(m);
}
END_TEST

/* `status` fails when the schedule cannot be read, after showing the journal. */
START_TEST(test_status_unreadable_schedule)
{
	struct fixture f;
	struct tu_result res;
	const char *argv[] = { "status", "-f", NULL, "--state-dir", NULL, NULL };
	char *missing;

	fixture_init(&f, "0 0 * * * 1 keep=x\n");
	missing = str_printf("%s/missing", f.dir);
	argv[2] = missing;
	argv[4] = f.state_dir;
	tu_run_dosnap(argv, NULL, &res);
	ck_assert_msg(res.status == 66, "exit %d: %s", res.status, res.err);
	ck_assert_ptr_nonnull(strstr(res.out, "intent journal"));
	ck_assert_ptr_nonnull(strstr(res.err, "cannot read schedule file"));
	tu_result_release(&res);

	argv[2] = f.schedule;
	tu_run_dosnap(argv, NULL, &res);
	ck_assert_msg(res.status == 78, "exit %d: %s", res.status, res.err);
	ck_assert_ptr_nonnull(strstr(res.err, "keep must be"));
	tu_result_release(&res);
	free(missing);
	fixture_release(&f);
}
END_TEST

/*
 * The help and the man page put each option's text with its option: `run
 * --help` had the --notify explanation under --rate-limit, and the man
 * page's `snapshot` synopsis lacked --rate-limit.
 */
START_TEST(test_help_texts)
{
	static const char *const flow_cmds[] = { "run", "snapshot", "prune" };
	struct tu_result res;
	const char *argv[] = { "run", "--help", NULL };
	char path[4096], *man = NULL, *p;
	size_t len, i;

	tu_run_dosnap(argv, NULL, &res);
	ck_assert_int_eq(res.status, 0);
	p = strstr(res.out, "  --notify URL");
	ck_assert_ptr_nonnull(p);
	p = strchr(p, '\n');
	ck_assert_ptr_nonnull(p);
	ck_assert_msg(strncmp(p + 1, "              (healthchecks.io style", 36) == 0,
	    "the line after --notify is not its own:\n%s", res.out);
	tu_result_release(&res);

	snprintf(path, sizeof(path), "%s/src/man/dosnap.1", tu_srcdir());
	ck_assert_int_eq(read_file_capped(path, 1 << 20, &man, &len), 0);
	for (i = 0; i < sizeof(flow_cmds) / sizeof(flow_cmds[0]); i++) {
		char cm[64], *start, *end;

		snprintf(cm, sizeof(cm), "\n.Cm %s\n", flow_cmds[i]);
		start = strstr(man, cm);
		ck_assert_msg(start != NULL, "no synopsis for %s", flow_cmds[i]);
		end = strstr(start + 1, "\n.Nm dosnap\n");
		ck_assert_ptr_nonnull(end);
		*end = '\0';
		ck_assert_msg(strstr(start, ".Op Fl -rate-limit") != NULL,
		    "the %s synopsis lacks --rate-limit", flow_cmds[i]);
		ck_assert_msg(strstr(start, ".Op Fl -notify") != NULL,
		    "the %s synopsis lacks --notify", flow_cmds[i]);
		*end = '\n';
	}
	free(man);
}
END_TEST

/* With no token anywhere, the error says so once and lists where it looked. */
START_TEST(test_no_token_said_once)
{
	struct tu_result res;
	const char *argv[] = { "list", "--api-url", "http://127.0.0.1:9", NULL };
	const char *p;

	tu_run_dosnap(argv, NULL, &res);
	ck_assert_int_eq(res.status, 78);
	p = strstr(res.err, "no DigitalOcean API token: looked for --token-file");
	ck_assert_msg(p != NULL, "%s", res.err);
	ck_assert_msg(strstr(res.err, "no API token found") == NULL, "said twice: %s", res.err);
	tu_result_release(&res);
}
END_TEST

/*
 * Run dosnap with ARGV and ENV (as tu_run_dosnap) with its stderr on a
 * pseudo-terminal, so that it draws its live status line; return what it
 * wrote there (malloc'd) and its exit status in *STATUS.  Bounded to 60 s.
 */
static char *
run_on_pty(const char *const *argv, const char *const *env, int *status)
{
	const char *fullargv[64], *fullenv[16];
	size_t n = 0, m = 0, i, len = 0, cap = 1 << 20;
	char *buf = malloc(cap + 1);
	time_t deadline = time(NULL) + 60;
	int master, slave, st;
	pid_t pid;

	ck_assert_ptr_nonnull(buf);
	fullargv[n++] = tu_dosnap_bin();
	for (i = 0; argv[i] != NULL && n < 63; i++)
		fullargv[n++] = argv[i];
	fullargv[n] = NULL;
	fullenv[m++] = "PATH=/usr/bin:/bin";
	fullenv[m++] = "HOME=/nonexistent";
	fullenv[m++] = "TZ=UTC";
	for (i = 0; env[i] != NULL && m < 15; i++)
		fullenv[m++] = env[i];
	fullenv[m] = NULL;
	ck_assert_int_eq(openpty(&master, &slave, NULL, NULL, NULL), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);

		dup2(nul, 0);
		dup2(nul, 1);
		dup2(slave, 2);
		close(master);
		execve(fullargv[0], (char *const *)fullargv, (char *const *)fullenv);
		_exit(127);
	}
	close(slave);
	/* Read until the child closes its end (EIO on Linux), within the deadline. */
	while (len < cap && time(NULL) < deadline) {
		struct pollfd pfd = { .fd = master, .events = POLLIN };
		ssize_t got;

		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		got = read(master, buf + len, cap - len);
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	buf[len] = '\0';
	if (time(NULL) >= deadline)
		kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	close(master);
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return buf;
}

/*
 * The live status line ends showing what is true: every droplet done, none
 * still "snapshotting".  It was redrawn at most every 250 ms, and the last
 * state was never drawn when the run ended in between.
 */
START_TEST(test_status_line_ends_done)
{
	struct mock_config cfg;
	struct mock *m;
	char token_env[256], *dir, *state_dir, *out, *p, last[256] = "";
	const char *env[] = { token_env, NULL };
	const char *argv[] = { "snapshot", "--api-url", NULL, "--time-scale", "0.01",
		"--state-dir", NULL, "--now", "2026-11-26T03:30:20Z", "310000001", "310000002",
		NULL };
	int status;

	mu_config(&cfg, "demo.json");
	m = mu_start(&cfg);
	dir = tu_mkdtemp();
	state_dir = str_printf("%s/state", dir);
	snprintf(token_env, sizeof(token_env), "DO_TOKEN=%s", mock_token(m));
	argv[2] = mock_url(m);
	argv[6] = state_dir;
	out = run_on_pty(argv, env, &status);
	ck_assert_msg(status == 0, "exit %d:\n%s", status, out);
	/* Each drawing of the status line starts with "\r\033[K"; keep the last one drawn. */
	for (p = strstr(out, "\r\033[K"); p != NULL; p = strstr(p + 1, "\r\033[K")) {
		const char *text = p + 4;
		size_t n = strcspn(text, "\r\n");

		if (n > 0 && text[0] == '[')
			snprintf(last, sizeof(last), "%.*s", (int)n, text);
	}
	ck_assert_msg(strncmp(last, "[2/2 done]", 10) == 0 && strstr(last, " 0 snapshotting") != NULL,
	    "the last status line drawn: '%s'", last);
	free(out);
	mock_stop(m);
	tu_rmtree(dir);
	free(dir);
	free(state_dir);
}
END_TEST

/* S with every FROM replaced by TO; malloc'd. */
static char *
replace_all(const char *s, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to), n = 0;
	const char *p;
	char *out, *o;

	for (p = strstr(s, from); p != NULL; p = strstr(p + fl, from))
		n++;
	out = malloc(strlen(s) + n * tl + 1);
	ck_assert_ptr_nonnull(out);
	out[0] = '\0';
	for (o = out; (p = strstr(s, from)) != NULL; s = p + fl)
		o += sprintf(o, "%.*s%s", (int)(p - s), s, to);
	strcpy(o, s);
	return out;
}

/* README.md, read whole (malloc'd). */
static char *
read_readme(void)
{
	char path[4096], *text = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/README.md", tu_srcdir());
	ck_assert_int_eq(read_file_capped(path, 1 << 20, &text, &len), 0);
	return text;
}

/*
 * The README's commands work as written: the token file's `install` on an
 * account without ~/.config (it needs -D), and the mock snippet, which read
 * the port file before the mock had written it.
 */
START_TEST(test_readme_install_token)
{
	char *readme = read_readme(), *dir, *line, *cmd, *file;
	const char *argv[] = { "-c", NULL, NULL };
	struct tu_result res;
	struct stat st;
	const char *p, *end;

	p = strstr(readme, "/dev/stdin ~/.config/dosnap-token");
	ck_assert_ptr_nonnull(p);
	while (p > readme && p[-1] != '\n')
		p--;
	end = strchr(p, '#');
	ck_assert_ptr_nonnull(end);
	line = strndup(p, (size_t)(end - p));
	ck_assert_ptr_nonnull(line);
	dir = tu_mkdtemp();	/* a fresh home: no ~/.config yet */
	file = str_printf("%s/", dir);
	cmd = replace_all(line, "~/", file);
	argv[1] = cmd;
	tu_run("/bin/sh", argv, NULL, &res);
	ck_assert_msg(res.status == 0, "'%s': exit %d: %s", cmd, res.status, res.err);
	free(file);
	file = str_printf("%s/.config/dosnap-token", dir);
	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	tu_result_release(&res);
	free(file);
	free(cmd);
	free(line);
	tu_rmtree(dir);
	free(dir);
	free(readme);
}
END_TEST

START_TEST(test_readme_mock_snippet)
{
	char *readme = read_readme(), *block, *a, *b, *script, *dir, *env_mock, *env_dosnap,
	    *env_port;
	const char *argv[] = { "-c", NULL, NULL };
	const char *env[4];
	const char *mock_bin = getenv("DOSNAP_MOCK_BIN");
	struct tu_result res;
	const char *p, *end;

	p = strstr(readme, "\n## dosnap-mock\n");
	ck_assert_ptr_nonnull(p);
	p = strstr(p, "```sh\n");
	ck_assert_ptr_nonnull(p);
	p += 6;
	end = strstr(p, "```");
	ck_assert_ptr_nonnull(end);
	block = strndup(p, (size_t)(end - p));
	ck_assert_ptr_nonnull(block);
	a = replace_all(block, "build/dosnap-mock", "\"$MOCK\"");
	b = replace_all(a, "build/dosnap ", "\"$DOSNAP\" ");
	free(a);
	a = replace_all(b, "/tmp/port", "\"$PORTFILE\"");
	/* The mock the snippet leaves running is stopped here, whatever happened. */
	script = str_printf("cd '%s' || exit 99\n%s\ns=$?\nkill $! 2>/dev/null\nexit $s\n",
	    tu_srcdir(), a);
	dir = tu_mkdtemp();
	env_mock = str_printf("MOCK=%s", mock_bin != NULL ? mock_bin : "build/dosnap-mock");
	env_dosnap = str_printf("DOSNAP=%s", tu_dosnap_bin());
	env_port = str_printf("PORTFILE=%s/port", dir);
	env[0] = env_mock;
	env[1] = env_dosnap;
	env[2] = env_port;
	env[3] = NULL;
	argv[1] = script;
	tu_run("/bin/sh", argv, env, &res);
	ck_assert_msg(res.status == 0, "exit %d:\n%s\n%s", res.status, script, res.err);
	ck_assert_ptr_nonnull(strstr(res.out, "SNAPSHOT"));
	ck_assert_ptr_nonnull(strstr(res.out, "web-1-before-upgrade"));
	tu_result_release(&res);
	free(env_mock);
	free(env_dosnap);
	free(env_port);
	tu_rmtree(dir);
	free(dir);
	free(script);
	free(a);
	free(b);
	free(block);
	free(readme);
}
END_TEST

/*
 * A droplet id above 2^63-1 on the command line is refused with a hint, as
 * in a schedule, instead of "the snapshot did not run: Invalid argument".
 */
START_TEST(test_target_id_range)
{
	static const char *const cmds[] = { "snapshot", "prune", "list" };
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const char *argv[] = { cmds[i], "--dry-run", "--keep", "3", "9223372036854775808",
			NULL };
		const char *argv_list[] = { "list", "9223372036854775808", NULL };
		struct tu_result res;

		tu_run_dosnap(strcmp(cmds[i], "list") == 0 ? argv_list : argv, NULL, &res);
		ck_assert_msg(res.status == 64, "%s: exit %d: %s", cmds[i], res.status, res.err);
		ck_assert_msg(strstr(res.err, "droplet id '9223372036854775808' is out of range") !=
		    NULL && strstr(res.err, "at most 9223372036854775807") != NULL, "%s: %s",
		    cmds[i], res.err);
		tu_result_release(&res);
	}
}
END_TEST

Suite *
cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("cli");

	tcase_add_test(tc, test_check_valid);
	tcase_add_test(tc, test_check_errors);
	tcase_add_test(tc, test_missing_schedule);
	tcase_add_test(tc, test_usage_errors);
	tcase_add_test(tc, test_next_expr);
	tcase_add_test(tc, test_next_schedule_merged);
	tcase_add_test(tc, test_dry_run_touches_nothing);
	tcase_add_test(tc, test_run_nothing_due_writes_state_once);
	tcase_add_test(tc, test_lock_taken);
	tcase_add_test(tc, test_damaged_state_moved_aside);
	tcase_add_test(tc, test_state_dir_group_writable);
	tcase_add_test(tc, test_help_and_version);
	tcase_add_loop_test(tc, test_no_abbreviations, 0,
	    (int)(sizeof(abbrev_rows) / sizeof(abbrev_rows[0])));
	tcase_add_test(tc, test_full_option_names);
	tcase_add_test(tc, test_check_echo_cut);
	tcase_add_test(tc, test_check_repeated_entry);
	tcase_add_test(tc, test_next_tz_suggest);
	tcase_add_test(tc, test_list_unmatched_target);
	tcase_add_test(tc, test_status_unreadable_schedule);
	tcase_add_test(tc, test_help_texts);
	tcase_add_test(tc, test_no_token_said_once);
	tcase_add_test(tc, test_status_line_ends_done);
	tcase_add_test(tc, test_readme_install_token);
	tcase_add_test(tc, test_readme_mock_snippet);
	tcase_add_test(tc, test_target_id_range);
	suite_add_tcase(s, tc);
	return s;
}
