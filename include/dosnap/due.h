/* due: which schedule entries are due now, given what the state file remembers. */
#ifndef DOSNAP_DUE_H
#define DOSNAP_DUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct schedule;
struct sched_entry;
struct state;

/* One entry that is due, and the slot (fire time) it runs for. */
struct due_item {
	const struct sched_entry *entry;	/* borrowed from the schedule */
	int64_t slot;				/* Unix seconds, a whole minute */
	bool retry;				/* a retry within the slot of the droplets
						   that failed for a passing reason */
};

/*
 * The rule: an entry is due at NOW when one of its fire times t satisfies
 * last < t <= NOW and t >= floor_minute(NOW) - catchup, where last is the
 * time through which the state says the entry was handled.  Several missed
 * fire times coalesce into one run for the latest, which is the slot.  An
 * entry the state does not know (a first run, or an entry whose text
 * changed) counts only the current minute: there is no backfill.  A slot
 * never fires twice: t must also lie after the entry's last slot.
 *
 * An entry with no fire time due whose last slot left droplets failed for
 * a passing reason is due again for that slot, as a retry, once the
 * earliest retry time has come and while the slot's window lasts (see
 * retry_due).
 *
 * Compute the due entries of S at NOW against ST (not modified).  When the
 * clock went backwards (NOW before ST's last run) nothing is due and
 * *ret_clock_back is set.  Entries with the same id (identical lines in
 * one zone) are one entry.  On success *ret is a malloc'd array (free()
 * it; NULL when empty) of *ret_n items in schedule order.
 */
int	due_compute(const struct schedule *s, const struct state *st, int64_t now,
	    struct due_item **ret, size_t *ret_n, bool *ret_clock_back);

/*
 * The slot for entry E at NOW, as due_compute decides it, given the time
 * through which it was handled (CHECKED, or -1 when unknown) and its last
 * slot.  Returns 1 and sets *ret_slot when due, 0 when not, negative errno
 * on failure.
 */
int	due_entry(const struct sched_entry *e, int64_t checked, int64_t last_slot,
	    int64_t now, int64_t *ret_slot);

/*
 * A saved time ahead of now by more than the catch-up window is damage (a
 * clock that was far ahead for one run, a wrong --now), not a clock that
 * went back: waiting for it would stop backups until that date.  The window
 * is the entry's catchup= but never under DUE_FUTURE_MIN_S, so that an NTP
 * step back is still waited out (a slot never runs twice); for the state's
 * last run it is the largest of the schedule's windows (24 h for an empty
 * schedule).
 */
#define DUE_FUTURE_MIN_S	3600

/* One time due_forget_future forgot. */
struct due_future {
	const struct sched_entry *entry;	/* borrowed; NULL: the state's last run */
	int64_t saved;				/* the time it said, ahead of now */
	int64_t window;				/* the window it was beyond, seconds */
};

/*
 * Forget in ST the damage described above, so that due_compute then treats
 * each such entry as on a first run (only the current minute counts; its
 * last slot is kept unless that too is beyond the window) and does not take
 * the last run for a clock that went back.  When the last run is ahead of
 * NOW but within the window, the clock went back: nothing is forgotten and
 * due_compute says so.  On success *ret is a malloc'd array (free(); NULL
 * when empty) of the *ret_n times forgotten, for the caller to report, and
 * ST needs writing when *ret_n > 0.  -ENOMEM.
 */
int	due_forget_future(const struct schedule *s, struct state *st, int64_t now,
	    struct due_future **ret, size_t *ret_n);

/*
 * Record in ST that entry E was handled through NOW (and, when SLOT is not
 * 0, that SLOT ran with RESULT, and succeeded when RESULT is 0).  -ENOMEM.
 */
int	due_mark(struct state *st, const struct sched_entry *e, int64_t now,
	    int64_t slot, int result);

#endif
