/* cmd_run: `dosnap run`, the timer's entry point: what is due now, and running it. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dosnap/cli.h"
#include "dosnap/cmd.h"
#include "dosnap/due.h"
#include "dosnap/journal.h"
#include "dosnap/flow.h"
#include "dosnap/api.h"
#include "dosnap/log.h"
#include "dosnap/schedule.h"
#include "dosnap/state.h"
#include "dosnap/tz.h"
#include "dosnap/util.h"

static int
run_usage(FILE *f)
{
	fprintf(f,
	    "Usage: dosnap run [-f FILE] [--state-dir DIR] [--now TIME] [--dry-run] [--jobs N]\n"
	    "\n"
	    "Run every schedule entry that is due now: an entry is due when one of its\n"
	    "fire times passed since the last run (within its catchup= bound, 24h by\n"
	    "default).  Missed fire times coalesce into one run.  A second run that finds\n"
	    "the lock taken exits 0 without acting.\n"
	    "\n"
	    "  --dry-run   print what is due and its slot, and (with a token) the requests\n"
	    "              that would change something; send none, touch nothing\n"
	    "  --jobs N    droplet flows at once (default 10)\n"
	    "  --stop-timeout D  on SIGTERM/SIGINT, time allowed to power droplets back on (5m)\n"
	    "  --notify URL  ping URL/start, then URL or URL/fail with the summary\n"
	    "              (healthchecks.io style; entries may have their own notify=URL)\n"
	    "  --rate-limit N|off  API requests a minute at most (default 240)\n"
	    "  --token-file FILE, --api-url URL, --cacert FILE, --time-scale F (tests)\n");
	return f == stdout ? EXIT_OK : EXIT_USAGE;
}

/*
 * Load the state file, moving a damaged one aside: bookkeeping trouble must
 * never stop backups, so a state file that cannot be read makes this a
 * first run.  Returns 0 or an exit code.
 */
static int
run_load_state(const char *path, const struct cli_ctx *ctx, bool dry_run, struct state *st)
{
	unsigned line = 0;
	char *aside = NULL;
	int r;

	r = state_load(path, st, &line);
	if (r == 0 || r == -ENOENT)
		return EXIT_OK;
	if (r == -EBADMSG || r == -EFBIG) {
		if (dry_run) {
			log_warn("state file '%s' is damaged (line %u); a real run would move it "
			    "aside and go on as a first run", path, line);
			return EXIT_OK;
		}
		r = state_quarantine(path, ctx->now, &aside);
		if (r < 0) {
			log_errno(r, "state file '%s' is damaged and cannot be moved aside", path);
			return EXIT_CANTCREAT;
		}
		log_warn("state file '%s' was damaged (line %u); moved it aside to '%s' and "
		    "going on as a first run", path, line, aside);
		free(aside);
		return EXIT_OK;
	}
	log_errno(r, "cannot read state file '%s'", path);
	return EXIT_CANTCREAT;
}

/* SECONDS as a short duration: "3d", "5h", "12m", "40s". */
static const char *
format_span(int64_t seconds, char *buf, size_t size)
{
	if (seconds >= 2 * 86400)
		snprintf(buf, size, "%" PRId64 "d", seconds / 86400);
	else if (seconds >= 2 * 3600)
		snprintf(buf, size, "%" PRId64 "h", seconds / 3600);
	else if (seconds >= 120)
		snprintf(buf, size, "%" PRId64 "m", seconds / 60);
	else
		snprintf(buf, size, "%" PRId64 "s", seconds);
	return buf;
}

/* T in ZONE, or in UTC when there is no zone (an empty schedule). */
static const char *
format_time(const struct tz *zone, int64_t t, char *buf)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (zone != NULL)
		return tz_format_rfc3339(zone, t, buf);
	gmtime_r(&tt, &tm);
	strftime(buf, TZ_RFC3339_MAX, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
	return buf;
}

/*
 * Times the state file put far ahead of now are damage, not the clock going
 * back (see due_forget_future): forget them, say so for each, and go on.
 * Returns true when the state changed (and needs writing), *ret_r < 0 on
 * failure.
 */
static bool
run_forget_future(const struct schedule *s, struct state *st, const char *path,
    const struct cli_ctx *ctx, int *ret_r)
{
	const struct tz *zone = s->n_entries ? s->entries[0].zone : NULL;
	struct due_future *v = NULL;
	size_t i, n = 0;

	*ret_r = due_forget_future(s, st, ctx->now, &v, &n);
	if (*ret_r < 0)
		return false;
	for (i = 0; i < n; i++) {
		char when[TZ_RFC3339_MAX], ahead[32], window[32];
		const char *tail = ctx->dry_run ? "; a real run would record that in the state file" :
		    "";

		format_span(v[i].saved - ctx->now, ahead, sizeof(ahead));
		format_span(v[i].window, window, sizeof(window));
		/* The last run alone is worth a line only when no entry says it. */
		if (v[i].entry == NULL && n > 1)
			continue;
		if (v[i].entry == NULL)
			log_warn("state file '%s' says the last run was at %s, %s ahead of now and "
			    "beyond the catch-up window (%s): that is damage (a clock that was far "
			    "ahead, or a wrong --now), not the clock going back; going on%s", path,
			    format_time(zone, v[i].saved, when), ahead, window, tail);
		else
			log_warn("state file '%s' says line %u (%s) was handled through %s, %s ahead "
			    "of now and beyond its catch-up window (%s): that is damage (a clock that "
			    "was far ahead, or a wrong --now), not the clock going back; the entry "
			    "starts afresh, as on a first run%s", path, v[i].entry->line,
			    v[i].entry->text, format_time(v[i].entry->zone, v[i].saved, when), ahead,
			    window, tail);
	}
	free(v);
	return n > 0;
}

static void
print_due(const struct due_item *items, size_t n, int64_t now, const struct tz *zone)
{
	char when[TZ_RFC3339_MAX];
	size_t i;

	if (n == 0) {
		printf("nothing due at %s\n", format_time(zone, now, when));
		return;
	}
	for (i = 0; i < n; i++) {
		const struct sched_entry *e = items[i].entry;
		char targets[1024];

		cmd_format_targets(e, targets, sizeof(targets));
		printf("due: line %u slot %s (%s)  targets: %s\n", e->line,
		    tz_format_rfc3339(e->zone, items[i].slot, when), e->text, targets);
	}
}

/* The exit code of one entry's flows, for its slot's record. */
static int
entry_result(const struct flow_report *rep, const struct flow_job *job)
{
	struct flow_report one = { 0 };
	size_t i;
	int code;

	one.results = calloc(rep->n ? rep->n : 1, sizeof(*one.results));
	if (one.results == NULL)
		return EXIT_OSERR;
	for (i = 0; i < rep->n; i++)
		if (rep->results[i].job == job)
			one.results[one.n++] = rep->results[i];
	code = cmd_report_exit(&one);
	free(one.results);
	return code;
}

/* Whether any of JOB's droplets was cut short by a stop signal. */
static bool
entry_interrupted(const struct flow_report *rep, const struct flow_job *job)
{
	size_t i;

	for (i = 0; i < rep->n; i++)
		if (rep->results[i].job == job && rep->results[i].r == -EINTR)
			return true;
	return false;
}

/*
 * Run the due entries' flows and record each entry's slot as done, whatever
 * its outcome: a failed slot is not retried every minute (the next slot
 * tries again), except one a stop signal cut short, which the next run
 * finishes.  Returns the run's exit code.
 */
static int
run_flows(struct cli_ctx *ctx, const char *dir,
    const struct due_item *due, size_t n_due, struct state *st)
{
	struct cmd_session sess = { 0 };
	struct flow_report rep = { 0 };
	struct flow_config cfg;
	struct flow_job *jobs;
	size_t i;
	int r, ret;

	jobs = calloc(n_due ? n_due : 1, sizeof(*jobs));
	if (jobs == NULL)
		return EXIT_OSERR;
	for (i = 0; i < n_due; i++) {
		jobs[i].entry = due[i].entry;
		jobs[i].slot = due[i].slot;
	}
	ret = cmd_session_open(ctx, dir, n_due > 0, ctx->dry_run, &sess);
	if (ret != EXIT_OK)
		goto out;
	if (n_due == 0) {
		ret = sess.recover_code;
		goto out;
	}
	if (sess.client == NULL) {
		log_notice("no API token found; not asking the API what the flows would do");
		goto out;
	}
	cmd_flow_config(ctx, &cfg);
	cmd_session_hooks(&sess, &cfg);
	cfg.stop = cmd_stop_flag();
	if (!ctx->dry_run)
		cmd_notify(sess.client, ctx->notify, jobs, n_due, NULL);
	r = flow_run(sess.client, &cfg, jobs, n_due, &rep);
	if (r == 0 && !ctx->dry_run)
		cmd_notify(sess.client, ctx->notify, jobs, n_due, &rep);
	if (r < 0) {
		log_errno(r, "the snapshot flows did not run");
		ret = cli_exit_code(r);
		goto out;
	}
	cmd_print_report(&rep, ctx->dry_run);
	ret = cmd_report_exit(&rep);
	if (ret == EXIT_OK)
		ret = sess.recover_code;
	if (*cfg.stop) {
		log_warn("stopped by a signal; droplets it powered off were powered back on");
		ret = EXIT_TEMPFAIL;
	}
	for (i = 0; i < n_due && !ctx->dry_run; i++) {
		int code = entry_result(&rep, &jobs[i]);

		/*
		 * A stop cuts flows short in more ways than one, and their
		 * failures are the stop's, not the slot's: after a signal only
		 * a slot that fully succeeded is done.  The next run finishes
		 * the others, adopting what this one made.
		 */
		if (entry_interrupted(&rep, &jobs[i]) || (*cfg.stop && code != EXIT_OK))
			continue;	/* left due: see keep_due */
		r = due_mark(st, jobs[i].entry, ctx->now, jobs[i].slot, code);
		if (r < 0) {
			log_errno(r, "cannot record the slot of line %u", jobs[i].entry->line);
			ret = EXIT_OSERR;
		}
	}
out:
	flow_report_release(&rep);
	cmd_session_close(&sess);
	free(jobs);
	return ret;
}

/*
 * Every due entry whose slot was not recorded as done (cut short by a
 * signal, no token, the API unreachable before any flow began) must stay
 * due.  One the state already knows does; a new one is entered as handled
 * up to just before its slot, so that the next run finds the slot again
 * even a minute later, instead of counting it handled through now.
 */
static int
keep_due(struct state *st, const struct due_item *due, size_t n_due)
{
	size_t i;
	int r;

	for (i = 0; i < n_due; i++) {
		if (state_find(st, due[i].entry->id) != NULL)
			continue;
		r = due_mark(st, due[i].entry, due[i].slot - 1, 0, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

static int
id_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Bring the state up to date for the entries that were not due: they were
 * handled through NOW.  Returns true when the file needs writing: when an
 * entry is new or gone.  An entry the state already knows and that was not
 * due needs no write: the next run finds the same answer from the older
 * time, so the run that finds nothing due writes nothing (it runs 1,440
 * times a day).
 */
static bool
run_update_state(struct state *st, const struct schedule *s, int64_t now, int *ret_r)
{
	uint64_t *ids;
	bool dirty = false;
	size_t i, before;

	*ret_r = 0;
	ids = malloc((s->n_entries ? s->n_entries : 1) * sizeof(*ids));
	if (ids == NULL) {
		*ret_r = -ENOMEM;
		return false;
	}
	for (i = 0; i < s->n_entries; i++) {
		ids[i] = s->entries[i].id;
		if (state_find(st, ids[i]) == NULL) {
			*ret_r = due_mark(st, &s->entries[i], now, 0, 0);
			if (*ret_r < 0)
				break;
			dirty = true;
		}
	}
	qsort(ids, s->n_entries, sizeof(*ids), id_cmp);
	before = st->n_entries;
	state_prune(st, ids, s->n_entries);
	free(ids);
	return dirty || st->n_entries != before;
}

int
cmd_run(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		CLI_FLOW_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct schedule *s = NULL;
	struct state st;
	struct due_item *due = NULL;
	char *dir = NULL, *path = NULL;
	size_t n_due = 0;
	bool clock_back, dirty, repaired;
	int c, r, ret = EXIT_OK, lock = -1;

	state_init(&st);
	while ((c = cli_getopt("run", argc, argv, CLI_CMD_SHORTOPTS, longopts)) != -1) {
		r = cmd_flow_option(ctx, "run", c, optarg);
		if (r > 1)
			return r;
		if (r == 0)
			return cli_usage_error("run", "unknown option '%s'", argv[optind - 1]);
	}
	if (ctx->want_help)
		return run_usage(stdout);
	if (optind < argc)
		return cli_usage_error("run", "unexpected argument '%s'; `run` takes its "
		    "targets from the schedule (for a one-off use `dosnap snapshot`)", argv[optind]);

	/* From the start: a stop during recovery must not kill us half-way. */
	if (!ctx->dry_run)
		(void)cmd_stop_flag();
	ret = cmd_load_schedule(ctx, &s);
	if (ret != EXIT_OK)
		return ret;

	r = state_dir_resolve(ctx->state_dir, &dir);
	if (r < 0) {
		log_error("cannot choose a state directory: neither --state-dir, "
		    "$STATE_DIRECTORY, $XDG_STATE_HOME nor $HOME is set");
		ret = EXIT_CANTCREAT;
		goto out;
	}
	if (!ctx->dry_run) {
		r = state_dir_prepare(dir);
		if (r == -EROFS || r == -EACCES) {
			/* Power first: recovery only needs to read the journal. */
			(void)cmd_recover_readonly(ctx, dir);
			log_error("cannot write to state directory '%s' (%s): nothing runs until "
			    "it can be written, since the intent journal must be updated before any "
			    "droplet is powered off (remount it read-write, or name another with "
			    "--state-dir)", dir, strerror(-r));
			ret = EXIT_CANTCREAT;
			goto out;
		}
		if (r < 0) {
			if (r == -EPERM)
				log_error("state directory '%s' is not this user's, or is writable by "
				    "group or others; dosnap refuses it (chown it to this user and "
				    "chmod 700 '%s')", dir, dir);
			else
				log_errno(r, "cannot use state directory '%s'", dir);
			ret = EXIT_CANTCREAT;
			goto out;
		}
	}
	r = state_path_for(dir, ctx->schedule_path, &path);
	if (r < 0) {
		log_errno(r, "cannot name the state file in '%s'", dir);
		ret = EXIT_CANTCREAT;
		goto out;
	}
	if (!ctx->dry_run) {
		r = state_lock(path, &lock);
		if (r == -EWOULDBLOCK) {
			log_notice("another dosnap run holds the lock on '%s'; leaving this "
			    "minute to it", path);
			ret = EXIT_OK;
			goto out;
		}
		if (r < 0) {
			log_errno(r, "cannot lock '%s.lock'", path);
			ret = EXIT_CANTCREAT;
			goto out;
		}
	}
	ret = run_load_state(path, ctx, ctx->dry_run, &st);
	if (ret != EXIT_OK)
		goto out;
	repaired = run_forget_future(s, &st, path, ctx, &r);
	if (r < 0) {
		log_errno(r, "cannot work out what is due");
		ret = cli_exit_code(r);
		goto out;
	}

	r = due_compute(s, &st, ctx->now, &due, &n_due, &clock_back);
	if (r < 0) {
		log_errno(r, "cannot work out what is due");
		ret = cli_exit_code(r);
		goto out;
	}
	if (clock_back) {
		char a[TZ_RFC3339_MAX], b[TZ_RFC3339_MAX];
		const struct tz *z = s->n_entries ? s->entries[0].zone : NULL;

		log_warn("the clock went backwards: it is %s but the last run was at %s; "
		    "nothing is due until then", format_time(z, ctx->now, a),
		    format_time(z, st.last_run, b));
		/* Droplets an interrupted run left off are still recovered. */
		if (!ctx->dry_run && journal_has_records(dir))
			ret = run_flows(ctx, dir, due, 0, &st);
		goto out;	/* the state keeps its last run */
	}
	if (ctx->dry_run) {
		print_due(due, n_due, ctx->now, s->n_entries ? s->entries[0].zone : NULL);
		if (n_due > 0)
			ret = run_flows(ctx, dir, due, n_due, &st);
		goto out;
	}
	/*
	 * Open records in the journal mean an interrupted run left droplets
	 * off: recover them now, even when nothing is due.  Looking costs one
	 * opendir(), so the minute that finds nothing stays cheap.
	 */
	if (n_due > 0 || journal_has_records(dir))
		ret = run_flows(ctx, dir, due, n_due, &st);
	r = keep_due(&st, due, n_due);
	if (r < 0) {
		log_errno(r, "cannot update the state");
		ret = cli_exit_code(r);
		goto out;
	}
	dirty = run_update_state(&st, s, ctx->now, &r) || n_due > 0 || repaired;
	if (r < 0) {
		log_errno(r, "cannot update the state");
		ret = cli_exit_code(r);
		goto out;
	}
	if (dirty) {
		st.last_run = ctx->now;
		r = state_save(&st, path);
		if (r < 0) {
			log_errno(r, "cannot write state file '%s'", path);
			if (ret == EXIT_OK)
				ret = EXIT_CANTCREAT;
			goto out;
		}
	}
	if (n_due == 0)
		log_info("nothing due");
out:
	free(due);
	state_release(&st);
	state_unlock(lock);
	free(path);
	free(dir);
	schedule_free(s);
	return ret;
}
