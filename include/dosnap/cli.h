/* cli: the command line: global options, the commands, and exit codes from sysexits(3). */
#ifndef DOSNAP_CLI_H
#define DOSNAP_CLI_H

#include <stdbool.h>
#include <stdint.h>

/* Exit codes (sysexits(3)); documented in README.md and dosnap(1). */
#define EXIT_OK		0
#define EXIT_USAGE	64	/* EX_USAGE: bad command line */
#define EXIT_DATAERR	65	/* EX_DATAERR: the API answered nonsense */
#define EXIT_NOINPUT	66	/* EX_NOINPUT: schedule or token file missing */
#define EXIT_UNAVAIL	69	/* EX_UNAVAILABLE: a flow failed for a lasting reason */
#define EXIT_SOFTWARE	70	/* EX_SOFTWARE: internal error */
#define EXIT_OSERR	71	/* EX_OSERR: out of memory, fork failed */
#define EXIT_CANTCREAT	73	/* EX_CANTCREAT: state directory not writable */
#define EXIT_IOERR	74	/* EX_IOERR */
#define EXIT_TEMPFAIL	75	/* EX_TEMPFAIL: a passing failure (network, 5xx, rate limit, signal) */
#define EXIT_NOPERM	77	/* EX_NOPERM: token refused (401/403) */
#define EXIT_CONFIG	78	/* EX_CONFIG: schedule file has errors */

/* What every command sees: the global options, parsed once. */
struct cli_ctx {
	const char *schedule_path;	/* -f; $DOSNAP_SCHEDULE; /etc/dosnap/schedule */
	const char *state_dir;		/* --state-dir, or NULL to resolve */
	const char *token_file;		/* --token-file, or NULL */
	const char *api_url;		/* --api-url, $DOSNAP_API_URL, or NULL */
	const char *cacert;		/* --cacert, or NULL */
	bool have_now;			/* --now given */
	int64_t now;			/* --now, or the current time */
	int verbosity;			/* -q: -1, default 0, -v: 1, -vv: 2 */
	int log_format;			/* enum log_format */
	bool json;			/* --json where a command prints data */
	bool want_help;			/* --help was given */
	double time_scale;		/* --time-scale (tests against the mock); 0: 1 */
	long stop_timeout_s;		/* --stop-timeout; 0: 300 */
	const char *notify;		/* --notify URL, or NULL */
	int rate_limit;			/* --rate-limit: requests a minute; 0: 240; -1: off */
	bool dry_run;			/* --dry-run */
	int jobs;			/* --jobs; 0: the flow's default (10) */
	const char *metrics_file;	/* --metrics-file, or NULL ($DOSNAP_METRICS_FILE) */
};

/* Run dosnap with ARGV; returns the process's exit code. */
int	cli_main(int argc, char **argv);

/*
 * The options every command accepts, for getopt_long tables.  Commands add
 * their own after CLI_COMMON_LONGOPTS and pass their short options after
 * CLI_COMMON_SHORTOPTS.
 */
enum {
	OPT_STATE_DIR = 1000,
	OPT_NOW,
	OPT_LOG_FORMAT,
	OPT_TOKEN_FILE,
	OPT_API_URL,
	OPT_CACERT,
	OPT_HELP,
	OPT_VERSION,
	OPT_JSON,
	OPT_TIME_SCALE,		/* the commands that run flows (see cmd_flow_option) */
	OPT_STOP_TIMEOUT,
	OPT_NOTIFY,
	OPT_RATE_LIMIT,
	OPT_DRY_RUN,
	OPT_JOBS,
	OPT_BAD,		/* cli_getopt refused an option and said why */
	OPT_METRICS_FILE,
	OPT_CMD_BASE = 1100,	/* commands number their own options from here */
};

#define CLI_COMMON_SHORTOPTS "+f:vqh"	/* before the command: stop at its name */
#define CLI_CMD_SHORTOPTS "f:vqh"	/* a command's: options may follow its targets */
#define CLI_COMMON_LONGOPTS \
	{ "schedule", required_argument, NULL, 'f' }, \
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR }, \
	{ "now", required_argument, NULL, OPT_NOW }, \
	{ "log-format", required_argument, NULL, OPT_LOG_FORMAT }, \
	{ "token-file", required_argument, NULL, OPT_TOKEN_FILE }, \
	{ "api-url", required_argument, NULL, OPT_API_URL }, \
	{ "cacert", required_argument, NULL, OPT_CACERT }, \
	{ "verbose", no_argument, NULL, 'v' }, \
	{ "quiet", no_argument, NULL, 'q' }, \
	{ "help", no_argument, NULL, OPT_HELP }, \
	{ "version", no_argument, NULL, OPT_VERSION }

/* The options of every command that runs flows (run, snapshot, prune); see cmd_flow_option. */
#define CLI_FLOW_LONGOPTS \
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN }, \
	{ "jobs", required_argument, NULL, OPT_JOBS }, \
	{ "time-scale", required_argument, NULL, OPT_TIME_SCALE }, \
	{ "stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT }, \
	{ "notify", required_argument, NULL, OPT_NOTIFY }, \
	{ "rate-limit", required_argument, NULL, OPT_RATE_LIMIT }, \
	{ "metrics-file", required_argument, NULL, OPT_METRICS_FILE }

/*
 * getopt_long for dosnap: the same arguments and results, except that a
 * long option must be written in full (getopt_long would take "--tok" or
 * "--token" for --token-file, with a token as its value) and that an
 * unknown option or a missing value is reported here ("dosnap CMD: ...",
 * never echoing a value) and returned as OPT_BAD, which
 * cli_common_option turns into EXIT_USAGE.  CMD is NULL before the command.
 */
struct option;
int	cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
	    const struct option *longopts);

/*
 * Handle option C (with ARG) if it is a common one.  Returns 1 when handled,
 * 0 when C is not a common option, or an exit code > 1 (after saying why)
 * when its value is bad.  --help sets ctx->want_help; the command prints
 * its own help when it sees it.
 */
int	cli_common_option(struct cli_ctx *ctx, int c, const char *arg);

/* Say "dosnap CMD: MSG" and "Try 'dosnap CMD --help'", return EXIT_USAGE. */
int	cli_usage_error(const char *cmd, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* Map a negative errno from the layers below to an exit code. */
int	cli_exit_code(int r);

/* The commands: each parses its own options from ARGV (ARGV[0] is its name). */
int	cmd_check(struct cli_ctx *ctx, int argc, char **argv);
int	cmd_next(struct cli_ctx *ctx, int argc, char **argv);
int	cmd_run(struct cli_ctx *ctx, int argc, char **argv);
int	cmd_snapshot(struct cli_ctx *ctx, int argc, char **argv);
int	cmd_prune(struct cli_ctx *ctx, int argc, char **argv);
int	cmd_list(struct cli_ctx *ctx, int argc, char **argv);
int	cmd_status(struct cli_ctx *ctx, int argc, char **argv);

#endif
