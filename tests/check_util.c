/* util: the shared helpers' edges: the growth helper's cap and overflow, the writer's flags and refusals. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dosnap/util.h"

#include "suites.h"
#include "testutil.h"

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

/*
 * The one writer: the new text replaces the old; EXACT_MODE gives MODE
 * whatever the umask; a FIFO at "PATH.tmp" is refused at once (it used to
 * hang the state file's writer) and left there; a symlink there is not
 * followed.  alarm() turns a hang into a failure.
 */
START_TEST(test_write_file_opt)
{
	char *dir = tu_mkdtemp(), *path, *tmp, *text = NULL;
	struct stat st;
	size_t len = 0;
	mode_t old;

	alarm(5);
	path = str_printf("%s/f", dir);
	tmp = str_printf("%s/f.tmp", dir);
	ck_assert_int_eq(write_file_opt(path, "one\n", 4, 0600, WRITE_FILE_DURABLE), 0);
	ck_assert_int_eq(write_file_opt(path, "two\n", 4, 0600, 0), 0);
	ck_assert_int_eq(read_file_capped(path, 64, &text, &len), 0);
	ck_assert_str_eq(text, "two\n");
	free(text);
	ck_assert_int_eq(stat(tmp, &st), -1);

	old = umask(077);
	ck_assert_int_eq(write_file_opt(path, "x", 1, 0644, 0), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(write_file_opt(path, "x", 1, 0644, WRITE_FILE_FSYNC | WRITE_FILE_EXACT_MODE), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0644);
	umask(old);

	ck_assert_int_eq(mkfifo(tmp, 0600), 0);
	ck_assert_int_eq(write_file_opt(path, "y", 1, 0600, WRITE_FILE_DURABLE), -EINVAL);
	ck_assert_int_eq(write_file_atomic(path, "y", 1, 0600), -EINVAL);
	ck_assert_int_eq(lstat(tmp, &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));			/* left for the user */
	ck_assert_int_eq(unlink(tmp), 0);
	ck_assert_int_eq(symlink(path, tmp), 0);
	ck_assert_int_eq(write_file_opt(path, "z", 1, 0600, 0), -ELOOP);
	ck_assert_int_eq(read_file_capped(path, 64, &text, &len), 0);
	ck_assert_str_eq(text, "x");				/* untouched */
	free(text);
	alarm(0);
	free(tmp);
	free(path);
	tu_rmtree(dir);
	free(dir);
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

	tc = tcase_create("write");
	tcase_add_test(tc, test_write_file_opt);
	suite_add_tcase(s, tc);
	return s;
}
