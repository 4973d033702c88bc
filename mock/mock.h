/* mock: an in-process mock of the DigitalOcean v2 API (droplets, actions, snapshots, volumes). */
#ifndef DOSNAP_MOCK_H
#define DOSNAP_MOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A running mock: an HTTP server on its own threads plus the state it
 * serves.  Every function below is safe to call from any thread while the
 * server runs; one mutex guards the state.
 *
 * Time inside the mock is "mock time": real time divided by the time scale,
 * so with time_scale 0.01 a 2 s action finishes after 20 ms and the
 * 60 s rate-limit window lasts 0.6 s.  Actions finish lazily: whenever a
 * request or one of the accessors below looks at the state, every action
 * whose time has come is completed first.
 */
struct mock;

/* Limits on what a user (fixture, command line, control plane) controls. */
#define MOCK_MAX_DROPLETS	100000
#define MOCK_MAX_FAULTS		64
#define MOCK_MAX_REQUEST_LOG	100000	/* older entries are dropped, but still counted */
#define MOCK_MAX_BODY		(64 * 1024)	/* request bodies, bytes */
#define MOCK_MAX_FIXTURE	(16 * 1024 * 1024)	/* fixture file, bytes */
/*
 * The world's lists, since start or reset.  Past MOCK_MAX_ACTIONS starting
 * an action is a 500, past MOCK_MAX_IMAGES a snapshot action ends errored,
 * past MOCK_MAX_VOLUME_SNAPSHOTS a volume snapshot is a 500.
 */
#define MOCK_MAX_ACTIONS	1000000
#define MOCK_MAX_IMAGES		1000000		/* droplet snapshots and backups */
#define MOCK_MAX_VOLUME_SNAPSHOTS 1000000
#define MOCK_MAX_RATE		1000000	/* requests per window */

/* Pass as a rate limit to switch that limit off. */
#define MOCK_RATE_UNLIMITED	0xffffffffu

enum mock_action_type {
	MOCK_ACTION_POWER_OFF,
	MOCK_ACTION_SHUTDOWN,
	MOCK_ACTION_POWER_ON,
	MOCK_ACTION_REBOOT,
	MOCK_ACTION_POWER_CYCLE,
	MOCK_ACTION_SNAPSHOT,
	MOCK_ACTION_VOLUME_SNAPSHOT,	/* POST /v2/volumes/{id}/snapshots; no action object */
	MOCK_ACTION__COUNT,
};

/* Default durations, in mock-time milliseconds, before --time-scale. */
#define MOCK_DEFAULT_POWER_OFF_MS	3000
#define MOCK_DEFAULT_SHUTDOWN_MS	5000
#define MOCK_DEFAULT_POWER_ON_MS	3000
#define MOCK_DEFAULT_REBOOT_MS		5000
#define MOCK_DEFAULT_POWER_CYCLE_MS	5000
#define MOCK_DEFAULT_SNAPSHOT_MS	20000
#define MOCK_DEFAULT_VOLUME_SNAPSHOT_MS	0	/* volume snapshots are created at once */

/* What happens to a droplet that was off when a snapshot of it completes. */
enum mock_after_snapshot {
	MOCK_AFTER_SNAPSHOT_KEEP,	/* it stays off (default) */
	MOCK_AFTER_SNAPSHOT_POWER_ON,	/* the service powers it back on */
};

/* Per-droplet misbehaviour, a bit set.  Fixtures say "misbehave": [...]. */
enum mock_misbehaviour {
	MOCK_MISBEHAVE_NONE = 0,
	MOCK_MISBEHAVE_IGNORE_SHUTDOWN = 1 << 0, /* "ignore_shutdown": shutdown completes, droplet stays active */
	MOCK_MISBEHAVE_ACTIONS_ERROR = 1 << 1,	/* "actions_error": every action ends "errored", nothing changes */
	MOCK_MISBEHAVE_ACTIONS_STALL = 1 << 2,	/* "actions_stall": actions stay "in-progress" for ever */
	MOCK_MISBEHAVE_REFUSE_POWER_ON = 1 << 3, /* "refuse_power_on": power_on answers 422 "pending event" for ever */
	MOCK_MISBEHAVE_STALE_STATUS = 1 << 4,	/* "stale_status": off by a power action, it reads "active" until powered on again */
	MOCK_MISBEHAVE_PHANTOM_SNAPSHOT = 1 << 5, /* "phantom_snapshot": snapshot actions complete, no image appears */
};

enum mock_fault_kind {
	MOCK_FAULT_HTTP_500,		/* "500": 500 server_error */
	MOCK_FAULT_HTTP_502,		/* "502": 502 bad_gateway (a JSON error body, so it still fits the API description) */
	MOCK_FAULT_HTTP_503,		/* "503": 503 service_unavailable */
	MOCK_FAULT_HTTP_429,		/* "429": 429 too_many_requests with retry-after */
	MOCK_FAULT_RESET,		/* "reset": the connection closes before any response */
	MOCK_FAULT_STALL,		/* "stall": nothing is sent for stall_ms, then the connection closes */
	MOCK_FAULT_TRUNCATED,		/* "truncated": the real response, cut off mid-body (Content-Length promises more) */
	MOCK_FAULT_MALFORMED,		/* "malformed": 200 with a complete HTTP body that is not valid JSON */
	MOCK_FAULT_HTTP_401,		/* "401": 401 unauthorized, as for a revoked token */
	MOCK_FAULT_HTTP_404,		/* "404": 404 not_found, as for an action the API lost */
	MOCK_FAULT_HTTP_422,		/* "422": 422 "Droplet already has a pending event." */
	MOCK_FAULT__COUNT,
};

/*
 * One fault rule.  A request matches when its method equals `method` (empty:
 * any) and its path, without the query, matches the fnmatch(3) pattern
 * `path` (empty: any; '*' matches '/' too, so "/v2/droplets/[0-9]*"
 * covers "/v2/droplets/1/actions").  Of the matching requests the first `after` are
 * let through; after that the fault fires, each time with `probability`
 * (drawn from a generator seeded by the config's seed, so runs repeat), at
 * most `times` times (0: no limit).  Rules are tried in the order added; the
 * first that fires wins.  Control-plane paths (/__mock/...) never match.
 */
struct mock_fault {
	char method[8];
	char path[256];
	enum mock_fault_kind kind;
	unsigned times;			/* 0: unlimited; 1: once */
	unsigned after;			/* let this many matching requests through first */
	double probability;		/* 0 is taken as 1 */
	unsigned retry_after;		/* seconds, for MOCK_FAULT_HTTP_429; 0: 1 */
	unsigned stall_ms;		/* real milliseconds, for MOCK_FAULT_STALL; 0: 30000 */
};

/*
 * Parse a fault spec, the syntax of --fault and of POST /__mock/faults:
 *
 *	spec   = item *( "," item )
 *	item   = "kind=" KIND | "method=" METHOD | "path=" GLOB | "times=" N
 *	       | "once" | "after=" N | "p=" FLOAT | "retry-after=" N | "stall-ms=" N
 *	KIND   = "500" | "502" | "503" | "429" | "reset" | "stall"
 *	       | "truncated" | "malformed" | "401" | "404" | "422"
 *
 * e.g. "kind=503,method=GET,path=/v2/droplets/[0-9]*,times=2".  kind is
 * required; GLOB may not contain ','.  On success fill *ret and return 0;
 * on a syntax error return -EINVAL.
 */
int	mock_fault_parse(const char *spec, struct mock_fault *ret);

/* The name of a fault kind as the spec writes it ("503", "reset", ...). */
const char *mock_fault_kind_name(enum mock_fault_kind kind);

struct mock_config {
	const char *token;		/* the one valid bearer token; NULL: "mock-token" */
	const char *fixture_path;	/* JSON fixture (see mock/fixtures/README.md); NULL: generate */
	unsigned droplets;		/* droplets to generate when there is no fixture; 0: 3 */
	double time_scale;		/* mock seconds per real second, inverted: 0.01 = 100x faster; 0: 1 */
	unsigned action_ms[MOCK_ACTION__COUNT];	/* mock-time durations; filled by mock_config_init */
	enum mock_after_snapshot after_snapshot;
	unsigned rate_per_hour;		/* 0: 5000; MOCK_RATE_UNLIMITED: off */
	unsigned rate_per_minute;	/* 0: 250; MOCK_RATE_UNLIMITED: off */
	uint64_t seed;			/* for fault probabilities and generated droplets */
	const struct mock_fault *faults;	/* copied by mock_start; borrowed */
	size_t n_faults;
	const char *listen_host;	/* numeric address to bind; NULL: "127.0.0.1" */
	uint16_t port;			/* 0: any free port */
	unsigned threads;		/* server threads; 0: 2 */
	bool quiet;			/* reserved: the library never logs anyway */
	/*
	 * Test of the conformance test: when set, responses drift from the
	 * OpenAPI description (droplet "status" becomes "sleeping", the
	 * ratelimit-remaining header is not a number, and Content-Type lacks the
	 * charset the service sends), which a validator must catch.
	 */
	bool debug_drift;
};

/* Fill *cfg with the defaults (all durations, limits, host) and no faults. */
void	mock_config_init(struct mock_config *cfg);

/*
 * Load the fixture (or generate droplets), bind, and start serving.  The
 * config and everything it points to is copied; the caller keeps ownership.
 * On success store a mock in *ret, to be freed with mock_stop, and return 0.
 * Errors: -ENOENT or -EACCES (fixture unreadable), -EINVAL (bad fixture or
 * config), -EFBIG (fixture over MOCK_MAX_FIXTURE), -EADDRINUSE or -EIO
 * (cannot bind/start), -ENOMEM.
 */
int	mock_start(const struct mock_config *cfg, struct mock **ret);

/*
 * Load the fixture at PATH without starting anything, to explain why
 * mock_start refused it.  Returns 0 when it loads; otherwise a negative
 * errno, with a one-line reason (e.g. "droplet 12: unknown region 'xx1'")
 * in ERRBUF when it is not NULL.
 */
int	mock_fixture_check(const char *path, char *errbuf, size_t errlen);

/*
 * Stop serving (any stalled connections are closed), join the threads and
 * free everything.  NULL does nothing.
 */
void	mock_stop(struct mock *m);

/* The port bound, and "http://127.0.0.1:PORT" (owned by the mock, valid until mock_stop). */
uint16_t mock_port(const struct mock *m);
const char *mock_url(const struct mock *m);

/* The token the mock accepts (owned by the mock). */
const char *mock_token(const struct mock *m);

/*
 * Put everything back as mock_start left it: droplets, volumes and snapshots
 * from the fixture, no actions, an empty request log, fresh rate-limit
 * windows, the fault rules of the config (run-time rules dropped, counters
 * and random generator restarted).  Returns 0 or -ENOMEM/-EINVAL when the
 * fixture cannot be reloaded (the old state is then kept).
 */
int	mock_reset(struct mock *m);

/* Add a fault rule at run time (copied).  Returns 0, -EINVAL, or -ENOSPC past MOCK_MAX_FAULTS. */
int	mock_add_fault(struct mock *m, const struct mock_fault *f);

/* Drop every fault rule, those of the config included. */
void	mock_clear_faults(struct mock *m);

/* Change rate limits at run time (same meaning as in the config); the windows restart. */
void	mock_set_rate_limits(struct mock *m, unsigned per_hour, unsigned per_minute);

/* One entry of the request log.  The Authorization header is never kept. */
struct mock_request {
	char method[8];
	char path[256];			/* without the query or a trailing slash; cut at 255 bytes */
	char query[256];		/* decoded "k=v&k=v", without '?'; cut at 255 bytes */
	int status;			/* HTTP status sent; 0 for reset/stall/truncated without one */
	char fault[16];			/* fault kind name when a fault fired, else "" */
	double time;			/* real Unix time the request arrived */
};

/*
 * Count the logged requests (since start or reset; the last
 * MOCK_MAX_REQUEST_LOG of them) that match: method NULL or "" for any, path
 * an fnmatch(3) pattern or NULL for any, status 0 for any (a request that got
 * no HTTP status, because of a reset, stall or truncated fault, has status 0).
 * Control-plane requests are not logged.
 */
size_t	mock_request_count(struct mock *m, const char *method, const char *path,
	    int status);

/*
 * Copy log entry INDEX (0 = oldest still kept) to *ret.  Returns 0, or
 * -ENOENT when there is no such entry.
 */
int	mock_request_get(struct mock *m, size_t index, struct mock_request *ret);

/* A droplet as a test sees it. */
struct mock_droplet_info {
	int64_t id;
	char name[64];
	char status[16];		/* "new", "active", "off" or "archive" */
	unsigned misbehaviour;		/* enum mock_misbehaviour bits */
	bool busy;			/* an action is in progress */
	size_t n_actions;		/* actions ever started on it */
	size_t n_snapshots;		/* images of type snapshot and backup */
	size_t n_volumes;
};

/* Fill *ret for droplet ID.  Returns 0 or -ENOENT. */
int	mock_droplet_get(struct mock *m, int64_t id, struct mock_droplet_info *ret);

/*
 * Force a droplet's status ("new", "active", "off", "archive"), e.g. to set
 * up a test.  Returns 0, -ENOENT, or -EINVAL for another string.
 */
int	mock_droplet_set_status(struct mock *m, int64_t id, const char *status);

/* Set a droplet's misbehaviour bits (replacing them).  Returns 0 or -ENOENT. */
int	mock_droplet_set_misbehaviour(struct mock *m, int64_t id, unsigned bits);

/* A snapshot image (of a droplet) or a volume snapshot. */
struct mock_snapshot {
	int64_t id;			/* droplet images; 0 for volume snapshots */
	char uuid[40];			/* volume snapshots; "" for droplet images */
	char name[128];
	char type[16];			/* "snapshot" or "backup" (droplet images); "snapshot" for volumes */
	double created_at;		/* Unix time */
};

/*
 * Copy up to MAX of droplet ID's images (oldest first) to RET and return how
 * many it has in all (which may exceed MAX), or -ENOENT.
 */
int	mock_droplet_snapshots(struct mock *m, int64_t id, struct mock_snapshot *ret,
	    size_t max);

/* The same for a volume's snapshots; ID is the volume's uuid. */
int	mock_volume_snapshots(struct mock *m, const char *id, struct mock_snapshot *ret,
	    size_t max);

/*
 * Count actions: droplet_id 0 for all droplets, type NULL or e.g. "snapshot",
 * status NULL or "in-progress", "completed", "errored".
 */
size_t	mock_action_count(struct mock *m, int64_t droplet_id, const char *type,
	    const char *status);

#endif
