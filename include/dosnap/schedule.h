/* schedule: the crontab-style schedule file: parsing, matching and next fire times. */
#ifndef DOSNAP_SCHEDULE_H
#define DOSNAP_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tz;

/* Limits on what a user controls.  Going past one is a parse error. */
#define SCHED_MAX_FILE_SIZE	(1024 * 1024)	/* bytes */
#define SCHED_MAX_LINE		4096		/* bytes, without the newline */
#define SCHED_MAX_ENTRIES	10000
#define SCHED_MAX_TARGETS	1000		/* per entry */
#define SCHED_MAX_DIAGS		100		/* further errors are counted only */
#define SCHED_MAX_ZONES		1000		/* distinct CRON_TZ zones in one file */

enum sched_target_kind {
	SCHED_TARGET_ID,	/* 123456 */
	SCHED_TARGET_TAG,	/* tag:web */
	SCHED_TARGET_NAME,	/* name:db-primary */
};

struct sched_target {
	enum sched_target_kind kind;
	uint64_t id;		/* SCHED_TARGET_ID only */
	char *value;		/* tag or droplet name; the digits for an id */
};

enum sched_power {
	SCHED_POWER_OFF,	/* power off for a consistent snapshot (default) */
	SCHED_POWER_LIVE,	/* snapshot the running droplet */
};

/* Entry options.  Durations are in seconds. */
struct sched_opts {
	int keep;			/* -1: not set */
	int64_t max_age;		/* -1: not set */
	enum sched_power power;		/* SCHED_POWER_OFF */
	int64_t shutdown_timeout;	/* 120 */
	int64_t timeout;		/* 7200 */
	char *name_template;		/* NULL: "dosnap-{name}-{slot}" */
	int64_t catchup;		/* 86400; 0: only the current minute */
	bool volumes;			/* false */
	char *notify;			/* NULL: no pings; else a healthchecks-style URL */
};

#define SCHED_DEFAULT_NAME	"dosnap-{name}-{slot}"

struct sched_entry {
	unsigned line;			/* 1-based line in the file */
	char *text;			/* the line, trimmed; owned */
	/* Bit sets of the matching values. */
	uint64_t minutes;		/* bit 0..59 */
	uint32_t hours;			/* bit 0..23 */
	uint32_t mdays;			/* bit 1..31 */
	uint16_t months;		/* bit 1..12 */
	uint8_t wdays;			/* bit 0..6, 0 = Sunday (7 folded into 0) */
	bool mday_star;			/* day-of-month field began with '*' */
	bool wday_star;			/* day-of-week field began with '*' */
	bool fixed_time;		/* neither minute nor hour began with '*' */
	const struct tz *zone;		/* borrowed from the schedule */
	struct sched_target *targets;
	size_t n_targets;
	struct sched_opts opts;
	/*
	 * Identity for the state file: a 64-bit FNV-1a hash of the zone name
	 * and the entry's text with white space runs folded to one space.
	 * Editing other lines, or moving the entry, keeps it.
	 */
	uint64_t id;
};

struct schedule {
	struct sched_entry *entries;
	size_t n_entries;
	struct tz **zones;		/* owned; entries point into these */
	size_t n_zones, cap_zones;
};

/* One problem found in a schedule file, as a compiler reports it. */
struct sched_diag {
	unsigned line;			/* 1-based; 0 for the whole file */
	unsigned col;			/* 1-based byte column; 0 for none */
	char *message;			/* "unknown day-of-week name 'friday'" */
	char *hint;			/* "did you mean 'fri'?", or NULL */
	char *line_text;		/* the offending line, or NULL */
	bool warning;			/* a warning: the schedule is still used */
};

struct sched_diags {
	struct sched_diag *items;	/* errors and warnings, in the order found */
	size_t n;			/* kept, at most SCHED_MAX_DIAGS */
	size_t cap;			/* room in items */
	size_t n_total;			/* errors found, including dropped ones */
	size_t n_warnings;		/* warnings found, including dropped ones */
};

/*
 * Parse schedule TEXT of LEN bytes (need not be NUL-terminated).  Every
 * problem is appended to *diags (which the caller initialised to zeros and
 * releases with sched_diags_release, on success too), not only the first,
 * and every one in a line.  A UTF-8 byte order mark at the start is
 * skipped.  On success (no
 * errors) *ret owns the schedule and 0 is returned; *diags may then hold
 * warnings (an entry repeated word for word).  With any error, returns
 * -EINVAL and leaves *ret untouched.  -ENOMEM on allocation failure.
 */
int	schedule_parse(const char *text, size_t len, struct schedule **ret,
	    struct sched_diags *diags);

/*
 * Read and parse the file at PATH (at most SCHED_MAX_FILE_SIZE bytes).
 * As schedule_parse; a file that cannot be read returns its negative errno
 * (-ENOENT, -EACCES, -EFBIG, ...) with no diagnostic.
 */
int	schedule_load(const char *path, struct schedule **ret,
	    struct sched_diags *diags);

/*
 * Which entries repeat an earlier one (the same line twice in one zone:
 * the same id, so one line of state): for each entry the index of the
 * first with its id, its own index when it is the first.  On success *ret
 * is a malloc'd array of s->n_entries indexes (free() it).  -ENOMEM.
 */
int	sched_first_of(const struct schedule *s, size_t **ret);

/* Free a schedule.  NULL does nothing. */
void	schedule_free(struct schedule *s);

/* Release the diagnostics' contents and zero the struct. */
void	sched_diags_release(struct sched_diags *d);

/*
 * Parse a lone time expression ("*\/5 * * * *", "@daily") in zone Z
 * (borrowed; it must outlive the entry) into *ret, which the caller frees
 * with sched_entry_release.  Diagnostics as schedule_parse, with line 1.
 */
int	sched_expr_parse(const char *expr, const struct tz *z,
	    struct sched_entry *ret, struct sched_diags *diags);

/* Release what an entry owns (text, targets, options).  NULL does nothing. */
void	sched_entry_release(struct sched_entry *e);

/* Whether the entry's fields match the civil time given (wday 0 = Sunday). */
bool	sched_matches(const struct sched_entry *e, unsigned month, unsigned mday,
	    unsigned wday, unsigned hour, unsigned minute);

/*
 * The entry's first fire time strictly after AFTER (Unix seconds), with
 * the daylight-saving rules of cronie in the entry's zone: when clocks
 * jump forward a fixed-time entry whose time falls in the gap fires once
 * at the first instant after it and a wildcard entry's times in the gap
 * are skipped; when clocks fall back a fixed-time entry fires once (first
 * pass) and a wildcard entry in both passes.  As to cronie, a jump forward
 * of 3 hours or more, or back by more than 3 hours, is the clock being set,
 * not daylight saving time: no entry fires for the skipped times, and both
 * kinds fire in both passes.  On success store it in *ret and return 0;
 * -ENOENT when the entry never fires (looks ahead 30 years).
 */
int	sched_next(const struct sched_entry *e, int64_t after, int64_t *ret);

/* Parse a duration ("90s", "5m", "2h", "7d", "0") into seconds; -EINVAL if bad. */
int	sched_parse_duration(const char *s, int64_t *ret);

#endif
