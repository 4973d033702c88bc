/* cli: parse the global options, pick the command, and map errors to exit codes. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dosnap/cli.h"
#include "dosnap/log.h"
#include "dosnap/tz.h"

struct command {
	const char *name;
	int (*fn)(struct cli_ctx *ctx, int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "run", cmd_run, "run what the schedule says is due now (the timer's entry point)" },
	{ "check", cmd_check, "validate the schedule file and show each entry's next fire time" },
	{ "next", cmd_next, "list the next fire times of the schedule or of one expression" },
	{ "snapshot", cmd_snapshot, "snapshot droplets now, without a schedule" },
	{ "prune", cmd_prune, "delete old snapshots by count or age" },
	{ "list", cmd_list, "list the droplets' snapshots (a good first check of the token)" },
	{ "status", cmd_status, "show interrupted flows and what recovery would do, and each entry's last slot" },
};

static void
print_help(FILE *f)
{
	size_t i;

	fprintf(f,
	    "Usage: dosnap [OPTIONS] COMMAND [ARGS...]\n"
	    "\n"
	    "Scheduled DigitalOcean droplet snapshots: power off, snapshot, power on, prune.\n"
	    "\n"
	    "Commands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
	    "\n"
	    "Options for every command:\n"
	    "  -f, --schedule FILE   schedule file (default $DOSNAP_SCHEDULE, else /etc/dosnap/schedule)\n"
	    "      --state-dir DIR   state directory (default $STATE_DIRECTORY, $XDG_STATE_HOME/dosnap,\n"
	    "                        /var/lib/dosnap for root, ~/.local/state/dosnap)\n"
	    "      --now TIME        act as if it were TIME (RFC 3339, e.g. 2026-11-26T03:30:00Z)\n"
	    "      --token-file FILE the API token (else $CREDENTIALS_DIRECTORY/digitalocean-token,\n"
	    "                        $DIGITALOCEAN_ACCESS_TOKEN, $DO_TOKEN)\n"
	    "      --api-url URL     the API (default https://api.digitalocean.com; $DOSNAP_API_URL)\n"
	    "      --cacert FILE     CA certificates for a private CA\n"
	    "      --log-format F    text (default) or json\n"
	    "  -v, --verbose         say more (twice for debug output)\n"
	    "  -q, --quiet           warnings and errors only\n"
	    "      --help            show help (for a command: dosnap COMMAND --help)\n"
	    "      --version         show the version\n"
	    "\n"
	    "Exit codes: 0 ok or nothing due, 64 usage, 66 missing input file, 69 a flow\n"
	    "failed for a lasting reason, 73 state not writable, 74 I/O error, 75 passing\n"
	    "failure (try again), 77 token refused, 78 schedule file or configuration has\n"
	    "errors.\n");
	fprintf(f, "The schedule format: dosnap-schedule(5); everything else: dosnap(1).\n");
}

int
cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "dosnap%s%s: ", cmd != NULL ? " " : "", cmd != NULL ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'dosnap%s%s --help'.\n", cmd != NULL ? " " : "",
	    cmd != NULL ? cmd : "");
	return EXIT_USAGE;
}

/*
 * Refuse option NAME (LEN bytes, without "--" and without any "=value",
 * which is never echoed: it may be a token).  FULL is the option getopt
 * took it for, or NULL.
 */
static void
refuse_option(const char *cmd, const char *name, size_t len, const char *full)
{
	if (len >= 2 && len <= 5 && strncmp(name, "token", len) == 0) {
		cli_usage_error(cmd, "--%.*s: dosnap takes no token on the command line, where "
		    "every user of the machine can read it in the process list; put it in a "
		    "file (mode 0600) and pass --token-file FILE, or set "
		    "$DIGITALOCEAN_ACCESS_TOKEN", (int)len, name);
		return;
	}
	if (full != NULL)
		cli_usage_error(cmd, "unknown option '--%.*s'; options are not abbreviated: "
		    "did you mean '--%s'?", (int)len, name, full);
	else
		cli_usage_error(cmd, "unknown option '--%.*s'", (int)len, name);
}

int
cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
    const struct option *longopts)
{
	char opts[64];
	const char *el, *name;
	size_t len;
	int c, idx = -1, at;

	/* A leading ':' makes getopt tell a missing value from an unknown option. */
	if (shortopts[0] == '+')
		snprintf(opts, sizeof(opts), "+:%s", shortopts + 1);
	else
		snprintf(opts, sizeof(opts), ":%s", shortopts);
	opterr = 0;
	c = getopt_long(argc, argv, opts, longopts, &idx);
	if (c == -1)
		return -1;
	if (c == '?' && optopt != 0) {
		cli_usage_error(cmd, "unknown option '-%c'", optopt);
		return OPT_BAD;
	}
	el = optind > 0 && optind - 1 < argc ? argv[optind - 1] : "";
	if (c == '?' || c == ':') {
		if (strncmp(el, "--", 2) != 0) {
			cli_usage_error(cmd, "option '-%c' needs a value", optopt);
			return OPT_BAD;
		}
		name = el + 2;
		len = strcspn(name, "=");
		if (c == ':')
			cli_usage_error(cmd, "option '--%.*s' needs a value", (int)len, name);
		else
			refuse_option(cmd, name, len, NULL);
		return OPT_BAD;
	}
	if (idx < 0)
		return c;	/* a short option */
	/*
	 * getopt_long takes any unambiguous prefix of a long option: "--tok"
	 * for --token-file, with a token as its value.  Only full names count.
	 * The option is in the element before its value when that came apart.
	 */
	at = optind - 1;
	if (longopts[idx].has_arg != no_argument && optarg != NULL && at > 0 &&
	    optarg == argv[at])
		at--;
	el = at >= 0 && at < argc ? argv[at] : "";
	if (strncmp(el, "--", 2) != 0)
		return c;
	name = el + 2;
	len = strcspn(name, "=");
	if (len != strlen(longopts[idx].name) || strncmp(name, longopts[idx].name, len) != 0) {
		refuse_option(cmd, name, len, longopts[idx].name);
		return OPT_BAD;
	}
	return c;
}

int
cli_common_option(struct cli_ctx *ctx, int c, const char *arg)
{
	switch (c) {
	case OPT_BAD:
		return EXIT_USAGE;	/* cli_getopt said why */
	case 'f':
		ctx->schedule_path = arg;
		return 1;
	case OPT_STATE_DIR:
		ctx->state_dir = arg;
		return 1;
	case OPT_NOW:
		if (tz_parse_rfc3339(arg, &ctx->now) < 0)
			return cli_usage_error(NULL,
			    "--now: '%s' is not an RFC 3339 time; write it like 2026-11-26T03:30:00Z",
			    arg);
		ctx->have_now = true;
		return 1;
	case OPT_LOG_FORMAT:
		if (strcmp(arg, "text") == 0)
			ctx->log_format = LOG_FORMAT_TEXT;
		else if (strcmp(arg, "json") == 0)
			ctx->log_format = LOG_FORMAT_JSON;
		else
			return cli_usage_error(NULL, "--log-format: '%s' is neither 'text' nor 'json'",
			    arg);
		log_setup(ctx->log_format, ctx->verbosity);
		return 1;
	case OPT_TOKEN_FILE:
		ctx->token_file = arg;
		return 1;
	case OPT_API_URL:
		ctx->api_url = arg;
		return 1;
	case OPT_CACERT:
		ctx->cacert = arg;
		return 1;
	case 'v':
		ctx->verbosity = ctx->verbosity < 0 ? 1 : ctx->verbosity + 1;
		log_setup(ctx->log_format, ctx->verbosity);
		return 1;
	case 'q':
		ctx->verbosity = -1;
		log_setup(ctx->log_format, ctx->verbosity);
		return 1;
	case OPT_HELP:
	case 'h':
		ctx->want_help = true;
		return 1;
	case OPT_VERSION:
		printf("dosnap %s\n", DOSNAP_VERSION);
		exit(EXIT_OK);
	default:
		return 0;
	}
}

int
cli_exit_code(int r)
{
	switch (-r) {
	case 0:
		return EXIT_OK;
	case EINVAL:
		return EXIT_CONFIG;
	case ENOENT:
		return EXIT_NOINPUT;
	case ENOMEM:
		return EXIT_OSERR;
	case EACCES:
	case EPERM:
	case EROFS:
	case ENOSPC:
	case ELOOP:
	case ENOTDIR:
		return EXIT_CANTCREAT;
	case EIO:
		return EXIT_IOERR;
	case EAGAIN:
	case ETIMEDOUT:
	case ECONNRESET:
	case EINTR:
		return EXIT_TEMPFAIL;
	default:
		return EXIT_SOFTWARE;
	}
}

int
cli_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct cli_ctx ctx = { 0 };
	const char *env;
	size_t i;
	int c, r;

	log_setup(LOG_FORMAT_TEXT, 0);
	env = getenv("DOSNAP_SCHEDULE");
	ctx.schedule_path = env != NULL && env[0] != '\0' ? env : "/etc/dosnap/schedule";
	env = getenv("DOSNAP_API_URL");
	ctx.api_url = env != NULL && env[0] != '\0' ? env : NULL;
	ctx.now = (int64_t)time(NULL);

	/* Options before the command; the command parses the rest. */
	while ((c = cli_getopt(NULL, argc, argv, CLI_COMMON_SHORTOPTS, longopts)) != -1) {
		r = cli_common_option(&ctx, c, optarg);
		if (r > 1)
			return r;
	}
	if (optind >= argc) {
		if (ctx.want_help) {
			print_help(stdout);
			return EXIT_OK;
		}
		print_help(stderr);
		return EXIT_USAGE;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) != 0)
			continue;
		argc -= optind;
		argv += optind;
		optind = 0;	/* glibc: 0 reinitialises getopt for the command */
		r = commands[i].fn(&ctx, argc, argv);
		log_release();
		return r;
	}
	if (strcmp(argv[optind], "help") == 0) {
		print_help(stdout);
		return EXIT_OK;
	}
	return cli_usage_error(NULL, "unknown command '%s'", argv[optind]);
}
