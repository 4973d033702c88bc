/* recover: finish what a dosnap that died left open in the intent journal. */
#ifndef DOSNAP_RECOVER_H
#define DOSNAP_RECOVER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dosnap/journal.h"

struct api_client;

enum recover_outcome {
	RECOVER_RESTORED,	/* it was off; power_on brought it back */
	RECOVER_ALREADY,	/* it was already in its state before */
	RECOVER_WAITING,	/* a snapshot is still in progress (past the wait, or in a
				   dry run): powered on by a later run */
	RECOVER_GONE,		/* the droplet no longer exists */
	RECOVER_FAILED,		/* could not tell or could not power it on; kept */
	RECOVER_PLANNED,	/* dry run: MESSAGE says what would be done */
};

struct recover_result {
	struct journal_record rec;
	enum recover_outcome outcome;
	bool transient;		/* a failure that may pass */
	int64_t action_id;	/* the action in progress, for RECOVER_WAITING */
	int journal_r;		/* < 0: its record could not be removed (why) */
	char message[512];	/* what was found and done, for the log */
};

/* How long recovery waits for a snapshot in progress: three times the default timeout. */
#define RECOVER_SNAPSHOT_WAIT_S	(3 * 7200L)

struct recover_config {
	double time_scale;	/* multiplies waits; 0: 1 */
	long power_timeout_s;	/* how long to wait for power_on; 0: 300 */
	long snapshot_wait_s;	/* for an action in progress; 0: RECOVER_SNAPSHOT_WAIT_S */
	bool dry_run;		/* look, say what would be done, change nothing */
	volatile sig_atomic_t *stop;	/* non-zero: stop waiting at once (NULL: never) */
	/* Called when a record starts waiting for an action in progress (may be NULL). */
	void (*waiting)(const struct recover_result *res, long limit_s, void *userdata);
	void *userdata;
};

/*
 * For each of the N records in RECS: look at the droplet (and its actions)
 * and power it on when it was active before and is not now.  When an action
 * is still in progress (the dead run's snapshot, during which the droplet
 * cannot be powered on), wait for it to end, polling with backoff (2 s
 * growing to 30 s, times time_scale) up to snapshot_wait_s, then power it
 * on; then wait up to power_timeout_s for it to be active.  Each deadline is
 * on the monotonic clock and holds whatever the polls answer; *cfg->stop
 * ends every wait at once (the records stay for the next run).  A dry run
 * never waits.  Before waiting, J's lock is shared (journal_share), so that
 * other runs may start meanwhile: they leave these records to this one.
 *
 * Records whose droplet is back (or gone) are removed from J (J may be NULL
 * in a dry run); a removal that fails is in the result's journal_r.  *ret
 * gets a malloc'd array of N results (free()).  Returns 0, or -ENOMEM when
 * it could not run at all.
 */
int	recover_run(struct api_client *c, struct journal *j, const struct recover_config *cfg,
	    const struct journal_record *recs, size_t n, struct recover_result **ret);

/* A word for an outcome: "restored", "waiting", ... */
const char *recover_outcome_name(enum recover_outcome o);

#endif
