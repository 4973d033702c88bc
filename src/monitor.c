/* monitor: how healthy each schedule entry's backups are, from the schedule, the state and the journal alone. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dosnap/journal.h"
#include "dosnap/monitor.h"
#include "dosnap/schedule.h"
#include "dosnap/state.h"

/* Far enough back for any state dosnap wrote; a bound on the walk below. */
#define MONITOR_WALK_MAX_S	(800LL * 86400)

const char *
monitor_level_name(enum monitor_level level)
{
	switch (level) {
	case MONITOR_OK:
		return "OK";
	case MONITOR_WARNING:
		return "WARNING";
	case MONITOR_CRITICAL:
		return "CRITICAL";
	default:
		return "UNKNOWN";
	}
}

/*
 * How many fire times of E lie in (AFTER, LIMIT], counted up to
 * MONITOR_MAX_MISSED: the walk is as long as the count, no longer.
 */
static int
count_fires(const struct sched_entry *e, int64_t after, int64_t limit, unsigned *ret)
{
	unsigned count = 0;
	int64_t t;
	int r;

	r = sched_next(e, after, &t);
	while (r == 0 && t <= limit && count < MONITOR_MAX_MISSED) {
		count++;
		r = sched_next(e, t, &t);
	}
	if (r < 0 && r != -ENOENT)
		return r;
	*ret = count;
	return 0;
}

static void
raise_level(enum monitor_level *l, enum monitor_level to)
{
	if (to > *l)
		*l = to;
}

static int
judge_entry(const struct sched_entry *e, const struct state_entry *se,
    const struct monitor_config *cfg, struct monitor_entry *m)
{
	int64_t grace = cfg->grace > 0 ? cfg->grace : MONITOR_DEFAULT_GRACE_S;
	int64_t after, since;
	int r;

	memset(m, 0, sizeof(*m));
	m->entry = e;
	m->age = -1;
	if (grace < e->opts.timeout)
		grace = e->opts.timeout;
	if (se != NULL) {
		m->last_ok = se->last_ok;
		/* A state written before last-ok existed knows the last slot's outcome. */
		if (m->last_ok == 0 && se->slot != 0 && se->result == 0)
			m->last_ok = se->slot;
	}
	if (m->last_ok != 0)
		m->age = cfg->now - m->last_ok;
	/* Fire times before the entry was first seen were not dosnap's to run. */
	since = se != NULL ? se->since : cfg->now;
	after = m->last_ok > since ? m->last_ok : since;
	if (after < cfg->now - MONITOR_WALK_MAX_S)
		after = cfg->now - MONITOR_WALK_MAX_S;

	if (cfg->warn_after > 0 || cfg->crit_after > 0) {
		int64_t age = m->age >= 0 ? m->age : (since > 0 ? cfg->now - since : INT64_MAX);

		if (cfg->crit_after > 0 && age > cfg->crit_after)
			m->level = MONITOR_CRITICAL;
		else if (cfg->warn_after > 0 && age > cfg->warn_after)
			m->level = MONITOR_WARNING;
	}
	/* The fire times older than the grace with no success at or after them. */
	r = count_fires(e, after, cfg->now - grace, &m->missed);
	if (r < 0)
		return r;
	if (cfg->warn_after > 0 || cfg->crit_after > 0)
		return 0;
	if (m->missed >= 2)
		m->level = MONITOR_CRITICAL;
	else if (m->missed == 1)
		m->level = MONITOR_WARNING;
	return 0;
}

int
monitor_check(const struct schedule *s, const struct state *st,
    const struct journal_record *recs, size_t n_recs, const struct monitor_config *cfg,
    struct monitor_report *ret)
{
	struct monitor_report rep = { .level = MONITOR_OK };
	size_t i, j;
	int r;

	rep.entries = calloc(s->n_entries ? s->n_entries : 1, sizeof(*rep.entries));
	rep.left_off = calloc(n_recs ? n_recs : 1, sizeof(*rep.left_off));
	if (rep.entries == NULL || rep.left_off == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < s->n_entries; i++) {
		const struct sched_entry *e = &s->entries[i];
		bool dup = false;

		/* Identical lines are one entry, as the runs see them. */
		for (j = 0; j < i && !dup; j++)
			dup = s->entries[j].id == e->id;
		if (dup)
			continue;
		r = judge_entry(e, state_find(st, e->id), cfg, &rep.entries[rep.n_entries]);
		if (r < 0)
			goto fail;
		raise_level(&rep.level, rep.entries[rep.n_entries].level);
		rep.n_entries++;
	}
	for (i = 0; i < n_recs; i++) {
		int64_t age = cfg->now - recs[i].written;

		if (age <= (cfg->journal_held ? MONITOR_HUNG_S : MONITOR_LEFT_OFF_S))
			continue;
		rep.left_off[rep.n_left_off].rec = &recs[i];
		rep.left_off[rep.n_left_off].age = age;
		rep.n_left_off++;
		raise_level(&rep.level, MONITOR_CRITICAL);
	}
	if (cfg->clock_known && (cfg->clock_offset > STATE_CLOCK_WARN_S ||
	    cfg->clock_offset < -STATE_CLOCK_WARN_S)) {
		rep.clock_off = true;
		raise_level(&rep.level, MONITOR_CRITICAL);
	}
	*ret = rep;
	return 0;
fail:
	monitor_report_release(&rep);
	return r;
}

void
monitor_report_release(struct monitor_report *rep)
{
	if (rep == NULL)
		return;
	free(rep->entries);
	free(rep->left_off);
	memset(rep, 0, sizeof(*rep));
}
