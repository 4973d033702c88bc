/* state: what dosnap did last time: the state directory, the state file, and the lock. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dosnap/state.h"
#include "dosnap/util.h"

#define STATE_MAGIC	"dosnap-state 1"

/* A non-empty environment variable, or NULL. */
static const char *
env_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

int
state_dir_resolve(const char *opt, char **ret)
{
	const char *sd = env_nonempty("STATE_DIRECTORY");
	const char *xdg = env_nonempty("XDG_STATE_HOME");
	const char *home = env_nonempty("HOME");
	char *path;

	if (opt != NULL && opt[0] != '\0')
		path = strdup(opt);
	else if (sd != NULL)
		/* systemd may list several, separated by ':'; the first is ours. */
		path = strndup(sd, strcspn(sd, ":"));
	else if (xdg != NULL && xdg[0] == '/')
		path = str_printf("%s/dosnap", xdg);
	else if (geteuid() == 0)
		path = strdup("/var/lib/dosnap");
	else if (home != NULL && home[0] == '/')
		path = str_printf("%s/.local/state/dosnap", home);
	else
		return -ENOENT;
	if (path == NULL)
		return -ENOMEM;
	*ret = path;
	return 0;
}

/* mkdir -p with mode 0700 for what it creates. */
static int
mkdir_parents(const char *dir)
{
	char buf[PATH_MAX];
	size_t len = strlen(dir);
	char *p;

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, dir, len + 1);
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int
state_dir_prepare(const char *dir)
{
	struct stat st;
	int r;

	/*
	 * stat, not lstat: systemd's StateDirectory= with DynamicUser=yes makes
	 * /var/lib/dosnap a symlink to /var/lib/private/dosnap.  What matters
	 * is the directory it leads to: ours, and writable by nobody else.
	 * The files inside are never opened through a symlink.
	 */
	if (stat(dir, &st) < 0) {
		if (errno != ENOENT)
			return -errno;
		r = mkdir_parents(dir);
		if (r < 0)
			return r;
		if (stat(dir, &st) < 0)
			return -errno;
	}
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 || st.st_uid != geteuid())
		return -EPERM;
	if (access(dir, W_OK) < 0)
		return -errno;
	return 0;
}

int
state_path_for(const char *dir, const char *schedule_path, char **ret)
{
	char abs[PATH_MAX];
	const char *base;
	char *path;

	if (realpath(schedule_path, abs) == NULL) {
		/* A schedule that vanished still gets a stable name. */
		if (strlen(schedule_path) >= sizeof(abs))
			return -ENAMETOOLONG;
		strcpy(abs, schedule_path);
	}
	base = strrchr(abs, '/');
	base = base != NULL ? base + 1 : abs;
	path = str_printf("%s/%.64s-%016" PRIx64 ".state", dir, base,
	    hash_fnv1a64(abs, strlen(abs)));
	if (path == NULL)
		return -ENOMEM;
	*ret = path;
	return 0;
}

void
state_init(struct state *st)
{
	memset(st, 0, sizeof(*st));
}

void
state_release(struct state *st)
{
	if (st == NULL)
		return;
	free(st->entries);
	state_init(st);
}

/*
 * Entries are kept sorted by id, so that a run over a schedule of a
 * thousand entries finds each in a few steps rather than a thousand.
 * Returns the index of ID, or of where it would go.
 */
static size_t
state_lower_bound(const struct state *st, uint64_t id)
{
	size_t lo = 0, hi = st->n_entries;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->entries[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct state_entry *
state_find(const struct state *st, uint64_t id)
{
	size_t i = state_lower_bound(st, id);

	return i < st->n_entries && st->entries[i].id == id ? &st->entries[i] : NULL;
}

struct state_entry *
state_get(struct state *st, uint64_t id)
{
	size_t i = state_lower_bound(st, id);
	struct state_entry *e;

	if (i < st->n_entries && st->entries[i].id == id)
		return &st->entries[i];
	if (st->n_entries == STATE_MAX_ENTRIES)
		return NULL;
	if (st->n_entries == st->cap_entries) {
		size_t cap = st->cap_entries ? st->cap_entries * 2 : 16;
		struct state_entry *n = realloc(st->entries, cap * sizeof(*n));

		if (n == NULL)
			return NULL;
		st->entries = n;
		st->cap_entries = cap;
	}
	memmove(&st->entries[i + 1], &st->entries[i],
	    (st->n_entries - i) * sizeof(*st->entries));
	st->n_entries++;
	e = &st->entries[i];
	memset(e, 0, sizeof(*e));
	e->id = id;
	return e;
}

static bool
ids_contain(const uint64_t *ids, size_t n, uint64_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ids[mid] == id)
			return true;
		if (ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

void
state_prune(struct state *st, const uint64_t *ids, size_t n_ids)
{
	size_t i, k = 0;

	for (i = 0; i < st->n_entries; i++)
		if (ids_contain(ids, n_ids, st->entries[i].id))
			st->entries[k++] = st->entries[i];
	st->n_entries = k;
}

/*
 * The state file is text, one record a line:
 *
 *	file    = magic NL *( record NL )
 *	magic   = "dosnap-state 1"
 *	record  = "last-run" SP int
 *	        / "entry" SP hex16 SP int SP int SP int     ; id checked slot result
 *	        / "#" *any                                  ; comment
 *
 * Unknown record names are damage: this version wrote every line it knows.
 */
int
state_parse(const char *text, size_t len, struct state *ret, unsigned *ret_line)
{
	struct state st;
	const char *p = text, *end = text + len;
	unsigned line = 0;
	bool magic = false;
	int r = 0;

	state_init(&st);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		char buf[256];

		line++;
		if (n >= sizeof(buf) || memchr(p, '\0', n) != NULL) {
			r = -EBADMSG;
			goto fail;
		}
		memcpy(buf, p, n);
		buf[n] = '\0';
		p += n + (nl != NULL);

		if (!magic) {
			if (strcmp(buf, STATE_MAGIC) != 0) {
				r = -EBADMSG;
				goto fail;
			}
			magic = true;
			continue;
		}
		if (buf[0] == '#' || buf[0] == '\0')
			continue;
		if (strncmp(buf, "last-run ", 9) == 0) {
			r = parse_int64(buf + 9, 0, INT64_MAX, &st.last_run);
			if (r < 0) {
				r = -EBADMSG;
				goto fail;
			}
		} else if (strncmp(buf, "entry ", 6) == 0) {
			char id[17], checked[24], slot[24], result[8];
			struct state_entry *e;
			int64_t res;
			uint64_t idv;
			char *idend;

			if (sscanf(buf + 6, "%16s %23s %23s %7s", id, checked, slot, result) != 4 ||
			    strlen(id) != 16 || strspn(id, "0123456789abcdef") != 16) {
				r = -EBADMSG;
				goto fail;
			}
			errno = 0;
			idv = strtoull(id, &idend, 16);
			if (errno != 0 || *idend != '\0' || state_find(&st, idv) != NULL) {
				r = -EBADMSG;
				goto fail;
			}
			e = state_get(&st, idv);
			if (e == NULL) {
				r = st.n_entries == STATE_MAX_ENTRIES ? -EBADMSG : -ENOMEM;
				goto fail;
			}
			if (parse_int64(checked, 0, INT64_MAX, &e->checked) < 0 ||
			    parse_int64(slot, 0, INT64_MAX, &e->slot) < 0 ||
			    parse_int64(result, 0, 255, &res) < 0) {
				r = -EBADMSG;
				goto fail;
			}
			e->result = (int)res;
		} else {
			r = -EBADMSG;
			goto fail;
		}
	}
	if (!magic) {
		line = 1;
		r = -EBADMSG;
		goto fail;
	}
	state_release(ret);
	*ret = st;
	return 0;
fail:
	if (ret_line != NULL)
		*ret_line = line;
	state_release(&st);
	return r;
}

int
state_load(const char *path, struct state *ret, unsigned *ret_line)
{
	char *text = NULL;
	size_t len;
	int r;

	r = read_file_capped(path, STATE_MAX_FILE_SIZE, &text, &len);
	if (r < 0)
		return r;
	r = state_parse(text, len, ret, ret_line);
	free(text);
	return r;
}

int
state_save(const struct state *st, const char *path)
{
	char *buf = NULL;
	size_t cap = 64 + st->n_entries * 80, len = 0;
	size_t i;
	int r;

	buf = malloc(cap);
	if (buf == NULL)
		return -ENOMEM;
	len += (size_t)snprintf(buf + len, cap - len, "%s\nlast-run %" PRId64 "\n",
	    STATE_MAGIC, st->last_run);
	for (i = 0; i < st->n_entries; i++) {
		const struct state_entry *e = &st->entries[i];

		len += (size_t)snprintf(buf + len, cap - len,
		    "entry %016" PRIx64 " %" PRId64 " %" PRId64 " %d\n",
		    e->id, e->checked, e->slot, e->result);
	}
	r = write_file_atomic(path, buf, len, 0600);
	free(buf);
	return r;
}

int
state_quarantine(const char *path, int64_t now, char **ret_aside)
{
	char *aside;

	aside = str_printf("%s.corrupt-%" PRId64, path, now);
	if (aside == NULL)
		return -ENOMEM;
	if (rename(path, aside) < 0) {
		int r = -errno;

		free(aside);
		return r;
	}
	if (ret_aside != NULL)
		*ret_aside = aside;
	else
		free(aside);
	return 0;
}

int
state_lock(const char *path, int *ret_fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char *lockpath;
	int fd, r;

	lockpath = str_printf("%s.lock", path);
	if (lockpath == NULL)
		return -ENOMEM;
	fd = open(lockpath, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	free(lockpath);
	if (fd < 0)
		return -errno;
	/*
	 * A POSIX record lock rather than flock(2): it works over NFS, and the
	 * kernel drops it when the process dies, however it dies.
	 */
	if (fcntl(fd, F_SETLK, &fl) < 0) {
		r = (errno == EACCES || errno == EAGAIN) ? -EWOULDBLOCK : -errno;
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

void
state_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

int
state_clock_save(const char *dir, int64_t offset_s, int64_t at)
{
	char text[64], *path;
	int n, r;

	n = snprintf(text, sizeof(text), "%" PRId64 " %" PRId64 "\n", offset_s, at);
	path = str_printf("%s/clock", dir);
	if (path == NULL)
		return -ENOMEM;
	/* A lost update costs one line of `dosnap status`: no fsync. */
	r = write_file_replace(path, text, (size_t)n, 0644, false);
	free(path);
	return r;
}

int
state_clock_load(const char *dir, int64_t *ret_offset_s, int64_t *ret_at)
{
	char *path, *text = NULL, *end, *end2;
	size_t len;
	long long off, at;
	int r;

	path = str_printf("%s/clock", dir);
	if (path == NULL)
		return -ENOMEM;
	r = read_file_capped(path, 64, &text, &len);
	free(path);
	if (r < 0)
		return r;
	errno = 0;
	off = strtoll(text, &end, 10);
	at = strtoll(end, &end2, 10);
	if (errno != 0 || end == text || end2 == end || (*end2 != '\n' && *end2 != '\0'))
		r = -EINVAL;
	free(text);
	if (r < 0)
		return r;
	*ret_offset_s = (int64_t)off;
	*ret_at = (int64_t)at;
	return 0;
}
