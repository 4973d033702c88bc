/* calendar: civil dates on the proleptic Gregorian calendar: day numbers, months, weekdays (pure). */
#include <string.h>
#include <time.h>

#include "dosnap/calendar.h"

int64_t
cal_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

bool
cal_is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned
cal_month_days(int64_t y, unsigned m)
{
	static const unsigned char len[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && cal_is_leap(y))
		return 29;
	return len[m - 1];
}

int64_t
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

void
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

unsigned
cal_weekday(int64_t days)
{
	/* 1970-01-01, day 0, was a Thursday. */
	return (unsigned)((days % 7 + 11) % 7);
}

int64_t
cal_split(int64_t t, unsigned *ret_secs)
{
	int64_t days = cal_floor_div(t, CAL_SECS_PER_DAY);

	*ret_secs = (unsigned)(t - days * CAL_SECS_PER_DAY);
	return days;
}

void
cal_tm(int64_t t, struct tm *ret)
{
	int64_t days, y;
	unsigned secs, m, d;

	days = cal_split(t, &secs);
	cal_civil_from_days(days, &y, &m, &d);
	memset(ret, 0, sizeof(*ret));
	ret->tm_year = (int)(y - 1900);
	ret->tm_mon = (int)m - 1;
	ret->tm_mday = (int)d;
	ret->tm_hour = (int)(secs / 3600);
	ret->tm_min = (int)(secs / 60 % 60);
	ret->tm_sec = (int)(secs % 60);
	ret->tm_wday = (int)cal_weekday(days);
	ret->tm_yday = (int)(days - cal_days_from_civil(y, 1, 1));
}
