/* util: the shared helpers' edges: the growth helper's cap and overflow. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "dosnap/util.h"

#include "suites.h"

START_TEST(test_grow_doubles_and_keeps)
{
	int *a = NULL;
	size_t cap = 0, i;

	ck_assert_int_eq(grow_array(&a, &cap, 1, sizeof(*a), 1000), 0);
	ck_assert_uint_eq(cap, 8);
	for (i = 0; i < 8; i++)
		a[i] = (int)i;
	ck_assert_int_eq(grow_array(&a, &cap, 5, sizeof(*a), 1000), 0);	/* fits: unchanged */
	ck_assert_uint_eq(cap, 8);
	ck_assert_int_eq(grow_array(&a, &cap, 9, sizeof(*a), 1000), 0);
	ck_assert_uint_eq(cap, 16);
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(a[i], (int)i);
	free(a);
}
END_TEST

START_TEST(test_grow_cap_is_a_ceiling)
{
	int *a = NULL;
	size_t cap = 0;

	/* Doubling stops at the cap, not past it. */
	ck_assert_int_eq(grow_array(&a, &cap, 9, sizeof(*a), 12), 0);
	ck_assert_uint_eq(cap, 12);
	ck_assert_int_eq(grow_array(&a, &cap, 12, sizeof(*a), 12), 0);
	ck_assert_int_eq(grow_array(&a, &cap, 13, sizeof(*a), 12), -E2BIG);
	ck_assert_uint_eq(cap, 12);
	ck_assert_ptr_nonnull(a);	/* the old array is still the caller's */
	free(a);
}
END_TEST

START_TEST(test_grow_size_overflow)
{
	char *a = NULL;
	size_t cap = 0;

	/* A cap whose byte size would overflow size_t is refused, not wrapped. */
	ck_assert_int_eq(grow_array(&a, &cap, 2, SIZE_MAX / 2, 4), -E2BIG);
	ck_assert_int_eq(grow_array(&a, &cap, 1, 0, 4), -E2BIG);
	ck_assert_ptr_null(a);
	ck_assert_uint_eq(cap, 0);
}
END_TEST

/* A cap under the first size (8) is a ceiling too: the capacity never passes it. */
START_TEST(test_grow_small_cap)
{
	int *a = NULL;
	size_t cap = 0;

	ck_assert_int_eq(grow_array(&a, &cap, 1, sizeof(*a), 3), 0);
	ck_assert_uint_eq(cap, 3);
	ck_assert_int_eq(grow_array(&a, &cap, 3, sizeof(*a), 3), 0);
	ck_assert_int_eq(grow_array(&a, &cap, 4, sizeof(*a), 3), -E2BIG);
	ck_assert_uint_eq(cap, 3);
	free(a);
}
END_TEST

Suite *
util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("grow");

	tcase_add_test(tc, test_grow_doubles_and_keeps);
	tcase_add_test(tc, test_grow_cap_is_a_ceiling);
	tcase_add_test(tc, test_grow_size_overflow);
	tcase_add_test(tc, test_grow_small_cap);
	suite_add_tcase(s, tc);
	return s;
}
