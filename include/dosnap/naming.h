/* naming: snapshot names from templates, matching names to templates, and what retention deletes. */
#ifndef DOSNAP_NAMING_H
#define DOSNAP_NAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tz;

#define NAMING_MAX	256	/* a rendered name, with its NUL */

/*
 * Render TEMPLATE for one droplet (or volume) into BUF of SIZE bytes:
 * "{id}" is ID, "{name}" is NAME, "{slot}" the slot time in UTC as
 * "20261126T0330Z", and strftime "%" sequences the slot time in ZONE.
 * The name rule: a rendered name holds only [A-Za-z0-9._-] and at most
 * NAMING_MAX - 1 (255) characters.  In what comes from outside the template
 * (NAME, ID, strftime results) every other character becomes one '_' (a
 * multi-byte UTF-8 character counts as one), and NAME is cut so that the
 * whole fits.  Returns 0, -ENAMETOOLONG when the name does not fit even
 * without NAME, -EINVAL for a template that is not well formed (including
 * a literal character outside the set).
 */
int	naming_render(const char *tmpl, const char *id, const char *name, int64_t slot,
	    const struct tz *zone, char *buf, size_t size);

/*
 * Whether NAME could have been rendered from TEMPLATE: literal text must
 * match exactly; every placeholder and "%" sequence matches any run of
 * characters.  This is what retention uses to recognise its own snapshots.
 */
bool	naming_match(const char *tmpl, const char *name);

/* One snapshot as retention sees it. */
struct naming_snap {
	const char *name;
	int64_t created_at;	/* 0: unknown (never deleted for age) */
	bool backup;		/* a backup is never deleted */
};

/*
 * Choose what retention deletes among SNAPS (N of them) for TEMPLATE:
 * of those the template matches, that are not backups and not named KEEP_NAME
 * (the snapshot just taken), those beyond the newest KEEP (KEEP - 1 when
 * KEEP_NAME is given: the new snapshot counts; KEEP < 0: no count limit;
 * a snapshot of unknown age is never taken for the oldest) and those created more than
 * MAX_AGE seconds before NOW (MAX_AGE < 0: no age limit).  Marks them in
 * DELETE (N bools, set by the caller to false) and returns how many.
 */
size_t	naming_retention(const struct naming_snap *snaps, size_t n, const char *tmpl,
	    const char *keep_name, int keep, int64_t max_age, int64_t now, bool *del);

#endif
