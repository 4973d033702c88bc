/* flow_resolve: targets to droplets, a flow per (job, droplet), and actions already in progress. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dosnap/api.h"
#include "dosnap/flow.h"
#include "dosnap/schedule.h"
#include "dosnap/target.h"
#include "dosnap/util.h"
#include "flow_internal.h"

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

/* The leaks the analyzer sees here are the false ones flow_internal.h describes. */
ANALYZER_LEAK_FP_BEGIN
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
	/* Bounded by the listings (API_LIST_MAX) and the jobs: the cap only stops an overflow. */
	r = grow_array(&e->flows, cap, e->n_flows + 1, sizeof(*e->flows), SIZE_MAX / sizeof(*e->flows));
	if (r < 0)
		return r;
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
ANALYZER_LEAK_FP_END

/*
 * A failed result for target TG of JOB (NULL: all droplets), which matched
 * no droplet or could not be resolved (RS says which).  0 or -ENOMEM.
 */
static int
add_unresolved(struct engine *e, const struct flow_job *job, const struct sched_target *tg,
    const struct resolve *rs)
{
	struct flow_result *res = engine_add_result(e, job);
	char tt[160], ebuf[512];

	if (res == NULL)
		return -ENOMEM;
	if (tg != NULL)
		target_format(tg, tt, sizeof(tt));
	else
		snprintf(tt, sizeof(tt), "all droplets");
	snprintf(res->target, sizeof(res->target), "%s", tt);
	if (rs->r < 0 && rs->r != -ENOENT) {
		res->r = rs->r;
		res->transient = rs->error.transient || rs->r == -EIO ||
		    rs->r == -ETIMEDOUT || rs->r == -EAGAIN;
		res->auth = rs->r == -EACCES;
		flow_set_error(res, "cannot resolve %s: %s", tt,
		    api_error_format(&rs->error, ebuf, sizeof(ebuf)));
	} else {
		res->r = -ENOENT;
		flow_set_error(res, "%s matches no droplet%s", tt,
		    tg != NULL && tg->kind == SCHED_TARGET_ID ? " (404)" : "");
	}
	return 0;
}

/*
 * Resolve every job's targets to droplets.  More than one target in all:
 * one listing of every droplet (a page per 200) answers them all.  One
 * target: a single GET, or a listing by tag or name.
 */
int
engine_resolve_targets(struct engine *e, const struct flow_job *jobs, size_t n)
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
	/* One target in all: ONLY is it (the test of ONLY is for the analyzer). */
	if (t == 1 && only != NULL && only->kind == SCHED_TARGET_ID)
		r = api_get_droplet_async(e->c, (int64_t)only->id, on_resolve, &rs, &rs.id);
	else if (t == 1 && only != NULL && only->kind == SCHED_TARGET_TAG)
		r = api_list_droplets_async(e->c, only->value, NULL, on_resolve, &rs, &rs.id);
	else if (t == 1 && only != NULL)
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
			size_t m, matched = 0;

			for (m = 0; rs.r == 0 && rs.list != NULL && m < rs.list->n; m++) {
				if (tg != NULL && !target_matches(&rs.list->items[m], tg))
					continue;
				r = add_flow(e, &jobs[i], &rs.list->items[m], &cap);
				if (r < 0)
					goto out;
				matched++;
			}
			if (matched > 0 || (tg == NULL && rs.r == 0))
				continue;
			r = add_unresolved(e, &jobs[i], tg, &rs);
			if (r < 0)
				goto out;
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

void
engine_note_pending_actions(struct engine *e)
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
