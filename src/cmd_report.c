/* cmd_report: how a run's outcome reaches people: the summary table, the exit code, the monitoring pings. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "dosnap/api.h"
#include "dosnap/cli.h"
#include "dosnap/cmd.h"
#include "dosnap/flow.h"
#include "dosnap/log.h"
#include "dosnap/notify.h"

/*
 * The summary at the end of a run: one row per droplet, to stdout for
 * people; failures again on stderr, with what failed, for the log.
 */
void
cmd_print_report(const struct flow_report *rep, bool dry_run)
{
	size_t i;

	log_status(NULL);
	if (rep->n == 0)
		return;
	if (!dry_run) {
		printf("%-28s %-7s %-44s %-10s %7s  %s\n", "DROPLET", "BEFORE", "SNAPSHOT", "ID",
		    "TIME", "RESULT");
		for (i = 0; i < rep->n; i++) {
			const struct flow_result *r = &rep->results[i];
			char who[192];

			char safe[3][192];

			/* Names and ids come from the API: log_safe makes them inert on a terminal. */
			if (r->droplet_id != 0)
				snprintf(who, sizeof(who), "%" PRId64 " %s", r->droplet_id,
				    log_safe(r->droplet_name, safe[0], sizeof(safe[0])));
			else
				log_safe(r->target, who, sizeof(who));
			printf("%-28.28s %-7s %-44.44s %-10.10s %6.1fs  %s\n", who,
			    r->droplet_id ? api_droplet_status_name(r->before) : "-",
			    r->snapshot_name[0] ? log_safe(r->snapshot_name, safe[1], sizeof(safe[1])) :
			    "-", r->snapshot_id[0] ? log_safe(r->snapshot_id, safe[2], sizeof(safe[2])) :
			    "-", r->seconds, notify_result_text(r));
		}
	}
	for (i = 0; i < rep->n; i++) {
		const struct flow_result *r = &rep->results[i];

		if (r->r == 0)
			continue;
		if (r->droplet_id != 0)
			log_error("droplet %" PRId64 " (%s): %s", r->droplet_id, r->droplet_name,
			    r->error != NULL ? r->error : "failed");
		else
			log_error("%s", r->error != NULL ? r->error : "failed");
	}
}

int
cmd_report_exit(const struct flow_report *rep)
{
	size_t i;
	bool any_auth = false, any_lasting = false, any_transient = false, any_nomem = false;

	for (i = 0; i < rep->n; i++) {
		const struct flow_result *r = &rep->results[i];

		if (r->r == 0)
			continue;
		if (r->r == -ENOMEM)
			any_nomem = true;
		if (r->auth)
			any_auth = true;
		else if (r->transient)
			any_transient = true;
		else
			any_lasting = true;
	}
	if (any_nomem)
		return EXIT_OSERR;
	if (any_auth)
		return EXIT_NOPERM;
	if (any_lasting)
		return EXIT_UNAVAIL;
	if (any_transient)
		return EXIT_TEMPFAIL;
	return EXIT_OK;
}

/* notify_run's report of each ping: logged, and nothing more. */
static void
ping_done(const struct notify_ping *p, void *userdata)
{
	char host[256], ebuf[512];

	(void)userdata;
	notify_url_host(p->url, host, sizeof(host));
	if (p->r < 0)
		log_warn("notify: the ping to %s%s failed (%s); the backup itself is not affected",
		    host, p->suffix, api_error_format(&p->err, ebuf, sizeof(ebuf)));
	else
		log_info("notify: pinged %s%s", host, p->suffix);
}

void
cmd_notify(struct api_client *c, const char *global_url, const struct flow_job *jobs, size_t n,
    const struct flow_report *rep)
{
	notify_run(c, global_url, jobs, n, rep, ping_done, NULL);
}
