/* check_state: the state file's format, atomic writes, the lock, and the state directory. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dosnap/state.h"
#include "dosnap/util.h"
#include "suites.h"
#include "testutil.h"

static const struct {
	const char *text;
	int expect;		/* 0 or -EBADMSG */
	unsigned line;		/* the damaged line */
	size_t len;		/* 0: strlen(text) */
} parse_rows[] = {
	{ "dosnap-state 1\n", 0, 0 },
	{ "dosnap-state 1\nlast-run 1764120000\n", 0, 0 },
	{ "dosnap-state 1\nlast-run 5\nentry 00000000000000ff 100 60 0\n# note\n\n", 0, 0 },
	{ "dosnap-state 1\nentry 00000000000000ff 100 60 75", 0, 0 },
	{ "", -EBADMSG, 1 },
	{ "dosnap-state 2\n", -EBADMSG, 1 },
	{ "{\"json\": true}\n", -EBADMSG, 1 },
	{ "dosnap-state 1\nlast-run -5\n", -EBADMSG, 2 },
	{ "dosnap-state 1\nlast-run 12x\n", -EBADMSG, 2 },
	{ "dosnap-state 1\nlast-run 99999999999999999999999\n", -EBADMSG, 2 },
	{ "dosnap-state 1\nentry 00ff 100 60 0\n", -EBADMSG, 2 },
	{ "dosnap-state 1\nentry 00000000000000FF 100 60 0\n", -EBADMSG, 2 },
	{ "dosnap-state 1\nentry 00000000000000ff 100 60\n", -EBADMSG, 2 },
	{ "dosnap-state 1\nentry 00000000000000ff 100 60 256\n", -EBADMSG, 2 },
	{ "dosnap-state 1\nlast-run 1\nentry 00000000000000ff 1 1 0\nentry 00000000000000ff 2 2 0\n",
	    -EBADMSG, 4 },
	{ "dosnap-state 1\nlast-run 1\nbogus 3\n", -EBADMSG, 3 },
	{ "dosnap-state 1\nlast-run 1\0\n", -EBADMSG, 2, 27 },
};

START_TEST(test_parse_rows)
{
	const char *text = parse_rows[_i].text;
	size_t len = parse_rows[_i].len ? parse_rows[_i].len : strlen(text);
	struct state st;
	unsigned line = 0;
	int r;

	state_init(&st);
	r = state_parse(text, len, &st, &line);
	ck_assert_int_eq(r, parse_rows[_i].expect);
	if (r < 0)
		ck_assert_uint_eq(line, parse_rows[_i].line);
	state_release(&st);
}
END_TEST

START_TEST(test_roundtrip)
{
	char *dir = tu_mkdtemp(), *path;
	struct state st, back;
	struct stat sb;
	size_t i;

	path = str_printf("%s/s.state", dir);
	state_init(&st);
	st.last_run = 1764120000;
	for (i = 0; i < 50; i++) {
		struct state_entry *e = state_get(&st, (uint64_t)(i * 7919) ^ 0xabcdef0123ULL);

		ck_assert_ptr_nonnull(e);
		e->checked = 1764120000 - (int64_t)i;
		e->slot = 1764119940 - (int64_t)i * 60;
		e->result = (int)(i % 3);
	}
	ck_assert_int_eq(state_save(&st, path), 0);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0600);

	state_init(&back);
	ck_assert_int_eq(state_load(path, &back, NULL), 0);
	ck_assert_int_eq(back.last_run, st.last_run);
	ck_assert_uint_eq(back.n_entries, 50);
	for (i = 0; i < st.n_entries; i++) {
		const struct state_entry *e = state_find(&back, st.entries[i].id);

		ck_assert_ptr_nonnull(e);
		ck_assert_int_eq(e->checked, st.entries[i].checked);
		ck_assert_int_eq(e->slot, st.entries[i].slot);
		ck_assert_int_eq(e->result, st.entries[i].result);
	}
	state_release(&back);
	state_release(&st);
	free(path);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_sorted_find_and_prune)
{
	struct state st;
	uint64_t keep[] = { 3, 9 };
	uint64_t ids[] = { 9, 1, 5, 3, 7 };
	size_t i;

	state_init(&st);
	for (i = 0; i < 5; i++)
		ck_assert_ptr_nonnull(state_get(&st, ids[i]));
	ck_assert_ptr_eq(state_get(&st, 5), state_find(&st, 5));
	ck_assert_uint_eq(st.n_entries, 5);
	for (i = 1; i < st.n_entries; i++)
		ck_assert_uint_lt(st.entries[i - 1].id, st.entries[i].id);
	ck_assert_ptr_null(state_find(&st, 4));
	state_prune(&st, keep, 2);
	ck_assert_uint_eq(st.n_entries, 2);
	ck_assert_ptr_nonnull(state_find(&st, 3));
	ck_assert_ptr_nonnull(state_find(&st, 9));
	ck_assert_ptr_null(state_find(&st, 5));
	state_release(&st);
}
END_TEST

/*
 * A crash between the write steps: the writer must never change the file
 * in place.  A reader holding the old file (here: a hard link to it) keeps
 * the old content whole, a leftover .tmp from a crash does not confuse the
 * reader or the next writer, and the path always names a complete file.
 */
START_TEST(test_atomic_write)
{
	char *dir = tu_mkdtemp(), *path, *old, *tmp;
	struct state st, back;
	struct stat before, after;

	path = str_printf("%s/s.state", dir);
	old = str_printf("%s/old", dir);
	tmp = str_printf("%s.tmp", path);
	state_init(&st);
	st.last_run = 100;
	ck_assert_int_eq(state_save(&st, path), 0);
	ck_assert_int_eq(link(path, old), 0);
	ck_assert_int_eq(stat(path, &before), 0);

	/* A crash after writing the temporary file, before the rename. */
	free(tu_write(dir, "s.state.tmp", "dosnap-state 1\nlast-ru"));
	state_init(&back);
	ck_assert_int_eq(state_load(path, &back, NULL), 0);
	ck_assert_int_eq(back.last_run, 100);
	state_release(&back);

	st.last_run = 200;
	ck_assert_int_eq(state_save(&st, path), 0);
	ck_assert_int_eq(stat(path, &after), 0);
	ck_assert_uint_ne(before.st_ino, after.st_ino);
	ck_assert_int_eq(access(tmp, F_OK), -1);

	state_init(&back);
	ck_assert_int_eq(state_load(old, &back, NULL), 0);
	ck_assert_int_eq(back.last_run, 100);
	state_release(&back);
	state_init(&back);
	ck_assert_int_eq(state_load(path, &back, NULL), 0);
	ck_assert_int_eq(back.last_run, 200);
	state_release(&back);

	state_release(&st);
	free(tmp);
	free(old);
	free(path);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_symlinks_refused)
{
	char *dir = tu_mkdtemp(), *path, *target, *tmp;
	struct state st;

	path = str_printf("%s/s.state", dir);
	tmp = str_printf("%s.tmp", path);
	target = tu_write(dir, "target", "dosnap-state 1\n");
	ck_assert_int_eq(symlink(target, path), 0);
	state_init(&st);
	ck_assert_int_eq(state_load(path, &st, NULL), -ELOOP);

	/* A symlink planted where the temporary file goes is not followed. */
	unlink(path);
	ck_assert_int_eq(symlink(target, tmp), 0);
	ck_assert_int_eq(state_save(&st, path), -ELOOP);
	state_release(&st);
	free(tmp);
	free(target);
	free(path);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_size_cap)
{
	char *dir = tu_mkdtemp(), *path;
	struct state st;
	FILE *f;

	path = str_printf("%s/big.state", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, STATE_MAX_FILE_SIZE, SEEK_SET), 0);
	fputc('\n', f);
	ck_assert_int_eq(fclose(f), 0);
	state_init(&st);
	ck_assert_int_eq(state_load(path, &st, NULL), -EFBIG);
	free(path);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_quarantine)
{
	char *dir = tu_mkdtemp(), *path, *aside = NULL;

	path = tu_write(dir, "s.state", "garbage\n");
	ck_assert_int_eq(state_quarantine(path, 1764120000, &aside), 0);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_str_eq(strrchr(aside, '.'), ".corrupt-1764120000");
	ck_assert_int_eq(access(aside, F_OK), 0);
	free(aside);
	free(path);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* POSIX record locks are per process, so the second taker must be another one. */
START_TEST(test_lock_excludes_other_process)
{
	char *dir = tu_mkdtemp(), *path;
	int fd = -1, status;
	pid_t pid;

	path = str_printf("%s/s.state", dir);
	ck_assert_int_eq(state_lock(path, &fd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd2 = -1, ok = state_lock(path, &fd2) == -EWOULDBLOCK;

		/* Free what the child inherited, or memcheck calls it a leak. */
		free(path);
		free(dir);
		_exit(ok ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	state_unlock(fd);

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd2 = -1, ok = state_lock(path, &fd2) == 0;

		free(path);
		free(dir);
		_exit(ok ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	free(path);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_dir_resolve_order)
{
	char *p = NULL;

	setenv("STATE_DIRECTORY", "/var/lib/dosnap-sd:/other", 1);
	setenv("XDG_STATE_HOME", "/xdg", 1);
	setenv("HOME", "/home/u", 1);
	ck_assert_int_eq(state_dir_resolve("/opt/dir", &p), 0);
	ck_assert_str_eq(p, "/opt/dir");
	free(p);
	ck_assert_int_eq(state_dir_resolve(NULL, &p), 0);
	ck_assert_str_eq(p, "/var/lib/dosnap-sd");
	free(p);
	unsetenv("STATE_DIRECTORY");
	ck_assert_int_eq(state_dir_resolve(NULL, &p), 0);
	ck_assert_str_eq(p, "/xdg/dosnap");
	free(p);
	unsetenv("XDG_STATE_HOME");
	ck_assert_int_eq(state_dir_resolve(NULL, &p), 0);
	ck_assert_str_eq(p, geteuid() == 0 ? "/var/lib/dosnap" : "/home/u/.local/state/dosnap");
	free(p);
}
END_TEST

START_TEST(test_dir_prepare)
{
	char *dir = tu_mkdtemp(), *sub, *open_dir, *link;

	sub = str_printf("%s/a/b/state", dir);
	ck_assert_int_eq(state_dir_prepare(sub), 0);
	ck_assert_int_eq(access(sub, W_OK), 0);

	open_dir = str_printf("%s/open", dir);
	ck_assert_int_eq(mkdir(open_dir, 0700), 0);
	ck_assert_int_eq(chmod(open_dir, 0777), 0);
	ck_assert_int_eq(state_dir_prepare(open_dir), -EPERM);

	/* systemd's DynamicUser= state directory is a symlink to the real one. */
	link = str_printf("%s/link", dir);
	ck_assert_int_eq(symlink(sub, link), 0);
	ck_assert_int_eq(state_dir_prepare(link), 0);
	free(link);
	link = str_printf("%s/link-open", dir);
	ck_assert_int_eq(symlink(open_dir, link), 0);
	ck_assert_int_eq(state_dir_prepare(link), -EPERM);

	free(link);
	free(open_dir);
	free(sub);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_path_for)
{
	char *dir = tu_mkdtemp(), *a = NULL, *b = NULL, *s1, *s2, *x;

	x = str_printf("%s/x", dir);
	ck_assert_int_eq(mkdir(x, 0700), 0);
	free(x);
	s1 = tu_write(dir, "schedule", "");
	s2 = tu_write(dir, "x/schedule", "");
	ck_assert_int_eq(state_path_for("/st", s1, &a), 0);
	ck_assert_int_eq(state_path_for("/st", s2, &b), 0);
	ck_assert_str_ne(a, b);
	ck_assert(strncmp(a, "/st/schedule-", 13) == 0);
	ck_assert_str_eq(a + strlen(a) - 6, ".state");
	free(a);
	free(b);
	free(s1);
	free(s2);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/*
 * At most STATE_MAX_ENTRIES entries: state_get gives NULL for one more (and
 * still finds the ones it has); a state file with one more is damaged.
 */
START_TEST(test_entries_cap)
{
	struct state st;
	size_t size = ((size_t)STATE_MAX_ENTRIES + 2) * 32, len;
	char *text;
	uint64_t i;

	state_init(&st);
	for (i = 1; i <= STATE_MAX_ENTRIES; i++)
		ck_assert_ptr_nonnull(state_get(&st, i * 2));
	ck_assert_uint_eq(st.n_entries, STATE_MAX_ENTRIES);
	ck_assert_ptr_null(state_get(&st, 3));
	ck_assert_uint_eq(st.n_entries, STATE_MAX_ENTRIES);
	ck_assert_ptr_nonnull(state_get(&st, 2 * STATE_MAX_ENTRIES));	/* there: found */
	ck_assert_ptr_nonnull(state_find(&st, 2));
	state_release(&st);

	text = malloc(size);
	ck_assert_ptr_nonnull(text);
	len = (size_t)snprintf(text, size, "dosnap-state 1\n");
	for (i = 1; i <= STATE_MAX_ENTRIES; i++)
		len += (size_t)snprintf(text + len, size - len, "entry %016llx 0 0 0\n",
		    (unsigned long long)i);
	ck_assert_int_eq(state_parse(text, len, &st, NULL), 0);
	ck_assert_uint_eq(st.n_entries, STATE_MAX_ENTRIES);
	state_release(&st);
	len += (size_t)snprintf(text + len, size - len, "entry %016llx 0 0 0\n",
	    (unsigned long long)STATE_MAX_ENTRIES + 1);
	ck_assert_int_eq(state_parse(text, len, &st, NULL), -EBADMSG);
	ck_assert_uint_eq(st.n_entries, 0);
	free(text);
}
END_TEST

Suite *
state_suite(void)
{
	Suite *s = suite_create("state");
	TCase *tc = tcase_create("state");

	tcase_add_loop_test(tc, test_parse_rows, 0, sizeof(parse_rows) / sizeof(parse_rows[0]));
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_sorted_find_and_prune);
	tcase_add_test(tc, test_atomic_write);
	tcase_add_test(tc, test_symlinks_refused);
	tcase_add_test(tc, test_size_cap);
	tcase_add_test(tc, test_quarantine);
	tcase_add_test(tc, test_lock_excludes_other_process);
	tcase_add_test(tc, test_dir_resolve_order);
	tcase_add_test(tc, test_dir_prepare);
	tcase_add_test(tc, test_path_for);
	tcase_add_test(tc, test_entries_cap);
	suite_add_tcase(s, tc);
	return s;
}
