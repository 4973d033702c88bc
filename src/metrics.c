/* metrics: the Prometheus text exposition of what the state remembers, for node_exporter's textfile collector. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dosnap/metrics.h"
#include "dosnap/schedule.h"
#include "dosnap/state.h"
#include "dosnap/util.h"

/* One capped growing text. */
struct out {
	char *p;
	size_t len, cap;
	int r;		/* the first error; later appends do nothing */
};

static void
out_add(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
out_add(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->r < 0)
		return;
	for (;;) {
		size_t room = o->cap - o->len;

		va_start(ap, fmt);
		n = vsnprintf(o->p != NULL ? o->p + o->len : NULL, o->p != NULL ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->r = -EINVAL;
			return;
		}
		if (o->p != NULL && (size_t)n < room) {
			o->len += (size_t)n;
			return;
		}
		/* Room for the text and vsnprintf's NUL, METRICS_MAX_BYTES in all. */
		o->r = grow_array(&o->p, &o->cap, o->len + (size_t)n + 1, 1, METRICS_MAX_BYTES);
		if (o->r == -E2BIG)
			o->r = -EFBIG;
		if (o->r < 0)
			return;
	}
}

char *
metrics_escape(const char *in, char *out, size_t size)
{
	size_t k = 0;

	for (; *in != '\0' && k + 1 < size; in++) {
		const char *esc = *in == '\\' ? "\\\\" : *in == '"' ? "\\\"" :
		    *in == '\n' ? "\\n" : NULL;

		if (esc == NULL) {
			out[k++] = *in;
			continue;
		}
		if (k + 3 > size)
			break;
		out[k++] = esc[0];
		out[k++] = esc[1];
	}
	out[k] = '\0';
	return out;
}

/* The metric families, in the order they are written. */
enum family {
	F_ENTRY_SUCCESS,
	F_ENTRY_SLOT,
	F_ENTRY_RESULT,
	F_DROPLET_SUCCESS,
	F_DROPLET_ATTEMPT,
	F_DROPLET_DURATION,
	F_DROPLET_OK,
	F_DROPLET_RETRY,
	F_DROPLET_TAKEN,
	F_DROPLET_DELETED,
	F__COUNT,
};

static const struct {
	const char *name, *type, *help;
	bool droplet;
} families[F__COUNT] = {
	[F_ENTRY_SUCCESS] = { "dosnap_entry_last_success_timestamp_seconds", "gauge",
	    "The last slot (fire time) in which every droplet of the entry succeeded.", false },
	[F_ENTRY_SLOT] = { "dosnap_entry_last_slot_timestamp_seconds", "gauge",
	    "The entry's last slot that ran.", false },
	[F_ENTRY_RESULT] = { "dosnap_entry_last_result", "gauge",
	    "The exit status of the entry's last slot: 0 ok, 75 passing failure, 69 lasting, 77 token refused.",
	    false },
	[F_DROPLET_SUCCESS] = { "dosnap_droplet_last_success_timestamp_seconds", "gauge",
	    "When the droplet's last successful attempt ended.", true },
	[F_DROPLET_ATTEMPT] = { "dosnap_droplet_last_attempt_timestamp_seconds", "gauge",
	    "When the droplet's last attempt ended.", true },
	[F_DROPLET_DURATION] = { "dosnap_droplet_last_duration_seconds", "gauge",
	    "How long the droplet's last attempt took.", true },
	[F_DROPLET_OK] = { "dosnap_droplet_last_attempt_success", "gauge",
	    "1 when the droplet's last attempt succeeded, else 0.", true },
	[F_DROPLET_RETRY] = { "dosnap_droplet_next_retry_timestamp_seconds", "gauge",
	    "When a passing failure of the droplet is retried within its slot.", true },
	[F_DROPLET_TAKEN] = { "dosnap_snapshots_taken_total", "counter",
	    "Snapshots of the droplet dosnap took.", true },
	[F_DROPLET_DELETED] = { "dosnap_snapshots_deleted_total", "counter",
	    "Snapshots of the droplet dosnap pruned.", true },
};

/* One sample of family F for entry E (and droplet D, when not NULL). */
static void
sample(struct out *o, enum family f, const struct sched_entry *e, const struct state_droplet *d,
    const char *value)
{
	char text[2 * SCHED_MAX_LINE + 1], name[2 * sizeof(d->name) + 1];

	metrics_escape(e->text, text, sizeof(text));
	out_add(o, "%s{line=\"%u\",entry=\"%s\"", families[f].name, e->line, text);
	if (d != NULL)
		out_add(o, ",droplet_id=\"%" PRId64 "\",droplet=\"%s\"", d->id,
		    metrics_escape(d->name, name, sizeof(name)));
	out_add(o, "} %s\n", value);
}

static void
family(struct out *o, enum family f, const struct schedule *s, const struct state *st,
    const size_t *first_of, bool retries)
{
	size_t i, j;
	char v[32];

	out_add(o, "# HELP %s %s\n# TYPE %s %s\n", families[f].name, families[f].help,
	    families[f].name, families[f].type);
	for (i = 0; i < s->n_entries; i++) {
		const struct sched_entry *e = &s->entries[i];
		const struct state_entry *se = state_find(st, e->id);

		/* The same line twice in one zone: one series set, the first's. */
		if (first_of[i] != i || se == NULL)
			continue;
		if (!families[f].droplet) {
			if (f == F_ENTRY_SUCCESS && se->last_ok == 0)
				continue;
			if ((f == F_ENTRY_SLOT || f == F_ENTRY_RESULT) && se->slot == 0)
				continue;
			snprintf(v, sizeof(v), "%" PRId64, f == F_ENTRY_SUCCESS ? se->last_ok :
			    f == F_ENTRY_SLOT ? se->slot : (int64_t)se->result);
			sample(o, f, e, NULL, v);
			continue;
		}
		for (j = 0; j < se->n_droplets; j++) {
			const struct state_droplet *d = &se->droplets[j];

			/* Id 0 is the entry's targets as a whole: no droplet to label. */
			if (d->id == 0 || d->last_attempt == 0)
				continue;
			switch (f) {
			case F_DROPLET_SUCCESS:
				if (d->last_success == 0)
					continue;
				snprintf(v, sizeof(v), "%" PRId64, d->last_success);
				break;
			case F_DROPLET_ATTEMPT:
				snprintf(v, sizeof(v), "%" PRId64, d->last_attempt);
				break;
			case F_DROPLET_DURATION:
				snprintf(v, sizeof(v), "%" PRId64 ".%03" PRId64, d->duration_ms / 1000,
				    d->duration_ms % 1000);
				break;
			case F_DROPLET_OK:
				snprintf(v, sizeof(v), "%d", d->outcome == STATE_OUTCOME_OK);
				break;
			case F_DROPLET_RETRY:
				if (!retries || d->slot != se->slot ||
				    d->outcome != STATE_OUTCOME_PASSING || d->next_retry == 0)
					continue;
				snprintf(v, sizeof(v), "%" PRId64, d->next_retry);
				break;
			case F_DROPLET_TAKEN:
				snprintf(v, sizeof(v), "%" PRIu64, d->taken);
				break;
			default:
				snprintf(v, sizeof(v), "%" PRIu64, d->deleted);
				break;
			}
			sample(o, f, e, d, v);
		}
	}
}

/* A counter of the state, as a metric without labels. */
static void
counter(struct out *o, const struct state *st, const char *key, const char *name,
    const char *type, const char *help)
{
	size_t i;

	for (i = 0; i < st->n_counters; i++) {
		if (strcmp(st->counters[i].name, key) != 0)
			continue;
		out_add(o, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", name, help, name, type,
		    name, st->counters[i].value);
		return;
	}
	/* A counter never incremented is 0; a gauge never heard is absent. */
	if (strcmp(type, "counter") == 0)
		out_add(o, "# HELP %s %s\n# TYPE %s %s\n%s 0\n", name, help, name, type, name);
}

int
metrics_render(const struct schedule *s, const struct state *st, int64_t now, bool retries,
    char **ret, size_t *ret_len)
{
	struct out o = { .r = 0 };
	size_t *first_of;
	int f;

	if (sched_first_of(s, &first_of) < 0)
		return -ENOMEM;
	for (f = 0; f < F__COUNT; f++)
		family(&o, (enum family)f, s, st, first_of, retries);
	free(first_of);
	counter(&o, st, METRICS_C_REQUESTS, "dosnap_api_requests_total", "counter",
	    "HTTP requests sent to the DigitalOcean API, retries included.");
	counter(&o, st, METRICS_C_RETRIES, "dosnap_api_retries_total", "counter",
	    "API requests that were retries of a failed attempt.");
	counter(&o, st, METRICS_C_429, "dosnap_api_rate_limited_total", "counter",
	    "API answers with status 429 (rate limited).");
	counter(&o, st, METRICS_C_REMAINING, "dosnap_api_ratelimit_remaining", "gauge",
	    "The API's ratelimit-remaining header as last seen.");
	counter(&o, st, METRICS_C_SLOT_RETRIES, "dosnap_slot_retries_total", "counter",
	    "Retries within a slot of droplets that failed for a passing reason.");
	out_add(&o, "# HELP dosnap_metrics_timestamp_seconds When dosnap wrote this file.\n"
	    "# TYPE dosnap_metrics_timestamp_seconds gauge\n"
	    "dosnap_metrics_timestamp_seconds %" PRId64 "\n", now);
	if (o.r < 0) {
		free(o.p);
		return o.r;
	}
	*ret = o.p;
	*ret_len = o.len;
	return 0;
}

int
metrics_write(const char *path, const struct schedule *s, const struct state *st, int64_t now,
    bool retries)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	r = metrics_render(s, st, now, retries, &text, &len);
	if (r < 0)
		return r;
	/*
	 * Mode 0644 whatever the umask (a hardened unit has UMask=0077), set
	 * before the rename: the collector runs as another user and must never
	 * find the file unreadable, not even once.  No directory fsync: a lost
	 * update is made again within the minute.
	 */
	r = write_file_opt(path, text, len, 0644, WRITE_FILE_FSYNC | WRITE_FILE_EXACT_MODE);
	free(text);
	return r;
}
