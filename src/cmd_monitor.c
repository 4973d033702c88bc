/* cmd_monitor: `dosnap status --monitor`, one line and a plugin exit code for monitoring systems. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dosnap/cli.h"
#include "dosnap/cmd.h"
#include "dosnap/journal.h"
#include "dosnap/log.h"
#include "dosnap/monitor.h"
#include "dosnap/schedule.h"
#include "dosnap/state.h"
#include "dosnap/util.h"

#define MONITOR_LINE_MAX	8192	/* what a monitoring system keeps of a plugin's output */
#define MONITOR_NAMED_MAX	3	/* problems named in the line; the rest are counted */
#define MONITOR_PERF_MAX	200	/* entries in the performance data */

enum {
	OPT_MONITOR = OPT_CMD_BASE + 80,
	OPT_GRACE,
	OPT_WARN_AFTER,
	OPT_CRIT_AFTER,
};

static int
monitor_usage(FILE *f)
{
	fprintf(f,
	    "Usage: dosnap status --monitor [-f FILE] [--state-dir DIR] [--grace D]\n"
	    "                     [--warn-after D] [--crit-after D]\n"
	    "\n"
	    "A check for Nagios, Icinga, Zabbix, Checkmk or a systemd timer: one line,\n"
	    "exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.  Reads only the schedule, the\n"
	    "state file and the intent journal: no API call, no token.\n"
	    "\n"
	    "  WARNING   an entry's latest fire time older than the grace has no success\n"
	    "  CRITICAL  its two latest such fire times have none, or a droplet was left\n"
	    "            powered off (an open journal record older than 5 minutes)\n"
	    "  UNKNOWN   the schedule or the state file cannot be read\n"
	    "\n"
	    "  --grace D        time a run may take before it counts as missed (default 1h,\n"
	    "                   never less than the entry's timeout=)\n"
	    "  --warn-after D   instead: WARNING when the last success is older than D\n"
	    "  --crit-after D   instead: CRITICAL when the last success is older than D\n");
	return f == stdout ? EXIT_OK : EXIT_USAGE;
}

/* The line being built: capped, and never more than MONITOR_LINE_MAX. */
struct line {
	char buf[MONITOR_LINE_MAX];
	size_t len;
};

static void
line_add(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
line_add(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->len + 1 >= sizeof(l->buf))
		return;
	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	l->len += (size_t)n;
	if (l->len >= sizeof(l->buf))
		l->len = sizeof(l->buf) - 1;
}

/* Print the line, exit with LEVEL. */
static int
say(enum monitor_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
say(enum monitor_level level, const char *fmt, ...)
{
	va_list ap;

	printf("DOSNAP %s - ", monitor_level_name(level));
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	(void)fflush(stdout);
	return (int)level;
}

/* T as "2026-11-27T03:30Z" (UTC: a monitoring console shows many hosts). */
static const char *
utc_minute(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%MZ", &tm);
	return buf;
}

/* SECONDS as "26h", "3d", "45m". */
static const char *
span(int64_t seconds, char *buf, size_t size)
{
	if (seconds >= 3 * 86400)
		snprintf(buf, size, "%" PRId64 "d", seconds / 86400);
	else if (seconds >= 2 * 3600)
		snprintf(buf, size, "%" PRId64 "h", seconds / 3600);
	else
		snprintf(buf, size, "%" PRId64 "m", seconds / 60);
	return buf;
}

/*
 * Whether a dosnap holds the journal now (its records may be of a flow in
 * progress).  F_GETLK asks without taking anything, so the check never
 * delays a run; no lock file is no dosnap.
 */
static bool
journal_held(const char *state_dir)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct stat st;
	char *path = str_printf("%s/journal/.lock", state_dir);
	bool held = false;
	int fd;

	if (path == NULL)
		return false;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && fcntl(fd, F_GETLK, &fl) == 0)
		held = fl.l_type != F_UNLCK;
	close(fd);
	return held;
}

/* What is wrong with one entry, for the line. */
static void
describe_entry(struct line *l, const struct monitor_entry *m, const struct monitor_config *cfg)
{
	char targets[96], when[32], age[32];

	cmd_format_targets(m->entry, targets, sizeof(targets));
	line_add(l, "line %u %s: ", m->entry->line, targets);
	if (m->last_ok != 0)
		line_add(l, "no success since %s", utc_minute(m->last_ok, when, sizeof(when)));
	else
		line_add(l, "no success yet");
	if (cfg->warn_after > 0 || cfg->crit_after > 0) {
		if (m->last_ok != 0)
			line_add(l, " (%s ago)", span(m->age, age, sizeof(age)));
	} else
		line_add(l, " (%u%s run%s missed)", m->missed,
		    m->missed >= MONITOR_MAX_MISSED ? "+" : "", m->missed == 1 ? "" : "s");
}

/* Nagios performance data: each entry's age of last success, in seconds. */
static void
perfdata(struct line *l, const struct monitor_report *rep, const struct monitor_config *cfg)
{
	size_t i;

	line_add(l, " |");
	for (i = 0; i < rep->n_entries && i < MONITOR_PERF_MAX; i++) {
		const struct monitor_entry *m = &rep->entries[i];

		line_add(l, " 'line %u'=", m->entry->line);
		if (m->age < 0)
			line_add(l, "U");
		else
			line_add(l, "%" PRId64 "s", m->age);
		if (cfg->warn_after > 0 || cfg->crit_after > 0) {
			line_add(l, ";");
			if (cfg->warn_after > 0)
				line_add(l, "%" PRId64, cfg->warn_after);
			line_add(l, ";");
			if (cfg->crit_after > 0)
				line_add(l, "%" PRId64, cfg->crit_after);
			line_add(l, ";0");
		}
	}
}

static int
report(const struct monitor_report *rep, const struct monitor_config *cfg)
{
	struct line l = { .len = 0 };
	size_t i, named = 0, more = 0;
	char when[32];

	if (rep->level == MONITOR_OK) {
		if (rep->n_entries == 0)
			line_add(&l, "no entries in the schedule");
		else
			line_add(&l, "%zu entr%s, each with a success within its grace",
			    rep->n_entries, rep->n_entries == 1 ? "y" : "ies");
	}
	if (rep->clock_off) {
		char off[32];
		int64_t o = cfg->clock_offset;

		line_add(&l, "the local clock is %s %s the API's (fix the time service: "
		    "the schedule and retention follow it)", span(o < 0 ? -o : o, off, sizeof(off)),
		    o > 0 ? "ahead of" : "behind");
		named++;
	}
	/* The droplets left off first: they are down, not merely unsaved. */
	for (i = 0; i < rep->n_left_off; i++) {
		const struct journal_record *r = rep->left_off[i].rec;

		if (named == MONITOR_NAMED_MAX) {
			more++;
			continue;
		}
		line_add(&l, "%sdroplet %" PRId64 " (%s) left powered off since %s", named ? "; " :
		    "", r->droplet_id, r->name[0] ? r->name : "?",
		    utc_minute(r->written, when, sizeof(when)));
		named++;
	}
	for (i = 0; i < rep->n_entries; i++) {
		if (rep->level == MONITOR_OK || rep->entries[i].level != rep->level)
			continue;
		if (named == MONITOR_NAMED_MAX) {
			more++;
			continue;
		}
		if (named)
			line_add(&l, "; ");
		describe_entry(&l, &rep->entries[i], cfg);
		named++;
	}
	if (more > 0)
		line_add(&l, "; and %zu more", more);
	perfdata(&l, rep, cfg);
	return say(rep->level, "%s", l.buf);
}

/* The duration option ARG into *ret; an exit code when it is not one. */
static int
duration_option(const char *opt, const char *arg, int64_t *ret)
{
	int64_t v;

	if (sched_parse_duration(arg, &v) < 0 || v <= 0 || v > 400LL * 86400)
		return cli_usage_error("status", "%s: '%s' is not a duration like 1h or 26h", opt,
		    arg);
	*ret = v;
	return 0;
}

int
cmd_monitor(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "monitor", no_argument, NULL, OPT_MONITOR },
		{ "grace", required_argument, NULL, OPT_GRACE },
		{ "warn-after", required_argument, NULL, OPT_WARN_AFTER },
		{ "crit-after", required_argument, NULL, OPT_CRIT_AFTER },
		{ NULL, 0, NULL, 0 },
	};
	struct monitor_config cfg = { .now = 0 };
	struct monitor_report rep = { .level = MONITOR_UNKNOWN };
	struct journal_record *recs = NULL;
	struct schedule *s = NULL;
	struct state st;
	char *dir = NULL, *path = NULL;
	unsigned line = 0;
	size_t n_recs = 0;
	int64_t clock_at = 0;
	int c, r, ret;

	state_init(&st);
	while ((c = cli_getopt("status", argc, argv, CLI_CMD_SHORTOPTS, longopts)) != -1) {
		switch (c) {
		case OPT_MONITOR:
			continue;
		case OPT_GRACE:
			r = duration_option("--grace", optarg, &cfg.grace);
			break;
		case OPT_WARN_AFTER:
			r = duration_option("--warn-after", optarg, &cfg.warn_after);
			break;
		case OPT_CRIT_AFTER:
			r = duration_option("--crit-after", optarg, &cfg.crit_after);
			break;
		default:
			r = cli_common_option(ctx, c, optarg);
			if (r > 1)
				return r;
			if (r == 0)
				return cli_usage_error("status", "unknown option '%s'",
				    argv[optind - 1]);
			r = 0;
			break;
		}
		if (r != 0)
			return r;
	}
	if (ctx->want_help)
		return monitor_usage(stdout);
	if (optind < argc)
		return cli_usage_error("status", "unexpected argument '%s'", argv[optind]);
	if (cfg.warn_after > 0 && cfg.crit_after > 0 && cfg.crit_after < cfg.warn_after)
		return cli_usage_error("status", "--crit-after is shorter than --warn-after");
	cfg.now = ctx->now;

	if (cmd_load_schedule(ctx, &s) != EXIT_OK) {
		ret = say(MONITOR_UNKNOWN, "cannot read schedule '%s' (see the error above)",
		    ctx->schedule_path);
		goto out;
	}
	r = state_dir_resolve(ctx->state_dir, &dir);
	if (r == 0)
		r = state_path_for(dir, ctx->schedule_path, &path);
	if (r < 0) {
		ret = say(MONITOR_UNKNOWN, "cannot choose a state directory; name one with "
		    "--state-dir");
		goto out;
	}
	r = state_load(path, &st, &line);
	if (r == -ENOENT) {
		ret = say(MONITOR_UNKNOWN, "no state file '%s': dosnap run has not run for "
		    "schedule '%s' (is its timer enabled? is --state-dir the run's?)", path,
		    ctx->schedule_path);
		goto out;
	}
	if (r == -EBADMSG) {
		ret = say(MONITOR_UNKNOWN, "state file '%s' is damaged (line %u); the next run "
		    "moves it aside", path, line);
		goto out;
	}
	if (r < 0) {
		ret = say(MONITOR_UNKNOWN, "cannot read state file '%s': %s", path, strerror(-r));
		goto out;
	}
	r = journal_peek(dir, &recs, &n_recs);
	if (r < 0) {
		ret = say(MONITOR_UNKNOWN, "cannot read the intent journal in '%s/journal': %s",
		    dir, strerror(-r));
		goto out;
	}
	cfg.journal_held = n_recs > 0 && journal_held(dir);
	/* Advisory: no clock file (no run has seen the API's time) or a damaged one says nothing. */
	cfg.clock_known = state_clock_load(dir, &cfg.clock_offset, &clock_at) == 0;
	r = monitor_check(s, &st, recs, n_recs, &cfg, &rep);
	if (r < 0) {
		ret = say(MONITOR_UNKNOWN, "cannot judge the schedule: %s", strerror(-r));
		goto out;
	}
	ret = report(&rep, &cfg);
out:
	monitor_report_release(&rep);
	free(recs);
	state_release(&st);
	free(path);
	free(dir);
	schedule_free(s);
	return ret;
}
