/* cmd_schedule: the commands that read the schedule without acting: check and next. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dosnap/cli.h"
#include "dosnap/cmd.h"
#include "dosnap/log.h"
#include "dosnap/schedule.h"
#include "dosnap/tz.h"
#include "dosnap/util.h"

#define NEXT_MAX_COUNT	10000

/* The most of a schedule line a diagnostic echoes: a window around the column. */
#define ECHO_MAX	100

/*
 * Echo the line T with a caret under column COL.  A line longer than
 * ECHO_MAX is cut to a window around the column, with "..." where it was
 * cut; bytes a terminal would act on are shown as '?'.  Tabs are kept, in
 * the caret's indentation too, so the caret lines up on any tab width.
 */
static void
echo_line(const char *t, unsigned col)
{
	size_t len = strlen(t), start = 0, end = len, i;

	if (len > ECHO_MAX) {
		if (col > ECHO_MAX / 2)
			start = col - 1 - ECHO_MAX / 2;
		if (start + ECHO_MAX > len)
			start = len - ECHO_MAX;
		end = start + ECHO_MAX;
	}
	fputs(start > 0 ? "  ..." : "  ", stderr);
	for (i = start; i < end; i++) {
		unsigned char ch = (unsigned char)t[i];

		fputc(ch == '\t' || (ch >= 0x20 && ch != 0x7f) ? ch : '?', stderr);
	}
	fputs(end < len ? "...\n" : "\n", stderr);
	fputs(start > 0 ? "     " : "  ", stderr);
	for (i = start; i + 1 < col && i < end; i++)
		fputc(t[i] == '\t' ? '\t' : ' ', stderr);
	fputs("^\n", stderr);
}

/*
 * Print diagnostics like a compiler: "FILE:LINE:COL: error: MESSAGE", the
 * line, and a caret under the column; warnings the same way.
 */
void
cmd_print_diags(const char *file, const struct sched_diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		const struct sched_diag *g = &d->items[i];
		const char *kind = g->warning ? "warning" : "error";

		if (g->line == 0)
			fprintf(stderr, "%s: %s: %s\n", file, kind, g->message);
		else if (g->col == 0)
			fprintf(stderr, "%s:%u: %s: %s\n", file, g->line, kind, g->message);
		else
			fprintf(stderr, "%s:%u:%u: %s: %s\n", file, g->line, g->col, kind,
			    g->message);
		if (g->line_text != NULL && g->col > 0)
			echo_line(g->line_text, g->col);
		if (g->hint != NULL)
			fprintf(stderr, "  hint: %s\n", g->hint);
	}
	if (d->n_total + d->n_warnings > d->n)
		fprintf(stderr, "%s: %zu more not shown\n", file,
		    d->n_total + d->n_warnings - d->n);
	if (d->n_total > 0)
		fprintf(stderr, "%s: %zu error%s; nothing was run\n", file, d->n_total,
		    d->n_total == 1 ? "" : "s");
}

int
cmd_load_schedule(const struct cli_ctx *ctx, struct schedule **ret)
{
	struct sched_diags diags = { 0 };
	size_t i;
	int r;

	r = schedule_load(ctx->schedule_path, ret, &diags);
	if (r == -EINVAL && diags.n_total > 0) {
		cmd_print_diags(ctx->schedule_path, &diags);
		sched_diags_release(&diags);
		return EXIT_CONFIG;
	}
	/*
	 * Warnings go through the log: `run` meets them every minute, and
	 * they must be JSON in a JSON log and carry a priority in the journal.
	 */
	for (i = 0; r == 0 && i < diags.n; i++)
		log_warn("%s:%u: %s%s%s", ctx->schedule_path, diags.items[i].line,
		    diags.items[i].message, diags.items[i].hint != NULL ? "; " : "",
		    diags.items[i].hint != NULL ? diags.items[i].hint : "");
	if (r == 0 && diags.n_warnings > diags.n)
		log_warn("%s: %zu more warnings not shown", ctx->schedule_path,
		    diags.n_warnings - diags.n);
	sched_diags_release(&diags);
	if (r == -ENOENT) {
		log_error("cannot read schedule file '%s': no such file; "
		    "create it, or name another with -f FILE or $DOSNAP_SCHEDULE",
		    ctx->schedule_path);
		return EXIT_NOINPUT;
	}
	if (r == -EINVAL || r == -EISDIR) {
		log_error("cannot read schedule file '%s': not a regular file (a %s)",
		    ctx->schedule_path, r == -EISDIR ? "directory" : "FIFO, socket or device");
		return EXIT_NOINPUT;
	}
	if (r == -EFBIG) {
		log_error("cannot read schedule file '%s': larger than %d bytes",
		    ctx->schedule_path, SCHED_MAX_FILE_SIZE);
		return EXIT_CONFIG;
	}
	if (r < 0) {
		log_errno(r, "cannot read schedule file '%s'", ctx->schedule_path);
		return r == -EACCES ? EXIT_NOINPUT : cli_exit_code(r);
	}
	return EXIT_OK;
}

/* "123456 tag:web name:db" into BUF (cut with "..." when it does not fit). */
void
cmd_format_targets(const struct sched_entry *e, char *buf, size_t size)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < e->n_targets; i++) {
		const struct sched_target *t = &e->targets[i];
		const char *prefix = t->kind == SCHED_TARGET_TAG ? "tag:" :
		    t->kind == SCHED_TARGET_NAME ? "name:" : "";
		int n = snprintf(buf + len, size - len, "%s%s%s", i ? " " : "", prefix, t->value);

		if (n < 0 || (size_t)n >= size - len) {
			if (size > 4)
				memcpy(buf + size - 4, "...", 4);
			return;
		}
		len += (size_t)n;
	}
}

/* Write S as a JSON string to F (for `next --json`). */
static void
json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static int
check_usage(FILE *f)
{
	fprintf(f,
	    "Usage: dosnap check [-f FILE]\n"
	    "\n"
	    "Validate the schedule file.  Every error is reported as FILE:LINE:COL with\n"
	    "the line and a caret; on success each entry is shown with its zone and\n"
	    "next fire time.  Exit 0 when valid, 78 when not, 66 when missing.\n");
	return f == stdout ? EXIT_OK : EXIT_USAGE;
}

int
cmd_check(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct schedule *s = NULL;
	size_t i;
	int c, r;

	while ((c = cli_getopt("check", argc, argv, CLI_CMD_SHORTOPTS, longopts)) != -1) {
		r = cli_common_option(ctx, c, optarg);
		if (r > 1)
			return r;
		if (r == 0)
			return cli_usage_error("check", "unknown option '%s'", argv[optind - 1]);
	}
	if (ctx->want_help)
		return check_usage(stdout);
	if (optind < argc)
		return cli_usage_error("check", "unexpected argument '%s'", argv[optind]);

	r = cmd_load_schedule(ctx, &s);
	if (r != EXIT_OK)
		return r;
	printf("%s: %zu entr%s, valid\n", ctx->schedule_path, s->n_entries,
	    s->n_entries == 1 ? "y" : "ies");
	for (i = 0; i < s->n_entries; i++) {
		const struct sched_entry *e = &s->entries[i];
		char when[TZ_RFC3339_MAX], targets[256];
		int64_t next;

		cmd_format_targets(e, targets, sizeof(targets));
		if (sched_next(e, ctx->now, &next) == 0)
			tz_format_rfc3339(e->zone, next, when);
		else
			snprintf(when, sizeof(when), "never");
		printf("  line %-4u %-16s next %s  (%s)  %s\n", e->line, tz_name(e->zone), when,
		    e->text, targets);
	}
	schedule_free(s);
	return EXIT_OK;
}

static int
next_usage(FILE *f)
{
	fprintf(f,
	    "Usage: dosnap next [-f FILE] [-n N] [--from TIME] [--json]\n"
	    "       dosnap next --expr 'EXPR' [--tz ZONE] [--from TIME] [-n N]\n"
	    "\n"
	    "The next N (default 10) fire times strictly after --from (default now):\n"
	    "across every entry of the schedule in time order, or of one expression\n"
	    "such as '30 3 * * sun,thu' in ZONE (default the local zone), one\n"
	    "RFC 3339 time a line.\n");
	return f == stdout ? EXIT_OK : EXIT_USAGE;
}

static int
next_expr(const char *expr, const char *zone, int64_t from, long count)
{
	struct sched_diags diags = { 0 };
	struct sched_entry e;
	struct tz *z = NULL;
	int64_t t = from;
	long i;
	int r;

	r = tz_load(zone, &z);
	if (r < 0) {
		char near[256];

		if ((r == -ENOENT || r == -EINVAL) && zone != NULL &&
		    tz_suggest(zone, near, sizeof(near)) == 0)
			log_error("unknown time zone '%s'; did you mean '%s'?", zone, near);
		else if (r == -ENOENT || r == -EINVAL)
			log_error("unknown time zone '%s'; zones are named like Europe/Berlin "
			    "(see /usr/share/zoneinfo)", zone != NULL ? zone : "(local)");
		else
			log_errno(r, "cannot load time zone '%s'", zone != NULL ? zone : "(local)");
		return EXIT_USAGE;
	}
	r = sched_expr_parse(expr, z, &e, &diags);
	if (r < 0) {
		if (diags.n_total > 0)
			cmd_print_diags("--expr", &diags);
		else
			log_errno(r, "cannot parse '%s'", expr);
		sched_diags_release(&diags);
		tz_free(z);
		return EXIT_USAGE;
	}
	sched_diags_release(&diags);
	for (i = 0; i < count; i++) {
		char buf[TZ_RFC3339_MAX];

		if (sched_next(&e, t, &t) < 0)
			break;
		puts(tz_format_rfc3339(z, t, buf));
	}
	sched_entry_release(&e);
	tz_free(z);
	return EXIT_OK;
}

static int
next_schedule(const struct cli_ctx *ctx, int64_t from, long count)
{
	struct schedule *s = NULL;
	int64_t *due;
	size_t i;
	long k;
	int r;

	r = cmd_load_schedule(ctx, &s);
	if (r != EXIT_OK)
		return r;
	due = calloc(s->n_entries ? s->n_entries : 1, sizeof(*due));
	if (due == NULL) {
		schedule_free(s);
		log_errno(-ENOMEM, "cannot list fire times");
		return EXIT_OSERR;
	}
	for (i = 0; i < s->n_entries; i++)
		if (sched_next(&s->entries[i], from, &due[i]) < 0)
			due[i] = INT64_MAX;
	if (ctx->json)
		printf("[");
	/* A linear scan for the minimum: N is small next to parsing the file. */
	for (k = 0; k < count; k++) {
		const struct sched_entry *e;
		char when[TZ_RFC3339_MAX], targets[1024];
		size_t best = SIZE_MAX;

		for (i = 0; i < s->n_entries; i++)
			if (due[i] != INT64_MAX && (best == SIZE_MAX || due[i] < due[best]))
				best = i;
		if (best == SIZE_MAX)
			break;
		e = &s->entries[best];
		tz_format_rfc3339(e->zone, due[best], when);
		cmd_format_targets(e, targets, sizeof(targets));
		if (ctx->json) {
			printf("%s\n  {\"time\":\"%s\",\"unix\":%" PRId64 ",\"line\":%u,\"zone\":",
			    k ? "," : "", when, due[best], e->line);
			json_string(stdout, tz_name(e->zone));
			printf(",\"entry\":");
			json_string(stdout, e->text);
			printf(",\"targets\":");
			json_string(stdout, targets);
			printf("}");
		} else {
			printf("%s  line %-4u %s\n", when, e->line, targets);
		}
		if (sched_next(e, due[best], &due[best]) < 0)
			due[best] = INT64_MAX;
	}
	if (ctx->json)
		printf("%s]\n", k ? "\n" : "");
	free(due);
	schedule_free(s);
	return EXIT_OK;
}

int
cmd_next(struct cli_ctx *ctx, int argc, char **argv)
{
	enum { OPT_EXPR = OPT_CMD_BASE, OPT_TZ, OPT_FROM };
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "json", no_argument, NULL, OPT_JSON },
		{ "expr", required_argument, NULL, OPT_EXPR },
		{ "tz", required_argument, NULL, OPT_TZ },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "count", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char *expr = NULL, *zone = NULL;
	int64_t from = 0, count = 10;
	bool from_set = false;
	int c, r;

	while ((c = cli_getopt("next", argc, argv, CLI_CMD_SHORTOPTS "n:", longopts)) != -1) {
		switch (c) {
		case OPT_JSON:
			ctx->json = true;
			continue;
		case OPT_EXPR:
			expr = optarg;
			continue;
		case OPT_TZ:
			zone = optarg;
			continue;
		case OPT_FROM:
			if (tz_parse_rfc3339(optarg, &from) < 0)
				return cli_usage_error("next", "--from: '%s' is not an RFC 3339 time; "
				    "write it like 2026-11-26T03:30:00Z", optarg);
			from_set = true;
			continue;
		case 'n':
			if (parse_int64(optarg, 1, NEXT_MAX_COUNT, &count) < 0)
				return cli_usage_error("next", "-n: '%s' is not a number from 1 to %d",
				    optarg, NEXT_MAX_COUNT);
			continue;
		}
		r = cli_common_option(ctx, c, optarg);
		if (r > 1)
			return r;
		if (r == 0)
			return cli_usage_error("next", "unknown option '%s'", argv[optind - 1]);
	}
	if (ctx->want_help)
		return next_usage(stdout);
	if (optind < argc)
		return cli_usage_error("next", "unexpected argument '%s'", argv[optind]);
	if (zone != NULL && expr == NULL)
		return cli_usage_error("next", "--tz goes with --expr; in a schedule file use CRON_TZ=");
	if (!from_set)
		from = ctx->now;	/* read after parsing: --now may follow the command */
	if (expr != NULL)
		return next_expr(expr, zone, from, (long)count);
	return next_schedule(ctx, from, (long)count);
}
