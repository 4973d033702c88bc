/* check_tz: zone files and footer rules against glibc, hostile TZif files, RFC 3339 and civil dates. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dosnap/calendar.h"
#include "dosnap/tz.h"
#include "testutil.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

Suite	*tz_suite(void);

/* Tests may share a process (CK_FORK=no), so environment changes are undone. */
struct saved_env {
	char *tz, *tzdir;
};

static char *
dup_env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL ? strdup(v) : NULL;
}

static void
env_save(struct saved_env *s)
{
	s->tz = dup_env("TZ");
	s->tzdir = dup_env("TZDIR");
}

static void
env_restore(struct saved_env *s)
{
	if (s->tz != NULL)
		setenv("TZ", s->tz, 1);
	else
		unsetenv("TZ");
	if (s->tzdir != NULL)
		setenv("TZDIR", s->tzdir, 1);
	else
		unsetenv("TZDIR");
	tzset();
	free(s->tz);
	free(s->tzdir);
}

static int64_t
at(const char *s)
{
	int64_t t;

	ck_assert_msg(tz_parse_rfc3339(s, &t) == 0, "bad time in test: %s", s);
	return t;
}

/* What glibc's localtime_r says the offset is at T, under the current $TZ. */
static int32_t
glibc_offset(int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;
	int64_t local;

	ck_assert_ptr_nonnull(localtime_r(&tt, &tm));
	local = cal_days_from_civil(tm.tm_year + 1900, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday) *
	    86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
	return (int32_t)(local - t);
}

/*
 * Compare Z with glibc under the current $TZ from 2020 to 2060: at a
 * stride that lands on every hour of the year, and at both sides of every
 * transition found.
 */
static void
compare_with_glibc(const struct tz *z, const char *what)
{
	int64_t t, from = at("2020-01-01T00:00:00Z"), to = at("2060-12-31T00:00:00Z");
	unsigned transitions = 0;

	for (t = from; t < to; t += 3 * 3600 + 7 * 60 + 11) {
		ck_assert_msg(tz_offset_at(z, t) == glibc_offset(t), "%s at %lld: %d, glibc %d",
		    what, (long long)t, tz_offset_at(z, t), glibc_offset(t));
	}
	for (t = from; t < to;) {
		struct tz_segment seg;

		tz_segment_at(z, t, &seg);
		ck_assert(seg.start <= t && t < seg.end);
		if (seg.end >= to)
			break;
		ck_assert_msg(glibc_offset(seg.end - 1) == seg.offset, "%s before %lld", what,
		    (long long)seg.end);
		ck_assert_msg(glibc_offset(seg.end) == tz_offset_at(z, seg.end), "%s at %lld", what,
		    (long long)seg.end);
		t = seg.end;
		transitions++;
	}
	(void)transitions;
}

static const char *const glibc_zones[] = {
	"America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "America/Nuuk",
	"Asia/Jerusalem", "America/St_Johns", "Pacific/Chatham", "Africa/Casablanca",
	"America/Santiago", "Europe/Dublin", "Asia/Kolkata", "Pacific/Apia", "UTC",
};

START_TEST(test_zone_vs_glibc)
{
	struct saved_env env;
	struct tz *z = NULL;
	int r;

	env_save(&env);
	r = tz_load(glibc_zones[_i], &z);
	ck_assert_msg(r == 0, "%s: %d", glibc_zones[_i], r);
	ck_assert_str_eq(tz_name(z), glibc_zones[_i]);
	setenv("TZ", glibc_zones[_i], 1);
	tzset();
	compare_with_glibc(z, glibc_zones[_i]);
	tz_free(z);
	env_restore(&env);
}
END_TEST

/* POSIX TZ strings alone, as $TZ may hold them: every rule form glibc knows. */
static const char *const posix_rules[] = {
	"EST5EDT,M3.2.0,M11.1.0",
	"CET-1CEST,M3.5.0,M10.5.0/3",
	"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
	"IST-2IDT,M3.4.4/26,M10.5.0",
	"<-02>2<-01>,M3.5.0/-1,M10.5.0/0",
	"EST5EDT,J60/2,J300/2",
	"EST5EDT,59/2,299/2",
	"AAA+3:30BBB+2:30,M4.5.6/-2:30,M9.1.1/167",
	"NZST-12NZDT,M9.5.0,M4.1.0/3",
	"<-0330>3:30",
	"XYZ-5:45",
};

START_TEST(test_posix_vs_glibc)
{
	struct saved_env env;
	struct tz *z = NULL;

	env_save(&env);
	setenv("TZ", posix_rules[_i], 1);
	tzset();
	ck_assert_int_eq(tz_load(NULL, &z), 0);
	ck_assert_str_eq(tz_name(z), posix_rules[_i]);
	compare_with_glibc(z, posix_rules[_i]);
	tz_free(z);
	env_restore(&env);
}
END_TEST

START_TEST(test_segment)
{
	struct tz *z;
	struct tz_segment seg;

	ck_assert_int_eq(tz_load("America/New_York", &z), 0);
	tz_segment_at(z, at("2026-06-01T00:00:00Z"), &seg);
	ck_assert_int_eq(seg.start, at("2026-03-08T07:00:00Z"));
	ck_assert_int_eq(seg.end, at("2026-11-01T06:00:00Z"));
	ck_assert_int_eq(seg.offset, -4 * 3600);
	ck_assert_int_eq(seg.prev_offset, -5 * 3600);
	/* The boundary belongs to the later segment. */
	tz_segment_at(z, at("2026-03-08T07:00:00Z"), &seg);
	ck_assert_int_eq(seg.start, at("2026-03-08T07:00:00Z"));
	tz_segment_at(z, at("2026-03-08T06:59:59Z"), &seg);
	ck_assert_int_eq(seg.end, at("2026-03-08T07:00:00Z"));
	ck_assert_int_eq(seg.offset, -5 * 3600);
	ck_assert_int_eq(seg.prev_offset, -4 * 3600);
	/* The footer rule carries on to 2200, past the file's own transitions. */
	ck_assert_int_eq(tz_offset_at(z, at("2199-07-01T00:00:00Z")), -4 * 3600);
	ck_assert_int_eq(tz_offset_at(z, at("2199-12-01T00:00:00Z")), -5 * 3600);
	tz_segment_at(z, at("2150-07-04T00:00:00Z"), &seg);
	ck_assert_int_eq(seg.start, at("2150-03-08T07:00:00Z"));
	ck_assert_int_eq(seg.end, at("2150-11-01T06:00:00Z"));
	/* Before the first transition: local mean time, open start. */
	tz_segment_at(z, at("1800-01-01T00:00:00Z"), &seg);
	ck_assert_int_eq(seg.start, INT64_MIN);
	ck_assert_int_eq(seg.offset, -(4 * 3600 + 56 * 60 + 2));
	ck_assert_int_eq(seg.prev_offset, seg.offset);
	tz_free(z);

	ck_assert_int_eq(tz_load("UTC", &z), 0);
	tz_segment_at(z, 0, &seg);
	ck_assert_int_eq(seg.start, INT64_MIN);
	ck_assert_int_eq(seg.end, INT64_MAX);
	ck_assert_int_eq(seg.offset, 0);
	tz_free(z);
}
END_TEST

/*
 * All-year daylight saving time, as zic writes it: each year's end falls
 * on the next year's start, so no transition remains.  (glibc disagrees
 * for the hours around New Year, as it picks the rule's year in UTC.)
 */
START_TEST(test_permanent_dst)
{
	struct saved_env env;
	struct tz *z = NULL;
	struct tz_segment seg;

	env_save(&env);
	setenv("TZ", "EST5EDT,0/0,J365/25", 1);
	ck_assert_int_eq(tz_load(NULL, &z), 0);
	ck_assert_int_eq(tz_offset_at(z, at("2026-01-01T00:00:00Z")), -14400);
	ck_assert_int_eq(tz_offset_at(z, at("2026-07-01T00:00:00Z")), -14400);
	ck_assert_int_eq(tz_offset_at(z, at("2027-01-01T04:59:59Z")), -14400);
	ck_assert_int_eq(tz_offset_at(z, at("2027-01-01T05:00:00Z")), -14400);
	tz_segment_at(z, at("2100-01-01T05:00:00Z"), &seg);
	ck_assert_int_lt(seg.start, at("1901-01-01T00:00:00Z"));
	ck_assert_int_gt(seg.end, at("2200-01-01T00:00:00Z"));
	tz_free(z);
	env_restore(&env);
}
END_TEST

/* --- names and the local zone ---------------------------------------------------- */

static const struct name_row {
	const char *name;
	int r;
	int32_t offset_2026_01;		/* when r == 0 */
} name_rows[] = {
	{ "Europe/Berlin", 0, 3600 },
	{ "UTC", 0, 0 },
	{ "Etc/GMT+5", 0, -5 * 3600 },
	{ "America/Argentina/Buenos_Aires", 0, -3 * 3600 },
	{ "Europe/Nowhere", -ENOENT, 0 },
	{ "America", -ENOENT, 0 },
	{ "europe/berlin", -ENOENT, 0 },
	{ "", -EINVAL, 0 },
	{ "../../etc/passwd", -EINVAL, 0 },
	{ "Europe/../Europe/Berlin", -EINVAL, 0 },
	{ "/usr/share/zoneinfo/UTC", -EINVAL, 0 },
	{ "Europe/Berlin ", -EINVAL, 0 },
	{ "Europe/Berlin\n", -EINVAL, 0 },
	{ "EST5EDT,M3.2.0,M11.1.0", -EINVAL, 0 },
	{ "Europe\\Berlin", -EINVAL, 0 },
};

START_TEST(test_names)
{
	const struct name_row *row = &name_rows[_i];
	struct tz *z = NULL;
	int r;

	r = tz_load(row->name, &z);
	ck_assert_msg(r == row->r, "'%s': %d, want %d", row->name, r, row->r);
	if (r == 0) {
		ck_assert_str_eq(tz_name(z), row->name);
		ck_assert_int_eq(tz_offset_at(z, at("2026-01-15T00:00:00Z")), row->offset_2026_01);
	} else {
		ck_assert_ptr_null(z);
	}
	tz_free(z);
}
END_TEST

static const struct local_row {
	const char *tz;		/* NULL: unset */
	const char *name;	/* NULL: any */
	int32_t offset_2026_07;	/* when name is not NULL */
} local_rows[] = {
	{ ":Europe/Berlin", "Europe/Berlin", 7200 },
	{ "America/New_York", "America/New_York", -4 * 3600 },
	{ "", "UTC", 0 },
	{ ":", "UTC", 0 },
	{ "Nope/Zone", "UTC", 0 },
	{ "<+0530>-5:30", "<+0530>-5:30", 19800 },
	{ "/usr/share/zoneinfo/Asia/Kolkata", "localtime", 19800 },
	{ NULL, NULL, 0 },
};

START_TEST(test_local)
{
	const struct local_row *row = &local_rows[_i];
	struct saved_env env;
	struct tz *z = NULL;

	env_save(&env);
	if (row->tz != NULL)
		setenv("TZ", row->tz, 1);
	else
		unsetenv("TZ");
	ck_assert_int_eq(tz_load(NULL, &z), 0);
	ck_assert_ptr_nonnull(z);
	ck_assert_uint_gt(strlen(tz_name(z)), 0);
	if (row->name != NULL) {
		ck_assert_str_eq(tz_name(z), row->name);
		ck_assert_int_eq(tz_offset_at(z, at("2026-07-01T00:00:00Z")), row->offset_2026_07);
	}
	tz_free(z);
	env_restore(&env);
}
END_TEST

/* --- hand-made TZif files ----------------------------------------------------------- */

struct tzif_spec {
	int version;			/* 1, 2 or 3 */
	uint32_t timecnt, typecnt, charcnt;	/* as the header claims */
	const int64_t *times;
	const uint8_t *idx;
	const int32_t *offs;		/* typecnt of them */
	const char *footer;		/* NULL: none (or no newline pair at all) */
	size_t truncate;		/* cut this many bytes off the end */
	const char *magic;		/* NULL: "TZif" */
};

static void
put32(unsigned char **p, uint32_t v)
{
	(*p)[0] = (unsigned char)(v >> 24);
	(*p)[1] = (unsigned char)(v >> 16);
	(*p)[2] = (unsigned char)(v >> 8);
	(*p)[3] = (unsigned char)v;
	*p += 4;
}

static void
put_header(unsigned char **p, const struct tzif_spec *sp, uint32_t timecnt, uint32_t typecnt,
    uint32_t charcnt)
{
	memcpy(*p, sp->magic != NULL ? sp->magic : "TZif", 4);
	(*p)[4] = sp->version == 1 ? 0 : (unsigned char)('0' + sp->version);
	memset(*p + 5, 0, 15);
	*p += 20;
	put32(p, 0);		/* isutcnt */
	put32(p, 0);		/* isstdcnt */
	put32(p, 0);		/* leapcnt */
	put32(p, timecnt);
	put32(p, typecnt);
	put32(p, charcnt);
}

/* Write a TZif file as SP describes to DIR/NAME; the counts may lie about the data. */
static void
write_tzif(const char *dir, const char *name, const struct tzif_spec *sp)
{
	unsigned char *buf, *p;
	char path[4096];
	size_t n, i, ntimes = sp->times != NULL ? sp->timecnt : 0;
	size_t ntypes = sp->offs != NULL ? sp->typecnt : 0;
	FILE *f;

	buf = calloc(1, 65536);
	ck_assert_ptr_nonnull(buf);
	p = buf;
	if (sp->version == 1) {
		put_header(&p, sp, sp->timecnt, sp->typecnt, sp->charcnt);
		for (i = 0; i < ntimes; i++)
			put32(&p, (uint32_t)sp->times[i]);
	} else {
		/* An empty version 1 block, as "slim" files have. */
		put_header(&p, sp, 0, 1, 4);
		put32(&p, 0);
		*p++ = 0;
		*p++ = 0;
		memcpy(p, "UTC", 4);
		p += 4;
		put_header(&p, sp, sp->timecnt, sp->typecnt, sp->charcnt);
		for (i = 0; i < ntimes; i++) {
			put32(&p, (uint32_t)((uint64_t)sp->times[i] >> 32));
			put32(&p, (uint32_t)sp->times[i]);
		}
	}
	for (i = 0; i < ntimes; i++)
		*p++ = sp->idx[i];
	for (i = 0; i < ntypes; i++) {
		put32(&p, (uint32_t)sp->offs[i]);
		*p++ = 0;
		*p++ = 0;
	}
	if (sp->offs != NULL) {
		memset(p, 'X', sp->charcnt);
		p += sp->charcnt;
	}
	if (sp->footer != NULL && sp->version > 1) {
		n = strlen(sp->footer);
		*p++ = '\n';
		memcpy(p, sp->footer, n);
		p += n;
		*p++ = '\n';
	}
	n = (size_t)(p - buf);
	n = sp->truncate < n ? n - sp->truncate : 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(buf, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
	free(buf);
}

static const int64_t two_times[] = { 1000000000, 1100000000 };
static const int64_t backwards[] = { 1100000000, 1000000000 };
static const uint8_t idx01[] = { 1, 0 };
static const uint8_t idx_bad[] = { 1, 7 };
static const int32_t est_edt[] = { -18000, -14400 };
static const int32_t huge_off[] = { -18000, 100000 };
static const int32_t est[] = { -18000 };

static const struct hostile_row {
	const char *what;
	struct tzif_spec spec;
	int r;
	int32_t before, after;	/* offsets just before and at 1000000000, when r == 0 */
} hostile_rows[] = {
	{ "v2 fine", { 2, 2, 2, 8, two_times, idx01, est_edt, "EST5EDT,M3.2.0,M11.1.0", 0, NULL }, 0, -18000, -14400 },
	{ "v1 fine", { 1, 2, 2, 8, two_times, idx01, est_edt, NULL, 0, NULL }, 0, -18000, -14400 },
	{ "v3 slim", { 3, 0, 1, 4, NULL, NULL, est, "EST5EDT,M3.2.0,M11.1.0", 0, NULL }, 0, -14400, -14400 },
	{ "no footer", { 2, 2, 2, 8, two_times, idx01, est_edt, NULL, 0, NULL }, 0, -18000, -14400 },
	{ "bad magic", { 2, 2, 2, 8, two_times, idx01, est_edt, NULL, 0, "TZjf" }, -EBADMSG },
	{ "truncated data", { 2, 2, 2, 8, two_times, idx01, est_edt, NULL, 5, NULL }, -EBADMSG },
	{ "truncated header", { 2, 2, 2, 8, two_times, idx01, est_edt, NULL, 80, NULL }, -EBADMSG },
	{ "lying timecnt", { 2, 100000, 2, 8, NULL, NULL, est_edt, NULL, 0, NULL }, -EBADMSG },
	{ "huge timecnt", { 2, 0xffffffffu, 2, 8, NULL, NULL, NULL, NULL, 0, NULL }, -EBADMSG },
	{ "huge charcnt", { 2, 0, 1, 0x7fffffffu, NULL, NULL, NULL, NULL, 0, NULL }, -EBADMSG },
	{ "no types", { 2, 0, 0, 0, NULL, NULL, NULL, NULL, 0, NULL }, -EBADMSG },
	{ "type index out of range", { 2, 2, 2, 8, two_times, idx_bad, est_edt, NULL, 0, NULL }, -EBADMSG },
	{ "times not ascending", { 2, 2, 2, 8, backwards, idx01, est_edt, NULL, 0, NULL }, -EBADMSG },
	{ "absurd offset", { 2, 2, 2, 8, two_times, idx01, huge_off, NULL, 0, NULL }, -EBADMSG },
	{ "bad footer", { 2, 2, 2, 8, two_times, idx01, est_edt, "E5", 0, NULL }, -EBADMSG },
	{ "footer M13", { 2, 2, 2, 8, two_times, idx01, est_edt, "EST5EDT,M13.1.0,M11.1.0", 0, NULL }, -EBADMSG },
	{ "footer J366", { 2, 2, 2, 8, two_times, idx01, est_edt, "EST5EDT,J366,M11.1.0", 0, NULL }, -EBADMSG },
	{ "footer hour 168", { 2, 2, 2, 8, two_times, idx01, est_edt, "EST5EDT,M3.2.0/168,M11.1.0", 0, NULL }, -EBADMSG },
	{ "footer trailing junk", { 2, 2, 2, 8, two_times, idx01, est_edt, "EST5EDT,M3.2.0,M11.1.0x", 0, NULL }, -EBADMSG },
};

START_TEST(test_hostile)
{
	const struct hostile_row *row = &hostile_rows[_i];
	struct saved_env env;
	struct tz *z = NULL;
	char *dir;
	int r;

	env_save(&env);
	dir = tu_mkdtemp();
	setenv("TZDIR", dir, 1);
	write_tzif(dir, "Test", &row->spec);
	r = tz_load("Test", &z);
	ck_assert_msg(r == row->r, "%s: %d, want %d", row->what, r, row->r);
	if (r == 0) {
		ck_assert_int_eq(tz_offset_at(z, 999999999), row->before);
		ck_assert_int_eq(tz_offset_at(z, 1000000000), row->after);
		/* In 2030, past the last transition, the footer rules if there is one. */
		ck_assert_int_eq(tz_offset_at(z, 1908748800), row->spec.footer != NULL ? -14400 : -18000);
		tz_free(z);
	} else {
		ck_assert_ptr_null(z);
	}
	tu_rmtree(dir);
	free(dir);
	env_restore(&env);
}
END_TEST

/* A slim file holds no transitions at all: the footer alone must give every one. */
START_TEST(test_slim_vs_glibc)
{
	static const struct tzif_spec spec = {
		3, 0, 1, 4, NULL, NULL, est, "EST5EDT,M3.2.0,M11.1.0", 0, NULL
	};
	struct saved_env env;
	struct tz *z = NULL;
	char *dir;

	env_save(&env);
	dir = tu_mkdtemp();
	setenv("TZDIR", dir, 1);
	write_tzif(dir, "Slim", &spec);
	ck_assert_int_eq(tz_load("Slim", &z), 0);
	setenv("TZ", "EST5EDT,M3.2.0,M11.1.0", 1);
	tzset();
	compare_with_glibc(z, "slim EST5EDT");
	tz_free(z);
	tu_rmtree(dir);
	free(dir);
	env_restore(&env);
}
END_TEST

/*
 * At most TZ_MAX_TRANSITIONS transitions: a version 1 file (no footer, so
 * no rule adds any) with exactly that many alternating ones loads, one
 * more is refused as corrupt.
 */
START_TEST(test_transitions_cap)
{
	struct saved_env env;
	struct tz *z = NULL;
	char *dir;
	uint32_t k;

	env_save(&env);
	dir = tu_mkdtemp();
	setenv("TZDIR", dir, 1);
	for (k = TZ_MAX_TRANSITIONS; k <= TZ_MAX_TRANSITIONS + 1; k++) {
		static const struct tzif_spec hdr = { 1, 0, 0, 0, NULL, NULL, NULL, NULL, 0, NULL };
		size_t size = 44 + (size_t)k * 5 + 12 + 8, i;
		unsigned char *buf = calloc(1, size), *p = buf;
		char path[4096];
		FILE *f;

		ck_assert_ptr_nonnull(buf);
		put_header(&p, &hdr, k, 2, 8);
		for (i = 0; i < k; i++)
			put32(&p, (uint32_t)(i * 3600));
		for (i = 0; i < k; i++)
			*p++ = (unsigned char)((i + 1) % 2);	/* type 1, 0, 1, ...: each one a change */
		put32(&p, 0);
		*p++ = 0;
		*p++ = 0;
		put32(&p, 3600);
		*p++ = 1;
		*p++ = 4;
		memcpy(p, "UTC\0ONE", 8);
		p += 8;
		snprintf(path, sizeof(path), "%s/Many", dir);
		f = fopen(path, "wb");
		ck_assert_ptr_nonnull(f);
		ck_assert_uint_eq(fwrite(buf, 1, (size_t)(p - buf), f), (size_t)(p - buf));
		ck_assert_int_eq(fclose(f), 0);
		free(buf);
		if (k == TZ_MAX_TRANSITIONS) {
			ck_assert_int_eq(tz_load("Many", &z), 0);
			ck_assert_int_eq(tz_offset_at(z, -1), 0);
			ck_assert_int_eq(tz_offset_at(z, 0), 3600);
			/* The last of an even number of changes is back to type 0. */
			ck_assert_int_eq(tz_offset_at(z, (int64_t)(k - 1) * 3600), 0);
			ck_assert_int_eq(tz_offset_at(z, (int64_t)(k - 2) * 3600), 3600);
			tz_free(z);
			z = NULL;
		} else {
			ck_assert_int_eq(tz_load("Many", &z), -EBADMSG);
			ck_assert_ptr_null(z);
		}
	}
	tu_rmtree(dir);
	free(dir);
	env_restore(&env);
}
END_TEST

START_TEST(test_oversized_file)
{
	struct saved_env env;
	struct tz *z = NULL;
	char *dir, *path, *big;

	env_save(&env);
	dir = tu_mkdtemp();
	setenv("TZDIR", dir, 1);
	big = malloc(300 * 1024 + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', 300 * 1024);
	memcpy(big, "TZif2", 5);
	big[300 * 1024] = '\0';
	path = tu_write(dir, "Big", big);
	ck_assert_int_eq(tz_load("Big", &z), -EBADMSG);
	free(path);
	path = tu_write(dir, "Empty", "");
	ck_assert_int_eq(tz_load("Empty", &z), -EBADMSG);
	ck_assert_ptr_null(z);
	free(path);
	/* A FIFO is no zone, and opening it must not wait for a writer. */
	path = malloc(strlen(dir) + 8);
	ck_assert_ptr_nonnull(path);
	sprintf(path, "%s/Fifo", dir);
	ck_assert_int_eq(mkfifo(path, 0644), 0);
	alarm(10);
	ck_assert_int_eq(tz_load("Fifo", &z), -ENOENT);
	alarm(0);
	ck_assert_ptr_null(z);
	free(path);
	free(big);
	tu_rmtree(dir);
	free(dir);
	env_restore(&env);
}
END_TEST

/* "did you mean" for a zone name that is not there, from the zone directory. */
static const struct suggest_row {
	const char *name;
	const char *want;	/* NULL: no suggestion */
} suggest_rows[] = {
	{ "utc", "UTC" },
	{ "Utc", "UTC" },
	{ "Europe/Berln", "Europe/Berlin" },
	{ "europe/berlin", "Europe/Berlin" },
	{ "Europe/Pairs", "Europe/Paris" },
	{ "berlin", "Europe/Berlin" },
	{ "Tokyo", "Asia/Tokyo" },
	{ "America/New_Yrok", "America/New_York" },
	{ "Xyzzy", NULL },
	{ "Europe/Xyz", NULL },
	{ "", NULL },
};

START_TEST(test_suggest)
{
	static const char *const zones[] = {
		"UTC", "Europe/Berlin", "Europe/Paris", "Asia/Tokyo", "America/New_York",
		"zone.tab", "posixrules",
	};
	const struct suggest_row *row = &suggest_rows[_i];
	struct saved_env env;
	char *dir, *path, buf[64];
	size_t i;
	int r;

	env_save(&env);
	dir = tu_mkdtemp();
	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		const char *slash = strchr(zones[i], '/');

		if (slash != NULL) {
			path = malloc(strlen(dir) + 64);
			ck_assert_ptr_nonnull(path);
			sprintf(path, "%s/%.*s", dir, (int)(slash - zones[i]), zones[i]);
			(void)mkdir(path, 0755);
			free(path);
		}
		free(tu_write(dir, zones[i], "TZif2"));
	}
	setenv("TZDIR", dir, 1);
	r = tz_suggest(row->name, buf, sizeof(buf));
	if (row->want == NULL) {
		ck_assert_msg(r == -ENOENT, "'%s': suggested '%s'", row->name, r == 0 ? buf : "");
	} else {
		ck_assert_msg(r == 0, "'%s': no suggestion", row->name);
		ck_assert_str_eq(buf, row->want);
	}
	tu_rmtree(dir);
	free(dir);
	env_restore(&env);
}
END_TEST

/* --- RFC 3339 ------------------------------------------------------------------------ */

static const struct parse_row {
	const char *s;
	int r;
	int64_t t;
} parse_rows[] = {
	{ "1970-01-01T00:00:00Z", 0, 0 },
	{ "2026-11-26T03:30:00Z", 0, 1795663800 },
	{ "2026-11-26t03:30:00z", 0, 1795663800 },
	{ "2026-11-26 03:30:00Z", 0, 1795663800 },
	{ "2026-11-26T04:30:00+01:00", 0, 1795663800 },
	{ "2026-11-26T00:00:00-03:30", 0, 1795663800 },
	{ "2026-11-26T03:30:00.999999999Z", 0, 1795663800 },
	{ "2026-11-26T03:30:00.5+00:00", 0, 1795663800 },
	{ "2028-02-29T00:00:00Z", 0, 1835395200 },
	{ "1969-12-31T23:59:59Z", 0, -1 },
	{ "2016-12-31T23:59:60Z", 0, 1483228800 },
	{ "2027-02-29T00:00:00Z", -EINVAL, 0 },
	{ "2026-04-31T00:00:00Z", -EINVAL, 0 },
	{ "2026-13-01T00:00:00Z", -EINVAL, 0 },
	{ "2026-00-01T00:00:00Z", -EINVAL, 0 },
	{ "2026-01-01T24:00:00Z", -EINVAL, 0 },
	{ "2026-01-01T00:60:00Z", -EINVAL, 0 },
	{ "2026-01-01T00:00:61Z", -EINVAL, 0 },
	{ "2026-01-01T00:00:00", -EINVAL, 0 },
	{ "2026-01-01T00:00:00+0100", -EINVAL, 0 },
	{ "2026-01-01T00:00:00+24:00", -EINVAL, 0 },
	{ "2026-01-01T00:00:00.Z", -EINVAL, 0 },
	{ "2026-01-01T00:00:00Zjunk", -EINVAL, 0 },
	{ "2026-01-01", -EINVAL, 0 },
	{ "26-01-01T00:00:00Z", -EINVAL, 0 },
	{ "2026-1-01T00:00:00Z", -EINVAL, 0 },
	{ "", -EINVAL, 0 },
};

START_TEST(test_parse_rfc3339)
{
	const struct parse_row *row = &parse_rows[_i];
	int64_t t = 77;
	int r;

	r = tz_parse_rfc3339(row->s, &t);
	ck_assert_msg(r == row->r, "'%s': %d, want %d", row->s, r, row->r);
	ck_assert_int_eq(t, r == 0 ? row->t : 77);
}
END_TEST

static const struct format_row {
	const char *zone;
	const char *t;
	const char *want;
} format_rows[] = {
	{ "UTC", "2026-03-29T01:00:00Z", "2026-03-29T01:00:00+00:00" },
	{ "Europe/Berlin", "2026-03-29T01:00:00Z", "2026-03-29T03:00:00+02:00" },
	{ "Europe/Berlin", "2026-03-29T00:59:59Z", "2026-03-29T01:59:59+01:00" },
	{ "America/New_York", "2026-11-01T05:30:00Z", "2026-11-01T01:30:00-04:00" },
	{ "America/New_York", "2026-11-01T06:30:00Z", "2026-11-01T01:30:00-05:00" },
	{ "Australia/Lord_Howe", "2026-10-03T15:30:00Z", "2026-10-04T02:30:00+11:00" },
	{ "Australia/Lord_Howe", "2026-10-03T15:29:00Z", "2026-10-04T01:59:00+10:30" },
	{ "America/St_Johns", "2026-01-01T00:00:00Z", "2025-12-31T20:30:00-03:30" },
	{ "UTC", "1969-12-31T23:59:59Z", "1969-12-31T23:59:59+00:00" },
	/* Local mean time has seconds in its offset: shown to the minute, as the same instant. */
	{ "America/New_York", "1800-01-01T00:00:00Z", "1799-12-31T19:04:00-04:56" },
};

START_TEST(test_format_rfc3339)
{
	const struct format_row *row = &format_rows[_i];
	struct tz *z;
	char buf[TZ_RFC3339_MAX];
	int64_t t, back;

	ck_assert_int_eq(tz_load(row->zone, &z), 0);
	t = at(row->t);
	ck_assert_ptr_eq(tz_format_rfc3339(z, t, buf), buf);
	ck_assert_str_eq(buf, row->want);
	/* What is written reads back as the same instant. */
	ck_assert_int_eq(tz_parse_rfc3339(buf, &back), 0);
	ck_assert_int_eq(back, t);
	tz_free(z);
}
END_TEST

START_TEST(test_format_extremes)
{
	struct tz *z;
	char buf[TZ_RFC3339_MAX];

	ck_assert_int_eq(tz_load("UTC", &z), 0);
	ck_assert_str_eq(tz_format_rfc3339(z, INT64_MAX, buf), "9999-12-30T23:59:59+00:00");
	ck_assert_str_eq(tz_format_rfc3339(z, INT64_MIN, buf), "0000-01-02T00:00:00+00:00");
	tz_free(z);
}
END_TEST

Suite *
tz_suite(void)
{
	Suite *s = suite_create("tz");
	TCase *tc;

	tc = tcase_create("zones");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_zone_vs_glibc, 0, NELEM(glibc_zones));
	tcase_add_loop_test(tc, test_posix_vs_glibc, 0, NELEM(posix_rules));
	tcase_add_test(tc, test_segment);
	tcase_add_test(tc, test_permanent_dst);
	tcase_add_loop_test(tc, test_names, 0, NELEM(name_rows));
	tcase_add_loop_test(tc, test_local, 0, NELEM(local_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("tzif");
	tcase_add_loop_test(tc, test_hostile, 0, NELEM(hostile_rows));
	tcase_add_test(tc, test_slim_vs_glibc);
	tcase_add_test(tc, test_oversized_file);
	tcase_add_test(tc, test_transitions_cap);
	tcase_add_loop_test(tc, test_suggest, 0, (int)(sizeof(suggest_rows) / sizeof(suggest_rows[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("rfc3339");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_parse_rfc3339, 0, NELEM(parse_rows));
	tcase_add_loop_test(tc, test_format_rfc3339, 0, NELEM(format_rows));
	tcase_add_test(tc, test_format_extremes);
	suite_add_tcase(s, tc);
	return s;
}
