/* due: which schedule entries are due now, given what the state file remembers. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "dosnap/due.h"
#include "dosnap/retry.h"
#include "dosnap/schedule.h"
#include "dosnap/state.h"

/*
 * Walking fire times one by one is cheap (a few hundred nanoseconds each)
 * and the catch-up bound keeps the walk short: at most 400 days of a
 * once-a-minute entry.  The cap only guards against a bug looping forever.
 */
#define DUE_MAX_STEPS	1000000

static int64_t
floor_minute(int64_t t)
{
	int64_t m = t % 60;

	return t - (m < 0 ? m + 60 : m);
}

int
due_entry(const struct sched_entry *e, int64_t checked, int64_t last_slot,
    int64_t now, int64_t *ret_slot)
{
	int64_t lo, t, slot = 0;
	long steps;
	int r;

	/* Unknown entries start afresh: only the current minute counts. */
	lo = checked >= 0 ? checked : floor_minute(now) - 1;
	if (last_slot > lo)
		lo = last_slot;
	if (floor_minute(now) - e->opts.catchup - 1 > lo)
		lo = floor_minute(now) - e->opts.catchup - 1;

	r = sched_next(e, lo, &t);
	for (steps = 0; r == 0 && t <= now; steps++) {
		if (steps == DUE_MAX_STEPS)
			return -ELOOP;
		slot = t;
		r = sched_next(e, t, &t);
	}
	if (r < 0 && r != -ENOENT)
		return r;
	if (slot == 0)
		return 0;
	*ret_slot = slot;
	return 1;
}

int
due_compute(const struct schedule *s, const struct state *st, int64_t now,
    struct due_item **ret, size_t *ret_n, bool *ret_clock_back)
{
	struct due_item *items = NULL;
	size_t *first_of = NULL;
	size_t i, n = 0;
	int r;

	*ret_clock_back = st->last_run > now;
	if (*ret_clock_back || s->n_entries == 0) {
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	/* The same line twice in one zone is one entry: the first runs it. */
	r = sched_first_of(s, &first_of);
	if (r < 0)
		return r;
	for (i = 0; i < s->n_entries; i++) {
		const struct sched_entry *e = &s->entries[i];
		const struct state_entry *se;
		int64_t slot;
		bool retry;

		if (first_of[i] != i)
			continue;
		se = state_find(st, e->id);
		r = due_entry(e, se != NULL ? se->checked : -1, se != NULL ? se->slot : 0,
		    now, &slot);
		if (r < 0)
			goto fail;
		/* A new slot supersedes the last one's retries. */
		retry = false;
		if (r == 0) {
			r = retry_due(e, se, now, &slot);
			if (r < 0)
				goto fail;
			retry = r == 1;
		}
		if (r == 0)
			continue;
		if (items == NULL) {
			items = calloc(s->n_entries, sizeof(*items));
			if (items == NULL) {
				r = -ENOMEM;
				goto fail;
			}
		}
		items[n].entry = e;
		items[n].slot = slot;
		items[n].retry = retry;
		n++;
	}
	free(first_of);
	*ret = items;
	*ret_n = n;
	return 0;
fail:
	free(first_of);
	free(items);
	return r;
}

/* The window beyond which a saved time ahead of now is damage, for entry E. */
static int64_t
future_window(const struct sched_entry *e)
{
	return e->opts.catchup > DUE_FUTURE_MIN_S ? e->opts.catchup : DUE_FUTURE_MIN_S;
}

int
due_forget_future(const struct schedule *s, struct state *st, int64_t now,
    struct due_future **ret, size_t *ret_n)
{
	struct due_future *v = NULL;
	int64_t wmax = s->n_entries == 0 ? 86400 : 0;
	size_t i, n = 0;

	for (i = 0; i < s->n_entries; i++)
		if (future_window(&s->entries[i]) > wmax)
			wmax = future_window(&s->entries[i]);
	*ret = NULL;
	*ret_n = 0;
	/* Within the window the clock went back: due_compute waits it out. */
	if (st->last_run > now && st->last_run <= now + wmax)
		return 0;
	v = calloc(s->n_entries + 1, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	if (st->last_run > now) {
		v[n].saved = st->last_run;
		v[n++].window = wmax;
		st->last_run = 0;
	}
	for (i = 0; i < s->n_entries; i++) {
		const struct sched_entry *e = &s->entries[i];
		int64_t w = future_window(e);
		struct state_entry *se;

		/* Entries with one id (identical lines) share one state entry. */
		if (state_find(st, e->id) == NULL)
			continue;
		se = state_get(st, e->id);	/* found: no allocation */
		if (se == NULL || se->checked <= now + w)
			continue;
		v[n].entry = e;
		v[n].saved = se->checked;
		v[n++].window = w;
		se->checked = floor_minute(now) - 1;	/* as due_entry's first run */
		if (se->slot > now + w) {
			se->slot = 0;
			se->result = 0;
		}
	}
	if (n == 0) {
		free(v);
		return 0;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int
due_mark(struct state *st, const struct sched_entry *e, int64_t now, int64_t slot,
    int result)
{
	struct state_entry *se = state_get(st, e->id);

	if (se == NULL)
		return -ENOMEM;
	/* A new entry: the fire times it may miss start with its first slot. */
	if (se->checked == 0 && se->slot == 0 && se->since == 0)
		se->since = slot != 0 ? slot - 1 : now;
	if (now > se->checked)
		se->checked = now;
	if (slot != 0) {
		se->slot = slot;
		se->result = result;
		if (result == 0 && slot > se->last_ok)
			se->last_ok = slot;
	}
	return 0;
}
