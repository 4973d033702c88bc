/* calendar: civil dates on the proleptic Gregorian calendar: day numbers, months, weekdays (pure). */
#include <string.h>
#include <time.h>

#include "dosnap/calendar.h"

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
