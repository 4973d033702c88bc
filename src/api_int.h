/* api_int: what the API client's files share: the libcurl table, the request and client structs, their internal calls. */
#ifndef DOSNAP_API_INT_H
#define DOSNAP_API_INT_H

/*
 * libcurl is not linked: dosnap runs every minute and usually has nothing to
 * do, and mapping libcurl with its TLS and HTTP/2 libraries costs more than
 * the rest of the run.  The header gives the types; the functions come from
 * dlopen() into the table api_curl (api_curl.c) when the first client is made.
 */
#define CURL_DISABLE_TYPECHECK 1
#define CURL_DISABLE_DEPRECATION 1
#include <curl/curl.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dosnap/api.h"
#include "api_pacer.h"
#include "api_retry.h"

#ifndef DOSNAP_VERSION
#define DOSNAP_VERSION "unknown"
#endif

/*
 * gcc 12's -fanalyzer, which looks deeper into these small files than it
 * could into the one big api.c they came from, reports a few things that
 * cannot happen; each use says which and why.  ANALYZER_QUIET(W) and
 * ANALYZER_LOUD around a function silence warning W (a string) there only.
 */
#define API_PRAGMA(x)		_Pragma(#x)
#if defined(__GNUC__) && !defined(__clang__)
#define ANALYZER_QUIET(w)	API_PRAGMA(GCC diagnostic push) API_PRAGMA(GCC diagnostic ignored w)
#define ANALYZER_LOUD		API_PRAGMA(GCC diagnostic pop)
#else
#define ANALYZER_QUIET(w)
#define ANALYZER_LOUD
#endif

#define TOKEN_MAX		1024
#define TRACE_LINE_MAX		(16 * 1024)
#define TRACE_BODY_MAX		4096
#define STRING_MAX		4096	/* any one string from a body */
#define ADOPT_PAGES_MAX		10
#define API_TRIM_BODY		(128 * 1024)	/* bodies after which the heap is trimmed */
#define HEAP_CHECK_BODY		(16 * 1024)	/* bodies before whose decoding the heap is measured */

/* --- libcurl, loaded at run time (api_curl.c) ---------------------------- */

struct api_curl_fns {
	bool loaded;
	unsigned version;
	CURLcode (*global_init)(long);
	curl_version_info_data *(*version_info)(CURLversion);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_cleanup)(CURLM *);
	CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_perform)(CURLM *, int *);
	CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd *, unsigned, int, int *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	CURLU *(*url)(void);
	void (*url_cleanup)(CURLU *);
	CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
	CURLUcode (*url_get)(const CURLU *, CURLUPart, char **, unsigned int);
	void (*free)(void *);
};

/* The table; all zeros until api_curl_load succeeds. */
extern struct api_curl_fns api_curl;

/*
 * Open libcurl (PATH, or the usual names when NULL) once per process and
 * fill api_curl.  Returns 0, or -ELIBACC when it cannot be loaded, lacks a
 * function, or is older than 7.68.0.
 */
int	api_curl_load(const char *path);

/* --- a growing byte buffer with a hard cap (api_buf.c) -------------------- */

struct api_buf {
	char *data;
	size_t len, alloc, cap;
	bool overflow;
};

/* Append N bytes of P: 0, -EFBIG past the cap (overflow set), or -ENOMEM. */
int	api_buf_append(struct api_buf *b, const void *p, size_t n);
void	api_buf_reset(struct api_buf *b);
void	api_buf_release(struct api_buf *b);

/* --- the client and its requests ------------------------------------------ */

enum req_kind {
	REQ_GET,		/* one object */
	REQ_LIST,		/* pages, following links.pages.next */
	REQ_DELETE,
	REQ_POST_ACTION,	/* droplet action: adopted from the droplet's actions */
	REQ_POST_VOLSNAP,	/* volume snapshot: adopted from the volume's snapshots by name */
};

enum req_state {
	RS_QUEUED,		/* waiting for its due time and the pacer */
	RS_RUNNING,		/* in the multi handle */
	RS_DONE,		/* reply ready; callback not yet run */
};

enum req_phase {
	PH_MAIN,
	PH_ADOPT,		/* reading what an ambiguous POST may have done */
};

struct req {
	struct req *next, *prev;
	struct api_client *c;
	uint64_t id;
	api_reply_fn cb;
	void *userdata;
	enum req_kind kind;
	enum api_body_kind body_kind;
	const char *method;		/* static string */
	char *url;			/* the current page or the request */
	char *post_body;
	char *resource_id;		/* given to droplet snapshots, which lack it */
	size_t max_items;
	size_t pages;
	size_t kept;			/* bytes of decoded items held, over the pages so far */
	size_t items_alloc;		/* room in the reply's list items, for grow_array */
	uint64_t *seen;			/* hashes of the pages' URLs, to stop a listing that loops */
	size_t n_seen;

	/* For adopting the effect of an ambiguous POST. */
	int64_t droplet_id;
	char action_type[32];
	char *snap_name;
	char *adopt_url;
	size_t adopt_pages;
	int64_t first_sent_wall;	/* seconds; first time the POST went out */
	bool ambiguous_seen;
	bool final_adopt;		/* looking once more after a 422 to a re-sent POST */
	enum req_phase phase;
	int saved_r;
	struct api_error *saved_error;	/* while adopting only: most requests never need one */

	enum req_state state;
	int64_t due;			/* monotonic ms */
	int64_t deadline;		/* monotonic ms; retries stop here */
	int attempts;			/* in this phase, for this page */
	int main_attempts;		/* attempts, kept while adopting */
	int total_attempts;
	int64_t adopt_deadline;
	CURL *easy;
	struct api_buf body;
	bool bodies_full;		/* the client-wide cap on bodies stopped this one */
	bool body_nomem;		/* no memory for the body */
	char errbuf[CURL_ERROR_SIZE];

	/* From the response headers of the current attempt. */
	long retry_after_s;		/* -1: none */
	long rl_remaining;		/* -1: none */
	int64_t rl_reset;		/* 0: none */
	char request_id[72];		/* as in struct api_error: a UUID, with room */

	struct api_reply reply;
};

struct api_client {
	CURLM *multi;
	char *base;			/* scheme://host[:port][/prefix], no trailing '/' */
	bool http_ok;
	char *token;
	size_t token_len;
	char *auth_header;
	struct curl_slist *hdr_get, *hdr_post;
	char *cacert;

	long connect_timeout_ms, request_timeout_ms, low_speed_time_s;
	int max_connections, max_running;
	size_t max_body;
	size_t bodies;			/* bytes allocated for response bodies of live requests */
	int retry_max_attempts;
	long retry_max_total_ms, retry_base_ms, retry_cap_ms, adopt_slack_s;

	api_trace_fn trace;
	void *trace_userdata;
	bool trace_bodies;

	struct req *head, *tail;	/* queued and running */
	struct req *done_head, *done_tail;
	size_t n_pending, n_running;
	uint64_t next_id;
	uint64_t rng;
	int in_callback;
	bool closing;

	struct api_pacer pacer;		/* one rate budget for all requests */
	int64_t pace_until;		/* when the pacer next lets a request go */

	/* For api_client_stats. */
	uint64_t stat_requests, stat_retries, stat_429;
};

/* Wall-clock milliseconds (for dates the server compares, never for waits). */
int64_t	api_wall_ms(void);

/* --- requests (api_client.c) ---------------------------------------------- */

/*
 * Finish Q with R (ERR when failing): move it to the done list, where its
 * callback runs from api_client_run.
 */
void	api_req_complete(struct req *q, int r, const struct api_error *err);

/* Take Q's transfer out of the multi handle, if it has one. */
void	api_req_detach(struct req *q);

/* Queue Q again, due DELAY ms after NOW. */
void	api_req_requeue(struct req *q, int64_t now, long delay);

/* The method and URL of Q's current phase. */
const char *api_req_method(const struct req *q);
const char *api_req_url(const struct req *q);

/* ERR cleared and named after Q's method and path. */
void	api_error_init(const struct req *q, struct api_error *err);

/* Retry Q after a backoff if it may, tracing why; returns whether it did. */
bool	api_maybe_retry(struct req *q, struct api_error *err, int64_t now);

/* Run the callbacks of finished requests; returns how many ran. */
int	api_fire_done(struct api_client *c);

/* --- listings (api_list.c) ------------------------------------------------ */

/*
 * A 2xx answer to Q, a listing: decode the page, append it, and go on to
 * the next page or finish Q.  0 when done with it, <0 (with api_decode_why set for a cap
 * or a loop) when the answer was bad and Q is still the caller's.
 */
int	api_list_page(struct req *q, int64_t now);

/* --- libcurl: options, callbacks, URLs (api_http.c) ------------------------ */

/* Set option OPT of easy handle E, or go to the caller's fail label. */
#define SETOPT(e, opt, val)						\
	do {								\
		if (api_curl.easy_setopt((e), (opt), (val)) != CURLE_OK) \
			goto fail;					\
	} while (0)

/* Set up and add a transfer for Q's current attempt.  0, -ENOMEM or -EIO. */
int	api_req_start(struct req *q, int64_t now);

/*
 * Fill O and ERR for an attempt that did not bring a usable 2xx answer:
 * libcurl's failure CC, or the HTTP STATUS (with the API's error body).
 * SENT: the request went out.
 */
void	api_classify(struct req *q, CURLcode cc, long status, bool sent, struct api_error *err,
	    struct api_outcome *o);

/*
 * Check BASE_URL and store "scheme://host[:port][/prefix]" in *ret, and in
 * *ret_http whether it is plain http.  -EINVAL, -EPERM (http to a host that
 * is not loopback) or -ENOMEM.
 */
int	api_parse_base_url(const char *base_url, bool *ret_http, char **ret);

/* The request headers, with AUTH (the Authorization line) first; NULL on failure. */
struct curl_slist *api_headers_new(const char *auth, bool post);

/* Wipe every line of L (it holds the token), then free it.  NULL is fine. */
void	api_slist_wipe_free(struct curl_slist *l);

/*
 * The URL of the next page: the path and query of LINK (from "/v2/" on)
 * under C's own base URL.  -EPROTO for a link that is odd or is CURRENT.
 */
int	api_next_url(const struct api_client *c, const char *link, const char *current,
	    char **ret);

/* Percent-encode S (RFC 3986 unreserved characters stay) into a new string. */
char	*api_url_escape(const char *s);

/* Whether S begins with PREFIX, ASCII case ignored. */
bool	api_prefix_icase(const char *s, const char *prefix);


/* --- adopting an ambiguous POST's effect (api_adopt.c) --------------------- */

/*
 * Q, a POST, failed ambiguously with R and ERR: look, after DELAY ms,
 * whether it took effect before sending it again.
 */
void	api_adopt_begin(struct req *q, int r, const struct api_error *err, int64_t now,
	    long delay);

/* An attempt of Q's adoption listing ended. */
void	api_adopt_done(struct req *q, CURLcode cc, long status, bool sent, int64_t now);

/* --- JSON (api_json.c, the only cJSON user) --------------------------------- */

/*
 * Why the last decode failed on a cap, for the error message: the decoders
 * are many small functions that return an errno, and only this thread
 * decodes (the client is single-threaded).  Set where a cap is hit, read
 * by the callers of api_decode.
 */
extern char api_decode_why[160];

/*
 * The API's error body {"id","message","request_id"} (BODY, LEN bytes) into
 * ERR's fields, with TOKEN (may be NULL) redacted before they are cut.
 */
void	api_json_error(const char *body, size_t len, const char *token, struct api_error *err);

/* The JSON body of an action POST {"type","name"} (either may be NULL); NULL on failure. */
char	*api_json_action_body(const char *type, const char *name);

/* --- decoded objects (api_object.c) ----------------------------------------- */

void	api_strv_free(char **v, size_t n);
void	api_droplet_release(struct api_droplet *d);
void	api_snapshot_release(struct api_snapshot *s);
void	api_volume_release(struct api_volume *v);

/* --- tracing, with the token kept out (api_trace.c) ------------------------- */

/* Trace DATA (SIZE bytes) line by line as KIND, each line redacted. */
void	api_trace_text(const struct api_client *c, enum api_trace_kind kind, const char *data,
	    size_t size);

/* Trace one of dosnap's own lines (API_TRACE_EVENT). */
void	api_trace_event(const struct api_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Trace the first TRACE_BODY_MAX bytes of a body, redacted over the whole of it. */
void	api_trace_body(const struct api_client *c, enum api_trace_kind kind, const char *data,
	    size_t len);

/*
 * Copy SRC (N bytes) into DST (SIZE bytes, NUL-terminated) without C's
 * token: redacted first, then cut.  Returns how many bytes of SRC were used.
 */
size_t	api_token_cut(const struct api_client *c, const char *src, size_t n, char *dst,
	    size_t size);

/* Replace the token wherever a server put it into an error's text S (SIZE bytes). */
void	api_scrub(const struct api_client *c, char *s, size_t size);

/* When S is full to SIZE (libcurl cut it), drop a tail that begins the token. */
void	api_drop_token_tail(const struct api_client *c, char *s, size_t size);

#endif
