/* notify: healthchecks-style monitoring pings for a run: which URLs, and what each one carries. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dosnap/api.h"
#include "dosnap/flow.h"
#include "dosnap/log.h"
#include "dosnap/notify.h"
#include "dosnap/schedule.h"

const char *
notify_result_text(const struct flow_result *r)
{
	if (r->left_off)
		return "LEFT OFF";
	if (r->r < 0)
		return "FAILED";
	if (r->adopted)
		return "ok (existed)";
	return "ok";
}

void
notify_url_host(const char *url, char *buf, size_t size)
{
	const char *p = strstr(url, "://");
	size_t n;

	p = p != NULL ? p + 3 : url;
	n = strcspn(p, "/?#");
	snprintf(buf, size, "%.*s%.*s/...", (int)(p - url), url, (int)n, p);
}

static bool
job_wants(const struct flow_job *job, const char *url, bool global)
{
	return global || (job->entry->opts.notify != NULL &&
	    strcmp(job->entry->opts.notify, url) == 0);
}

int
notify_body(const struct flow_report *rep, const char *url, bool global, char **ret,
    bool *ret_failed)
{
	size_t i, cap = 256 + rep->n * 400, len = 0;
	char *buf = malloc(cap);

	*ret_failed = false;
	if (buf == NULL)
		return -ENOMEM;
	buf[0] = '\0';
	for (i = 0; i < rep->n; i++) {
		const struct flow_result *r = &rep->results[i];
		char name[192], why[256], sid[96];
		int n;

		if (!job_wants(r->job, url, global))
			continue;
		if (r->r < 0)
			*ret_failed = true;
		/* One line per droplet, whatever the API named it (log_safe). */
		log_safe(r->droplet_name, name, sizeof(name));
		log_safe(r->r < 0 && r->error != NULL ? r->error : "", why, sizeof(why));
		if (r->droplet_id != 0)
			n = snprintf(buf + len, cap - len, "droplet %" PRId64 " %s: %s, snapshot %s%s%s%s, "
			    "%.1f s%s%s\n", r->droplet_id, name, notify_result_text(r),
			    r->snapshot_name[0] ? r->snapshot_name : "-", r->snapshot_id[0] ? " (id " : "",
			    log_safe(r->snapshot_id, sid, sizeof(sid)), r->snapshot_id[0] ? ")" : "",
			    r->seconds, r->r < 0 ? ": " : "", why);
		else
			n = snprintf(buf + len, cap - len, "%s: FAILED: %s\n", r->target,
			    log_safe(r->error, why, sizeof(why)));
		if (n > 0 && (size_t)n < cap - len)
			len += (size_t)n;
	}
	*ret = buf;
	return 0;
}

static void
ping(struct api_client *c, const char *url, const char *suffix, const char *body,
    notify_done_fn done, void *userdata)
{
	struct notify_ping p = { .url = url, .suffix = suffix };
	char full[1100];

	snprintf(full, sizeof(full), "%s%s", url, suffix);
	p.r = api_ping(c, full, body, &p.err);
	if (done != NULL)
		done(&p, userdata);
}

void
notify_run(struct api_client *c, const char *global_url, const struct flow_job *jobs, size_t n,
    const struct flow_report *rep, notify_done_fn done, void *userdata)
{
	size_t i, j;

	if (c == NULL)
		return;
	/* Each distinct URL once: each entry's own, then the global one. */
	for (i = 0; i <= n; i++) {
		const char *url = i == n ? global_url : jobs[i].entry->opts.notify;
		bool global = i == n, failed, dup = false;
		char *body = NULL;

		if (url == NULL)
			continue;
		for (j = 0; j < i && j < n && !dup; j++)
			dup = jobs[j].entry->opts.notify != NULL &&
			    strcmp(jobs[j].entry->opts.notify, url) == 0;
		if (dup)
			continue;
		if (rep == NULL) {
			ping(c, url, "/start", "dosnap: snapshot run starting\n", done, userdata);
			continue;
		}
		/* Out of memory, the ping still goes, without its summary. */
		(void)notify_body(rep, url, global, &body, &failed);
		ping(c, url, failed ? "/fail" : "", body != NULL ? body : "", done, userdata);
		free(body);
	}
}
