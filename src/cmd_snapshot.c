/* cmd_snapshot: `dosnap snapshot` and `dosnap prune`: one entry from the flags, run now. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dosnap/cli.h"
#include "dosnap/cmd.h"
#include "dosnap/flow.h"
#include "dosnap/log.h"
#include "dosnap/state.h"

enum {
	OPT_KEEP = OPT_CMD_BASE + 50,
	OPT_MAX_AGE,
	OPT_POWER,
	OPT_NAME,
	OPT_SHUTDOWN_TIMEOUT,
	OPT_TIMEOUT,
	OPT_VOLUMES,
};

/* The flags that are entry options: which key each sets, and for which command. */
static const struct entry_flag {
	const char *key;	/* the schedule file's option */
	const char *value;	/* for a flag without a value; NULL: its argument */
	int opt;
	bool rule;		/* a retention rule: prune needs one */
	bool prune;		/* prune takes it too */
} entry_flags[] = {
	{ "keep", NULL, OPT_KEEP, true, true },
	{ "max-age", NULL, OPT_MAX_AGE, true, true },
	{ "power", NULL, OPT_POWER, false, false },
	{ "name", NULL, OPT_NAME, false, true },
	{ "shutdown-timeout", NULL, OPT_SHUTDOWN_TIMEOUT, false, false },
	{ "timeout", NULL, OPT_TIMEOUT, false, false },
	{ "volumes", "yes", OPT_VOLUMES, false, false },
};

static const struct entry_flag *
entry_flag(int opt)
{
	size_t i;

	for (i = 0; i < sizeof(entry_flags) / sizeof(entry_flags[0]); i++)
		if (entry_flags[i].opt == opt)
			return &entry_flags[i];
	return NULL;
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

/*
 * The options into CE and CTX, then the targets (all droplets when none is
 * given: *RET_ALL).  Returns EXIT_OK with CE parsed, EXIT_OK after
 * printing the help (ctx->want_help), or the exit code to leave with after
 * saying what was wrong.
 */
static int
flow_now_entry(struct cli_ctx *ctx, int argc, char **argv, bool prune, struct cmd_entry *ce,
    bool *ret_all)
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
	const struct entry_flag *f;
	const char *value;
	bool have_rule = false;
	int c, r;

	while ((c = cli_getopt(cmd, argc, argv, CLI_CMD_SHORTOPTS, longopts)) != -1) {
		f = entry_flag(c);
		if (f == NULL) {
			r = cmd_flow_option(ctx, cmd, c, optarg);
			if (r > 1)
				return r;
			if (r == 0)
				return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
			continue;
		}
		if (prune && !f->prune)
			return cli_usage_error(cmd, "--%s is for `dosnap snapshot`", f->key);
		have_rule = have_rule || f->rule;
		value = f->value != NULL ? f->value : optarg;
		if (cmd_entry_option(ce, f->key, value) < 0)
			return cli_usage_error(cmd, "--%s: '%s' is not a valid value", f->key, value);
	}
	if (ctx->want_help)
		return prune ? prune_usage(stdout) : snapshot_usage(stdout);
	if (prune && !have_rule)
		return cli_usage_error(cmd, "say what to delete with --keep N or --max-age D");
	if (!prune && optind >= argc)
		return cli_usage_error(cmd, "name the droplets: an id, tag:NAME or name:NAME");
	*ret_all = optind >= argc;
	/* An entry needs a target: "1" stands for them all (job.all_droplets). */
	if (*ret_all && cmd_entry_target(ce, "1") < 0)
		return EXIT_SOFTWARE;
	for (; optind < argc; optind++) {
		r = cmd_entry_target(ce, argv[optind]);
		if (r == -E2BIG)
			return cli_usage_error(cmd, "too many targets: at most %d bytes of them; "
			    "name many droplets with a tag:NAME instead", SCHED_MAX_LINE);
		if (r == -EPERM)
			return cli_usage_error(cmd, CMD_TOKEN_AS_TARGET);
		if (r < 0)
			return cli_usage_error(cmd, "'%s' is not a target", argv[optind]);
	}
	return cmd_entry_parse(ce, cmd);
}

/* `snapshot` and `prune`: the same options, a different flow. */
static int
flow_now(struct cli_ctx *ctx, int argc, char **argv, bool prune)
{
	const char *cmd = prune ? "prune" : "snapshot";
	struct cmd_entry ce = { .targets_len = 0 };
	struct cmd_session sess = { 0 };
	struct flow_report rep = { 0 };
	struct flow_config cfg;
	struct flow_job job = { 0 };
	char *dir = NULL;
	int r, ret;

	ret = flow_now_entry(ctx, argc, argv, prune, &ce, &job.all_droplets);
	if (ret != EXIT_OK || ctx->want_help)
		goto out;
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
	job.entry = cmd_entry_get(&ce);
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
	cmd_entry_release(&ce);
	return ret;
}

int
cmd_snapshot(struct cli_ctx *ctx, int argc, char **argv)
{
	return flow_now(ctx, argc, argv, false);
}

int
cmd_prune(struct cli_ctx *ctx, int argc, char **argv)
{
	return flow_now(ctx, argc, argv, true);
}
