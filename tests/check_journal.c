/* check_journal: intent records: durable writes, listing, damage, removal, the lock, hostile files. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dosnap/journal.h"
#include "dosnap/util.h"
#include "suites.h"
#include "testutil.h"

static struct journal_record
record(int64_t id, int64_t action)
{
	struct journal_record r = { .droplet_id = id, .was_active = true, .slot = 1795663800,
		.action_id = action };

	snprintf(r.name, sizeof(r.name), "web-%lld", (long long)id);
	snprintf(r.snapshot, sizeof(r.snapshot), "dosnap-web-%lld-20261126T0330Z", (long long)id);
	return r;
}

START_TEST(test_write_list_remove)
{
	char *dir = tu_mkdtemp(), *path;
	struct journal *j = NULL;
	struct journal_record a = record(310000002, 0), b = record(310000001, 77), *recs = NULL;
	struct stat st;
	bool may = false;
	size_t n = 99;

	ck_assert_int_eq(journal_open(dir, &j, &may), 0);
	ck_assert(may);
	ck_assert(!journal_has_records(dir));
	ck_assert_int_eq(journal_write(j, &a, true), 0);
	ck_assert_int_eq(journal_write(j, &b, false), 0);
	ck_assert(journal_has_records(dir));

	path = str_printf("%s/journal/310000002.intent", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);

	ck_assert_int_eq(journal_list(j, &recs, &n), 0);
	ck_assert_uint_eq(n, 2);
	/* Sorted by droplet id, every field back. */
	ck_assert_int_eq(recs[0].droplet_id, 310000001);
	ck_assert_int_eq(recs[0].action_id, 77);
	ck_assert_str_eq(recs[1].name, "web-310000002");
	ck_assert_str_eq(recs[1].snapshot, "dosnap-web-310000002-20261126T0330Z");
	ck_assert(recs[1].was_active);
	ck_assert_int_eq(recs[1].slot, 1795663800);
	ck_assert(!recs[0].damaged && !recs[1].damaged);
	free(recs);

	/* An update replaces the record. */
	a.action_id = 123;
	ck_assert_int_eq(journal_write(j, &a, false), 0);
	ck_assert_int_eq(journal_list(j, &recs, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(recs[1].action_id, 123);
	free(recs);

	ck_assert_int_eq(journal_remove(j, 310000001), 0);
	ck_assert_int_eq(journal_remove(j, 310000001), 0);	/* twice is fine */
	ck_assert_int_eq(journal_remove(j, 310000002), 0);
	ck_assert(!journal_has_records(dir));
	journal_close(j);
	free(path);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* A damaged record still names its droplet, so recovery can power it on. */
START_TEST(test_damaged_record)
{
	char *dir = tu_mkdtemp(), *jdir;
	struct journal *j = NULL;
	struct journal_record *recs = NULL;
	bool may;
	size_t n = 0;

	ck_assert_int_eq(journal_open(dir, &j, &may), 0);
	jdir = str_printf("%s/journal", dir);
	free(tu_write(jdir, "424242.intent", "dosnap-intent 1\ndroplet 42"));
	free(tu_write(jdir, "not-a-record.txt", "ignored"));
	free(tu_write(jdir, "12x.intent", "ignored: no id"));
	ck_assert_int_eq(journal_list(j, &recs, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(recs[0].droplet_id, 424242);
	ck_assert(recs[0].damaged);
	ck_assert(recs[0].was_active);
	free(recs);
	journal_close(j);
	free(jdir);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

static const struct {
	const char *text;
	int expect;
} parse_rows[] = {
	{ "dosnap-intent 1\ndroplet 1\nname a\nwas-active 1\nslot 60\nsnapshot s\naction 0\nwritten 5\n", 0 },
	{ "dosnap-intent 1\ndroplet 1\nname a\nwas-active 0\nslot 60\nsnapshot s\naction 9\nwritten 5", 0 },
	{ "", -EBADMSG },
	{ "dosnap-intent 2\n", -EBADMSG },
	{ "dosnap-intent 1\ndroplet 1\n", -EBADMSG },	/* fields missing */
	{ "dosnap-intent 1\ndroplet 0\nname a\nwas-active 1\nslot 60\nsnapshot s\naction 0\nwritten 5\n", -EBADMSG },
	{ "dosnap-intent 1\ndroplet 1\nname a\nwas-active 2\nslot 60\nsnapshot s\naction 0\nwritten 5\n", -EBADMSG },
	{ "dosnap-intent 1\ndroplet 1\ndroplet 2\nname a\nwas-active 1\nslot 60\nsnapshot s\naction 0\nwritten 5\n", -EBADMSG },
	{ "dosnap-intent 1\ndroplet 1\nname a\nwas-active 1\nslot 60\nsnapshot s\naction 0\nwritten 5\nextra 1\n", -EBADMSG },
	{ "dosnap-intent 1\ndroplet -5\nname a\nwas-active 1\nslot 60\nsnapshot s\naction 0\nwritten 5\n", -EBADMSG },
};

START_TEST(test_parse_rows)
{
	struct journal_record r;

	ck_assert_int_eq(journal_parse(parse_rows[_i].text, strlen(parse_rows[_i].text), &r),
	    parse_rows[_i].expect);
}
END_TEST

/* A record file over the cap is damage, not something to read in full. */
START_TEST(test_size_cap)
{
	char big[JOURNAL_MAX_RECORD + 64];
	struct journal_record r;

	snprintf(big, sizeof(big), "dosnap-intent 1\n");
	memset(big + 16, 'a', sizeof(big) - 16);
	ck_assert_int_eq(journal_parse(big, sizeof(big), &r), -EBADMSG);
}
END_TEST

/* A symlink planted where a record's temporary file goes is not followed. */
START_TEST(test_symlink_refused)
{
	char *dir = tu_mkdtemp(), *target, *tmp;
	struct journal *j = NULL;
	struct journal_record a = record(7, 0);
	bool may;

	ck_assert_int_eq(journal_open(dir, &j, &may), 0);
	target = tu_write(dir, "victim", "precious\n");
	tmp = str_printf("%s/journal/7.intent.tmp", dir);
	ck_assert_int_eq(symlink(target, tmp), 0);
	ck_assert_int_eq(journal_write(j, &a, true), -ELOOP);
	journal_close(j);
	free(tmp);
	free(target);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/*
 * Recovery needs the journal to itself: a second dosnap while one runs gets
 * it shared, and may not recover; once the first is gone it may.
 */
START_TEST(test_lock_shared_and_exclusive)
{
	char *dir = tu_mkdtemp();
	struct journal *j = NULL;
	bool may = false;
	int status;
	pid_t pid;

	ck_assert_int_eq(journal_open(dir, &j, &may), 0);
	ck_assert(may);
	journal_share(j);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct journal *j2 = NULL;
		bool may2 = true;

		int code = journal_open(dir, &j2, &may2) < 0 ? 2 : may2 ? 1 : 0;

		/* Free what the child holds and inherited, or memcheck calls it a leak. */
		journal_close(j2);
		journal_close(j);
		free(dir);
		_exit(code);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "a second dosnap could recover while the first ran");
	journal_close(j);

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct journal *j2 = NULL;
		bool may2 = false;

		int code = journal_open(dir, &j2, &may2) < 0 ? 2 : may2 ? 0 : 1;

		journal_close(j2);
		free(dir);
		_exit(code);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/*
 * A record that vanishes while the journal is listed (a concurrent run
 * restoring its droplet) is gone, not an error: a child process writes
 * and removes one record as fast as it can while this one lists.
 */
START_TEST(test_list_record_vanishes)
{
	char *dir = tu_mkdtemp();
	struct journal *j = NULL;
	bool may;
	int i, status, errors = 0, first = 0;
	int64_t t0;
	pid_t pid;

	ck_assert_int_eq(journal_open(dir, &j, &may), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct journal_record a = record(9, 0);

		for (i = 0; i < 200000 && getppid() != 1; i++) {
			if (journal_write(j, &a, false) < 0 || journal_remove(j, 9) < 0)
				_exit(1);
		}
		_exit(0);
	}
	/* Up to 100,000 listings or 2 s: before the fix, a few dozen failed. */
	t0 = clock_mono_ms();
	for (i = 0; i < 100000 && clock_mono_ms() - t0 < 2000; i++) {
		struct journal_record *recs = NULL;
		size_t n = 0;
		int r = journal_list(j, &recs, &n);

		if (r < 0 && errors++ == 0)
			first = r;
		free(recs);
	}
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(errors == 0, "journal_list failed %d times of %d while a record came "
	    "and went (first: %s)", errors, i, strerror(-first));
	journal_close(j);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/*
 * A FIFO in journal/, as a record, as the lock or where a record's
 * temporary file goes, never blocks: a record is damaged (so recovery still
 * looks at its droplet), the lock and the temporary file are refused with
 * -EINVAL ("not a regular file").  alarm() turns a hang into a failure.
 */
START_TEST(test_fifo_never_blocks)
{
	char *dir = tu_mkdtemp(), *fifo, *lock;
	struct journal *j = NULL, *j2 = NULL;
	struct journal_record a = record(8, 0), *recs = NULL;
	bool may;
	size_t n = 0;

	alarm(5);
	ck_assert_int_eq(journal_open(dir, &j, &may), 0);
	fifo = str_printf("%s/journal/7.intent", dir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_eq(journal_list(j, &recs, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(recs[0].droplet_id, 7);
	ck_assert(recs[0].damaged);
	ck_assert_int_eq(recs[0].damage, -EINVAL);
	free(recs);
	ck_assert_int_eq(journal_remove(j, 7), 0);
	free(fifo);

	fifo = str_printf("%s/journal/8.intent.tmp", dir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_eq(journal_write(j, &a, true), -EINVAL);
	ck_assert_int_eq(unlink(fifo), 0);	/* left for the user, not removed */
	ck_assert_int_eq(journal_write(j, &a, true), 0);
	free(fifo);
	journal_close(j);

	lock = str_printf("%s/journal/.lock", dir);
	ck_assert_int_eq(unlink(lock), 0);
	ck_assert_int_eq(mkfifo(lock, 0600), 0);
	ck_assert_int_eq(journal_open(dir, &j2, &may), -EINVAL);
	ck_assert_ptr_null(j2);
	alarm(0);
	free(lock);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/*
 * Read-only opening (a state directory that cannot be written): creates
 * nothing, lists the records, and may recover only when no other dosnap
 * holds the lock, shared or not.
 */
START_TEST(test_open_readonly)
{
	char *dir = tu_mkdtemp(), *jdir;
	struct journal *j = NULL, *ro = NULL;
	struct journal_record a = record(5, 0), *recs = NULL;
	struct stat st;
	bool may = false;
	size_t n = 0;
	int status;
	pid_t pid;

	ck_assert_int_eq(journal_open_readonly(dir, &ro, &may), -ENOENT);
	ck_assert_ptr_null(ro);
	jdir = str_printf("%s/journal", dir);
	ck_assert_int_eq(stat(jdir, &st), -1);	/* created nothing */
	free(jdir);
	ck_assert_int_eq(journal_open(dir, &j, &may), 0);
	ck_assert_int_eq(journal_write(j, &a, true), 0);
	journal_share(j);

	/* Another dosnap holds it shared: a read-only opener may not recover. */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		bool may2 = true;
		int code = journal_open_readonly(dir, &ro, &may2) < 0 ? 2 : may2 ? 1 : 0;

		journal_close(ro);
		journal_close(j);
		free(dir);
		_exit(code);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "a read-only opener could recover while another dosnap ran (status %d)", status);
	journal_close(j);

	/* Alone, it may; and it lists the record. */
	ck_assert_int_eq(journal_open_readonly(dir, &ro, &may), 0);
	ck_assert(may);
	ck_assert_int_eq(journal_list(ro, &recs, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(recs[0].droplet_id, 5);
	free(recs);
	journal_close(ro);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/*
 * How each kind of bad record file comes back from journal_list: damaged,
 * with the reader's reason.  A record of exactly JOURNAL_MAX_RECORD bytes
 * is read (and here unparseable); one byte more is over the cap.
 */
START_TEST(test_list_damage_kinds)
{
	char *dir = tu_mkdtemp(), *jdir, *big, *p;
	struct journal *j = NULL;
	struct journal_record a = record(15, 0), *recs = NULL;
	static const int want[] = { -EBADMSG, -EFBIG, -ELOOP, -EINVAL };
	bool may;
	size_t n = 0, i;

	ck_assert_int_eq(journal_open(dir, &j, &may), 0);
	ck_assert_int_eq(journal_write(j, &a, true), 0);
	jdir = str_printf("%s/journal", dir);
	big = malloc(JOURNAL_MAX_RECORD + 2);
	ck_assert_ptr_nonnull(big);
	memset(big, 'a', JOURNAL_MAX_RECORD + 1);
	big[JOURNAL_MAX_RECORD] = '\0';
	free(tu_write(jdir, "11.intent", big));			/* at the cap: read, not parsed */
	big[JOURNAL_MAX_RECORD] = 'a';
	big[JOURNAL_MAX_RECORD + 1] = '\0';
	free(tu_write(jdir, "12.intent", big));			/* over it */
	p = str_printf("%s/15.intent", jdir);
	free(big);
	big = str_printf("%s/13.intent", jdir);
	ck_assert_int_eq(symlink(p, big), 0);			/* a link to a good record */
	free(big);
	free(p);
	p = str_printf("%s/14.intent", jdir);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	free(p);
	ck_assert_int_eq(journal_list(j, &recs, &n), 0);
	ck_assert_uint_eq(n, 5);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(recs[i].droplet_id, (int64_t)(11 + i));
		ck_assert_msg(recs[i].damaged && recs[i].damage == want[i],
		    "record %zu: damaged %d damage %d, want %d", 11 + i, recs[i].damaged,
		    recs[i].damage, want[i]);
		ck_assert(recs[i].was_active);
	}
	ck_assert(!recs[4].damaged);
	free(recs);
	journal_close(j);
	free(jdir);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* At most JOURNAL_MAX_RECORDS record files are listed; one more is -E2BIG. */
START_TEST(test_list_cap)
{
	char *dir = tu_mkdtemp(), *jdir;
	struct journal *j = NULL;
	struct journal_record *recs = NULL;
	bool may;
	size_t n = 0;
	int i;

	ck_assert_int_eq(journal_open(dir, &j, &may), 0);
	jdir = str_printf("%s/journal", dir);
	for (i = 1; i <= JOURNAL_MAX_RECORDS + 1; i++) {
		char name[32];

		if (i == JOURNAL_MAX_RECORDS + 1) {
			ck_assert_int_eq(journal_list(j, &recs, &n), 0);
			ck_assert_uint_eq(n, JOURNAL_MAX_RECORDS);
			ck_assert(recs[0].damaged && recs[0].damage == -EBADMSG);	/* empty */
			free(recs);
			recs = NULL;
		}
		snprintf(name, sizeof(name), "%d.intent", i);
		free(tu_write(jdir, name, ""));
	}
	ck_assert_int_eq(journal_list(j, &recs, &n), -E2BIG);
	ck_assert_ptr_null(recs);
	journal_close(j);
	free(jdir);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

Suite *
journal_suite(void)
{
	Suite *s = suite_create("journal");
	TCase *tc = tcase_create("journal");

	tcase_add_test(tc, test_write_list_remove);
	tcase_add_test(tc, test_damaged_record);
	tcase_add_loop_test(tc, test_parse_rows, 0, sizeof(parse_rows) / sizeof(parse_rows[0]));
	tcase_add_test(tc, test_size_cap);
	tcase_add_test(tc, test_symlink_refused);
	tcase_add_test(tc, test_lock_shared_and_exclusive);
	tcase_add_test(tc, test_list_record_vanishes);
	tcase_add_test(tc, test_fifo_never_blocks);
	tcase_add_test(tc, test_open_readonly);
	tcase_add_test(tc, test_list_damage_kinds);
	suite_add_tcase(s, tc);

	/* Ten thousand files: more time than Check's default under valgrind. */
	tc = tcase_create("cap");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_list_cap);
	suite_add_tcase(s, tc);
	return s;
}
