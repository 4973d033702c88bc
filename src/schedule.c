/* schedule: parses the crontab-style schedule file, matches entries and computes next fire times. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dosnap/calendar.h"
#include "dosnap/schedule.h"
#include "dosnap/tz.h"
#include "dosnap/util.h"

#define MAX_DURATION		(400LL * CAL_SECS_PER_DAY)
#define MAX_KEEP		10000
#define MAX_TAG			255
#define MAX_TEMPLATE		255
#define MAX_MSG			512
/* User text quoted in a message is cut here so messages stay readable. */
#define MAX_QUOTE		64
#define ZONES_HINT		"entries of one zone can share one CRON_TZ line"
/* A line of SCHED_MAX_LINE bytes has at most this many blank-separated tokens. */
#define MAX_TOKENS		(SCHED_MAX_LINE / 2 + 1)
/* sched_next looks this far ahead: 30 years of 366 days. */
#define LOOKAHEAD		(30LL * 366 * CAL_SECS_PER_DAY)
/* The largest clock change cronie treats as daylight saving time (cron.c, 3 * MINUTE_COUNT). */
#define DST_MAX_JUMP		(3 * 3600)
/* sched_next's input range: years 1 to about 9000, so the arithmetic cannot overflow. */
#define NEXT_MIN		(-62135596800LL)
#define NEXT_MAX		(221845392000LL)

struct tok {
	const char *s;
	size_t len;
	unsigned col;
};

struct parser {
	struct sched_diags *diags;	/* where problems go, or NULL to only count them */
	size_t n_problems;
	unsigned line;
	const char *line_text;
	size_t line_len;
	bool oom;
};

enum field_id {
	F_MINUTE,
	F_HOUR,
	F_MDAY,
	F_MONTH,
	F_WDAY,
};

struct field_def {
	const char *name;
	unsigned min, max;
	const char *const *names;	/* NULL: numbers only */
	unsigned nnames;
};

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec",
};

static const char *const wday_names[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat",
};

static const struct field_def fields[] = {
	[F_MINUTE] = { "minute", 0, 59, NULL, 0 },
	[F_HOUR] = { "hour", 0, 23, NULL, 0 },
	[F_MDAY] = { "day-of-month", 1, 31, NULL, 0 },
	[F_MONTH] = { "month", 1, 12, month_names, 12 },
	[F_WDAY] = { "day-of-week", 0, 7, wday_names, 7 },
};

struct nickname {
	const char *name;
	const char *expr;
};

static const struct nickname nicknames[] = {
	{ "yearly", "0 0 1 1 *" },
	{ "annually", "0 0 1 1 *" },
	{ "monthly", "0 0 1 * *" },
	{ "weekly", "0 0 * * 0" },
	{ "daily", "0 0 * * *" },
	{ "midnight", "0 0 * * *" },
	{ "hourly", "0 * * * *" },
};

static const char *const option_names[] = {
	"keep", "max-age", "power", "shutdown-timeout", "timeout", "name",
	"catchup", "volumes", "notify",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void	diag_free(struct sched_diag *d);

/*
 * Record one problem at column COL of the current line.  Allocation
 * failures are remembered in p->oom, so callers need not check.
 */
static void
diag_add(struct parser *p, unsigned col, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
diag_vadd(struct parser *p, bool warning, unsigned col, const char *hint, const char *fmt,
    va_list ap) __attribute__((format(printf, 5, 0)));

static void
diag_vadd(struct parser *p, bool warning, unsigned col, const char *hint, const char *fmt,
    va_list ap)
{
	struct sched_diags *ds = p->diags;
	struct sched_diag d = { 0 };
	char msg[MAX_MSG];
	size_t i;

	if (!warning)
		p->n_problems++;
	if (ds == NULL)
		return;
	if (warning)
		ds->n_warnings++;
	else
		ds->n_total++;
	if (ds->n >= SCHED_MAX_DIAGS)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* Quoted text comes from the file: nothing in it may steer a terminal. */
	for (i = 0; msg[i] != '\0'; i++)
		if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f)
			msg[i] = '?';
	/* Fill the entry first, then append it whole: the list never holds a half-made one. */
	d.warning = warning;
	d.line = p->line;
	d.col = col;
	d.message = strdup(msg);
	d.hint = hint != NULL ? strdup(hint) : NULL;
	d.line_text = p->line_text != NULL ? strndup(p->line_text, p->line_len) : NULL;
	if (d.message == NULL || (hint != NULL && d.hint == NULL) ||
	    (p->line_text != NULL && d.line_text == NULL)) {
		diag_free(&d);
		p->oom = true;
		return;
	}
	if (grow_array(&ds->items, &ds->cap, ds->n + 1, sizeof(*ds->items), SCHED_MAX_DIAGS) < 0) {
		diag_free(&d);
		p->oom = true;	/* not -E2BIG: the count was checked above */
		return;
	}
	ds->items[ds->n++] = d;
}

static void
diag_add(struct parser *p, unsigned col, const char *hint, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(p, false, col, hint, fmt, ap);
	va_end(ap);
}

/* A warning about line P->line as a whole: the schedule is still used. */
static void
diag_warn(struct parser *p, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
diag_warn(struct parser *p, const char *hint, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(p, true, 0, hint, fmt, ap);
	va_end(ap);
}

static void
diag_free(struct sched_diag *d)
{
	free(d->message);
	free(d->hint);
	free(d->line_text);
}

void
sched_diags_release(struct sched_diags *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->n; i++)
		diag_free(&d->items[i]);
	free(d->items);
	memset(d, 0, sizeof(*d));
}

/* The known word nearest to S within MAXDIST edits, or NULL. */
static const char *
nearest(const char *s, size_t len, const char *const *words, size_t nwords, unsigned maxdist)
{
	const char *best = NULL;
	unsigned bestd = maxdist + 1;
	size_t i;

	for (i = 0; i < nwords; i++) {
		unsigned d = str_distance(s, len, words[i], strlen(words[i]));

		if (d < bestd) {
			bestd = d;
			best = words[i];
		}
	}
	return best;
}

static bool
eq_nocase(const char *a, size_t la, const char *b)
{
	size_t i;

	if (la != strlen(b))
		return false;
	for (i = 0; i < la; i++)
		if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
			return false;
	return true;
}

static bool
tok_has(const struct tok *t, char c)
{
	return memchr(t->s, c, t->len) != NULL;
}

static bool
tok_prefix(const struct tok *t, const char *prefix)
{
	size_t n = strlen(prefix);

	return t->len >= n && memcmp(t->s, prefix, n) == 0;
}

/*
 * The character at S (AVAIL bytes left) as a message shows it: 'x', or a
 * name for what an editor does not show (a byte order mark, a byte that is
 * not printable ASCII).  BUF holds at least 48 bytes.
 */
static const char *
describe_char(const char *s, size_t avail, char *buf, size_t size)
{
	unsigned char c = (unsigned char)s[0];

	if (avail >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		snprintf(buf, size, "UTF-8 byte order mark (U+FEFF)");
	else if (c >= 0x20 && c < 0x7f)
		snprintf(buf, size, "'%c'", c);
	else
		snprintf(buf, size, "byte 0x%02X", c);
	return buf;
}

/*
 * strtonum for a run of LEN digits: -EINVAL when S is not all digits (or
 * empty), -ERANGE when the value exceeds MAX.
 */
static int
parse_number(const char *s, size_t len, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		unsigned dgt;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		dgt = (unsigned)(s[i] - '0');
		if (v > (max - dgt) / 10)
			return -ERANGE;
		v = v * 10 + dgt;
	}
	*ret = v;
	return 0;
}

/*
 * Grammar (the order of units is fixed, each at most once):
 *	duration := "0" | [n "d"] [n "h"] [n "m"] [n "s"]	(at least one part)
 * Returns -EINVAL for bad syntax and -ERANGE beyond MAX_DURATION.
 */
static int
parse_duration(const char *s, size_t len, int64_t *ret)
{
	static const char units[] = "dhms";
	static const int64_t mult[] = { CAL_SECS_PER_DAY, 3600, 60, 1 };
	int64_t total = 0;
	size_t i = 0, next_unit = 0;

	if (len == 1 && s[0] == '0') {
		*ret = 0;
		return 0;
	}
	if (len == 0)
		return -EINVAL;
	while (i < len) {
		size_t start = i, u;
		uint64_t v;
		int r;

		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start || i == len)
			return -EINVAL;
		for (u = next_unit; u < 4 && units[u] != s[i]; u++)
			;
		if (u == 4)
			return -EINVAL;
		r = parse_number(s + start, i - start, (uint64_t)MAX_DURATION, &v);
		if (r < 0)
			return r;
		total += (int64_t)v * mult[u];
		if (total > MAX_DURATION)
			return -ERANGE;
		next_unit = u + 1;
		i++;
	}
	*ret = total;
	return 0;
}

int
sched_parse_duration(const char *s, int64_t *ret)
{
	int64_t v;
	size_t len;

	len = strnlen(s, 64);
	if (len == 64 || parse_duration(s, len, &v) < 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

/*
 * Grammar:
 *	value := number | name		(names: month and day-of-week fields only)
 * Reads at *POS in T; on success stores the value and advances *POS.
 */
static int
parse_value(struct parser *p, const struct field_def *f, const struct tok *t, size_t *pos,
    unsigned *ret)
{
	const char *s = t->s + *pos;
	size_t n = 0, avail = t->len - *pos;
	unsigned col = t->col + (unsigned)*pos;
	uint64_t v;
	char hint[MAX_MSG];
	int r;

	if (avail > 0 && isdigit((unsigned char)s[0])) {
		while (n < avail && isdigit((unsigned char)s[n]))
			n++;
		r = parse_number(s, n, 9999, &v);
		if (r < 0 || v < f->min || v > f->max) {
			const char *h = NULL;

			if (f == &fields[F_WDAY] && n >= 3)
				h = "if this is a droplet id, a time field is missing: an entry starts "
				    "with 5 time fields (minute hour day-of-month month day-of-week)";
			diag_add(p, col, h, "%s %.*s is out of range %u-%u", f->name,
			    (int)(n > MAX_QUOTE ? MAX_QUOTE : n), s, f->min, f->max);
			return -EINVAL;
		}
		*pos += n;
		*ret = (unsigned)v;
		return 0;
	}
	if (avail > 0 && isalpha((unsigned char)s[0])) {
		const char *best;
		unsigned i;

		while (n < avail && isalpha((unsigned char)s[n]))
			n++;
		if (f->names == NULL) {
			diag_add(p, col, NULL,
			    "names like '%.*s' are allowed only in the month and day-of-week fields, not in the %s field",
			    (int)(n > MAX_QUOTE ? MAX_QUOTE : n), s, f->name);
			return -EINVAL;
		}
		/* Names count from the field's minimum: jan is 1, sun is 0. */
		for (i = 0; i < f->nnames; i++) {
			if (eq_nocase(s, n, f->names[i])) {
				*pos += n;
				*ret = f->min + i;
				return 0;
			}
		}
		/* "friday", "sept": a longer spelling whose first three letters are right. */
		best = NULL;
		for (i = 0; i < f->nnames; i++)
			if (n > 3 && eq_nocase(s, 3, f->names[i]))
				best = f->names[i];
		if (best == NULL)
			best = nearest(s, n, f->names, f->nnames, 1);
		if (best != NULL)
			snprintf(hint, sizeof(hint), "did you mean '%s'?", best);
		else
			snprintf(hint, sizeof(hint), "%s names are %s",
			    f->name, f == &fields[F_WDAY] ? "sun mon tue wed thu fri sat" :
			    "jan feb mar apr may jun jul aug sep oct nov dec");
		diag_add(p, col, hint, "unknown %s name '%.*s'", f->name,
		    (int)(n > MAX_QUOTE ? MAX_QUOTE : n), s);
		return -EINVAL;
	}
	if (avail == 0)
		diag_add(p, col, NULL, "missing value at the end of the %s field", f->name);
	else
		diag_add(p, col, NULL, "unexpected %s in the %s field",
		    describe_char(s, avail, hint, sizeof(hint)), f->name);
	return -EINVAL;
}

/*
 * Grammar (OpenBSD cron's, with cronie's meaning):
 *	field := item ("," item)*
 *	item  := "*" ["/" step] | value ["-" value ["/" step]]
 *	step  := number			(1 .. the field's span)
 * A day-of-week range may end in 0 or "sun", meaning 7.  Sets *bits and
 * *star (whether the field begins with '*').
 */
static int
parse_field(struct parser *p, enum field_id fid, const struct tok *t, uint64_t *bits, bool *star)
{
	const struct field_def *f = &fields[fid];
	uint64_t set = 0;
	size_t pos = 0;
	unsigned span = f->max - f->min;

	*star = t->len > 0 && t->s[0] == '*';
	for (;;) {
		unsigned lo, hi, step = 1, v;
		size_t item = pos;
		bool is_range = false;

		if (pos < t->len && t->s[pos] == '*') {
			lo = f->min;
			hi = f->max;
			pos++;
			is_range = true;
		} else {
			if (parse_value(p, f, t, &pos, &lo) < 0)
				return -EINVAL;
			hi = lo;
			if (pos < t->len && t->s[pos] == '-') {
				pos++;
				if (pos < t->len && t->s[pos] == '*') {
					diag_add(p, t->col + (unsigned)pos, NULL,
					    "'*' cannot end a range in the %s field", f->name);
					return -EINVAL;
				}
				if (parse_value(p, f, t, &pos, &hi) < 0)
					return -EINVAL;
				if (fid == F_WDAY && hi == 0)
					hi = 7;
				if (hi < lo) {
					char hint[MAX_MSG];

					snprintf(hint, sizeof(hint),
					    "ranges do not wrap around; write '%u-%u,%u-%u'",
					    lo, f->max, f->min, hi);
					diag_add(p, t->col + (unsigned)item, hint,
					    "reversed range '%.*s' in the %s field",
					    (int)(pos - item), t->s + item, f->name);
					return -EINVAL;
				}
				is_range = true;
			}
		}
		if (pos < t->len && t->s[pos] == '/') {
			size_t spos = pos + 1, n = 0;
			uint64_t sv;

			if (!is_range) {
				char hint[MAX_MSG];

				snprintf(hint, sizeof(hint), "write '%u-%u/N' for every N from %u",
				    lo, f->max, lo);
				diag_add(p, t->col + (unsigned)pos, hint,
				    "a step needs a range or '*' before it in the %s field", f->name);
				return -EINVAL;
			}
			while (spos + n < t->len && isalnum((unsigned char)t->s[spos + n]))
				n++;
			if (n == 0) {
				diag_add(p, t->col + (unsigned)spos, NULL,
				    "missing step after '/' in the %s field", f->name);
				return -EINVAL;
			}
			if (!isdigit((unsigned char)t->s[spos])) {
				diag_add(p, t->col + (unsigned)spos, NULL,
				    "names are not allowed in steps ('%.*s' in the %s field)",
				    (int)(n > MAX_QUOTE ? MAX_QUOTE : n), t->s + spos, f->name);
				return -EINVAL;
			}
			if (parse_number(t->s + spos, n, 9999, &sv) < 0 || sv > span) {
				diag_add(p, t->col + (unsigned)spos, NULL,
				    "step %.*s is larger than the %s field's span (%u-%u)",
				    (int)(n > MAX_QUOTE ? MAX_QUOTE : n), t->s + spos, f->name,
				    f->min, f->max);
				return -EINVAL;
			}
			if (sv == 0) {
				diag_add(p, t->col + (unsigned)spos, NULL,
				    "step 0 in the %s field; a step must be at least 1", f->name);
				return -EINVAL;
			}
			step = (unsigned)sv;
			pos = spos + n;
		}
		for (v = lo; v <= hi; v += step)
			set |= (uint64_t)1 << v;
		if (pos == t->len)
			break;
		if (t->s[pos] != ',') {
			char what[48];

			diag_add(p, t->col + (unsigned)pos, NULL, "unexpected %s in the %s field",
			    describe_char(t->s + pos, t->len - pos, what, sizeof(what)), f->name);
			return -EINVAL;
		}
		pos++;
	}
	if (fid == F_WDAY && (set & 0x80)) {
		set &= 0x7f;
		set |= 1;
	}
	*bits = set;
	return 0;
}

/* Whether the entry's day-of-month and month fields name a date that exists. */
static bool
can_fire(const struct sched_entry *e)
{
	unsigned m;

	/* With neither field starred, any day of the week in a month will do. */
	if (!e->mday_star && !e->wday_star)
		return e->months != 0 && e->wdays != 0;
	for (m = 1; m <= 12; m++) {
		/* The most days the month ever has: those of a leap year (2000). */
		uint32_t valid = (uint32_t)(((uint64_t)1 << (cal_month_days(2000, m) + 1)) - 2);

		if ((e->months >> m & 1) && (e->mdays & valid) != 0)
			return e->wdays != 0;
	}
	return false;
}

static void
set_time_fields(struct sched_entry *e, const uint64_t b[5], const bool star[5])
{
	e->minutes = b[F_MINUTE];
	e->hours = (uint32_t)b[F_HOUR];
	e->mdays = (uint32_t)b[F_MDAY];
	e->months = (uint16_t)b[F_MONTH];
	e->wdays = (uint8_t)b[F_WDAY];
	e->mday_star = star[F_MDAY];
	e->wday_star = star[F_WDAY];
	e->fixed_time = !star[F_MINUTE] && !star[F_HOUR];
}

/* Split LEN bytes at S into blank-separated tokens; returns their number. */
static size_t
tokenize(const char *s, size_t len, struct tok *toks, size_t max)
{
	size_t i = 0, n = 0;

	while (i < len && n < max) {
		size_t start;

		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && s[i] != ' ' && s[i] != '\t')
			i++;
		toks[n].s = s + start;
		toks[n].len = i - start;
		toks[n].col = (unsigned)start + 1;
		n++;
	}
	return n;
}

/*
 * Grammar:
 *	time := "@" nickname | minute hour day-of-month month day-of-week
 * Parses the time part of TOKS into E; stores how many tokens it used (also
 * on an error in a field, so that the rest of the line is still checked;
 * 0 when the time part cannot be told apart from the rest).  Every field
 * is checked, so each wrong one is reported.
 */
static int
parse_time(struct parser *p, const struct tok *toks, size_t ntoks, struct sched_entry *e,
    size_t *used)
{
	uint64_t b[5];
	bool star[5], bad = false;
	size_t i, k;

	*used = 0;
	if (ntoks > 0 && toks[0].s[0] == '@') {
		const char *name = toks[0].s + 1;
		size_t n = toks[0].len - 1;
		const char *words[NELEM(nicknames)];
		const char *best;
		char hint[MAX_MSG];
		struct tok ft[5];

		for (i = 0; i < NELEM(nicknames); i++) {
			if (n == strlen(nicknames[i].name) && memcmp(name, nicknames[i].name, n) == 0)
				break;
			words[i] = nicknames[i].name;
		}
		if (i < NELEM(nicknames)) {
			/* Every nickname's expansion is five valid fields. */
			(void)tokenize(nicknames[i].expr, strlen(nicknames[i].expr), ft, 5);
			for (k = 0; k < 5; k++)
				if (parse_field(p, (enum field_id)k, &ft[k], &b[k], &star[k]) < 0)
					return -EINVAL;
			set_time_fields(e, b, star);
			*used = 1;
			return 0;
		}
		if (eq_nocase(name, n, "reboot")) {
			diag_add(p, toks[0].col,
			    "dosnap runs from a systemd timer; for a snapshot at boot, add a timer with OnBootSec= that runs 'dosnap run'",
			    "@reboot is not supported");
			return -EINVAL;
		}
		best = NULL;
		for (i = 0; i < NELEM(nicknames); i++)
			if (eq_nocase(name, n, nicknames[i].name))
				best = nicknames[i].name;
		if (best != NULL) {
			snprintf(hint, sizeof(hint), "did you mean '@%s'? nicknames are lower case", best);
		} else {
			best = nearest(name, n, words, NELEM(nicknames), 2);
			if (best != NULL)
				snprintf(hint, sizeof(hint), "did you mean '@%s'?", best);
			else
				snprintf(hint, sizeof(hint),
				    "nicknames are @yearly @annually @monthly @weekly @daily @midnight @hourly");
		}
		diag_add(p, toks[0].col, hint, "unknown nickname '%.*s'",
		    (int)(toks[0].len > MAX_QUOTE ? MAX_QUOTE : toks[0].len), toks[0].s);
		*used = 1;
		return -EINVAL;
	}
	/* A target or an option among the first five tokens means a field is missing. */
	for (k = 0; k < 5 && k < ntoks; k++)
		if (tok_has(&toks[k], '=') || tok_prefix(&toks[k], "tag:") ||
		    tok_prefix(&toks[k], "name:"))
			break;
	if (k < 5) {
		diag_add(p, ntoks > 0 ? toks[0].col : 1,
		    "an entry is: minute hour day-of-month month day-of-week targets... options...",
		    "expected 5 time fields, found %zu", k);
		return -EINVAL;
	}
	*used = 5;
	for (k = 0; k < 5; k++)
		if (parse_field(p, (enum field_id)k, &toks[k], &b[k], &star[k]) < 0)
			bad = true;
	if (bad)
		return -EINVAL;
	set_time_fields(e, b, star);
	if (!can_fire(e)) {
		diag_add(p, toks[F_MDAY].col,
		    "February has at most 29 days; April, June, September and November have 30",
		    "never fires: no month in '%.*s' has a day in '%.*s'",
		    (int)(toks[F_MONTH].len > MAX_QUOTE ? MAX_QUOTE : toks[F_MONTH].len),
		    toks[F_MONTH].s,
		    (int)(toks[F_MDAY].len > MAX_QUOTE ? MAX_QUOTE : toks[F_MDAY].len),
		    toks[F_MDAY].s);
		return -EINVAL;
	}
	return 0;
}

static bool
is_tag_char(char c)
{
	return isalnum((unsigned char)c) || c == ':' || c == '-' || c == '_';
}

static bool
is_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_';
}

/*
 * Grammar:
 *	target := id | "tag:" tag | "name:" droplet-name
 *	id     := digit+			(1 .. 2^63-1, as the API's ids are)
 *	tag    := [A-Za-z0-9:_-]{1,255}
 *	droplet-name := [A-Za-z0-9._-]{1,255}
 */
static int
parse_target(struct parser *p, const struct tok *t, struct sched_target *ret)
{
	struct sched_target tg;
	const char *v;
	size_t vlen, i, plen;
	bool (*ok)(char) = is_tag_char;
	const char *what = "tag";

	memset(&tg, 0, sizeof(tg));
	if (isdigit((unsigned char)t->s[0])) {
		int r = parse_number(t->s, t->len, INT64_MAX, &tg.id);

		if (r == -ERANGE) {
			diag_add(p, t->col,
			    "droplet ids are at most 9223372036854775807 (2^63-1); copy the id "
			    "from 'dosnap list' or the control panel",
			    "droplet id '%.*s' is out of range",
			    (int)(t->len > MAX_QUOTE ? MAX_QUOTE : t->len), t->s);
			return -EINVAL;
		}
		if (r < 0) {
			diag_add(p, t->col,
			    "a target is a droplet id, tag:NAME or name:DROPLET-NAME",
			    "invalid target '%.*s'",
			    (int)(t->len > MAX_QUOTE ? MAX_QUOTE : t->len), t->s);
			return -EINVAL;
		}
		if (tg.id == 0) {
			diag_add(p, t->col, NULL, "droplet id 0 is not valid; ids start at 1");
			return -EINVAL;
		}
		tg.kind = SCHED_TARGET_ID;
		v = t->s;
		vlen = t->len;
	} else {
		if (tok_prefix(t, "tag:")) {
			tg.kind = SCHED_TARGET_TAG;
			plen = 4;
			ok = is_tag_char;
			what = "tag";
		} else if (tok_prefix(t, "name:")) {
			tg.kind = SCHED_TARGET_NAME;
			plen = 5;
			ok = is_name_char;
			what = "droplet name";
		} else {
			diag_add(p, t->col,
			    "a target is a droplet id, tag:NAME or name:DROPLET-NAME",
			    "invalid target '%.*s'",
			    (int)(t->len > MAX_QUOTE ? MAX_QUOTE : t->len), t->s);
			return -EINVAL;
		}
		v = t->s + plen;
		vlen = t->len - plen;
		if (vlen == 0) {
			diag_add(p, t->col, NULL, "empty %s in '%.*s'", what, (int)t->len, t->s);
			return -EINVAL;
		}
		if (vlen > MAX_TAG) {
			diag_add(p, t->col, NULL, "%s is longer than %d characters", what, MAX_TAG);
			return -EINVAL;
		}
		for (i = 0; i < vlen; i++) {
			if (!ok(v[i])) {
				diag_add(p, t->col + (unsigned)(plen + i),
				    tg.kind == SCHED_TARGET_TAG ?
				    "tags take letters, digits, ':', '-' and '_'" :
				    "droplet names take letters, digits, '.', '-' and '_'",
				    "character '%c' is not allowed in a %s",
				    isprint((unsigned char)v[i]) ? v[i] : '?', what);
				return -EINVAL;
			}
		}
	}
	tg.value = strndup(v, vlen);
	if (tg.value == NULL) {
		p->oom = true;
		return -ENOMEM;
	}
	*ret = tg;
	return 0;
}

/*
 * Grammar:
 *	template := (char | "{" ("id" | "name" | "slot") "}" | "%" conv)*	(1..255 bytes)
 *	char     := [A-Za-z0-9._-]
 * conv is a strftime conversion whose output fits a snapshot name.
 */
static int
check_template(struct parser *p, const char *s, size_t len, unsigned col)
{
	static const char convs[] = "CdFGgHIjmMsSuUVwWyY";
	size_t i;

	if (len > MAX_TEMPLATE) {
		diag_add(p, col, NULL, "name template is longer than %d characters", MAX_TEMPLATE);
		return -EINVAL;
	}
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '{') {
			const char *close = memchr(s + i + 1, '}', len - i - 1);
			const char *open = memchr(s + i + 1, '{', len - i - 1);
			size_t n;

			if (close == NULL || (open != NULL && open < close)) {
				diag_add(p, col + (unsigned)i, NULL, "unbalanced '{' in name template");
				return -EINVAL;
			}
			n = (size_t)(close - (s + i + 1));
			if (!((n == 2 && memcmp(s + i + 1, "id", 2) == 0) ||
			    (n == 4 && memcmp(s + i + 1, "name", 4) == 0) ||
			    (n == 4 && memcmp(s + i + 1, "slot", 4) == 0))) {
				diag_add(p, col + (unsigned)i, "placeholders are {id}, {name} and {slot}",
				    "unknown placeholder '%.*s' in name template",
				    (int)(n + 2 > MAX_QUOTE ? MAX_QUOTE : n + 2), s + i);
				return -EINVAL;
			}
			i += n + 1;
		} else if (c == '}') {
			diag_add(p, col + (unsigned)i, NULL, "unbalanced '}' in name template");
			return -EINVAL;
		} else if (c == '%') {
			if (i + 1 == len) {
				diag_add(p, col + (unsigned)i, "write '%Y', '%m', ... for dates",
				    "'%%' at the end of the name template");
				return -EINVAL;
			}
			if (strchr(convs, s[i + 1]) == NULL || s[i + 1] == '\0') {
				diag_add(p, col + (unsigned)i,
				    "allowed: %C %d %F %G %g %H %I %j %m %M %s %S %u %U %V %w %W %y %Y",
				    "'%%%c' is not allowed in a snapshot name",
				    isprint((unsigned char)s[i + 1]) ? s[i + 1] : '?');
				return -EINVAL;
			}
			i++;
		} else if (!is_name_char(c)) {
			diag_add(p, col + (unsigned)i,
			    "snapshot names take letters, digits, '.', '-' and '_'",
			    "character '%c' is not allowed in a snapshot name",
			    isprint((unsigned char)c) ? c : '?');
			return -EINVAL;
		}
	}
	return 0;
}

/* Parse a duration option value; ZERO_OK says whether 0 means something. */
static int
option_duration(struct parser *p, const struct tok *t, const char *key, const char *v, size_t vlen,
    bool zero_ok, int64_t *ret)
{
	int r;

	r = parse_duration(v, vlen, ret);
	if (r == -ERANGE) {
		diag_add(p, t->col, NULL, "%s=%.*s is too long; the most is 400d", key,
		    (int)(vlen > MAX_QUOTE ? MAX_QUOTE : vlen), v);
		return -EINVAL;
	}
	if (r < 0) {
		diag_add(p, t->col, "durations look like 90s, 5m, 2h, 7d or 1h30m",
		    "%s needs a duration, not '%.*s'", key,
		    (int)(vlen > MAX_QUOTE ? MAX_QUOTE : vlen), v);
		return -EINVAL;
	}
	if (*ret == 0 && !zero_ok) {
		diag_add(p, t->col, NULL, "%s must be longer than 0", key);
		return -EINVAL;
	}
	return 0;
}

/*
 * Grammar:
 *	option := key "=" value
 *	key    := keep | max-age | power | shutdown-timeout | timeout | name |
 *	          catchup | volumes | notify
 *	notify := ("https://" / "http://") 1*urlchar	; at most 1024 bytes
 * SEEN tracks which keys were given, to refuse repeats.
 */
static int
parse_option(struct parser *p, const struct tok *t, struct sched_opts *o, unsigned *seen)
{
	const char *eq = memchr(t->s, '=', t->len);
	size_t klen = (size_t)(eq - t->s), vlen = t->len - klen - 1, k;
	const char *v = eq + 1;
	char key[32];
	uint64_t n;

	for (k = 0; k < NELEM(option_names); k++)
		if (klen == strlen(option_names[k]) && memcmp(t->s, option_names[k], klen) == 0)
			break;
	if (k == NELEM(option_names)) {
		const char *best = nearest(t->s, klen, option_names, NELEM(option_names), 2);
		char hint[MAX_MSG];

		if (best != NULL)
			snprintf(hint, sizeof(hint), "did you mean '%s'?", best);
		else
			snprintf(hint, sizeof(hint),
			    "options are keep, max-age, power, shutdown-timeout, timeout, name, catchup, volumes and notify");
		diag_add(p, t->col, hint, "unknown option '%.*s'",
		    (int)(klen > MAX_QUOTE ? MAX_QUOTE : klen), t->s);
		return -EINVAL;
	}
	snprintf(key, sizeof(key), "%s", option_names[k]);
	if (*seen & (1u << k)) {
		diag_add(p, t->col, NULL, "option '%s' given twice", key);
		return -EINVAL;
	}
	*seen |= 1u << k;
	if (vlen == 0) {
		diag_add(p, t->col, NULL, "option '%s' needs a value", key);
		return -EINVAL;
	}
	if (strcmp(key, "keep") == 0) {
		if (parse_number(v, vlen, MAX_KEEP, &n) < 0 || n < 1) {
			diag_add(p, t->col, NULL, "keep must be a whole number from 1 to %d, not '%.*s'",
			    MAX_KEEP, (int)(vlen > MAX_QUOTE ? MAX_QUOTE : vlen), v);
			return -EINVAL;
		}
		o->keep = (int)n;
	} else if (strcmp(key, "max-age") == 0) {
		return option_duration(p, t, key, v, vlen, false, &o->max_age);
	} else if (strcmp(key, "shutdown-timeout") == 0) {
		return option_duration(p, t, key, v, vlen, false, &o->shutdown_timeout);
	} else if (strcmp(key, "timeout") == 0) {
		return option_duration(p, t, key, v, vlen, false, &o->timeout);
	} else if (strcmp(key, "catchup") == 0) {
		return option_duration(p, t, key, v, vlen, true, &o->catchup);
	} else if (strcmp(key, "power") == 0) {
		if (vlen == 3 && memcmp(v, "off", 3) == 0) {
			o->power = SCHED_POWER_OFF;
		} else if (vlen == 4 && memcmp(v, "live", 4) == 0) {
			o->power = SCHED_POWER_LIVE;
		} else {
			diag_add(p, t->col, NULL, "power must be 'off' or 'live', not '%.*s'",
			    (int)(vlen > MAX_QUOTE ? MAX_QUOTE : vlen), v);
			return -EINVAL;
		}
	} else if (strcmp(key, "volumes") == 0) {
		if (vlen == 3 && memcmp(v, "yes", 3) == 0) {
			o->volumes = true;
		} else if (vlen == 2 && memcmp(v, "no", 2) == 0) {
			o->volumes = false;
		} else {
			diag_add(p, t->col, NULL, "volumes must be 'yes' or 'no', not '%.*s'",
			    (int)(vlen > MAX_QUOTE ? MAX_QUOTE : vlen), v);
			return -EINVAL;
		}
	} else if (strcmp(key, "notify") == 0) {
		size_t i;

		if (vlen > 1024 || !((vlen > 8 && memcmp(v, "https://", 8) == 0) ||
		    (vlen > 7 && memcmp(v, "http://", 7) == 0))) {
			diag_add(p, t->col, "a ping URL looks like https://hc-ping.com/UUID",
			    "notify must be an http(s) URL of at most 1024 bytes, not '%.*s'",
			    (int)(vlen > MAX_QUOTE ? MAX_QUOTE : vlen), v);
			return -EINVAL;
		}
		for (i = 0; i < vlen; i++) {
			if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f) {
				diag_add(p, t->col + (unsigned)(klen + 1 + i), NULL,
				    "notify URL has a character a URL cannot hold; percent-encode it");
				return -EINVAL;
			}
		}
		free(o->notify);
		o->notify = strndup(v, vlen);
		if (o->notify == NULL) {
			p->oom = true;
			return -ENOMEM;
		}
	} else {
		if (check_template(p, v, vlen, t->col + (unsigned)klen + 1) < 0)
			return -EINVAL;
		free(o->name_template);
		o->name_template = strndup(v, vlen);
		if (o->name_template == NULL) {
			p->oom = true;
			return -ENOMEM;
		}
	}
	return 0;
}

static void
opts_init(struct sched_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->keep = -1;
	o->max_age = -1;
	o->power = SCHED_POWER_OFF;
	o->shutdown_timeout = 120;
	o->timeout = 7200;
	o->name_template = NULL;
	o->catchup = 86400;
	o->volumes = false;
}

void
sched_entry_release(struct sched_entry *e)
{
	size_t i;

	if (e == NULL)
		return;
	free(e->text);
	for (i = 0; i < e->n_targets; i++)
		free(e->targets[i].value);
	free(e->targets);
	free(e->opts.name_template);
	free(e->opts.notify);
	e->text = NULL;
	e->targets = NULL;
	e->n_targets = 0;
	e->opts.name_template = NULL;
	e->opts.notify = NULL;
}

/* FNV-1a 64 of the zone name, a newline and TEXT with blank runs folded to one space. */
static uint64_t
entry_id(const char *zone, const char *text)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const char *s;
	bool blank = false;

	for (s = zone; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	h ^= '\n';
	h *= 0x100000001b3ULL;
	for (s = text; *s != '\0'; s++) {
		if (*s == ' ' || *s == '\t') {
			blank = true;
			continue;
		}
		if (blank) {
			h ^= ' ';
			h *= 0x100000001b3ULL;
			blank = false;
		}
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Fill E's text and id from the LEN bytes at S (blanks at both ends dropped). */
static int
entry_set_text(struct sched_entry *e, const char *s, size_t len)
{
	while (len > 0 && (s[0] == ' ' || s[0] == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	e->text = strndup(s, len);
	if (e->text == NULL)
		return -ENOMEM;
	e->id = entry_id(e->zone != NULL ? tz_name(e->zone) : "UTC", e->text);
	return 0;
}

/*
 * Grammar:
 *	entry := time target+ option*
 * Parses the tokens of one line into *E, whose zone is already set.  Every
 * mistake in the line is reported, not only the first; -EINVAL if any.
 */
static int
parse_entry(struct parser *p, const struct tok *toks, size_t ntoks, struct sched_entry *e)
{
	size_t used, i, ntargets = 0;
	unsigned seen = 0;
	bool bad;
	int r;

	opts_init(&e->opts);
	r = parse_time(p, toks, ntoks, e, &used);
	if (r < 0 && used == 0)
		return r;
	bad = r < 0;
	if (used == 5 && used < ntoks && !tok_has(&toks[used], '=') &&
	    !tok_prefix(&toks[used], "tag:") && !tok_prefix(&toks[used], "name:") &&
	    (tok_has(&toks[used], '*') || tok_has(&toks[used], '/') || tok_has(&toks[used], ','))) {
		diag_add(p, toks[used].col, "dosnap has no seconds or year field",
		    "too many time fields: an entry has 5 (minute hour day-of-month month day-of-week)");
		return -EINVAL;
	}
	/* "tag:web # nightly": a comment after an entry would be read as targets. */
	for (i = used; i < ntoks; i++) {
		if (toks[i].s[0] == '#') {
			diag_add(p, toks[i].col, "move the comment to a line of its own, above the entry",
			    "'#' starts a comment only at the start of a line; here it would be "
			    "read as %s", i == used || !tok_has(&toks[i - 1], '=') ? "a target" :
			    "an option");
			ntoks = i;
			bad = true;
			break;
		}
	}
	for (i = used; i < ntoks && !tok_has(&toks[i], '='); i++)
		ntargets++;
	/*
	 * With a wrong time field, a missing target is most likely the one
	 * taken for a field ("0 3 * * 123456"): that error says enough.
	 */
	if (ntargets == 0 && r == 0) {
		unsigned col = i < ntoks ? toks[i].col : ntoks == 0 ? 1 :
		    toks[ntoks - 1].col + (unsigned)toks[ntoks - 1].len;

		diag_add(p, col, "a target is a droplet id, tag:NAME or name:DROPLET-NAME",
		    "no targets: an entry needs at least one droplet to snapshot");
		bad = true;
	}
	if (ntargets > SCHED_MAX_TARGETS) {
		diag_add(p, toks[used + SCHED_MAX_TARGETS].col, "split the entry, or use a tag",
		    "more than %d targets in one entry", SCHED_MAX_TARGETS);
		return -EINVAL;
	}
	if (ntargets > 0) {
		e->targets = calloc(ntargets, sizeof(*e->targets));
		if (e->targets == NULL) {
			p->oom = true;
			return -ENOMEM;
		}
	}
	for (i = used; i < used + ntargets; i++) {
		r = parse_target(p, &toks[i], &e->targets[e->n_targets]);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			bad = true;
		else
			e->n_targets++;
	}
	for (; i < ntoks; i++) {
		if (!tok_has(&toks[i], '=')) {
			diag_add(p, toks[i].col, "put the targets before the options",
			    "target '%.*s' after options",
			    (int)(toks[i].len > MAX_QUOTE ? MAX_QUOTE : toks[i].len), toks[i].s);
			bad = true;
			continue;
		}
		r = parse_option(p, &toks[i], &e->opts, &seen);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			bad = true;
	}
	return bad ? -EINVAL : 0;
}

int
sched_expr_parse(const char *expr, const struct tz *z, struct sched_entry *ret,
    struct sched_diags *diags)
{
	struct parser p;
	struct sched_entry e;
	struct tok toks[8];
	size_t len, ntoks, used;
	int r = -EINVAL;

	memset(&p, 0, sizeof(p));
	memset(&e, 0, sizeof(e));
	p.diags = diags;
	p.line = 1;
	len = strnlen(expr, SCHED_MAX_LINE + 1);
	p.line_text = expr;
	p.line_len = len > SCHED_MAX_LINE ? SCHED_MAX_LINE : len;
	if (len > SCHED_MAX_LINE) {
		diag_add(&p, SCHED_MAX_LINE + 1, NULL, "line is longer than %d bytes", SCHED_MAX_LINE);
		goto out;
	}
	ntoks = tokenize(expr, len, toks, NELEM(toks));
	e.line = 1;
	e.zone = z;
	opts_init(&e.opts);
	if (ntoks == 0) {
		diag_add(&p, 1, NULL, "empty time expression");
		goto out;
	}
	r = parse_time(&p, toks, ntoks, &e, &used);
	if (r == 0 && used < ntoks) {
		diag_add(&p, toks[used].col, NULL, "unexpected '%.*s' after the time fields",
		    (int)(toks[used].len > MAX_QUOTE ? MAX_QUOTE : toks[used].len), toks[used].s);
		r = -EINVAL;
	}
	if (r == 0 && entry_set_text(&e, expr, len) < 0)
		r = -ENOMEM;
out:
	if (p.oom)
		r = -ENOMEM;
	if (r < 0) {
		sched_entry_release(&e);
		return r;
	}
	*ret = e;
	return 0;
}

void
schedule_free(struct schedule *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n_entries; i++)
		sched_entry_release(&s->entries[i]);
	free(s->entries);
	for (i = 0; i < s->n_zones; i++)
		tz_free(s->zones[i]);
	free(s->zones);
	free(s);
}

/* The zone NAME (NULL: the local zone) from S's list, loading it once. */
static int
schedule_zone(struct schedule *s, const char *name, struct tz **ret)
{
	struct tz *z;
	size_t i;
	int r;

	if (name != NULL)
		for (i = 0; i < s->n_zones; i++)
			if (strcmp(tz_name(s->zones[i]), name) == 0) {
				*ret = s->zones[i];
				return 0;
			}
	r = tz_load(name, &z);
	if (r < 0)
		return r;
	for (i = 0; i < s->n_zones; i++)
		if (strcmp(tz_name(s->zones[i]), tz_name(z)) == 0) {
			tz_free(z);
			*ret = s->zones[i];
			return 0;
		}
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers; *s->zones is one. */
	r = grow_array(&s->zones, &s->cap_zones, s->n_zones + 1, sizeof(*s->zones), SCHED_MAX_ZONES);
	if (r < 0) {
		tz_free(z);
		return r;
	}
	s->zones[s->n_zones++] = z;
	*ret = z;
	return 0;
}

/*
 * Grammar:
 *	setting := name "=" value	(blanks allowed around "="; value may be quoted)
 * Only CRON_TZ is known.  *ZONE is set to the new zone, NULL for the local one.
 */
static void
parse_setting(struct parser *p, struct schedule *s, const char *line, size_t len,
    size_t name_start, size_t name_len, size_t eq, struct tz **zone)
{
	size_t vs = eq + 1, ve = len;
	char name[256];
	int r;

	while (vs < ve && (line[vs] == ' ' || line[vs] == '\t'))
		vs++;
	while (ve > vs && (line[ve - 1] == ' ' || line[ve - 1] == '\t'))
		ve--;
	if (ve >= vs + 2 && (line[vs] == '"' || line[vs] == '\'') && line[ve - 1] == line[vs]) {
		vs++;
		ve--;
	}
	if (!(name_len == 7 && memcmp(line + name_start, "CRON_TZ", 7) == 0)) {
		const char *hint = "the only setting is CRON_TZ";

		if (name_len == 2 && memcmp(line + name_start, "TZ", 2) == 0)
			hint = "did you mean 'CRON_TZ'? dosnap reads only CRON_TZ";
		diag_add(p, (unsigned)name_start + 1, hint, "unknown setting '%.*s'",
		    (int)(name_len > MAX_QUOTE ? MAX_QUOTE : name_len), line + name_start);
		return;
	}
	if (ve == vs) {
		*zone = NULL;
		return;
	}
	if (ve - vs >= sizeof(name)) {
		diag_add(p, (unsigned)vs + 1, NULL, "time zone name is too long");
		return;
	}
	memcpy(name, line + vs, ve - vs);
	name[ve - vs] = '\0';
	r = schedule_zone(s, name, zone);
	if (r == -ENOMEM) {
		p->oom = true;
	} else if (r == -E2BIG) {
		diag_add(p, (unsigned)vs + 1, ZONES_HINT, "more than %d time zones in one schedule",
		    SCHED_MAX_ZONES);
	} else if (r == -EINVAL) {
		diag_add(p, (unsigned)vs + 1, "zone names look like 'Europe/Berlin' or 'UTC'",
		    "invalid time zone name '%.*s'", MAX_QUOTE, name);
	} else if (r == -EBADMSG) {
		diag_add(p, (unsigned)vs + 1, NULL, "time zone file for '%.*s' is not valid TZif data",
		    MAX_QUOTE, name);
	} else if (r < 0) {
		char near[256], hint[MAX_MSG];

		if (tz_suggest(name, near, sizeof(near)) == 0)
			snprintf(hint, sizeof(hint), "did you mean '%s'?", near);
		else
			snprintf(hint, sizeof(hint),
			    "zone names are those under /usr/share/zoneinfo, like 'Europe/Berlin'");
		diag_add(p, (unsigned)vs + 1, hint, "unknown time zone '%.*s'", MAX_QUOTE, name);
	}
}

/* Parse one line (without its newline) into S; problems go to P's diagnostics. */
static void
parse_line(struct parser *p, struct schedule *s, const char *line, size_t len,
    struct tok *toks, struct tz **zone, bool *local_failed, bool *too_many)
{
	struct sched_entry e;
	const char *nul;
	size_t i = 0, ntoks, ns, nl;
	int r;

	nul = memchr(line, '\0', len);
	if (nul != NULL) {
		diag_add(p, (unsigned)(nul - line) + 1, NULL, "NUL byte in the schedule");
		return;
	}
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len || line[i] == '#')
		return;
	if (isalpha((unsigned char)line[i]) || line[i] == '_') {
		size_t j;

		ns = i;
		while (i < len && (isalnum((unsigned char)line[i]) || line[i] == '_'))
			i++;
		nl = i - ns;
		j = i;
		while (j < len && (line[j] == ' ' || line[j] == '\t'))
			j++;
		if (j < len && line[j] == '=') {
			parse_setting(p, s, line, len, ns, nl, j, zone);
			return;
		}
	}
	ntoks = tokenize(line, len, toks, MAX_TOKENS);
	if (s->n_entries == SCHED_MAX_ENTRIES) {
		if (!*too_many)
			diag_add(p, toks[0].col, "split the schedule across hosts, or use tags",
			    "more than %d entries", SCHED_MAX_ENTRIES);
		*too_many = true;
		return;
	}
	if (*zone == NULL && !*local_failed) {
		r = schedule_zone(s, NULL, zone);
		if (r == -ENOMEM) {
			p->oom = true;
			return;
		}
		if (r == -E2BIG) {
			diag_add(p, toks[0].col, ZONES_HINT, "more than %d time zones in one schedule",
			    SCHED_MAX_ZONES);
			return;
		}
		if (r < 0) {
			diag_add(p, toks[0].col, "set CRON_TZ=Area/City above the entries",
			    "cannot load the system's time zone");
			*local_failed = true;
			return;
		}
	}
	if (*local_failed && *zone == NULL)
		return;
	memset(&e, 0, sizeof(e));
	e.line = p->line;
	e.zone = *zone;
	r = parse_entry(p, toks, ntoks, &e);
	if (r == 0 && entry_set_text(&e, line, len) < 0) {
		p->oom = true;
		r = -ENOMEM;
	}
	if (r < 0) {
		sched_entry_release(&e);
		return;
	}
	s->entries[s->n_entries++] = e;
}

struct entry_key {
	uint64_t id;
	size_t index;
};

static int
entry_key_cmp(const void *a, const void *b)
{
	const struct entry_key *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

int
sched_first_of(const struct schedule *s, size_t **ret)
{
	struct entry_key *keys;
	size_t *first_of, i, first = 0, n = s->n_entries;

	/* Sorting keeps this O(n log n) for SCHED_MAX_ENTRIES. */
	keys = malloc((n ? n : 1) * sizeof(*keys));
	first_of = malloc((n ? n : 1) * sizeof(*first_of));
	if (keys == NULL || first_of == NULL) {
		free(keys);
		free(first_of);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		keys[i].id = s->entries[i].id;
		keys[i].index = i;
	}
	qsort(keys, n, sizeof(*keys), entry_key_cmp);
	for (i = 0; i < n; i++) {
		if (i > 0 && keys[i].id != keys[i - 1].id)
			first = i;
		first_of[keys[i].index] = keys[first].index;
	}
	free(keys);
	*ret = first_of;
	return 0;
}

/*
 * Warn about entries that repeat an earlier one word for word (in the same
 * zone): both would run at every fire time, and they share one line of
 * state.
 */
static int
warn_repeats(struct parser *p, const struct schedule *s)
{
	size_t *first_of, i;

	if (p->diags == NULL || s->n_entries < 2)
		return 0;
	if (sched_first_of(s, &first_of) < 0)
		return -ENOMEM;
	/* In line order, each repeat names the first line that has the entry. */
	for (i = 0; i < s->n_entries; i++) {
		if (first_of[i] == i)
			continue;
		p->line = s->entries[i].line;
		p->line_text = NULL;
		diag_warn(p, "delete one of them",
		    "the same entry as line %u: both would run at each fire time",
		    s->entries[first_of[i]].line);
	}
	free(first_of);
	return p->oom ? -ENOMEM : 0;
}

int
schedule_parse(const char *text, size_t len, struct schedule **ret, struct sched_diags *diags)
{
	struct parser p;
	struct schedule *s;
	struct tok *toks = NULL;
	struct tz *zone = NULL;
	bool local_failed = false, too_many = false;
	size_t pos = 0, nlines = 0;
	int r = 0;

	memset(&p, 0, sizeof(p));
	p.diags = diags;
	if (len > SCHED_MAX_FILE_SIZE) {
		diag_add(&p, 0, NULL, "schedule is larger than %d bytes", SCHED_MAX_FILE_SIZE);
		return p.oom ? -ENOMEM : -EINVAL;
	}
	/* A byte order mark some editors write at the start means nothing here. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3;
		len -= 3;
	}
	s = calloc(1, sizeof(*s));
	toks = malloc(MAX_TOKENS * sizeof(*toks));
	/* A line holds at most one entry, so this many slots always suffice. */
	for (pos = 0; pos < len; pos++)
		nlines += text[pos] == '\n';
	nlines++;
	if (s != NULL)
		s->entries = calloc(nlines < SCHED_MAX_ENTRIES ? nlines : SCHED_MAX_ENTRIES,
		    sizeof(*s->entries));
	if (s == NULL || toks == NULL || s->entries == NULL) {
		r = -ENOMEM;
		goto out;
	}
	pos = 0;
	while (pos < len && !p.oom) {
		const char *line = text + pos, *nl;
		size_t llen;

		nl = memchr(line, '\n', len - pos);
		llen = nl != NULL ? (size_t)(nl - line) : len - pos;
		pos += llen + (nl != NULL);
		p.line++;
		if (llen > 0 && line[llen - 1] == '\r')
			llen--;
		p.line_text = line;
		if (llen > SCHED_MAX_LINE) {
			p.line_len = SCHED_MAX_LINE;
			diag_add(&p, SCHED_MAX_LINE + 1, "split the entry, or use a tag",
			    "line is longer than %d bytes", SCHED_MAX_LINE);
			continue;
		}
		p.line_len = llen;
		parse_line(&p, s, line, llen, toks, &zone, &local_failed, &too_many);
	}
	if (p.oom) {
		r = -ENOMEM;
		goto out;
	}
	if (p.n_problems != 0) {
		r = -EINVAL;
		goto out;
	}
	if (warn_repeats(&p, s) < 0) {
		r = -ENOMEM;
		goto out;
	}
	*ret = s;
	s = NULL;
out:
	free(toks);
	schedule_free(s);
	return r;
}

int
schedule_load(const char *path, struct schedule **ret, struct sched_diags *diags)
{
	char *buf = NULL;
	size_t len = 0;
	int r;

	/* A link is followed: Kubernetes mounts a ConfigMap's files as links. */
	r = read_file_opt(path, SCHED_MAX_FILE_SIZE, READ_FILE_FOLLOW, &buf, &len);
	if (r < 0)
		return r;
	r = schedule_parse(buf, len, ret, diags);
	free(buf);
	return r;
}

bool
sched_matches(const struct sched_entry *e, unsigned month, unsigned mday, unsigned wday,
    unsigned hour, unsigned minute)
{
	bool dom, dow;

	if (month < 1 || month > 12 || mday < 1 || mday > 31 || wday > 7 || hour > 23 ||
	    minute > 59)
		return false;
	if (wday == 7)
		wday = 0;
	if (!(e->minutes >> minute & 1) || !(e->hours >> hour & 1) || !(e->months >> month & 1))
		return false;
	dom = e->mdays >> mday & 1;
	dow = e->wdays >> wday & 1;
	if (e->mday_star || e->wday_star)
		return dom && dow;
	return dom || dow;
}

static int64_t
ceil_minute(int64_t t)
{
	return cal_floor_div(t + 59, 60) * 60;
}

/* The days (bits 1..31) of month M of year Y that match E; FIRST is the 1st's day number. */
static uint32_t
day_mask(const struct sched_entry *e, int64_t y, unsigned m, int64_t first)
{
	uint32_t valid, wmask = 0;
	unsigned w1, k;

	valid = (uint32_t)(((uint64_t)1 << (cal_month_days(y, m) + 1)) - 2);
	w1 = cal_weekday(first);
	for (k = 0; k < 7; k++)
		if (e->wdays >> ((w1 + k) % 7) & 1)
			wmask |= (uint32_t)(0x10204081u << (1 + k));
	if (e->mday_star || e->wday_star)
		return e->mdays & wmask & valid;
	return (e->mdays | wmask) & valid;
}

/*
 * The first local time (seconds, as if UTC) at or after L, a whole minute,
 * whose fields match E; false when there is none up to LIMIT.
 */
static bool
next_local(const struct sched_entry *e, int64_t L, int64_t limit, int64_t *ret)
{
	int64_t days, y, first;
	unsigned secs, m, d, h, mi;

	days = cal_split(L, &secs);
	h = secs / 3600;
	mi = secs / 60 % 60;
	cal_civil_from_days(days, &y, &m, &d);
	first = days - (d - 1);
	for (;;) {
		uint32_t dm, hm;
		uint64_t mm;

		if (first * CAL_SECS_PER_DAY > limit)
			return false;
		if (!(e->months >> m & 1)) {
			uint16_t later = (uint16_t)(e->months & ~((2u << m) - 1));

			if (later != 0) {
				m = (unsigned)__builtin_ctz(later);
			} else {
				y++;
				m = (unsigned)__builtin_ctz(e->months);
			}
			first = cal_days_from_civil(y, m, 1);
			d = 1;
			h = 0;
			mi = 0;
			continue;
		}
		dm = d > 31 ? 0 : day_mask(e, y, m, first) & ~(uint32_t)(((uint64_t)1 << d) - 1);
		if (dm == 0) {
			if (++m > 12) {
				m = 1;
				y++;
			}
			first = cal_days_from_civil(y, m, 1);
			d = 1;
			h = 0;
			mi = 0;
			continue;
		}
		if ((unsigned)__builtin_ctz(dm) != d) {
			d = (unsigned)__builtin_ctz(dm);
			h = 0;
			mi = 0;
		}
		hm = h > 23 ? 0 : e->hours & ~(uint32_t)(((uint64_t)1 << h) - 1);
		if (hm == 0) {
			d++;
			h = 0;
			mi = 0;
			continue;
		}
		if ((unsigned)__builtin_ctz(hm) != h) {
			h = (unsigned)__builtin_ctz(hm);
			mi = 0;
		}
		mm = mi > 59 ? 0 : e->minutes & ~(((uint64_t)1 << mi) - 1);
		if (mm == 0) {
			h++;
			mi = 0;
			continue;
		}
		mi = (unsigned)__builtin_ctzll(mm);
		*ret = (first + d - 1) * CAL_SECS_PER_DAY + h * 3600 + mi * 60;
		return *ret <= limit;
	}
}

int
sched_next(const struct sched_entry *e, int64_t after, int64_t *ret)
{
	struct tz_segment seg;
	int64_t from, horizon, m;

	if (after < NEXT_MIN || after > NEXT_MAX || e->minutes == 0 || e->hours == 0 ||
	    e->mdays == 0 || e->months == 0 || e->wdays == 0)
		return -ENOENT;
	from = after + 1;
	horizon = after + LOOKAHEAD;
	if (e->zone == NULL) {
		if (!next_local(e, ceil_minute(from), horizon, &m))
			return -ENOENT;
		*ret = m;
		return 0;
	}
	tz_segment_at(e->zone, from, &seg);
	for (;;) {
		int64_t o = seg.offset, lo, start, end, jump = o - seg.prev_offset;
		bool transition = seg.start != INT64_MIN;
		/*
		 * To cronie a jump forward of 3 hours or more, or back by more
		 * than 3 hours, is no daylight saving change but the clock
		 * being set: it runs what matches the new time, nothing else.
		 * (Pacific/Apia skipped 30 December 2011 whole.)
		 */
		bool dst_forward = transition && jump > 0 && jump < DST_MAX_JUMP;
		bool dst_back = transition && jump < 0 && -jump <= DST_MAX_JUMP;

		/*
		 * Clocks jumped forward at seg.start: a fixed-time entry whose
		 * time was skipped fires at the transition instant.
		 */
		if (e->fixed_time && dst_forward && seg.start >= from &&
		    next_local(e, ceil_minute(seg.start + seg.prev_offset), seg.start + o - 1, &m)) {
			*ret = seg.start;
			return 0;
		}
		lo = from > seg.start ? from : seg.start;
		start = ceil_minute(lo + o);
		/*
		 * Clocks fell back at seg.start: the wall times repeated now were
		 * already seen, and a fixed-time entry fires in the first pass only.
		 */
		if (e->fixed_time && dst_back && start < seg.start + seg.prev_offset)
			start = ceil_minute(seg.start + seg.prev_offset);
		end = (seg.end < horizon ? seg.end - 1 : horizon) + o;
		if (next_local(e, start, end, &m)) {
			*ret = m - o;
			return 0;
		}
		if (seg.end >= horizon)
			return -ENOENT;
		tz_segment_at(e->zone, seg.end, &seg);
	}
}
