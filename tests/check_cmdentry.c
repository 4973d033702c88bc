/* cmdentry: the schedule line `snapshot`, `prune` and `list` build from their flags. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dosnap/cli.h"
#include "dosnap/cmd.h"
#include "dosnap/schedule.h"

#include "suites.h"

START_TEST(test_targets_first_whatever_the_order)
{
	struct cmd_entry ce = { .targets_len = 0 };
	const struct sched_entry *e;
	char line[CMD_ENTRY_LINE_MAX];

	/* As `dosnap snapshot --keep 3 123 --volumes tag:web` gives them. */
	ck_assert_int_eq(cmd_entry_option(&ce, "keep", "3"), 0);
	ck_assert_int_eq(cmd_entry_target(&ce, "123"), 0);
	ck_assert_int_eq(cmd_entry_option(&ce, "volumes", "yes"), 0);
	ck_assert_int_eq(cmd_entry_target(&ce, "tag:web"), 0);
	ck_assert_uint_eq(cmd_entry_line(&ce, line, sizeof(line)), strlen(line));
	ck_assert_str_eq(line, "* * * * * 123 tag:web keep=3 volumes=yes");
	ck_assert_ptr_null(cmd_entry_get(&ce));

	ck_assert_int_eq(cmd_entry_parse(&ce, "snapshot"), EXIT_OK);
	e = cmd_entry_get(&ce);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->n_targets, 2);
	ck_assert_int_eq(e->targets[0].kind, SCHED_TARGET_ID);
	ck_assert_uint_eq(e->targets[0].id, 123);
	ck_assert_int_eq(e->targets[1].kind, SCHED_TARGET_TAG);
	ck_assert_str_eq(e->targets[1].value, "web");
	ck_assert_int_eq(e->opts.keep, 3);
	ck_assert(e->opts.volumes);
	cmd_entry_release(&ce);
	ck_assert_ptr_null(cmd_entry_get(&ce));
	cmd_entry_release(&ce);	/* twice is harmless */
}
END_TEST

START_TEST(test_refusals)
{
	static const char token[] =
	    "dop_v1_5eC12e7deadbeef0123456789abcdef0123456789abcdef0123456789ab";
	struct cmd_entry ce = { .targets_len = 0 };
	char line[CMD_ENTRY_LINE_MAX];

	ck_assert_int_eq(cmd_entry_target(&ce, token), -EPERM);
	ck_assert_int_eq(cmd_entry_target(&ce, "tag:a b"), -EINVAL);
	ck_assert_int_eq(cmd_entry_option(&ce, "name", "x\ty"), -EINVAL);
	ck_assert_int_eq(cmd_entry_option(&ce, "name", "x\ny"), -EINVAL);
	/* Nothing refused is in the line. */
	cmd_entry_line(&ce, line, sizeof(line));
	ck_assert_str_eq(line, "* * * * *");
}
END_TEST

START_TEST(test_bad_value_is_a_usage_error)
{
	struct cmd_entry ce = { .targets_len = 0 };

	ck_assert_int_eq(cmd_entry_target(&ce, "123"), 0);
	ck_assert_int_eq(cmd_entry_option(&ce, "keep", "many"), 0);
	ck_assert_int_eq(cmd_entry_parse(&ce, "snapshot"), EXIT_USAGE);
	ck_assert_ptr_null(cmd_entry_get(&ce));
	cmd_entry_release(&ce);
}
END_TEST

/* Each part is capped with the time fields as SCHED_MAX_LINE; the line always fits. */
START_TEST(test_caps)
{
	struct cmd_entry ce = { .targets_len = 0 };
	char line[CMD_ENTRY_LINE_MAX], word[16];
	size_t n_targets = 0, n_opts = 0, len;
	int r;

	for (;;) {
		snprintf(word, sizeof(word), "tag:t%zu", n_targets);
		r = cmd_entry_target(&ce, word);
		if (r < 0)
			break;
		n_targets++;
		ck_assert_uint_lt(n_targets, SCHED_MAX_LINE);
	}
	ck_assert_int_eq(r, -E2BIG);
	ck_assert_uint_lt(strlen("* * * * *") + ce.targets_len, SCHED_MAX_LINE);
	/* A full target list leaves the options their own room. */
	for (;;) {
		r = cmd_entry_option(&ce, "name", "dosnap-{name}-{slot}");
		if (r < 0)
			break;
		n_opts++;
		ck_assert_uint_lt(n_opts, SCHED_MAX_LINE);
	}
	ck_assert_int_eq(r, -E2BIG);
	ck_assert_uint_gt(n_opts, 0);
	ck_assert_uint_lt(strlen("* * * * *") + ce.opts_len, SCHED_MAX_LINE);
	len = cmd_entry_line(&ce, line, sizeof(line));
	ck_assert_uint_eq(len, strlen(line));
	ck_assert_uint_eq(len, strlen("* * * * *") + ce.targets_len + ce.opts_len);
	/* Too long a line together: the schedule parser says so. */
	ck_assert_int_eq(cmd_entry_parse(&ce, "snapshot"), EXIT_USAGE);
	cmd_entry_release(&ce);
}
END_TEST

Suite *
cmdentry_suite(void)
{
	Suite *s = suite_create("cmdentry");
	TCase *tc = tcase_create("line");

	tcase_add_test(tc, test_targets_first_whatever_the_order);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_bad_value_is_a_usage_error);
	tcase_add_test(tc, test_caps);
	suite_add_tcase(s, tc);
	return s;
}
