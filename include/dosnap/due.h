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
 * Record in ST that entry E was handled through NOW (and, when SLOT is not
 * 0, that SLOT ran with RESULT).  -ENOMEM.
 */
int	due_mark(struct state *st, const struct sched_entry *e, int64_t now,
	    int64_t slot, int result);

#endif
