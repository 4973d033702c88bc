/* tz: reads TZif zone files and POSIX TZ rules into offset tables, and handles RFC 3339 times. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dosnap/calendar.h"
#include "dosnap/tz.h"
#include "dosnap/util.h"

/* A zone file bigger than this is not a zone file; the largest in tzdata is ~4 KiB. */
#define TZ_MAX_FILE		(256 * 1024)
#define TZ_MAX_NAME		255
#define TZ_MAX_TYPES		256
#define TZ_MAX_FOOTER		255
/* Offsets beyond a day and a bit exist nowhere; larger ones are corrupt data. */
#define TZ_MAX_OFFSET		(26 * 3600)
/* The footer rule is applied up to the end of this year. */
#define TZ_RULE_LAST_YEAR	2200
#define TZ_RULE_FIRST_YEAR	1900

struct tz {
	char *name;
	size_t n;		/* transitions, at most TZ_MAX_TRANSITIONS */
	int64_t *at;		/* n instants, strictly increasing */
	int32_t *off;		/* n + 1 offsets: off[0] before at[0], off[i + 1] from at[i] */
	size_t cap_at, cap_off;
};

/* One rule date of a POSIX TZ string: "Jn", "n" or "Mm.w.d", with its time of day. */
enum tz_rule_kind {
	TZ_RULE_JULIAN1,	/* Jn: 1..365, February 29 never counted */
	TZ_RULE_JULIAN0,	/* n: 0..365, February 29 counted */
	TZ_RULE_MWD,		/* Mm.w.d */
};

struct tz_rule_date {
	enum tz_rule_kind kind;
	int n;			/* day for the Julian forms */
	int m, w, d;		/* month, week, weekday for Mm.w.d */
	int32_t time;		/* seconds after local midnight, may be negative or > 24 h */
};

struct tz_posix {
	int32_t std_off;	/* east of UTC */
	int32_t dst_off;
	bool has_dst;
	struct tz_rule_date start, end;
};

static bool
valid_name(const char *name)
{
	size_t len, i;

	len = strlen(name);
	if (len == 0 || len > TZ_MAX_NAME || name[0] == '/')
		return false;
	if (strstr(name, "..") != NULL)
		return false;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '/' || c == '_' || c == '+' ||
		    c == '-'))
			return false;
	}
	return true;
}

static struct tz *
tz_new(const char *name)
{
	struct tz *z;

	z = calloc(1, sizeof(*z));
	if (z == NULL)
		return NULL;
	z->name = strdup(name);
	if (z->name == NULL ||
	    grow_array(&z->off, &z->cap_off, 1, sizeof(*z->off), TZ_MAX_TRANSITIONS + 1) < 0) {
		tz_free(z);
		return NULL;
	}
	z->off[0] = 0;
	return z;
}

void
tz_free(struct tz *z)
{
	if (z == NULL)
		return;
	free(z->name);
	free(z->at);
	free(z->off);
	free(z);
}

/* Append a transition at T to offset OFF, dropping ones that change nothing. */
static int
tz_push(struct tz *z, int64_t t, int32_t off)
{
	int r;

	if (z->n > 0 && t <= z->at[z->n - 1])
		return -EBADMSG;
	if (z->off[z->n] == off)
		return 0;
	r = grow_array(&z->at, &z->cap_at, z->n + 1, sizeof(*z->at), TZ_MAX_TRANSITIONS);
	if (r == 0)
		r = grow_array(&z->off, &z->cap_off, z->n + 2, sizeof(*z->off), TZ_MAX_TRANSITIONS + 1);
	if (r < 0)
		return r == -E2BIG ? -EBADMSG : r;	/* no zone has that many: corrupt data */
	z->at[z->n] = t;
	z->off[z->n + 1] = off;
	z->n++;
	return 0;
}

/*
 * Parse an unsigned decimal of at most MAXDIGITS digits at *P, bounded by
 * MAX; advance *P.  Returns -EINVAL when there is no digit or it is too big.
 */
static int
take_uint(const char **p, int maxdigits, long max, long *ret)
{
	const char *s = *p;
	long v = 0;
	int n = 0;

	while (*s >= '0' && *s <= '9') {
		if (n == maxdigits)
			return -EINVAL;
		v = v * 10 + (*s - '0');
		s++;
		n++;
	}
	if (n == 0 || v > max)
		return -EINVAL;
	*p = s;
	*ret = v;
	return 0;
}

/*
 * Grammar (POSIX, with RFC 8536's extensions for TZif version 3):
 *	hms := ["+" | "-"] hours [":" mm [":" ss]]
 * with hours at most MAXH.  Stores signed seconds in *ret.
 */
static int
parse_hms(const char **p, long maxh, int32_t *ret)
{
	const char *s = *p;
	long h, m = 0, sec = 0;
	int sign = 1;

	if (*s == '+' || *s == '-') {
		if (*s == '-')
			sign = -1;
		s++;
	}
	if (take_uint(&s, 3, maxh, &h) < 0)
		return -EINVAL;
	if (*s == ':') {
		s++;
		if (take_uint(&s, 2, 59, &m) < 0)
			return -EINVAL;
		if (*s == ':') {
			s++;
			if (take_uint(&s, 2, 59, &sec) < 0)
				return -EINVAL;
		}
	}
	*p = s;
	*ret = (int32_t)(sign * (h * 3600 + m * 60 + sec));
	return 0;
}

/*
 * Grammar:
 *	abbr := alpha{3,} | "<" [A-Za-z0-9+-]{3,} ">"
 */
static int
parse_abbr(const char **p)
{
	const char *s = *p;
	size_t n = 0;

	if (*s == '<') {
		s++;
		while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '+' || *s == '-') {
			s++;
			n++;
		}
		if (*s != '>' || n < 3)
			return -EINVAL;
		s++;
	} else {
		while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')) {
			s++;
			n++;
		}
		if (n < 3)
			return -EINVAL;
	}
	*p = s;
	return 0;
}

/*
 * Grammar:
 *	rule := ("J" n | n | "M" m "." w "." d) ["/" hms]
 * with J n in 1..365, plain n in 0..365, m 1..12, w 1..5, d 0..6 and the
 * time's hours in -167..167; the time defaults to 02:00.
 */
static int
parse_rule_date(const char **p, struct tz_rule_date *r)
{
	const char *s = *p;
	long v;

	if (*s == 'J') {
		s++;
		if (take_uint(&s, 3, 365, &v) < 0 || v < 1)
			return -EINVAL;
		r->kind = TZ_RULE_JULIAN1;
		r->n = (int)v;
	} else if (*s == 'M') {
		s++;
		if (take_uint(&s, 2, 12, &v) < 0 || v < 1)
			return -EINVAL;
		r->m = (int)v;
		if (*s++ != '.')
			return -EINVAL;
		if (take_uint(&s, 1, 5, &v) < 0 || v < 1)
			return -EINVAL;
		r->w = (int)v;
		if (*s++ != '.')
			return -EINVAL;
		if (take_uint(&s, 1, 6, &v) < 0)
			return -EINVAL;
		r->d = (int)v;
		r->kind = TZ_RULE_MWD;
	} else {
		if (take_uint(&s, 3, 365, &v) < 0)
			return -EINVAL;
		r->kind = TZ_RULE_JULIAN0;
		r->n = (int)v;
	}
	r->time = 7200;
	if (*s == '/') {
		s++;
		if (parse_hms(&s, 167, &r->time) < 0)
			return -EINVAL;
	}
	*p = s;
	return 0;
}

/*
 * Grammar (POSIX TZ, as in a TZif footer):
 *	tz := abbr hms [abbr [hms] ["," rule "," rule]]
 * An empty string is valid and means "no rule".  Offsets in the string are
 * west of UTC; *ret holds them east of UTC.  Without rules, a zone with
 * daylight saving time follows the US rules, as glibc does.
 */
static int
parse_posix(const char *s, struct tz_posix *ret)
{
	struct tz_posix r;
	int32_t v;

	memset(&r, 0, sizeof(r));
	if (parse_abbr(&s) < 0 || parse_hms(&s, 24, &v) < 0)
		return -EINVAL;
	r.std_off = -v;
	r.dst_off = r.std_off;
	if (*s == '\0') {
		*ret = r;
		return 0;
	}
	if (parse_abbr(&s) < 0)
		return -EINVAL;
	r.has_dst = true;
	r.dst_off = r.std_off + 3600;
	if (*s != ',' && *s != '\0') {
		if (parse_hms(&s, 24, &v) < 0)
			return -EINVAL;
		r.dst_off = -v;
	}
	if (*s == '\0') {
		r.start = (struct tz_rule_date){ .kind = TZ_RULE_MWD, .m = 3, .w = 2, .d = 0, .time = 7200 };
		r.end = (struct tz_rule_date){ .kind = TZ_RULE_MWD, .m = 11, .w = 1, .d = 0, .time = 7200 };
		*ret = r;
		return 0;
	}
	if (*s++ != ',' || parse_rule_date(&s, &r.start) < 0)
		return -EINVAL;
	if (*s++ != ',' || parse_rule_date(&s, &r.end) < 0)
		return -EINVAL;
	if (*s != '\0')
		return -EINVAL;
	*ret = r;
	return 0;
}

/* Local seconds since the epoch (as if UTC) at which rule date R happens in year Y. */
static int64_t
rule_local(const struct tz_rule_date *r, int64_t y)
{
	int64_t days, first;
	unsigned len;
	int w1, day;

	first = cal_days_from_civil(y, 1, 1);
	switch (r->kind) {
	case TZ_RULE_JULIAN1:
		days = first + r->n - 1 + (cal_is_leap(y) && r->n >= 60);
		break;
	case TZ_RULE_JULIAN0:
		days = first + r->n;
		break;
	case TZ_RULE_MWD:
	default:
		first = cal_days_from_civil(y, (unsigned)r->m, 1);
		w1 = (int)cal_weekday(first);
		day = 1 + (r->d - w1 + 7) % 7 + (r->w - 1) * 7;
		len = cal_month_days(y, (unsigned)r->m);
		while (day > (int)len)
			day -= 7;
		days = first + day - 1;
		break;
	}
	return days * CAL_SECS_PER_DAY + r->time;
}

/*
 * Append a rule transition at T to OFF.  Rules may put one year's end on
 * the instant the next year's start (all-year daylight saving time, as in
 * "EST5EDT,J1/0,J365/25"); then the later one replaces the earlier, and a
 * pair that cancels out leaves no transition.  FIRST is the index of the
 * first rule transition, so the file's own ones are never replaced.
 */
static int
tz_push_rule(struct tz *z, size_t first, int64_t t, int32_t off)
{
	if (z->n > first && z->at[z->n - 1] == t) {
		z->off[z->n] = off;
		if (z->off[z->n - 1] == off)
			z->n--;
		return 0;
	}
	if (z->n > 0 && t <= z->at[z->n - 1])
		return 0;
	return tz_push(z, t, off);
}

/* Extend Z with RULE's transitions after its last one, up to TZ_RULE_LAST_YEAR. */
static int
tz_extend(struct tz *z, const struct tz_posix *rule)
{
	int64_t y, y0;
	unsigned m, d;
	size_t first = z->n;
	int r;

	if (!rule->has_dst) {
		if (z->n == 0)
			z->off[0] = rule->std_off;
		else if (z->off[z->n] != rule->std_off)
			return tz_push(z, z->at[z->n - 1] + 1, rule->std_off);
		return 0;
	}
	if (z->n == 0) {
		y0 = TZ_RULE_FIRST_YEAR;
		z->off[0] = rule->std_off;
	} else {
		cal_civil_from_days(cal_floor_div(z->at[z->n - 1], CAL_SECS_PER_DAY), &y0, &m, &d);
	}
	for (y = y0; y <= TZ_RULE_LAST_YEAR; y++) {
		int64_t ts, te;

		ts = rule_local(&rule->start, y) - rule->std_off;
		te = rule_local(&rule->end, y) - rule->dst_off;
		if (ts < te) {
			r = tz_push_rule(z, first, ts, rule->dst_off);
			if (r == 0)
				r = tz_push_rule(z, first, te, rule->std_off);
		} else {
			r = tz_push_rule(z, first, te, rule->std_off);
			if (r == 0)
				r = tz_push_rule(z, first, ts, rule->dst_off);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t
be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_hdr {
	int version;
	uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static int
read_hdr(const unsigned char *p, size_t len, struct tzif_hdr *h)
{
	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return -EBADMSG;
	h->version = p[4] == 0 ? 1 : p[4] - '0';
	h->isutcnt = be32(p + 20);
	h->isstdcnt = be32(p + 24);
	h->leapcnt = be32(p + 28);
	h->timecnt = be32(p + 32);
	h->typecnt = be32(p + 36);
	h->charcnt = be32(p + 40);
	/* Counts beyond the file size are caught below; these keep the sums small. */
	if (h->typecnt == 0 || h->typecnt > TZ_MAX_TYPES || h->timecnt > TZ_MAX_FILE ||
	    h->leapcnt > TZ_MAX_FILE || h->charcnt > TZ_MAX_FILE ||
	    (h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
	    (h->isstdcnt != 0 && h->isstdcnt != h->typecnt))
		return -EBADMSG;
	return 0;
}

static size_t
block_size(const struct tzif_hdr *h, size_t timesize)
{
	return (size_t)h->timecnt * timesize + h->timecnt + (size_t)h->typecnt * 6 +
	    h->charcnt + (size_t)h->leapcnt * (timesize + 4) + h->isstdcnt + h->isutcnt;
}

/* Parse the TZif data in BUF into Z's transitions, then apply the footer rule. */
static int
tz_parse(struct tz *z, const unsigned char *buf, size_t len)
{
	struct tzif_hdr h;
	const unsigned char *p, *times, *idx, *types, *end = buf + len;
	size_t timesize = 4, bs, i;
	int32_t offs[TZ_MAX_TYPES];
	char footer[TZ_MAX_FOOTER + 1];
	bool have_footer = false;
	int r;

	r = read_hdr(buf, len, &h);
	if (r < 0)
		return r;
	p = buf + 44;
	bs = block_size(&h, 4);
	if (bs > (size_t)(end - p))
		return -EBADMSG;
	if (h.version >= 2) {
		/* Skip the 32-bit block: the 64-bit one after it is complete. */
		p += bs;
		r = read_hdr(p, (size_t)(end - p), &h);
		if (r < 0)
			return r;
		p += 44;
		timesize = 8;
		bs = block_size(&h, 8);
		if (bs > (size_t)(end - p))
			return -EBADMSG;
	}
	times = p;
	idx = times + (size_t)h.timecnt * timesize;
	types = idx + h.timecnt;
	for (i = 0; i < h.typecnt; i++) {
		int32_t o = (int32_t)be32(types + i * 6);

		if (o > TZ_MAX_OFFSET || o < -TZ_MAX_OFFSET || types[i * 6 + 4] > 1)
			return -EBADMSG;
		offs[i] = o;
	}
	if (h.version >= 2) {
		const unsigned char *f = p + bs, *nl;
		size_t flen;

		if (f < end && *f == '\n') {
			f++;
			nl = memchr(f, '\n', (size_t)(end - f));
			if (nl == NULL)
				return -EBADMSG;
			flen = (size_t)(nl - f);
			if (flen > TZ_MAX_FOOTER || memchr(f, '\0', flen) != NULL)
				return -EBADMSG;
			memcpy(footer, f, flen);
			footer[flen] = '\0';
			have_footer = flen > 0;
		}
	}
	if (h.typecnt == 0)
		return -EBADMSG;	/* read_hdr refuses it; said again for the reader */
	z->off[0] = offs[0];
	for (i = 0; i < h.timecnt; i++) {
		int64_t t;

		t = timesize == 8 ? be64(times + i * 8) : (int32_t)be32(times + i * 4);
		if (idx[i] >= h.typecnt)
			return -EBADMSG;
		if (i > 0) {
			int64_t prev = timesize == 8 ? be64(times + (i - 1) * 8) :
			    (int32_t)be32(times + (i - 1) * 4);

			if (t <= prev)
				return -EBADMSG;
		}
		r = tz_push(z, t, offs[idx[i]]);
		if (r < 0)
			return r;
	}
	if (have_footer) {
		struct tz_posix rule;

		if (parse_posix(footer, &rule) < 0)
			return -EBADMSG;
		r = tz_extend(z, &rule);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Read the regular file PATH, of less than TZ_MAX_FILE bytes, into a new buffer. */
static int
read_file(const char *path, unsigned char **ret, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	int r;

	/* Zone files are often links (UTC -> Etc/UTC, /etc/localtime). */
	r = read_file_opt(path, TZ_MAX_FILE - 1, READ_FILE_FOLLOW, &buf, &len);
	if (r == -ENOTDIR || r == -EISDIR || r == -EINVAL)
		return -ENOENT;	/* "America" is a directory, not a zone */
	if (r == -EFBIG)
		return -EBADMSG;
	if (r < 0)
		return r;
	*ret = (unsigned char *)buf;
	*ret_len = len;
	return 0;
}

static int
load_path(const char *path, const char *name, struct tz **ret)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	struct tz *z;
	int r;

	r = read_file(path, &buf, &len);
	if (r != 0 || buf == NULL) {
		free(buf);
		return r < 0 ? r : -EIO;
	}
	z = tz_new(name);
	if (z == NULL) {
		free(buf);
		return -ENOMEM;
	}
	r = tz_parse(z, buf, len);
	free(buf);
	if (r < 0) {
		tz_free(z);
		return r;
	}
	*ret = z;
	return 0;
}

/* UTC needs no file, so a system without tzdata still has it. */
static int
load_utc(const char *name, struct tz **ret)
{
	struct tz *z;

	z = tz_new(name);
	if (z == NULL)
		return -ENOMEM;
	*ret = z;
	return 0;
}

static int
load_named(const char *name, struct tz **ret)
{
	const char *dir;
	char path[PATH_MAX];
	int n, r;

	if (!valid_name(name))
		return -EINVAL;
	dir = getenv("TZDIR");
	if (dir == NULL || dir[0] == '\0')
		dir = "/usr/share/zoneinfo";
	n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	r = load_path(path, name, ret);
	if (r == -ENOENT && (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0))
		return load_utc(name, ret);
	return r;
}

/* A zone built from a POSIX TZ string alone, as $TZ may hold. */
static int
load_posix(const char *s, struct tz **ret)
{
	struct tz_posix rule;
	struct tz *z;
	int r;

	if (strlen(s) > TZ_MAX_FOOTER || parse_posix(s, &rule) < 0)
		return -EINVAL;
	z = tz_new(s);
	if (z == NULL)
		return -ENOMEM;
	r = tz_extend(z, &rule);
	if (r < 0) {
		tz_free(z);
		return r;
	}
	*ret = z;
	return 0;
}

static int
load_local(struct tz **ret)
{
	const char *env, *p;
	char target[PATH_MAX];
	ssize_t n;
	int r;

	env = getenv("TZ");
	if (env != NULL) {
		if (env[0] == ':')
			env++;
		/* glibc reads an empty $TZ as UTC. */
		if (env[0] == '\0')
			return load_utc("UTC", ret);
		if (env[0] == '/')
			return load_path(env, "localtime", ret);
		r = load_named(env, ret);
		if (r != -ENOENT && r != -EINVAL)
			return r;
		r = load_posix(env, ret);
		if (r != -EINVAL)
			return r;
		return load_utc("UTC", ret);
	}
	n = readlink("/etc/localtime", target, sizeof(target) - 1);
	if (n > 0) {
		target[n] = '\0';
		p = strstr(target, "zoneinfo/");
		if (p != NULL && valid_name(p + strlen("zoneinfo/"))) {
			r = load_path("/etc/localtime", p + strlen("zoneinfo/"), ret);
			if (r != -ENOENT)
				return r;
		}
	}
	r = load_path("/etc/localtime", "localtime", ret);
	if (r == -ENOENT)
		return load_utc("UTC", ret);
	return r;
}

int
tz_load(const char *name, struct tz **ret)
{
	if (name == NULL)
		return load_local(ret);
	return load_named(name, ret);
}

/* --- "did you mean": the zone names nearest to a wrong one ---------------- */

/* Bounds on the walk through the zone directory: tzdata has about 600 zones. */
#define SUGGEST_MAX_FILES	5000
#define SUGGEST_MAX_DEPTH	3

struct suggest {
	const char *want;		/* the name that was not found */
	const char *want_last;		/* its part after the last '/' */
	char best[TZ_MAX_NAME + 1];
	unsigned best_score;		/* lower is better; UINT_MAX: none yet */
	size_t files;
};

/* How near zone NAME is to what was asked for; UINT_MAX when not near. */
static unsigned
suggest_score(const struct suggest *sg, const char *name)
{
	const char *last = strrchr(name, '/');
	size_t wl = strlen(sg->want), nl = strlen(name);
	unsigned d;

	last = last != NULL ? last + 1 : name;
	d = str_distance(sg->want, wl, name, nl);
	if (d == 0)
		return 0;				/* "utc": only the case differs */
	if (d <= 2 && d < wl / 2)
		return 10 + d;				/* "Europe/Berln" */
	if (sg->want_last == sg->want) {
		/* A city alone: "Berlin", "tokyo", "New_Yrok". */
		d = str_distance(sg->want, wl, last, strlen(last));
		if (d == 0)
			return 20;
		if (d <= 1 && wl >= 5)
			return 30 + d;
	}
	return UINT_MAX;
}

/* Look at the zones under DIR (named PREFIX/...), at most SUGGEST_MAX_FILES in all. */
static void
/* NOLINTNEXTLINE(misc-no-recursion): SUGGEST_MAX_DEPTH levels at most (Area/Subarea/City). */
suggest_walk(struct suggest *sg, const char *dir, const char *prefix, int depth)
{
	struct dirent *de;
	DIR *d;

	d = opendir(dir);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL && sg->files < SUGGEST_MAX_FILES) {
		char path[PATH_MAX], name[TZ_MAX_NAME + 1];
		struct stat st;
		unsigned score;
		int n;

		/* Zone names start with a capital; the rest is tzdata's bookkeeping. */
		if (de->d_name[0] < 'A' || de->d_name[0] > 'Z' || strchr(de->d_name, '.') != NULL)
			continue;
		n = snprintf(name, sizeof(name), "%s%s%s", prefix, prefix[0] ? "/" : "",
		    de->d_name);
		if (n < 0 || (size_t)n >= sizeof(name))
			continue;
		n = snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(path) || stat(path, &st) < 0)
			continue;
		sg->files++;
		if (S_ISDIR(st.st_mode)) {
			/* NOLINTNEXTLINE(misc-no-recursion): bounded by SUGGEST_MAX_DEPTH. */
			if (depth + 1 < SUGGEST_MAX_DEPTH)
				suggest_walk(sg, path, name, depth + 1);
			continue;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		score = suggest_score(sg, name);
		/* Ties go to the name that sorts first, whatever order readdir gives. */
		if (score < sg->best_score || (score == sg->best_score && score != UINT_MAX &&
		    strcmp(name, sg->best) < 0)) {
			sg->best_score = score;
			snprintf(sg->best, sizeof(sg->best), "%s", name);
		}
	}
	closedir(d);
}

int
tz_suggest(const char *name, char *buf, size_t size)
{
	struct suggest sg = { 0 };
	const char *dir, *slash;

	if (name == NULL || name[0] == '\0' || strlen(name) > STR_DISTANCE_MAX || size == 0)
		return -ENOENT;
	dir = getenv("TZDIR");
	if (dir == NULL || dir[0] == '\0')
		dir = "/usr/share/zoneinfo";
	sg.want = name;
	slash = strrchr(name, '/');
	sg.want_last = slash != NULL ? slash + 1 : name;
	sg.best_score = UINT_MAX;
	suggest_walk(&sg, dir, "", 0);
	/* UTC needs no file (load_named), so it is always there to suggest. */
	if (sg.best_score != 0 && str_distance(name, strlen(name), "UTC", 3) == 0) {
		sg.best_score = 0;
		snprintf(sg.best, sizeof(sg.best), "UTC");
	}
	if (sg.best_score == UINT_MAX || strcmp(sg.best, name) == 0)
		return -ENOENT;
	snprintf(buf, size, "%s", sg.best);
	return 0;
}

const char *
tz_name(const struct tz *z)
{
	return z->name;
}

/* The number of transitions at or before T. */
static size_t
tz_count_before(const struct tz *z, int64_t t)
{
	size_t lo = 0, hi = z->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (z->at[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void
tz_segment_at(const struct tz *z, int64_t t, struct tz_segment *ret)
{
	size_t k;

	k = tz_count_before(z, t);
	ret->start = k == 0 ? INT64_MIN : z->at[k - 1];
	ret->end = k == z->n ? INT64_MAX : z->at[k];
	ret->offset = z->off[k];
	ret->prev_offset = k == 0 ? z->off[0] : z->off[k - 1];
}

int32_t
tz_offset_at(const struct tz *z, int64_t t)
{
	return z->off[tz_count_before(z, t)];
}

/* RFC 3339 cannot say years outside 0000..9999, so times are clamped to them. */
#define RFC3339_MIN	(-62167219200LL)	/* 0000-01-01T00:00:00Z */
#define RFC3339_MAX	(253402300799LL)	/* 9999-12-31T23:59:59Z */

char *
tz_format_rfc3339(const struct tz *z, int64_t t, char *buf)
{
	int32_t off;
	int64_t days, y;
	unsigned secs, m, d, aoff;
	char sign, out[96];
	int n;

	/* Offsets with seconds (local mean time) are shown to the minute, as an exact instant. */
	off = tz_offset_at(z, t) / 60 * 60;
	if (t < RFC3339_MIN + 86400)
		t = RFC3339_MIN + 86400;
	if (t > RFC3339_MAX - 86400)
		t = RFC3339_MAX - 86400;
	days = cal_split(t + off, &secs);
	cal_civil_from_days(days, &y, &m, &d);
	sign = off < 0 ? '-' : '+';
	aoff = (unsigned)(off < 0 ? -off : off) / 60;
	/*
	 * 25 bytes for years 0000 to 9999 (clamped above).  The compiler
	 * cannot see the fields' ranges through the calendar's functions, so
	 * the text is made where any values fit, then copied.
	 */
	n = snprintf(out, sizeof(out), "%04d-%02u-%02uT%02u:%02u:%02u%c%02u:%02u",
	    (int)y, m, d, secs / 3600, secs / 60 % 60, secs % 60, sign, aoff / 60, aoff % 60);
	if (n < 0 || n >= TZ_RFC3339_MAX)
		n = n < 0 ? 0 : TZ_RFC3339_MAX - 1;
	memcpy(buf, out, (size_t)n);
	buf[n] = '\0';
	return buf;
}

/* Exactly N digits at *P, advancing it. */
static int
take_fixed(const char **p, int n, long *ret)
{
	const char *s = *p;
	long v = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	*p = s + n;
	*ret = v;
	return 0;
}

/*
 * Grammar (RFC 3339 section 5.6, with a space allowed for "T"):
 *	date-time := yyyy "-" mm "-" dd ("T" | "t" | " ") hh ":" mm ":" ss
 *	             ["." digit+] ("Z" | "z" | ("+" | "-") hh ":" mm)
 * A leap second (ss = 60) is read as the first second of the next minute.
 */
int
tz_parse_rfc3339(const char *s, int64_t *ret)
{
	long y, mo, d, h, mi, sec, oh = 0, om = 0;
	int sign = 0;
	size_t nfrac = 0;

	if (take_fixed(&s, 4, &y) < 0 || *s++ != '-' ||
	    take_fixed(&s, 2, &mo) < 0 || *s++ != '-' ||
	    take_fixed(&s, 2, &d) < 0)
		return -EINVAL;
	if (*s != 'T' && *s != 't' && *s != ' ')
		return -EINVAL;
	s++;
	if (take_fixed(&s, 2, &h) < 0 || *s++ != ':' ||
	    take_fixed(&s, 2, &mi) < 0 || *s++ != ':' ||
	    take_fixed(&s, 2, &sec) < 0)
		return -EINVAL;
	if (*s == '.') {
		s++;
		while (*s >= '0' && *s <= '9' && nfrac < 64) {
			s++;
			nfrac++;
		}
		if (nfrac == 0 || (*s >= '0' && *s <= '9'))
			return -EINVAL;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s == '-' ? -1 : 1;
		s++;
		if (take_fixed(&s, 2, &oh) < 0 || *s++ != ':' || take_fixed(&s, 2, &om) < 0)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	if (*s != '\0')
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > (long)cal_month_days(y, (unsigned)mo) ||
	    h > 23 || mi > 59 || sec > 60 || oh > 23 || om > 59)
		return -EINVAL;
	*ret = cal_days_from_civil(y, (unsigned)mo, (unsigned)d) * CAL_SECS_PER_DAY +
	    h * 3600 + mi * 60 + sec - sign * (oh * 3600 + om * 60);
	return 0;
}
