/* check_token: where the API token comes from, in which order, and what is refused. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dosnap/token.h"
#include "dosnap/util.h"
#include "testutil.h"

/* Tests may run in one process (CK_FORK=no): every test sets all four sources itself. */
static void
env_clear(void)
{
	unsetenv("CREDENTIALS_DIRECTORY");
	unsetenv("DIGITALOCEAN_ACCESS_TOKEN");
	unsetenv("DO_TOKEN");
}

/*
 * The order, as data: which sources hold a token, and which one must win.
 * "file" is --token-file, "cred" $CREDENTIALS_DIRECTORY/digitalocean-token.
 */
static const struct order_row {
	bool file, cred, cred_dir_only, doat, dotoken;
	enum token_source want;
	const char *want_value;
} order_rows[] = {
	{ true, true, false, true, true, TOKEN_SOURCE_FILE, "tok-file" },
	{ false, true, false, true, true, TOKEN_SOURCE_CREDENTIAL, "tok-cred" },
	{ false, false, true, true, true, TOKEN_SOURCE_ENV_DIGITALOCEAN, "tok-doat" },
	{ false, false, false, true, true, TOKEN_SOURCE_ENV_DIGITALOCEAN, "tok-doat" },
	{ false, false, false, false, true, TOKEN_SOURCE_ENV_DO, "tok-do" },
	{ false, false, true, false, true, TOKEN_SOURCE_ENV_DO, "tok-do" },
};

START_TEST(test_order)
{
	const struct order_row *row = &order_rows[_i];
	struct token t = { 0 };
	char reason[512] = "";
	char *dir, *file = NULL, *cred = NULL;
	int r;

	env_clear();
	dir = tu_mkdtemp();
	if (row->file) {
		file = tu_write(dir, "token", "  tok-file\n");
		chmod(file, 0600);
	}
	if (row->cred || row->cred_dir_only) {
		char *sub = malloc(strlen(dir) + 8);

		ck_assert_ptr_nonnull(sub);
		sprintf(sub, "%s/creds", dir);
		ck_assert_int_eq(mkdir(sub, 0700), 0);
		if (row->cred) {
			cred = tu_write(sub, TOKEN_CREDENTIAL_NAME, "tok-cred\n");
			chmod(cred, 0400);
		}
		setenv("CREDENTIALS_DIRECTORY", sub, 1);
		free(sub);
	}
	if (row->doat)
		setenv("DIGITALOCEAN_ACCESS_TOKEN", "tok-doat", 1);
	if (row->dotoken)
		setenv("DO_TOKEN", " tok-do ", 1);

	r = token_load(file, &t, reason, sizeof(reason));
	ck_assert_msg(r == 0, "row %d: token_load: %d (%s)", _i, r, reason);
	ck_assert_int_eq(t.source, row->want);
	ck_assert_str_eq(t.value, row->want_value);
	ck_assert_int_eq(t.flags & TOKEN_FLAG_LOOSE_MODE, 0);
	token_release(&t);
	ck_assert_ptr_null(t.value);

	env_clear();
	free(file);
	free(cred);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_none)
{
	struct token t = { 0 };
	char reason[512] = "";
	int r;

	env_clear();
	setenv("DO_TOKEN", "", 1);	/* empty counts as unset */
	r = token_load(NULL, &t, reason, sizeof(reason));
	ck_assert_int_eq(r, -ENOKEY);
	ck_assert_ptr_null(t.value);
	ck_assert_ptr_nonnull(strstr(reason, "--token-file"));
	ck_assert_ptr_nonnull(strstr(reason, "CREDENTIALS_DIRECTORY"));
	ck_assert_ptr_nonnull(strstr(reason, "DIGITALOCEAN_ACCESS_TOKEN"));
	ck_assert_ptr_nonnull(strstr(reason, "DO_TOKEN"));
	env_clear();
}
END_TEST

START_TEST(test_loose_mode)
{
	struct token t = { 0 };
	char *dir, *file;

	env_clear();
	dir = tu_mkdtemp();
	file = tu_write(dir, "token", "dop_v1_abcdef\r\n");
	ck_assert_int_eq(chmod(file, 0644), 0);
	ck_assert_int_eq(token_load(file, &t, NULL, 0), 0);
	ck_assert_str_eq(t.value, "dop_v1_abcdef");
	ck_assert_uint_eq(t.flags & TOKEN_FLAG_LOOSE_MODE, TOKEN_FLAG_LOOSE_MODE);
	ck_assert_uint_eq(t.mode, 0644);
	ck_assert_str_eq(t.origin, file);
	token_release(&t);

	ck_assert_int_eq(chmod(file, 0640), 0);
	ck_assert_int_eq(token_load(file, &t, NULL, 0), 0);
	ck_assert_uint_eq(t.flags & TOKEN_FLAG_LOOSE_MODE, TOKEN_FLAG_LOOSE_MODE);
	token_release(&t);

	ck_assert_int_eq(chmod(file, 0600), 0);
	ck_assert_int_eq(token_load(file, &t, NULL, 0), 0);
	ck_assert_uint_eq(t.flags, 0);
	token_release(&t);
	free(file);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* Files that must be refused, and how. */
static const struct bad_row {
	const char *content;	/* NULL: no file at all */
	int want;
	const char *reason_has;
} bad_rows[] = {
	{ NULL, -ENOENT, "cannot read token file" },
	{ "", -EINVAL, "is empty" },
	{ " \n\t\n", -EINVAL, "is empty" },
	{ "two words\n", -EINVAL, "white space" },
	{ "line1\nline2\n", -EINVAL, "white space" },
	{ "tok\x01x", -EINVAL, "control" },
};

START_TEST(test_bad_file)
{
	const struct bad_row *row = &bad_rows[_i];
	struct token t = { 0 };
	char reason[512] = "";
	char *dir, *file;
	int r;

	env_clear();
	/* A good source further down must not be used when --token-file fails. */
	setenv("DO_TOKEN", "fallback-token", 1);
	dir = tu_mkdtemp();
	if (row->content != NULL) {
		file = tu_write(dir, "token", row->content);
	} else {
		file = malloc(strlen(dir) + 16);
		ck_assert_ptr_nonnull(file);
		sprintf(file, "%s/missing", dir);
	}
	r = token_load(file, &t, reason, sizeof(reason));
	ck_assert_msg(r == row->want, "row %d: got %d, want %d (%s)", _i, r, row->want, reason);
	ck_assert_ptr_null(t.value);
	ck_assert_msg(strstr(reason, row->reason_has) != NULL, "row %d: reason '%s'", _i, reason);
	ck_assert_ptr_nonnull(strstr(reason, file));
	env_clear();
	free(file);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_too_big)
{
	struct token t = { 0 };
	char reason[512] = "";
	char *dir, *file, *big;

	env_clear();
	big = malloc(TOKEN_FILE_MAX + 2);
	ck_assert_ptr_nonnull(big);
	memset(big, 'a', TOKEN_FILE_MAX + 1);
	big[TOKEN_FILE_MAX + 1] = '\0';
	dir = tu_mkdtemp();
	file = tu_write(dir, "token", big);
	ck_assert_int_eq(token_load(file, &t, reason, sizeof(reason)), -EFBIG);
	ck_assert_ptr_nonnull(strstr(reason, "larger than"));
	free(file);

	/* Exactly at the cap is still fine. */
	big[TOKEN_FILE_MAX] = '\0';
	file = tu_write(dir, "token2", big);
	ck_assert_int_eq(token_load(file, &t, reason, sizeof(reason)), 0);
	ck_assert_uint_eq(strlen(t.value), TOKEN_FILE_MAX);
	token_release(&t);
	free(file);
	free(big);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_env_inner_space)
{
	struct token t = { 0 };
	char reason[256] = "";

	env_clear();
	setenv("DIGITALOCEAN_ACCESS_TOKEN", "abc def", 1);
	ck_assert_int_eq(token_load(NULL, &t, reason, sizeof(reason)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(reason, "DIGITALOCEAN_ACCESS_TOKEN"));
	/* The token itself is never put into the reason. */
	ck_assert_ptr_null(strstr(reason, "abc def"));
	env_clear();
}
END_TEST

/*
 * A FIFO (or a device) as the token file is refused at once: opening a FIFO
 * for reading used to wait for a writer for ever.  A link to a regular file
 * is still followed, as Kubernetes mounts secrets that way.
 */
START_TEST(test_not_regular)
{
	struct token t = { 0 };
	char reason[512] = "";
	char *dir, *fifo, *file, *link;

	env_clear();
	dir = tu_mkdtemp();
	fifo = str_printf("%s/fifo", dir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	alarm(10);	/* the old code blocked here for ever */
	ck_assert_int_eq(token_load(fifo, &t, reason, sizeof(reason)), -EINVAL);
	alarm(0);
	ck_assert_ptr_null(t.value);
	ck_assert_msg(strstr(reason, "not a regular file") != NULL, "reason '%s'", reason);
	ck_assert_ptr_nonnull(strstr(reason, fifo));
	ck_assert_int_eq(token_load(dir, &t, reason, sizeof(reason)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(reason, "directory"));

	file = tu_write(dir, "token", "dop_v1_0123abcd\n");
	link = str_printf("%s/link", dir);
	ck_assert_int_eq(chmod(file, 0600), 0);
	ck_assert_int_eq(symlink(file, link), 0);
	ck_assert_int_eq(token_load(link, &t, reason, sizeof(reason)), 0);
	ck_assert_str_eq(t.value, "dop_v1_0123abcd");
	ck_assert_uint_eq(t.flags, 0);
	token_release(&t);
	free(fifo);
	free(file);
	free(link);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* A token given to --token-file by mistake is never repeated in the reason. */
static const char *const token_shapes[] = {
	"dop_v1_4f1b4e9a3c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7",
	"doo_v1_4f1b4e9a3c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7",
	"dor_v1_4f1b4e9a3c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7",
	"4f1b4e9a3c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708",
};

START_TEST(test_token_as_file_name)
{
	struct token t = { 0 };
	char reason[512] = "";
	int r;

	env_clear();
	r = token_load(token_shapes[_i], &t, reason, sizeof(reason));
	ck_assert_int_lt(r, 0);
	ck_assert_ptr_null(t.value);
	ck_assert_msg(strstr(reason, "looks like a token") != NULL, "reason '%s'", reason);
	/* Not even a part of it: the first 8 characters after the prefix. */
	ck_assert_msg(strstr(reason, token_shapes[_i] + 7) == NULL &&
	    strstr(reason, "4f1b4e9a") == NULL, "reason '%s' echoes the token", reason);
}
END_TEST

/* The reason for "no token" says what was looked at, without repeating "no token". */
START_TEST(test_none_says_it_once)
{
	struct token t = { 0 };
	char reason[512] = "";

	env_clear();
	ck_assert_int_eq(token_load(NULL, &t, reason, sizeof(reason)), -ENOKEY);
	ck_assert_msg(strstr(reason, "no API token") == NULL, "reason '%s'", reason);
	ck_assert_msg(strncmp(reason, "looked for --token-file", 23) == 0, "reason '%s'", reason);
}
END_TEST

START_TEST(test_source_names)
{
	ck_assert_str_eq(token_source_name(TOKEN_SOURCE_FILE), "--token-file");
	ck_assert_str_eq(token_source_name(TOKEN_SOURCE_ENV_DO), "$DO_TOKEN");
	ck_assert_str_eq(token_source_name(TOKEN_SOURCE_ENV_DIGITALOCEAN),
	    "$DIGITALOCEAN_ACCESS_TOKEN");
	token_release(NULL);
}
END_TEST

Suite *token_suite(void);

Suite *
token_suite(void)
{
	Suite *s = suite_create("token");
	TCase *tc = tcase_create("sources");

	tcase_add_loop_test(tc, test_order, 0, (int)(sizeof(order_rows) / sizeof(order_rows[0])));
	tcase_add_test(tc, test_none);
	tcase_add_test(tc, test_loose_mode);
	tcase_add_loop_test(tc, test_bad_file, 0, (int)(sizeof(bad_rows) / sizeof(bad_rows[0])));
	tcase_add_test(tc, test_too_big);
	tcase_add_test(tc, test_env_inner_space);
	tcase_add_test(tc, test_source_names);
	tcase_add_test(tc, test_not_regular);
	tcase_add_loop_test(tc, test_token_as_file_name, 0,
	    (int)(sizeof(token_shapes) / sizeof(token_shapes[0])));
	tcase_add_test(tc, test_none_says_it_once);
	suite_add_tcase(s, tc);
	return s;
}
