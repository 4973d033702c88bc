/* cmd: what the command implementations share (the top layer: these may print and log). */
#ifndef DOSNAP_CMD_H
#define DOSNAP_CMD_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

#include "dosnap/schedule.h"

struct api_client;
struct cli_ctx;
struct flow_config;
struct flow_job;
struct flow_report;
struct journal;
struct state;
struct state_entry;

/* --- the schedule file (cmd_schedule.c) --- */

/* Print schedule diagnostics for FILE to stderr, compiler style. */
void	cmd_print_diags(const char *file, const struct sched_diags *d);

/*
 * Load ctx->schedule_path into *ret, reporting every problem.  Returns
 * EXIT_OK, or the exit code to leave with (78 for errors in the file, 66
 * when it is missing) after saying why.
 */
int	cmd_load_schedule(const struct cli_ctx *ctx, struct schedule **ret);

/* The entry's targets as written ("123456 tag:web"), cut to fit SIZE. */
void	cmd_format_targets(const struct sched_entry *e, char *buf, size_t size);

/* --- one entry from the command line (cmd_entry.c) --- */

/*
 * `snapshot`, `prune` and `list` take an entry's targets and options as
 * flags.  They become one schedule line, "* * * * * TARGET... KEY=VALUE...",
 * parsed by the schedule module, so that the flags and the file accept the
 * same values with the same messages.  Targets and options may come in any
 * order; the line has the targets first, as the file's grammar wants.
 * Start from { 0 }; release with cmd_entry_release.
 */
struct cmd_entry {
	char targets[SCHED_MAX_LINE];	/* " 123 tag:web", as added */
	size_t targets_len;
	char opts[SCHED_MAX_LINE];	/* " keep=3 power=live", as added */
	size_t opts_len;
	struct schedule *schedule;	/* owned; set by cmd_entry_parse */
};

/* A line cmd_entry_line writes always fits in this. */
#define CMD_ENTRY_LINE_MAX	(2 * SCHED_MAX_LINE + 16)

/* What to say when a target looks like a token (which is not repeated). */
#define CMD_TOKEN_AS_TARGET "a target looks like an API token (not repeated here); pass the " \
	"token with --token-file FILE or $DIGITALOCEAN_ACCESS_TOKEN, never on the command line"

/*
 * Add TARGET (an id, tag:NAME or name:NAME; checked by cmd_entry_parse).
 * Returns 0; -EPERM when it looks like an API token; -EINVAL when it holds
 * white space; -E2BIG when the targets would pass SCHED_MAX_LINE with the
 * time fields.
 */
int	cmd_entry_target(struct cmd_entry *ce, const char *target);

/* Add option KEY=VALUE; as cmd_entry_target, without the token check. */
int	cmd_entry_option(struct cmd_entry *ce, const char *key, const char *value);

/* Write the schedule line into BUF (cut to SIZE); returns its length. */
size_t	cmd_entry_line(const struct cmd_entry *ce, char *buf, size_t size);

/*
 * Parse the line into ce->schedule.  Returns EXIT_OK; EXIT_USAGE after
 * printing each problem as "dosnap CMD: ..."; EXIT_SOFTWARE after logging
 * another failure (out of memory).
 */
int	cmd_entry_parse(struct cmd_entry *ce, const char *cmd);

/* The parsed entry, or NULL before cmd_entry_parse succeeded. */
const struct sched_entry *cmd_entry_get(const struct cmd_entry *ce);

/* Free the parsed schedule; the entry may be parsed again. */
void	cmd_entry_release(struct cmd_entry *ce);

/* --- what the commands that run flows share (cmd_flow.c) --- */

/* Handle --time-scale, --stop-timeout and the common options; as cli_common_option. */
int	cmd_flow_option(struct cli_ctx *ctx, const char *cmd, int c, const char *arg);

/*
 * A flow configuration from the context (--jobs, --dry-run, --time-scale...):
 * events to the log, the stop flag unset.
 */
void	cmd_flow_config(const struct cli_ctx *ctx, struct flow_config *cfg);

/* --- signals (cmd_signal.c) --- */

/*
 * Install the SIGTERM/SIGINT handlers and return the flag they set: the
 * first signal asks the flow to stop and restore power; a second within 2 s
 * is the same stop (a process group signalled twice); a later one exits 75.
 */
volatile sig_atomic_t *cmd_stop_flag(void);

/* --- token, client, journal and recovery (cmd_session.c) --- */

/*
 * Load the token (registering it for redaction, making the process
 * non-dumpable) and make the API client.  Returns EXIT_OK with *ret set, or
 * the exit code to leave with after saying why.  With OPTIONAL, a missing
 * token returns EXIT_CONFIG without a word.
 */
int	cmd_api_open(const struct cli_ctx *ctx, bool optional, struct api_client **ret);

/* What the commands that change droplets hold while they run. */
struct cmd_session {
	struct api_client *client;	/* NULL in a dry run without a token */
	struct journal *journal;	/* NULL in a dry run */
	int recover_code;		/* the exit code recovery deserves */
	int64_t *waiting;		/* droplets recovery left off: snapshot in progress */
	size_t n_waiting;
	char *state_dir;		/* copied; where the clock offset is kept */
};

/*
 * Open the intent journal in STATE_DIR (not in a dry run) and, when this is
 * the only dosnap running and the journal holds records, the API client to
 * recover them: power on what an interrupted run left off.  NEED_API opens
 * the client even without records.  Returns EXIT_OK or an exit code after
 * saying why; release with cmd_session_close.
 */
int	cmd_session_open(const struct cli_ctx *ctx, const char *state_dir, bool need_api,
	    bool dry_run, struct cmd_session *s);
void	cmd_session_close(struct cmd_session *s);

/*
 * Why a journal record could not be read (its journal_record.damage, a
 * negative errno), in words: "it is damaged", "it is a symlink"...
 */
const char *cmd_damage_text(int damage);

/*
 * For a state directory that cannot be written (a read-only file system):
 * power on what an interrupted run left off, reading the journal in
 * STATE_DIR without writing it, before the caller reports the directory
 * and exits 73.  Says what it did, and that the records cannot be removed.
 * Returns the exit code recovery deserves (EXIT_OK with nothing to do).
 */
int	cmd_recover_readonly(const struct cli_ctx *ctx, const char *state_dir);

/*
 * Point the flow's intent/progress/done hooks at the session's journal, and
 * tell it which droplets recovery left off for it to restore.
 */
void	cmd_session_hooks(struct cmd_session *s, struct flow_config *cfg);

/* --- a run's outcome (cmd_report.c) --- */

/* Print the summary table (not for dry runs) and log each failure once. */
void	cmd_print_report(const struct flow_report *rep, bool dry_run);

/* The exit code for a report: 0, 77 (token refused), 69 (lasting), 75 (passing). */
int	cmd_report_exit(const struct flow_report *rep);

/*
 * The monitoring pings of a run (notify_run in notify.h: REP NULL for
 * "URL/start", else "URL" or "URL/fail" with the summary), each logged:
 * a failed one as a warning and nothing more.
 */
void	cmd_notify(struct api_client *c, const char *global_url, const struct flow_job *jobs,
	    size_t n, const struct flow_report *rep);

/* --- run and status (cmd_run.c, cmd_monitor.c) --- */

/*
 * Print to stdout the retries pending for entry E's last slot as the state
 * remembers it (SE, may be NULL): which droplets, when, and until when;
 * or that the window ended before they succeeded.  Nothing when none.
 */
void	cmd_print_retries(const struct sched_entry *e, const struct state_entry *se, int64_t now);

/*
 * `dosnap status --monitor` (cmd_status hands over when it sees --monitor):
 * one line on stdout and the plugin exit code, 0 OK to 3 UNKNOWN.
 */
int	cmd_monitor(struct cli_ctx *ctx, int argc, char **argv);

/* --- metrics (cmd_metrics.c) --- */

/* --metrics-file, else $DOSNAP_METRICS_FILE, else NULL. */
const char *cmd_metrics_path(const struct cli_ctx *ctx);

/* Add client C's request counters to ST's, and its last ratelimit-remaining. */
void	cmd_metrics_note_api(struct state *st, const struct api_client *c);

/* Count N retries within a slot in ST. */
void	cmd_metrics_note_slot_retries(struct state *st, uint64_t n);

/* metrics_write, with a warning when it fails: metrics never fail a backup. */
void	cmd_metrics_write(const char *path, const struct schedule *s, const struct state *st,
	    int64_t now, bool retries);

/* Whether PATH is set and names no file yet (so even a quiet minute writes it). */
bool	cmd_metrics_missing(const char *path);

/*
 * For `snapshot` and `prune`: record JOB's outcomes in REP and client C's
 * counters in the state kept for the metrics file (in state directory DIR,
 * locked), then write the file.  Nothing without a metrics file or in a
 * dry run.  Problems are logged as warnings; returns 0.
 */
int	cmd_metrics_after_flow(const struct cli_ctx *ctx, const char *dir,
	    const struct flow_job *job, const struct flow_report *rep,
	    const struct api_client *c);

#endif
