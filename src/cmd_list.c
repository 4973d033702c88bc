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

/* TODO(lead): use target.h */
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
	struct cmd_entry ce = { .targets_len = 0 };
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
		for (; optind < argc; optind++) {
			r = cmd_entry_target(&ce, argv[optind]);
			if (r == -E2BIG)
				return cli_usage_error("list", "too many targets: at most %d bytes of "
				    "them; use tag:NAME", SCHED_MAX_LINE);
			if (r == -EPERM)
				return cli_usage_error("list", CMD_TOKEN_AS_TARGET);
			if (r < 0)
				return cli_usage_error("list", "'%s' is not a target", argv[optind]);
		}
		ret = cmd_entry_parse(&ce, "list");
		if (ret != EXIT_OK)
			return ret;
		en = cmd_entry_get(&ce);
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
	cmd_entry_release(&ce);
	return ret;
}
