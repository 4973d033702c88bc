/* retention: which snapshots to keep and which to delete (pure: no API calls, no I/O). */
#ifndef DOSNAP_RETENTION_H
#define DOSNAP_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct api_snapshot;

/* An entry's retention options, and the time they are measured at. */
struct retention_rule {
	const char *tmpl;	/* the entry's name template: only what it matches is pruned */
	int keep;		/* the newest to keep; < 0: no count limit */
	int64_t max_age;	/* seconds; < 0: no age limit */
	int64_t now;		/* Unix seconds by the API's clock (the Date of the listing) */
};

/*
 * Choose what to delete among the N snapshots SNAPS of one droplet or one
 * volume under RULE: of those RULE's template matches, the ones beyond the
 * newest `keep` and those older than `max_age` (naming_retention decides).
 * A backup is never deleted; KEEP_NAME (NULL: none), the snapshot just
 * taken, is never deleted and counts among those kept.
 *
 * On success *RET_DEL is a malloc'd array of N bools, true for each snapshot
 * to delete, which the caller frees (NULL when N is 0), and the return is
 * how many were chosen.  Out of memory: -ENOMEM, *RET_DEL untouched.
 */
int	retention_plan(const struct api_snapshot *snaps, size_t n, const struct retention_rule *rule,
	    const char *keep_name, bool **ret_del);

#endif
