/* flow_poll: shared polling: one account-wide listing answers many waiting flows. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dosnap/api.h"
#include "dosnap/flow.h"
#include "dosnap/schedule.h"
#include "dosnap/state.h"
#include "dosnap/util.h"
#include "flow_internal.h"

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
				flow_on_droplet_status(f, rp->droplets->items[j].status);
				break;
			}
		}
		if (!seen && rp->r == -EACCES) {
			flow_lost_auth(f, rp);
		} else if (!seen) {
			flow_poll_later(f);
			flow_wait_deadline(f);
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
				flow_dispatch_action(f, &rp->actions->items[j]);
				break;
			}
		}
		if (!seen && rp->r == -EACCES) {
			flow_lost_auth(f, rp);
		} else if (!seen) {
			/* Older than the newest page: ask for it alone next time. */
			f->action_individual = rp->r == 0;
			flow_poll_later(f);
			flow_wait_deadline(f);
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
			flow_on_reply(c, &one, f);
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
		flow_on_reply(c, &one, f);
		api_reply_release(&one);
	}
}

/* Which shared listings went out this round: the flows that ride along with them. */
struct shared_round {
	bool droplets, actions, snaps;
};

/*
 * Send the shared listings worth sending now: when enough flows wait (those
 * due within SLACK join those due at NOW).  Fills *RET with what went out.
 */
static void
send_shared(struct engine *e, int64_t now, int64_t slack, struct shared_round *ret)
{
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
	ret->snaps = n_snaps >= snaps_min && !e->shared_snaps_out &&
	    api_list_snapshots_async(e->c, "droplet", on_shared_snaps, e, &e->shared_snaps_id) == 0;
	if (ret->snaps)
		e->shared_snaps_out = true;
	ret->droplets = n_drop >= drop_min && !e->shared_droplets_out &&
	    api_list_droplets_async(e->c, NULL, NULL, on_shared_droplets, e,
	    &e->shared_droplets_id) == 0;
	if (ret->droplets)
		e->shared_droplets_out = true;
	ret->actions = n_act >= SHARED_POLL_MIN && !e->shared_actions_out &&
	    api_list_actions_async(e->c, SHARED_ACTIONS_ITEMS, on_shared_actions, e,
	    &e->shared_actions_id) == 0;
	if (ret->actions)
		e->shared_actions_out = true;
}

/* Send the polls that are due: one listing for many, or one request each. */
void
engine_poll_tick(struct engine *e, int64_t now)
{
	/*
	 * Polls due within this slack ride along with a shared listing: asking
	 * a little early costs nothing, and it keeps flows that drifted apart
	 * sharing one request.
	 */
	int64_t slack = scaled(e, 1000);
	struct shared_round sh;
	size_t i;

	send_shared(e, now, slack, &sh);
	for (i = 0; i < e->n_flows; i++) {
		struct flow *f = &e->flows[i];
		bool due = f->wake_at <= now;
		int r = 0;

		if (f->state == FS_DONE || f->inflight || f->wake_at > now + slack)
			continue;
		if (f->wait == W_SNAPS) {
			if (!due)
				continue;
			if (sh.snaps && !f->snaps_individual) {
				f->by_shared = true;
			} else {
				/* Alone: its reply goes through flow_on_reply like any step's. */
				f->wait = W_NONE;
				flow_queued(f, api_list_droplet_snapshots_async(e->c, f->id, flow_on_reply, f,
				    &f->req_id), "snapshot listing");
				continue;
			}
		} else if (f->wait == W_DROPLET) {
			if (sh.droplets)
				f->by_shared = true;
			else if (!due)
				continue;
			else
				r = api_get_droplet_async(e->c, f->id, flow_on_poll_reply, f, &f->req_id);
		} else if (f->wait == W_ACTION) {
			if (!due && !(sh.actions && !f->action_individual))
				continue;
			if (sh.actions && !f->action_individual)
				f->by_shared = true;
			else if (f->action_by_droplet)
				r = api_get_droplet_action_async(e->c, f->id, f->action_id,
				    flow_on_poll_reply, f, &f->req_id);
			else
				r = api_get_action_async(e->c, f->action_id, flow_on_poll_reply, f, &f->req_id);
		} else {
			continue;
		}
		if (r < 0)
			flow_poll_later(f);
		else
			f->inflight = true;
	}
}
