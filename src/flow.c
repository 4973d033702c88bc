/* flow: the snapshot flow for many droplets at once on one event loop: power off, snapshot, power on, prune. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dosnap/api.h"
#include "dosnap/flow.h"
#include "dosnap/naming.h"
#include "dosnap/schedule.h"
#include "dosnap/state.h"
#include "dosnap/util.h"

/*
 * Each droplet's flow is a small state machine.  A state either has one
 * request in flight (its reply moves the flow on) or waits: for a timer,
 * for the droplet to reach a power state, or for an action to finish.
 * Waiting flows are polled together: when several wait at once, one
 * account-wide listing per round replaces a request per flow.
 */
enum fstate {
	FS_PENDING,		/* not started: waiting for a free job slot */
	FS_REEVAL,		/* GET the droplet, then decide again */
	FS_LIST_SNAPS,		/* its snapshots: is this slot's there already? */
	FS_SHUTDOWN,		/* POST shutdown */
	FS_WAIT_OFF,		/* poll until the droplet says "off" */
	FS_POWEROFF,		/* POST power_off, the hard fallback */
	FS_VOLUMES,		/* snapshot the attached volumes */
	FS_SNAPSHOT,		/* POST snapshot */
	FS_WAIT_SNAPSHOT,	/* poll the snapshot action */
	FS_RESTORE,		/* power back on what was on */
	FS_WAIT_ON,		/* poll until the droplet says "active" */
	FS_LIST_AFTER,		/* its snapshots again: the new id, and retention */
	FS_PRUNE,		/* DELETE what retention chose */
	FS_BUSY,		/* a 422 "pending event": wait for that action */
	FS_FIND_OUT,		/* an action answered 404: its snapshots, then its actions */
	FS_DONE,
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
	size_t n_vols, vol_i;
	int vol_step;				/* 0: GET volume, 1: list, 2: create */

	enum fstate state, resume;
	enum fwait wait;
	int64_t wake_at;			/* monotonic ms */
	bool inflight;				/* a request of this flow is out */
	uint64_t req_id;			/* that request, to cancel it */
	bool by_shared;				/* polled through a shared listing */
	bool action_individual;			/* not in the shared listing: ask alone */
	bool action_by_droplet;			/* /v2/actions/ID answered 404: ask the droplet's */
	bool snaps_individual;			/* the shared snapshot listing failed */
	enum api_droplet_status want;
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
	bool checking_off;			/* FS_RESTORE: GET of off_action_id out */
	bool find_said;				/* the 404 was reported */
	int restore_rounds, find_outs, find_step, listed_tries;
	int64_t end_by;				/* monotonic ms: the flow's bound */
	int64_t api_now;			/* the API's time when it listed snaps, 0: unknown */
	int64_t pending_action_id;		/* in progress when the run began */
	bool poweroff_phase;
	bool snapshot_ok;
	bool timeout_reported;
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


static int64_t
scaled(const struct engine *e, double ms)
{
	double v = ms * e->scale;

	return v < 1 ? 1 : (int64_t)v;
}

static double
since_s(int64_t t0)
{
	return (double)(clock_mono_ms() - t0) / 1000.0;
}

static void
emit(struct flow *f, enum flow_level level, bool dry, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
emit(struct flow *f, enum flow_level level, bool dry, const char *fmt, ...)
{
	const struct flow_config *cfg = f->e->cfg;
	struct flow_event ev = { 0 };
	char msg[1024];
	va_list ap;

	if (cfg->event == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ev.level = level;
	ev.droplet_id = f->id;
	ev.droplet_name = f->res->droplet_name;
	ev.message = msg;
	ev.elapsed_s = since_s(f->t0);
	ev.dry_run = dry;
	cfg->event(&ev, cfg->event_userdata);
}

/* An event about the run as a whole, not one droplet. */
static void
emit_engine(struct engine *e, enum flow_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
emit_engine(struct engine *e, enum flow_level level, const char *fmt, ...)
{
	struct flow_event ev = { 0 };
	char msg[1024];
	va_list ap;

	if (e->cfg->event == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ev.level = level;
	ev.droplet_name = "";
	ev.message = msg;
	e->cfg->event(&ev, e->cfg->event_userdata);
}

/*
 * The text of a result's failure: allocated only when something failed, since
 * a run holds a result for every droplet at once.  Out of memory, the result
 * keeps its error code and loses only the words.
 */
static void
set_error(struct flow_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
set_error(struct flow_result *res, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	free(res->error);
	res->error = strdup(buf);
}

/* Record the flow's first failure; later ones are only reported. */
static void
fail(struct flow *f, int r, bool transient, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
fail(struct flow *f, int r, bool transient, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (f->res->r == 0) {
		f->res->r = r < 0 ? r : -EIO;
		f->res->transient = transient;
		set_error(f->res, "%s", msg);
	}
	emit(f, FLOW_ERROR, false, "%s", msg);
}

static void
fail_reply(struct flow *f, const struct api_reply *rp, const char *what)
{
	char buf[512];

	api_error_format(&rp->error, buf, sizeof(buf));
	if (rp->r == -EACCES)
		f->res->auth = true;
	fail(f, rp->r, rp->error.transient || rp->r == -ETIMEDOUT || rp->r == -EAGAIN ||
	    rp->r == -EIO, "%s: %s", what, buf);
}

static void flow_resume(struct flow *f);
static void give_up_off(struct flow *f, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void lost_auth(struct flow *f, const struct api_reply *rp);
static void flow_release(struct flow *f);
static void go_restore(struct flow *f);
static void go_after_snapshot(struct flow *f);
static void finish(struct flow *f);

static void
set_timer(struct flow *f, enum fstate state, double ms)
{
	f->state = state;
	f->wait = W_TIMER;
	f->wake_at = clock_mono_ms() + scaled(f->e, ms);
}

static void
wait_droplet(struct flow *f, enum fstate state, enum api_droplet_status want, long first_ms)
{
	f->state = state;
	f->wait = W_DROPLET;
	f->want = want;
	f->poll_ms = POLL_NEXT_MS;
	f->poll_cap_ms = POLL_POWER_CAP_MS;
	f->wake_at = clock_mono_ms() + scaled(f->e, (double)first_ms);
}

static void
wait_action(struct flow *f, enum fstate state, int64_t action_id, long first_ms, long cap_ms)
{
	f->state = state;
	f->wait = W_ACTION;
	f->action_id = action_id;
	f->action_individual = f->action_by_droplet;
	f->poll_ms = POLL_NEXT_MS;
	f->poll_cap_ms = cap_ms;
	f->wake_at = clock_mono_ms() + scaled(f->e, (double)first_ms);
}

/* Poll again later, backing off: quick at first, slower for long waits. */
static void
poll_later(struct flow *f)
{
	f->wake_at = clock_mono_ms() + scaled(f->e, (double)f->poll_ms);
	f->poll_ms = f->poll_ms * 3 / 2;
	if (f->poll_ms > f->poll_cap_ms)
		f->poll_ms = f->poll_cap_ms;
}

static struct flow_record
record_of(const struct flow *f)
{
	struct flow_record rec = {
		.droplet_id = f->id,
		.droplet_name = f->res->droplet_name,
		.was_active = f->res->before == API_DROPLET_ACTIVE,
		.slot = f->job->slot,
		.snapshot_name = f->snap_name,
		.action_id = f->action_id,
	};

	return rec;
}

/* --- requests ------------------------------------------------------------ */

static void on_reply(struct api_client *c, struct api_reply *rp, void *userdata);

/* Queue a request for F; a failure to queue is the flow's failure. */
static bool
queued(struct flow *f, int r, const char *what)
{
	if (r == 0) {
		f->inflight = true;
		return true;
	}
	fail(f, r, false, "cannot send %s: %s", what, strerror(-r));
	return false;
}

static void
send_action(struct flow *f, const char *type, const char *name)
{
	queued(f, api_post_droplet_action_async(f->e->c, f->id, type, name, on_reply, f, &f->req_id),
	    type);
}

/* --- the steps ----------------------------------------------------------- */

/* The pause before trying again after a 422: 1 s, 2 s, 4 s... up to a minute. */
static double
busy_backoff_ms(const struct flow *f)
{
	int k = f->busy_count > 0 ? f->busy_count - 1 : 0;
	double ms = (double)POLL_NEXT_MS * (double)(1L << (k < 10 ? k : 10));

	return ms < BUSY_BACKOFF_CAP_MS ? ms : BUSY_BACKOFF_CAP_MS;
}

static void
go_busy(struct flow *f, enum fstate resume)
{
	if (++f->busy_count > BUSY_MAX) {
		if (resume == FS_RESTORE) {
			give_up_off(f, -EBUSY, "power_on kept being refused with a pending event "
			    "(%d times)", BUSY_MAX);
			return;
		}
		fail(f, -EBUSY, true, "the droplet kept reporting a pending event (%d times); "
		    "giving up", BUSY_MAX);
		if (f->powered_off)
			go_restore(f);
		else
			finish(f);
		return;
	}
	emit(f, FLOW_WARN, false, "has an action in progress; waiting for it");
	f->resume = resume;
	f->state = FS_BUSY;
	f->wait = W_NONE;
	queued(f, api_list_droplet_actions_async(f->e->c, f->id, 20, on_reply, f, &f->req_id),
	    "action listing");
}

static bool
has_snapshot_named(const struct api_snapshot_list *l, const char *name, const char **ret_id)
{
	size_t i;

	for (i = 0; l != NULL && i < l->n; i++) {
		if (l->items[i].name != NULL && strcmp(l->items[i].name, name) == 0 &&
		    l->items[i].type != API_SNAPSHOT_TYPE_BACKUP) {
			*ret_id = l->items[i].id;
			return true;
		}
	}
	return false;
}

static void
step_shutdown(struct flow *f)
{
	const struct flow_hooks *h = &f->e->cfg->hooks;

	if (!f->powered_off && h->intent != NULL) {
		struct flow_record rec = record_of(f);
		int r = h->intent(&rec, h->userdata);

		if (r < 0) {
			fail(f, r, false, "cannot record the intent to power it off (%s); "
			    "leaving it running", strerror(-r));
			finish(f);
			return;
		}
	}
	f->powered_off = true;
	f->step_t0 = clock_mono_ms();
	f->state = FS_SHUTDOWN;
	send_action(f, "shutdown", NULL);
}

static void
step_poweroff(struct flow *f)
{
	f->state = FS_POWEROFF;
	send_action(f, "power_off", NULL);
}

static void
step_snapshot(struct flow *f)
{
	if (f->e->stopping) {
		fail(f, -EINTR, true, "stopped by a signal before the snapshot; restoring its power");
		go_restore(f);
		return;
	}
	f->state = FS_SNAPSHOT;
	f->step_t0 = clock_mono_ms();
	send_action(f, "snapshot", f->snap_name);
}

static void
step_volume(struct flow *f)
{
	struct vol *v;

	if (f->vol_i == f->n_vols) {
		step_snapshot(f);
		return;
	}
	v = &f->vols[f->vol_i];
	f->state = FS_VOLUMES;
	if (f->vol_step == 0)
		queued(f, api_get_volume_async(f->e->c, v->id, on_reply, f, &f->req_id), "volume lookup");
	else if (f->vol_step == 1)
		queued(f, api_list_volume_snapshots_async(f->e->c, v->id, on_reply, f, &f->req_id),
		    "volume snapshot listing");
	else
		queued(f, api_create_volume_snapshot_async(f->e->c, v->id, v->snap_name, on_reply,
		    f, &f->req_id), "volume snapshot");
}

/* The droplet is off (or live mode): volumes first, then the droplet. */
static void
step_take(struct flow *f)
{
	if (f->opts->volumes && f->n_vols > 0) {
		f->vol_i = 0;
		f->vol_step = 0;
		step_volume(f);
	} else {
		step_snapshot(f);
	}
}

static void
dry_run_plan(struct flow *f)
{
	bool live = f->opts->power == SCHED_POWER_LIVE;
	size_t i;

	if (!live && f->status == API_DROPLET_ACTIVE)
		emit(f, FLOW_NOTICE, true, "would send shutdown (power_off after %" PRId64 " s)",
		    f->opts->shutdown_timeout);
	for (i = 0; f->opts->volumes && i < f->n_vols; i++)
		emit(f, FLOW_NOTICE, true, "would snapshot volume %s", f->vols[i].id);
	emit(f, FLOW_NOTICE, true, "would send snapshot '%s'", f->snap_name);
	if (!live && f->status == API_DROPLET_ACTIVE)
		emit(f, FLOW_NOTICE, true, "would send power_on");
}

static void go_prune(struct flow *f);

/* Decide what to do from the droplet's status and its snapshot list. */
static void
step_decide(struct flow *f)
{
	const char *existing = NULL;
	bool live = f->opts->power == SCHED_POWER_LIVE;

	if (has_snapshot_named(f->snaps, f->snap_name, &existing)) {
		snprintf(f->res->snapshot_id, sizeof(f->res->snapshot_id), "%s", existing);
		f->res->adopted = true;
		f->snapshot_ok = true;
		emit(f, FLOW_NOTICE, false, "snapshot '%s' for this slot exists already (id %s); "
		    "adopting it", f->snap_name, existing);
		if (f->powered_off)
			go_restore(f);
		else
			go_prune(f);
		return;
	}
	if (f->e->cfg->dry_run) {
		dry_run_plan(f);
		go_prune(f);
		return;
	}
	if (f->e->stopping) {
		fail(f, -EINTR, true, "stopped before it began");
		if (f->powered_off)
			go_restore(f);
		else
			finish(f);
		return;
	}
	if (!live && f->status == API_DROPLET_OFF && f->res->before == API_DROPLET_ACTIVE &&
	    !f->powered_off) {
		/*
		 * Active when resolved, off now: something else powered it off
		 * (a shutdown a run that died had sent, say).  It was active
		 * before, so it is this flow's to power on again: record that
		 * first, as if it had powered it off itself.
		 */
		const struct flow_hooks *h = &f->e->cfg->hooks;
		struct flow_record rec = record_of(f);

		f->powered_off = true;
		if (h->intent != NULL && h->intent(&rec, h->userdata) < 0) {
			fail(f, -EIO, false, "cannot record the intent to power it back on; "
			    "powering it on without a snapshot");
			go_restore(f);
			return;
		}
	}
	if (live || f->status == API_DROPLET_OFF) {
		step_take(f);
		return;
	}
	if (f->status == API_DROPLET_ACTIVE) {
		step_shutdown(f);
		return;
	}
	fail(f, -EINVAL, false, "droplet is '%s', neither active nor off; not snapshotting it",
	    api_droplet_status_name(f->status));
	if (f->powered_off)
		go_restore(f);
	else
		finish(f);
}

static void
go_list_snaps(struct flow *f)
{
	/* Listed with the others due now, when that saves requests (poll_tick). */
	f->state = FS_LIST_SNAPS;
	f->wait = W_SNAPS;
	f->wake_at = clock_mono_ms();
}

static void
go_reeval(struct flow *f)
{
	f->state = FS_REEVAL;
	f->wait = W_NONE;
	queued(f, api_get_droplet_async(f->e->c, f->id, on_reply, f, &f->req_id), "droplet lookup");
}

static void
go_restore(struct flow *f)
{
	f->wait = W_NONE;
	if (!f->powered_off || f->res->before != API_DROPLET_ACTIVE) {
		go_after_snapshot(f);
		return;
	}
	if (f->power_action_id != 0) {
		/*
		 * A shutdown still in flight shows "active" and turns the
		 * droplet off a moment later: wait for it to end first.
		 */
		int64_t id = f->power_action_id;

		f->power_action_id = 0;
		f->resume = FS_RESTORE;
		f->deadline = clock_mono_ms() + scaled(f->e, (double)f->e->power_timeout_s * 1000);
		wait_action(f, FS_BUSY, id, POLL_NEXT_MS / 2, POLL_POWER_CAP_MS);
		return;
	}
	/* Restoring has a 422 budget of its own, whatever the earlier steps used. */
	if (f->restore_rounds == 0)
		f->busy_count = 0;
	/* Every way back here is bounded, 422s and failed looks included. */
	if (++f->restore_rounds > RESTORE_ROUNDS_MAX) {
		give_up_off(f, -ETIMEDOUT, "set out to restore its power %d times",
		    RESTORE_ROUNDS_MAX);
		return;
	}
	/*
	 * Look first: the service may have powered it on after the snapshot.
	 * The look is a status poll, so many droplets share one listing.
	 */
	f->state = FS_RESTORE;
	f->checking_off = false;
	f->step_t0 = clock_mono_ms();
	f->wait = W_DROPLET;
	f->want = API_DROPLET_ACTIVE;
	f->wake_at = clock_mono_ms();
}

static void
restored(struct flow *f)
{
	const struct flow_hooks *h = &f->e->cfg->hooks;

	f->powered_off = false;
	if (h->done != NULL) {
		struct flow_record rec = record_of(f);

		h->done(&rec, h->userdata);
	}
	go_after_snapshot(f);
}

/*
 * Power cannot be restored now (refused, token gone, out of tries): say so
 * loudly and end the flow.  The journal record stays, so the next run powers
 * it on.
 */
static void
give_up_off(struct flow *f, int r, const char *fmt, ...)
{
	char why[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	f->wait = W_NONE;
	if (f->powered_off && f->res->before == API_DROPLET_ACTIVE) {
		f->res->left_off = true;
		/* The loud failure wins over whatever failed first. */
		free(f->res->error);
		f->res->error = NULL;
		f->res->r = 0;
		fail(f, r, true, "LEFT POWERED OFF: %s; the next run powers it on, or power it on "
		    "by hand (doctl compute droplet-action power-on %" PRId64 ")", why, f->id);
	} else {
		fail(f, r, true, "%s", why);
	}
	finish(f);
}

/* Restoring power: the look, power_on, its wait, or a 422 met on the way. */
static bool
restoring(const struct flow *f)
{
	return f->state == FS_RESTORE || f->state == FS_WAIT_ON ||
	    (f->state == FS_BUSY && f->resume == FS_RESTORE);
}

/*
 * 401 or 403 while the flow waits: the token was revoked or lost its scope,
 * and no later answer will be better.  Restore power (which may still work,
 * the refusal may be of one endpoint) and stop; a refusal while restoring
 * ends the flow with the droplet left for the next run.
 */
static void
lost_auth(struct flow *f, const struct api_reply *rp)
{
	char buf[512];

	f->res->auth = true;
	api_error_format(&rp->error, buf, sizeof(buf));
	if (f->auth_lost || restoring(f)) {
		give_up_off(f, -EACCES, "the API refused the token while restoring its power (%s)",
		    buf);
		return;
	}
	f->auth_lost = true;
	fail(f, -EACCES, false, "the API refused the token while waiting (%s); restoring its "
	    "power and stopping", buf);
	f->wait = W_NONE;
	f->snapshot_ok = false;
	if (f->powered_off)
		go_restore(f);
	else
		finish(f);
}

static void
go_after_snapshot(struct flow *f)
{
	f->wait = W_NONE;
	if (!f->snapshot_ok || f->res->adopted || f->e->stopping) {
		if (f->snapshot_ok && f->res->adopted && !f->e->stopping)
			go_prune(f);
		else
			finish(f);
		return;
	}
	f->state = FS_LIST_AFTER;
	f->wait = W_SNAPS;
	f->wake_at = clock_mono_ms();
}

/*
 * Choose what to delete.  Ages are measured against the API's clock (the
 * Date of the answer that listed the snapshots), so a local clock that is
 * off cannot make every snapshot look old.  Returns 0, or -ENOMEM with
 * nothing chosen.
 */
static int
plan_retention(struct flow *f)
{
	const struct sched_opts *o = f->opts;
	const char *tmpl = o->name_template != NULL ? o->name_template : SCHED_DEFAULT_NAME;
	int64_t now = f->api_now != 0 ? f->api_now : f->e->cfg->wall_now;
	struct naming_snap *ns;
	size_t i, j;

	if (f->snaps == NULL || f->snaps->n == 0)
		return 0;
	ns = calloc(f->snaps->n, sizeof(*ns));
	f->del = calloc(f->snaps->n, sizeof(*f->del));
	if (ns == NULL || f->del == NULL) {
		free(ns);
		free(f->del);
		f->del = NULL;
		return -ENOMEM;
	}
	for (i = 0; i < f->snaps->n; i++) {
		ns[i].name = f->snaps->items[i].name;
		ns[i].created_at = f->snaps->items[i].created_at;
		ns[i].backup = f->snaps->items[i].type == API_SNAPSHOT_TYPE_BACKUP;
	}
	/* Pruning alone took no snapshot, so none is spared by name. */
	naming_retention(ns, f->snaps->n, tmpl, f->e->prune_only ? NULL : f->snap_name,
	    o->keep, o->max_age, now, f->del);
	free(ns);

	for (j = 0; f->opts->volumes && j < f->n_vols; j++) {
		struct vol *v = &f->vols[j];

		if (f->vdel == NULL)
			f->vdel = calloc(f->n_vols, sizeof(*f->vdel));
		if (f->vdel == NULL)
			goto nomem;
		if (v->snaps == NULL || v->snaps->n == 0)
			continue;
		ns = calloc(v->snaps->n, sizeof(*ns));
		f->vdel[j] = calloc(v->snaps->n, sizeof(**f->vdel));
		if (ns == NULL || f->vdel[j] == NULL) {
			free(ns);
			goto nomem;
		}
		for (i = 0; i < v->snaps->n; i++) {
			ns[i].name = v->snaps->items[i].name;
			ns[i].created_at = v->snaps->items[i].created_at;
		}
		naming_retention(ns, v->snaps->n, tmpl, v->snap_name, o->keep, o->max_age,
		    now, f->vdel[j]);
		free(ns);
	}
	return 0;
nomem:
	/* Nothing half-chosen is acted on. */
	free(f->del);
	f->del = NULL;
	for (j = 0; f->vdel != NULL && j < f->n_vols; j++)
		free(f->vdel[j]);
	free(f->vdel);
	f->vdel = NULL;
	return -ENOMEM;
}

/* Send the next DELETE retention chose, or finish. */
static void
step_prune(struct flow *f)
{
	f->state = FS_PRUNE;
	for (; f->del != NULL && f->del_i < f->snaps->n; f->del_i++) {
		const struct api_snapshot *s = &f->snaps->items[f->del_i];

		if (!f->del[f->del_i])
			continue;
		if (f->e->cfg->dry_run) {
			emit(f, FLOW_NOTICE, true, "would delete snapshot %s '%s'", s->id, s->name);
			continue;
		}
		f->del_i++;
		emit(f, FLOW_INFO, false, "deleting snapshot %s '%s'", s->id, s->name);
		queued(f, api_delete_snapshot_async(f->e->c, s->id, on_reply, f, &f->req_id),
		    "snapshot deletion");
		return;
	}
	for (; f->vdel != NULL && f->vdel_vol < f->n_vols; f->vdel_vol++, f->vdel_i = 0) {
		struct vol *v = &f->vols[f->vdel_vol];

		for (; f->vdel[f->vdel_vol] != NULL && v->snaps != NULL && f->vdel_i < v->snaps->n;
		    f->vdel_i++) {
			const struct api_snapshot *s = &v->snaps->items[f->vdel_i];

			if (!f->vdel[f->vdel_vol][f->vdel_i])
				continue;
			if (f->e->cfg->dry_run) {
				emit(f, FLOW_NOTICE, true, "would delete volume snapshot %s '%s'",
				    s->id, s->name);
				continue;
			}
			f->vdel_i++;
			emit(f, FLOW_INFO, false, "deleting volume snapshot %s '%s'", s->id, s->name);
			queued(f, api_delete_volume_snapshot_async(f->e->c, s->id, on_reply, f,
			    &f->req_id), "volume snapshot deletion");
			return;
		}
	}
	finish(f);
}

static void
go_prune(struct flow *f)
{
	f->wait = W_NONE;
	if (f->opts->keep < 0 && f->opts->max_age < 0) {
		finish(f);
		return;
	}
	if (plan_retention(f) < 0) {
		fail(f, -ENOMEM, false, "out of memory while choosing which snapshots to prune; "
		    "nothing was deleted");
		finish(f);
		return;
	}
	/* Pruning has a bound of its own, from when it begins. */
	if (f->end_by < clock_mono_ms() + scaled(f->e, PRUNE_BOUND_S * 1000.0))
		f->end_by = clock_mono_ms() + scaled(f->e, PRUNE_BOUND_S * 1000.0);
	f->del_i = 0;
	f->vdel_vol = 0;
	f->vdel_i = 0;
	step_prune(f);
}

static void
finish(struct flow *f)
{
	if (f->state == FS_DONE)
		return;
	f->state = FS_DONE;
	f->wait = W_NONE;
	f->res->seconds = since_s(f->t0);
	/* What it listed is done with: memory follows the flows in flight. */
	flow_release(f);
	f->e->running--;
	f->e->done++;
	if (f->res->r == 0 && !f->e->cfg->dry_run && !f->e->prune_only)
		emit(f, FLOW_NOTICE, false, "done: snapshot '%s'%s%s%s in %.1f s%s",
		    f->snap_name, f->res->snapshot_id[0] ? " (id " : "", f->res->snapshot_id,
		    f->res->snapshot_id[0] ? ")" : "", f->res->seconds,
		    f->res->deleted ? ", old snapshots pruned" : "");
}

/* --- replies ------------------------------------------------------------- */

static void
on_droplet_status(struct flow *f, enum api_droplet_status st)
{
	f->status = st;
	if (st == API_DROPLET_OFF) {
		f->seen_off = true;
		f->power_action_id = 0;	/* off: whatever we sent has done its work */
	}
	if (f->state == FS_RESTORE) {
		/* The look before power_on. */
		f->wait = W_NONE;
		if (st == API_DROPLET_ACTIVE && f->seen_off) {
			emit(f, FLOW_INFO, false, "active again (the service powered it on)");
			restored(f);
		} else if (st == API_DROPLET_ACTIVE && !f->sent_off) {
			emit(f, FLOW_INFO, false, "still active: it never went off");
			restored(f);
		} else if (st == API_DROPLET_ACTIVE && f->power_on_refused) {
			emit(f, FLOW_INFO, false, "active (power_on was refused with nothing in "
			    "progress: it is on)");
			restored(f);
		} else if (st == API_DROPLET_ACTIVE && f->off_action_id != 0) {
			/*
			 * "active" after a power action of ours was accepted:
			 * it may be a stale status.  Only an errored action
			 * means it never went off.
			 */
			f->checking_off = true;
			queued(f, api_get_action_async(f->e->c, f->off_action_id, on_reply, f,
			    &f->req_id), "power action lookup");
		} else {
			send_action(f, "power_on", NULL);
		}
		return;
	}
	if (st == f->want) {
		f->wait = W_NONE;
		if (f->state == FS_WAIT_OFF) {
			emit(f, FLOW_INFO, false, "off after %.1f s", since_s(f->step_t0));
			if (f->e->stopping) {
				fail(f, -EINTR, true, "stopped by a signal before the snapshot; "
				    "restoring its power");
				go_restore(f);
				return;
			}
			step_take(f);
		} else {
			emit(f, FLOW_INFO, false, "active again after %.1f s", since_s(f->step_t0));
			restored(f);
		}
		return;
	}
	if (clock_mono_ms() < f->deadline) {
		poll_later(f);
		return;
	}
	f->wait = W_NONE;
	if (f->state == FS_WAIT_OFF && !f->poweroff_phase) {
		emit(f, FLOW_WARN, false, "still %s %.0f s after shutdown; sending power_off",
		    api_droplet_status_name(st), since_s(f->step_t0));
		step_poweroff(f);
	} else if (f->state == FS_WAIT_OFF) {
		fail(f, -ETIMEDOUT, true, "still %s after power_off; not snapshotting a running "
		    "droplet", api_droplet_status_name(st));
		go_restore(f);
	} else {
		/* Power-on sent but the droplet stays off: send it again. */
		emit(f, FLOW_WARN, false, "still %s after power_on; trying again",
		    api_droplet_status_name(st));
		f->state = FS_RESTORE;
		if (++f->restore_tries >= RESTORE_TRIES) {
			f->res->left_off = true;
			fail(f, -ETIMEDOUT, true, "LEFT POWERED OFF: power_on did not bring it back "
			    "after %d tries; power it on by hand (doctl compute droplet-action "
			    "power-on %" PRId64 ")", RESTORE_TRIES, f->id);
			finish(f);
			return;
		}
		send_action(f, "power_on", NULL);
	}
}

static bool snapshot_wait_over(struct flow *f);
static void note_clock(struct engine *e, int64_t api_date);

static void
on_snapshot_action(struct flow *f, const struct api_action *a)
{
	if (a->status == API_ACTION_COMPLETED) {
		f->wait = W_NONE;
		f->snapshot_ok = true;
		emit(f, FLOW_INFO, false, "snapshot '%s' completed in %.1f s", f->snap_name,
		    since_s(f->step_t0));
		go_restore(f);
		return;
	}
	if (a->status == API_ACTION_ERRORED) {
		f->wait = W_NONE;
		fail(f, -EIO, false, "snapshot action %" PRId64 " errored", a->id);
		go_restore(f);
		return;
	}
	if (!snapshot_wait_over(f))
		poll_later(f);
}

/*
 * The snapshot wait's deadlines, whatever the polls answered: past
 * `timeout` say so; past the hard deadline (or the stop timeout) give up,
 * leaving the droplet off since a snapshot in progress cannot be powered
 * on.  Returns true when the flow moved on.
 */
static bool
snapshot_wait_over(struct flow *f)
{
	int64_t now = clock_mono_ms();

	if (now >= f->deadline && !f->timeout_reported) {
		f->timeout_reported = true;
		fail(f, -ETIMEDOUT, true, "snapshot not finished after %" PRId64 " s (timeout=); "
		    "waiting for it before powering on", f->opts->timeout);
	}
	if (now >= f->hard_deadline || (f->e->stopping && now >= f->e->stop_deadline)) {
		f->wait = W_NONE;
		if (f->powered_off && f->res->before == API_DROPLET_ACTIVE) {
			f->res->left_off = true;
			fail(f, -ETIMEDOUT, true, "LEFT POWERED OFF: snapshot action %" PRId64
			    " still in progress after %.0f s, so it cannot be powered on yet; the "
			    "next run powers it on once the snapshot ends", f->action_id,
			    since_s(f->step_t0));
		}
		finish(f);
		return true;
	}
	return false;
}

/* After a poll that brought no answer: the wait's deadline still holds. */
static void
wait_deadline(struct flow *f)
{
	if (f->wait == W_DROPLET) {
		if (clock_mono_ms() >= f->deadline)
			on_droplet_status(f, f->status);
	} else if (f->wait == W_ACTION && f->state == FS_BUSY) {
		if (clock_mono_ms() >= f->deadline) {
			f->state = f->resume;
			flow_resume(f);
		}
	} else if (f->wait == W_ACTION) {
		(void)snapshot_wait_over(f);
	}
}

/*
 * An action that answers 404 is not polled again: find out what became of
 * it.  A snapshot action: is the slot's snapshot listed (then it is done),
 * is the action among the droplet's own, or another snapshot in progress?
 * Any other action (a power action, one pending when the run began): look
 * at the droplet again.
 */
static void
go_find_out(struct flow *f)
{
	f->wait = W_NONE;
	if (f->state != FS_WAIT_SNAPSHOT) {
		emit(f, FLOW_WARN, false, "action %" PRId64 " answers 404; looking at the droplet "
		    "again", f->action_id);
		set_timer(f, f->state == FS_BUSY ? f->resume : FS_REEVAL, busy_backoff_ms(f));
		return;
	}
	if (f->find_outs >= FIND_OUT_MAX) {
		fail(f, -EIO, true, "snapshot action %" PRId64 " keeps answering 404 and no snapshot "
		    "'%s' is listed; not waiting for it", f->action_id, f->snap_name);
		go_restore(f);
		return;
	}
	if (!f->find_said) {
		f->find_said = true;
		emit(f, FLOW_WARN, false, "snapshot action %" PRId64 " answers 404; looking for its "
		    "snapshot and the droplet's actions instead", f->action_id);
	}
	f->state = FS_FIND_OUT;
	f->find_step = 0;
	queued(f, api_list_droplet_snapshots_async(f->e->c, f->id, on_reply, f, &f->req_id),
	    "snapshot listing");
}

/* Back to waiting for the snapshot action, deadlines checked. */
static void
resume_snapshot_wait(struct flow *f)
{
	f->state = FS_WAIT_SNAPSHOT;
	f->wait = W_ACTION;
	f->action_individual = true;
	poll_later(f);
	(void)snapshot_wait_over(f);
}

static void
on_find_out(struct flow *f, struct api_reply *rp)
{
	const char *existing = NULL;
	size_t i;

	if (rp->r == -EACCES) {
		f->state = FS_WAIT_SNAPSHOT;
		lost_auth(f, rp);
		return;
	}
	if (rp->r < 0) {
		resume_snapshot_wait(f);
		return;
	}
	if (f->find_step == 0) {
		if (has_snapshot_named(rp->snapshots, f->snap_name, &existing)) {
			emit(f, FLOW_INFO, false, "snapshot '%s' is listed (id %s): it is done",
			    f->snap_name, existing);
			f->snapshot_ok = true;
			go_restore(f);
			return;
		}
		f->find_step = 1;
		queued(f, api_list_droplet_actions_async(f->e->c, f->id, 20, on_reply, f,
		    &f->req_id), "action listing");
		return;
	}
	for (i = 0; rp->actions != NULL && i < rp->actions->n; i++) {
		const struct api_action *a = &rp->actions->items[i];

		if (a->id == f->action_id) {
			/* Listed with its status: this listing is the poll. */
			f->state = FS_WAIT_SNAPSHOT;
			f->wait = W_ACTION;
			on_snapshot_action(f, a);
			return;
		}
	}
	for (i = 0; rp->actions != NULL && i < rp->actions->n; i++) {
		const struct api_action *a = &rp->actions->items[i];

		if (a->status == API_ACTION_IN_PROGRESS && strcmp(a->type, "snapshot") == 0) {
			emit(f, FLOW_INFO, false, "following snapshot action %" PRId64 " instead",
			    a->id);
			f->action_id = a->id;
			resume_snapshot_wait(f);
			return;
		}
	}
	f->find_outs++;
	if (f->find_outs < FIND_OUT_MAX) {
		/* Listings lag: look again, as a poll would. */
		resume_snapshot_wait(f);
		return;
	}
	fail(f, -EIO, true, "snapshot action %" PRId64 " is gone (404), and neither its snapshot "
	    "'%s' nor a snapshot in progress is listed", f->action_id, f->snap_name);
	go_restore(f);
}

/* A poll that brought no answer. */
static void
poll_failed(struct flow *f, const struct api_reply *rp)
{
	if (rp->r == -ECANCELED)
		return;
	if (rp->r == -EACCES) {
		lost_auth(f, rp);
		return;
	}
	if (rp->r == -ENOENT && f->wait == W_ACTION && !f->action_by_droplet) {
		/* The same action under the droplet: a second way to ask. */
		f->action_by_droplet = true;
		f->action_individual = true;
		poll_later(f);
		wait_deadline(f);
		return;
	}
	if (rp->r == -ENOENT && f->wait == W_ACTION) {
		go_find_out(f);
		return;
	}
	poll_later(f);
	wait_deadline(f);
}

static void
on_busy_actions(struct flow *f, const struct api_action_list *l)
{
	size_t i;

	for (i = 0; l != NULL && i < l->n; i++) {
		if (l->items[i].status == API_ACTION_IN_PROGRESS) {
			emit(f, FLOW_INFO, false, "waiting for its %s action %" PRId64 " to finish",
			    l->items[i].type, l->items[i].id);
			/*
			 * Our own power action, finishing after the droplet was
			 * seen off: once it ends, snapshot.  Looking again would
			 * trust a status that may be stale.
			 */
			if (f->resume == FS_REEVAL && f->seen_off && f->powered_off &&
			    l->items[i].id == f->off_action_id)
				f->resume = FS_SNAPSHOT;
			/*
			 * A power-off in progress while this flow means to power
			 * it off is taken as its own (a retried POST may have
			 * taken effect before its 422): the droplet may go off,
			 * so power_on is owed unless that action errors.
			 */
			if (f->powered_off && (strcmp(l->items[i].type, "shutdown") == 0 ||
			    strcmp(l->items[i].type, "power_off") == 0)) {
				f->off_action_id = l->items[i].id;
				f->sent_off = true;
			}
			f->deadline = clock_mono_ms() + scaled(f->e, (double)f->opts->timeout * 1000);
			wait_action(f, FS_BUSY, l->items[i].id, POLL_NEXT_MS, POLL_SNAPSHOT_CAP_MS);
			return;
		}
	}
	/*
	 * Nothing in progress any more: it just finished, or the refusal has
	 * another cause.  Try again, backing off: 1 s, 2 s, 4 s... up to a
	 * minute, so a refusal that lasts costs a few requests, not a storm.
	 */
	if (f->resume == FS_RESTORE)
		f->power_on_refused = true;
	set_timer(f, f->resume, busy_backoff_ms(f));
}

static void
on_reply(struct api_client *c, struct api_reply *rp, void *userdata)
{
	struct flow *f = userdata;
	struct vol *v;
	const char *existing;

	(void)c;
	if (f->e->draining)
		return;
	f->inflight = false;
	if (f->state == FS_DONE)
		return;
	switch (f->state) {
	case FS_REEVAL:
		if (rp->r < 0 || rp->droplet == NULL) {
			fail_reply(f, rp, "cannot look the droplet up");
			f->powered_off ? go_restore(f) : finish(f);
			return;
		}
		f->status = rp->droplet->status;
		go_list_snaps(f);
		return;
	case FS_LIST_SNAPS:
		if (rp->r < 0 || rp->snapshots == NULL) {
			fail_reply(f, rp, "cannot list its snapshots");
			f->powered_off ? go_restore(f) : finish(f);
			return;
		}
		api_snapshot_list_free(f->snaps);
		f->snaps = rp->snapshots;
		rp->snapshots = NULL;
		f->api_now = rp->server_date;
		note_clock(f->e, rp->server_date);
		step_decide(f);
		return;
	case FS_SHUTDOWN:
		if (rp->r == -EBUSY) {
			go_busy(f, FS_REEVAL);
			return;
		}
		if (rp->r < 0 || rp->action == NULL) {
			char buf[512];

			/* It may have taken effect: then power_on is owed. */
			if (rp->error.ambiguous)
				f->sent_off = true;
			emit(f, FLOW_WARN, false, "shutdown failed (%s); sending power_off",
			    api_error_format(&rp->error, buf, sizeof(buf)));
			step_poweroff(f);
			return;
		}
		emit(f, FLOW_INFO, false, "shutdown sent%s", rp->adopted ? " (adopted)" : "");
		f->power_action_id = rp->action->id;
		f->off_action_id = rp->action->id;
		f->sent_off = true;
		f->deadline = clock_mono_ms() + scaled(f->e, (double)f->opts->shutdown_timeout * 1000);
		wait_droplet(f, FS_WAIT_OFF, API_DROPLET_OFF, POLL_POWER_FIRST_MS);
		return;
	case FS_POWEROFF:
		if (rp->r == -EBUSY) {
			go_busy(f, FS_POWEROFF);
			return;
		}
		if (rp->r < 0 || rp->action == NULL) {
			/* It may have taken effect: then power_on is owed. */
			if (rp->error.ambiguous)
				f->sent_off = true;
			fail_reply(f, rp, "power_off failed");
			go_restore(f);
			return;
		}
		emit(f, FLOW_INFO, false, "power_off sent");
		f->power_action_id = rp->action->id;
		f->off_action_id = rp->action->id;
		f->sent_off = true;
		f->poweroff_phase = true;
		f->deadline = clock_mono_ms() + scaled(f->e, (double)f->e->power_timeout_s * 1000);
		wait_droplet(f, FS_WAIT_OFF, API_DROPLET_OFF, POLL_POWER_FIRST_MS);
		return;
	case FS_VOLUMES:
		v = &f->vols[f->vol_i];
		if (rp->r < 0) {
			fail_reply(f, rp, "volume snapshot failed");
			go_restore(f);
			return;
		}
		if (f->vol_step == 0 && rp->volume == NULL) {
			fail(f, -EPROTO, false, "volume %s: the API answered without the volume", v->id);
			go_restore(f);
			return;
		}
		if (f->vol_step == 0) {
			free(v->name);
			v->name = strdup(rp->volume->name != NULL ? rp->volume->name : v->id);
			if (v->name == NULL || naming_render(f->opts->name_template != NULL ?
			    f->opts->name_template : SCHED_DEFAULT_NAME, v->id, v->name,
			    f->job->slot, f->job->entry->zone, v->snap_name, sizeof(v->snap_name)) < 0) {
				fail(f, -ENAMETOOLONG, false, "cannot name the snapshot of volume %s",
				    v->id);
				go_restore(f);
				return;
			}
			f->vol_step = 1;
		} else if (f->vol_step == 1) {
			api_snapshot_list_free(v->snaps);
			v->snaps = rp->snapshots;
			rp->snapshots = NULL;
			if (has_snapshot_named(v->snaps, v->snap_name, &existing)) {
				emit(f, FLOW_INFO, false, "volume %s: snapshot '%s' exists already; "
				    "adopting it", v->name, v->snap_name);
				f->res->volumes++;
				f->vol_i++;
				f->vol_step = 0;
			} else {
				f->vol_step = 2;
			}
		} else {
			emit(f, FLOW_INFO, false, "volume %s: snapshot '%s' taken", v->name,
			    v->snap_name);
			f->res->volumes++;
			f->vol_i++;
			f->vol_step = 0;
		}
		step_volume(f);
		return;
	case FS_SNAPSHOT:
		if (rp->r == -EBUSY) {
			go_busy(f, FS_REEVAL);
			return;
		}
		if (rp->r < 0 || rp->action == NULL) {
			fail_reply(f, rp, "snapshot failed");
			go_restore(f);
			return;
		}
		emit(f, FLOW_INFO, false, "snapshot '%s' started (action %" PRId64 ")%s",
		    f->snap_name, rp->action->id, rp->adopted ? ", adopted after a network failure" : "");
		f->action_id = rp->action->id;
		if (f->powered_off && f->e->cfg->hooks.progress != NULL) {
			struct flow_record rec = record_of(f);

			f->e->cfg->hooks.progress(&rec, f->e->cfg->hooks.userdata);
		}
		f->deadline = clock_mono_ms() + scaled(f->e, (double)f->opts->timeout * 1000);
		f->hard_deadline = clock_mono_ms() +
		    scaled(f->e, (double)f->opts->timeout * 1000 * SNAPSHOT_HARD_FACTOR);
		if (rp->action->status != API_ACTION_IN_PROGRESS) {
			f->wait = W_ACTION;
			on_snapshot_action(f, rp->action);
			return;
		}
		wait_action(f, FS_WAIT_SNAPSHOT, rp->action->id, POLL_SNAPSHOT_FIRST_MS,
		    POLL_SNAPSHOT_CAP_MS);
		return;
	case FS_RESTORE:
		if (f->checking_off) {
			f->checking_off = false;
			if (rp->r == 0 && rp->action != NULL &&
			    rp->action->status == API_ACTION_ERRORED) {
				emit(f, FLOW_INFO, false, "still active: its %s errored, it never went "
				    "off", rp->action->type);
				restored(f);
				return;
			}
			if (rp->r == 0 && rp->action != NULL &&
			    rp->action->status == API_ACTION_IN_PROGRESS) {
				/*
				 * Not off yet, and it may still go off: the
				 * record stays for the next run to check.
				 */
				fail(f, -ETIMEDOUT, true, "still active, with its %s action %" PRId64
				    " in progress; its journal record stays and the next run checks "
				    "it", rp->action->type, rp->action->id);
				finish(f);
				return;
			}
			emit(f, FLOW_WARN, false, "shows active, but its power action %" PRId64
			    " %s; sending power_on anyway (the status may be stale)",
			    f->off_action_id, rp->r == 0 && rp->action != NULL ?
			    (rp->action->status == API_ACTION_COMPLETED ? "completed" :
			    "is not known to have failed") : "could not be read");
			send_action(f, "power_on", NULL);
			return;
		}
		/* The power_on POST (the look before it is a status poll). */
		if (rp->r == -EACCES) {
			lost_auth(f, rp);
			return;
		}
		if (rp->r == -EBUSY) {
			go_busy(f, FS_RESTORE);
			return;
		}
		if (rp->r < 0) {
			char buf[512];

			if (++f->restore_tries >= RESTORE_TRIES) {
				f->res->left_off = true;
				fail(f, rp->r, true, "LEFT POWERED OFF: cannot power it on (%s); power "
				    "it on by hand (doctl compute droplet-action power-on %" PRId64 ")",
				    api_error_format(&rp->error, buf, sizeof(buf)), f->id);
				finish(f);
				return;
			}
			emit(f, FLOW_WARN, false, "cannot power it on yet (%s); trying again",
			    api_error_format(&rp->error, buf, sizeof(buf)));
			set_timer(f, FS_RESTORE, 2000.0 * (1 << f->restore_tries));
			return;
		}
		emit(f, FLOW_INFO, false, "power_on sent");
		f->deadline = clock_mono_ms() + scaled(f->e, (double)f->e->power_timeout_s * 1000);
		wait_droplet(f, FS_WAIT_ON, API_DROPLET_ACTIVE, POLL_POWER_FIRST_MS);
		return;
	case FS_LIST_AFTER:
		if (rp->r < 0 || rp->snapshots == NULL) {
			char buf[512];

			/* The snapshot exists; only its id and pruning are lost. */
			emit(f, FLOW_WARN, false, "cannot list its snapshots after the snapshot (%s); "
			    "not pruning this time", api_error_format(&rp->error, buf, sizeof(buf)));
			finish(f);
			return;
		}
		api_snapshot_list_free(f->snaps);
		f->snaps = rp->snapshots;
		rp->snapshots = NULL;
		f->api_now = rp->server_date;
		note_clock(f->e, rp->server_date);
		if (has_snapshot_named(f->snaps, f->snap_name, &existing)) {
			snprintf(f->res->snapshot_id, sizeof(f->res->snapshot_id), "%s", existing);
		} else if (!f->e->prune_only && !f->res->adopted) {
			/*
			 * Retention only ever runs with this slot's snapshot seen
			 * in a listing made after its action: otherwise the one
			 * it keeps may not exist.
			 */
			if (++f->listed_tries < LISTED_GRACE_TRIES && !f->e->stopping) {
				double ms = (double)LISTED_GRACE_FIRST_MS * (1 << (f->listed_tries - 1));

				emit(f, FLOW_INFO, false, "snapshot '%s' is not listed yet; looking "
				    "again in %.0f s", f->snap_name, ms / 1000);
				f->wait = W_SNAPS;
				f->wake_at = clock_mono_ms() + scaled(f->e, ms);
				return;
			}
			fail(f, -EIO, true, "snapshot '%s' completed but not listed after %d "
			    "listings; not pruning, nothing was deleted", f->snap_name,
			    f->listed_tries);
			finish(f);
			return;
		}
		go_prune(f);
		return;
	case FS_PRUNE:
		if (rp->r < 0) {
			fail_reply(f, rp, "pruning failed (the new snapshot was taken)");
			finish(f);
			return;
		}
		f->res->deleted++;
		step_prune(f);
		return;
	case FS_FIND_OUT:
		on_find_out(f, rp);
		return;
	case FS_BUSY:
		if (rp->r == -EACCES) {
			lost_auth(f, rp);
			return;
		}
		if (rp->r < 0) {
			fail_reply(f, rp, "cannot list its actions");
			f->powered_off ? go_restore(f) : finish(f);
			return;
		}
		on_busy_actions(f, rp->actions);
		return;
	case FS_WAIT_OFF:
	case FS_WAIT_ON:
	case FS_WAIT_SNAPSHOT:
		/* Polls come back through on_poll_reply. */
		break;
	case FS_PENDING:
	case FS_DONE:
		return;
	}
}

static void
dispatch_action(struct flow *f, const struct api_action *a)
{
	if (f->state != FS_BUSY) {
		on_snapshot_action(f, a);
		return;
	}
	/* The pending action that made a POST fail with 422. */
	if (a->status == API_ACTION_IN_PROGRESS && clock_mono_ms() < f->deadline) {
		poll_later(f);
		return;
	}
	f->state = f->resume;
	flow_resume(f);
}

/* A poll of one droplet or one action, for one flow. */
static void
on_poll_reply(struct api_client *c, struct api_reply *rp, void *userdata)
{
	struct flow *f = userdata;

	(void)c;
	if (f->e->draining)
		return;
	f->inflight = false;
	if (f->state == FS_DONE || f->wait == W_NONE)
		return;
	if (rp->r < 0 || (f->wait == W_DROPLET && rp->droplet == NULL) ||
	    (f->wait == W_ACTION && rp->action == NULL)) {
		poll_failed(f, rp);
		return;
	}
	if (f->wait == W_DROPLET)
		on_droplet_status(f, rp->droplet->status);
	else if (f->wait == W_ACTION)
		dispatch_action(f, rp->action);
}

static void
flow_resume(struct flow *f)
{
	f->wait = W_NONE;
	switch (f->state) {
	case FS_REEVAL:
		go_reeval(f);
		break;
	case FS_POWEROFF:
		step_poweroff(f);
		break;
	case FS_RESTORE:
		go_restore(f);
		break;
	case FS_SNAPSHOT:
		step_snapshot(f);
		break;
	default:
		go_reeval(f);
		break;
	}
}

/* --- shared polling ------------------------------------------------------ */

static void
on_shared_droplets(struct api_client *c, struct api_reply *rp, void *userdata)
{
	struct engine *e = userdata;
	size_t i, j;

	(void)c;
	if (e->draining)
		return;
	e->shared_droplets_out = false;
	if (rp->r == 0 && rp->droplets != NULL)
		e->droplet_pages = rp->droplets->n / API_PER_PAGE + 1;
	for (i = 0; i < e->n_flows; i++) {
		struct flow *f = &e->flows[i];
		bool seen = false;

		if (f->state == FS_DONE || f->wait != W_DROPLET || !f->by_shared)
			continue;
		f->by_shared = false;
		f->inflight = false;
		for (j = 0; rp->r == 0 && rp->droplets != NULL && j < rp->droplets->n; j++) {
			if (rp->droplets->items[j].id == f->id) {
				seen = true;
				on_droplet_status(f, rp->droplets->items[j].status);
				break;
			}
		}
		if (!seen && rp->r == -EACCES) {
			lost_auth(f, rp);
		} else if (!seen) {
			poll_later(f);
			wait_deadline(f);
		}
	}
}

static void
on_shared_actions(struct api_client *c, struct api_reply *rp, void *userdata)
{
	struct engine *e = userdata;
	size_t i, j;

	(void)c;
	if (e->draining)
		return;
	e->shared_actions_out = false;
	for (i = 0; i < e->n_flows; i++) {
		struct flow *f = &e->flows[i];
		bool seen = false;

		if (f->state == FS_DONE || f->wait != W_ACTION || !f->by_shared)
			continue;
		f->by_shared = false;
		f->inflight = false;
		for (j = 0; rp->r == 0 && rp->actions != NULL && j < rp->actions->n; j++) {
			if (rp->actions->items[j].id == f->action_id) {
				seen = true;
				dispatch_action(f, &rp->actions->items[j]);
				break;
			}
		}
		if (!seen && rp->r == -EACCES) {
			lost_auth(f, rp);
		} else if (!seen) {
			/* Older than the newest page: ask for it alone next time. */
			f->action_individual = rp->r == 0;
			poll_later(f);
			wait_deadline(f);
		}
	}
}

/*
 * The account's snapshots in one listing, shared out by droplet: each
 * waiting flow gets its own list, moved out of the big one, and goes on
 * as if it had listed alone.
 */
static void
on_shared_snaps(struct api_client *c, struct api_reply *rp, void *userdata)
{
	struct engine *e = userdata;
	size_t i, j;

	if (e->draining)
		return;
	e->shared_snaps_out = false;
	if (rp->r == 0 && rp->snapshots != NULL)
		e->snaps_pages = rp->snapshots->n / API_PER_PAGE + 1;
	for (i = 0; i < e->n_flows; i++) {
		struct flow *f = &e->flows[i];
		struct api_reply one = { .r = rp->r, .error = rp->error,
			.server_date = rp->server_date };
		struct api_snapshot_list *l;
		size_t n = 0;

		if (f->state == FS_DONE || f->wait != W_SNAPS || !f->by_shared)
			continue;
		f->by_shared = false;
		f->inflight = false;
		f->wait = W_NONE;
		if (rp->r < 0 || rp->snapshots == NULL) {
			/* Ask alone next time; the shared listing may be what fails. */
			f->snaps_individual = true;
			f->wait = W_SNAPS;
			f->wake_at = clock_mono_ms() + scaled(e, POLL_NEXT_MS);
			continue;
		}
		/* Exactly its own: a list sized for the account's would add up. */
		for (j = 0; j < rp->snapshots->n; j++) {
			const struct api_snapshot *sn = &rp->snapshots->items[j];

			if (sn->resource_id != NULL && strcmp(sn->resource_id, f->id_str) == 0)
				n++;
		}
		l = calloc(1, sizeof(*l));
		if (l != NULL)
			l->items = calloc(n ? n : 1, sizeof(*l->items));
		n = 0;
		if (l == NULL || l->items == NULL) {
			free(l);
			one.r = -ENOMEM;
			on_reply(c, &one, f);
			continue;
		}
		for (j = 0; j < rp->snapshots->n; j++) {
			struct api_snapshot *sn = &rp->snapshots->items[j];

			if (sn->resource_id != NULL && strcmp(sn->resource_id, f->id_str) == 0) {
				l->items[n++] = *sn;
				memset(sn, 0, sizeof(*sn));	/* moved */
			}
		}
		l->n = n;
		one.snapshots = l;
		on_reply(c, &one, f);
		api_reply_release(&one);
	}
}

/* Send the polls that are due: one listing for many, or one request each. */
static void
poll_tick(struct engine *e, int64_t now)
{
	/*
	 * Polls due within this slack ride along with a shared listing: asking
	 * a little early costs nothing, and it keeps flows that drifted apart
	 * sharing one request.
	 */
	int64_t slack = scaled(e, 1000);
	size_t i, n_drop = 0, n_act = 0, n_snaps = 0, snaps_min, drop_min;
	bool due_drop = false, due_act = false;

	/*
	 * A shared listing pays one request a page: it is worth it only when
	 * more flows wait than it has pages.
	 */
	snaps_min = e->snaps_pages + 1 > SHARED_POLL_MIN ? e->snaps_pages + 1 : SHARED_POLL_MIN;
	drop_min = e->droplet_pages + 1 > SHARED_POLL_MIN ? e->droplet_pages + 1 : SHARED_POLL_MIN;
	for (i = 0; i < e->n_flows; i++) {
		struct flow *f = &e->flows[i];

		if (f->state == FS_DONE || f->inflight || f->wake_at > now + slack)
			continue;
		if (f->wait == W_DROPLET) {
			n_drop++;
			due_drop = due_drop || f->wake_at <= now;
		} else if (f->wait == W_ACTION && !f->action_individual) {
			n_act++;
			due_act = due_act || f->wake_at <= now;
		} else if (f->wait == W_SNAPS && !f->snaps_individual && f->wake_at <= now) {
			n_snaps++;
		}
	}
	/* The slack only lets others join a listing a due flow needs anyway. */
	if (!due_drop)
		n_drop = 0;
	if (!due_act)
		n_act = 0;
	if (n_snaps >= snaps_min && !e->shared_snaps_out &&
	    api_list_snapshots_async(e->c, "droplet", on_shared_snaps, e, &e->shared_snaps_id) == 0)
		e->shared_snaps_out = true;
	else
		n_snaps = 0;
	if (n_drop >= drop_min && !e->shared_droplets_out &&
	    api_list_droplets_async(e->c, NULL, NULL, on_shared_droplets, e, &e->shared_droplets_id) == 0)
		e->shared_droplets_out = true;
	else
		n_drop = 0;
	if (n_act >= SHARED_POLL_MIN && !e->shared_actions_out &&
	    api_list_actions_async(e->c, SHARED_ACTIONS_ITEMS, on_shared_actions, e, &e->shared_actions_id) == 0)
		e->shared_actions_out = true;
	else
		n_act = 0;

	for (i = 0; i < e->n_flows; i++) {
		struct flow *f = &e->flows[i];
		bool due = f->wake_at <= now;
		int r = 0;

		if (f->state == FS_DONE || f->inflight || f->wake_at > now + slack)
			continue;
		if (f->wait == W_SNAPS) {
			if (!due)
				continue;
			if (n_snaps > 0 && !f->snaps_individual) {
				f->by_shared = true;
			} else {
				/* Alone: its reply goes through on_reply like any step's. */
				f->wait = W_NONE;
				queued(f, api_list_droplet_snapshots_async(e->c, f->id, on_reply, f,
				    &f->req_id), "snapshot listing");
				continue;
			}
		} else if (f->wait == W_DROPLET) {
			if (n_drop > 0)
				f->by_shared = true;
			else if (!due)
				continue;
			else
				r = api_get_droplet_async(e->c, f->id, on_poll_reply, f, &f->req_id);
		} else if (f->wait == W_ACTION) {
			if (!due && !(n_act > 0 && !f->action_individual))
				continue;
			if (n_act > 0 && !f->action_individual)
				f->by_shared = true;
			else if (f->action_by_droplet)
				r = api_get_droplet_action_async(e->c, f->id, f->action_id,
				    on_poll_reply, f, &f->req_id);
			else
				r = api_get_action_async(e->c, f->action_id, on_poll_reply, f, &f->req_id);
		} else {
			continue;
		}
		if (r < 0)
			poll_later(f);
		else
			f->inflight = true;
	}
}

/* --- the engine ---------------------------------------------------------- */

/*
 * The API's clock, from the Date of an answer: how far the local clock (or
 * --now) is from it.  Said once per run when it is more than a few minutes.
 */
static void
note_clock(struct engine *e, int64_t api_date)
{
	int64_t local, off;

	if (api_date == 0)
		return;
	local = e->cfg->wall_now + (clock_mono_ms() - e->t_start) / 1000;
	off = local - api_date;
	e->have_offset = true;
	e->clock_offset_s = off;
	if (!e->warned_clock && (off > STATE_CLOCK_WARN_S || off < -STATE_CLOCK_WARN_S)) {
		int64_t a = off < 0 ? -off : off;

		e->warned_clock = true;
		emit_engine(e, FLOW_WARN, "the local clock is %" PRId64 "h%02" PRId64 "m%02" PRId64
		    "s %s the API's (the Date of its answers); snapshot ages are measured by the "
		    "API's clock, but check the host's time (timedatectl, NTP)", a / 3600,
		    a / 60 % 60, a % 60, off > 0 ? "ahead of" : "behind");
	}
}

/*
 * The longest one droplet's flow may take, in seconds before --time-scale:
 * waiting out an action pending when it began (timeout), shutdown and the
 * power_off fallback (shutdown-timeout + power timeout), the snapshot with
 * its hard deadline (3 x timeout), restoring power (2 x power timeout), and
 * lookups and listings.  Pruning has PRUNE_BOUND_S of its own.
 */
static int64_t
flow_bound_s(const struct flow *f)
{
	const struct sched_opts *o = f->opts;

	return o->shutdown_timeout + (1 + SNAPSHOT_HARD_FACTOR) * o->timeout +
	    3 * (int64_t)f->e->power_timeout_s + BOUND_SLACK_S;
}

/* Flows past their bound end, whatever they wait for. */
static void
check_bounds(struct engine *e, int64_t now)
{
	size_t i;

	for (i = 0; i < e->n_flows; i++) {
		struct flow *f = &e->flows[i];

		if (f->state == FS_DONE || f->state == FS_PENDING || now < f->end_by)
			continue;
		if (f->inflight && !f->by_shared)
			(void)api_client_cancel(e->c, f->req_id);
		give_up_off(f, -ETIMEDOUT, "did not finish within its bound of %.0f s",
		    (double)(f->end_by - f->t0) / 1000);
	}
}

static struct flow_result *
add_result(struct engine *e, const struct flow_job *job)
{
	struct flow_result *r;

	if (e->n_results == e->cap_results) {
		size_t cap = e->cap_results ? e->cap_results * 2 : 16;
		struct flow_result *n = realloc(e->results, cap * sizeof(*n));

		if (n == NULL)
			return NULL;
		e->results = n;
		e->cap_results = cap;
	}
	r = &e->results[e->n_results++];
	memset(r, 0, sizeof(*r));
	r->job = job;
	return r;
}

/* Free what a flow holds; safe to call again (finish, then the engine's end). */
static void
flow_release(struct flow *f)
{
	size_t i;

	for (i = 0; i < f->n_vols; i++) {
		free(f->vols[i].id);
		free(f->vols[i].name);
		api_snapshot_list_free(f->vols[i].snaps);
		if (f->vdel != NULL)
			free(f->vdel[i]);
	}
	free(f->vdel);
	free(f->vols);
	free(f->del);
	api_snapshot_list_free(f->snaps);
	f->vdel = NULL;
	f->vols = NULL;
	f->n_vols = 0;
	f->del = NULL;
	f->snaps = NULL;
}

static bool
droplet_busy_elsewhere(const struct engine *e, const struct flow *f)
{
	size_t i;

	for (i = 0; i < e->n_flows; i++) {
		const struct flow *o = &e->flows[i];

		if (o != f && o->id == f->id && o->state != FS_PENDING && o->state != FS_DONE)
			return true;
	}
	return false;
}

static void
start_flows(struct engine *e)
{
	size_t i;
	int cap = e->cfg->jobs > 0 ? e->cfg->jobs : 10;

	for (i = 0; i < e->n_flows && e->running < (size_t)cap && !e->stopping; i++) {
		struct flow *f = &e->flows[i];

		if (f->state != FS_PENDING || droplet_busy_elsewhere(e, f))
			continue;
		e->running++;
		f->t0 = clock_mono_ms();
		f->end_by = f->t0 + scaled(e, (double)(e->prune_only ? PRUNE_BOUND_S :
		    flow_bound_s(f)) * 1000);
		if (e->prune_only) {
			f->state = FS_LIST_AFTER;
			f->snapshot_ok = true;
			f->wait = W_SNAPS;
			f->wake_at = clock_mono_ms();
		} else if (f->pending_action_id != 0) {
			/*
			 * An action in progress (a run that died left a snapshot
			 * going, say): its snapshot may appear any moment, so
			 * wait for it before looking for this slot's snapshot.
			 */
			emit(f, FLOW_WARN, false, "%s, with action %" PRId64 " in progress; waiting "
			    "for it", api_droplet_status_name(f->status), f->pending_action_id);
			f->resume = FS_REEVAL;
			f->deadline = clock_mono_ms() + scaled(e, (double)f->opts->timeout * 1000);
			wait_action(f, FS_BUSY, f->pending_action_id, POLL_NEXT_MS, POLL_SNAPSHOT_CAP_MS);
		} else {
			emit(f, FLOW_INFO, false, "%s, %s", api_droplet_status_name(f->status),
			    f->opts->power == SCHED_POWER_LIVE ? "live snapshot" : "power-off snapshot");
			go_list_snaps(f);
		}
		if (f->state == FS_DONE)
			continue;
	}
	if (e->stopping) {
		for (i = 0; i < e->n_flows; i++) {
			struct flow *f = &e->flows[i];

			if (f->state != FS_PENDING)
				continue;
			f->state = FS_DONE;
			f->res->r = -EINTR;
			f->res->transient = true;
			set_error(f->res, "not started: dosnap was stopped");
			e->done++;
		}
	}
}

static void
run_timers(struct engine *e, int64_t now)
{
	size_t i;

	for (i = 0; i < e->n_flows; i++) {
		struct flow *f = &e->flows[i];

		if (f->state == FS_DONE || f->inflight || f->wait != W_TIMER || f->wake_at > now)
			continue;
		flow_resume(f);
	}
}

/* On a stop: flows that have not powered anything off end; the others restore. */
static void
begin_stop(struct engine *e)
{
	long t = e->cfg->stop_timeout_s > 0 ? e->cfg->stop_timeout_s : 300;
	size_t i, n_on = 0;
	char d[32];

	e->stopping = true;
	/* Scaled as every other wait is, so tests can stop quickly. */
	e->stop_deadline = clock_mono_ms() + scaled(e, (double)t * 1000);
	for (i = 0; i < e->n_flows; i++) {
		const struct flow *f = &e->flows[i];

		if (f->state != FS_DONE && f->state != FS_PENDING && f->powered_off &&
		    f->res->before == API_DROPLET_ACTIVE)
			n_on++;
	}
	if (t % 3600 == 0)
		snprintf(d, sizeof(d), "%ldh", t / 3600);
	else if (t % 60 == 0)
		snprintf(d, sizeof(d), "%ldm", t / 60);
	else
		snprintf(d, sizeof(d), "%lds", t);
	if (n_on > 0)
		emit_engine(e, FLOW_WARN, "stopping: %zu droplet%s to power back on, up to %s "
		    "(--stop-timeout); a second Ctrl-C or SIGTERM more than 2 s after the first "
		    "leaves %s for the next run", n_on, n_on == 1 ? "" : "s", d,
		    n_on == 1 ? "it" : "them");
	else
		emit_engine(e, FLOW_WARN, "stopping: no droplet is powered off; starting nothing "
		    "new");
	for (i = 0; i < e->n_flows; i++) {
		struct flow *f = &e->flows[i];

		if (f->state == FS_DONE || f->state == FS_PENDING || f->inflight)
			continue;
		if (f->state == FS_WAIT_OFF || f->state == FS_BUSY ||
		    (f->wait == W_TIMER && f->state != FS_RESTORE)) {
			fail(f, -EINTR, true, "stopped by a signal; restoring its power");
			go_restore(f);
		}
	}
}

static void
report_progress(struct engine *e, int64_t t0)
{
	struct flow_progress p = { .total = e->n_flows };
	size_t i;

	for (i = 0; i < e->n_flows; i++) {
		const struct flow *f = &e->flows[i];

		switch (f->state) {
		case FS_PENDING:
			p.waiting++;
			break;
		case FS_DONE:
			p.done++;
			if (f->res->r < 0)
				p.failed++;
			break;
		case FS_SHUTDOWN:
		case FS_WAIT_OFF:
		case FS_POWEROFF:
			p.powering_off++;
			break;
		case FS_VOLUMES:
		case FS_SNAPSHOT:
		case FS_WAIT_SNAPSHOT:
			p.snapshotting++;
			break;
		case FS_RESTORE:
		case FS_WAIT_ON:
			p.powering_on++;
			break;
		case FS_LIST_AFTER:
		case FS_PRUNE:
			p.pruning++;
			break;
		case FS_REEVAL:
		case FS_LIST_SNAPS:
		case FS_BUSY:
		case FS_FIND_OUT:
			p.looking++;
			break;
		}
	}
	p.elapsed_s = (double)(clock_mono_ms() - t0) / 1000.0;
	e->cfg->progress(&p, e->cfg->event_userdata);
}

static int
engine_loop(struct engine *e)
{
	int64_t t0 = clock_mono_ms(), last_progress = 0;
	size_t last_done = 0;
	int r;

	for (;;) {
		int64_t now = clock_mono_ms(), next = -1;
		long api_next;
		size_t i;
		int timeout;

		if (!e->stopping && e->cfg->stop != NULL && *e->cfg->stop)
			begin_stop(e);
		if (e->stopping && now >= e->stop_deadline) {
			for (i = 0; i < e->n_flows; i++) {
				struct flow *f = &e->flows[i];

				if (f->state == FS_DONE || f->state == FS_PENDING)
					continue;
				if (f->powered_off && f->res->before == API_DROPLET_ACTIVE)
					f->res->left_off = true;
				fail(f, -EINTR, true, "stop timeout reached%s", f->res->left_off ?
				    "; LEFT POWERED OFF until the next run recovers it" : "");
				finish(f);
			}
			return -EINTR;
		}
		check_bounds(e, now);
		start_flows(e);
		/* Also when a flow ended: the last state drawn must be the true one. */
		if (e->cfg->progress != NULL && (now - last_progress >= 250 || e->done != last_done)) {
			last_progress = now;
			last_done = e->done;
			report_progress(e, t0);
		}
		if (e->done == e->n_flows && api_client_pending(e->c) == 0)
			return 0;
		run_timers(e, now);
		poll_tick(e, now);

		for (i = 0; i < e->n_flows; i++) {
			const struct flow *f = &e->flows[i];

			if (f->state == FS_DONE || f->inflight || f->wait == W_NONE || f->by_shared)
				continue;
			if (next < 0 || f->wake_at < next)
				next = f->wake_at;
		}
		timeout = 1000;
		if (next >= 0)
			timeout = next <= now ? 0 : (int)(next - now < 1000 ? next - now : 1000);
		api_next = api_client_next_timeout(e->c);
		if (api_next >= 0 && api_next < timeout)
			timeout = (int)api_next;
		r = api_client_run(e->c, timeout);
		if (r < 0)
			return r;
	}
}

/* --- resolving targets --------------------------------------------------- */

/* What resolving the targets found: one listing (or one GET) answers all. */
struct resolve {
	struct api_droplet_list *list;	/* the droplets the request returned */
	struct api_error error;
	int r;
	bool pending;
	uint64_t id;			/* the request, to cancel it on a stop */
};

/*
 * Cancel every request still out and collect the callbacks: no callback may
 * run after its owner (a flow, the engine, a frame) is gone.
 */
static void
engine_drain(struct engine *e)
{
	size_t i;
	int k;

	e->draining = true;
	for (i = 0; i < e->n_flows; i++)
		if (e->flows[i].inflight && !e->flows[i].by_shared)
			(void)api_client_cancel(e->c, e->flows[i].req_id);
	if (e->shared_droplets_out)
		(void)api_client_cancel(e->c, e->shared_droplets_id);
	if (e->shared_actions_out)
		(void)api_client_cancel(e->c, e->shared_actions_id);
	if (e->shared_snaps_out)
		(void)api_client_cancel(e->c, e->shared_snaps_id);
	for (k = 0; k < DRAIN_ROUNDS_MAX && api_client_pending(e->c) > 0; k++)
		(void)api_client_run(e->c, 10);
}

/*
 * Run the client until the request ID (whose callback clears *PENDING) is
 * answered.  On a stop, or when the client fails, cancel it and collect its
 * callback before returning, since its userdata may live in the caller's
 * frame.  Returns 0, -EINTR or the client's error.
 */
static int
wait_request(struct engine *e, uint64_t id, const bool *pending)
{
	int r = 0, k;

	while (*pending) {
		if (e->cfg->stop != NULL && *e->cfg->stop) {
			r = -EINTR;
			break;
		}
		r = api_client_run(e->c, 250);
		if (r < 0)
			break;
		r = 0;
	}
	if (*pending) {
		(void)api_client_cancel(e->c, id);
		for (k = 0; k < DRAIN_ROUNDS_MAX && *pending; k++)
			(void)api_client_run(e->c, 10);
	}
	return r;
}

static void
on_resolve(struct api_client *c, struct api_reply *rp, void *userdata)
{
	struct resolve *rs = userdata;

	(void)c;
	rs->pending = false;
	rs->r = rp->r;
	rs->error = rp->error;
	if (rp->droplet != NULL) {
		/* A single GET: make it a list of one. */
		rs->list = calloc(1, sizeof(*rs->list));
		if (rs->list == NULL) {
			rs->r = -ENOMEM;
			return;
		}
		rs->list->n = 1;
		rs->list->items = rp->droplet;
		rp->droplet = NULL;
	} else {
		rs->list = rp->droplets;
		rp->droplets = NULL;
	}
	if (rs->r == 0 && rs->list == NULL)
		rs->r = -EPROTO;
}

static bool
droplet_matches(const struct api_droplet *d, const struct sched_target *t)
{
	size_t i;

	switch (t->kind) {
	case SCHED_TARGET_ID:
		return (uint64_t)d->id == t->id;
	case SCHED_TARGET_NAME:
		return d->name != NULL && strcmp(d->name, t->value) == 0;
	case SCHED_TARGET_TAG:
		for (i = 0; i < d->n_tags; i++)
			if (strcmp(d->tags[i], t->value) == 0)
				return true;
		return false;
	}
	return false;
}

static void
target_text(const struct sched_target *t, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s", t->kind == SCHED_TARGET_TAG ? "tag:" :
	    t->kind == SCHED_TARGET_NAME ? "name:" : "", t->value);
}

static int
add_flow(struct engine *e, const struct flow_job *job, const struct api_droplet *d,
    size_t *cap)
{
	const char *tmpl = job->entry->opts.name_template != NULL ?
	    job->entry->opts.name_template : SCHED_DEFAULT_NAME;
	struct flow *f;
	size_t i;
	int r;

	for (i = 0; i < e->n_flows; i++)
		if (e->flows[i].job == job && e->flows[i].id == d->id)
			return 0;	/* two targets of one entry, one droplet */
	if (e->n_flows == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct flow *n = realloc(e->flows, nc * sizeof(*n));

		if (n == NULL)
			return -ENOMEM;
		e->flows = n;
		*cap = nc;
	}
	f = &e->flows[e->n_flows];
	memset(f, 0, sizeof(*f));
	f->e = e;
	f->job = job;
	f->opts = &job->entry->opts;
	f->id = d->id;
	snprintf(f->id_str, sizeof(f->id_str), "%" PRId64, d->id);
	snprintf(f->name, sizeof(f->name), "%s", d->name != NULL ? d->name : "");
	f->status = d->status;
	r = naming_render(tmpl, f->id_str, d->name != NULL ? d->name : f->id_str, job->slot,
	    job->entry->zone, f->snap_name, sizeof(f->snap_name));
	if (r < 0)
		return r;
	if (d->n_volume_ids > 0 && job->entry->opts.volumes) {
		f->vols = calloc(d->n_volume_ids, sizeof(*f->vols));
		if (f->vols == NULL)
			return -ENOMEM;
		for (i = 0; i < d->n_volume_ids; i++) {
			f->vols[i].id = strdup(d->volume_ids[i]);
			if (f->vols[i].id == NULL) {
				f->n_vols = i;
				flow_release(f);
				return -ENOMEM;
			}
		}
		f->n_vols = d->n_volume_ids;
	}
	e->n_flows++;
	return 0;
}

/*
 * Resolve every job's targets to droplets.  More than one target in all:
 * one listing of every droplet (a page per 200) answers them all.  One
 * target: a single GET, or a listing by tag or name.
 */
static int
resolve_targets(struct engine *e, const struct flow_job *jobs, size_t n)
{
	struct resolve rs = { .r = 0 };
	size_t i, j, t = 0, cap = 0;
	const struct sched_target *only = NULL;
	int r = 0;

	for (i = 0; i < n; i++) {
		/* Every droplet: one listing, as for many targets. */
		t += jobs[i].all_droplets ? 2 : jobs[i].entry->n_targets;
		if (jobs[i].entry->n_targets > 0)
			only = &jobs[i].entry->targets[0];
	}
	if (t == 0)
		return 0;
	if (t == 1 && only->kind == SCHED_TARGET_ID)
		r = api_get_droplet_async(e->c, (int64_t)only->id, on_resolve, &rs, &rs.id);
	else if (t == 1 && only->kind == SCHED_TARGET_TAG)
		r = api_list_droplets_async(e->c, only->value, NULL, on_resolve, &rs, &rs.id);
	else if (t == 1)
		r = api_list_droplets_async(e->c, NULL, only->value, on_resolve, &rs, &rs.id);
	else
		r = api_list_droplets_async(e->c, NULL, NULL, on_resolve, &rs, &rs.id);
	if (r < 0)
		return r;
	rs.pending = true;
	r = wait_request(e, rs.id, &rs.pending);
	if (r < 0)
		goto out;
	if (t > 1 && rs.list != NULL)
		e->droplet_pages = rs.list->n / API_PER_PAGE + 1;

	/* Make a flow per (job, droplet), and a failed result per empty target. */
	for (i = 0; i < n; i++) {
		const struct sched_entry *en = jobs[i].entry;
		size_t n_targets = jobs[i].all_droplets ? 1 : en->n_targets;

		for (j = 0; j < n_targets; j++) {
			const struct sched_target *tg = jobs[i].all_droplets ? NULL : &en->targets[j];
			struct flow_result *res;
			char tt[160], ebuf[512];
			size_t m, matched = 0;

			for (m = 0; rs.r == 0 && rs.list != NULL && m < rs.list->n; m++) {
				if (tg != NULL && !droplet_matches(&rs.list->items[m], tg))
					continue;
				r = add_flow(e, &jobs[i], &rs.list->items[m], &cap);
				if (r < 0)
					goto out;
				matched++;
			}
			if (matched > 0 || (tg == NULL && rs.r == 0))
				continue;
			res = add_result(e, &jobs[i]);
			if (res == NULL) {
				r = -ENOMEM;
				goto out;
			}
			if (tg != NULL)
				target_text(tg, tt, sizeof(tt));
			else
				snprintf(tt, sizeof(tt), "all droplets");
			snprintf(res->target, sizeof(res->target), "%s", tt);
			if (rs.r < 0 && rs.r != -ENOENT) {
				res->r = rs.r;
				res->transient = rs.error.transient || rs.r == -EIO ||
				    rs.r == -ETIMEDOUT || rs.r == -EAGAIN;
				res->auth = rs.r == -EACCES;
				set_error(res, "cannot resolve %s: %s", tt,
				    api_error_format(&rs.error, ebuf, sizeof(ebuf)));
			} else {
				res->r = -ENOENT;
				set_error(res, "%s matches no droplet%s", tt,
				    tg != NULL && tg->kind == SCHED_TARGET_ID ? " (404)" : "");
			}
		}
	}
out:
	api_droplet_list_free(rs.list);
	return r;
}

/*
 * One listing of the account's newest actions tells which droplets have one
 * in progress, for one request in all.  A failure here is no failure: a
 * droplet with a pending action answers 422 later, and that is waited out.
 */
struct pending_look {
	struct api_action_list *l;
	bool pending;
	uint64_t id;
};

static void
on_pending_actions(struct api_client *c, struct api_reply *rp, void *userdata)
{
	struct pending_look *pl = userdata;

	(void)c;
	pl->pending = false;
	if (rp->r == 0) {
		pl->l = rp->actions;
		rp->actions = NULL;
	}
}

static void
note_pending_actions(struct engine *e)
{
	struct pending_look pl = { .l = NULL };
	struct api_action_list *l;
	size_t i, j;

	if (api_list_actions_async(e->c, SHARED_ACTIONS_ITEMS, on_pending_actions, &pl,
	    &pl.id) < 0)
		return;
	pl.pending = true;
	if (wait_request(e, pl.id, &pl.pending) < 0 || pl.l == NULL) {
		api_action_list_free(pl.l);
		return;
	}
	l = pl.l;
	for (i = 0; i < l->n; i++) {
		const struct api_action *a = &l->items[i];

		if (a->status != API_ACTION_IN_PROGRESS)
			continue;
		for (j = 0; j < e->n_flows; j++)
			if (e->flows[j].id == a->resource_id && e->flows[j].pending_action_id == 0)
				e->flows[j].pending_action_id = a->id;
	}
	api_action_list_free(l);
}

static int
engine_run(struct api_client *c, const struct flow_config *cfg, const struct flow_job *jobs,
    size_t n, bool prune_only, struct flow_report *ret)
{
	struct engine e = { .c = c, .cfg = cfg, .prune_only = prune_only };
	size_t i, base;
	int r;

	e.scale = cfg->time_scale > 0 ? cfg->time_scale : 1.0;
	e.power_timeout_s = cfg->power_timeout_s > 0 ? cfg->power_timeout_s : 300;
	e.t_start = clock_mono_ms();
	r = resolve_targets(&e, jobs, n);
	if (r < 0)
		goto fail;
	/* Results for the flows after those of unresolved targets. */
	base = e.n_results;
	for (i = 0; i < e.n_flows; i++) {
		if (add_result(&e, e.flows[i].job) == NULL) {
			r = -ENOMEM;
			goto fail;
		}
	}
	for (i = 0; i < e.n_flows; i++) {
		struct flow *f = &e.flows[i];
		struct flow_result *res = &e.results[base + i];
		size_t k;

		f->res = res;
		res->droplet_id = f->id;
		res->before = f->status;
		/* Off only because a run that died powered it off: it was active. */
		for (k = 0; k < cfg->n_was_active_ids; k++) {
			if (cfg->was_active_ids[k] == f->id) {
				res->before = API_DROPLET_ACTIVE;
				f->powered_off = true;
			}
		}
		snprintf(res->droplet_name, sizeof(res->droplet_name), "%s", f->name);
		snprintf(res->snapshot_name, sizeof(res->snapshot_name), "%s",
		    prune_only ? "" : f->snap_name);
	}
	if (!prune_only && e.n_flows > 0)
		note_pending_actions(&e);
	r = engine_loop(&e);
	engine_drain(&e);
	for (i = 0; i < e.n_flows; i++)
		flow_release(&e.flows[i]);
	free(e.flows);
	if (e.have_offset && !cfg->dry_run && cfg->hooks.clock != NULL)
		cfg->hooks.clock(e.clock_offset_s, cfg->hooks.clock_userdata);
	ret->have_clock_offset = e.have_offset;
	ret->clock_offset_s = e.clock_offset_s;
	ret->results = e.results;
	ret->n = e.n_results;
	ret->n_failed = 0;
	for (i = 0; i < e.n_results; i++)
		if (e.results[i].r < 0)
			ret->n_failed++;
	return r == -EINTR ? 0 : r;
fail:
	for (i = 0; i < e.n_flows; i++)
		flow_release(&e.flows[i]);
	free(e.flows);
	for (i = 0; i < e.n_results; i++)
		free(e.results[i].error);
	free(e.results);
	return r;
}

int
flow_run(struct api_client *c, const struct flow_config *cfg, const struct flow_job *jobs,
    size_t n, struct flow_report *ret)
{
	return engine_run(c, cfg, jobs, n, false, ret);
}

int
flow_prune(struct api_client *c, const struct flow_config *cfg, const struct flow_job *jobs,
    size_t n, struct flow_report *ret)
{
	return engine_run(c, cfg, jobs, n, true, ret);
}

void
flow_report_release(struct flow_report *rep)
{
	size_t i;

	if (rep == NULL)
		return;
	for (i = 0; i < rep->n; i++)
		free(rep->results[i].error);
	free(rep->results);
	memset(rep, 0, sizeof(*rep));
}
