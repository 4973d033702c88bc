/* flow: one droplet's snapshot flow, a state machine: power off, snapshot, power on, prune. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dosnap/api.h"
#include "dosnap/flow.h"
#include "dosnap/naming.h"
#include "dosnap/retention.h"
#include "dosnap/schedule.h"
#include "dosnap/util.h"
#include "flow_internal.h"

/*
 * The states, and a diagram of how a flow moves between them, are above
 * enum fstate in flow_internal.h.  Here: go_X and step_X enter a state (send
 * its request, or set up its wait); on_X handles the reply to X's request
 * (on_reply_of, at the end of the replies); flow_on_droplet_status and
 * flow_dispatch_action what a poll found.
 */

static void go_restore(struct flow *f);
static void go_after_snapshot(struct flow *f);
static void go_prune(struct flow *f);
static void restore_or_finish(struct flow *f);
static bool snapshot_wait_over(struct flow *f);

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
void
flow_poll_later(struct flow *f)
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

/* Queue a request for F; a failure to queue is the flow's failure. */
bool
flow_queued(struct flow *f, int r, const char *what)
{
	if (r == 0) {
		f->inflight = true;
		return true;
	}
	flow_fail(f, r, false, "cannot send %s: %s", what, strerror(-r));
	return false;
}

static void
send_action(struct flow *f, const char *type, const char *name)
{
	flow_queued(f, api_post_droplet_action_async(f->e->c, f->id, type, name, flow_on_reply, f,
	    &f->req_id), type);
}

/* Power on: the state whose reply says whether it was accepted. */
static void
send_power_on(struct flow *f)
{
	f->state = FS_POWER_ON;
	send_action(f, "power_on", NULL);
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
			flow_give_up_off(f, -EBUSY, "power_on kept being refused with a pending event "
			    "(%d times)", BUSY_MAX);
			return;
		}
		flow_fail(f, -EBUSY, true, "the droplet kept reporting a pending event (%d times); "
		    "giving up", BUSY_MAX);
		restore_or_finish(f);
		return;
	}
	flow_emit(f, FLOW_WARN, false, "has an action in progress; waiting for it");
	f->resume = resume;
	f->state = FS_BUSY;
	f->wait = W_NONE;
	flow_queued(f, api_list_droplet_actions_async(f->e->c, f->id, 20, flow_on_reply, f, &f->req_id),
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
			flow_fail(f, r, false, "cannot record the intent to power it off (%s); "
			    "leaving it running", strerror(-r));
			flow_finish(f);
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
		flow_fail(f, -EINTR, true, "stopped by a signal before the snapshot; restoring its power");
		go_restore(f);
		return;
	}
	f->state = FS_SNAPSHOT;
	f->step_t0 = clock_mono_ms();
	send_action(f, "snapshot", f->snap_name);
}

/* Volume vol_i's step STATE; past the last volume, the droplet's snapshot. */
static void
step_volume(struct flow *f, enum fstate state)
{
	struct vol *v;
	int r;

	if (f->vol_i == f->n_vols) {
		step_snapshot(f);
		return;
	}
	v = &f->vols[f->vol_i];
	f->state = state;
	if (state == FS_VOL_LOOKUP) {
		r = api_get_volume_async(f->e->c, v->id, flow_on_reply, f, &f->req_id);
		flow_queued(f, r, "volume lookup");
	} else if (state == FS_VOL_LIST) {
		r = api_list_volume_snapshots_async(f->e->c, v->id, flow_on_reply, f, &f->req_id);
		flow_queued(f, r, "volume snapshot listing");
	} else {
		r = api_create_volume_snapshot_async(f->e->c, v->id, v->snap_name, flow_on_reply, f,
		    &f->req_id);
		flow_queued(f, r, "volume snapshot");
	}
}

/* The droplet is off (or live mode): volumes first, then the droplet. */
static void
step_take(struct flow *f)
{
	if (f->opts->volumes && f->n_vols > 0) {
		f->vol_i = 0;
		step_volume(f, FS_VOL_LOOKUP);
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
		flow_emit(f, FLOW_NOTICE, true, "would send shutdown (power_off after %" PRId64 " s)",
		    f->opts->shutdown_timeout);
	for (i = 0; f->opts->volumes && i < f->n_vols; i++)
		flow_emit(f, FLOW_NOTICE, true, "would snapshot volume %s", f->vols[i].id);
	flow_emit(f, FLOW_NOTICE, true, "would send snapshot '%s'", f->snap_name);
	if (!live && f->status == API_DROPLET_ACTIVE)
		flow_emit(f, FLOW_NOTICE, true, "would send power_on");
}

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
		flow_emit(f, FLOW_NOTICE, false, "snapshot '%s' for this slot exists already (id %s); "
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
		flow_fail(f, -EINTR, true, "stopped before it began");
		restore_or_finish(f);
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
			flow_fail(f, -EIO, false, "cannot record the intent to power it back on; "
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
	flow_fail(f, -EINVAL, false, "droplet is '%s', neither active nor off; not snapshotting it",
	    api_droplet_status_name(f->status));
	restore_or_finish(f);
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
	flow_queued(f, api_get_droplet_async(f->e->c, f->id, flow_on_reply, f, &f->req_id),
	    "droplet lookup");
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
		flow_give_up_off(f, -ETIMEDOUT, "set out to restore its power %d times",
		    RESTORE_ROUNDS_MAX);
		return;
	}
	/*
	 * Look first: the service may have powered it on after the snapshot.
	 * The look is a status poll, so many droplets share one listing.
	 */
	f->state = FS_RESTORE;
	f->step_t0 = clock_mono_ms();
	f->wait = W_DROPLET;
	f->want = API_DROPLET_ACTIVE;
	f->wake_at = clock_mono_ms();
}

/*
 * Where a flow goes after a failure before its snapshot: back to the power
 * state it found, when it may have changed it, or straight to its end.
 */
static void
restore_or_finish(struct flow *f)
{
	if (f->powered_off)
		go_restore(f);
	else
		flow_finish(f);
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
void
flow_give_up_off(struct flow *f, int r, const char *fmt, ...)
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
		flow_fail(f, r, true, "LEFT POWERED OFF: %s; the next run powers it on, or power it on "
		    "by hand (doctl compute droplet-action power-on %" PRId64 ")", why, f->id);
	} else {
		flow_fail(f, r, true, "%s", why);
	}
	flow_finish(f);
}

/* Restoring power: the look, power_on, its wait, or a 422 met on the way. */
static bool
restoring(const struct flow *f)
{
	return f->state == FS_RESTORE || f->state == FS_CHECK_OFF || f->state == FS_POWER_ON ||
	    f->state == FS_WAIT_ON ||
	    (f->state == FS_BUSY && f->resume == FS_RESTORE);
}

/*
 * 401 or 403 while the flow waits: the token was revoked or lost its scope,
 * and no later answer will be better.  Restore power (which may still work,
 * the refusal may be of one endpoint) and stop; a refusal while restoring
 * ends the flow with the droplet left for the next run.
 */
void
flow_lost_auth(struct flow *f, const struct api_reply *rp)
{
	char buf[512];

	f->res->auth = true;
	api_error_format(&rp->error, buf, sizeof(buf));
	if (f->auth_lost || restoring(f)) {
		flow_give_up_off(f, -EACCES, "the API refused the token while restoring its power (%s)",
		    buf);
		return;
	}
	f->auth_lost = true;
	flow_fail(f, -EACCES, false, "the API refused the token while waiting (%s); restoring its "
	    "power and stopping", buf);
	f->wait = W_NONE;
	f->snapshot_ok = false;
	restore_or_finish(f);
}

static void
go_after_snapshot(struct flow *f)
{
	f->wait = W_NONE;
	if (!f->snapshot_ok || f->res->adopted || f->e->stopping) {
		if (f->snapshot_ok && f->res->adopted && !f->e->stopping)
			go_prune(f);
		else
			flow_finish(f);
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
	struct retention_rule rule = {
		.tmpl = o->name_template != NULL ? o->name_template : SCHED_DEFAULT_NAME,
		.keep = o->keep,
		.max_age = o->max_age,
		.now = f->api_now != 0 ? f->api_now : f->e->cfg->wall_now,
	};
	size_t j;

	if (f->snaps == NULL || f->snaps->n == 0)
		return 0;
	/* Pruning alone took no snapshot, so none is spared by name. */
	if (retention_plan(f->snaps->items, f->snaps->n, &rule,
	    f->e->prune_only ? NULL : f->snap_name, &f->del) < 0)
		return -ENOMEM;
	for (j = 0; o->volumes && j < f->n_vols; j++) {
		struct vol *v = &f->vols[j];

		if (f->vdel == NULL)
			f->vdel = calloc(f->n_vols, sizeof(*f->vdel));
		if (f->vdel == NULL)
			goto nomem;
		if (v->snaps == NULL || v->snaps->n == 0)
			continue;
		if (retention_plan(v->snaps->items, v->snaps->n, &rule, v->snap_name,
		    &f->vdel[j]) < 0)
			goto nomem;
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
			flow_emit(f, FLOW_NOTICE, true, "would delete snapshot %s '%s'", s->id, s->name);
			continue;
		}
		f->del_i++;
		flow_emit(f, FLOW_INFO, false, "deleting snapshot %s '%s'", s->id, s->name);
		flow_queued(f, api_delete_snapshot_async(f->e->c, s->id, flow_on_reply, f, &f->req_id),
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
				flow_emit(f, FLOW_NOTICE, true, "would delete volume snapshot %s '%s'",
				    s->id, s->name);
				continue;
			}
			f->vdel_i++;
			flow_emit(f, FLOW_INFO, false, "deleting volume snapshot %s '%s'", s->id, s->name);
			flow_queued(f, api_delete_volume_snapshot_async(f->e->c, s->id, flow_on_reply, f,
			    &f->req_id), "volume snapshot deletion");
			return;
		}
	}
	flow_finish(f);
}

static void
go_prune(struct flow *f)
{
	f->wait = W_NONE;
	if (f->opts->keep < 0 && f->opts->max_age < 0) {
		flow_finish(f);
		return;
	}
	if (plan_retention(f) < 0) {
		flow_fail(f, -ENOMEM, false, "out of memory while choosing which snapshots to prune; "
		    "nothing was deleted");
		flow_finish(f);
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

void
flow_finish(struct flow *f)
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
		flow_emit(f, FLOW_NOTICE, false, "done: snapshot '%s'%s%s%s in %.1f s%s",
		    f->snap_name, f->res->snapshot_id[0] ? " (id " : "", f->res->snapshot_id,
		    f->res->snapshot_id[0] ? ")" : "", f->res->seconds,
		    f->res->deleted ? ", old snapshots pruned" : "");
}

/* --- starting and stopping ------------------------------------------------ */

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

void
flow_start(struct flow *f)
{
	struct engine *e = f->e;

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
		flow_emit(f, FLOW_WARN, false, "%s, with action %" PRId64 " in progress; waiting "
		    "for it", api_droplet_status_name(f->status), f->pending_action_id);
		f->resume = FS_REEVAL;
		f->deadline = clock_mono_ms() + scaled(e, (double)f->opts->timeout * 1000);
		wait_action(f, FS_BUSY, f->pending_action_id, POLL_NEXT_MS, POLL_SNAPSHOT_CAP_MS);
	} else {
		flow_emit(f, FLOW_INFO, false, "%s, %s", api_droplet_status_name(f->status),
		    f->opts->power == SCHED_POWER_LIVE ? "live snapshot" : "power-off snapshot");
		go_list_snaps(f);
	}
}

/* On a stop: a flow that waits restores power now; one with a request out, when it comes back. */
void
flow_stop(struct flow *f)
{
	if (f->state == FS_DONE || f->state == FS_PENDING || f->inflight)
		return;
	if (f->state == FS_WAIT_OFF || f->state == FS_BUSY ||
	    (f->wait == W_TIMER && f->state != FS_RESTORE)) {
		flow_fail(f, -EINTR, true, "stopped by a signal; restoring its power");
		go_restore(f);
	}
}

/* --- replies ------------------------------------------------------------- */

/* RESTORE's look before power_on: the droplet's power state ST. */
static void
on_restore_look(struct flow *f, enum api_droplet_status st)
{
	f->wait = W_NONE;
	if (st == API_DROPLET_ACTIVE && f->seen_off) {
		flow_emit(f, FLOW_INFO, false, "active again (the service powered it on)");
		restored(f);
	} else if (st == API_DROPLET_ACTIVE && !f->sent_off) {
		flow_emit(f, FLOW_INFO, false, "still active: it never went off");
		restored(f);
	} else if (st == API_DROPLET_ACTIVE && f->power_on_refused) {
		flow_emit(f, FLOW_INFO, false, "active (power_on was refused with nothing in "
		    "progress: it is on)");
		restored(f);
	} else if (st == API_DROPLET_ACTIVE && f->off_action_id != 0) {
		/*
		 * "active" after a power action of ours was accepted:
		 * it may be a stale status.  Only an errored action
		 * means it never went off.
		 */
		f->state = FS_CHECK_OFF;
		flow_queued(f, api_get_action_async(f->e->c, f->off_action_id, flow_on_reply, f,
		    &f->req_id), "power action lookup");
	} else {
		send_power_on(f);
	}
}

void
flow_on_droplet_status(struct flow *f, enum api_droplet_status st)
{
	f->status = st;
	if (st == API_DROPLET_OFF) {
		f->seen_off = true;
		f->power_action_id = 0;	/* off: whatever we sent has done its work */
	}
	if (f->state == FS_RESTORE) {
		on_restore_look(f, st);
		return;
	}
	if (st == f->want) {
		f->wait = W_NONE;
		if (f->state == FS_WAIT_OFF) {
			flow_emit(f, FLOW_INFO, false, "off after %.1f s", since_s(f->step_t0));
			if (f->e->stopping) {
				flow_fail(f, -EINTR, true, "stopped by a signal before the snapshot; "
				    "restoring its power");
				go_restore(f);
				return;
			}
			step_take(f);
		} else {
			flow_emit(f, FLOW_INFO, false, "active again after %.1f s", since_s(f->step_t0));
			restored(f);
		}
		return;
	}
	if (clock_mono_ms() < f->deadline) {
		flow_poll_later(f);
		return;
	}
	f->wait = W_NONE;
	if (f->state == FS_WAIT_OFF && !f->poweroff_phase) {
		flow_emit(f, FLOW_WARN, false, "still %s %.0f s after shutdown; sending power_off",
		    api_droplet_status_name(st), since_s(f->step_t0));
		step_poweroff(f);
	} else if (f->state == FS_WAIT_OFF) {
		flow_fail(f, -ETIMEDOUT, true, "still %s after power_off; not snapshotting a running "
		    "droplet", api_droplet_status_name(st));
		go_restore(f);
	} else {
		/* Power-on sent but the droplet stays off: send it again. */
		flow_emit(f, FLOW_WARN, false, "still %s after power_on; trying again",
		    api_droplet_status_name(st));
		if (++f->restore_tries >= RESTORE_TRIES) {
			f->res->left_off = true;
			flow_fail(f, -ETIMEDOUT, true, "LEFT POWERED OFF: power_on did not bring it back "
			    "after %d tries; power it on by hand (doctl compute droplet-action "
			    "power-on %" PRId64 ")", RESTORE_TRIES, f->id);
			flow_finish(f);
			return;
		}
		send_power_on(f);
	}
}

static bool snapshot_wait_over(struct flow *f);
static void
on_snapshot_action(struct flow *f, const struct api_action *a)
{
	if (a->status == API_ACTION_COMPLETED) {
		f->wait = W_NONE;
		f->snapshot_ok = true;
		flow_emit(f, FLOW_INFO, false, "snapshot '%s' completed in %.1f s", f->snap_name,
		    since_s(f->step_t0));
		go_restore(f);
		return;
	}
	if (a->status == API_ACTION_ERRORED) {
		f->wait = W_NONE;
		flow_fail(f, -EIO, false, "snapshot action %" PRId64 " errored", a->id);
		go_restore(f);
		return;
	}
	if (!snapshot_wait_over(f))
		flow_poll_later(f);
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
		flow_fail(f, -ETIMEDOUT, true, "snapshot not finished after %" PRId64 " s (timeout=); "
		    "waiting for it before powering on", f->opts->timeout);
	}
	if (now >= f->hard_deadline || (f->e->stopping && now >= f->e->stop_deadline)) {
		f->wait = W_NONE;
		if (f->powered_off && f->res->before == API_DROPLET_ACTIVE) {
			f->res->left_off = true;
			flow_fail(f, -ETIMEDOUT, true, "LEFT POWERED OFF: snapshot action %" PRId64
			    " still in progress after %.0f s, so it cannot be powered on yet; the "
			    "next run powers it on once the snapshot ends", f->action_id,
			    since_s(f->step_t0));
		}
		flow_finish(f);
		return true;
	}
	return false;
}

/* After a poll that brought no answer: the wait's deadline still holds. */
void
flow_wait_deadline(struct flow *f)
{
	if (f->wait == W_DROPLET) {
		if (clock_mono_ms() >= f->deadline)
			flow_on_droplet_status(f, f->status);
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
		flow_emit(f, FLOW_WARN, false, "action %" PRId64 " answers 404; looking at the droplet "
		    "again", f->action_id);
		set_timer(f, f->state == FS_BUSY ? f->resume : FS_REEVAL, busy_backoff_ms(f));
		return;
	}
	if (f->find_outs >= FIND_OUT_MAX) {
		flow_fail(f, -EIO, true, "snapshot action %" PRId64 " keeps answering 404 and no snapshot "
		    "'%s' is listed; not waiting for it", f->action_id, f->snap_name);
		go_restore(f);
		return;
	}
	if (!f->find_said) {
		f->find_said = true;
		flow_emit(f, FLOW_WARN, false, "snapshot action %" PRId64 " answers 404; looking for its "
		    "snapshot and the droplet's actions instead", f->action_id);
	}
	f->state = FS_FIND_SNAP;
	flow_queued(f, api_list_droplet_snapshots_async(f->e->c, f->id, flow_on_reply, f, &f->req_id),
	    "snapshot listing");
}

/* Back to waiting for the snapshot action, deadlines checked. */
static void
resume_snapshot_wait(struct flow *f)
{
	f->state = FS_WAIT_SNAPSHOT;
	f->wait = W_ACTION;
	f->action_individual = true;
	flow_poll_later(f);
	(void)snapshot_wait_over(f);
}

/* A look after a 404 failed: back to the wait (401/403: restore and stop).  True when it did. */
static bool
find_failed(struct flow *f, const struct api_reply *rp)
{
	if (rp->r == -EACCES) {
		f->state = FS_WAIT_SNAPSHOT;
		flow_lost_auth(f, rp);
		return true;
	}
	if (rp->r < 0) {
		resume_snapshot_wait(f);
		return true;
	}
	return false;
}

static void
on_find_snap(struct flow *f, struct api_reply *rp)
{
	const char *existing = NULL;

	if (find_failed(f, rp))
		return;
	if (has_snapshot_named(rp->snapshots, f->snap_name, &existing)) {
		flow_emit(f, FLOW_INFO, false, "snapshot '%s' is listed (id %s): it is done",
		    f->snap_name, existing);
		f->snapshot_ok = true;
		go_restore(f);
		return;
	}
	f->state = FS_FIND_ACTION;
	flow_queued(f, api_list_droplet_actions_async(f->e->c, f->id, 20, flow_on_reply, f,
	    &f->req_id), "action listing");
}

static void
on_find_action(struct flow *f, struct api_reply *rp)
{
	size_t i;

	if (find_failed(f, rp))
		return;
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
			flow_emit(f, FLOW_INFO, false, "following snapshot action %" PRId64 " instead",
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
	flow_fail(f, -EIO, true, "snapshot action %" PRId64 " is gone (404), and neither its snapshot "
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
		flow_lost_auth(f, rp);
		return;
	}
	if (rp->r == -ENOENT && f->wait == W_ACTION && !f->action_by_droplet) {
		/* The same action under the droplet: a second way to ask. */
		f->action_by_droplet = true;
		f->action_individual = true;
		flow_poll_later(f);
		flow_wait_deadline(f);
		return;
	}
	if (rp->r == -ENOENT && f->wait == W_ACTION) {
		go_find_out(f);
		return;
	}
	flow_poll_later(f);
	flow_wait_deadline(f);
}

static void
on_busy_actions(struct flow *f, const struct api_action_list *l)
{
	size_t i;

	for (i = 0; l != NULL && i < l->n; i++) {
		if (l->items[i].status == API_ACTION_IN_PROGRESS) {
			flow_emit(f, FLOW_INFO, false, "waiting for its %s action %" PRId64 " to finish",
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

/* --- replies to a step's request: one handler per state ------------------- */

static void
on_reeval(struct flow *f, struct api_reply *rp)
{
	if (rp->r < 0 || rp->droplet == NULL) {
		flow_fail_reply(f, rp, "cannot look the droplet up");
		restore_or_finish(f);
		return;
	}
	f->status = rp->droplet->status;
	go_list_snaps(f);
}

/* Take a listing's snapshots as the droplet's, and the API's time with them. */
static void
keep_snaps(struct flow *f, struct api_reply *rp)
{
	api_snapshot_list_free(f->snaps);
	f->snaps = rp->snapshots;
	rp->snapshots = NULL;
	f->api_now = rp->server_date;
	engine_note_clock(f->e, rp->server_date);
}

static void
on_list_snaps(struct flow *f, struct api_reply *rp)
{
	if (rp->r < 0 || rp->snapshots == NULL) {
		flow_fail_reply(f, rp, "cannot list its snapshots");
		restore_or_finish(f);
		return;
	}
	keep_snaps(f, rp);
	step_decide(f);
}

static void
on_shutdown(struct flow *f, struct api_reply *rp)
{
	if (rp->r == -EBUSY) {
		go_busy(f, FS_REEVAL);
		return;
	}
	if (rp->r < 0 || rp->action == NULL) {
		char buf[512];

		/* It may have taken effect: then power_on is owed. */
		if (rp->error.ambiguous)
			f->sent_off = true;
		flow_emit(f, FLOW_WARN, false, "shutdown failed (%s); sending power_off",
		    api_error_format(&rp->error, buf, sizeof(buf)));
		step_poweroff(f);
		return;
	}
	flow_emit(f, FLOW_INFO, false, "shutdown sent%s", rp->adopted ? " (adopted)" : "");
	f->power_action_id = rp->action->id;
	f->off_action_id = rp->action->id;
	f->sent_off = true;
	f->deadline = clock_mono_ms() + scaled(f->e, (double)f->opts->shutdown_timeout * 1000);
	wait_droplet(f, FS_WAIT_OFF, API_DROPLET_OFF, POLL_POWER_FIRST_MS);
}

static void
on_poweroff(struct flow *f, struct api_reply *rp)
{
	if (rp->r == -EBUSY) {
		go_busy(f, FS_POWEROFF);
		return;
	}
	if (rp->r < 0 || rp->action == NULL) {
		/* It may have taken effect: then power_on is owed. */
		if (rp->error.ambiguous)
			f->sent_off = true;
		flow_fail_reply(f, rp, "power_off failed");
		go_restore(f);
		return;
	}
	flow_emit(f, FLOW_INFO, false, "power_off sent");
	f->power_action_id = rp->action->id;
	f->off_action_id = rp->action->id;
	f->sent_off = true;
	f->poweroff_phase = true;
	f->deadline = clock_mono_ms() + scaled(f->e, (double)f->e->power_timeout_s * 1000);
	wait_droplet(f, FS_WAIT_OFF, API_DROPLET_OFF, POLL_POWER_FIRST_MS);
}

/* A volume step's request failed: restore power.  True when it did. */
static bool
vol_failed(struct flow *f, const struct api_reply *rp)
{
	if (rp->r >= 0)
		return false;
	flow_fail_reply(f, rp, "volume snapshot failed");
	go_restore(f);
	return true;
}

static void
on_vol_lookup(struct flow *f, struct api_reply *rp)
{
	struct vol *v = &f->vols[f->vol_i];

	if (vol_failed(f, rp))
		return;
	if (rp->volume == NULL) {
		flow_fail(f, -EPROTO, false, "volume %s: the API answered without the volume", v->id);
		go_restore(f);
		return;
	}
	free(v->name);
	v->name = strdup(rp->volume->name != NULL ? rp->volume->name : v->id);
	if (v->name == NULL || naming_render(f->opts->name_template != NULL ?
	    f->opts->name_template : SCHED_DEFAULT_NAME, v->id, v->name,
	    f->job->slot, f->job->entry->zone, v->snap_name, sizeof(v->snap_name)) < 0) {
		flow_fail(f, -ENAMETOOLONG, false, "cannot name the snapshot of volume %s", v->id);
		go_restore(f);
		return;
	}
	step_volume(f, FS_VOL_LIST);
}

static void
on_vol_list(struct flow *f, struct api_reply *rp)
{
	struct vol *v = &f->vols[f->vol_i];
	const char *existing;

	if (vol_failed(f, rp))
		return;
	api_snapshot_list_free(v->snaps);
	v->snaps = rp->snapshots;
	rp->snapshots = NULL;
	if (!has_snapshot_named(v->snaps, v->snap_name, &existing)) {
		step_volume(f, FS_VOL_SNAPSHOT);
		return;
	}
	flow_emit(f, FLOW_INFO, false, "volume %s: snapshot '%s' exists already; adopting it",
	    v->name, v->snap_name);
	f->res->volumes++;
	f->vol_i++;
	step_volume(f, FS_VOL_LOOKUP);
}

static void
on_vol_snapshot(struct flow *f, struct api_reply *rp)
{
	struct vol *v = &f->vols[f->vol_i];

	if (vol_failed(f, rp))
		return;
	flow_emit(f, FLOW_INFO, false, "volume %s: snapshot '%s' taken", v->name, v->snap_name);
	f->res->volumes++;
	f->vol_i++;
	step_volume(f, FS_VOL_LOOKUP);
}

static void
on_snapshot(struct flow *f, struct api_reply *rp)
{
	if (rp->r == -EBUSY) {
		go_busy(f, FS_REEVAL);
		return;
	}
	if (rp->r < 0 || rp->action == NULL) {
		flow_fail_reply(f, rp, "snapshot failed");
		go_restore(f);
		return;
	}
	flow_emit(f, FLOW_INFO, false, "snapshot '%s' started (action %" PRId64 ")%s",
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
}

/* The droplet shows "active" after a power action of ours was accepted: what became of it. */
static void
on_check_off(struct flow *f, struct api_reply *rp)
{
	if (rp->r == 0 && rp->action != NULL && rp->action->status == API_ACTION_ERRORED) {
		flow_emit(f, FLOW_INFO, false, "still active: its %s errored, it never went off",
		    rp->action->type);
		restored(f);
		return;
	}
	if (rp->r == 0 && rp->action != NULL && rp->action->status == API_ACTION_IN_PROGRESS) {
		/* Not off yet, and it may still go off: the record stays for the next run to check. */
		flow_fail(f, -ETIMEDOUT, true, "still active, with its %s action %" PRId64
		    " in progress; its journal record stays and the next run checks it",
		    rp->action->type, rp->action->id);
		flow_finish(f);
		return;
	}
	flow_emit(f, FLOW_WARN, false, "shows active, but its power action %" PRId64
	    " %s; sending power_on anyway (the status may be stale)",
	    f->off_action_id, rp->r == 0 && rp->action != NULL ?
	    (rp->action->status == API_ACTION_COMPLETED ? "completed" :
	    "is not known to have failed") : "could not be read");
	send_power_on(f);
}

static void
on_power_on(struct flow *f, struct api_reply *rp)
{
	char buf[512];

	if (rp->r == -EACCES) {
		flow_lost_auth(f, rp);
		return;
	}
	if (rp->r == -EBUSY) {
		go_busy(f, FS_RESTORE);
		return;
	}
	if (rp->r < 0) {
		if (++f->restore_tries >= RESTORE_TRIES) {
			f->res->left_off = true;
			flow_fail(f, rp->r, true, "LEFT POWERED OFF: cannot power it on (%s); power "
			    "it on by hand (doctl compute droplet-action power-on %" PRId64 ")",
			    api_error_format(&rp->error, buf, sizeof(buf)), f->id);
			flow_finish(f);
			return;
		}
		flow_emit(f, FLOW_WARN, false, "cannot power it on yet (%s); trying again",
		    api_error_format(&rp->error, buf, sizeof(buf)));
		set_timer(f, FS_RESTORE, 2000.0 * (1 << f->restore_tries));
		return;
	}
	flow_emit(f, FLOW_INFO, false, "power_on sent");
	f->deadline = clock_mono_ms() + scaled(f->e, (double)f->e->power_timeout_s * 1000);
	wait_droplet(f, FS_WAIT_ON, API_DROPLET_ACTIVE, POLL_POWER_FIRST_MS);
}

static void
on_list_after(struct flow *f, struct api_reply *rp)
{
	const char *existing;

	if (rp->r < 0 || rp->snapshots == NULL) {
		char buf[512];

		/* The snapshot exists; only its id and pruning are lost. */
		flow_emit(f, FLOW_WARN, false, "cannot list its snapshots after the snapshot (%s); "
		    "not pruning this time", api_error_format(&rp->error, buf, sizeof(buf)));
		flow_finish(f);
		return;
	}
	keep_snaps(f, rp);
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

			flow_emit(f, FLOW_INFO, false, "snapshot '%s' is not listed yet; looking "
			    "again in %.0f s", f->snap_name, ms / 1000);
			f->wait = W_SNAPS;
			f->wake_at = clock_mono_ms() + scaled(f->e, ms);
			return;
		}
		flow_fail(f, -EIO, true, "snapshot '%s' completed but not listed after %d "
		    "listings; not pruning, nothing was deleted", f->snap_name, f->listed_tries);
		flow_finish(f);
		return;
	}
	go_prune(f);
}

static void
on_prune(struct flow *f, struct api_reply *rp)
{
	if (rp->r < 0) {
		flow_fail_reply(f, rp, "pruning failed (the new snapshot was taken)");
		flow_finish(f);
		return;
	}
	f->res->deleted++;
	step_prune(f);
}

static void
on_busy(struct flow *f, struct api_reply *rp)
{
	if (rp->r == -EACCES) {
		flow_lost_auth(f, rp);
		return;
	}
	if (rp->r < 0) {
		flow_fail_reply(f, rp, "cannot list its actions");
		restore_or_finish(f);
		return;
	}
	on_busy_actions(f, rp->actions);
}

/*
 * What answers a state's request.  The states missing here send none of
 * their own: they wait (their polls come back through flow_on_poll_reply or
 * a shared listing) or are not running.
 */
static void (*const on_reply_of[FS_DONE + 1])(struct flow *f, struct api_reply *rp) = {
	[FS_REEVAL] = on_reeval,
	[FS_LIST_SNAPS] = on_list_snaps,
	[FS_SHUTDOWN] = on_shutdown,
	[FS_POWEROFF] = on_poweroff,
	[FS_VOL_LOOKUP] = on_vol_lookup,
	[FS_VOL_LIST] = on_vol_list,
	[FS_VOL_SNAPSHOT] = on_vol_snapshot,
	[FS_SNAPSHOT] = on_snapshot,
	[FS_FIND_SNAP] = on_find_snap,
	[FS_FIND_ACTION] = on_find_action,
	[FS_CHECK_OFF] = on_check_off,
	[FS_POWER_ON] = on_power_on,
	[FS_LIST_AFTER] = on_list_after,
	[FS_PRUNE] = on_prune,
	[FS_BUSY] = on_busy,
};

void
flow_on_reply(struct api_client *c, struct api_reply *rp, void *userdata)
{
	struct flow *f = userdata;

	(void)c;
	if (f->e->draining)
		return;
	f->inflight = false;
	if (f->state == FS_DONE || on_reply_of[f->state] == NULL)
		return;
	on_reply_of[f->state](f, rp);
}

void
flow_dispatch_action(struct flow *f, const struct api_action *a)
{
	if (f->state != FS_BUSY) {
		on_snapshot_action(f, a);
		return;
	}
	/* The pending action that made a POST fail with 422. */
	if (a->status == API_ACTION_IN_PROGRESS && clock_mono_ms() < f->deadline) {
		flow_poll_later(f);
		return;
	}
	f->state = f->resume;
	flow_resume(f);
}

/* A poll of one droplet or one action, for one flow. */
void
flow_on_poll_reply(struct api_client *c, struct api_reply *rp, void *userdata)
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
		flow_on_droplet_status(f, rp->droplet->status);
	else if (f->wait == W_ACTION)
		flow_dispatch_action(f, rp->action);
}

void
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

/* Free what a flow holds; safe to call again (finish, then the engine's end). */
void
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
