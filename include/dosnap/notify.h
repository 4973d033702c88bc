/* notify: healthchecks-style monitoring pings for a run: which URLs, and what each one carries. */
#ifndef DOSNAP_NOTIFY_H
#define DOSNAP_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "dosnap/api.h"

struct flow_job;
struct flow_report;
struct flow_result;

/* One ping sent, for the caller to say how it went. */
struct notify_ping {
	const char *url;	/* borrowed: --notify's URL or an entry's notify= */
	const char *suffix;	/* "/start", "/fail" or "" */
	int r;			/* api_ping's result: 0, or a negative errno */
	struct api_error err;	/* why, when r < 0 */
};

/* Called once a ping was sent or failed; P is valid during the call only. */
typedef void (*notify_done_fn)(const struct notify_ping *p, void *userdata);

/*
 * Send the pings for a run on client C: with REP NULL, "URL/start" for the
 * run beginning; else "URL" when every droplet the URL covers succeeded,
 * "URL/fail" otherwise, with notify_body's summary as the body.
 * GLOBAL_URL (may be NULL) covers every one of the N JOBS; an entry's
 * notify= covers its own.  Each distinct URL is pinged once: the entries'
 * first, in job order, then the global one unless an entry named it.
 * DONE (may be NULL) hears of each ping.  Nothing is logged.  C NULL sends
 * nothing.  A failed ping is only reported to DONE: a ping never fails a
 * backup.
 */
void	notify_run(struct api_client *c, const char *global_url, const struct flow_job *jobs,
	    size_t n, const struct flow_report *rep, notify_done_fn done, void *userdata);

/*
 * The summary a ping to URL carries: one line per droplet of the jobs URL
 * covers (every job when GLOBAL), names made inert with log_safe.  On
 * success *ret (free with free()) holds it, *ret_failed says whether one of
 * those droplets failed, and 0 is returned; -ENOMEM otherwise (*ret_failed
 * then false).
 */
int	notify_body(const struct flow_report *rep, const char *url, bool global, char **ret,
	    bool *ret_failed);

/* "https://hc-ping.com/..." for URL into BUF: a ping URL's path may be a secret. */
void	notify_url_host(const char *url, char *buf, size_t size);

/*
 * A droplet's outcome in a word or two, as the summary table and the pings
 * show it: "ok", "ok (existed)", "FAILED" or "LEFT OFF".
 */
const char *notify_result_text(const struct flow_result *r);

#endif
