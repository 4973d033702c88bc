/* tz: time zones from the system's TZif files, and RFC 3339 times, without touching $TZ. */
#ifndef DOSNAP_TZ_H
#define DOSNAP_TZ_H

#include <stddef.h>
#include <stdint.h>


/*
 * A loaded zone: its transitions (from the TZif file, extended with the
 * file's POSIX TZ footer rule to the year 2200) and its name.  Immutable
 * once loaded, so one zone may be shared by many schedule entries.
 */
struct tz;

/*
 * The most transitions a zone may have, its file's and its rule's up to
 * 2200 together: tzdata's zones have under 1,000.  A file with more is
 * refused as corrupt (-EBADMSG).
 */
#define TZ_MAX_TRANSITIONS	20000

/*
 * One stretch of time with a constant UTC offset: [start, end) in Unix
 * seconds, with INT64_MIN / INT64_MAX for open ends.  prev_offset is the
 * offset in force just before start (equal to offset when start is open).
 * Offsets are in seconds east of UTC.
 */
struct tz_segment {
	int64_t start;
	int64_t end;
	int32_t offset;
	int32_t prev_offset;
};

/*
 * Load zone NAME ("Europe/Berlin", "UTC") from $TZDIR or
 * /usr/share/zoneinfo.  NAME NULL means the system's local zone: $TZ when
 * set (a name, or ":name"), else /etc/localtime, else UTC.  Names with
 * "..", a leading "/" or characters outside [A-Za-z0-9/_+-] are refused.
 * On success *ret owns the zone (free with tz_free).  Returns -ENOENT for an
 * unknown zone, -EINVAL for a bad name, -EBADMSG for a file that is not
 * TZif, -ENOMEM.
 */
int	tz_load(const char *name, struct tz **ret);

/*
 * The zone name nearest to NAME, which tz_load did not find, for a "did
 * you mean" ("utc" -> "UTC", "Europe/Berln" -> "Europe/Berlin", "tokyo"
 * -> "Asia/Tokyo"), from the zone directory ($TZDIR or
 * /usr/share/zoneinfo; the walk is bounded).  On success write it to BUF
 * (cut to SIZE) and return 0; -ENOENT when no name is near.
 */
int	tz_suggest(const char *name, char *buf, size_t size);

/* Free a zone.  NULL does nothing. */
void	tz_free(struct tz *z);

/* The zone's name as loaded ("UTC", "Europe/Berlin", "localtime"). Borrowed. */
const char *tz_name(const struct tz *z);

/* The stretch of constant offset that contains instant T.  Never fails. */
void	tz_segment_at(const struct tz *z, int64_t t, struct tz_segment *ret);

/* The UTC offset, in seconds, in force at instant T. */
int32_t	tz_offset_at(const struct tz *z, int64_t t);

/*
 * Format T as RFC 3339 with the zone's offset, "2026-03-29T03:00:00+02:00"
 * ("Z" is never used, so the offset is always explicit).  BUF must hold
 * TZ_RFC3339_MAX bytes.  Returns BUF.
 */
#define TZ_RFC3339_MAX 32
char	*tz_format_rfc3339(const struct tz *z, int64_t t, char *buf);

/*
 * Parse an RFC 3339 time ("2026-11-26T03:30:00Z", "...+01:00", fractional
 * seconds dropped; a space may stand for "T").  On success store Unix
 * seconds in *ret and return 0; -EINVAL otherwise.
 */
int	tz_parse_rfc3339(const char *s, int64_t *ret);

#endif
