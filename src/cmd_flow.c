/* cmd_flow: what the commands that run flows share: their options, and the flow's configuration and output. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dosnap/cli.h"
#include "dosnap/cmd.h"
#include "dosnap/flow.h"
#include "dosnap/log.h"
#include "dosnap/schedule.h"
#include "dosnap/util.h"

static void
flow_event_to_log(const struct flow_event *ev, void *userdata)
{
	static const enum log_level levels[] = {
		[FLOW_INFO] = LOG_LEVEL_NOTICE,
		[FLOW_NOTICE] = LOG_LEVEL_NOTICE,
		[FLOW_WARN] = LOG_LEVEL_WARNING,
		[FLOW_ERROR] = LOG_LEVEL_ERR,
	};

	(void)userdata;
	if (ev->droplet_id != 0)
		log_msg(levels[ev->level], "%sdroplet %" PRId64 " (%s): %s [%.1f s]",
		    ev->dry_run ? "dry run: " : "", ev->droplet_id, ev->droplet_name,
		    ev->message, ev->elapsed_s);
	else
		log_msg(levels[ev->level], "%s%s", ev->dry_run ? "dry run: " : "", ev->message);
}

static void
progress_to_status(const struct flow_progress *p, void *userdata)
{
	char line[200], failed[32] = "";

	(void)userdata;
	if (p->failed > 0)
		snprintf(failed, sizeof(failed), ", %zu failed", p->failed);
	snprintf(line, sizeof(line), "[%zu/%zu done%s] %zu looking, %zu powering off, "
	    "%zu snapshotting, %zu powering on, %zu pruning, %zu waiting  %.0f s", p->done,
	    p->total, failed, p->looking, p->powering_off, p->snapshotting, p->powering_on,
	    p->pruning, p->waiting, p->elapsed_s);
	log_status(line);
}

void
cmd_flow_config(const struct cli_ctx *ctx, struct flow_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->jobs = ctx->jobs;
	cfg->dry_run = ctx->dry_run;
	cfg->time_scale = ctx->time_scale;
	/* The local clock as dosnap sees it (--now included), to compare with the API's. */
	cfg->wall_now = ctx->now;
	cfg->event = flow_event_to_log;
	cfg->stop_timeout_s = ctx->stop_timeout_s;
	if (log_status_enabled())
		cfg->progress = progress_to_status;
}

/* Options shared by the commands that run flows; 1 when handled, >1 an exit code. */
int
cmd_flow_option(struct cli_ctx *ctx, const char *cmd, int c, const char *arg)
{
	double v;
	char *end;
	int64_t n;

	switch (c) {
	case OPT_DRY_RUN:
		ctx->dry_run = true;
		return 1;
	case OPT_JOBS:
		if (parse_int64(arg, 1, 1000, &n) < 0)
			return cli_usage_error(cmd, "--jobs: '%s' is not a number from 1 to 1000", arg);
		ctx->jobs = (int)n;
		return 1;
	case OPT_TIME_SCALE:
		v = strtod(arg, &end);
		if (*end != '\0' || !(v > 0 && v <= 1))
			return cli_usage_error(cmd, "--time-scale: '%s' is not a number in (0, 1]",
			    arg);
		ctx->time_scale = v;
		return 1;
	case OPT_RATE_LIMIT:
		if (strcmp(arg, "off") == 0) {
			ctx->rate_limit = -1;
			return 1;
		}
		if (parse_int64(arg, 1, 100000, &n) < 0)
			return cli_usage_error(cmd, "--rate-limit: '%s' is not a number of requests "
			    "a minute (1 to 100000) or 'off'", arg);
		ctx->rate_limit = (int)n;
		return 1;
	case OPT_NOTIFY:
		if (strncmp(arg, "https://", 8) != 0 && strncmp(arg, "http://", 7) != 0)
			return cli_usage_error(cmd, "--notify: '%s' is not an http(s) URL", arg);
		ctx->notify = arg;
		return 1;
	case OPT_METRICS_FILE:
		if (arg[0] == '\0')
			return cli_usage_error(cmd, "--metrics-file: give a path, e.g. "
			    "/var/lib/prometheus/node-exporter/dosnap.prom");
		ctx->metrics_file = arg;
		return 1;
	case OPT_STOP_TIMEOUT:
		if (sched_parse_duration(arg, &n) < 0 || n <= 0 || n > 86400)
			return cli_usage_error(cmd, "--stop-timeout: '%s' is not a duration like "
			    "5m", arg);
		ctx->stop_timeout_s = (long)n;
		return 1;
	default:
		return cli_common_option(ctx, c, arg);
	}
}
