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
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < st->n_entries; i++)
		free(st->entries[i].droplets);
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
	/* NULL past STATE_MAX_ENTRIES as for no memory: callers tell them apart by the count. */
	if (grow_array(&st->entries, &st->cap_entries, st->n_entries + 1, sizeof(*st->entries),
	    STATE_MAX_ENTRIES) < 0)
		return NULL;
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

	for (i = 0; i < st->n_entries; i++) {
		if (ids_contain(ids, n_ids, st->entries[i].id))
			st->entries[k++] = st->entries[i];
		else
			free(st->entries[i].droplets);
	}
	st->n_entries = k;
}

static size_t
droplet_lower_bound(const struct state_entry *se, int64_t id)
{
	size_t lo = 0, hi = se->n_droplets;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (se->droplets[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct state_droplet *
state_droplet_find(const struct state_entry *se, int64_t id)
{
	size_t i = droplet_lower_bound(se, id);

	return i < se->n_droplets && se->droplets[i].id == id ? &se->droplets[i] : NULL;
}

/* Drop the record attempted longest ago: a droplet long gone from a tag. */
static void
droplet_drop_oldest(struct state_entry *se)
{
	size_t i, old = 0;

	for (i = 1; i < se->n_droplets; i++)
		if (se->droplets[i].last_attempt < se->droplets[old].last_attempt)
			old = i;
	memmove(&se->droplets[old], &se->droplets[old + 1],
	    (se->n_droplets - old - 1) * sizeof(*se->droplets));
	se->n_droplets--;
}

struct state_droplet *
state_droplet_get(struct state_entry *se, int64_t id)
{
	size_t i = droplet_lower_bound(se, id);
	struct state_droplet *d;

	if (i < se->n_droplets && se->droplets[i].id == id)
		return &se->droplets[i];
	if (se->n_droplets == STATE_MAX_DROPLETS) {
		droplet_drop_oldest(se);
		i = droplet_lower_bound(se, id);
	}
	if (grow_array(&se->droplets, &se->cap_droplets, se->n_droplets + 1,
	    sizeof(*se->droplets), STATE_MAX_DROPLETS) < 0)
		return NULL;
	memmove(&se->droplets[i + 1], &se->droplets[i],
	    (se->n_droplets - i) * sizeof(*se->droplets));
	se->n_droplets++;
	d = &se->droplets[i];
	memset(d, 0, sizeof(*d));
	d->id = id;
	return d;
}

static bool
counter_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n < sizeof(((struct state_counter *)NULL)->name) &&
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

uint64_t *
state_counter(struct state *st, const char *name)
{
	size_t i;

	if (!counter_name_ok(name))
		return NULL;
	for (i = 0; i < st->n_counters; i++)
		if (strcmp(st->counters[i].name, name) == 0)
			return &st->counters[i].value;
	if (st->n_counters == STATE_MAX_COUNTERS)
		return NULL;
	snprintf(st->counters[i].name, sizeof(st->counters[i].name), "%s", name);
	st->counters[i].value = 0;
	st->n_counters++;
	return &st->counters[i].value;
}

/*
 * Split S in place at runs of blanks into at most MAX fields in F.  Returns
 * the number of fields, MAX + 1 when there are more.
 */
static size_t
split_fields(char *s, char **f, size_t max)
{
	size_t n = 0;

	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			return n;
		if (n == max)
			return max + 1;
		f[n++] = s;
		while (*s != '\0' && *s != ' ' && *s != '\t')
			s++;
		if (*s == '\0')
			return n;
		*s++ = '\0';
	}
}

static const char *const outcome_names[] = {
	[STATE_OUTCOME_NONE] = "-",
	[STATE_OUTCOME_OK] = "ok",
	[STATE_OUTCOME_PASSING] = "passing",
	[STATE_OUTCOME_LASTING] = "lasting",
};

/* A "droplet" record's fields after the keyword, into entry SE. */
static int
parse_droplet(char *buf, struct state_entry *se)
{
	char *f[11] = { NULL };
	int64_t v[8], id;
	struct state_droplet *d;
	size_t n, i;
	int o;

	n = split_fields(buf, f, 11);
	if (n != 11 || parse_int64(f[0], 0, INT64_MAX, &id) < 0 ||
	    state_droplet_find(se, id) != NULL || se->n_droplets == STATE_MAX_DROPLETS)
		return -EBADMSG;
	for (o = 0; o < (int)(sizeof(outcome_names) / sizeof(outcome_names[0])); o++)
		if (strcmp(f[2], outcome_names[o]) == 0)
			break;
	if (o == (int)(sizeof(outcome_names) / sizeof(outcome_names[0])))
		return -EBADMSG;
	for (i = 0; i < 8; i++) {
		size_t k = i == 0 ? 1 : i + 2;	/* f[2] is the outcome */

		if (parse_int64(f[k], 0, INT64_MAX, &v[i]) < 0)
			return -EBADMSG;
	}
	if (v[1] > 1000000 || strlen(f[10]) >= sizeof(d->name) ||
	    strspn(f[10], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
	    strlen(f[10]))
		return -EBADMSG;
	d = state_droplet_get(se, id);
	if (d == NULL)
		return -ENOMEM;
	d->slot = v[0];
	d->outcome = (enum state_outcome)o;
	d->attempts = (int)v[1];
	d->next_retry = v[2];
	d->last_attempt = v[3];
	d->last_success = v[4];
	d->duration_ms = v[5];
	d->taken = (uint64_t)v[6];
	d->deleted = (uint64_t)v[7];
	if (strcmp(f[10], "-") != 0)
		snprintf(d->name, sizeof(d->name), "%s", f[10]);
	return 0;
}

/*
 * The state file is text, one record a line:
 *
 *	file    = magic NL *( record NL )
 *	magic   = "dosnap-state 1"
 *	record  = "last-run" SP int
 *	        / "entry" SP hex16 SP int SP int SP int [SP int SP int]
 *	                                ; id checked slot result [last-ok since]
 *	        / "droplet" SP int SP int SP outcome SP int SP int SP int SP int
 *	                    SP int SP int SP int SP name
 *	                                ; id slot outcome attempts next-retry
 *	                                ; last-attempt last-success duration-ms
 *	                                ; taken deleted name, of the entry above
 *	        / "counter" SP cname SP int
 *	        / "#" *any                                  ; comment
 *	outcome = "-" / "ok" / "passing" / "lasting"
 *	name    = "-" / 1*63( ALPHA / DIGIT / "." / "_" / "-" )
 *
 * Files written before droplet, counter, last-ok and since existed load as they
 * are.  Unknown record names are damage: this version wrote every line it
 * knows.
 */
int
state_parse(const char *text, size_t len, struct state *ret, unsigned *ret_line)
{
	struct state st;
	const char *p = text, *end = text + len;
	unsigned line = 0;
	bool magic = false, have_cur = false;
	uint64_t cur = 0;
	int r = 0;

	state_init(&st);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		char buf[512];

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
			char *f[7] = { NULL };
			const char *id, *lastok = "0", *since = "0";
			struct state_entry *e;
			int64_t res;
			uint64_t idv;
			char *idend;
			size_t nf;

			/* Split by hand: sscanf costs more than the rest of a quiet minute. */
			nf = split_fields(buf + 6, f, 7);
			if (nf == 6) {
				lastok = f[4];
				since = f[5];
			}
			if (nf != 4 && nf != 6) {
				r = -EBADMSG;
				goto fail;
			}
			id = f[0];
			if (strlen(id) != 16 || strspn(id, "0123456789abcdef") != 16) {
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
			if (parse_int64(f[1], 0, INT64_MAX, &e->checked) < 0 ||
			    parse_int64(f[2], 0, INT64_MAX, &e->slot) < 0 ||
			    parse_int64(f[3], 0, 255, &res) < 0 ||
			    parse_int64(lastok, 0, INT64_MAX, &e->last_ok) < 0 ||
			    parse_int64(since, 0, INT64_MAX, &e->since) < 0) {
				r = -EBADMSG;
				goto fail;
			}
			e->result = (int)res;
			cur = e->id;
			have_cur = true;
		} else if (strncmp(buf, "droplet ", 8) == 0) {
			struct state_entry *e = NULL;

			/* A droplet belongs to the entry line above it. */
			if (have_cur)
				e = state_get(&st, cur);	/* found: no allocation */
			if (e == NULL) {
				r = -EBADMSG;
				goto fail;
			}
			r = parse_droplet(buf + 8, e);
			if (r < 0)
				goto fail;
		} else if (strncmp(buf, "counter ", 8) == 0) {
			char *f[3] = { NULL };
			uint64_t *c;
			int64_t v;

			if (split_fields(buf + 8, f, 3) != 2 || parse_int64(f[1], 0, INT64_MAX, &v) < 0) {
				r = -EBADMSG;
				goto fail;
			}
			c = state_counter(&st, f[0]);
			if (c == NULL || *c != 0) {
				r = -EBADMSG;
				goto fail;
			}
			*c = (uint64_t)v;
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
	size_t cap = 64 + st->n_entries * 100 + st->n_counters * 64, len = 0;
	size_t i, j;
	int r;

	for (i = 0; i < st->n_entries; i++)
		cap += st->entries[i].n_droplets * 320;
	buf = malloc(cap);
	if (buf == NULL)
		return -ENOMEM;
	len += (size_t)snprintf(buf + len, cap - len, "%s\nlast-run %" PRId64 "\n",
	    STATE_MAGIC, st->last_run);
	for (i = 0; i < st->n_counters; i++)
		len += (size_t)snprintf(buf + len, cap - len, "counter %s %" PRIu64 "\n",
		    st->counters[i].name, st->counters[i].value);
	for (i = 0; i < st->n_entries; i++) {
		const struct state_entry *e = &st->entries[i];

		/* The old four fields alone while there is nothing more to say. */
		if (e->last_ok == 0 && e->since == 0)
			len += (size_t)snprintf(buf + len, cap - len,
			    "entry %016" PRIx64 " %" PRId64 " %" PRId64 " %d\n",
			    e->id, e->checked, e->slot, e->result);
		else
			len += (size_t)snprintf(buf + len, cap - len,
			    "entry %016" PRIx64 " %" PRId64 " %" PRId64 " %d %" PRId64 " %" PRId64 "\n",
			    e->id, e->checked, e->slot, e->result, e->last_ok, e->since);
		for (j = 0; j < e->n_droplets; j++) {
			const struct state_droplet *d = &e->droplets[j];
			char name[sizeof(d->name)];
			size_t k;

			/* Names go in as one safe word: the file's grammar, and labels. */
			snprintf(name, sizeof(name), "%s", d->name[0] ? d->name : "-");
			for (k = 0; name[k] != '\0'; k++)
				if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789._-", name[k]) == NULL)
					name[k] = '_';
			len += (size_t)snprintf(buf + len, cap - len,
			    "droplet %" PRId64 " %" PRId64 " %s %d %" PRId64 " %" PRId64 " %" PRId64
			    " %" PRId64 " %" PRIu64 " %" PRIu64 " %s\n", d->id, d->slot,
			    outcome_names[d->outcome], d->attempts, d->next_retry, d->last_attempt,
			    d->last_success, d->duration_ms, d->taken, d->deleted, name);
		}
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
