/* cmd_status: `dosnap status`: the intent journal's open records, the clock, each entry's last slot. */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dosnap/api.h"
#include "dosnap/cli.h"
#include "dosnap/cmd.h"
#include "dosnap/journal.h"
#include "dosnap/log.h"
#include "dosnap/recover.h"
#include "dosnap/schedule.h"
#include "dosnap/state.h"
#include "dosnap/tz.h"

static int
status_usage(FILE *f)
{
	fprintf(f,
	    "Usage: dosnap status [-f FILE] [--state-dir DIR]\n"
	    "\n"
	    "Show the intent journal's open records (droplets an interrupted run powered\n"
	    "off and has not restored) and, with an API token, what recovery would do;\n"
	    "then each schedule entry's last slot and its outcome.  Changes nothing.\n"
	    "\n"
	    "  --monitor   one line and exit 0/1/2/3 for monitoring (see status --monitor --help)\n");
	return f == stdout ? EXIT_OK : EXIT_USAGE;
}

/* Each entry's last slot; returns the exit code of loading the schedule (said why). */
static int
status_entries(const struct cli_ctx *ctx, const char *dir)
{
	struct schedule *s = NULL;
	struct state st;
	char *path = NULL;
	size_t i;
	int ret;

	state_init(&st);
	ret = cmd_load_schedule(ctx, &s);
	if (ret != EXIT_OK)
		return ret;
	if (state_path_for(dir, ctx->schedule_path, &path) == 0)
		(void)state_load(path, &st, NULL);
	printf("\nschedule %s, state %s\n", ctx->schedule_path, path != NULL ? path : "?");
	for (i = 0; i < s->n_entries; i++) {
		const struct sched_entry *e = &s->entries[i];
		const struct state_entry *se = state_find(&st, e->id);
		char when[TZ_RFC3339_MAX] = "never";

		if (se != NULL && se->slot != 0)
			tz_format_rfc3339(e->zone, se->slot, when);
		printf("  line %-4u last slot %-25s %s\n", e->line, when,
		    se == NULL || se->slot == 0 ? "" : se->result == 0 ? "ok" : "failed");
		cmd_print_retries(e, se, ctx->now);
	}
	state_release(&st);
	free(path);
	schedule_free(s);
	return EXIT_OK;
}

/*
 * The journal's N open records RECS and, with an API token, what recovery
 * would do with each (a dry run); without one, what the next run does.
 */
static void
status_journal(const struct cli_ctx *ctx, const struct journal_record *recs, size_t n)
{
	struct recover_result *res = NULL;
	struct recover_config rc = { .time_scale = ctx->time_scale, .dry_run = true };
	struct api_client *client = NULL;
	/* Names in records came from the API and sit in files: log_safe shows them inert. */
	char sn[3][512];
	size_t i;

	if (n == 0) {
		printf("intent journal: no open records: every droplet dosnap powered off was "
		    "restored\n");
		return;
	}
	printf("intent journal: %zu open record%s\n", n, n == 1 ? "" : "s");
	if (cmd_api_open(ctx, true, &client) == EXIT_OK &&
	    recover_run(client, NULL, &rc, recs, n, &res) == 0) {
		for (i = 0; i < n; i++)
			if (recs[i].damaged)
				printf("  droplet %" PRId64 " (its record cannot be read: %s): "
				    "%s\n", recs[i].droplet_id, cmd_damage_text(recs[i].damage),
				    log_safe(res[i].message, sn[2], sizeof(sn[2])));
			else
				printf("  droplet %" PRId64 " (%s) slot snapshot '%s': %s\n",
				    recs[i].droplet_id, recs[i].name[0] ?
				    log_safe(recs[i].name, sn[0], sizeof(sn[0])) : "?",
				    log_safe(recs[i].snapshot, sn[1], sizeof(sn[1])),
				    log_safe(res[i].message, sn[2], sizeof(sn[2])));
	} else {
		for (i = 0; i < n; i++)
			printf("  droplet %" PRId64 " (%s) slot snapshot '%s'%s: the next run "
			    "powers it on if it is off\n", recs[i].droplet_id,
			    recs[i].name[0] ? log_safe(recs[i].name, sn[0], sizeof(sn[0])) : "?",
			    log_safe(recs[i].snapshot, sn[1], sizeof(sn[1])),
			    recs[i].action_id ? ", snapshot action started" : "");
		printf("  (no API token: not asking the API where each flow stopped)\n");
	}
	free(res);
	api_client_free(client);
}

/* How far the local clock was from the API's at the last run, as kept in DIR. */
static void
status_clock(const char *dir)
{
	int64_t off, at, a;

	if (state_clock_load(dir, &off, &at) != 0)
		return;
	a = off < 0 ? -off : off;
	if (a > STATE_CLOCK_WARN_S)
		printf("clock: WARNING: the local clock was %" PRId64 "h%02" PRId64 "m "
		    "%s the API's at the last run (%" PRId64 " s); check the host's "
		    "time (timedatectl, NTP)\n", a / 3600, a / 60 % 60,
		    off > 0 ? "ahead of" : "behind", off);
	else
		printf("clock: in step with the API's at the last run (%+" PRId64 " s)\n", off);
}

int
cmd_status(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct journal_record *recs = NULL;
	char *dir = NULL;
	size_t i, n = 0;
	int c, r, ret;

	/* The monitoring check has options of its own: see cmd_monitor.c. */
	for (i = 1; i < (size_t)argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--monitor") == 0)
			return cmd_monitor(ctx, argc, argv);
	while ((c = cli_getopt("status", argc, argv, CLI_CMD_SHORTOPTS, longopts)) != -1) {
		r = cli_common_option(ctx, c, optarg);
		if (r > 1)
			return r;
		if (r == 0)
			return cli_usage_error("status", "unknown option '%s'", argv[optind - 1]);
	}
	if (ctx->want_help)
		return status_usage(stdout);
	if (optind < argc)
		return cli_usage_error("status", "unexpected argument '%s'", argv[optind]);
	r = state_dir_resolve(ctx->state_dir, &dir);
	if (r < 0) {
		log_error("cannot choose a state directory; name one with --state-dir");
		return EXIT_CANTCREAT;
	}
	r = journal_peek(dir, &recs, &n);
	if (r < 0) {
		log_errno(r, "cannot read the intent journal in '%s/journal'", dir);
		free(recs);
		free(dir);
		return EXIT_CANTCREAT;
	}
	printf("state directory %s\n", dir);
	status_journal(ctx, recs, n);
	status_clock(dir);
	/* The journal is shown even then, but a schedule that cannot be read is a failure. */
	ret = status_entries(ctx, dir);
	free(recs);
	free(dir);
	return ret;
}
