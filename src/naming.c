/* naming: snapshot names from templates, matching names to templates, and what retention deletes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dosnap/calendar.h"
#include "dosnap/naming.h"
#include "dosnap/tz.h"

/* The characters a snapshot name may hold: those of a schedule's templates. */
static bool
name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '.' || c == '-' || c == '_';
}

/* Append LEN bytes of S (template text, already checked) to BUF at *POS, or fail when they do not fit. */
static int
put(char *buf, size_t size, size_t *pos, const char *s, size_t len)
{
	if (*pos + len >= size)
		return -ENAMETOOLONG;
	memcpy(buf + *pos, s, len);
	*pos += len;
	buf[*pos] = '\0';
	return 0;
}

/*
 * Append a value from outside (a droplet's name, an id, a strftime result)
 * by the name rule: each character outside [A-Za-z0-9._-] becomes one '_',
 * a multi-byte UTF-8 character counting as one; at most MAX characters.
 */
static int
put_value(char *buf, size_t size, size_t *pos, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	while (*p != '\0' && n < max) {
		char ch = '_';

		if (name_char(*p))
			ch = (char)*p;

		if (*pos + 1 >= size)
			return -ENAMETOOLONG;
		buf[(*pos)++] = ch;
		n++;
		/* Skip the continuation bytes of a UTF-8 character. */
		if (*p >= 0xc0)
			while ((p[1] & 0xc0) == 0x80)
				p++;
		p++;
	}
	buf[*pos] = '\0';
	return 0;
}

/*
 * template = *( name-char / "{id}" / "{name}" / "{slot}" / "%" letter )
 * name-char = ALPHA / DIGIT / "." / "-" / "_"
 * The schedule parser has validated templates from files; this checks again
 * so that a template from the command line cannot misbehave.  NAME_MAX is
 * how many characters of NAME one "{name}" may give.
 */
static int
render(const char *tmpl, const char *id, const char *name, size_t name_max, int64_t slot,
    const struct tz *zone, char *buf, size_t size)
{
	const char *p = tmpl;
	size_t pos = 0;
	struct tm utc, local;
	int r = 0;

	buf[0] = '\0';
	cal_tm(slot, &utc);
	cal_tm(slot + (zone != NULL ? tz_offset_at(zone, slot) : 0), &local);
	while (*p != '\0' && r == 0) {
		if (strncmp(p, "{id}", 4) == 0) {
			r = put_value(buf, size, &pos, id, (size_t)-1);
			p += 4;
		} else if (strncmp(p, "{name}", 6) == 0) {
			r = put_value(buf, size, &pos, name, name_max);
			p += 6;
		} else if (strncmp(p, "{slot}", 6) == 0) {
			char s[32];
			size_t n = strftime(s, sizeof(s), "%Y%m%dT%H%MZ", &utc);

			r = put(buf, size, &pos, s, n);
			p += 6;
		} else if (*p == '%') {
			char fmt[3] = { '%', p[1], '\0' }, s[64];
			size_t n;

			if (!((p[1] >= 'a' && p[1] <= 'z') || (p[1] >= 'A' && p[1] <= 'Z')))
				return -EINVAL;
			/*
			 * One conversion built from the template, which is
			 * the user's to choose: the format is not a literal
			 * by design, and only a letter may follow the '%'.
			 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
			n = strftime(s, sizeof(s), fmt, &local);
#pragma GCC diagnostic pop
			s[n] = '\0';
			r = put_value(buf, size, &pos, s, (size_t)-1);
			p += 2;
		} else if (name_char((unsigned char)*p)) {
			r = put(buf, size, &pos, p, 1);
			p++;
		} else {
			return -EINVAL;
		}
	}
	return r;
}

int
naming_render(const char *tmpl, const char *id, const char *name, int64_t slot,
    const struct tz *zone, char *buf, size_t size)
{
	size_t cap, base, uses = 0, name_max = (size_t)-1;
	const char *p;
	int r;

	if (size == 0)
		return -ENAMETOOLONG;
	if (tmpl == NULL || id == NULL || name == NULL)
		return -EINVAL;
	cap = size < NAMING_MAX ? size : NAMING_MAX;
	for (p = strstr(tmpl, "{name}"); p != NULL; p = strstr(p + 6, "{name}"))
		uses++;
	if (uses > 0) {
		/* Everything but the names first: the names get what room is left. */
		r = render(tmpl, id, "", 0, slot, zone, buf, cap);
		if (r < 0)
			return r;
		base = strlen(buf);
		name_max = (cap - 1 - base) / uses;
	}
	return render(tmpl, id, name, name_max, slot, zone, buf, cap);
}

/* The length of the placeholder at P, or 0 when P starts literal text. */
static size_t
placeholder_len(const char *p)
{
	if (strncmp(p, "{id}", 4) == 0)
		return 4;
	if (strncmp(p, "{name}", 6) == 0 || strncmp(p, "{slot}", 6) == 0)
		return 6;
	if (p[0] == '%' && p[1] != '\0' && p[1] != '%')
		return 2;
	return 0;
}

/*
 * Glob matching where each placeholder is a "*" that matches one character
 * or more: the classic single-backtrack algorithm (only the last star ever
 * needs to give characters back), linear in practice and free of recursion,
 * so a hostile snapshot name cannot make it blow up.
 */
bool
naming_match(const char *tmpl, const char *name)
{
	const char *t = tmpl, *n = name;
	const char *star_t = NULL, *star_n = NULL;

	for (;;) {
		size_t pl = placeholder_len(t);

		if (pl > 0) {
			if (*n == '\0')
				return false;
			star_t = t + pl;
			star_n = n + 1;
			t = star_t;
			n = star_n;
			continue;
		}
		if (*t == '\0' && *n == '\0')
			return true;
		if (*t != '\0' && *n != '\0') {
			bool pct = t[0] == '%' && t[1] == '%';

			if (*n == (pct ? '%' : *t)) {
				t += pct ? 2 : 1;
				n++;
				continue;
			}
		}
		if (star_t == NULL || *star_n == '\0')
			return false;
		star_n++;
		t = star_t;
		n = star_n;
	}
}

struct idx_time {
	size_t index;
	int64_t created_at;
};

static int
newest_first(const void *a, const void *b)
{
	const struct idx_time *x = a, *y = b;

	if (x->created_at != y->created_at)
		return x->created_at > y->created_at ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

size_t
naming_retention(const struct naming_snap *snaps, size_t n, const char *tmpl,
    const char *keep_name, int keep, int64_t max_age, int64_t now, bool *del)
{
	struct idx_time *v;
	size_t i, m = 0, count = 0;

	if (n == 0)
		return 0;
	v = malloc(n * sizeof(*v));
	if (v == NULL)
		return 0;	/* deleting nothing is the safe failure */
	for (i = 0; i < n; i++) {
		if (snaps[i].backup || snaps[i].name == NULL)
			continue;
		if (keep_name != NULL && strcmp(snaps[i].name, keep_name) == 0)
			continue;
		if (!naming_match(tmpl, snaps[i].name))
			continue;
		v[m].index = i;
		v[m].created_at = snaps[i].created_at;
		m++;
	}
	qsort(v, m, sizeof(*v), newest_first);
	/* The snapshot just taken is one of the KEEP. */
	if (keep > 0 && keep_name != NULL)
		keep--;
	for (i = 0; i < m; i++) {
		bool over_count = keep >= 0 && i >= (size_t)keep;
		bool too_old = max_age >= 0 && v[i].created_at > 0 &&
		    now - v[i].created_at > max_age;

		/* A snapshot of unknown age is never counted as the oldest. */
		if (over_count && v[i].created_at == 0)
			over_count = false;
		if (over_count || too_old) {
			del[v[i].index] = true;
			count++;
		}
	}
	free(v);
	return count;
}
