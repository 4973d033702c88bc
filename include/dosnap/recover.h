/* recover: finish what a dosnap that died left open in the intent journal. */
#ifndef DOSNAP_RECOVER_H
#define DOSNAP_RECOVER_H

#include <stdbool.h>
#include <stddef.h>

#include "dosnap/journal.h"

struct api_client;

enum recover_outcome {
	RECOVER_RESTORED,	/* it was off; power_on brought it back */
	RECOVER_ALREADY,	/* it was already in its state before */
	RECOVER_WAITING,	/* a snapshot is still in progress: powered on by a later run */
	RECOVER_GONE,		/* the droplet no longer exists */
	RECOVER_FAILED,		/* could not tell or could not power it on; kept */
	RECOVER_PLANNED,	/* dry run: MESSAGE says what would be done */
};

struct recover_result {
	struct journal_record rec;
	enum recover_outcome outcome;
	bool transient;		/* a failure that may pass */
	char message[512];	/* what was found and done, for the log */
};

struct recover_config {
	double time_scale;	/* multiplies waits; 0: 1 */
	long power_timeout_s;	/* how long to wait for power_on; 0: 300 */
	bool dry_run;		/* look, say what would be done, change nothing */
};

/*
 * For each of the N records in RECS: look at the droplet (and its snapshot
 * action), and unless a snapshot is still in progress, power it on when it
 * was active before and is not now.  Records whose droplet is back (or
 * gone) are removed from J (J may be NULL in a dry run).  *ret gets a
 * malloc'd array of N results (free()).  Returns 0, or a negative errno
 * when it could not run at all.
 */
int	recover_run(struct api_client *c, struct journal *j, const struct recover_config *cfg,
	    const struct journal_record *recs, size_t n, struct recover_result **ret);

/* A word for an outcome: "restored", "waiting", ... */
const char *recover_outcome_name(enum recover_outcome o);

#endif
