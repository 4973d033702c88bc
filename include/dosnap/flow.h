/* flow: the snapshot flow for many droplets at once on one event loop: power off, snapshot, power on, prune. */
#ifndef DOSNAP_FLOW_H
#define DOSNAP_FLOW_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dosnap/api.h"

struct sched_entry;

/* One thing to do: an entry (its targets and options) for one slot. */
struct flow_job {
	const struct sched_entry *entry;	/* borrowed; targets, opts, zone */
	int64_t slot;				/* Unix seconds; names the snapshots */
	bool all_droplets;			/* every droplet, not the entry's targets */
};

enum flow_level {
	FLOW_INFO,	/* a step: "shutdown sent", "off after 2.1 s" */
	FLOW_NOTICE,	/* an outcome worth a line at the default verbosity */
	FLOW_WARN,	/* a fallback or retry: "still active after 2m; sending power_off" */
	FLOW_ERROR,	/* a failure */
};

/* What the flow tells its caller as it goes; the caller logs it. */
struct flow_event {
	enum flow_level level;
	int64_t droplet_id;		/* 0 when it concerns no one droplet */
	const char *droplet_name;	/* "" when unknown */
	const char *message;		/* "snapshot 'x' completed in 5.0 s" */
	double elapsed_s;		/* since this droplet's flow began */
	bool dry_run;			/* a request that would have been sent */
};

typedef void (*flow_event_fn)(const struct flow_event *ev, void *userdata);

/* Where the droplets are, for a live progress view. */
struct flow_progress {
	size_t total, done, failed, waiting;	/* waiting: not started yet */
	size_t looking, powering_off, snapshotting, powering_on, pruning;
	double elapsed_s;
};

typedef void (*flow_progress_fn)(const struct flow_progress *p, void *userdata);

/*
 * The durable record hooks (the intent journal).  INTENT runs before the
 * flow first powers a droplet off and must return 0 for it to go on (a
 * negative errno stops the flow before anything changed); PROGRESS runs as
 * actions start (snapshot action id known); DONE runs once the droplet is
 * back in its state before.  All may be NULL.
 */
struct flow_record {
	int64_t droplet_id;
	const char *droplet_name;
	bool was_active;		/* its power state before */
	int64_t slot;
	const char *snapshot_name;
	int64_t action_id;		/* the snapshot action, 0 until known */
};

struct flow_hooks {
	int (*intent)(const struct flow_record *rec, void *userdata);
	void (*progress)(const struct flow_record *rec, void *userdata);
	void (*done)(const struct flow_record *rec, void *userdata);
	void *userdata;
	/* Once at the end, when an answer carried the API's Date: local minus API. */
	void (*clock)(int64_t offset_s, void *userdata);
	void *clock_userdata;
};

struct flow_config {
	int jobs;			/* droplet flows at once; 0: 10 */
	bool dry_run;			/* send nothing that changes anything */
	double time_scale;		/* multiplies every wait and timeout; 0: 1 */
	int64_t wall_now;		/* the local clock: Unix seconds now; max-age is
					   measured by the API's Date, this is only compared */
	long power_timeout_s;		/* power_off and power_on waits; 0: 300 */
	flow_event_fn event;
	void *event_userdata;
	flow_progress_fn progress;	/* called about 4 times a second; NULL: none */
	struct flow_hooks hooks;
	/*
	 * Droplets an interrupted run powered off and recovery could not yet
	 * restore (a snapshot still in progress): their state before is
	 * "active" whatever they show now, and their power is restored.
	 */
	const int64_t *was_active_ids;
	size_t n_was_active_ids;
	volatile sig_atomic_t *stop;	/* when it becomes non-zero: start nothing new,
					   bring every droplet back, within stop_timeout_s */
	long stop_timeout_s;		/* 0: 300 */
};

/* The outcome for one droplet (or for a target that matched none). */
struct flow_result {
	const struct flow_job *job;
	int64_t droplet_id;		/* 0: a target that resolved to nothing */
	char droplet_name[128];
	char target[160];		/* the target as written, for unresolved ones */
	enum api_droplet_status before;
	char snapshot_name[256];
	char snapshot_id[64];		/* "" when unknown */
	bool adopted;			/* the slot's snapshot already existed */
	int volumes;			/* volume snapshots taken or adopted */
	int deleted;			/* snapshots pruned */
	double seconds;
	int r;				/* 0, or a negative errno */
	bool transient;			/* the failure may pass (network, 5xx, 429, timeout) */
	bool auth;			/* the token was refused */
	bool left_off;			/* it was active and is not: the loud failure */
	char *error;			/* what failed, with HTTP status and request id;
					   NULL when nothing did (freed with the report) */
};

struct flow_report {
	struct flow_result *results;	/* owned; free with flow_report_release */
	size_t n;
	size_t n_failed;
	bool have_clock_offset;		/* an answer carried the API's Date */
	int64_t clock_offset_s;		/* local clock (wall_now) minus the API's */
};

/*
 * Run JOBS (N of them) to the end on client C: resolve their targets
 * (listing rather than fetching one by one where that saves requests), then
 * for each droplet, at most cfg->jobs at once on one event loop: wait out a
 * pending action, shut down gracefully (power off hard after the entry's
 * shutdown-timeout), snapshot (adopting the slot's snapshot when it exists
 * already), power back on whatever was on before, and prune.  Power is
 * restored on every path once a droplet was powered off.
 *
 * Fills *ret (release with flow_report_release) and returns 0 when it ran
 * (failures of single droplets are in the report), or a negative errno when
 * it could not run at all.
 */
int	flow_run(struct api_client *c, const struct flow_config *cfg,
	    const struct flow_job *jobs, size_t n, struct flow_report *ret);

void	flow_report_release(struct flow_report *rep);

/*
 * Prune without snapshotting: for each droplet of TARGETS (as in a job),
 * delete the snapshots that entry's name template matches beyond KEEP and
 * older than MAX_AGE (opts in the entry).  Dry run sends no DELETE.
 */
int	flow_prune(struct api_client *c, const struct flow_config *cfg,
	    const struct flow_job *jobs, size_t n, struct flow_report *ret);

#endif
