/* recover: finish what a dosnap that died left open in the intent journal. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dosnap/api.h"
#include "dosnap/recover.h"

#define RECOVER_POLL_MS		2000

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

static void
sleep_ms(double ms)
{
	struct timespec ts;

	if (ms < 1)
		ms = 1;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)((ms - (double)ts.tv_sec * 1000) * 1000000);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
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
		r = api_get_action(c, rec->action_id, &a, err);
		if (r < 0)
			return r;
		r = a->status == API_ACTION_IN_PROGRESS;
		api_action_free(a);
		if (r) {
			*ret_action = rec->action_id;
			return 1;
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

/* Look at one record's droplet; send power_on when it needs one.  1: wait for it. */
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
		set(res, RECOVER_GONE, false, "the droplet no longer exists; forgetting it");
		if (j != NULL && !cfg->dry_run)
			(void)journal_remove(j, rec->droplet_id);
		return 0;
	}
	if (busy < 0) {
		set(res, RECOVER_FAILED, true, "cannot see its actions: %s",
		    api_error_format(&err, ebuf, sizeof(ebuf)));
		return 0;
	}
	if (busy) {
		set(res, RECOVER_WAITING, true, "action %" PRId64 " still in progress; "
		    "its power is restored once that ends", action);
		return 0;
	}
	r = api_get_droplet(c, rec->droplet_id, &d, &err);
	if (r == -ENOENT) {
		set(res, RECOVER_GONE, false, "the droplet no longer exists; forgetting it");
		if (j != NULL && !cfg->dry_run)
			(void)journal_remove(j, rec->droplet_id);
		return 0;
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
			(void)journal_remove(j, rec->droplet_id);
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

int
recover_run(struct api_client *c, struct journal *j, const struct recover_config *cfg,
    const struct journal_record *recs, size_t n, struct recover_result **ret)
{
	double scale = cfg->time_scale > 0 ? cfg->time_scale : 1.0;
	long timeout_s = cfg->power_timeout_s > 0 ? cfg->power_timeout_s : 300;
	struct recover_result *res;
	bool *waiting;
	size_t i, left = 0;
	double waited = 0;

	res = calloc(n ? n : 1, sizeof(*res));
	waiting = calloc(n ? n : 1, sizeof(*waiting));
	if (res == NULL || waiting == NULL) {
		free(res);
		free(waiting);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		res[i].rec = recs[i];
		if (recover_one(c, j, cfg, &res[i]) == 1) {
			waiting[i] = true;
			left++;
		}
	}
	/* Every power_on is out; now wait for them together. */
	while (left > 0 && waited < (double)timeout_s * 1000) {
		sleep_ms(RECOVER_POLL_MS * scale);
		waited += RECOVER_POLL_MS;
		for (i = 0; i < n; i++) {
			struct api_droplet *d = NULL;

			if (!waiting[i] || api_get_droplet(c, recs[i].droplet_id, &d, NULL) < 0)
				continue;
			if (d->status == API_DROPLET_ACTIVE) {
				waiting[i] = false;
				left--;
				set(&res[i], RECOVER_RESTORED, false, "powered back on");
				if (j != NULL)
					(void)journal_remove(j, recs[i].droplet_id);
			}
			api_droplet_free(d);
		}
	}
	for (i = 0; i < n; i++)
		if (waiting[i])
			set(&res[i], RECOVER_FAILED, true, "power_on sent but it is not active "
			    "after %ld s", timeout_s);
	free(waiting);
	*ret = res;
	return 0;
}
