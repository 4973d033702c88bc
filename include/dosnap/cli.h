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
	bool json;			/* --json where a command prints data */
};

/* Run dosnap with ARGV; returns the process's exit code. */
int	cli_main(int argc, char **argv);

#endif
