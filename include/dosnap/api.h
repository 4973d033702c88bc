/* api: the DigitalOcean API client, the only code that speaks HTTP and JSON (libcurl, opened at run time). */
#ifndef DOSNAP_API_H
#define DOSNAP_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * How it works, for a caller driving many droplets at once:
 *
 *	struct api_client *c;
 *	r = api_client_new(&cfg, &c);		// dlopen()s libcurl
 *	api_get_droplet_async(c, 42, on_droplet, flow_42, NULL);
 *	api_get_droplet_async(c, 43, on_droplet, flow_43, NULL);
 *	while (api_client_pending(c) > 0 || flows_have_timers)
 *		api_client_run(c, ms_until_next_flow_timer);
 *
 * Every *_async function queues a request and returns at once; its callback
 * runs later, exactly once, from inside api_client_run (never from inside
 * the *_async call), with the decoded result or an error.  Callbacks may
 * queue further requests.  All requests share one libcurl multi handle: one
 * thread, connections reused, HTTP/2 streams multiplexed where the server
 * offers them, retries and backoff on timers, one rate-limit budget.
 *
 * The few blocking functions (the same names without _async, for the
 * commands that make one request at a time) queue the request and run the
 * loop until it is done; requests queued earlier progress too.  They must
 * not be called from inside a callback (-EDEADLK).
 *
 * Nothing here logs.  Progress that a user may want to see (a retry, its
 * delay and cause) goes to the trace hook as API_TRACE_EVENT lines.
 */

struct api_client;

/*
 * Caps on what the server controls.  Together they bound what one answer
 * costs, whatever it holds: the body as decompressed (gzip is accepted),
 * the JSON values cJSON builds from it, and what is kept of it.  The
 * largest real account's pages are far below each (a page of 200 droplets
 * is about 1 MiB and 60,000 values).
 */
#define API_BODY_MAX_DEFAULT	(8u * 1024 * 1024)	/* response body, bytes, decompressed */
#define API_BODIES_MAX		(24u * 1024 * 1024)	/* response bodies held at once, client-wide */
#define API_JSON_DEPTH_MAX	32			/* nesting of arrays and objects */
#define API_JSON_VALUES_MAX	150000			/* JSON values in one answer */
#define API_LIST_MAX		100000			/* items in one listing, over all pages */
#define API_LIST_BYTES_MAX	(16u * 1024 * 1024)	/* bytes kept of one listing, over all pages */
#define API_PAGES_MAX		1000			/* pages in one listing */
#define API_ITEM_TAGS_MAX	1000			/* tags of one droplet or snapshot */
#define API_ITEM_IDS_MAX	100			/* volume ids of a droplet, droplet ids of a volume */
#define API_HEAP_MAX		(20u * 1024 * 1024)	/* heap in use past which no answer is decoded */
#define API_PER_PAGE		200

#define API_DEFAULT_URL		"https://api.digitalocean.com"

enum api_trace_kind {
	API_TRACE_EVENT,	/* dosnap's own: "GET /v2/account: HTTP 503, retrying in 2.1 s" */
	API_TRACE_TEXT,		/* libcurl's informational text */
	API_TRACE_HEADER_OUT,	/* one request header line, Authorization redacted */
	API_TRACE_HEADER_IN,	/* one response header line */
	API_TRACE_DATA_OUT,	/* request body (first bytes) */
	API_TRACE_DATA_IN,	/* response body (first bytes) */
};

/*
 * A trace hook: LINE is one NUL-terminated line without its newline, valid
 * only during the call.  The token never appears in it: Authorization
 * headers are replaced by "Authorization: Bearer [REDACTED]" and any other
 * occurrence of the token by "[REDACTED]".
 */
typedef void (*api_trace_fn)(enum api_trace_kind kind, const char *line, void *userdata);

/*
 * Client settings.  Zero means "the default" for every number, so
 * `struct api_config cfg = { .token = t };` is a working configuration.
 * Strings are borrowed for the duration of api_client_new only (copied).
 */
struct api_config {
	const char *token;		/* required; the bearer token */
	const char *base_url;		/* NULL: API_DEFAULT_URL; http only for loopback hosts */
	const char *cacert;		/* CA bundle for private CAs; NULL: the system's */
	const char *libcurl_path;	/* NULL: "libcurl.so.4", then "libcurl.so" */

	long connect_timeout_ms;	/* 0: 10000 */
	long request_timeout_ms;	/* one attempt, start to end; 0: 60000 */
	long low_speed_time_s;		/* abort below 1 byte/s for this long; 0: 20 */
	int max_connections;		/* in all; 0: 8 */
	size_t max_body_bytes;		/* 0: API_BODY_MAX_DEFAULT */

	int retry_max_attempts;		/* per request, the first included; 0: 5 */
	long retry_max_total_ms;	/* per request, from queueing to giving up; 0: 300000 */
	long retry_base_ms;		/* first backoff delay; 0: 1000 */
	long retry_cap_ms;		/* largest backoff delay, retry-after aside; 0: 30000 */
	long adopt_slack_s;		/* clock skew allowed when matching actions; 0: 60, <0: none */

	int rate_per_minute;		/* our own per-minute budget; 0: 240, <0: unpaced */
	long rate_window_ms;		/* the minute it counts over; 0: 60000 (shorter
					   only against a mock whose clock runs fast) */
	int rate_reserve;		/* leave this much of ratelimit-remaining unused; 0: 5, <0: 0 */

	api_trace_fn trace;		/* NULL: no tracing, libcurl not verbose */
	void *trace_userdata;
	bool trace_bodies;		/* also pass request/response bodies (capped) */
};

/* Why a request failed.  Plain arrays, so it needs no release. */
struct api_error {
	long http_status;		/* 0 when no HTTP response came */
	bool transient;			/* network, timeout, 5xx, 429: trying later may work */
	bool ambiguous;			/* a POST may or may not have taken effect */
	int attempts;			/* requests sent, retries included */
	char method[8];
	char path[128];			/* e.g. "/v2/droplets/42/actions", no query */
	char id[64];			/* the API's error id, e.g. "unprocessable_entity" */
	char message[256];		/* the API's message, or what was wrong with the answer */
	char request_id[72];		/* from the body or the x-request-id header (a UUID) */
	char curl_error[256];		/* libcurl's description, when it failed the transfer */
};

/*
 * Fill BUF with a one-line summary for a log message, e.g.
 * "POST /v2/droplets/42/actions: HTTP 422 unprocessable_entity: Droplet
 * already has a pending event. (request_id 4d9d...)", and return BUF.
 */
const char *api_error_format(const struct api_error *err, char *buf, size_t size);

/* --- decoded objects ------------------------------------------------------
 * Strings are owned by the object.  Times are Unix seconds, 0 when the field
 * was missing or could not be parsed: callers must treat 0 as "unknown",
 * never as "very old".  Unknown enum strings decode as *_UNKNOWN.
 */

enum api_droplet_status {
	API_DROPLET_UNKNOWN,
	API_DROPLET_NEW,
	API_DROPLET_ACTIVE,
	API_DROPLET_OFF,
	API_DROPLET_ARCHIVE,
};

struct api_droplet {
	int64_t id;
	char *name;
	enum api_droplet_status status;
	bool locked;
	int64_t created_at;
	int64_t disk_gigabytes;
	char *region;			/* slug, or NULL */
	char **tags;
	size_t n_tags;
	char **volume_ids;
	size_t n_volume_ids;
};

enum api_action_status {
	API_ACTION_UNKNOWN,
	API_ACTION_IN_PROGRESS,
	API_ACTION_COMPLETED,
	API_ACTION_ERRORED,
};

struct api_action {
	int64_t id;
	char type[32];			/* "snapshot", "power_off", ...; cut to fit */
	enum api_action_status status;
	int64_t resource_id;		/* 0 when null */
	char resource_type[16];
	int64_t started_at;
	int64_t completed_at;		/* 0 while in progress */
};

enum api_snapshot_type {
	API_SNAPSHOT_TYPE_UNKNOWN,	/* not said (/v2/snapshots does not) */
	API_SNAPSHOT_TYPE_SNAPSHOT,
	API_SNAPSHOT_TYPE_BACKUP,
};

enum api_resource_type {
	API_RESOURCE_UNKNOWN,
	API_RESOURCE_DROPLET,
	API_RESOURCE_VOLUME,
};

struct api_snapshot {
	char *id;			/* numeric ids are given as decimal strings */
	char *name;
	int64_t created_at;
	char *resource_id;		/* droplet id or volume uuid; from the request when the body lacks it */
	enum api_resource_type resource_type;
	enum api_snapshot_type type;
	double size_gigabytes;
	int64_t min_disk_size;
	char **tags;
	size_t n_tags;
};

struct api_volume {
	char *id;
	char *name;
	int64_t size_gigabytes;
	int64_t created_at;
	char *region;			/* slug, or NULL */
	int64_t *droplet_ids;
	size_t n_droplet_ids;
};

struct api_account {
	char *email;
	char *uuid;
	char status[16];		/* "active", "warning", "locked" */
	int64_t droplet_limit;
};

/* Lists: N items in ITEMS; freed with the matching *_list_free. */
struct api_droplet_list {
	size_t n;
	struct api_droplet *items;
};

struct api_action_list {
	size_t n;
	struct api_action *items;
};

struct api_snapshot_list {
	size_t n;
	struct api_snapshot *items;
};

struct api_volume_list {
	size_t n;
	struct api_volume *items;
};

/* Free a heap object and everything it owns.  NULL is fine. */
void	api_droplet_free(struct api_droplet *d);
void	api_action_free(struct api_action *a);
void	api_snapshot_free(struct api_snapshot *s);
void	api_volume_free(struct api_volume *v);
void	api_account_free(struct api_account *a);
void	api_droplet_list_free(struct api_droplet_list *l);
void	api_action_list_free(struct api_action_list *l);
void	api_snapshot_list_free(struct api_snapshot_list *l);
void	api_volume_list_free(struct api_volume_list *l);

const char *api_droplet_status_name(enum api_droplet_status s);

/* --- results --------------------------------------------------------------
 * What a callback receives.  On success R is 0 and the one pointer that
 * belongs to the operation is set (none for deletes).  The callback may take
 * ownership of it by setting the pointer to NULL; whatever is left is freed
 * after the callback returns.
 *
 * R on failure: -EIO (transport), -EPROTO (an answer that is not what the
 * API promises), -EFBIG (body over the cap), -EACCES (401/403), -ENOENT
 * (404), -EBUSY (422: the droplet has a pending event), -EINVAL (other 4xx),
 * -EAGAIN (429 after every retry), -ETIMEDOUT, -ECANCELED (api_client_cancel
 * or api_client_free), -EPERM (the server's TLS certificate cannot be trusted:
 * unknown CA, another host name, expired; not retried), -ENOMEM.  ERROR says
 * more.
 */
struct api_reply {
	uint64_t request;		/* the id *_async gave */
	int r;
	struct api_error error;		/* meaningful when r < 0 */
	bool adopted;			/* a POST failed ambiguously and its effect was found and adopted */
	int64_t server_date;		/* the response's Date header (Unix seconds), 0 when none */
	struct api_account *account;
	struct api_droplet *droplet;
	struct api_action *action;
	struct api_snapshot *snapshot;
	struct api_volume *volume;
	struct api_droplet_list *droplets;
	struct api_action_list *actions;
	struct api_snapshot_list *snapshots;
	struct api_volume_list *volumes;
};

/* Free whatever objects REPLY still holds and set the pointers to NULL. */
void	api_reply_release(struct api_reply *reply);

/*
 * Move all of SRC into *DST (which must hold no objects): DST owns the
 * objects afterwards, and SRC's pointers are NULL.  For a callback that
 * keeps the whole reply.
 */
void	api_reply_move(struct api_reply *dst, struct api_reply *src);

typedef void (*api_reply_fn)(struct api_client *c, struct api_reply *reply, void *userdata);

/* --- the client ---------------------------------------------------------- */

/*
 * Load libcurl and make a client.  On success store it in *ret (free it with
 * api_client_free) and return 0.  Errors: -ELIBACC when libcurl cannot be
 * loaded or lacks a function dosnap needs ("dosnap needs libcurl (libcurl4)
 * at run time"); -EINVAL for a missing or unusable token (control characters,
 * over 1 KiB) or a base URL that does not parse or is not http(s), or has a
 * query or user name; -EPERM for plain http to a host that is not loopback
 * (127.0.0.0/8, localhost, [::1]); -ENOMEM.
 */
int	api_client_new(const struct api_config *cfg, struct api_client **ret);

/*
 * Cancel what is still queued (their callbacks run with -ECANCELED) and free
 * the client.  NULL is fine.  Not from inside a callback.
 */
void	api_client_free(struct api_client *c);

/*
 * Drive transfers and timers: wait for network activity or a due timer for
 * at most TIMEOUT_MS (0: do what can be done now; <0: until a callback has
 * run, or at once when nothing is pending), then run callbacks.  Returns as
 * soon as one or more callbacks have run, with how many, or 0 when the time
 * ran out; a negative errno on failure of libcurl itself.
 */
int	api_client_run(struct api_client *c, int timeout_ms);

/* Requests queued and not yet completed (their callbacks not yet run). */
size_t	api_client_pending(const struct api_client *c);

/* What a client sent and heard over its life, for metrics. */
struct api_stats {
	uint64_t requests;		/* HTTP requests sent, retries included */
	uint64_t retries;		/* of those, the second and later attempts */
	uint64_t rate_limited;		/* answers with status 429 */
	long ratelimit_remaining;	/* the last ratelimit-remaining heard; -1: none */
};

/* Fill *ret with C's counters (zeros and -1 for NULL). */
void	api_client_stats(const struct api_client *c, struct api_stats *ret);

/*
 * Milliseconds until the client next needs api_client_run for a timer of
 * its own (a retry, pacing), 0 when it has work now, -1 when it has none.
 * Transfers in flight count as work in 1 s or less.
 */
long	api_client_next_timeout(const struct api_client *c);


/*
 * Cancel request ID: its callback runs, with -ECANCELED, from the next
 * api_client_run.  A POST already sent may still take effect.  Returns 0, or
 * -ENOENT when ID is not pending.
 */
int	api_client_cancel(struct api_client *c, uint64_t id);

/* --- operations -----------------------------------------------------------
 * Each *_async queues the request and returns 0 (storing its id in *ret_id
 * when not NULL), or -EINVAL for bad arguments, or -ENOMEM; the callback
 * then runs exactly once.  Each blocking form returns the reply's R and
 * on success stores the result in *ret (owned by the caller, freed with the
 * matching *_free); when ERR is not NULL it receives the error on failure.
 *
 * Lists follow links.pages.next, 200 a page; a page that fails after its
 * retries fails the whole listing.  MAX_ITEMS (0: API_LIST_MAX) stops early.
 */

/* GET /v2/account.  A cheap check that the token works. */
int	api_get_account_async(struct api_client *c, api_reply_fn cb, void *userdata,
	    uint64_t *ret_id);

/* GET /v2/droplets, all of them, or those with TAG, or named NAME (not both). */
int	api_list_droplets_async(struct api_client *c, const char *tag, const char *name,
	    api_reply_fn cb, void *userdata, uint64_t *ret_id);
int	api_list_droplets(struct api_client *c, const char *tag, const char *name,
	    struct api_droplet_list **ret, struct api_error *err);

/* GET /v2/droplets/ID. */
int	api_get_droplet_async(struct api_client *c, int64_t id, api_reply_fn cb,
	    void *userdata, uint64_t *ret_id);
int	api_get_droplet(struct api_client *c, int64_t id, struct api_droplet **ret,
	    struct api_error *err);

/*
 * POST /v2/droplets/ID/actions: start action TYPE ("power_off", "shutdown",
 * "power_on", "reboot", "power_cycle", "snapshot", ...); NAME names a
 * snapshot and must be NULL for other types.  Never sent twice blindly: after
 * an ambiguous failure (timeout, reset, 5xx) the droplet's recent actions are
 * read, and an action of TYPE started since the request (less
 * adopt_slack_s) is adopted (reply->adopted); only when there is none is the
 * POST sent again.  The reply holds the action.
 */
int	api_post_droplet_action_async(struct api_client *c, int64_t id, const char *type,
	    const char *name, api_reply_fn cb, void *userdata, uint64_t *ret_id);
int	api_post_droplet_action(struct api_client *c, int64_t id, const char *type,
	    const char *name, struct api_action **ret, bool *ret_adopted,
	    struct api_error *err);

/* GET /v2/actions/ID. */
int	api_get_action_async(struct api_client *c, int64_t action_id, api_reply_fn cb,
	    void *userdata, uint64_t *ret_id);
int	api_get_action(struct api_client *c, int64_t action_id, struct api_action **ret,
	    struct api_error *err);

/* GET /v2/droplets/ID/actions/ACTION_ID. */
int	api_get_droplet_action_async(struct api_client *c, int64_t id, int64_t action_id,
	    api_reply_fn cb, void *userdata, uint64_t *ret_id);

/* GET /v2/droplets/ID/actions, newest first as the API gives them. */
int	api_list_droplet_actions_async(struct api_client *c, int64_t id, size_t max_items,
	    api_reply_fn cb, void *userdata, uint64_t *ret_id);
int	api_list_droplet_actions(struct api_client *c, int64_t id, size_t max_items,
	    struct api_action_list **ret, struct api_error *err);

/* GET /v2/actions: the account's actions. */
int	api_list_actions_async(struct api_client *c, size_t max_items, api_reply_fn cb,
	    void *userdata, uint64_t *ret_id);

/* GET /v2/droplets/ID/snapshots: snapshots and backups (type set, resource_id = ID). */
int	api_list_droplet_snapshots_async(struct api_client *c, int64_t id, api_reply_fn cb,
	    void *userdata, uint64_t *ret_id);

/* GET /v2/snapshots[?resource_type=RESOURCE_TYPE] ("droplet", "volume" or NULL for all). */
int	api_list_snapshots_async(struct api_client *c, const char *resource_type,
	    api_reply_fn cb, void *userdata, uint64_t *ret_id);
int	api_list_snapshots(struct api_client *c, const char *resource_type,
	    struct api_snapshot_list **ret, struct api_error *err);

/*
 * DELETE /v2/snapshots/ID.  A 404 to a retry after an ambiguous failure
 * counts as success: the first attempt deleted it.
 */
int	api_delete_snapshot_async(struct api_client *c, const char *id, api_reply_fn cb,
	    void *userdata, uint64_t *ret_id);

/* GET /v2/volumes/ID. */
int	api_get_volume_async(struct api_client *c, const char *id, api_reply_fn cb,
	    void *userdata, uint64_t *ret_id);

/*
 * POST /v2/volumes/ID/snapshots with NAME.  After an ambiguous failure the
 * volume's snapshots are read and one called NAME is adopted; only when
 * there is none is the POST sent again.  The reply holds the snapshot.
 */
int	api_create_volume_snapshot_async(struct api_client *c, const char *id,
	    const char *name, api_reply_fn cb, void *userdata, uint64_t *ret_id);

/* GET /v2/volumes/ID/snapshots. */
int	api_list_volume_snapshots_async(struct api_client *c, const char *id,
	    api_reply_fn cb, void *userdata, uint64_t *ret_id);

/* DELETE /v2/volumes/snapshots/ID; a 404 to a retry counts as success, as above. */
int	api_delete_volume_snapshot_async(struct api_client *c, const char *id,
	    api_reply_fn cb, void *userdata, uint64_t *ret_id);

/*
 * POST BODY (text) to URL, a monitoring service's ping address in the style
 * of healthchecks.io.  Never sends the token or the API's headers; https is
 * verified (with the client's cacert), plain http is allowed since nothing
 * secret goes.  Blocking, two tries, 10 s each at most.  Returns 0 on a 2xx,
 * -EIO when no answer came, -EPROTO for another status, -EINVAL for a URL
 * that is not http(s).
 */
int	api_ping(struct api_client *c, const char *url, const char *body,
	    struct api_error *err);

/* --- decoding, exposed for tests and the fuzzer --------------------------- */

enum api_body_kind {
	API_BODY_ERROR,			/* {"id","message","request_id"} into reply->error */
	API_BODY_ACCOUNT,
	API_BODY_DROPLET,
	API_BODY_DROPLETS,
	API_BODY_ACTION,
	API_BODY_ACTIONS,
	API_BODY_SNAPSHOT,		/* {"snapshot": {...}} */
	API_BODY_SNAPSHOTS,		/* /v2/snapshots, a volume's snapshots: string ids */
	API_BODY_DROPLET_SNAPSHOTS,	/* a droplet's: integer ids, type */
	API_BODY_VOLUME,
	API_BODY_VOLUMES,
	API_BODY__COUNT,
};

/*
 * Decode BODY (LEN bytes, need not be NUL-terminated) as KIND into the
 * matching field of *reply (see struct api_reply; API_BODY_ERROR fills
 * reply->error's id, message and request_id).  For lists, *ret_next (when
 * not NULL) receives the links.pages.next URL, owned by the caller (free()),
 * or NULL on the last page.  Returns 0, -EPROTO for a body that is not valid
 * JSON, nests deeper than API_JSON_DEPTH_MAX, or lacks a required field
 * (an object, a list, or an id), -EFBIG for a list over API_LIST_MAX items,
 * or -ENOMEM.  On failure nothing is left in *reply.
 */
int	api_decode(enum api_body_kind kind, const char *body, size_t len,
	    struct api_reply *reply, char **ret_next);

/*
 * Parse an RFC 3339 time ("2020-07-28T16:47:44Z", fractions and offsets
 * allowed) into *ret (Unix seconds).  Returns 0 or -EINVAL.
 */
int	api_parse_time(const char *s, int64_t *ret);

/*
 * Whether plain http to URL's host would be allowed: 1 for loopback hosts
 * (127.0.0.0/8, localhost, ::1), 0 otherwise.  HOST is the host part as a
 * URL writes it (IPv6 in brackets).
 */
int	api_host_is_loopback(const char *host);

#endif
