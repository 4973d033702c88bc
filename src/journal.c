/* journal: the intent journal: a durable record of every droplet dosnap powered off and has not yet restored. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dosnap/journal.h"
#include "dosnap/state.h"
#include "dosnap/util.h"

#define JOURNAL_MAGIC	"dosnap-intent 1"
#define JOURNAL_SUFFIX	".intent"

struct journal {
	char *dir;
	int lock_fd;
};

static int
lock_fd(int fd, short type, bool wait)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET };

	for (;;) {
		if (fcntl(fd, wait ? F_SETLKW : F_SETLK, &fl) == 0)
			return 0;
		if (errno == EINTR && wait)
			continue;
		return errno == EACCES || errno == EAGAIN ? -EWOULDBLOCK : -errno;
	}
}

/* A journal for STATE_DIR, not open yet (no lock); NULL without memory. */
static struct journal *
journal_new(const char *state_dir)
{
	struct journal *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return NULL;
	j->lock_fd = -1;
	j->dir = str_printf("%s/journal", state_dir);
	if (j->dir == NULL) {
		free(j);
		return NULL;
	}
	return j;
}

int
journal_open(const char *state_dir, struct journal **ret, bool *ret_may_recover)
{
	struct journal *j;
	char *lockpath = NULL;
	int r;

	j = journal_new(state_dir);
	if (j == NULL)
		return -ENOMEM;
	r = state_dir_prepare(j->dir);
	if (r < 0)
		goto fail;
	lockpath = str_printf("%s/.lock", j->dir);
	if (lockpath == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	/* O_NONBLOCK: a FIFO planted there must not hang every run in open(). */
	j->lock_fd = open(lockpath, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
	    O_NOCTTY, 0600);
	if (j->lock_fd < 0) {
		r = -errno;
		goto fail;
	}
	r = fd_is_regular(j->lock_fd);
	if (r < 0)
		goto fail;
	r = lock_fd(j->lock_fd, F_WRLCK, false);
	if (r == 0) {
		*ret_may_recover = true;
	} else if (r == -EWOULDBLOCK) {
		/* Another dosnap runs: share with it (waiting only for a recovery). */
		r = lock_fd(j->lock_fd, F_RDLCK, true);
		if (r < 0)
			goto fail;
		*ret_may_recover = false;
	} else {
		goto fail;
	}
	free(lockpath);
	*ret = j;
	return 0;
fail:
	free(lockpath);
	journal_close(j);
	return r;
}

int
journal_open_readonly(const char *state_dir, struct journal **ret, bool *ret_may_recover)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct journal *j;
	struct stat st;
	char *lockpath = NULL;
	int r;

	j = journal_new(state_dir);
	if (j == NULL)
		return -ENOMEM;
	lockpath = str_printf("%s/.lock", j->dir);
	if (lockpath == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	/* The rules of state_dir_prepare but for writing: ours, and nobody else's to write. */
	if (lstat(j->dir, &st) < 0) {
		r = -errno;
		goto fail;
	}
	if (!S_ISDIR(st.st_mode) || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0 ||
	    st.st_uid != geteuid()) {
		r = -EPERM;
		goto fail;
	}
	j->lock_fd = open(lockpath, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (j->lock_fd < 0 && errno != ENOENT) {
		r = -errno;
		goto fail;
	}
	*ret_may_recover = true;
	if (j->lock_fd >= 0) {
		r = fd_is_regular(j->lock_fd);
		if (r < 0)
			goto fail;
		/* Shared, as every dosnap holds it; taken by a recovery elsewhere: not ours. */
		r = lock_fd(j->lock_fd, F_RDLCK, false);
		if (r == -EWOULDBLOCK)
			*ret_may_recover = false;
		else if (r < 0)
			goto fail;
		/* Would an exclusive lock conflict, that is, does anyone else hold it? */
		if (fcntl(j->lock_fd, F_GETLK, &fl) < 0) {
			r = -errno;
			goto fail;
		}
		if (fl.l_type != F_UNLCK)
			*ret_may_recover = false;
	}
	free(lockpath);
	*ret = j;
	return 0;
fail:
	free(lockpath);
	journal_close(j);
	return r;
}

void
journal_share(struct journal *j)
{
	/* Converting a write lock to a read lock is atomic and cannot block. */
	if (j->lock_fd >= 0)
		(void)lock_fd(j->lock_fd, F_RDLCK, false);
}

const char *
journal_dir(const struct journal *j)
{
	return j->dir;
}

void
journal_close(struct journal *j)
{
	if (j == NULL)
		return;
	if (j->lock_fd >= 0)
		close(j->lock_fd);
	free(j->dir);
	free(j);
}

static char *
record_path(const struct journal *j, int64_t id)
{
	return str_printf("%s/%" PRId64 JOURNAL_SUFFIX, j->dir, id);
}

int
journal_write(struct journal *j, const struct journal_record *rec, bool durable)
{
	char buf[JOURNAL_MAX_RECORD], *path;
	int n, r;

	n = snprintf(buf, sizeof(buf),
	    JOURNAL_MAGIC "\n"
	    "droplet %" PRId64 "\n"
	    "name %s\n"
	    "was-active %d\n"
	    "slot %" PRId64 "\n"
	    "snapshot %s\n"
	    "action %" PRId64 "\n"
	    "written %" PRId64 "\n",
	    rec->droplet_id, rec->name, rec->was_active ? 1 : 0, rec->slot, rec->snapshot,
	    rec->action_id, (int64_t)time(NULL));
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -E2BIG;
	path = record_path(j, rec->droplet_id);
	if (path == NULL)
		return -ENOMEM;
	/* A FIFO or device where the temporary file goes is refused (-EINVAL), never waited on. */
	r = write_file_opt(path, buf, (size_t)n, 0600, durable ? WRITE_FILE_DURABLE : 0);
	free(path);
	return r;
}

int
journal_remove(struct journal *j, int64_t droplet_id)
{
	char *path = record_path(j, droplet_id);
	int r = 0;

	if (path == NULL)
		return -ENOMEM;
	/*
	 * No fsync: a removal a crash undoes brings back a record of a droplet
	 * that is in its state before, which recovery checks and drops.  Each
	 * fsync here would stall every droplet's flow on the event loop.
	 */
	if (unlink(path) < 0 && errno != ENOENT)
		r = -errno;
	free(path);
	return r;
}

/* Copy VALUE into DST of SIZE bytes; -EBADMSG when it does not fit. */
static int
copy_field(char *dst, size_t size, const char *value)
{
	size_t n = strlen(value);

	if (n >= size)
		return -EBADMSG;
	memcpy(dst, value, n + 1);
	return 0;
}

/*
 * A record is text, one field a line, every field present once:
 *
 *	record = magic NL field *( NL field ) [ NL ]
 *	field  = "droplet" SP int / "name" SP text / "was-active" SP ("0"/"1")
 *	       / "slot" SP int / "snapshot" SP text / "action" SP int / "written" SP int
 */
int
journal_parse(const char *text, size_t len, struct journal_record *ret)
{
	struct journal_record rec;
	const char *p = text, *end = text + len;
	unsigned seen = 0, line = 0;
	int64_t v;

	memset(&rec, 0, sizeof(rec));
	if (len > JOURNAL_MAX_RECORD || memchr(text, '\0', len) != NULL)
		return -EBADMSG;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		char buf[512], *value;
		unsigned bit;
		int r = 0;

		if (n >= sizeof(buf))
			return -EBADMSG;
		memcpy(buf, p, n);
		buf[n] = '\0';
		p += n + (nl != NULL);
		if (line++ == 0) {
			if (strcmp(buf, JOURNAL_MAGIC) != 0)
				return -EBADMSG;
			continue;
		}
		value = strchr(buf, ' ');
		if (value == NULL)
			return -EBADMSG;
		*value++ = '\0';
		if (strcmp(buf, "droplet") == 0) {
			bit = 1;
			r = parse_int64(value, 1, INT64_MAX, &rec.droplet_id);
		} else if (strcmp(buf, "name") == 0) {
			bit = 2;
			r = copy_field(rec.name, sizeof(rec.name), value);
		} else if (strcmp(buf, "was-active") == 0) {
			bit = 4;
			r = parse_int64(value, 0, 1, &v);
			rec.was_active = v == 1;
		} else if (strcmp(buf, "slot") == 0) {
			bit = 8;
			r = parse_int64(value, 0, INT64_MAX, &rec.slot);
		} else if (strcmp(buf, "snapshot") == 0) {
			bit = 16;
			r = copy_field(rec.snapshot, sizeof(rec.snapshot), value);
		} else if (strcmp(buf, "action") == 0) {
			bit = 32;
			r = parse_int64(value, 0, INT64_MAX, &rec.action_id);
		} else if (strcmp(buf, "written") == 0) {
			bit = 64;
			r = parse_int64(value, 0, INT64_MAX, &rec.written);
		} else {
			return -EBADMSG;
		}
		if (r < 0 || (seen & bit) != 0)
			return -EBADMSG;
		seen |= bit;
	}
	if (seen != 127)
		return -EBADMSG;
	*ret = rec;
	return 0;
}

static int
record_cmp(const void *a, const void *b)
{
	const struct journal_record *x = a, *y = b;

	return x->droplet_id < y->droplet_id ? -1 : x->droplet_id > y->droplet_id;
}

/* The droplet id in a record file's name "ID.intent", or 0. */
static int64_t
id_from_name(const char *name)
{
	char digits[24];
	size_t n = strlen(name), sl = strlen(JOURNAL_SUFFIX);
	int64_t id;

	if (n <= sl || n - sl >= sizeof(digits) || strcmp(name + n - sl, JOURNAL_SUFFIX) != 0)
		return 0;
	memcpy(digits, name, n - sl);
	digits[n - sl] = '\0';
	if (parse_int64(digits, 1, INT64_MAX, &id) < 0)
		return 0;
	return id;
}

int
journal_list(struct journal *j, struct journal_record **ret, size_t *ret_n)
{
	struct journal_record *recs = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int r = 0;

	d = opendir(j->dir);
	if (d == NULL)
		return -errno;
	for (de = readdir(d); de != NULL; de = readdir(d)) {
		int64_t id = id_from_name(de->d_name);
		char *path, *text = NULL;
		size_t len = 0;

		if (id == 0)
			continue;
		/* Past JOURNAL_MAX_RECORDS: -E2BIG. */
		r = grow_array(&recs, &cap, n + 1, sizeof(*recs), JOURNAL_MAX_RECORDS);
		if (r < 0)
			break;
		path = str_printf("%s/%s", j->dir, de->d_name);
		if (path == NULL) {
			r = -ENOMEM;
			break;
		}
		/*
		 * Not through a symlink (-ELOOP), and without blocking, so a FIFO
		 * returns at once; anything but a regular file is -EINVAL, more
		 * than JOURNAL_MAX_RECORD bytes -EFBIG.
		 */
		r = read_file_capped(path, JOURNAL_MAX_RECORD, &text, &len);
		free(path);
		if (r == -ENOENT) {
			r = 0;
			continue;	/* restored meanwhile: gone, not an error */
		}
		if (r == 0)
			r = journal_parse(text, len, &recs[n]);
		free(text);
		if (r == 0 && recs[n].droplet_id != id)
			r = -EBADMSG;
		if (r < 0) {
			memset(&recs[n], 0, sizeof(recs[n]));
			recs[n].droplet_id = id;
			recs[n].was_active = true;
			recs[n].damaged = true;
			recs[n].damage = r;
		}
		r = 0;
		n++;
	}
	closedir(d);
	if (r < 0) {
		free(recs);
		return r;
	}
	if (n > 1)
		qsort(recs, n, sizeof(*recs), record_cmp);
	*ret = recs;
	*ret_n = n;
	return 0;
}

bool
journal_has_records(const char *state_dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	bool found = false;
	DIR *d;

	if ((size_t)snprintf(path, sizeof(path), "%s/journal", state_dir) >= sizeof(path))
		return true;	/* cannot tell: let the caller look properly */
	d = opendir(path);
	if (d == NULL)
		return false;
	for (de = readdir(d); de != NULL && !found; de = readdir(d))
		found = id_from_name(de->d_name) != 0;
	closedir(d);
	return found;
}

int
journal_peek(const char *state_dir, struct journal_record **ret, size_t *ret_n)
{
	struct journal *j = journal_new(state_dir);
	int r;

	if (j == NULL)
		return -ENOMEM;
	r = journal_list(j, ret, ret_n);
	journal_close(j);
	if (r == -ENOENT) {
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	return r;
}
