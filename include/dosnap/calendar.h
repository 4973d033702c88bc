/* calendar: civil dates on the proleptic Gregorian calendar: day numbers, months, weekdays (pure). */
#ifndef DOSNAP_CALENDAR_H
#define DOSNAP_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>

struct tm;

/*
 * The small functions are inline: the schedule and the zones call them for
 * every entry of every run, the 1,440 a day that find nothing due included.
 */

#define CAL_SECS_PER_DAY	86400

/*
 * A day number is the count of days since 1970-01-01 (day 0), negative
 * before it.  Years are astronomical: year 0 is 1 BC, and a leap year.
 * Nothing here reads a clock, a zone or the environment.
 */

/* A / B rounded toward minus infinity (C's division rounds toward zero).  B > 0. */
static inline int64_t
cal_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* Whether Y is a leap year: divisible by 4, and not by 100 unless by 400. */
static inline bool
cal_is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* The days of month M (1..12) in year Y: 28 to 31. */
static inline unsigned
cal_month_days(int64_t y, unsigned m)
{
	static const unsigned char len[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && cal_is_leap(y))
		return 29;
	return len[m - 1];
}

/*
 * The day number of Y-M-D, M in 1..12 and D in 1..31 (Howard Hinnant's
 * days_from_civil).  A D past the month's end counts on into the next month.
 */
static inline int64_t
cal_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	/* March-based years put the leap day last, so months have fixed offsets. */
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (int64_t)(m > 2 ? m - 3 : m + 9) + 2) / 5 + (int64_t)d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The date of day number DAYS into *ret_y, *ret_m (1..12) and *ret_d (1..31). */
static inline void
cal_civil_from_days(int64_t days, int64_t *ret_y, unsigned *ret_m, unsigned *ret_d)
{
	int64_t z, era, doe, yoe, doy, mp;
	unsigned m;

	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*ret_d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*ret_m = m;
	*ret_y = yoe + era * 400 + (m <= 2);
}

/* The weekday of day number DAYS: 0 Sunday .. 6 Saturday (day 0 was a Thursday). */
static inline unsigned
cal_weekday(int64_t days)
{
	/* 1970-01-01, day 0, was a Thursday. */
	return (unsigned)((days % 7 + 11) % 7);
}

/* Split T seconds into its day number (returned) and the second of that day, 0..86399. */
static inline int64_t
cal_split(int64_t t, unsigned *ret_secs)
{
	int64_t days = cal_floor_div(t, CAL_SECS_PER_DAY);

	*ret_secs = (unsigned)(t - days * CAL_SECS_PER_DAY);
	return days;
}

/*
 * T seconds since 1970-01-01T00:00:00 broken down into *ret as gmtime_r
 * would (every field, tm_wday and tm_yday too; tm_isdst 0), for any T
 * whose year fits an int, without going through time_t.
 */
void	cal_tm(int64_t t, struct tm *ret);

#endif
