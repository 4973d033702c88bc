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
	enum sched_target_kind kind;
	uint64_t id;
	const char *value;
	bool want;		/* matches the droplet below */
	const char *text;	/* target_format's */
} target_cases[] = {
	{ SCHED_TARGET_ID, 4242, "4242", true, "4242" },
	{ SCHED_TARGET_ID, 4243, "4243", false, "4243" },
	{ SCHED_TARGET_NAME, 0, "web-1", true, "name:web-1" },
	{ SCHED_TARGET_NAME, 0, "web", false, "name:web" },		/* whole names only */
	{ SCHED_TARGET_NAME, 0, "WEB-1", false, "name:WEB-1" },		/* exact case */
	{ SCHED_TARGET_TAG, 0, "prod", true, "tag:prod" },
	{ SCHED_TARGET_TAG, 0, "backup", true, "tag:backup" },		/* any of its tags */
	{ SCHED_TARGET_TAG, 0, "pro", false, "tag:pro" },
	{ SCHED_TARGET_TAG, 0, "web-1", false, "tag:web-1" },		/* a name is no tag */
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
