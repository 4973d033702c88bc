/* flow_engine: the flows' event loop: job slots, stop and drain, progress, events and results. */
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

/* --- events and results ------------------------------------------------- */

void
flow_emit(struct flow *f, enum flow_level level, bool dry, const char *fmt, ...)
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
void
engine_emit(struct engine *e, enum flow_level level, const char *fmt, ...)
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
ANALYZER_LEAK_FP_BEGIN
void
flow_set_error(struct flow_result *res, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	free(res->error);
	res->error = strdup(buf);
}
ANALYZER_LEAK_FP_END

/* Record the flow's first failure; later ones are only reported. */
void
flow_fail(struct flow *f, int r, bool transient, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (f->res->r == 0) {
		f->res->r = r < 0 ? r : -EIO;
		f->res->transient = transient;
		flow_set_error(f->res, "%s", msg);
	}
	flow_emit(f, FLOW_ERROR, false, "%s", msg);
}

void
flow_fail_reply(struct flow *f, const struct api_reply *rp, const char *what)
{
	char buf[512];

	api_error_format(&rp->error, buf, sizeof(buf));
	if (rp->r == -EACCES)
		f->res->auth = true;
	flow_fail(f, rp->r, rp->error.transient || rp->r == -ETIMEDOUT || rp->r == -EAGAIN ||
	    rp->r == -EIO, "%s: %s", what, buf);
}

/* --- the engine ---------------------------------------------------------- */

/*
 * The API's clock, from the Date of an answer: how far the local clock (or
 * --now) is from it.  Said once per run when it is more than a few minutes.
 */
void
engine_note_clock(struct engine *e, int64_t api_date)
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
		engine_emit(e, FLOW_WARN, "the local clock is %" PRId64 "h%02" PRId64 "m%02" PRId64
		    "s %s the API's (the Date of its answers); snapshot ages are measured by the "
		    "API's clock, but check the host's time (timedatectl, NTP)", a / 3600,
		    a / 60 % 60, a % 60, off > 0 ? "ahead of" : "behind");
	}
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
		flow_give_up_off(f, -ETIMEDOUT, "did not finish within its bound of %.0f s",
		    (double)(f->end_by - f->t0) / 1000);
	}
}

struct flow_result *
engine_add_result(struct engine *e, const struct flow_job *job)
{
	struct flow_result *r;

	if (grow_array(&e->results, &e->cap_results, e->n_results + 1, sizeof(*e->results),
	    SIZE_MAX / sizeof(*e->results)) < 0)
		return NULL;
	r = &e->results[e->n_results++];
	memset(r, 0, sizeof(*r));
	r->job = job;
	return r;
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
		flow_start(f);
	}
	if (e->stopping) {
		for (i = 0; i < e->n_flows; i++) {
			struct flow *f = &e->flows[i];

			if (f->state != FS_PENDING)
				continue;
			f->state = FS_DONE;
			f->res->r = -EINTR;
			f->res->transient = true;
			flow_set_error(f->res, "not started: dosnap was stopped");
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
		engine_emit(e, FLOW_WARN, "stopping: %zu droplet%s to power back on, up to %s "
		    "(--stop-timeout); a second Ctrl-C or SIGTERM more than 2 s after the first "
		    "leaves %s for the next run", n_on, n_on == 1 ? "" : "s", d,
		    n_on == 1 ? "it" : "them");
	else
		engine_emit(e, FLOW_WARN, "stopping: no droplet is powered off; starting nothing "
		    "new");
	for (i = 0; i < e->n_flows; i++)
		flow_stop(&e->flows[i]);

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
		case FS_VOL_LOOKUP:
		case FS_VOL_LIST:
		case FS_VOL_SNAPSHOT:
		case FS_SNAPSHOT:
		case FS_WAIT_SNAPSHOT:
			p.snapshotting++;
			break;
		case FS_RESTORE:
		case FS_CHECK_OFF:
		case FS_POWER_ON:
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
		case FS_FIND_SNAP:
		case FS_FIND_ACTION:
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
				flow_fail(f, -EINTR, true, "stop timeout reached%s", f->res->left_off ?
				    "; LEFT POWERED OFF until the next run recovers it" : "");
				flow_finish(f);
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
		engine_poll_tick(e, now);

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
 * A result for each flow, after those of unresolved targets, with what is
 * known before it starts: the droplet, its power state before, the
 * snapshot's name.  0 or -ENOMEM.
 */
static int
add_flow_results(struct engine *e)
{
	const struct flow_config *cfg = e->cfg;
	size_t i, base = e->n_results;

	for (i = 0; i < e->n_flows; i++)
		if (engine_add_result(e, e->flows[i].job) == NULL)
			return -ENOMEM;
	for (i = 0; i < e->n_flows; i++) {
		struct flow *f = &e->flows[i];
		struct flow_result *res = &e->results[base + i];
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
		    e->prune_only ? "" : f->snap_name);
	}
	return 0;
}

static int
engine_run(struct api_client *c, const struct flow_config *cfg, const struct flow_job *jobs,
    size_t n, bool prune_only, struct flow_report *ret)
{
	struct engine e = { .c = c, .cfg = cfg, .prune_only = prune_only };
	size_t i;
	int r;

	e.scale = cfg->time_scale > 0 ? cfg->time_scale : 1.0;
	e.power_timeout_s = cfg->power_timeout_s > 0 ? cfg->power_timeout_s : 300;
	e.t_start = clock_mono_ms();
	r = engine_resolve_targets(&e, jobs, n);
	if (r < 0)
		goto fail;
	r = add_flow_results(&e);
	if (r < 0)
		goto fail;
	if (!prune_only && e.n_flows > 0)
		engine_note_pending_actions(&e);
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
