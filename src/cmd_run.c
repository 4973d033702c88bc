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
#include "dosnap/retry.h"
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
	    "the lock taken exits 0 without acting.  Droplets that failed for a passing\n"
	    "reason (network, 5xx, 429, timeout) are retried within the slot, about 1, 2,\n"
	    "4, 8, 16, 32 minutes later, then hourly; --dry-run and status show when.\n"
	    "\n"
	    "  --dry-run   print what is due and its slot, and (with a token) the requests\n"
	    "              that would change something; send none, touch nothing\n"
	    "  --jobs N    droplet flows at once (default 10)\n"
	    "  --stop-timeout D  on SIGTERM/SIGINT, time allowed to power droplets back on (5m)\n"
	    "  --notify URL  ping URL/start, then URL or URL/fail with the summary\n"
	    "              (healthchecks.io style; entries may have their own notify=URL)\n"
	    "  --rate-limit N|off  API requests a minute at most (default 240)\n"
	    "  --metrics-file PATH  write Prometheus metrics there after work (node_exporter's\n"
	    "              textfile directory; default $DOSNAP_METRICS_FILE)\n"
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

/* The droplets of SE's last slot waiting for a retry, as "310000002 web-2, ...". */
static void
format_retry_droplets(const struct state_entry *se, bool due_only, int64_t now, char *buf,
    size_t size)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < se->n_droplets && len + 1 < size; i++) {
		const struct state_droplet *d = &se->droplets[i];
		int n;

		if (d->slot != se->slot || d->outcome != STATE_OUTCOME_PASSING ||
		    d->next_retry == 0 || (due_only && d->next_retry > now))
			continue;
		if (d->id == 0)
			n = snprintf(buf + len, size - len, "%sall its targets", len ? ", " : "");
		else
			n = snprintf(buf + len, size - len, "%s%" PRId64 "%s%s", len ? ", " : "",
			    d->id, d->name[0] ? " " : "", d->name);
		if (n < 0)
			break;
		len += (size_t)n;
	}
}

void
cmd_print_retries(const struct sched_entry *e, const struct state_entry *se, int64_t now)
{
	char when[TZ_RFC3339_MAX], then[TZ_RFC3339_MAX], until[TZ_RFC3339_MAX], who[1024];
	int64_t at, end;

	if (se == NULL || retry_pending(se, &at) == 0 ||
	    retry_window_end(e, se->slot, &end) < 0)
		return;
	format_retry_droplets(se, false, now, who, sizeof(who));
	if (now >= end || at >= end)
		printf("    line %u slot %s: gave up retrying %s at %s (the slot's window "
		    "ends before the next retry); the next slot tries again\n", e->line,
		    tz_format_rfc3339(e->zone, se->slot, when), who,
		    tz_format_rfc3339(e->zone, end, until));
	else
		printf("    line %u slot %s: retry %s %s %s (window until %s)\n", e->line,
		    tz_format_rfc3339(e->zone, se->slot, when), who, at <= now ? "due now, since" :
		    "at", tz_format_rfc3339(e->zone, at, then),
		    tz_format_rfc3339(e->zone, end, until));
}

static void
print_due(const struct due_item *items, size_t n, int64_t now, const struct tz *zone,
    const struct schedule *s, const struct state *st)
{
	char when[TZ_RFC3339_MAX];
	size_t i, k;

	if (n == 0)
		printf("nothing due at %s\n", format_time(zone, now, when));
	for (i = 0; i < n; i++) {
		const struct sched_entry *e = items[i].entry;
		char targets[1024];

		if (items[i].retry) {
			format_retry_droplets(state_find(st, e->id), true, now, targets,
			    sizeof(targets));
			printf("retry: line %u slot %s (%s)  droplets: %s\n", e->line,
			    tz_format_rfc3339(e->zone, items[i].slot, when), e->text, targets);
			continue;
		}
		cmd_format_targets(e, targets, sizeof(targets));
		printf("due: line %u slot %s (%s)  targets: %s\n", e->line,
		    tz_format_rfc3339(e->zone, items[i].slot, when), e->text, targets);
	}
	/* Retries waiting for their time: when each will run. */
	for (i = 0; i < s->n_entries; i++) {
		const struct state_entry *se = state_find(st, s->entries[i].id);
		int64_t at;
		bool listed = false;

		for (k = 0; k < n && !listed; k++)
			listed = items[k].entry == &s->entries[i];
		if (listed || se == NULL || retry_pending(se, &at) == 0)
			continue;
		cmd_print_retries(&s->entries[i], se, now);
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

/* A retry's job: the entry with only the droplets to try again as targets. */
struct retry_job {
	struct sched_entry entry;	/* a shallow copy; targets owned */
	int64_t *ids;			/* the droplets retried; NULL: the whole entry */
	size_t n_ids;
};

static void
retry_job_release(struct retry_job *rj)
{
	size_t i;

	if (rj->ids != NULL) {
		for (i = 0; i < rj->entry.n_targets; i++)
			free(rj->entry.targets[i].value);
		free(rj->entry.targets);
	}
	free(rj->ids);
	memset(rj, 0, sizeof(*rj));
}

/*
 * Point JOB at the droplets of E's slot whose retry is due: the snapshots
 * keep their slot's names, so one a failed attempt left is adopted, never
 * taken twice.  When the targets could not be resolved at all, the whole
 * entry again (droplets that succeeded find their snapshot and are left as
 * they are).
 */
static int
retry_job_init(struct retry_job *rj, const struct sched_entry *e, const struct state *st,
    int64_t now, struct flow_job *job)
{
	const struct state_entry *se = state_find(st, e->id);
	size_t i;
	int r;

	memset(rj, 0, sizeof(*rj));
	job->entry = e;
	if (se == NULL)
		return 0;
	r = retry_targets(se, now, &rj->ids, &rj->n_ids);
	if (r < 0)
		return r;
	for (i = 0; i < rj->n_ids; i++)
		if (rj->ids[i] == 0)
			return 0;	/* the whole entry; ids kept for retry_note */
	if (rj->n_ids == 0)
		return 0;
	rj->entry = *e;
	rj->entry.targets = calloc(rj->n_ids, sizeof(*rj->entry.targets));
	if (rj->entry.targets == NULL)
		return -ENOMEM;
	rj->entry.n_targets = rj->n_ids;
	for (i = 0; i < rj->n_ids; i++) {
		rj->entry.targets[i].kind = SCHED_TARGET_ID;
		rj->entry.targets[i].id = (uint64_t)rj->ids[i];
		rj->entry.targets[i].value = str_printf("%" PRId64, rj->ids[i]);
		if (rj->entry.targets[i].value == NULL)
			return -ENOMEM;
	}
	job->entry = &rj->entry;
	return 0;
}

/*
 * Record what became of each droplet of JOB and say when the ones that
 * failed for a passing reason are tried again.  Returns the slot's result.
 */
static int
run_note_outcomes(struct state *st, const struct flow_job *job, const struct retry_job *rj,
    bool retry, const struct flow_report *rep, int64_t ended, int *ret_r)
{
	const struct sched_entry *e = job->entry;
	const struct state_entry *se;
	struct retry_summary sum;
	int code = entry_result(rep, job);

	*ret_r = retry_note(st, job, rep, retry ? rj->ids : NULL, retry ? rj->n_ids : 0, ended,
	    &sum);
	if (*ret_r < 0)
		return code;
	se = state_find(st, e->id);
	/* A retry that mended its droplets mends the slot only if no other failed. */
	if (retry && code == EXIT_OK && se != NULL && retry_slot_failed(se))
		code = se->result != EXIT_OK ? se->result : EXIT_TEMPFAIL;
	if (sum.n_passing > 0) {
		char at[TZ_RFC3339_MAX], until[TZ_RFC3339_MAX];
		int64_t end = 0;

		if (retry_window_end(e, job->slot, &end) == 0 && sum.first_at < end)
			log_warn("line %u: %zu droplet%s failed for a passing reason; retrying at %s "
			    "(attempt %d), within the slot until %s", e->line, sum.n_passing,
			    sum.n_passing == 1 ? "" : "s", tz_format_rfc3339(e->zone, sum.first_at,
			    at), sum.max_attempts + 1, tz_format_rfc3339(e->zone, end, until));
		else if (end != 0)
			log_warn("line %u: %zu droplet%s failed for a passing reason; the slot's "
			    "window ends at %s, before the next retry: the next slot tries again",
			    e->line, sum.n_passing, sum.n_passing == 1 ? "" : "s",
			    tz_format_rfc3339(e->zone, end, until));
	}
	return code;
}

/*
 * Run the due entries' flows and record each entry's slot as handled,
 * whatever its outcome; the droplets that failed for a passing reason are
 * retried by later runs within the slot (see retry.h), those that failed
 * for a lasting reason wait for the next slot.  A slot a stop signal cut
 * short stays due: the next run finishes it.  Returns the run's exit code.
 */
static int
run_flows(struct cli_ctx *ctx, const char *dir,
    const struct due_item *due, size_t n_due, struct state *st)
{
	struct cmd_session sess = { 0 };
	struct flow_report rep = { 0 };
	struct flow_config cfg;
	struct flow_job *jobs;
	struct retry_job *rjobs;
	time_t started = time(NULL);
	size_t i;
	int r, ret;

	jobs = calloc(n_due ? n_due : 1, sizeof(*jobs));
	rjobs = calloc(n_due ? n_due : 1, sizeof(*rjobs));
	if (jobs == NULL || rjobs == NULL) {
		free(jobs);
		free(rjobs);
		return EXIT_OSERR;
	}
	for (i = 0; i < n_due; i++) {
		jobs[i].entry = due[i].entry;
		jobs[i].slot = due[i].slot;
		if (due[i].retry) {
			r = retry_job_init(&rjobs[i], due[i].entry, st, ctx->now, &jobs[i]);
			if (r < 0) {
				log_errno(r, "cannot prepare the retry of line %u", due[i].entry->line);
				ret = EXIT_OSERR;
				goto out;
			}
		}
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
	if (!ctx->dry_run)
		cmd_metrics_note_api(st, sess.client);
	for (i = 0; i < n_due && !ctx->dry_run; i++) {
		int64_t ended = ctx->now + (int64_t)(time(NULL) - started);
		int code;

		/*
		 * A stop cuts flows short in more ways than one, and their
		 * failures are the stop's, not the slot's: after a signal only
		 * a slot that fully succeeded is done.  The next run finishes
		 * the others, adopting what this one made.
		 */
		if (entry_interrupted(&rep, &jobs[i]) ||
		    (*cfg.stop && entry_result(&rep, &jobs[i]) != EXIT_OK))
			continue;	/* left due: see keep_due */
		code = run_note_outcomes(st, &jobs[i], &rjobs[i], due[i].retry, &rep, ended, &r);
		if (due[i].retry)
			cmd_metrics_note_slot_retries(st, 1);
		if (r < 0) {
			log_errno(r, "cannot record the outcome of line %u", jobs[i].entry->line);
			ret = EXIT_OSERR;
		}
		r = due_mark(st, jobs[i].entry, ctx->now, jobs[i].slot, code);
		if (r < 0) {
			log_errno(r, "cannot record the slot of line %u", jobs[i].entry->line);
			ret = EXIT_OSERR;
		}
	}
out:
	flow_report_release(&rep);
	cmd_session_close(&sess);
	for (i = 0; i < n_due; i++)
		retry_job_release(&rjobs[i]);
	free(rjobs);
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

/*
 * Choose the state directory into *DIRP (free it with free(), on
 * failure too) and, unless in a dry run, make sure it can be written; when
 * it cannot, recover from the journal read-only first.  Returns EXIT_OK or
 * the exit code to leave with, after saying why.
 */
static int
run_state_dir(const struct cli_ctx *ctx, char **dirp)
{
	int r;

	r = state_dir_resolve(ctx->state_dir, dirp);
	if (r < 0) {
		log_error("cannot choose a state directory: neither --state-dir, "
		    "$STATE_DIRECTORY, $XDG_STATE_HOME nor $HOME is set");
		return EXIT_CANTCREAT;
	}
	if (!ctx->dry_run) {
		r = state_dir_prepare(*dirp);
		if (r == -EROFS || r == -EACCES) {
			/* Power first: recovery only needs to read the journal. */
			(void)cmd_recover_readonly(ctx, *dirp);
			log_error("cannot write to state directory '%s' (%s): nothing runs until "
			    "it can be written, since the intent journal must be updated before any "
			    "droplet is powered off (remount it read-write, or name another with "
			    "--state-dir)", *dirp, strerror(-r));
			return EXIT_CANTCREAT;
		}
		if (r < 0) {
			if (r == -EPERM)
				log_error("state directory '%s' is not this user's, or is writable by "
				    "group or others; dosnap refuses it (chown it to this user and "
				    "chmod 700 '%s')", *dirp, *dirp);
			else
				log_errno(r, "cannot use state directory '%s'", *dirp);
			return EXIT_CANTCREAT;
		}
	}
	return EXIT_OK;
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
	bool clock_back, dirty, repaired, recovered;
	const char *metrics;
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

	ret = run_state_dir(ctx, &dir);
	if (ret != EXIT_OK)
		goto out;
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
		print_due(due, n_due, ctx->now, s->n_entries ? s->entries[0].zone : NULL, s, &st);
		if (n_due > 0)
			ret = run_flows(ctx, dir, due, n_due, &st);
		goto out;
	}
	/*
	 * Open records in the journal mean an interrupted run left droplets
	 * off: recover them now, even when nothing is due.  Looking costs one
	 * opendir(), so the minute that finds nothing stays cheap.
	 */
	recovered = n_due == 0 && journal_has_records(dir);
	if (n_due > 0 || recovered)
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
	/* After work, or a retry due; a quiet minute only when there is no file yet. */
	metrics = cmd_metrics_path(ctx);
	if (metrics != NULL && (n_due > 0 || recovered || cmd_metrics_missing(metrics)))
		cmd_metrics_write(metrics, s, &st, ctx->now, true);
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
