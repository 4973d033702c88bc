/* retention: retention_plan() on its own: what is kept, what is deleted, and what never is. */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dosnap/api.h"
#include "dosnap/retention.h"

#include "suites.h"

#define TMPL	"dosnap-{name}-{slot}"
#define NOW	1795000000	/* Unix seconds: the API's clock in every row */
#define DAY	86400
#define ROWS_MAX 8

struct snap_row {
	const char *name;
	int64_t age_s;		/* before NOW; -1: unknown (created_at 0) */
	bool backup;
};

static const struct retention_case {
	const char *what;
	int keep;
	int64_t max_age;
	const char *keep_name;	/* the snapshot just taken, or NULL */
	struct snap_row snaps[ROWS_MAX];
	const char *want;	/* one character a snapshot: 'D' deleted, '.' kept */
} retention_cases[] = {
	{ "keep 2: the two oldest of four go", 2, -1, NULL, {
		{ "dosnap-web-20261101T0000Z", 4 * DAY, false },
		{ "dosnap-web-20261102T0000Z", 3 * DAY, false },
		{ "dosnap-web-20261103T0000Z", 2 * DAY, false },
		{ "dosnap-web-20261104T0000Z", 1 * DAY, false } }, "DD.." },
	{ "keep 2, order of the listing does not matter", 2, -1, NULL, {
		{ "dosnap-web-20261103T0000Z", 2 * DAY, false },
		{ "dosnap-web-20261101T0000Z", 4 * DAY, false },
		{ "dosnap-web-20261104T0000Z", 1 * DAY, false },
		{ "dosnap-web-20261102T0000Z", 3 * DAY, false } }, ".D.D" },
	{ "the new snapshot counts among the kept and is never deleted", 2, -1,
	    "dosnap-web-20261105T0000Z", {
		{ "dosnap-web-20261105T0000Z", 0, false },
		{ "dosnap-web-20261103T0000Z", 2 * DAY, false },
		{ "dosnap-web-20261104T0000Z", 1 * DAY, false } }, ".D." },
	{ "a backup is never deleted", 1, -1, NULL, {
		{ "dosnap-web-20261101T0000Z", 9 * DAY, true },
		{ "dosnap-web-20261102T0000Z", 3 * DAY, false },
		{ "dosnap-web-20261103T0000Z", 2 * DAY, false } }, ".D." },
	{ "what the template does not match is not ours", 1, 0, NULL, {
		{ "hand-made-before-upgrade", 30 * DAY, false },
		{ "dosnap-web-20261102T0000Z", 3 * DAY, false },
		{ "dosnap-web-20261103T0000Z", 2 * DAY, false } }, ".DD" },
	{ "max-age: older than two days goes, keep unlimited", -1, 2 * DAY, NULL, {
		{ "dosnap-web-20261101T0000Z", 4 * DAY, false },
		{ "dosnap-web-20261102T0000Z", 2 * DAY, false },
		{ "dosnap-web-20261103T0000Z", 1 * DAY, false } }, "D.." },
	{ "an unknown age is never the oldest nor too old", 1, DAY, NULL, {
		{ "dosnap-web-20261101T0000Z", -1, false },
		{ "dosnap-web-20261102T0000Z", 3 * DAY, false },
		{ "dosnap-web-20261103T0000Z", 10, false } }, ".D." },
	{ "neither limit: nothing goes", -1, -1, NULL, {
		{ "dosnap-web-20261101T0000Z", 400 * DAY, false },
		{ "dosnap-web-20261102T0000Z", 300 * DAY, false } }, ".." },
};

START_TEST(test_retention_plan)
{
	const struct retention_case *c = &retention_cases[_i];
	struct api_snapshot snaps[ROWS_MAX];
	struct retention_rule rule = { .tmpl = TMPL, .keep = c->keep, .max_age = c->max_age,
		.now = NOW };
	bool *del = NULL;
	char got[ROWS_MAX + 1];
	size_t n = strlen(c->want), i, want_n = 0;
	int r;

	memset(snaps, 0, sizeof(snaps));
	for (i = 0; i < n; i++) {
		snaps[i].name = (char *)c->snaps[i].name;
		snaps[i].created_at = c->snaps[i].age_s < 0 ? 0 : NOW - c->snaps[i].age_s;
		snaps[i].type = c->snaps[i].backup ? API_SNAPSHOT_TYPE_BACKUP :
		    API_SNAPSHOT_TYPE_SNAPSHOT;
		want_n += c->want[i] == 'D';
	}
	r = retention_plan(snaps, n, &rule, c->keep_name, &del);
	ck_assert_msg(r >= 0, "%s: retention_plan returned %d", c->what, r);
	ck_assert_ptr_nonnull(del);
	for (i = 0; i < n; i++)
		got[i] = del[i] ? 'D' : '.';
	got[n] = '\0';
	ck_assert_msg(strcmp(got, c->want) == 0, "%s: deleted '%s', want '%s'", c->what, got,
	    c->want);
	ck_assert_int_eq(r, (int)want_n);
	free(del);
}
END_TEST

START_TEST(test_retention_plan_empty)
{
	struct retention_rule rule = { .tmpl = TMPL, .keep = 0, .max_age = 0, .now = NOW };
	bool *del = (bool *)&rule;	/* any non-NULL: it must be set to NULL */

	ck_assert_int_eq(retention_plan(NULL, 0, &rule, NULL, &del), 0);
	ck_assert_ptr_null(del);
}
END_TEST

Suite *
retention_suite(void)
{
	Suite *s = suite_create("retention");
	TCase *tc = tcase_create("plan");

	tcase_add_loop_test(tc, test_retention_plan, 0,
	    (int)(sizeof(retention_cases) / sizeof(retention_cases[0])));
	tcase_add_test(tc, test_retention_plan_empty);
	suite_add_tcase(s, tc);
	return s;
}
