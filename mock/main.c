/* dosnap-mock: run the DigitalOcean API mock as a program, until SIGINT or SIGTERM. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "mock.h"

#ifndef DOSNAP_VERSION
#define DOSNAP_VERSION "unknown"
#endif

static const char usage_text[] =
"usage: dosnap-mock [options]\n"
"\n"
"A stateful mock of the DigitalOcean v2 API (droplets, actions, snapshots,\n"
"volumes, account) for trying dosnap out and for tests.\n"
"\n"
"  --listen HOST:PORT       address to bind (default 127.0.0.1:0; port 0 picks a free one)\n"
"  --port-file FILE         write the port bound to FILE\n"
"  --token TOKEN            the bearer token to accept (default mock-token)\n"
"  --fixture FILE           load droplets, volumes and snapshots from a JSON fixture\n"
"  --droplets N             without a fixture, generate N droplets (default 3)\n"
"  --time-scale F           run the clock F times real speed, inverted: 0.01 makes a\n"
"                           20 s snapshot take 0.2 s and a rate-limit minute 0.6 s (default 1)\n"
"  --action-time TYPE=DUR   how long an action takes (power_off, shutdown, power_on, reboot,\n"
"                           power_cycle, snapshot); DUR like 20s, 500ms, 2m (before scaling)\n"
"  --after-snapshot MODE    keep (default): a droplet off during a snapshot stays off;\n"
"                           power-on: it is switched back on when the snapshot completes\n"
"  --rate-limit-hour N|off  requests per hour per token (default 5000)\n"
"  --rate-limit-minute N|off  burst limit per minute per token (default 250)\n"
"  --seed N                 seed for fault probabilities and generated ids (default 0)\n"
"  --fault SPEC             inject a fault; repeatable.  SPEC is comma-separated items:\n"
"                             kind=500|502|503|429|reset|stall|truncated|malformed (required)\n"
"                             method=GET  path=GLOB (fnmatch, e.g. /v2/droplets/[0-9]*)\n"
"                             once  times=N  after=N  p=PROBABILITY\n"
"                             retry-after=SECONDS (429)  stall-ms=MS (stall, default 30000)\n"
"  --threads N              server threads (default 2)\n"
"  --debug-drift            answer off the OpenAPI description on purpose (tests the tests)\n"
"  --help                   show this and exit\n"
"  --version                show the version and exit\n"
"\n"
"Control plane (no token needed): GET /__mock/state, GET|DELETE /__mock/requests,\n"
"POST /__mock/reset, GET|POST|DELETE /__mock/faults (POST body: a SPEC),\n"
"POST /__mock/droplets/ID {\"status\":\"off\",\"misbehave\":[\"ignore_shutdown\"]}.\n";

/* Bounded integer parse, strtonum-style. */
static int
parse_num(const char *s, long long lo, long long hi, long long *ret)
{
	long long v;
	char *end;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* DUR = number [ "ms" | "s" | "m" | "h" ]; plain numbers are seconds.  Result in ms. */
static int
parse_duration(const char *s, unsigned *ret)
{
	double v, mul = 1000;
	char *end;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || v < 0)
		return -EINVAL;
	if (strcmp(end, "ms") == 0)
		mul = 1;
	else if (strcmp(end, "s") == 0 || *end == '\0')
		mul = 1000;
	else if (strcmp(end, "m") == 0)
		mul = 60000;
	else if (strcmp(end, "h") == 0)
		mul = 3600000;
	else
		return -EINVAL;
	if (v * mul > 86400000.0 * 7)
		return -EINVAL;
	*ret = (unsigned)(v * mul);
	return 0;
}

static int
parse_rate(const char *s, unsigned *ret)
{
	long long v;

	if (strcmp(s, "off") == 0) {
		*ret = MOCK_RATE_UNLIMITED;
		return 0;
	}
	if (parse_num(s, 1, MOCK_MAX_RATE, &v) < 0)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

static int
write_port_file(const char *path, uint16_t port)
{
	char tmp[PATH_MAX];
	FILE *f;
	int r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (f == NULL)
		return -errno;
	fprintf(f, "%u\n", port);
	if (fclose(f) != 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

struct opts {
	struct mock_config cfg;
	struct mock_fault faults[MOCK_MAX_FAULTS];
	char host[64];
	const char *port_file;
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "dosnap-mock: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'dosnap-mock --help'.\n");
	return EX_USAGE;
}

static const char *const valued[] = {
	"--listen", "--port-file", "--token", "--fixture", "--droplets", "--time-scale",
	"--action-time", "--after-snapshot", "--rate-limit-hour", "--rate-limit-minute", "--seed",
	"--fault", "--threads",
};

static bool
takes_value(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(valued) / sizeof(valued[0]); i++)
		if (strcmp(name, valued[i]) == 0)
			return true;
	return false;
}

/*
 * Options are "--name VALUE" or "--name=VALUE".  Returns 0 to run, -1 after
 * --help or --version, or an exit code.
 */
static int
parse_args(int argc, char **argv, struct opts *o)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL, *eq;
		char name[32];
		long long n;
		size_t nl;

		if (strncmp(a, "--", 2) != 0)
			return usage_error("unexpected argument '%s'", a);
		eq = strchr(a, '=');
		nl = eq != NULL ? (size_t)(eq - a) : strlen(a);
		if (nl >= sizeof(name))
			return usage_error("unknown option '%s'", a);
		memcpy(name, a, nl);
		name[nl] = '\0';
		if (strcmp(name, "--help") == 0) {
			fputs(usage_text, stdout);
			return -1;
		}
		if (strcmp(name, "--version") == 0) {
			printf("dosnap-mock %s\n", DOSNAP_VERSION);
			return -1;
		}
		if (strcmp(name, "--debug-drift") == 0) {
			o->cfg.debug_drift = true;
			continue;
		}
		if (!takes_value(name))
			return usage_error("unknown option '%s'", name);
		if (eq != NULL)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return usage_error("option '%s' needs a value", name);

		if (strcmp(name, "--listen") == 0) {
			const char *colon = strrchr(val, ':');
			const char *h = val;
			size_t hl;

			if (colon == NULL || parse_num(colon + 1, 0, 65535, &n) < 0)
				return usage_error("--listen takes HOST:PORT, not '%s'", val);
			hl = (size_t)(colon - val);
			if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
				h++;
				hl -= 2;
			}
			if (hl == 0 || hl >= sizeof(o->host))
				return usage_error("--listen takes HOST:PORT, not '%s'", val);
			memcpy(o->host, h, hl);
			o->host[hl] = '\0';
			o->cfg.listen_host = o->host;
			o->cfg.port = (uint16_t)n;
		} else if (strcmp(name, "--port-file") == 0) {
			o->port_file = val;
		} else if (strcmp(name, "--token") == 0) {
			if (*val == '\0')
				return usage_error("--token must not be empty");
			o->cfg.token = val;
		} else if (strcmp(name, "--fixture") == 0) {
			o->cfg.fixture_path = val;
		} else if (strcmp(name, "--droplets") == 0) {
			if (parse_num(val, 1, MOCK_MAX_DROPLETS, &n) < 0)
				return usage_error("--droplets takes 1 to 100000, not '%s'", val);
			o->cfg.droplets = (unsigned)n;
		} else if (strcmp(name, "--time-scale") == 0) {
			char *end;
			double f;

			errno = 0;
			f = strtod(val, &end);
			if (errno != 0 || *end != '\0' || !(f >= 0.0001 && f <= 1000))
				return usage_error("--time-scale takes a number from 0.0001 to 1000, not '%s'", val);
			o->cfg.time_scale = f;
		} else if (strcmp(name, "--action-time") == 0) {
			static const char *const types[] = {
				"power_off", "shutdown", "power_on", "reboot", "power_cycle", "snapshot",
			};
			const char *e = strchr(val, '=');
			size_t t;

			for (t = 0; e != NULL && t < sizeof(types) / sizeof(types[0]); t++)
				if (strlen(types[t]) == (size_t)(e - val) && strncmp(types[t], val, (size_t)(e - val)) == 0)
					break;
			if (e == NULL || t == sizeof(types) / sizeof(types[0]) ||
			    parse_duration(e + 1, &o->cfg.action_ms[t]) < 0)
				return usage_error("--action-time takes TYPE=DURATION (e.g. snapshot=20s), not '%s'", val);
		} else if (strcmp(name, "--after-snapshot") == 0) {
			if (strcmp(val, "keep") == 0)
				o->cfg.after_snapshot = MOCK_AFTER_SNAPSHOT_KEEP;
			else if (strcmp(val, "power-on") == 0)
				o->cfg.after_snapshot = MOCK_AFTER_SNAPSHOT_POWER_ON;
			else
				return usage_error("--after-snapshot takes keep or power-on, not '%s'", val);
		} else if (strcmp(name, "--rate-limit-hour") == 0) {
			if (parse_rate(val, &o->cfg.rate_per_hour) < 0)
				return usage_error("--rate-limit-hour takes a count or off, not '%s'", val);
		} else if (strcmp(name, "--rate-limit-minute") == 0) {
			if (parse_rate(val, &o->cfg.rate_per_minute) < 0)
				return usage_error("--rate-limit-minute takes a count or off, not '%s'", val);
		} else if (strcmp(name, "--seed") == 0) {
			if (parse_num(val, 0, LLONG_MAX, &n) < 0)
				return usage_error("--seed takes a non-negative integer, not '%s'", val);
			o->cfg.seed = (uint64_t)n;
		} else if (strcmp(name, "--fault") == 0) {
			if (o->cfg.n_faults == MOCK_MAX_FAULTS)
				return usage_error("at most %d --fault options", MOCK_MAX_FAULTS);
			if (mock_fault_parse(val, &o->faults[o->cfg.n_faults]) < 0)
				return usage_error("bad --fault spec '%s' (see --help)", val);
			o->cfg.n_faults++;
		} else if (strcmp(name, "--threads") == 0) {
			if (parse_num(val, 1, 64, &n) < 0)
				return usage_error("--threads takes 1 to 64, not '%s'", val);
			o->cfg.threads = (unsigned)n;
		} else {
			return usage_error("unknown option '%s'", name);
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct mock *m = NULL;
	sigset_t set;
	int r, sig;

	memset(&o, 0, sizeof(o));
	mock_config_init(&o.cfg);
	o.cfg.faults = o.faults;
	r = parse_args(argc, argv, &o);
	if (r != 0)
		return r < 0 ? EX_OK : r;

	/* Block the stop signals before any thread starts, so only sigwait sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	r = mock_start(&o.cfg, &m);
	if (r < 0) {
		char why[256] = "";

		if (o.cfg.fixture_path != NULL && mock_fixture_check(o.cfg.fixture_path, why, sizeof(why)) < 0)
			fprintf(stderr, "dosnap-mock: %s%s\n", r == -EINVAL ? "bad fixture: " : "", why);
		else
			fprintf(stderr, "dosnap-mock: cannot start on %s:%u: %s\n",
			    o.cfg.listen_host, o.cfg.port, strerror(-r));
		return r == -ENOENT ? EX_NOINPUT : r == -EINVAL ? EX_DATAERR : EX_UNAVAILABLE;
	}
	if (o.port_file != NULL) {
		r = write_port_file(o.port_file, mock_port(m));
		if (r < 0) {
			fprintf(stderr, "dosnap-mock: cannot write port file '%s': %s\n", o.port_file, strerror(-r));
			mock_stop(m);
			return EX_CANTCREAT;
		}
	}
	printf("listening on %s\n", mock_url(m));
	/* If stdout is gone nobody reads the URL; the server serves regardless. */
	(void)fflush(stdout);

	do {
		r = sigwait(&set, &sig);
	} while (r != 0);
	mock_stop(m);
	if (o.port_file != NULL)
		unlink(o.port_file);
	return EX_OK;
}
