/* metrics: the Prometheus text exposition of what the state remembers, for node_exporter's textfile collector. */
#ifndef DOSNAP_METRICS_H
#define DOSNAP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct schedule;
struct state;

#define METRICS_MAX_BYTES	(32 * 1024 * 1024)	/* past it, -EFBIG: nothing is written */

/* The state's counter names that metrics_render reads (state_counter). */
#define METRICS_C_REQUESTS	"api-requests"
#define METRICS_C_RETRIES	"api-retries"
#define METRICS_C_429		"api-429"
#define METRICS_C_REMAINING	"ratelimit-remaining"	/* a gauge: present once heard */
#define METRICS_C_SLOT_RETRIES	"slot-retries"

/*
 * Render the metrics of schedule S's entries as the state ST remembers
 * them, at NOW, in Prometheus' text exposition format (version 0.0.4):
 * per entry, its last slot, result and success; per entry and droplet,
 * the last success, attempt and duration, the snapshots taken and deleted,
 * and (with RETRIES) a pending retry; per state, the API counters.  Label
 * values are escaped.  *ret is a malloc'd, NUL-terminated text of *ret_len
 * bytes the caller frees.  -ENOMEM, -EFBIG past METRICS_MAX_BYTES.
 */
int	metrics_render(const struct schedule *s, const struct state *st, int64_t now,
	    bool retries, char **ret, size_t *ret_len);

/*
 * As metrics_render, written to PATH atomically (a temporary file beside
 * it, renamed over it: node_exporter reads the old file or the new one),
 * mode 0644 whatever the umask, so that the collector's user may read it.
 */
int	metrics_write(const char *path, const struct schedule *s, const struct state *st,
	    int64_t now, bool retries);

/*
 * Copy IN to OUT (SIZE bytes, NUL-terminated, cut to fit) as a label value:
 * backslash, double quote and newline escaped.  Returns OUT.
 */
char	*metrics_escape(const char *in, char *out, size_t size);

#endif
