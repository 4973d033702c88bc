/* cmd_flow: the commands that talk to the API: snapshot, prune, list, and the flow part of run. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dosnap/api.h"
#include "dosnap/cli.h"
#include "dosnap/cmd.h"
#include "dosnap/flow.h"
#include "dosnap/journal.h"
#include "dosnap/recover.h"
#include "dosnap/state.h"
#include "dosnap/log.h"
#include "dosnap/schedule.h"
#include "dosnap/token.h"
#include "dosnap/tz.h"
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

/* --- entries from the command line ------------------------------------- */

/*
 * `snapshot` and `prune` take the entry options as flags.  They are turned
 * into one schedule line and parsed by the schedule module, so that the
 * flags and the file accept exactly the same values with the same messages.
 */
struct cmd_entry {
	char line[8192];
	size_t len;
	struct schedule *schedule;
};

#define TOKEN_AS_TARGET "a target looks like an API token (not repeated here); pass the " \
	"token with --token-file FILE or $DIGITALOCEAN_ACCESS_TOKEN, never on the command line"

static int
entry_add(struct cmd_entry *ce, const char *key, const char *value)
{
	int n;

	if (key == NULL && token_looks_like(value))
		return -EPERM;	/* a token pasted as a target: never echoed */
	if (strpbrk(value, " \t\n") != NULL)
		return -EINVAL;
	/* The schedule's own limit on a line applies to the flags as well. */
	if (ce->len + strlen(value) + (key != NULL ? strlen(key) + 2 : 1) >= SCHED_MAX_LINE)
		return -E2BIG;
	n = snprintf(ce->line + ce->len, sizeof(ce->line) - ce->len, " %s%s%s",
	    key != NULL ? key : "", key != NULL ? "=" : "", value);
	if (n < 0 || (size_t)n >= sizeof(ce->line) - ce->len)
		return -E2BIG;
	ce->len += (size_t)n;
	return 0;
}

static int
entry_parse(const char *cmd, struct cmd_entry *ce)
{
	struct sched_diags d = { 0 };
	size_t i;
	int r;

	r = schedule_parse(ce->line, ce->len, &ce->schedule, &d);
	if (r == -EINVAL) {
		for (i = 0; i < d.n; i++)
			fprintf(stderr, "dosnap %s: %s%s%s\n", cmd, d.items[i].message,
			    d.items[i].hint ? "; " : "", d.items[i].hint ? d.items[i].hint : "");
		sched_diags_release(&d);
		return EXIT_USAGE;
	}
	sched_diags_release(&d);
	if (r < 0) {
		log_errno(r, "cannot parse the options");
		return EXIT_SOFTWARE;
	}
	return EXIT_OK;
}

static void
entry_release(struct cmd_entry *ce)
{
	schedule_free(ce->schedule);
	ce->schedule = NULL;
}

enum {
	OPT_KEEP = OPT_CMD_BASE + 50,
	OPT_MAX_AGE,
	OPT_POWER,
	OPT_NAME,
	OPT_SHUTDOWN_TIMEOUT,
	OPT_TIMEOUT,
	OPT_VOLUMES,
};

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

static int
snapshot_usage(FILE *f)
{
	fprintf(f,
	    "Usage: dosnap snapshot [OPTIONS] TARGET...\n"
	    "\n"
	    "Snapshot the droplets now, without a schedule: power off gracefully (hard\n"
	    "after --shutdown-timeout), snapshot, power back on, prune.  TARGET is a\n"
	    "droplet id, tag:NAME or name:DROPLET-NAME.  The snapshot is named for the\n"
	    "current minute, so running it twice in one minute takes one snapshot.\n"
	    "\n"
	    "  --keep N                keep the newest N snapshots the name template matches\n"
	    "  --max-age DURATION      delete those older than this (e.g. 30d)\n"
	    "  --power off|live        power off first (default), or snapshot it running\n"
	    "  --name TEMPLATE         default dosnap-{name}-{slot}\n"
	    "  --shutdown-timeout D    graceful shutdown time before power_off (default 2m)\n"
	    "  --timeout D             how long the snapshot may take (default 2h)\n"
	    "  --volumes               snapshot attached volumes too\n"
	    "  --jobs N                droplets at once (default 10)\n"
	    "  --dry-run               show the requests that would change something; send none\n"
	    "  --notify URL            ping URL/start, then URL or URL/fail with the summary\n"
	    "  --rate-limit N|off      API requests a minute at most (default 240; the API allows 250)\n"
	    "  --metrics-file PATH     write Prometheus metrics there (default $DOSNAP_METRICS_FILE)\n"
	    "  --token-file FILE, --api-url URL, --cacert FILE, --stop-timeout D,\n"
	    "  --time-scale F (tests against dosnap-mock: scale every wait)\n");
	return f == stdout ? EXIT_OK : EXIT_USAGE;
}

static int
prune_usage(FILE *f)
{
	fprintf(f,
	    "Usage: dosnap prune [TARGET...] (--keep N | --max-age D) [--name TEMPLATE] [--dry-run]\n"
	    "\n"
	    "Delete old snapshots of the droplets (all droplets when no TARGET is\n"
	    "given) that the name template (default dosnap-{name}-{slot}) matches:\n"
	    "all but the newest N, and those older than D.  Backups and snapshots\n"
	    "the template does not match are never touched.\n");
	return f == stdout ? EXIT_OK : EXIT_USAGE;
}

/* `snapshot` and `prune`: the same options, a different flow. */
static int
cmd_flow_now(struct cli_ctx *ctx, int argc, char **argv, bool prune)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		CLI_FLOW_LONGOPTS,
		{ "keep", required_argument, NULL, OPT_KEEP },
		{ "max-age", required_argument, NULL, OPT_MAX_AGE },
		{ "power", required_argument, NULL, OPT_POWER },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "shutdown-timeout", required_argument, NULL, OPT_SHUTDOWN_TIMEOUT },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "volumes", no_argument, NULL, OPT_VOLUMES },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = prune ? "prune" : "snapshot";
	struct cmd_entry ce = { .len = 0 };
	struct cmd_session sess = { 0 };
	struct flow_report rep = { 0 };
	struct flow_config cfg;
	struct flow_job job = { 0 };
	char *dir = NULL;
	bool have_rule = false;
	const char *key;
	int c, r, ret;

	ce.len = (size_t)snprintf(ce.line, sizeof(ce.line), "* * * * *");
	while ((c = cli_getopt(cmd, argc, argv, CLI_CMD_SHORTOPTS, longopts)) != -1) {
		key = NULL;
		switch (c) {
		case OPT_KEEP:
			key = "keep";
			have_rule = true;
			break;
		case OPT_MAX_AGE:
			key = "max-age";
			have_rule = true;
			break;
		case OPT_POWER:
			key = "power";
			break;
		case OPT_NAME:
			key = "name";
			break;
		case OPT_SHUTDOWN_TIMEOUT:
			key = "shutdown-timeout";
			break;
		case OPT_TIMEOUT:
			key = "timeout";
			break;
		case OPT_VOLUMES:
			optarg = (char *)"yes";
			key = "volumes";
			break;
		default:
			r = cmd_flow_option(ctx, cmd, c, optarg);
			if (r > 1)
				return r;
			if (r == 0)
				return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
			continue;
		}
		if (prune && c != OPT_KEEP && c != OPT_MAX_AGE && c != OPT_NAME)
			return cli_usage_error(cmd, "--%s is for `dosnap snapshot`", key);
		if (entry_add(&ce, key, optarg) < 0)
			return cli_usage_error(cmd, "--%s: '%s' is not a valid value", key, optarg);
	}
	if (ctx->want_help)
		return prune ? prune_usage(stdout) : snapshot_usage(stdout);
	if (prune && !have_rule)
		return cli_usage_error(cmd, "say what to delete with --keep N or --max-age D");
	if (!prune && optind >= argc)
		return cli_usage_error(cmd, "name the droplets: an id, tag:NAME or name:NAME");
	job.all_droplets = optind >= argc;
	{
		/* The targets go before the options in a schedule line. */
		char opts[8192];
		size_t head = strlen("* * * * *");

		memcpy(opts, ce.line + head, ce.len - head + 1);
		ce.len = head;
		ce.line[ce.len] = '\0';
		if (job.all_droplets && entry_add(&ce, NULL, "1") < 0)
			return EXIT_SOFTWARE;
		for (; optind < argc; optind++) {
			r = entry_add(&ce, NULL, argv[optind]);
			if (r == -E2BIG)
				return cli_usage_error(cmd, "too many targets: at most %d bytes of them; "
				    "name many droplets with a tag:NAME instead", SCHED_MAX_LINE);
			if (r == -EPERM)
				return cli_usage_error(cmd, TOKEN_AS_TARGET);
			if (r < 0)
				return cli_usage_error(cmd, "'%s' is not a target", argv[optind]);
		}
		if (ce.len + strlen(opts) >= sizeof(ce.line))
			return cli_usage_error(cmd, "too many targets");
		memcpy(ce.line + ce.len, opts, strlen(opts) + 1);
		ce.len += strlen(opts);
	}
	ret = entry_parse(cmd, &ce);
	if (ret != EXIT_OK)
		return ret;

	if (!ctx->dry_run)
		(void)cmd_stop_flag();
	/* Powering droplets off needs the journal, and so the state directory. */
	r = state_dir_resolve(ctx->state_dir, &dir);
	if (r == 0 && !ctx->dry_run)
		r = state_dir_prepare(dir);
	if (r == -EROFS || r == -EACCES) {
		/* Power first: recovery only needs to read the journal. */
		(void)cmd_recover_readonly(ctx, dir);
		log_error("cannot write to the state directory '%s' (%s), so the intent journal "
		    "cannot be updated and no droplet is powered off (remount it read-write, or "
		    "name another with --state-dir)", dir, strerror(-r));
		ret = EXIT_CANTCREAT;
		goto out;
	}
	if (r < 0) {
		log_errno(r, "cannot use the state directory '%s' for the intent journal; "
		    "name one with --state-dir", dir != NULL ? dir : "(none)");
		ret = EXIT_CANTCREAT;
		goto out;
	}
	ret = cmd_session_open(ctx, dir, true, ctx->dry_run, &sess);
	if (ret != EXIT_OK)
		goto out;
	if (sess.client == NULL) {
		/* A dry run without a token: nothing to ask. */
		log_error("no DigitalOcean API token found; a dry run needs one to look the "
		    "droplets up");
		ret = EXIT_CONFIG;
		goto out;
	}
	job.entry = &ce.schedule->entries[0];
	job.slot = ctx->now - ctx->now % 60;
	cmd_flow_config(ctx, &cfg);
	cmd_session_hooks(&sess, &cfg);
	cfg.stop = cmd_stop_flag();
	if (!ctx->dry_run)
		cmd_notify(sess.client, ctx->notify, &job, 1, NULL);
	r = prune ? flow_prune(sess.client, &cfg, &job, 1, &rep) :
	    flow_run(sess.client, &cfg, &job, 1, &rep);
	if (r == 0 && !ctx->dry_run)
		cmd_notify(sess.client, ctx->notify, &job, 1, &rep);
	if (r < 0) {
		log_errno(r, "the %s did not run", cmd);
		ret = cli_exit_code(r);
		goto out;
	}
	cmd_print_report(&rep, ctx->dry_run || prune);
	(void)cmd_metrics_after_flow(ctx, dir, &job, &rep, sess.client);
	ret = cmd_report_exit(&rep);
	if (ret == EXIT_OK)
		ret = sess.recover_code;
	if (*cfg.stop && ret == EXIT_OK)
		ret = EXIT_TEMPFAIL;
out:
	flow_report_release(&rep);
	cmd_session_close(&sess);
	free(dir);
	entry_release(&ce);
	return ret;
}

int
cmd_snapshot(struct cli_ctx *ctx, int argc, char **argv)
{
	return cmd_flow_now(ctx, argc, argv, false);
}

int
cmd_prune(struct cli_ctx *ctx, int argc, char **argv)
{
	return cmd_flow_now(ctx, argc, argv, true);
}

/* --- list ---------------------------------------------------------------- */

static int
list_usage(FILE *f)
{
	fprintf(f,
	    "Usage: dosnap list [TARGET...] [--json]\n"
	    "\n"
	    "The snapshots of the droplets (all droplets when no TARGET is given):\n"
	    "snapshot id, name, droplet id and name, creation time, size.  A good first\n"
	    "command to check that the token works.\n");
	return f == stdout ? EXIT_OK : EXIT_USAGE;
}

static bool
target_matches(const struct api_droplet *d, const struct sched_target *t)
{
	size_t i;

	if (t->kind == SCHED_TARGET_ID)
		return (uint64_t)d->id == t->id;
	if (t->kind == SCHED_TARGET_NAME)
		return d->name != NULL && strcmp(d->name, t->value) == 0;
	for (i = 0; i < d->n_tags; i++)
		if (strcmp(d->tags[i], t->value) == 0)
			return true;
	return false;
}

static void
format_utc(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0) {
		snprintf(buf, size, "-");
		return;
	}
	gmtime_r(&tt, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
cmd_list(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "json", no_argument, NULL, OPT_JSON },
		{ NULL, 0, NULL, 0 },
	};
	struct cmd_entry ce = { .len = 0 };
	struct api_client *client = NULL;
	struct api_droplet_list *droplets = NULL;
	struct api_snapshot_list *snaps = NULL;
	struct api_error err;
	const struct sched_entry *en = NULL;
	size_t i, j, shown = 0, unmatched = 0;
	int c, r, ret;

	while ((c = cli_getopt("list", argc, argv, CLI_CMD_SHORTOPTS, longopts)) != -1) {
		if (c == OPT_JSON) {
			ctx->json = true;
			continue;
		}
		r = cli_common_option(ctx, c, optarg);
		if (r > 1)
			return r;
		if (r == 0)
			return cli_usage_error("list", "unknown option '%s'", argv[optind - 1]);
	}
	if (ctx->want_help)
		return list_usage(stdout);
	if (optind < argc) {
		ce.len = (size_t)snprintf(ce.line, sizeof(ce.line), "* * * * *");
		for (; optind < argc; optind++) {
			r = entry_add(&ce, NULL, argv[optind]);
			if (r == -E2BIG)
				return cli_usage_error("list", "too many targets: at most %d bytes of "
				    "them; use tag:NAME", SCHED_MAX_LINE);
			if (r == -EPERM)
				return cli_usage_error("list", TOKEN_AS_TARGET);
			if (r < 0)
				return cli_usage_error("list", "'%s' is not a target", argv[optind]);
		}
		ret = entry_parse("list", &ce);
		if (ret != EXIT_OK)
			return ret;
		en = &ce.schedule->entries[0];
	}
	ret = cmd_api_open(ctx, false, &client);
	if (ret != EXIT_OK)
		goto out;
	r = api_list_droplets(client, NULL, NULL, &droplets, &err);
	if (r == 0)
		r = api_list_snapshots(client, "droplet", &snaps, &err);
	if (r < 0 || droplets == NULL || snaps == NULL) {
		char buf[512];

		log_error("cannot list snapshots: %s", api_error_format(&err, buf, sizeof(buf)));
		ret = r == -EACCES ? EXIT_NOPERM : r == -ENOMEM ? EXIT_OSERR :
		    err.transient ? EXIT_TEMPFAIL : EXIT_UNAVAIL;
		goto out;
	}
	/* As `snapshot` and `prune` do: a target that names no droplet is a failure. */
	for (i = 0; en != NULL && i < en->n_targets; i++) {
		const struct sched_target *t = &en->targets[i];
		bool found = false;

		for (j = 0; j < droplets->n && !found; j++)
			found = target_matches(&droplets->items[j], t);
		if (!found) {
			log_error("%s%s matches no droplet", t->kind == SCHED_TARGET_TAG ? "tag:" :
			    t->kind == SCHED_TARGET_NAME ? "name:" : "", t->value);
			unmatched++;
		}
	}
	if (en != NULL && unmatched == en->n_targets) {
		ret = EXIT_UNAVAIL;
		goto out;
	}
	if (ctx->json)
		printf("[");
	else
		printf("%-12s %-44s %-24s %-20s %8s\n", "SNAPSHOT", "NAME", "DROPLET", "CREATED",
		    "SIZE");
	for (i = 0; i < snaps->n; i++) {
		const struct api_snapshot *s = &snaps->items[i];
		const struct api_droplet *d = NULL;
		char when[32], who[64];

		for (j = 0; j < droplets->n; j++) {
			char id[24];

			snprintf(id, sizeof(id), "%" PRId64, droplets->items[j].id);
			if (s->resource_id != NULL && strcmp(s->resource_id, id) == 0) {
				d = &droplets->items[j];
				break;
			}
		}
		if (en != NULL) {
			bool match = false;

			for (j = 0; d != NULL && j < en->n_targets && !match; j++)
				match = target_matches(d, &en->targets[j]);
			if (!match)
				continue;
		}
		format_utc(s->created_at, when, sizeof(when));
		snprintf(who, sizeof(who), "%s %s", s->resource_id ? s->resource_id : "-",
		    d != NULL && d->name != NULL ? d->name : "(deleted)");
		/* What the API sent, made safe for a terminal (text) or valid (JSON) by log.c. */
		if (ctx->json) {
			printf("%s\n  {\"id\":", shown ? "," : "");
			log_json_string(stdout, s->id);
			printf(",\"name\":");
			log_json_string(stdout, s->name);
			printf(",\"droplet_id\":");
			log_json_string(stdout, s->resource_id);
			printf(",\"droplet_name\":");
			log_json_string(stdout, d != NULL ? d->name : NULL);
			printf(",\"created_at\":\"%s\",\"size_gigabytes\":%.2f}", when,
			    s->size_gigabytes);
		} else {
			char safe[3][256];

			printf("%-12s %-44s %-24s %-20s %6.1f GB\n", log_safe(s->id, safe[0],
			    sizeof(safe[0])), log_safe(s->name, safe[1], sizeof(safe[1])),
			    log_safe(who, safe[2], sizeof(safe[2])), when, s->size_gigabytes);
		}
		shown++;
	}
	if (ctx->json)
		printf("%s]\n", shown ? "\n" : "");
	else if (shown == 0)
		printf("(no snapshots)\n");
	ret = unmatched > 0 ? EXIT_UNAVAIL : EXIT_OK;
out:
	api_snapshot_list_free(snaps);
	api_droplet_list_free(droplets);
	api_client_free(client);
	entry_release(&ce);
	return ret;
}

/* --- status -------------------------------------------------------------- */

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

int
cmd_status(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct journal_record *recs = NULL;
	struct recover_result *res = NULL;
	struct recover_config rc = { .time_scale = ctx->time_scale, .dry_run = true };
	struct api_client *client = NULL;
	char *dir = NULL;
	size_t i, n = 0;
	int c, r, ret = EXIT_OK;

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
		ret = EXIT_CANTCREAT;
		goto out;
	}
	printf("state directory %s\n", dir);
	if (n == 0) {
		printf("intent journal: no open records: every droplet dosnap powered off was "
		    "restored\n");
	} else {
		printf("intent journal: %zu open record%s\n", n, n == 1 ? "" : "s");
		/* Names in records came from the API and sit in files: log_safe shows them inert. */
		char sn[3][512];

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
	}
	{
		int64_t off, at;

		if (state_clock_load(dir, &off, &at) == 0) {
			int64_t a = off < 0 ? -off : off;

			if (a > 300)
				printf("clock: WARNING: the local clock was %" PRId64 "h%02" PRId64 "m "
				    "%s the API's at the last run (%" PRId64 " s); check the host's "
				    "time (timedatectl, NTP)\n", a / 3600, a / 60 % 60,
				    off > 0 ? "ahead of" : "behind", off);
			else
				printf("clock: in step with the API's at the last run (%+" PRId64
				    " s)\n", off);
		}
	}
	/* The journal is shown even then, but a schedule that cannot be read is a failure. */
	ret = status_entries(ctx, dir);
out:
	free(res);
	free(recs);
	api_client_free(client);
	free(dir);
	return ret;
}
