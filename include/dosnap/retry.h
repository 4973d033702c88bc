/* retry: when a droplet that failed for a passing reason is tried again within its slot. */
#ifndef DOSNAP_RETRY_H
#define DOSNAP_RETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct flow_job;
struct flow_report;
struct sched_entry;
struct state;
struct state_entry;

/*
 * The backoff: 1, 2, 4, 8, 16 and 32 minutes after the first six failed
 * attempts of a slot, then every hour.  Seconds after failed attempt
 * ATTEMPTS (1-based).
 */
#define RETRY_MAX_DELAY_S	3600
int64_t	retry_delay(int attempts);

/*
 * When to try again after failed attempt ATTEMPTS ended at FAILED_AT: the
 * delay from the start of that minute, so that a timer firing on the minute
 * finds it due about a delay later, not a minute after that.
 */
int64_t	retry_at(int64_t failed_at, int attempts);

/*
 * The end of SLOT's retry window for entry E: the entry's next fire time,
 * or the end of its catch-up window (catchup= after the slot's minute),
 * whichever comes first.  A retry runs at a time t with t < *ret_end.
 */
int	retry_window_end(const struct sched_entry *e, int64_t slot, int64_t *ret_end);

/*
 * The earliest retry pending for SE's last slot (droplets whose last
 * attempt in that slot failed for a passing reason).  Returns 1 with
 * *ret_at set, or 0 when none is pending.  Does not look at the window.
 */
int	retry_pending(const struct state_entry *se, int64_t *ret_at);

/*
 * Whether entry E, which the state remembers as SE (may be NULL), has a
 * retry due at NOW within its window.  Returns 1 with *ret_slot (SE's
 * slot), 0 when not, or a negative errno from sched_next.
 */
int	retry_due(const struct sched_entry *e, const struct state_entry *se, int64_t now,
	    int64_t *ret_slot);

/* What retry_note decided, for the run to say. */
struct retry_summary {
	size_t n_passing;	/* droplets (or whole entries) to be retried */
	size_t n_lasting;	/* failed for a lasting reason: left to the next slot */
	int64_t first_at;	/* the earliest retry; 0 when none */
	int max_attempts;	/* the largest attempt count among the passing */
};

/*
 * Record in ST, under JOB's entry, the outcome of each of JOB's droplets in
 * REP: ok, passing (retried at retry_at) or lasting (not retried in the
 * slot); the counters taken and deleted; the last attempt at ENDED.  RETRIED
 * (N_RETRIED ids, may be NULL) are the droplets this attempt was a retry
 * of: one the report does not name (gone from the account) ends as the
 * report's unresolved target did, or lasting.  Fills *ret when not NULL.
 * -ENOMEM.
 */
int	retry_note(struct state *st, const struct flow_job *job, const struct flow_report *rep,
	    const int64_t *retried, size_t n_retried, int64_t ended,
	    struct retry_summary *ret);

/* Whether a droplet of SE's last slot still ends in failure (lasting or passing). */
bool	retry_slot_failed(const struct state_entry *se);

/*
 * The droplets of SE's last slot that a retry should try now: those whose
 * passing failure's retry time is at or before NOW.  *ret is a malloc'd
 * array (free(); NULL when empty) of *ret_n ids; an id 0 among them means
 * the entry's targets as a whole (they could not be resolved).  -ENOMEM.
 */
int	retry_targets(const struct state_entry *se, int64_t now, int64_t **ret, size_t *ret_n);

#endif
