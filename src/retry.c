/* retry: when a droplet that failed for a passing reason is tried again within its slot. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dosnap/flow.h"
#include "dosnap/retry.h"
#include "dosnap/schedule.h"
#include "dosnap/state.h"

static int64_t
floor_minute(int64_t t)
{
	int64_t m = t % 60;

	return t - (m < 0 ? m + 60 : m);
}

int64_t
retry_delay(int attempts)
{
	if (attempts < 1)
		attempts = 1;
	if (attempts > 6)
		return RETRY_MAX_DELAY_S;
	return (int64_t)60 << (attempts - 1);
}

int64_t
retry_at(int64_t failed_at, int attempts)
{
	return floor_minute(failed_at) + retry_delay(attempts);
}

int
retry_window_end(const struct sched_entry *e, int64_t slot, int64_t *ret_end)
{
	int64_t next, end = slot + e->opts.catchup + 60;
	int r;

	r = sched_next(e, slot, &next);
	if (r < 0 && r != -ENOENT)
		return r;
	if (r == 0 && next < end)
		end = next;
	*ret_end = end;
	return 0;
}

int
retry_pending(const struct state_entry *se, int64_t *ret_at)
{
	int64_t at = 0;
	size_t i;

	for (i = 0; i < se->n_droplets; i++) {
		const struct state_droplet *d = &se->droplets[i];

		if (d->slot != se->slot || d->outcome != STATE_OUTCOME_PASSING ||
		    d->next_retry == 0)
			continue;
		if (at == 0 || d->next_retry < at)
			at = d->next_retry;
	}
	if (at == 0)
		return 0;
	*ret_at = at;
	return 1;
}

int
retry_due(const struct sched_entry *e, const struct state_entry *se, int64_t now,
    int64_t *ret_slot)
{
	int64_t at, end;
	int r;

	/* The minute with nothing pending pays for this test and no more. */
	if (se == NULL || se->n_droplets == 0 || se->slot == 0 || se->slot > now)
		return 0;
	if (retry_pending(se, &at) == 0 || at > now)
		return 0;
	r = retry_window_end(e, se->slot, &end);
	if (r < 0)
		return r;
	if (now >= end)
		return 0;
	*ret_slot = se->slot;
	return 1;
}

bool
retry_slot_failed(const struct state_entry *se)
{
	size_t i;

	for (i = 0; i < se->n_droplets; i++)
		if (se->droplets[i].slot == se->slot &&
		    (se->droplets[i].outcome == STATE_OUTCOME_PASSING ||
		    se->droplets[i].outcome == STATE_OUTCOME_LASTING))
			return true;
	return false;
}

int
retry_targets(const struct state_entry *se, int64_t now, int64_t **ret, size_t *ret_n)
{
	int64_t *v = NULL;
	size_t i, n = 0;

	*ret = NULL;
	*ret_n = 0;
	for (i = 0; i < se->n_droplets; i++) {
		const struct state_droplet *d = &se->droplets[i];

		if (d->slot != se->slot || d->outcome != STATE_OUTCOME_PASSING ||
		    d->next_retry == 0 || d->next_retry > now)
			continue;
		if (v == NULL) {
			v = calloc(se->n_droplets, sizeof(*v));
			if (v == NULL)
				return -ENOMEM;
		}
		v[n++] = d->id;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/*
 * The lasting failures are those trying again in a minute cannot mend: an
 * errored snapshot, a 4xx other than 429, a refused token, a target that
 * matches no droplet.
 */
static enum state_outcome
classify(const struct flow_result *r)
{
	if (r->r == 0)
		return STATE_OUTCOME_OK;
	if (r->transient && !r->auth)
		return STATE_OUTCOME_PASSING;
	return STATE_OUTCOME_LASTING;
}

static void
set_outcome(struct state_droplet *d, enum state_outcome o, int64_t slot, int64_t ended,
    struct retry_summary *sum)
{
	if (d->slot != slot) {
		d->slot = slot;
		d->attempts = 0;
	}
	d->outcome = o;
	d->last_attempt = ended;
	d->next_retry = 0;
	if (o == STATE_OUTCOME_OK) {
		d->last_success = ended;
		return;
	}
	d->attempts++;
	if (o == STATE_OUTCOME_LASTING) {
		sum->n_lasting++;
		return;
	}
	d->next_retry = retry_at(ended, d->attempts);
	sum->n_passing++;
	if (sum->first_at == 0 || d->next_retry < sum->first_at)
		sum->first_at = d->next_retry;
	if (d->attempts > sum->max_attempts)
		sum->max_attempts = d->attempts;
}

int
retry_note(struct state *st, const struct flow_job *job, const struct flow_report *rep,
    const int64_t *retried, size_t n_retried, int64_t ended, struct retry_summary *ret)
{
	struct retry_summary sum = { 0 };
	const struct flow_result *unresolved = NULL;
	struct state_entry *se;
	size_t i, k;

	se = state_get(st, job->entry->id);
	if (se == NULL)
		return -ENOMEM;
	for (i = 0; i < rep->n; i++) {
		const struct flow_result *r = &rep->results[i];
		struct state_droplet *d;

		if (r->job != job)
			continue;
		if (r->droplet_id == 0 && unresolved == NULL)
			unresolved = r;
		d = state_droplet_get(se, r->droplet_id);
		if (d == NULL)
			return -ENOMEM;
		set_outcome(d, classify(r), job->slot, ended, &sum);
		d->duration_ms = (int64_t)(r->seconds * 1000.0 + 0.5);
		if (r->droplet_id != 0)
			snprintf(d->name, sizeof(d->name), "%.63s", r->droplet_name);
		if (r->r == 0 && !r->adopted && r->snapshot_name[0] != '\0')
			d->taken++;
		if (r->deleted > 0)
			d->deleted += (uint64_t)r->deleted;
	}
	/* The targets resolved this time: a whole-entry retry is done with. */
	if (unresolved == NULL) {
		const struct state_droplet *w = state_droplet_find(se, 0);

		if (w != NULL && w->slot == job->slot && w->outcome == STATE_OUTCOME_PASSING) {
			struct state_droplet *d = state_droplet_get(se, 0);	/* found */

			d->outcome = STATE_OUTCOME_OK;
			d->next_retry = 0;
		}
	}
	/* Retried droplets the report does not name were not found this time. */
	for (k = 0; k < n_retried; k++) {
		struct state_droplet *d;
		bool seen = false;

		for (i = 0; i < rep->n && !seen; i++)
			seen = rep->results[i].job == job && rep->results[i].droplet_id == retried[k];
		if (seen || retried[k] == 0)
			continue;
		d = state_droplet_get(se, retried[k]);
		if (d == NULL)
			return -ENOMEM;
		set_outcome(d, unresolved != NULL ? classify(unresolved) : STATE_OUTCOME_LASTING,
		    job->slot, ended, &sum);
	}
	if (ret != NULL)
		*ret = sum;
	return 0;
}
