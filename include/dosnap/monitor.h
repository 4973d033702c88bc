/* monitor: how healthy each schedule entry's backups are, from the schedule, the state and the journal alone. */
#ifndef DOSNAP_MONITOR_H
#define DOSNAP_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct journal_record;
struct sched_entry;
struct schedule;
struct state;

/* The plugin exit codes of Nagios and everything that speaks its language. */
enum monitor_level {
	MONITOR_OK = 0,
	MONITOR_WARNING = 1,
	MONITOR_CRITICAL = 2,
	MONITOR_UNKNOWN = 3,
};

#define MONITOR_DEFAULT_GRACE_S		3600
#define MONITOR_LEFT_OFF_S		300	/* a record no running dosnap holds */
#define MONITOR_HUNG_S			(6 * 3600)	/* a record a running dosnap holds */
#define MONITOR_MAX_MISSED		1000	/* counted at most */

struct monitor_config {
	int64_t now;
	int64_t grace;		/* 0: MONITOR_DEFAULT_GRACE_S; never under an entry's timeout= */
	int64_t warn_after;	/* > 0: WARNING past this age of the last success, for every entry */
	int64_t crit_after;	/* > 0: CRITICAL past this age */
	bool journal_held;	/* a running dosnap holds the journal: its records may be live */
	bool clock_known;	/* a run saw the API's time: clock_offset holds it */
	int64_t clock_offset;	/* local minus API, seconds, as last seen (state_clock_load) */
};

/* One entry's verdict. */
struct monitor_entry {
	const struct sched_entry *entry;	/* borrowed */
	enum monitor_level level;
	int64_t last_ok;	/* the last slot that fully succeeded; 0: none known */
	int64_t age;		/* now - last_ok; -1 when there is none */
	unsigned missed;	/* fire times older than the grace since last_ok */
};

/* A droplet an interrupted run left off, as the journal says. */
struct monitor_left_off {
	const struct journal_record *rec;	/* borrowed */
	int64_t age;				/* since the record was last written */
};

struct monitor_report {
	enum monitor_level level;	/* the worst of all */
	struct monitor_entry *entries;	/* one per distinct schedule entry, in order */
	size_t n_entries;
	struct monitor_left_off *left_off;
	size_t n_left_off;
	bool clock_off;		/* the local clock is off from the API's by over STATE_CLOCK_WARN_S */
};

/*
 * Judge each entry of S against the state ST and the journal's RECS (N_RECS
 * records; may be NULL) at cfg->now.  For an entry with grace g (cfg->grace,
 * at least its timeout=): WARNING when its latest fire time older than g
 * has no success at or after it, CRITICAL when its two latest such fire
 * times have none.  Fire times before the state first saw the entry do not
 * count.  With warn_after/crit_after, the age of the last success against
 * those instead.  A journal record older than MONITOR_LEFT_OFF_S (or
 * MONITOR_HUNG_S while a dosnap holds the journal) is CRITICAL: a droplet
 * left powered off.  So is a local clock that the last run found off from
 * the API's by more than STATE_CLOCK_WARN_S (cfg->clock_offset), since
 * the schedule and retention then act at the wrong times.  Fills *ret (release with monitor_report_release).
 * -ENOMEM, or sched_next's errors.
 */
int	monitor_check(const struct schedule *s, const struct state *st,
	    const struct journal_record *recs, size_t n_recs, const struct monitor_config *cfg,
	    struct monitor_report *ret);

void	monitor_report_release(struct monitor_report *rep);

/* "OK", "WARNING", "CRITICAL", "UNKNOWN". */
const char *monitor_level_name(enum monitor_level level);

#endif
