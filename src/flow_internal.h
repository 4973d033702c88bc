/* flow_internal: what flow.c, flow_engine.c, flow_poll.c and flow_resolve.c share; private to them. */
#ifndef DOSNAP_FLOW_INTERNAL_H
#define DOSNAP_FLOW_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dosnap/api.h"
#include "dosnap/flow.h"
#include "dosnap/naming.h"
#include "dosnap/util.h"

/*
 * Each droplet's flow is a small state machine.  A state either has one
 * request in flight (its reply moves the flow on: flow.c has one handler per
 * state, in on_reply_of) or waits (enum fwait): for a timer, for the droplet
 * to reach a power state, or for an action to finish.  Waiting flows are
 * polled together: when several wait at once, one account-wide listing per
 * round replaces a request per flow (flow_poll.c).
 *
 *  PENDING ------ an action already in progress: BUSY, then REEVAL ------.
 *     |  (prune only: LIST_AFTER)                                         |
 *     v                                                                   v
 *  LIST_SNAPS <----------------- REEVAL <------------------------------ BUSY
 *     |  the slot's snapshot is listed: adopt it --------------.    a POST met a 422
 *     |                                                         |    "pending event":
 *     +-- active --> SHUTDOWN --> WAIT_OFF --too long--.        |    wait for that
 *     |                             |   ^              v        |    action, then
 *     |                             |   '-------- POWEROFF      |    resume the state
 *     |                             | off                       |    it came from
 *     +-- off, or live -------------+                           |
 *                                   v                           |
 *     VOL_LOOKUP --> VOL_LIST --> VOL_SNAPSHOT   (each attached |
 *                     |  listed already: adopt   volume in turn)|
 *                     v  after the last volume                  |
 *  SNAPSHOT --> WAIT_SNAPSHOT <--> FIND_SNAP --> FIND_ACTION    |
 *                     |            (its action answers 404)     |
 *                     v  completed or errored                   |
 *  RESTORE <----------------------------------------------------'
 *     |  the look: "off"           "active" after our power action was accepted:
 *     |                            CHECK_OFF: it errored, so it never went off
 *     v                            (then LIST_AFTER); otherwise POWER_ON
 *  POWER_ON --> WAIT_ON
 *                  |  "active"; or nothing to restore (it was not on, or is on)
 *                  v
 *  LIST_AFTER --> PRUNE (one DELETE a step) --> DONE
 *
 * A failure before the flow may have changed the droplet's power ends it
 * (DONE); after, it goes to RESTORE first (restore_or_finish).  An adopted
 * snapshot skips LIST_AFTER.  From any state the flow's bound, the stop
 * timeout, or power that cannot be restored (flow_give_up_off) end it.
 */
enum fstate {
	FS_PENDING,		/* not started: waiting for a free job slot */
	FS_REEVAL,		/* GET the droplet, then decide again */
	FS_LIST_SNAPS,		/* its snapshots: is this slot's there already? */
	FS_SHUTDOWN,		/* POST shutdown */
	FS_WAIT_OFF,		/* poll until the droplet says "off" */
	FS_POWEROFF,		/* POST power_off, the hard fallback */
	FS_VOL_LOOKUP,		/* GET the volume: its name, for its snapshot's */
	FS_VOL_LIST,		/* its snapshots: is this slot's there already? */
	FS_VOL_SNAPSHOT,	/* POST the volume's snapshot; then the next volume */
	FS_SNAPSHOT,		/* POST snapshot */
	FS_WAIT_SNAPSHOT,	/* poll the snapshot action */
	FS_RESTORE,		/* look first: power back on what was on */
	FS_CHECK_OFF,		/* "active": GET our power action: did it ever take effect? */
	FS_POWER_ON,		/* POST power_on */
	FS_WAIT_ON,		/* poll until the droplet says "active" */
	FS_LIST_AFTER,		/* its snapshots again: the new id, and retention */
	FS_PRUNE,		/* DELETE what retention chose */
	FS_BUSY,		/* a 422 "pending event": wait for that action */
	FS_FIND_SNAP,		/* the snapshot action answered 404: is its snapshot listed? */
	FS_FIND_ACTION,		/* ...or the action among the droplet's, or another snapshot? */
	FS_DONE,		/* the last: tables are sized FS_DONE + 1 */
};

enum fwait {
	W_NONE,
	W_TIMER,		/* resume the state when wake_at passes */
	W_DROPLET,		/* poll the droplet's status for `want` */
	W_ACTION,		/* poll action `action_id` */
	W_SNAPS,		/* list its snapshots (FS_LIST_SNAPS or FS_LIST_AFTER) */
};

#define POLL_POWER_FIRST_MS	2000
#define POLL_SNAPSHOT_FIRST_MS	5000
#define POLL_NEXT_MS		1000
#define POLL_POWER_CAP_MS	15000
#define POLL_SNAPSHOT_CAP_MS	60000
#define SHARED_POLL_MIN		3	/* waiting flows that make one listing worth it */
#define SHARED_ACTIONS_ITEMS	200	/* one page of the account's newest actions */
#define BUSY_MAX		8	/* 422s one flow will wait out */
#define BUSY_BACKOFF_CAP_MS	60000	/* the longest pause between two tries after a 422 */
#define RESTORE_TRIES		4	/* power_on attempts that failed or did not bring it back */
#define RESTORE_ROUNDS_MAX	8	/* times the flow sets out to restore power, 422s included */
#define SNAPSHOT_HARD_FACTOR	3	/* how long past `timeout` the power-on waits */
#define FIND_OUT_MAX		3	/* an action that answers 404: times to look around */
#define LISTED_GRACE_TRIES	6	/* listings that may miss a completed snapshot */
#define LISTED_GRACE_FIRST_MS	2000	/* then 4 s, 8 s...: about a minute in all */
#define BOUND_SLACK_S		120	/* lookups, listings and the grace, in a flow's bound */
#define PRUNE_BOUND_S		600	/* pruning, once power is back */
#define DRAIN_ROUNDS_MAX	200	/* api_client_run calls to collect cancelled requests */


struct vol {
	char *id;
	char *name;
	char snap_name[NAMING_MAX];
	struct api_snapshot_list *snaps;
};

struct engine;

struct flow {
	struct engine *e;
	struct flow_result *res;
	const struct flow_job *job;
	const struct sched_opts *opts;
	int64_t id;
	char id_str[24];
	char name[128];
	enum api_droplet_status status;		/* as last seen */
	struct vol *vols;
	size_t n_vols, vol_i;			/* the volume the VOL_ states are at */

	enum fstate state;
	enum fstate resume;			/* BUSY and its timers: the state to go back to */
	enum fwait wait;
	int64_t wake_at;			/* monotonic ms */
	bool inflight;				/* a request of this flow is out */
	uint64_t req_id;			/* that request, to cancel it */
	bool by_shared;				/* polled through a shared listing */
	bool action_individual;			/* not in the shared listing: ask alone */
	bool action_by_droplet;			/* /v2/actions/ID answered 404: ask the droplet's */
	bool snaps_individual;			/* the shared snapshot listing failed */
	enum api_droplet_status want;		/* W_DROPLET: the power state it waits for */
	int64_t action_id;
	long poll_ms, poll_cap_ms;

	int64_t t0, step_t0, deadline, hard_deadline;
	bool powered_off;			/* we may have changed its power */
	bool seen_off;				/* a status answer said "off" */
	int64_t power_action_id;		/* our shutdown/power_off, until it is over */
	int64_t off_action_id;			/* our last shutdown/power_off, kept */
	bool sent_off;				/* a shutdown or power_off of ours was accepted */
	bool power_on_refused;			/* power_on met a 422 with nothing in progress */
	bool auth_lost;				/* 401/403 while waiting: stop, restore power */
	bool find_said;				/* the 404 was reported */
	int restore_rounds, find_outs, listed_tries;
	int64_t end_by;				/* monotonic ms: the flow's bound */
	int64_t api_now;			/* the API's time when it listed snaps, 0: unknown */
	int64_t pending_action_id;		/* in progress when the run began */
	bool poweroff_phase;			/* WAIT_OFF after power_off, not shutdown */
	bool snapshot_ok;			/* the slot's snapshot exists: taken, adopted, listed */
	bool timeout_reported;			/* the snapshot outlived `timeout`, and that was said */
	int busy_count, restore_tries;
	struct api_snapshot_list *snaps;	/* the droplet's, last listed */
	bool *del;				/* retention's choice in snaps */
	size_t del_i;
	size_t vdel_vol, vdel_i;
	bool **vdel;
	char snap_name[NAMING_MAX];
};

struct engine {
	struct api_client *c;
	const struct flow_config *cfg;
	double scale;
	long power_timeout_s;
	struct flow *flows;
	size_t n_flows, running, done;
	struct flow_result *results;
	size_t n_results, cap_results;
	size_t snaps_pages;			/* pages the account's snapshot listing took */
	size_t droplet_pages;			/* pages a listing of every droplet takes */
	int64_t stop_deadline;
	uint64_t shared_droplets_id, shared_actions_id, shared_snaps_id;
	int64_t t_start;			/* monotonic ms when the engine began */
	int64_t clock_offset_s;			/* local clock minus the API's */
	bool shared_droplets_out, shared_actions_out, shared_snaps_out;
	bool stopping;
	bool prune_only;
	bool draining;				/* cancelled requests coming back: ignore them */
	bool warned_clock;
	bool have_offset;			/* clock_offset_s is known */
};

static inline int64_t
scaled(const struct engine *e, double ms)
{
	double v = ms * e->scale;

	return v < 1 ? 1 : (int64_t)v;
}

static inline double
since_s(int64_t t0)
{
	return (double)(clock_mono_ms() - t0) / 1000.0;
}

/* --- flow.c: the per-droplet state machine --------------------------------- */

/* Start F, which holds a job slot now: its first step. */
void	flow_start(struct flow *f);

/* A stop began: end a flow that waits, restoring power it took. */
void	flow_stop(struct flow *f);

/* A timer ran out, or a wait ended: carry on with F's state. */
void	flow_resume(struct flow *f);

/* The end of F's flow (idempotent): its result's time, its memory, the engine's counts. */
void	flow_finish(struct flow *f);

/* Free what F holds; safe to call again (finish, then the engine's end). */
void	flow_release(struct flow *f);

/* Power cannot be restored (refused, token gone, out of time): say so loudly, end F. */
void	flow_give_up_off(struct flow *f, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* 401 or 403 while F waits: restore power and stop. */
void	flow_lost_auth(struct flow *f, const struct api_reply *rp);

/* Queue F's request (R is what queuing returned); a failure is F's failure. */
bool	flow_queued(struct flow *f, int r, const char *what);

/* Poll again later, backing off. */
void	flow_poll_later(struct flow *f);

/* After a poll that brought no answer: the wait's deadline still holds. */
void	flow_wait_deadline(struct flow *f);

/* What a poll said: the droplet's power state, or the action F waits for. */
void	flow_on_droplet_status(struct flow *f, enum api_droplet_status st);
void	flow_dispatch_action(struct flow *f, const struct api_action *a);

/* The callbacks for F's requests (USERDATA is F): a step's, and a poll's. */
void	flow_on_reply(struct api_client *c, struct api_reply *rp, void *userdata);
void	flow_on_poll_reply(struct api_client *c, struct api_reply *rp, void *userdata);

/* --- flow_engine.c: events, results, the clock ----------------------------- */

/* An event about F for the caller; DRY: a request that would have been sent. */
void	flow_emit(struct flow *f, enum flow_level level, bool dry, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* An event about the run as a whole, not one droplet. */
void	engine_emit(struct engine *e, enum flow_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Set RES's failure text (malloc'd, replacing any); out of memory it stays NULL. */
void	flow_set_error(struct flow_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Record F's first failure (R, a negative errno, or -EIO); later ones are only reported. */
void	flow_fail(struct flow *f, int r, bool transient, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* flow_fail with the reply's error: "WHAT: HTTP 500 ... (request id)". */
void	flow_fail_reply(struct flow *f, const struct api_reply *rp, const char *what);

/* The Date of an answer (0: none): how far the local clock is from the API's. */
void	engine_note_clock(struct engine *e, int64_t api_date);

/* A new zeroed result for JOB at the end of the engine's; NULL out of memory. */
struct flow_result *engine_add_result(struct engine *e, const struct flow_job *job);

/* --- flow_poll.c: shared polling ----------------------------------------- */

/* Send the polls due at NOW: one account-wide listing for many, or one request each. */
void	engine_poll_tick(struct engine *e, int64_t now);

/* --- flow_resolve.c: targets to droplets --------------------------------- */

/*
 * Make a flow per (job, droplet) of JOBS (N) in E, and a failed result per
 * target that matched nothing.  0, -EINTR on a stop, or a negative errno.
 */
int	engine_resolve_targets(struct engine *e, const struct flow_job *jobs, size_t n);

/* Which flows' droplets have an action in progress (one listing; failures ignored). */
void	engine_note_pending_actions(struct engine *e);

#endif
