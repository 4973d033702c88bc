/* cmd_list: `dosnap list`: the droplets' snapshots, as a table or JSON. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dosnap/api.h"
#include "dosnap/cli.h"
#include "dosnap/cmd.h"
#include "dosnap/log.h"
#include "dosnap/schedule.h"
#include "dosnap/target.h"

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

/*
 * The options, then the targets into CE (parsed); *RET_EN is the entry, or
 * NULL for every droplet.  Returns EXIT_OK, or the exit code to leave with.
 */
static int
list_args(struct cli_ctx *ctx, int argc, char **argv, struct cmd_entry *ce,
    const struct sched_entry **ret_en)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "json", no_argument, NULL, OPT_JSON },
		{ NULL, 0, NULL, 0 },
	};
	int c, r;

	*ret_en = NULL;
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
	if (optind >= argc)
		return EXIT_OK;
	for (; optind < argc; optind++) {
		r = cmd_entry_target(ce, argv[optind]);
		if (r == -E2BIG)
			return cli_usage_error("list", "too many targets: at most %d bytes of "
			    "them; use tag:NAME", SCHED_MAX_LINE);
		if (r == -EPERM)
			return cli_usage_error("list", CMD_TOKEN_AS_TARGET);
		if (r < 0)
			return cli_usage_error("list", "'%s' is not a target", argv[optind]);
	}
	r = cmd_entry_parse(ce, "list");
	if (r == EXIT_OK)
		*ret_en = cmd_entry_get(ce);
	return r;
}

/* As `snapshot` and `prune` do: log each target that names no droplet; returns how many. */
static size_t
list_unmatched(const struct sched_entry *en, const struct api_droplet_list *droplets)
{
	size_t i, j, unmatched = 0;

	for (i = 0; en != NULL && i < en->n_targets; i++) {
		const struct sched_target *t = &en->targets[i];
		bool found = false;

		for (j = 0; j < droplets->n && !found; j++)
			found = target_matches(&droplets->items[j], t);
		if (!found) {
			char name[SCHED_MAX_LINE];

			target_format(t, name, sizeof(name));
			log_error("%s matches no droplet", name);
			unmatched++;
		}
	}
	return unmatched;
}

/* The droplet snapshot S was taken of, or NULL when it is gone. */
static const struct api_droplet *
snapshot_droplet(const struct api_snapshot *s, const struct api_droplet_list *droplets)
{
	size_t j;

	for (j = 0; j < droplets->n; j++) {
		char id[24];

		snprintf(id, sizeof(id), "%" PRId64, droplets->items[j].id);
		if (s->resource_id != NULL && strcmp(s->resource_id, id) == 0)
			return &droplets->items[j];
	}
	return NULL;
}

/* Whether droplet D (NULL: gone) is one of EN's targets; every droplet without EN. */
static bool
list_wanted(const struct api_droplet *d, const struct sched_entry *en)
{
	bool match = false;
	size_t j;

	if (en == NULL)
		return true;
	for (j = 0; d != NULL && j < en->n_targets && !match; j++)
		match = target_matches(d, &en->targets[j]);
	return match;
}

/* One row, or one JSON object (FIRST: none before it), of snapshot S of droplet D. */
static void
print_snapshot(const struct api_snapshot *s, const struct api_droplet *d, bool json, bool first)
{
	char when[32], who[64];

	format_utc(s->created_at, when, sizeof(when));
	snprintf(who, sizeof(who), "%s %s", s->resource_id ? s->resource_id : "-",
	    d != NULL && d->name != NULL ? d->name : "(deleted)");
	/* What the API sent, made safe for a terminal (text) or valid (JSON) by log.c. */
	if (json) {
		printf("%s\n  {\"id\":", first ? "" : ",");
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
}

int
cmd_list(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cmd_entry ce = { .targets_len = 0 };
	struct api_client *client = NULL;
	struct api_droplet_list *droplets = NULL;
	struct api_snapshot_list *snaps = NULL;
	struct api_error err;
	const struct sched_entry *en = NULL;
	size_t i, shown = 0, unmatched;
	int r, ret;

	ret = list_args(ctx, argc, argv, &ce, &en);
	if (ret != EXIT_OK || ctx->want_help)
		goto out;
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
	unmatched = list_unmatched(en, droplets);
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
		const struct api_droplet *d = snapshot_droplet(&snaps->items[i], droplets);

		if (!list_wanted(d, en))
			continue;
		print_snapshot(&snaps->items[i], d, ctx->json, shown == 0);
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
	cmd_entry_release(&ce);
	return ret;
}
