/* calendar: civil dates on the proleptic Gregorian calendar: day numbers, months, weekdays (pure). */
#ifndef DOSNAP_CALENDAR_H
#define DOSNAP_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>

struct tm;

#define CAL_SECS_PER_DAY	86400

/*
 * A day number is the count of days since 1970-01-01 (day 0), negative
 * before it.  Years are astronomical: year 0 is 1 BC, and a leap year.
 * Nothing here reads a clock, a zone or the environment.
 */

/* A / B rounded toward minus infinity (C's division rounds toward zero).  B > 0. */
int64_t	cal_floor_div(int64_t a, int64_t b);

/* Whether Y is a leap year: divisible by 4, and not by 100 unless by 400. */
bool	cal_is_leap(int64_t y);

/* The days of month M (1..12) in year Y: 28 to 31. */
unsigned cal_month_days(int64_t y, unsigned m);

/*
 * The day number of Y-M-D, M in 1..12 and D in 1..31 (Howard Hinnant's
 * days_from_civil).  A D past the month's end counts on into the next month.
 */
int64_t	cal_days_from_civil(int64_t y, unsigned m, unsigned d);

/* The date of day number DAYS into *ret_y, *ret_m (1..12) and *ret_d (1..31). */
void	cal_civil_from_days(int64_t days, int64_t *ret_y, unsigned *ret_m, unsigned *ret_d);

/* The weekday of day number DAYS: 0 Sunday .. 6 Saturday (day 0 was a Thursday). */
unsigned cal_weekday(int64_t days);

/* Split T seconds into its day number (returned) and the second of that day, 0..86399. */
int64_t	cal_split(int64_t t, unsigned *ret_secs);

/*
 * T seconds since 1970-01-01T00:00:00 broken down into *ret as gmtime_r
 * would (every field, tm_wday and tm_yday too; tm_isdst 0), for any T
 * whose year fits an int, without going through time_t.
 */
void	cal_tm(int64_t t, struct tm *ret);

#endif
