/* target: target_matches() and target_format(): which droplets a schedule's target names. */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dosnap/api.h"
#include "dosnap/schedule.h"
#include "dosnap/target.h"

#include "suites.h"

static const struct target_case {
	uint64_t id;
	const char *value;
	const char *text;	/* target_format's */
	enum sched_target_kind kind;
	bool want;		/* matches the droplet below */
} target_cases[] = {
	{ 4242, "4242", "4242", SCHED_TARGET_ID, true },
	{ 4243, "4243", "4243", SCHED_TARGET_ID, false },
	{ 0, "web-1", "name:web-1", SCHED_TARGET_NAME, true },
	{ 0, "web", "name:web", SCHED_TARGET_NAME, false },		/* whole names only */
	{ 0, "WEB-1", "name:WEB-1", SCHED_TARGET_NAME, false },		/* exact case */
	{ 0, "prod", "tag:prod", SCHED_TARGET_TAG, true },
	{ 0, "backup", "tag:backup", SCHED_TARGET_TAG, true },		/* any of its tags */
	{ 0, "pro", "tag:pro", SCHED_TARGET_TAG, false },
	{ 0, "web-1", "tag:web-1", SCHED_TARGET_TAG, false },		/* a name is no tag */
};

START_TEST(test_target)
{
	const struct target_case *c = &target_cases[_i];
	char prod[] = "prod", backup[] = "backup", web1[] = "web-1";
	char *tags[] = { prod, backup };
	struct api_droplet d = { .id = 4242, .name = web1, .tags = tags, .n_tags = 2 };
	struct sched_target t = { .kind = c->kind, .id = c->id, .value = (char *)c->value };
	char buf[64];

	ck_assert_int_eq(target_matches(&d, &t), c->want);
	target_format(&t, buf, sizeof(buf));
	ck_assert_str_eq(buf, c->text);
}
END_TEST

START_TEST(test_target_nameless)
{
	char empty[] = "";
	struct api_droplet d = { .id = 7 };
	struct sched_target name = { .kind = SCHED_TARGET_NAME, .value = empty };
	struct sched_target tag = { .kind = SCHED_TARGET_TAG, .value = empty };

	ck_assert(!target_matches(&d, &name));	/* a droplet without a name matches no name */
	ck_assert(!target_matches(&d, &tag));
}
END_TEST

Suite *
target_suite(void)
{
	Suite *s = suite_create("target");
	TCase *tc = tcase_create("match");

	tcase_add_loop_test(tc, test_target, 0,
	    (int)(sizeof(target_cases) / sizeof(target_cases[0])));
	tcase_add_test(tc, test_target_nameless);
	suite_add_tcase(s, tc);
	return s;
}
