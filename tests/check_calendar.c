/* check_calendar: the civil-date arithmetic, against fixed dates and, at random, against glibc's gmtime_r and timegm. */
/* NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp): glibc's switch for timegm. */
#define _DEFAULT_SOURCE
#include <check.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dosnap/calendar.h"

#include "suites.h"

START_TEST(test_fixed_dates)
{
	int64_t y;
	unsigned m, d;

	ck_assert_int_eq(cal_days_from_civil(1970, 1, 1), 0);
	ck_assert_int_eq(cal_days_from_civil(1969, 12, 31), -1);
	ck_assert_int_eq(cal_days_from_civil(2000, 3, 1), 11017);
	ck_assert_int_eq(cal_days_from_civil(2028, 2, 29), 21243);
	ck_assert_int_eq(cal_days_from_civil(0, 1, 1), -719528);
	/* A day past the month's end runs on into the next month. */
	ck_assert_int_eq(cal_days_from_civil(2026, 2, 29), cal_days_from_civil(2026, 3, 1));
	cal_civil_from_days(-719529, &y, &m, &d);
	ck_assert(y == -1 && m == 12 && d == 31);
	ck_assert_uint_eq(cal_weekday(0), 4);			/* 1970-01-01: Thursday */
	ck_assert_uint_eq(cal_weekday(-1), 3);
	ck_assert_uint_eq(cal_weekday(-4), 0);			/* 1969-12-28: Sunday */
	ck_assert_uint_eq(cal_weekday(cal_days_from_civil(2026, 11, 29)), 0);
	ck_assert(cal_is_leap(2000) && cal_is_leap(2024) && cal_is_leap(0) && cal_is_leap(-4));
	ck_assert(!cal_is_leap(1900) && !cal_is_leap(2026) && !cal_is_leap(2100) && !cal_is_leap(-1));
	ck_assert_uint_eq(cal_month_days(2024, 2), 29);
	ck_assert_uint_eq(cal_month_days(2100, 2), 28);
	ck_assert_uint_eq(cal_month_days(2026, 1), 31);
	ck_assert_uint_eq(cal_month_days(2026, 4), 30);
	ck_assert_uint_eq(cal_month_days(2026, 12), 31);
}
END_TEST

START_TEST(test_floor_div_and_split)
{
	unsigned secs;

	ck_assert_int_eq(cal_floor_div(7, 2), 3);
	ck_assert_int_eq(cal_floor_div(-7, 2), -4);
	ck_assert_int_eq(cal_floor_div(-8, 2), -4);
	ck_assert_int_eq(cal_floor_div(0, 60), 0);
	ck_assert_int_eq(cal_floor_div(-1, 60), -1);
	ck_assert_int_eq(cal_floor_div(INT64_MIN, 1), INT64_MIN);
	ck_assert_int_eq(cal_split(0, &secs), 0);
	ck_assert_uint_eq(secs, 0);
	ck_assert_int_eq(cal_split(-1, &secs), -1);
	ck_assert_uint_eq(secs, 86399);
	ck_assert_int_eq(cal_split(-86400, &secs), -1);
	ck_assert_uint_eq(secs, 0);
	ck_assert_int_eq(cal_split(86400 + 3661, &secs), 1);
	ck_assert_uint_eq(secs, 3661);
}
END_TEST

/* Every day from year 0 to 2500 follows the one before it. */
START_TEST(test_every_day)
{
	int64_t days, y;
	unsigned m, d, pm = 12, pd = 31;
	int64_t py = -1;

	for (days = -719528; days < cal_days_from_civil(2500, 1, 1); days++) {
		cal_civil_from_days(days, &y, &m, &d);
		ck_assert_int_eq(cal_days_from_civil(y, m, d), days);
		if (d != 1)
			ck_assert(y == py && m == pm && d == pd + 1);
		else if (m != 1)
			ck_assert(y == py && m == pm + 1);
		else
			ck_assert(y == py + 1 && pm == 12 && pd == 31);
		ck_assert_uint_le(d, cal_month_days(y, m));
		if (d == 1 && days > -719528)
			ck_assert_uint_eq(pd, cal_month_days(py, pm));
		py = y;
		pm = m;
		pd = d;
	}
}
END_TEST

/* splitmix64: small, good enough, and the same sequence everywhere for a seed. */
static uint64_t
next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

#define ROUNDS		200000
/* About 188 million years either side of 1970: tm_year still fits an int. */
#define WIDE_DAYS	(INT64_C(1) << 36)
/* About 2,900 years either side: where schedules and snapshots live. */
#define NEAR_DAYS	(INT64_C(1) << 20)

/*
 * Random instants, half near 1970 and half across a wide range of days,
 * broken down by cal_tm and by glibc's gmtime_r, field by field; then back
 * with cal_days_from_civil and with timegm.  The seed is printed; set
 * DOSNAP_CALENDAR_SEED to replay one.
 */
START_TEST(test_random_vs_glibc)
{
	const char *env = getenv("DOSNAP_CALENDAR_SEED");
	uint64_t seed, s;
	long i;

	seed = env != NULL && *env != '\0' ? strtoull(env, NULL, 10) :
	    (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);
	printf("calendar: seed %" PRIu64 ", %d rounds (replay: DOSNAP_CALENDAR_SEED=%" PRIu64 ")\n",
	    seed, ROUNDS, seed);
	(void)fflush(stdout);
	s = seed;
	for (i = 0; i < ROUNDS; i++) {
		int64_t span = i % 2 == 0 ? NEAR_DAYS : WIDE_DAYS;
		int64_t days = (int64_t)(next_rand(&s) % (uint64_t)(2 * span)) - span;
		int64_t t = days * CAL_SECS_PER_DAY + (int64_t)(next_rand(&s) % CAL_SECS_PER_DAY);
		time_t tt = (time_t)t, back;
		struct tm want, got, last;
		unsigned secs, m, d, len;
		int64_t y;

		ck_assert_ptr_nonnull(gmtime_r(&tt, &want));
		cal_tm(t, &got);
		if (got.tm_year != want.tm_year || got.tm_mon != want.tm_mon ||
		    got.tm_mday != want.tm_mday || got.tm_hour != want.tm_hour ||
		    got.tm_min != want.tm_min || got.tm_sec != want.tm_sec ||
		    got.tm_wday != want.tm_wday || got.tm_yday != want.tm_yday)
			ck_abort_msg("seed %" PRIu64 " round %ld: t %" PRId64 ": cal_tm %d-%02d-%02d "
			    "%02d:%02d:%02d wday %d yday %d, gmtime_r %d-%02d-%02d %02d:%02d:%02d "
			    "wday %d yday %d", seed, i, t, got.tm_year + 1900, got.tm_mon + 1,
			    got.tm_mday, got.tm_hour, got.tm_min, got.tm_sec, got.tm_wday, got.tm_yday,
			    want.tm_year + 1900, want.tm_mon + 1, want.tm_mday, want.tm_hour,
			    want.tm_min, want.tm_sec, want.tm_wday, want.tm_yday);
		ck_assert_int_eq(cal_split(t, &secs), days);
		cal_civil_from_days(days, &y, &m, &d);
		ck_assert_int_eq(y, (int64_t)want.tm_year + 1900);
		ck_assert_uint_eq(m, (unsigned)want.tm_mon + 1);
		ck_assert_uint_eq(d, (unsigned)want.tm_mday);
		ck_assert_uint_eq(cal_weekday(days), (unsigned)want.tm_wday);
		ck_assert_msg(cal_days_from_civil(y, m, d) == days, "seed %" PRIu64 " round %ld: "
		    "days %" PRId64 " back to %" PRId64, seed, i, days, cal_days_from_civil(y, m, d));
		/* timegm takes cal_tm's fields back to the same instant. */
		back = timegm(&got);
		ck_assert_msg(back == tt, "seed %" PRIu64 " round %ld: timegm(cal_tm(%" PRId64 ")) = %"
		    PRId64, seed, i, t, (int64_t)back);
		/* The month's last day by cal_month_days is gmtime_r's, and the next is the 1st. */
		len = cal_month_days(y, m);
		tt = (time_t)((days - d + len) * CAL_SECS_PER_DAY);
		ck_assert_ptr_nonnull(gmtime_r(&tt, &last));
		ck_assert_msg(last.tm_mon == want.tm_mon && (unsigned)last.tm_mday == len,
		    "seed %" PRIu64 " round %ld: %" PRId64 "-%02u has %u days by cal_month_days",
		    seed, i, y, m, len);
		tt += CAL_SECS_PER_DAY;
		ck_assert_ptr_nonnull(gmtime_r(&tt, &last));
		ck_assert_int_eq(last.tm_mday, 1);
		ck_assert(cal_is_leap(y) == (m == 2 ? len == 29 : cal_month_days(y, 2) == 29));
	}
}
END_TEST

/* The normalisation timegm does, for a date past its month's end, is cal_days_from_civil's. */
START_TEST(test_past_month_end_vs_timegm)
{
	static const int dates[][3] = {
		{ 2026, 2, 29 }, { 2026, 2, 31 }, { 2024, 2, 30 }, { 2026, 4, 31 }, { 1900, 2, 29 },
		{ 2000, 2, 30 }, { 2026, 12, 31 }, { 1969, 12, 31 },
	};
	size_t i;

	for (i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
		struct tm tm;

		memset(&tm, 0, sizeof(tm));
		tm.tm_year = dates[i][0] - 1900;
		tm.tm_mon = dates[i][1] - 1;
		tm.tm_mday = dates[i][2];
		ck_assert_int_eq((int64_t)timegm(&tm),
		    cal_days_from_civil(dates[i][0], (unsigned)dates[i][1], (unsigned)dates[i][2]) *
		    CAL_SECS_PER_DAY);
	}
}
END_TEST

Suite *
calendar_suite(void)
{
	Suite *s = suite_create("calendar");
	TCase *tc = tcase_create("calendar");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_fixed_dates);
	tcase_add_test(tc, test_floor_div_and_split);
	tcase_add_test(tc, test_every_day);
	tcase_add_test(tc, test_random_vs_glibc);
	tcase_add_test(tc, test_past_month_end_vs_timegm);
	suite_add_tcase(s, tc);
	return s;
}
