/* cmd_metrics: where the commands that run flows put their metrics file, and what they count into it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dosnap/api.h"
#include "dosnap/cli.h"
#include "dosnap/cmd.h"
#include "dosnap/due.h"
#include "dosnap/flow.h"
#include "dosnap/log.h"
#include "dosnap/metrics.h"
#include "dosnap/retry.h"
#include "dosnap/schedule.h"
#include "dosnap/state.h"

const char *
cmd_metrics_path(const struct cli_ctx *ctx)
{
	const char *env;

	if (ctx->metrics_file != NULL)
		return ctx->metrics_file;
	env = getenv("DOSNAP_METRICS_FILE");
	return env != NULL && env[0] != '\0' ? env : NULL;
}

static void
add(struct state *st, const char *name, uint64_t n)
{
	uint64_t *c = state_counter(st, name);

	if (c != NULL)
		*c += n;
}

void
cmd_metrics_note_api(struct state *st, const struct api_client *c)
{
	struct api_stats s;
	uint64_t *rem;

	if (c == NULL)
		return;
	api_client_stats(c, &s);
	add(st, METRICS_C_REQUESTS, s.requests);
	add(st, METRICS_C_RETRIES, s.retries);
	add(st, METRICS_C_429, s.rate_limited);
	if (s.ratelimit_remaining >= 0) {
		rem = state_counter(st, METRICS_C_REMAINING);
		if (rem != NULL)
			*rem = (uint64_t)s.ratelimit_remaining;
	}
}

void
cmd_metrics_note_slot_retries(struct state *st, uint64_t n)
{
	if (n > 0)
		add(st, METRICS_C_SLOT_RETRIES, n);
}

void
cmd_metrics_write(const char *path, const struct schedule *s, const struct state *st,
    int64_t now, bool retries)
{
	int r = metrics_write(path, s, st, now, retries);

	if (r < 0)
		log_errno(r, "cannot write the metrics file '%s' (its directory must exist and be "
		    "writable: ReadWritePaths= under ProtectSystem=strict); the backups are not "
		    "affected", path);
}

bool
cmd_metrics_missing(const char *path)
{
	return path != NULL && access(path, F_OK) < 0 && errno == ENOENT;
}

int
cmd_metrics_after_flow(const struct cli_ctx *ctx, const char *dir, const struct flow_job *job,
    const struct flow_report *rep, const struct api_client *c)
{
	const char *path = cmd_metrics_path(ctx);
	struct schedule one = { 0 };
	struct state st;
	char *spath = NULL;
	int lock = -1, r, code;

	if (path == NULL || ctx->dry_run)
		return 0;
	state_init(&st);
	/* The counters live beside the run's state, one file per metrics file. */
	r = state_path_for(dir, path, &spath);
	if (r == 0)
		r = state_lock(spath, &lock);
	if (r == -EWOULDBLOCK) {
		log_warn("another dosnap is updating the metrics file '%s'; not writing it this "
		    "time", path);
		goto out;
	}
	if (r < 0) {
		log_errno(r, "cannot keep the counters of the metrics file '%s' in '%s'", path, dir);
		goto out;
	}
	r = state_load(spath, &st, NULL);
	if (r < 0 && r != -ENOENT) {
		log_warn("the counters of the metrics file '%s' ('%s') cannot be read (%s); "
		    "starting them afresh", path, spath, strerror(-r));
		state_release(&st);
		state_init(&st);
	}
	r = retry_note(&st, job, rep, NULL, 0, ctx->now, NULL);
	code = cmd_report_exit(rep);
	if (r == 0)
		r = due_mark(&st, job->entry, ctx->now, job->slot, code);
	cmd_metrics_note_api(&st, c);
	/* One command line's entry: the file does not grow with every other one. */
	state_prune(&st, &job->entry->id, 1);
	st.last_run = ctx->now;
	if (r == 0)
		r = state_save(&st, spath);
	if (r < 0) {
		log_errno(r, "cannot keep the counters of the metrics file '%s' in '%s'", path,
		    spath);
		goto out;
	}
	one.entries = (struct sched_entry *)job->entry;
	one.n_entries = 1;
	cmd_metrics_write(path, &one, &st, ctx->now, false);
out:
	state_release(&st);
	state_unlock(lock);
	free(spath);
	return 0;
}
