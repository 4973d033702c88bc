/* recover: finish what a dosnap that died left open in the intent journal. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dosnap/api.h"
#include "dosnap/recover.h"
#include "dosnap/util.h"

#define RECOVER_POLL_MS		2000	/* the first wait between polls */
#define RECOVER_POLL_MAX_MS	30000	/* growing to this */

const char *
recover_outcome_name(enum recover_outcome o)
{
	switch (o) {
	case RECOVER_RESTORED:
		return "restored";
	case RECOVER_ALREADY:
		return "already restored";
	case RECOVER_WAITING:
		return "waiting";
	case RECOVER_GONE:
		return "droplet gone";
	case RECOVER_FAILED:
		return "failed";
	case RECOVER_PLANNED:
		return "planned";
	}
	return "unknown";
}

/*
 * Sleep MS milliseconds, in slices, and return early (true) when *STOP
 * becomes non-zero: a wait for a snapshot may be long, and systemd's stop
 * must not wait for it.
 */
static bool
sleep_ms(double ms, const volatile sig_atomic_t *stop)
{
	int64_t until = clock_mono_ms() + (int64_t)(ms < 1 ? 1 : ms);

	for (;;) {
		int64_t left = until - clock_mono_ms();
		struct timespec ts;

		if (stop != NULL && *stop)
			return true;
		if (left <= 0)
			return false;
		if (left > 100)
			left = 100;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left * 1000000;
		nanosleep(&ts, NULL);
	}
}

static void
set(struct recover_result *res, enum recover_outcome o, bool transient, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
set(struct recover_result *res, enum recover_outcome o, bool transient, const char *fmt, ...)
{
	va_list ap;

	res->outcome = o;
	res->transient = transient;
	va_start(ap, fmt);
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
}

/*
 * Is an action of this droplet still running (the snapshot, or a shutdown
 * the dead run sent)?  1 yes, 0 no, <0 unknown.  Until it ends, the
 * droplet's status says nothing settled: a shutdown in flight shows
 * "active" and turns "off" a moment later.
 */
static int
action_in_progress(struct api_client *c, const struct journal_record *rec,
    struct api_error *err, int64_t *ret_action)
{
	struct api_action_list *l = NULL;
	struct api_action *a = NULL;
	size_t i;
	int r;

	if (rec->action_id != 0) {
		/*
		 * A 404 on the action says nothing of the droplet: find out
		 * from its own list of actions below, which 404s when it is gone.
		 */
		r = api_get_action(c, rec->action_id, &a, err);
		if (r < 0 && r != -ENOENT)
			return r;
		if (r == 0) {
			r = a->status == API_ACTION_IN_PROGRESS;
			api_action_free(a);
			if (r) {
				*ret_action = rec->action_id;
				return 1;
			}
		}
	}
	r = api_list_droplet_actions(c, rec->droplet_id, 20, &l, err);
	if (r < 0)
		return r;
	r = 0;
	for (i = 0; i < l->n; i++) {
		if (l->items[i].status == API_ACTION_IN_PROGRESS) {
			*ret_action = l->items[i].id;
			r = 1;
			break;
		}
	}
	api_action_list_free(l);
	return r;
}

/* The droplet is gone (deleted meanwhile): its record goes too.  Returns 0, RES the outcome. */
static int
forget_gone(struct journal *j, const struct recover_config *cfg, struct recover_result *res)
{
	set(res, RECOVER_GONE, false, "the droplet no longer exists; forgetting it");
	if (j != NULL && !cfg->dry_run)
		res->journal_r = journal_remove(j, res->rec.droplet_id);
	return 0;
}

/*
 * Look at one record's droplet; send power_on when it needs one.  Returns
 * 1 when power_on was sent (wait for the droplet to be active), 2 when an
 * action is still in progress (RECOVER_WAITING: look again once it ends),
 * 0 when RES holds the outcome.
 */
static int
recover_one(struct api_client *c, struct journal *j, const struct recover_config *cfg,
    struct recover_result *res)
{
	const struct journal_record *rec = &res->rec;
	struct api_droplet *d = NULL;
	struct api_action *a = NULL;
	struct api_error err;
	char ebuf[512];
	int64_t action = 0;
	int r, busy;

	/*
	 * Actions first, the droplet after: a shutdown the dead run sent may
	 * still be running, showing "active" a moment before it turns "off".
	 * Once nothing is in progress (and the run that started things is
	 * dead), the status read next cannot change under us.
	 */
	busy = action_in_progress(c, rec, &err, &action);
	if (busy == -ENOENT) {
		return forget_gone(j, cfg, res);
	}
	if (busy < 0) {
		set(res, RECOVER_FAILED, err.transient || busy == -EIO || busy == -ETIMEDOUT,
		    "cannot see its actions: %s", api_error_format(&err, ebuf, sizeof(ebuf)));
		return 0;
	}
	if (busy) {
		res->action_id = action;
		set(res, RECOVER_WAITING, true, "action %" PRId64 " still in progress; "
		    "its power is restored once that ends", action);
		return 2;
	}
	r = api_get_droplet(c, rec->droplet_id, &d, &err);
	if (r == -ENOENT) {
		return forget_gone(j, cfg, res);
	}
	if (r < 0) {
		set(res, RECOVER_FAILED, err.transient || r == -EIO || r == -ETIMEDOUT,
		    "cannot look it up: %s", api_error_format(&err, ebuf, sizeof(ebuf)));
		return 0;
	}
	if (!rec->was_active || d->status == API_DROPLET_ACTIVE) {
		set(res, RECOVER_ALREADY, false, "%s, as before; nothing to do",
		    api_droplet_status_name(d->status));
		api_droplet_free(d);
		if (j != NULL && !cfg->dry_run)
			res->journal_r = journal_remove(j, rec->droplet_id);
		return 0;
	}
	api_droplet_free(d);
	if (cfg->dry_run) {
		set(res, RECOVER_PLANNED, false, "off but was active: would send power_on");
		return 0;
	}
	r = api_post_droplet_action(c, rec->droplet_id, "power_on", NULL, &a, NULL, &err);
	api_action_free(a);
	if (r < 0) {
		set(res, RECOVER_FAILED, err.transient || r == -EBUSY || r == -EIO,
		    "power_on failed: %s", api_error_format(&err, ebuf, sizeof(ebuf)));
		return 0;
	}
	return 1;
}

/* Where one record stands while recover_run waits. */
enum wait_state {
	WAIT_NONE,	/* its outcome is known */
	WAIT_ACTION,	/* an action (the snapshot) is in progress: look again */
	WAIT_POWER,	/* power_on sent: wait until it is active */
};

struct waiter {
	enum wait_state state;
	int64_t deadline;	/* monotonic ms: give up waiting here */
	int64_t next;		/* monotonic ms: poll again here */
	double interval;	/* ms, before scaling: 2 s growing to 30 s */
};

static void
waiter_start(struct waiter *w, enum wait_state state, int64_t now, double scale, long limit_s)
{
	w->state = state;
	w->deadline = now + (int64_t)((double)limit_s * 1000 * scale);
	w->interval = RECOVER_POLL_MS;
	w->next = now + (int64_t)(w->interval * scale);
}

/* One poll of a waiting record; updates W and RES. */
static void
poll_one(struct api_client *c, struct journal *j, const struct recover_config *cfg,
    struct recover_result *res, struct waiter *w, int64_t now, double scale, long power_s)
{
	struct api_droplet *d = NULL;
	struct api_error err;
	char ebuf[512];
	int r;

	w->interval = w->interval * 1.5 > RECOVER_POLL_MAX_MS ? RECOVER_POLL_MAX_MS :
	    w->interval * 1.5;
	w->next = now + (int64_t)(w->interval * scale);
	if (w->state == WAIT_ACTION) {
		/* Look again as on the first pass: the action, then the droplet. */
		r = recover_one(c, j, cfg, res);
		if (r == 1)
			waiter_start(w, WAIT_POWER, now, scale, power_s);
		else if (r == 0 && !(res->outcome == RECOVER_FAILED && res->transient))
			w->state = WAIT_NONE;
		/* A passing failure while waiting: look again until the deadline. */
		return;
	}
	r = api_get_droplet(c, res->rec.droplet_id, &d, &err);
	if (r == -ENOENT) {
		set(res, RECOVER_GONE, false, "the droplet no longer exists; forgetting it");
		w->state = WAIT_NONE;
		if (j != NULL)
			res->journal_r = journal_remove(j, res->rec.droplet_id);
		return;
	}
	if (r < 0) {
		if (!err.transient && r != -EIO && r != -ETIMEDOUT) {
			set(res, RECOVER_FAILED, false, "power_on sent, but cannot look it up: %s",
			    api_error_format(&err, ebuf, sizeof(ebuf)));
			w->state = WAIT_NONE;
		}
		return;
	}
	if (d->status == API_DROPLET_ACTIVE) {
		set(res, RECOVER_RESTORED, false, "powered back on");
		w->state = WAIT_NONE;
		if (j != NULL)
			res->journal_r = journal_remove(j, res->rec.droplet_id);
	}
	api_droplet_free(d);
}

int
recover_run(struct api_client *c, struct journal *j, const struct recover_config *cfg,
    const struct journal_record *recs, size_t n, struct recover_result **ret)
{
	double scale = cfg->time_scale > 0 ? cfg->time_scale : 1.0;
	long power_s = cfg->power_timeout_s > 0 ? cfg->power_timeout_s : 300;
	long action_s = cfg->snapshot_wait_s > 0 ? cfg->snapshot_wait_s : RECOVER_SNAPSHOT_WAIT_S;
	struct recover_result *res;
	struct waiter *w;
	size_t i, left = 0;
	bool stopped = false;
	int64_t now;

	res = calloc(n ? n : 1, sizeof(*res));
	w = calloc(n ? n : 1, sizeof(*w));
	if (res == NULL || w == NULL) {
		free(res);
		free(w);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		int r;

		res[i].rec = recs[i];
		r = recover_one(c, j, cfg, &res[i]);
		now = clock_mono_ms();
		if (r == 1)
			waiter_start(&w[i], WAIT_POWER, now, scale, power_s);
		else if (r == 2 && !cfg->dry_run) {
			waiter_start(&w[i], WAIT_ACTION, now, scale, action_s);
			if (cfg->waiting != NULL)
				cfg->waiting(&res[i], action_s, cfg->userdata);
		}
		left += w[i].state != WAIT_NONE;
	}
	/*
	 * Every record is claimed and every power_on is out.  The waits may be
	 * long (a snapshot may take hours), so let other runs start meanwhile:
	 * they see these records but, with the lock shared, leave them to us.
	 */
	if (left > 0 && j != NULL)
		journal_share(j);
	while (left > 0 && !stopped) {
		int64_t next = INT64_MAX;

		now = clock_mono_ms();
		for (i = 0; i < n; i++) {
			if (w[i].state == WAIT_NONE)
				continue;
			if (now >= w[i].deadline) {
				/* A poll that failed last keeps its own message. */
				if (w[i].state == WAIT_ACTION && res[i].outcome != RECOVER_FAILED)
					set(&res[i], RECOVER_WAITING, true, "action %" PRId64 " still in "
					    "progress after waiting %ld s for it; the next run powers it "
					    "on once it ends", res[i].action_id, action_s);
				else if (w[i].state == WAIT_POWER)
					set(&res[i], RECOVER_FAILED, true, "power_on sent but it is not "
					    "active after %ld s", power_s);
				w[i].state = WAIT_NONE;
				left--;
				continue;
			}
			if (w[i].next < next)
				next = w[i].next;
			if (w[i].deadline < next)
				next = w[i].deadline;
		}
		if (left == 0)
			break;
		if (next > now && sleep_ms((double)(next - now), cfg->stop)) {
			stopped = true;
			break;
		}
		now = clock_mono_ms();
		for (i = 0; i < n; i++) {
			if (w[i].state == WAIT_NONE || now < w[i].next || now >= w[i].deadline)
				continue;
			poll_one(c, j, cfg, &res[i], &w[i], now, scale, power_s);
			if (w[i].state == WAIT_NONE)
				left--;
		}
	}
	for (i = 0; stopped && i < n; i++) {
		if (w[i].state == WAIT_ACTION)
			set(&res[i], RECOVER_WAITING, true, "stopped by a signal while action %"
			    PRId64 " was in progress; the next run powers it on once it ends",
			    res[i].action_id);
		else if (w[i].state == WAIT_POWER)
			set(&res[i], RECOVER_FAILED, true, "stopped by a signal after power_on was "
			    "sent; the next run checks it");
	}
	free(w);
	*ret = res;
	return 0;
}
