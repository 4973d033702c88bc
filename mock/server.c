/* server: the mock's HTTP side: libmicrohttpd glue, auth, rate limits, faults, routing, control plane. */
#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "fault.h"
#include "mock.h"
#include "render.h"
#include "state.h"

#define DEFAULT_TOKEN		"mock-token"
#define DEFAULT_PER_PAGE	20
#define MAX_PER_PAGE		200
#define MAX_STALLS		256
#define DEFAULT_STALL_MS	30000

/* Sliding windows of request times (mock time), one ring per window. */
struct window {
	unsigned limit;			/* MOCK_RATE_UNLIMITED: off */
	double span;			/* seconds of mock time */
	double *t;
	size_t head, n;
};

struct bucket {
	struct window hour, minute;
};

struct stall {
	struct MHD_Connection *c;
	struct timespec deadline;	/* CLOCK_MONOTONIC */
};

struct mock {
	pthread_mutex_t lock;		/* guards everything below but the stall list */
	char *token;
	char *fixture_path;
	char *listen_host;
	unsigned n_generate;
	struct mock_config cfg;		/* strings point at the copies above */
	unsigned action_ms[MOCK_ACTION__COUNT];
	struct mparams params;
	char url[80];
	uint16_t port;
	struct MHD_Daemon *daemon;
	struct mstate *st;
	struct timespec mono0;

	struct mock_fault *cfg_faults;
	size_t n_cfg_faults;
	struct fault_rule faults[MOCK_MAX_FAULTS];
	size_t n_faults;
	uint64_t rng;

	struct bucket rl_token, rl_other;

	struct mock_request *log;
	size_t log_cap, log_head, log_n;
	uint64_t log_total;
	uint64_t request_seq;

	pthread_mutex_t stall_lock;	/* guards the stall list; taken after lock, never before */
	pthread_cond_t stall_cond;
	pthread_t stall_thread;
	bool stall_thread_started;
	bool stopping;
	struct stall stalls[MAX_STALLS];
	size_t n_stalls;
};

/* Per-connection state: the request body so far, and whether it was stalled. */
struct conn {
	char *body;
	size_t len;
	bool too_big;
	bool stalled;
};

/* A reply being put together. */
struct reply {
	int status;
	char *body;			/* malloc'd; NULL for no body */
	size_t len;
	const char *allow;		/* for 405 */
	unsigned retry_after;		/* seconds; 0: no header */
	bool v2;			/* carries x-request-id and ratelimit headers */
};

/* --- time ---------------------------------------------------------------- */

static double
ts_diff(const struct timespec *a, const struct timespec *b)
{
	return (double)(a->tv_sec - b->tv_sec) + (double)(a->tv_nsec - b->tv_nsec) / 1e9;
}

static double
mock_now(const struct mock *m)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts_diff(&ts, &m->mono0) / m->params.time_scale;
}

static double
wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
advance(struct mock *m)
{
	mstate_advance(m->st, &m->params, mock_now(m), wall_now());
}

/* Round up, for the non-negative values here (the mock links without libm). */
static double
round_up(double v)
{
	double t = (double)(long long)v;

	return t < v ? t + 1 : t;
}

/* --- rate limits ----------------------------------------------------------- */

static void
window_release(struct window *w)
{
	free(w->t);
	w->t = NULL;
	w->head = w->n = 0;
}

static int
window_init(struct window *w, unsigned limit, double span)
{
	window_release(w);
	w->limit = limit;
	w->span = span;
	if (limit == MOCK_RATE_UNLIMITED)
		return 0;
	w->t = calloc(limit, sizeof(*w->t));
	return w->t == NULL ? -ENOMEM : 0;
}

static void
window_expire(struct window *w, double now)
{
	while (w->n > 0 && w->t[w->head] + w->span <= now) {
		w->head = (w->head + 1) % w->limit;
		w->n--;
	}
}

static void
window_add(struct window *w, double now)
{
	if (w->limit == MOCK_RATE_UNLIMITED || w->n >= w->limit)
		return;
	w->t[(w->head + w->n) % w->limit] = now;
	w->n++;
}

static int
bucket_init(struct bucket *b, unsigned per_hour, unsigned per_minute)
{
	int r;

	r = window_init(&b->hour, per_hour, 3600);
	if (r < 0)
		return r;
	return window_init(&b->minute, per_minute, 60);
}

static void
bucket_release(struct bucket *b)
{
	window_release(&b->hour);
	window_release(&b->minute);
}

/*
 * Count a request against B at mock time NOW.  Returns 0 when allowed,
 * 1 past the minute limit (with *retry_after in real seconds), 2 past the
 * hour limit.
 */
static int
bucket_take(struct mock *m, struct bucket *b, double now, unsigned *retry_after)
{
	struct window *mw = &b->minute;

	window_expire(&b->hour, now);
	window_expire(mw, now);
	if (mw->limit != MOCK_RATE_UNLIMITED && mw->n >= mw->limit) {
		double wait = (mw->t[mw->head] + mw->span - now) * m->params.time_scale;

		*retry_after = wait < 1 ? 1 : (unsigned)round_up(wait);
		return 1;
	}
	if (b->hour.limit != MOCK_RATE_UNLIMITED && b->hour.n >= b->hour.limit)
		return 2;
	window_add(&b->hour, now);
	window_add(mw, now);
	return 0;
}

static void
bucket_headers(struct mock *m, struct bucket *b, double now, unsigned *limit,
    unsigned *remaining, long long *reset)
{
	struct window *h = &b->hour;
	double wall = wall_now();

	if (h->limit == MOCK_RATE_UNLIMITED) {
		*limit = 5000;
		*remaining = 5000;
		*reset = (long long)wall;
		return;
	}
	*limit = h->limit;
	*remaining = h->limit - (unsigned)h->n;
	if (h->n == 0)
		*reset = (long long)round_up(wall);
	else
		*reset = (long long)round_up(wall + (h->t[h->head] + h->span - now) * m->params.time_scale);
}

/* --- request log ----------------------------------------------------------- */

static void
log_request(struct mock *m, const char *method, const char *url, const char *query,
    int status, const char *fault, double when)
{
	struct mock_request *e;

	m->log_total++;
	if (m->log_n == m->log_cap && m->log_cap < MOCK_MAX_REQUEST_LOG) {
		size_t ncap = m->log_cap == 0 ? 256 : m->log_cap * 2;
		struct mock_request *p;

		if (ncap > MOCK_MAX_REQUEST_LOG)
			ncap = MOCK_MAX_REQUEST_LOG;
		p = realloc(m->log, ncap * sizeof(*p));
		if (p != NULL) {
			/* The ring has not wrapped yet while it still grows (head is 0). */
			m->log = p;
			m->log_cap = ncap;
		}
	}
	if (m->log_cap == 0)
		return;
	if (m->log_n < m->log_cap) {
		e = &m->log[(m->log_head + m->log_n) % m->log_cap];
		m->log_n++;
	} else {
		e = &m->log[m->log_head];
		m->log_head = (m->log_head + 1) % m->log_cap;
	}
	snprintf(e->method, sizeof(e->method), "%s", method);
	snprintf(e->path, sizeof(e->path), "%s", url);
	snprintf(e->query, sizeof(e->query), "%s", query);
	e->status = status;
	snprintf(e->fault, sizeof(e->fault), "%s", fault != NULL ? fault : "");
	e->time = when;
}

static struct mock_request *
log_at(struct mock *m, size_t i)
{
	return &m->log[(m->log_head + i) % m->log_cap];
}

/* --- replies ----------------------------------------------------------------- */

static int
reply_json(struct reply *rp, int status, cJSON *obj)
{
	char *s;

	if (obj == NULL)
		return -ENOMEM;
	s = cJSON_PrintUnformatted(obj);
	cJSON_Delete(obj);
	if (s == NULL)
		return -ENOMEM;
	free(rp->body);
	rp->status = status;
	rp->body = s;
	rp->len = strlen(s);
	return 0;
}

/* Wrap ITEM as {"KEY": ITEM}. */
static int
reply_wrapped(struct reply *rp, int status, const char *key, cJSON *item)
{
	cJSON *o;

	if (item == NULL)
		return -ENOMEM;
	o = cJSON_CreateObject();
	if (o == NULL || !cJSON_AddItemToObject(o, key, item)) {
		cJSON_Delete(o);
		cJSON_Delete(item);
		return -ENOMEM;
	}
	return reply_json(rp, status, o);
}

static void
make_request_id(struct mock *m, char out[37])
{
	uint64_t a = ++m->request_seq, b = (a + m->cfg.seed) * 0x9e3779b97f4a7c15ull;

	snprintf(out, 37, "%08" PRIx32 "-%04" PRIx32 "-4%03" PRIx32 "-8%03" PRIx32 "-%012" PRIx64,
	    (uint32_t)(b >> 32), (uint32_t)(b >> 16) & 0xffff, (uint32_t)b & 0xfff,
	    (uint32_t)(a >> 48) & 0xfff, (uint64_t)(a & 0xffffffffffffull));
}

/* The error body; the request id is filled in when the reply is sent. */
static int
reply_error(struct reply *rp, int status, const char *id, const char *message)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL || cJSON_AddStringToObject(o, "id", id) == NULL ||
	    cJSON_AddStringToObject(o, "message", message) == NULL ||
	    cJSON_AddStringToObject(o, "request_id", "@RID@") == NULL) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	return reply_json(rp, status, o);
}

static int
not_found(struct reply *rp)
{
	return reply_error(rp, 404, "not_found", "The resource you requested could not be found.");
}

static int
method_not_allowed(struct reply *rp, const char *allow)
{
	rp->allow = allow;
	return reply_error(rp, 405, "method_not_allowed", "Method not allowed.");
}

/* --- pagination -------------------------------------------------------------- */

struct page {
	size_t page, per_page;
	size_t start, end;		/* indices into the full list */
};

static int
parse_positive(const char *s, size_t *ret)
{
	unsigned long long v = 0;
	size_t i;

	if (s[0] == '\0' || strlen(s) > 9)
		return -EINVAL;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < 1)
		return -EINVAL;
	*ret = (size_t)v;
	return 0;
}

/* Read page and per_page (at most 200, as the service caps it).  -EINVAL for junk. */
static int
page_parse(struct MHD_Connection *c, struct page *pg)
{
	const char *p = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "page");
	const char *pp = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "per_page");

	pg->page = 1;
	pg->per_page = DEFAULT_PER_PAGE;
	if (p != NULL && parse_positive(p, &pg->page) < 0)
		return -EINVAL;
	if (pp != NULL && parse_positive(pp, &pg->per_page) < 0)
		return -EINVAL;
	if (pg->per_page > MAX_PER_PAGE)
		pg->per_page = MAX_PER_PAGE;
	return 0;
}

struct qbuf {
	char s[1024];
	size_t len;
	bool overflow;
};

static void
qbuf_add(struct qbuf *q, const char *s)
{
	size_t n = strlen(s);

	if (q->len + n >= sizeof(q->s)) {
		q->overflow = true;
		return;
	}
	memcpy(q->s + q->len, s, n + 1);
	q->len += n;
}

/* Keep every query argument but the paging ones, percent-encoded again. */
static enum MHD_Result
collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct qbuf *q = cls;
	char enc[8];
	const char *p;

	(void)kind;
	if (strcmp(key, "page") == 0 || strcmp(key, "per_page") == 0)
		return MHD_YES;
	qbuf_add(q, "&");
	qbuf_add(q, key);
	qbuf_add(q, "=");
	for (p = value != NULL ? value : ""; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '_' || ch == '.' || ch == '~') {
			enc[0] = (char)ch;
			enc[1] = '\0';
		} else {
			snprintf(enc, sizeof(enc), "%%%02X", ch);
		}
		qbuf_add(q, enc);
	}
	return MHD_YES;
}

/*
 * The scheme and host the client asked for, as links should name them: the
 * service's links point at the host the request went to.  Behind a TLS front
 * (tests/tlsfront.c) that is the front, told by its Host and
 * X-Forwarded-Proto headers; without a usable Host header, the mock's own URL.
 */
static const char *
link_base(struct mock *m, struct MHD_Connection *c, char *buf, size_t size)
{
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
	const char *proto = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-Proto");
	size_t i;

	if (host == NULL || host[0] == '\0' || strlen(host) > 255)
		return m->url;
	for (i = 0; host[i] != '\0'; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]",
		    host[i]) == NULL)
			return m->url;
	snprintf(buf, size, "%s://%s", proto != NULL && strcmp(proto, "https") == 0 ? "https" : "http",
	    host);
	return buf;
}

/* Add links (pages: first, prev, next, last as they apply) and meta.total to LIST. */
static int
add_paging(struct mock *m, struct MHD_Connection *c, const char *url, cJSON *list,
    const struct page *pg, size_t total)
{
	struct qbuf q = { .len = 0 };
	size_t last = total == 0 ? 1 : (total + pg->per_page - 1) / pg->per_page;
	cJSON *links, *pages, *meta;
	char buf[1400], basebuf[280];
	const char *base = link_base(m, c, basebuf, sizeof(basebuf));

	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &q);
	if (q.overflow)
		q.s[0] = '\0';
	links = cJSON_AddObjectToObject(list, "links");
	meta = cJSON_AddObjectToObject(list, "meta");
	if (links == NULL || meta == NULL || cJSON_AddNumberToObject(meta, "total", (double)total) == NULL)
		return -ENOMEM;
	if (last <= 1 && pg->page == 1)
		return 0;
	pages = cJSON_AddObjectToObject(links, "pages");
	if (pages == NULL)
		return -ENOMEM;
#define LINK(name, n) do { \
		snprintf(buf, sizeof(buf), "%s%s?page=%zu&per_page=%zu%s", base, url, (size_t)(n), \
		    pg->per_page, q.s); \
		if (cJSON_AddStringToObject(pages, name, buf) == NULL) \
			return -ENOMEM; \
	} while (0)
	if (pg->page > 1) {
		LINK("first", 1);
		LINK("prev", pg->page - 1 < last ? pg->page - 1 : last);
	}
	if (pg->page < last) {
		LINK("next", pg->page + 1);
		LINK("last", last);
	}
#undef LINK
	return 0;
}

/* Start {"KEY": []} for a list page; the caller appends and then calls add_paging. */
static cJSON *
list_start(const char *key, cJSON **ret_arr)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	*ret_arr = cJSON_AddArrayToObject(o, key);
	if (*ret_arr == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static bool
push_item(cJSON *arr, cJSON *item)
{
	if (item == NULL || !cJSON_AddItemToArray(arr, item)) {
		cJSON_Delete(item);
		return false;
	}
	return true;
}

static int
finish_list(struct mock *m, struct MHD_Connection *c, const char *url, struct reply *rp,
    cJSON *o, bool ok, const struct page *pg, size_t total)
{
	if (!ok || add_paging(m, c, url, o, pg, total) < 0) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	return reply_json(rp, 200, o);
}

/* --- handlers ---------------------------------------------------------------- */

struct req {
	struct mock *m;
	struct MHD_Connection *c;
	const char *url;
	const char *method;
	const char *body;
	size_t body_len;
	bool body_too_big;
	double now;
	double wall;
};

static const char *
arg(const struct req *q, const char *key)
{
	return MHD_lookup_connection_value(q->c, MHD_GET_ARGUMENT_KIND, key);
}

static int
get_account(struct req *q, struct reply *rp)
{
	return reply_wrapped(rp, 200, "account", render_account(&q->m->st->account));
}

static int
list_droplets(struct req *q, struct reply *rp)
{
	struct mstate *st = q->m->st;
	const char *tag = arg(q, "tag_name"), *name = arg(q, "name"), *type = arg(q, "type");
	struct page pg;
	cJSON *o, *arr;
	size_t i, total = 0;
	bool ok = true;

	if (page_parse(q->c, &pg) < 0)
		return reply_error(rp, 400, "bad_request", "page and per_page must be positive integers");
	if (type != NULL && strcmp(type, "droplets") != 0 && strcmp(type, "gpus") != 0)
		return reply_error(rp, 400, "bad_request", "type must be droplets or gpus");
	/* The OpenAPI file: tag_name "can not be combined with name or type". */
	if (tag != NULL && (name != NULL || type != NULL))
		return reply_error(rp, 400, "bad_request",
		    "tag_name can not be combined with name or type");
	o = list_start("droplets", &arr);
	if (o == NULL)
		return -ENOMEM;
	for (i = 0; i < st->n_droplets; i++) {
		const struct mdroplet *d = &st->droplets[i];

		if (tag != NULL && !mdroplet_has_tag(d, tag))
			continue;
		/* "Exact matches. It is case-insensitive" (the OpenAPI file). */
		if (name != NULL && strcasecmp(d->name, name) != 0)
			continue;
		if (type != NULL && strcmp(type, "gpus") == 0)
			continue;
		if (total >= (pg.page - 1) * pg.per_page && total < pg.page * pg.per_page && ok)
			ok = push_item(arr, render_droplet(st, d, q->m->cfg.debug_drift));
		total++;
	}
	return finish_list(q->m, q->c, q->url, rp, o, ok, &pg, total);
}

/* Parse a droplet or action id path segment: digits only, >= 1. */
static int
parse_id(const char *s, size_t len, int64_t *ret)
{
	int64_t v = 0;
	size_t i;

	if (len == 0 || len > 15)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int
get_droplet(struct req *q, struct reply *rp, struct mdroplet *d)
{
	return reply_wrapped(rp, 200, "droplet", render_droplet(q->m->st, d, q->m->cfg.debug_drift));
}

/* Actions newest first, as the service lists them. */
static int
list_actions(struct req *q, struct reply *rp, int64_t droplet_id)
{
	struct mstate *st = q->m->st;
	struct page pg;
	cJSON *o, *arr;
	size_t i, total = 0;
	bool ok = true;

	if (page_parse(q->c, &pg) < 0)
		return reply_error(rp, 400, "bad_request", "page and per_page must be positive integers");
	o = list_start("actions", &arr);
	if (o == NULL)
		return -ENOMEM;
	for (i = st->n_actions; i-- > 0;) {
		const struct maction *a = &st->actions[i];

		if (droplet_id != 0 && a->droplet_id != droplet_id)
			continue;
		if (total >= (pg.page - 1) * pg.per_page && total < pg.page * pg.per_page && ok)
			ok = push_item(arr, render_action(a));
		total++;
	}
	return finish_list(q->m, q->c, q->url, rp, o, ok, &pg, total);
}

/*
 * Decode an action request body: {"type": T[, "name": N]}.  Returns 0, or
 * writes a 400/422 reply and returns 1.
 */
static int
parse_action_body(struct req *q, struct reply *rp, bool by_tag, enum mock_action_type *ret_type,
    char *name, size_t name_len)
{
	cJSON *js;
	const cJSON *t, *n;
	int r = 1;

	name[0] = '\0';
	if (q->body_too_big)
		return reply_error(rp, 400, "bad_request", "request body too large") < 0 ? -ENOMEM : 1;
	js = q->body_len > 0 ? cJSON_ParseWithLength(q->body, q->body_len) : NULL;
	if (js == NULL || !cJSON_IsObject(js)) {
		cJSON_Delete(js);
		return reply_error(rp, 400, "bad_request", "error parsing request body") < 0 ? -ENOMEM : 1;
	}
	t = cJSON_GetObjectItemCaseSensitive(js, "type");
	n = cJSON_GetObjectItemCaseSensitive(js, "name");
	if (!cJSON_IsString(t)) {
		r = reply_error(rp, 422, "unprocessable_entity",
		    "type is required") < 0 ? -1 : 1;
		goto out;
	}
	if (maction_type_parse(t->valuestring, ret_type) < 0 || *ret_type == MOCK_ACTION_VOLUME_SNAPSHOT) {
		r = reply_error(rp, 422, "unprocessable_entity",
		    "type is not an action this mock performs (power_off, shutdown, power_on, reboot, power_cycle, snapshot)") < 0 ? -1 : 1;
		goto out;
	}
	if (by_tag && *ret_type == MOCK_ACTION_REBOOT) {
		r = reply_error(rp, 422, "unprocessable_entity",
		    "reboot cannot be performed by tag") < 0 ? -1 : 1;
		goto out;
	}
	if (n != NULL && !cJSON_IsNull(n)) {
		if (!cJSON_IsString(n) || n->valuestring[0] == '\0' || strlen(n->valuestring) >= name_len) {
			r = reply_error(rp, 422, "unprocessable_entity",
		    "name must be a non-empty string of at most 255 bytes") < 0 ? -1 : 1;
			goto out;
		}
		snprintf(name, name_len, "%s", n->valuestring);
	}
	r = 0;
out:
	cJSON_Delete(js);
	return r < 0 ? -ENOMEM : r;
}

static int
busy_error(struct reply *rp)
{
	return reply_error(rp, 422, "unprocessable_entity", "Droplet already has a pending event.");
}

static int
post_action(struct req *q, struct reply *rp, struct mdroplet *d)
{
	enum mock_action_type type;
	char name[MSTATE_MAX_NAME + 1];
	struct maction *a;
	int r;

	r = parse_action_body(q, rp, false, &type, name, sizeof(name));
	if (r != 0)
		return r < 0 ? r : 0;
	r = mstate_start_action(q->m->st, &q->m->params, d, type, name[0] != '\0' ? name : NULL,
	    q->now, q->wall, &a);
	if (r == -EBUSY)
		return busy_error(rp);
	if (r < 0)
		return r;
	return reply_wrapped(rp, 201, "action", render_action(a));
}

static int
post_tag_action(struct req *q, struct reply *rp)
{
	struct mstate *st = q->m->st;
	const char *tag = arg(q, "tag_name");
	enum mock_action_type type;
	char name[MSTATE_MAX_NAME + 1];
	struct maction *a;
	cJSON *o, *arr;
	size_t i;
	bool ok = true;
	int r;

	if (tag == NULL || tag[0] == '\0')
		return reply_error(rp, 422, "unprocessable_entity", "tag_name is required");
	r = parse_action_body(q, rp, true, &type, name, sizeof(name));
	if (r != 0)
		return r < 0 ? r : 0;
	/* All or nothing: one busy droplet refuses the whole request. */
	for (i = 0; i < st->n_droplets; i++)
		if (mdroplet_has_tag(&st->droplets[i], tag) && st->droplets[i].busy_action != 0)
			return busy_error(rp);
	o = list_start("actions", &arr);
	if (o == NULL)
		return -ENOMEM;
	for (i = 0; i < st->n_droplets; i++) {
		struct mdroplet *d = &st->droplets[i];

		if (!mdroplet_has_tag(d, tag))
			continue;
		r = mstate_start_action(st, &q->m->params, d, type, name[0] != '\0' ? name : NULL,
		    q->now, q->wall, &a);
		if (r < 0)
			ok = false;
		else if (ok)
			ok = push_item(arr, render_action(a));
	}
	if (!ok) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	return reply_json(rp, 201, o);
}

/* Images of droplet ID, snapshots and backups, oldest first. */
static int
list_droplet_snapshots(struct req *q, struct reply *rp, int64_t id)
{
	struct mstate *st = q->m->st;
	struct page pg;
	cJSON *o, *arr;
	size_t i, total = 0;
	bool ok = true;

	if (page_parse(q->c, &pg) < 0)
		return reply_error(rp, 400, "bad_request", "page and per_page must be positive integers");
	o = list_start("snapshots", &arr);
	if (o == NULL)
		return -ENOMEM;
	for (i = 0; i < st->n_images; i++) {
		if (st->images[i].droplet_id != id)
			continue;
		if (total >= (pg.page - 1) * pg.per_page && total < pg.page * pg.per_page && ok)
			ok = push_item(arr, render_droplet_image(&st->images[i]));
		total++;
	}
	return finish_list(q->m, q->c, q->url, rp, o, ok, &pg, total);
}

/* Droplet snapshots (not backups), then volume snapshots. */
static int
list_snapshots(struct req *q, struct reply *rp)
{
	struct mstate *st = q->m->st;
	const char *rt = arg(q, "resource_type");
	bool want_d = true, want_v = true, ok = true;
	struct page pg;
	cJSON *o, *arr;
	size_t i, total = 0;

	if (page_parse(q->c, &pg) < 0)
		return reply_error(rp, 400, "bad_request", "page and per_page must be positive integers");
	if (rt != NULL) {
		want_d = strcmp(rt, "droplet") == 0;
		want_v = strcmp(rt, "volume") == 0;
		if (!want_d && !want_v)
			return reply_error(rp, 400, "bad_request", "resource_type must be droplet or volume");
	}
	pg.start = (pg.page - 1) * pg.per_page;
	pg.end = pg.page * pg.per_page;
	o = list_start("snapshots", &arr);
	if (o == NULL)
		return -ENOMEM;
	for (i = 0; want_d && i < st->n_images; i++) {
		if (st->images[i].backup)
			continue;
		if (total >= pg.start && total < pg.end && ok)
			ok = push_item(arr, render_image_snapshot(&st->images[i]));
		total++;
	}
	for (i = 0; want_v && i < st->n_vsnaps; i++) {
		if (total >= pg.start && total < pg.end && ok)
			ok = push_item(arr, render_vsnap(&st->vsnaps[i]));
		total++;
	}
	return finish_list(q->m, q->c, q->url, rp, o, ok, &pg, total);
}

/* /v2/snapshots/{id}: a numeric id is a droplet image, a uuid a volume snapshot. */
static int
snapshot_by_id(struct req *q, struct reply *rp, const char *id, size_t len)
{
	struct mstate *st = q->m->st;
	bool del = strcmp(q->method, "DELETE") == 0;
	char uuid[37];
	int64_t n;

	if (parse_id(id, len, &n) == 0) {
		struct mimage *img = mstate_image(st, n);

		if (img == NULL)
			return not_found(rp);
		if (img->backup)
			return reply_error(rp, 400, "bad_request", "the resource is not a snapshot");
		if (!del)
			return reply_wrapped(rp, 200, "snapshot", render_image_snapshot(img));
		mstate_delete_image(st, n);
		rp->status = 204;
		return 0;
	}
	if (len != 36)
		return not_found(rp);
	memcpy(uuid, id, 36);
	uuid[36] = '\0';
	if (mstate_vsnap(st, uuid) == NULL)
		return not_found(rp);
	if (!del)
		return reply_wrapped(rp, 200, "snapshot", render_vsnap(mstate_vsnap(st, uuid)));
	mstate_delete_vsnap(st, uuid);
	rp->status = 204;
	return 0;
}

static int
list_volumes(struct req *q, struct reply *rp)
{
	struct mstate *st = q->m->st;
	const char *name = arg(q, "name"), *region = arg(q, "region");
	struct page pg;
	cJSON *o, *arr;
	size_t i, total = 0;
	bool ok = true;

	if (page_parse(q->c, &pg) < 0)
		return reply_error(rp, 400, "bad_request", "page and per_page must be positive integers");
	o = list_start("volumes", &arr);
	if (o == NULL)
		return -ENOMEM;
	for (i = 0; i < st->n_volumes; i++) {
		const struct mvolume *v = &st->volumes[i];

		if (name != NULL && strcmp(v->name, name) != 0)
			continue;
		if (region != NULL && strcmp(v->region->slug, region) != 0)
			continue;
		if (total >= (pg.page - 1) * pg.per_page && total < pg.page * pg.per_page && ok)
			ok = push_item(arr, render_volume(st, v));
		total++;
	}
	return finish_list(q->m, q->c, q->url, rp, o, ok, &pg, total);
}

static int
list_volume_snapshots(struct req *q, struct reply *rp, const struct mvolume *v)
{
	struct mstate *st = q->m->st;
	struct page pg;
	cJSON *o, *arr;
	size_t i, total = 0;
	bool ok = true;

	if (page_parse(q->c, &pg) < 0)
		return reply_error(rp, 400, "bad_request", "page and per_page must be positive integers");
	o = list_start("snapshots", &arr);
	if (o == NULL)
		return -ENOMEM;
	for (i = 0; i < st->n_vsnaps; i++) {
		if (strcmp(st->vsnaps[i].volume_id, v->id) != 0)
			continue;
		if (total >= (pg.page - 1) * pg.per_page && total < pg.page * pg.per_page && ok)
			ok = push_item(arr, render_vsnap(&st->vsnaps[i]));
		total++;
	}
	return finish_list(q->m, q->c, q->url, rp, o, ok, &pg, total);
}

static int
post_volume_snapshot(struct req *q, struct reply *rp, struct mvolume *v)
{
	const char *tags[MSTATE_MAX_TAGS];
	size_t n_tags = 0;
	cJSON *js;
	const cJSON *name, *t, *it;
	struct mvsnap *vs;
	int r;

	if (q->body_too_big)
		return reply_error(rp, 400, "bad_request", "request body too large");
	js = q->body_len > 0 ? cJSON_ParseWithLength(q->body, q->body_len) : NULL;
	if (js == NULL || !cJSON_IsObject(js)) {
		cJSON_Delete(js);
		return reply_error(rp, 400, "bad_request", "error parsing request body");
	}
	name = cJSON_GetObjectItemCaseSensitive(js, "name");
	t = cJSON_GetObjectItemCaseSensitive(js, "tags");
	if (!cJSON_IsString(name) || name->valuestring[0] == '\0' || strlen(name->valuestring) > MSTATE_MAX_NAME) {
		r = reply_error(rp, 400, "bad_request", "name is required");
		goto out;
	}
	if (t != NULL && !cJSON_IsNull(t)) {
		if (!cJSON_IsArray(t) || cJSON_GetArraySize(t) > MSTATE_MAX_TAGS) {
			r = reply_error(rp, 400, "bad_request", "tags must be a list of at most 32 strings");
			goto out;
		}
		cJSON_ArrayForEach(it, t) {
			if (!cJSON_IsString(it) || strlen(it->valuestring) > MSTATE_MAX_NAME) {
				r = reply_error(rp, 400, "bad_request", "tags must be a list of strings");
				goto out;
			}
			tags[n_tags++] = it->valuestring;
		}
	}
	r = mstate_snapshot_volume(q->m->st, v, name->valuestring, tags, n_tags, q->wall, &vs);
	if (r == 0)
		r = reply_wrapped(rp, 201, "snapshot", render_vsnap(vs));
out:
	cJSON_Delete(js);
	return r;
}

/* Split PATH after "/v2/" into at most 4 segments. */
struct segs {
	const char *s[5];
	size_t len[5];
	size_t n;
};

static bool
split(const char *path, struct segs *sg)
{
	const char *p = path, *slash;

	sg->n = 0;
	while (*p != '\0') {
		if (sg->n == 5)
			return false;
		slash = strchr(p, '/');
		sg->s[sg->n] = p;
		sg->len[sg->n] = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (sg->len[sg->n] == 0)
			return false;
		sg->n++;
		if (slash == NULL)
			break;
		p = slash + 1;
		if (*p == '\0')
			return false;	/* "//" at the end: canonical_path took only one slash away */
	}
	return true;
}

static bool
seg_is(const struct segs *sg, size_t i, const char *s)
{
	return i < sg->n && sg->len[i] == strlen(s) && strncmp(sg->s[i], s, sg->len[i]) == 0;
}

static bool
is_method(const struct req *q, const char *m)
{
	return strcmp(q->method, m) == 0;
}

/* Route an authenticated, rate-checked /v2 request. */
static int
route_v2(struct req *q, struct reply *rp)
{
	struct mstate *st = q->m->st;
	struct segs sg;
	int64_t id, aid;

	if (strncmp(q->url, "/v2/", 4) != 0 || !split(q->url + 4, &sg) || sg.n == 0)
		return not_found(rp);
	if (seg_is(&sg, 0, "account") && sg.n == 1)
		return is_method(q, "GET") ? get_account(q, rp) : method_not_allowed(rp, "GET");
	if (seg_is(&sg, 0, "droplets")) {
		struct mdroplet *d;

		if (sg.n == 1)
			return is_method(q, "GET") ? list_droplets(q, rp) : method_not_allowed(rp, "GET");
		if (seg_is(&sg, 1, "actions") && sg.n == 2)
			return is_method(q, "POST") ? post_tag_action(q, rp) : method_not_allowed(rp, "POST");
		if (parse_id(sg.s[1], sg.len[1], &id) < 0)
			return not_found(rp);
		d = mstate_droplet(st, id);
		if (sg.n == 2) {
			if (!is_method(q, "GET"))
				return method_not_allowed(rp, "GET");
			return d == NULL ? not_found(rp) : get_droplet(q, rp, d);
		}
		if (seg_is(&sg, 2, "actions") && sg.n == 3) {
			if (!is_method(q, "GET") && !is_method(q, "POST"))
				return method_not_allowed(rp, "GET, POST");
			if (d == NULL)
				return not_found(rp);
			return is_method(q, "GET") ? list_actions(q, rp, id) : post_action(q, rp, d);
		}
		if (seg_is(&sg, 2, "actions") && sg.n == 4) {
			struct maction *a;

			if (!is_method(q, "GET"))
				return method_not_allowed(rp, "GET");
			if (parse_id(sg.s[3], sg.len[3], &aid) < 0 || d == NULL)
				return not_found(rp);
			a = mstate_action(st, aid);
			if (a == NULL || a->droplet_id != id)
				return not_found(rp);
			return reply_wrapped(rp, 200, "action", render_action(a));
		}
		if (seg_is(&sg, 2, "snapshots") && sg.n == 3) {
			if (!is_method(q, "GET"))
				return method_not_allowed(rp, "GET");
			return d == NULL ? not_found(rp) : list_droplet_snapshots(q, rp, id);
		}
		return not_found(rp);
	}
	if (seg_is(&sg, 0, "actions")) {
		struct maction *a;

		if (sg.n == 1)
			return is_method(q, "GET") ? list_actions(q, rp, 0) : method_not_allowed(rp, "GET");
		if (sg.n != 2)
			return not_found(rp);
		if (!is_method(q, "GET"))
			return method_not_allowed(rp, "GET");
		if (parse_id(sg.s[1], sg.len[1], &aid) < 0)
			return not_found(rp);
		a = mstate_action(st, aid);
		return a == NULL ? not_found(rp) : reply_wrapped(rp, 200, "action", render_action(a));
	}
	if (seg_is(&sg, 0, "snapshots")) {
		if (sg.n == 1)
			return is_method(q, "GET") ? list_snapshots(q, rp) : method_not_allowed(rp, "GET");
		if (sg.n != 2)
			return not_found(rp);
		if (!is_method(q, "GET") && !is_method(q, "DELETE"))
			return method_not_allowed(rp, "GET, DELETE");
		return snapshot_by_id(q, rp, sg.s[1], sg.len[1]);
	}
	if (seg_is(&sg, 0, "volumes")) {
		struct mvolume *v = NULL;
		char uuid[37];

		if (sg.n == 1)
			return is_method(q, "GET") ? list_volumes(q, rp) : method_not_allowed(rp, "GET");
		if (seg_is(&sg, 1, "snapshots") && sg.n == 3) {
			if (!is_method(q, "GET") && !is_method(q, "DELETE"))
				return method_not_allowed(rp, "GET, DELETE");
			if (sg.len[2] != 36)
				return not_found(rp);
			memcpy(uuid, sg.s[2], 36);
			uuid[36] = '\0';
			if (mstate_vsnap(st, uuid) == NULL)
				return not_found(rp);
			if (is_method(q, "GET"))
				return reply_wrapped(rp, 200, "snapshot", render_vsnap(mstate_vsnap(st, uuid)));
			mstate_delete_vsnap(st, uuid);
			rp->status = 204;
			return 0;
		}
		if (sg.len[1] == 36) {
			memcpy(uuid, sg.s[1], 36);
			uuid[36] = '\0';
			v = mstate_volume(st, uuid);
		}
		if (sg.n == 2) {
			if (!is_method(q, "GET"))
				return method_not_allowed(rp, "GET");
			return v == NULL ? not_found(rp) : reply_wrapped(rp, 200, "volume", render_volume(st, v));
		}
		if (seg_is(&sg, 2, "snapshots") && sg.n == 3) {
			if (!is_method(q, "GET") && !is_method(q, "POST"))
				return method_not_allowed(rp, "GET, POST");
			if (v == NULL)
				return not_found(rp);
			return is_method(q, "GET") ? list_volume_snapshots(q, rp, v) : post_volume_snapshot(q, rp, v);
		}
		return not_found(rp);
	}
	return not_found(rp);
}

/* --- control plane ------------------------------------------------------------- */

static cJSON *
fault_json(const struct fault_rule *r)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "kind", mock_fault_kind_name(r->f.kind));
	cJSON_AddStringToObject(o, "method", r->f.method);
	cJSON_AddStringToObject(o, "path", r->f.path);
	cJSON_AddNumberToObject(o, "times", r->f.times);
	cJSON_AddNumberToObject(o, "after", r->f.after);
	cJSON_AddNumberToObject(o, "probability", r->f.probability == 0 ? 1 : r->f.probability);
	cJSON_AddNumberToObject(o, "seen", r->seen);
	cJSON_AddNumberToObject(o, "fired", r->fired);
	return o;
}

static int
ctl_state(struct mock *m, struct reply *rp)
{
	struct mstate *st = m->st;
	cJSON *o = cJSON_CreateObject(), *arr, *it;
	bool ok = o != NULL;
	size_t i;

	if (o == NULL)
		return -ENOMEM;
	cJSON_AddNumberToObject(o, "time_scale", m->params.time_scale);
	cJSON_AddNumberToObject(o, "mock_time", mock_now(m));
	arr = cJSON_AddArrayToObject(o, "droplets");
	for (i = 0; ok && arr != NULL && i < st->n_droplets; i++) {
		it = render_droplet(st, &st->droplets[i], false);
		ok = push_item(arr, it);
		if (ok) {
			cJSON *mis = cJSON_AddArrayToObject(it, "misbehave");
			unsigned b = st->droplets[i].misbehaviour;

			if (mis == NULL)
				ok = false;
			else {
				if (b & MOCK_MISBEHAVE_IGNORE_SHUTDOWN)
					ok = push_item(mis, cJSON_CreateString("ignore_shutdown"));
				if (b & MOCK_MISBEHAVE_ACTIONS_ERROR)
					ok = ok && push_item(mis, cJSON_CreateString("actions_error"));
				if (b & MOCK_MISBEHAVE_ACTIONS_STALL)
					ok = ok && push_item(mis, cJSON_CreateString("actions_stall"));
			}
		}
	}
	arr = cJSON_AddArrayToObject(o, "actions");
	for (i = 0; ok && arr != NULL && i < st->n_actions; i++)
		ok = push_item(arr, render_action(&st->actions[i]));
	arr = cJSON_AddArrayToObject(o, "snapshots");
	for (i = 0; ok && arr != NULL && i < st->n_images; i++) {
		it = render_droplet_image(&st->images[i]);
		ok = push_item(arr, it) && cJSON_AddNumberToObject(it, "droplet_id",
		    (double)st->images[i].droplet_id) != NULL;
	}
	arr = cJSON_AddArrayToObject(o, "volumes");
	for (i = 0; ok && arr != NULL && i < st->n_volumes; i++)
		ok = push_item(arr, render_volume(st, &st->volumes[i]));
	arr = cJSON_AddArrayToObject(o, "volume_snapshots");
	for (i = 0; ok && arr != NULL && i < st->n_vsnaps; i++)
		ok = push_item(arr, render_vsnap(&st->vsnaps[i]));
	arr = cJSON_AddArrayToObject(o, "faults");
	for (i = 0; ok && arr != NULL && i < m->n_faults; i++)
		ok = push_item(arr, fault_json(&m->faults[i]));
	if (!ok || arr == NULL) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	return reply_json(rp, 200, o);
}

static int
ctl_requests(struct mock *m, struct reply *rp)
{
	cJSON *o = cJSON_CreateObject(), *arr, *it;
	bool ok = o != NULL;
	size_t i;

	if (o == NULL)
		return -ENOMEM;
	cJSON_AddNumberToObject(o, "total", (double)m->log_total);
	arr = cJSON_AddArrayToObject(o, "requests");
	for (i = 0; ok && arr != NULL && i < m->log_n; i++) {
		const struct mock_request *e = log_at(m, i);

		it = cJSON_CreateObject();
		ok = push_item(arr, it);
		if (!ok)
			break;
		cJSON_AddStringToObject(it, "method", e->method);
		cJSON_AddStringToObject(it, "path", e->path);
		cJSON_AddStringToObject(it, "query", e->query);
		cJSON_AddNumberToObject(it, "status", e->status);
		if (e->fault[0] != '\0')
			cJSON_AddStringToObject(it, "fault", e->fault);
		cJSON_AddNumberToObject(it, "time", e->time);
	}
	if (!ok || arr == NULL) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	return reply_json(rp, 200, o);
}

static int reset_locked(struct mock *m);
static int add_fault_locked(struct mock *m, const struct mock_fault *f);

/*
 * POST /__mock/faults takes a spec, as --fault does, either as the whole
 * body or as {"spec": "..."}.
 */
static int
ctl_add_fault(struct mock *m, struct req *q, struct reply *rp)
{
	char spec[512];
	struct mock_fault f;
	cJSON *js;
	const cJSON *s;
	int r;

	if (q->body_too_big || q->body_len >= sizeof(spec))
		return reply_error(rp, 400, "bad_request", "fault spec too long");
	memcpy(spec, q->body, q->body_len);
	spec[q->body_len] = '\0';
	js = cJSON_Parse(spec);
	s = cJSON_GetObjectItemCaseSensitive(js, "spec");
	if (cJSON_IsString(s))
		snprintf(spec, sizeof(spec), "%s", s->valuestring);
	cJSON_Delete(js);
	spec[strcspn(spec, "\r\n")] = '\0';
	if (mock_fault_parse(spec, &f) < 0)
		return reply_error(rp, 400, "bad_request", "bad fault spec; see dosnap-mock --help");
	r = add_fault_locked(m, &f);
	if (r == -ENOSPC)
		return reply_error(rp, 400, "bad_request", "too many fault rules");
	if (r < 0)
		return r;
	return reply_wrapped(rp, 201, "fault", fault_json(&m->faults[m->n_faults - 1]));
}

/* POST /__mock/droplets/{id}: {"status": "...", "misbehave": [...]}. */
static int
ctl_droplet(struct mock *m, struct req *q, struct reply *rp, const char *idstr)
{
	struct mdroplet *d;
	cJSON *js;
	const cJSON *s, *mis, *it;
	enum mstatus status;
	unsigned bits = 0;
	int64_t id;
	int r;

	if (parse_id(idstr, strlen(idstr), &id) < 0)
		return not_found(rp);
	d = mstate_droplet(m->st, id);
	if (d == NULL)
		return not_found(rp);
	js = q->body_len > 0 && !q->body_too_big ? cJSON_ParseWithLength(q->body, q->body_len) : NULL;
	if (!cJSON_IsObject(js)) {
		cJSON_Delete(js);
		return reply_error(rp, 400, "bad_request", "error parsing request body");
	}
	s = cJSON_GetObjectItemCaseSensitive(js, "status");
	mis = cJSON_GetObjectItemCaseSensitive(js, "misbehave");
	r = reply_error(rp, 400, "bad_request",
	    "status must be new, active, off or archive; misbehave a list of ignore_shutdown, actions_error, actions_stall");
	if (s != NULL && (!cJSON_IsString(s) || mstatus_parse(s->valuestring, &status) < 0))
		goto out;
	if (mis != NULL && !cJSON_IsArray(mis))
		goto out;
	cJSON_ArrayForEach(it, mis) {
		if (!cJSON_IsString(it))
			goto out;
		if (strcmp(it->valuestring, "ignore_shutdown") == 0)
			bits |= MOCK_MISBEHAVE_IGNORE_SHUTDOWN;
		else if (strcmp(it->valuestring, "actions_error") == 0)
			bits |= MOCK_MISBEHAVE_ACTIONS_ERROR;
		else if (strcmp(it->valuestring, "actions_stall") == 0)
			bits |= MOCK_MISBEHAVE_ACTIONS_STALL;
		else
			goto out;
	}
	if (s != NULL)
		d->status = status;
	if (mis != NULL)
		d->misbehaviour = bits;
	r = reply_wrapped(rp, 200, "droplet", render_droplet(m->st, d, false));
out:
	cJSON_Delete(js);
	return r;
}

static int
ctl_route(struct mock *m, struct req *q, struct reply *rp)
{
	const char *p = q->url + strlen("/__mock/");
	bool get = is_method(q, "GET"), post = is_method(q, "POST");

	if (strcmp(p, "state") == 0)
		return get ? ctl_state(m, rp) : method_not_allowed(rp, "GET");
	if (strcmp(p, "requests") == 0) {
		if (is_method(q, "DELETE")) {
			m->log_n = m->log_head = 0;
			m->log_total = 0;
			rp->status = 204;
			return 0;
		}
		return get ? ctl_requests(m, rp) : method_not_allowed(rp, "GET, DELETE");
	}
	if (strcmp(p, "reset") == 0) {
		int r;

		if (!post)
			return method_not_allowed(rp, "POST");
		r = reset_locked(m);
		if (r < 0)
			return reply_error(rp, 500, "server_error", "cannot reload the fixture");
		rp->status = 204;
		return 0;
	}
	if (strcmp(p, "faults") == 0) {
		size_t i;
		cJSON *o, *arr;
		bool ok = true;

		if (post)
			return ctl_add_fault(m, q, rp);
		if (is_method(q, "DELETE")) {
			m->n_faults = 0;
			rp->status = 204;
			return 0;
		}
		if (!get)
			return method_not_allowed(rp, "GET, POST, DELETE");
		o = list_start("faults", &arr);
		if (o == NULL)
			return -ENOMEM;
		for (i = 0; ok && i < m->n_faults; i++)
			ok = push_item(arr, fault_json(&m->faults[i]));
		if (!ok) {
			cJSON_Delete(o);
			return -ENOMEM;
		}
		return reply_json(rp, 200, o);
	}
	if (strncmp(p, "droplets/", 9) == 0)
		return post ? ctl_droplet(m, q, rp, p + 9) : method_not_allowed(rp, "POST");
	return not_found(rp);
}

/* --- MHD glue ----------------------------------------------------------------- */

struct trunc {
	char *buf;
	size_t cut;
};

static ssize_t
trunc_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct trunc *t = cls;
	size_t n;

	if (pos >= t->cut)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	n = t->cut - (size_t)pos;
	if (n > max)
		n = max;
	memcpy(out, t->buf + pos, n);
	return (ssize_t)n;
}

static void
trunc_free(void *cls)
{
	struct trunc *t = cls;

	free(t->buf);
	free(t);
}

/* Put "@RID@" placeholders (error bodies) to the request id. */
static void
fill_request_id(struct reply *rp, const char *rid)
{
	char *p;

	if (rp->body == NULL)
		return;
	p = strstr(rp->body, "@RID@");
	if (p == NULL)
		return;
	/* The placeholder is shorter than a request id: rebuild the string. */
	{
		size_t pre = (size_t)(p - rp->body), idl = strlen(rid);
		char *nb = malloc(rp->len - 5 + idl + 1);

		if (nb == NULL) {
			memset(p, '-', 5);
			return;
		}
		snprintf(nb, rp->len - 5 + idl + 1, "%.*s%s%s", (int)pre, rp->body, rid, p + 5);
		free(rp->body);
		rp->body = nb;
		rp->len = rp->len - 5 + idl;
	}
}

/*
 * Send RP on C.  With TRUNCATE, promise the whole body but send half and
 * drop the connection; with MALFORM, send half the body as if it were all.
 */
static enum MHD_Result
send_reply(struct mock *m, struct MHD_Connection *c, struct reply *rp, struct bucket *b,
    double now, const char *rid, enum mock_fault_kind fault, bool faulted)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char buf[32];

	if (faulted && fault == MOCK_FAULT_MALFORMED && rp->body != NULL && rp->len > 1) {
		rp->len /= 2;
		rp->body[rp->len] = '\0';
	}
	if (faulted && fault == MOCK_FAULT_TRUNCATED && rp->body != NULL && rp->len > 1) {
		struct trunc *t = malloc(sizeof(*t));

		if (t == NULL)
			return MHD_NO;
		t->buf = rp->body;
		t->cut = rp->len / 2;
		rp->body = NULL;
		resp = MHD_create_response_from_callback(rp->len, 4096, trunc_read, t, trunc_free);
		if (resp == NULL)
			trunc_free(t);
	} else if (rp->body != NULL) {
		resp = MHD_create_response_from_buffer(rp->len, rp->body, MHD_RESPMEM_MUST_FREE);
		if (resp != NULL)
			rp->body = NULL;
	} else {
		resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	}
	if (resp == NULL)
		return MHD_NO;
	if (rp->status != 204)
		MHD_add_response_header(resp, "Content-Type",
		    m->cfg.debug_drift ? "application/json" : "application/json; charset=utf-8");
	if (rp->v2) {
		unsigned limit, remaining;
		long long reset;

		MHD_add_response_header(resp, "x-request-id", rid);
		bucket_headers(m, b, now, &limit, &remaining, &reset);
		snprintf(buf, sizeof(buf), "%u", limit);
		MHD_add_response_header(resp, "ratelimit-limit", buf);
		if (m->cfg.debug_drift)
			snprintf(buf, sizeof(buf), "plenty");
		else
			snprintf(buf, sizeof(buf), "%u", remaining);
		MHD_add_response_header(resp, "ratelimit-remaining", buf);
		snprintf(buf, sizeof(buf), "%lld", reset);
		MHD_add_response_header(resp, "ratelimit-reset", buf);
	}
	if (rp->retry_after > 0) {
		snprintf(buf, sizeof(buf), "%u", rp->retry_after);
		MHD_add_response_header(resp, "retry-after", buf);
	}
	if (rp->allow != NULL)
		MHD_add_response_header(resp, "Allow", rp->allow);
	ret = MHD_queue_response(c, (unsigned)rp->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void *stall_main(void *arg);

/* Park connection C for MS real milliseconds.  Called with m->lock held. */
static int
stall_add(struct mock *m, struct MHD_Connection *c, unsigned ms)
{
	struct stall *s;
	int r = 0;

	pthread_mutex_lock(&m->stall_lock);
	if (m->n_stalls == MAX_STALLS || m->stopping) {
		r = -ENOSPC;
		goto out;
	}
	if (!m->stall_thread_started) {
		if (pthread_create(&m->stall_thread, NULL, stall_main, m) != 0) {
			r = -EAGAIN;
			goto out;
		}
		m->stall_thread_started = true;
	}
	s = &m->stalls[m->n_stalls++];
	s->c = c;
	clock_gettime(CLOCK_MONOTONIC, &s->deadline);
	s->deadline.tv_sec += ms / 1000;
	s->deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (s->deadline.tv_nsec >= 1000000000L) {
		s->deadline.tv_sec++;
		s->deadline.tv_nsec -= 1000000000L;
	}
	MHD_suspend_connection(c);
	pthread_cond_signal(&m->stall_cond);
out:
	pthread_mutex_unlock(&m->stall_lock);
	return r;
}

/* Resume stalled connections when their time is up, or all of them when stopping. */
static void *
stall_main(void *arg)
{
	struct mock *m = arg;
	struct timespec now;
	size_t i;

	pthread_mutex_lock(&m->stall_lock);
	for (;;) {
		struct timespec next = { 0, 0 };
		bool have = false;

		clock_gettime(CLOCK_MONOTONIC, &now);
		for (i = 0; i < m->n_stalls;) {
			if (m->stopping || ts_diff(&m->stalls[i].deadline, &now) <= 0) {
				MHD_resume_connection(m->stalls[i].c);
				m->stalls[i] = m->stalls[--m->n_stalls];
				continue;
			}
			if (!have || ts_diff(&m->stalls[i].deadline, &next) < 0)
				next = m->stalls[i].deadline;
			have = true;
			i++;
		}
		if (m->stopping)
			break;
		if (have)
			pthread_cond_timedwait(&m->stall_cond, &m->stall_lock, &next);
		else
			pthread_cond_wait(&m->stall_cond, &m->stall_lock);
	}
	pthread_mutex_unlock(&m->stall_lock);
	return NULL;
}

static enum MHD_Result
collect_query(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct qbuf *q = cls;

	(void)kind;
	if (q->len > 0)
		qbuf_add(q, "&");
	qbuf_add(q, key);
	if (value != NULL) {
		qbuf_add(q, "=");
		qbuf_add(q, value);
	}
	return MHD_YES;
}

static bool
token_ok(struct mock *m, struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");

	if (h == NULL || strncmp(h, "Bearer ", 7) != 0)
		return false;
	return strcmp(h + 7, m->token) == 0;
}

/*
 * The service answers its /v2 routes with or without one trailing slash
 * (`GET /v2/droplets/`, `DELETE /v2/snapshots/ID/`), and widely used client
 * libraries send one on nearly every call.  Return URL without it, copied
 * to BUF, for routing, fault rules and the request log alike; any other
 * URL (the control plane, "/v2/", "//" at the end, or one too long for BUF,
 * which no route has) comes back as it is.
 */
static const char *
canonical_path(const char *url, char *buf, size_t size)
{
	size_t len = strlen(url);

	if (strncmp(url, "/v2/", 4) != 0 || len <= 4 || len >= size || url[len - 1] != '/' ||
	    url[len - 2] == '/')
		return url;
	memcpy(buf, url, len - 1);
	buf[len - 1] = '\0';
	return buf;
}

static enum MHD_Result
handle_request(struct mock *m, struct MHD_Connection *c, const char *url, const char *method,
    struct conn *cn)
{
	struct req q = { .m = m, .c = c, .url = url, .method = method, .body = cn->body,
		.body_len = cn->len, .body_too_big = cn->too_big };
	struct reply rp = { .status = 500 };
	struct fault_rule *fr = NULL;
	enum mock_fault_kind fk = MOCK_FAULT_HTTP_500;
	struct bucket *b = &m->rl_other;
	struct qbuf query = { .len = 0 };
	char rid[37], path[512];
	enum MHD_Result ret;
	int r, status;

	url = canonical_path(url, path, sizeof(path));
	q.url = url;
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_query, &query);
	pthread_mutex_lock(&m->lock);
	q.now = mock_now(m);
	q.wall = wall_now();
	mstate_advance(m->st, &m->params, q.now, q.wall);
	if (strncmp(url, "/__mock/", 8) == 0) {
		r = ctl_route(m, &q, &rp);
		goto send;
	}
	rp.v2 = true;
	fr = fault_pick(m->faults, m->n_faults, method, url, &m->rng);
	if (fr != NULL) {
		fk = fr->f.kind;
		switch (fk) {
		case MOCK_FAULT_RESET:
			log_request(m, method, url, query.s, 0, "reset", q.wall);
			pthread_mutex_unlock(&m->lock);
			return MHD_NO;
		case MOCK_FAULT_STALL:
			log_request(m, method, url, query.s, 0, "stall", q.wall);
			r = stall_add(m, c, fr->f.stall_ms != 0 ? fr->f.stall_ms : DEFAULT_STALL_MS);
			pthread_mutex_unlock(&m->lock);
			if (r < 0)
				return MHD_NO;
			cn->stalled = true;
			return MHD_YES;
		case MOCK_FAULT_HTTP_500:
			r = reply_error(&rp, 500, "server_error", "Unexpected server-side error");
			goto send;
		case MOCK_FAULT_HTTP_502:
			r = reply_error(&rp, 502, "bad_gateway", "Bad gateway");
			goto send;
		case MOCK_FAULT_HTTP_503:
			r = reply_error(&rp, 503, "service_unavailable", "Service temporarily unavailable");
			goto send;
		case MOCK_FAULT_HTTP_429:
			rp.retry_after = fr->f.retry_after != 0 ? fr->f.retry_after : 1;
			r = reply_error(&rp, 429, "too_many_requests", "API Rate limit exceeded.");
			goto send;
		case MOCK_FAULT_TRUNCATED:
		case MOCK_FAULT_MALFORMED:
		case MOCK_FAULT__COUNT:
			break;
		}
	}
	if (!token_ok(m, c)) {
		r = reply_error(&rp, 401, "unauthorized", "Unable to authenticate you.");
		goto send;
	}
	b = &m->rl_token;
	switch (bucket_take(m, b, q.now, &rp.retry_after)) {
	case 1:
		r = reply_error(&rp, 429, "too_many_requests", "API Rate limit exceeded.");
		goto send;
	case 2:
		rp.retry_after = 0;
		r = reply_error(&rp, 429, "too_many_requests", "API Rate limit exceeded.");
		goto send;
	default:
		break;
	}
	r = route_v2(&q, &rp);
send:
	if (r < 0) {
		free(rp.body);
		rp.body = NULL;
		rp.retry_after = 0;
		rp.allow = NULL;
		r = reply_error(&rp, 500, "server_error", "Unexpected server-side error");
		if (r < 0) {
			pthread_mutex_unlock(&m->lock);
			return MHD_NO;
		}
	}
	make_request_id(m, rid);
	fill_request_id(&rp, rid);
	status = rp.status;
	if (rp.v2) {
		const char *fname = fr != NULL ? mock_fault_kind_name(fk) : NULL;

		log_request(m, method, url, query.s,
		    fr != NULL && fk == MOCK_FAULT_TRUNCATED ? 0 : status, fname, q.wall);
	}
	ret = send_reply(m, c, &rp, b, q.now, rid, fk, fr != NULL);
	pthread_mutex_unlock(&m->lock);
	free(rp.body);
	return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct mock *m = cls;
	struct conn *cn = *con_cls;

	(void)version;
	if (cn == NULL) {
		cn = calloc(1, sizeof(*cn));
		if (cn == NULL)
			return MHD_NO;
		*con_cls = cn;
		return MHD_YES;
	}
	if (cn->stalled)
		return MHD_NO;	/* resumed after a stall: drop the connection, no answer */
	if (*upload_size > 0) {
		if (!cn->too_big) {
			if (cn->len + *upload_size > MOCK_MAX_BODY) {
				cn->too_big = true;
			} else {
				char *p = realloc(cn->body, cn->len + *upload_size + 1);

				if (p == NULL)
					return MHD_NO;
				memcpy(p + cn->len, upload_data, *upload_size);
				cn->body = p;
				cn->len += *upload_size;
				p[cn->len] = '\0';
			}
		}
		*upload_size = 0;
		return MHD_YES;
	}
	return handle_request(m, c, url, method, cn);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct conn *cn = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (cn == NULL)
		return;
	free(cn->body);
	free(cn);
	*con_cls = NULL;
}

/* --- lifecycle and accessors --------------------------------------------------- */

void
mock_config_init(struct mock_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->token = DEFAULT_TOKEN;
	cfg->time_scale = 1.0;
	cfg->action_ms[MOCK_ACTION_POWER_OFF] = MOCK_DEFAULT_POWER_OFF_MS;
	cfg->action_ms[MOCK_ACTION_SHUTDOWN] = MOCK_DEFAULT_SHUTDOWN_MS;
	cfg->action_ms[MOCK_ACTION_POWER_ON] = MOCK_DEFAULT_POWER_ON_MS;
	cfg->action_ms[MOCK_ACTION_REBOOT] = MOCK_DEFAULT_REBOOT_MS;
	cfg->action_ms[MOCK_ACTION_POWER_CYCLE] = MOCK_DEFAULT_POWER_CYCLE_MS;
	cfg->action_ms[MOCK_ACTION_SNAPSHOT] = MOCK_DEFAULT_SNAPSHOT_MS;
	cfg->action_ms[MOCK_ACTION_VOLUME_SNAPSHOT] = MOCK_DEFAULT_VOLUME_SNAPSHOT_MS;
	cfg->rate_per_hour = 5000;
	cfg->rate_per_minute = 250;
	cfg->listen_host = "127.0.0.1";
	cfg->threads = 2;
}

static int
add_fault_locked(struct mock *m, const struct mock_fault *f)
{
	if (fault_validate(f) < 0)
		return -EINVAL;
	if (m->n_faults == MOCK_MAX_FAULTS)
		return -ENOSPC;
	memset(&m->faults[m->n_faults], 0, sizeof(m->faults[0]));
	m->faults[m->n_faults].f = *f;
	m->n_faults++;
	return 0;
}

static unsigned
rate_or_default(unsigned v, unsigned def)
{
	if (v == 0)
		return def;
	if (v != MOCK_RATE_UNLIMITED && v > MOCK_MAX_RATE)
		return MOCK_MAX_RATE;
	return v;
}

static int
limits_init(struct mock *m)
{
	unsigned h = rate_or_default(m->cfg.rate_per_hour, 5000);
	unsigned mi = rate_or_default(m->cfg.rate_per_minute, 250);
	int r;

	r = bucket_init(&m->rl_token, h, mi);
	if (r < 0)
		return r;
	return bucket_init(&m->rl_other, h, mi);
}

/* Everything mock_reset restores, with m->lock held. */
static int
reset_locked(struct mock *m)
{
	struct mstate *st;
	size_t i;
	int r;

	r = mstate_load(m->fixture_path, m->n_generate, m->cfg.seed, wall_now(), &st, NULL, 0);
	if (r < 0)
		return r;
	r = limits_init(m);
	if (r < 0) {
		mstate_free(st);
		return r;
	}
	mstate_free(m->st);
	m->st = st;
	clock_gettime(CLOCK_MONOTONIC, &m->mono0);
	m->n_faults = 0;
	for (i = 0; i < m->n_cfg_faults; i++)
		add_fault_locked(m, &m->cfg_faults[i]);
	m->rng = m->cfg.seed;
	m->log_n = m->log_head = 0;
	m->log_total = 0;
	m->request_seq = 0;
	return 0;
}

static int
copy_str(const char *s, char **ret)
{
	*ret = NULL;
	if (s == NULL)
		return 0;
	*ret = strdup(s);
	return *ret == NULL ? -ENOMEM : 0;
}

static int
bind_addr(const char *host, uint16_t port, struct sockaddr_storage *ss, unsigned *flags)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*flags |= MHD_USE_IPv6;
		return 0;
	}
	return -EINVAL;
}

int
mock_start(const struct mock_config *cfg, struct mock **ret)
{
	struct mock *m;
	struct sockaddr_storage ss;
	unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME |
	    MHD_USE_TURBO;
	const union MHD_DaemonInfo *info;
	unsigned threads;
	size_t i;
	int r;

	if (cfg->time_scale < 0 || cfg->n_faults > MOCK_MAX_FAULTS || cfg->droplets > MOCK_MAX_DROPLETS ||
	    (cfg->n_faults > 0 && cfg->faults == NULL))
		return -EINVAL;
	for (i = 0; i < cfg->n_faults; i++)
		if (fault_validate(&cfg->faults[i]) < 0)
			return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->stall_lock, NULL);
	pthread_cond_init(&m->stall_cond, NULL);
	m->cfg = *cfg;
	r = copy_str(cfg->token != NULL ? cfg->token : DEFAULT_TOKEN, &m->token);
	if (r == 0)
		r = copy_str(cfg->fixture_path, &m->fixture_path);
	if (r == 0)
		r = copy_str(cfg->listen_host != NULL ? cfg->listen_host : "127.0.0.1", &m->listen_host);
	if (r < 0)
		goto fail;
	m->cfg.token = m->token;
	m->cfg.fixture_path = m->fixture_path;
	m->cfg.listen_host = m->listen_host;
	m->n_generate = cfg->droplets != 0 ? cfg->droplets : 3;
	if (cfg->n_faults > 0) {
		m->cfg_faults = calloc(cfg->n_faults, sizeof(*m->cfg_faults));
		if (m->cfg_faults == NULL) {
			r = -ENOMEM;
			goto fail;
		}
		memcpy(m->cfg_faults, cfg->faults, cfg->n_faults * sizeof(*m->cfg_faults));
		m->n_cfg_faults = cfg->n_faults;
	}
	m->cfg.faults = m->cfg_faults;
	memcpy(m->action_ms, cfg->action_ms, sizeof(m->action_ms));
	m->params.time_scale = cfg->time_scale > 0 ? cfg->time_scale : 1.0;
	m->params.action_ms = m->action_ms;
	m->params.after_snapshot = cfg->after_snapshot;
	r = reset_locked(m);
	if (r < 0)
		goto fail;
	r = bind_addr(m->listen_host, cfg->port, &ss, &flags);
	if (r < 0)
		goto fail;
	threads = cfg->threads != 0 ? cfg->threads : 2;
	if (threads > 64)
		threads = 64;
	m->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, m,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, m,
	    MHD_OPTION_THREAD_POOL_SIZE, threads,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
	    MHD_OPTION_END);
	if (m->daemon == NULL) {
		r = -EADDRINUSE;
		goto fail;
	}
	info = MHD_get_daemon_info(m->daemon, MHD_DAEMON_INFO_BIND_PORT);
	if (info == NULL || info->port == 0) {
		r = -EIO;
		goto fail;
	}
	m->port = info->port;
	if (flags & MHD_USE_IPv6)
		snprintf(m->url, sizeof(m->url), "http://[%s]:%u", m->listen_host, m->port);
	else
		snprintf(m->url, sizeof(m->url), "http://%s:%u", m->listen_host, m->port);
	*ret = m;
	return 0;
fail:
	mock_stop(m);
	return r;
}

int
mock_fixture_check(const char *path, char *errbuf, size_t errlen)
{
	struct mstate *st;
	int r;

	r = mstate_load(path, 0, 0, wall_now(), &st, errbuf, errlen);
	mstate_free(r == 0 ? st : NULL);
	return r;
}

void
mock_stop(struct mock *m)
{
	if (m == NULL)
		return;
	/* Let stalled connections go first: MHD cannot stop with them parked. */
	pthread_mutex_lock(&m->stall_lock);
	m->stopping = true;
	pthread_cond_signal(&m->stall_cond);
	pthread_mutex_unlock(&m->stall_lock);
	if (m->stall_thread_started)
		pthread_join(m->stall_thread, NULL);
	if (m->daemon != NULL)
		MHD_stop_daemon(m->daemon);
	mstate_free(m->st);
	bucket_release(&m->rl_token);
	bucket_release(&m->rl_other);
	free(m->log);
	free(m->cfg_faults);
	free(m->token);
	free(m->fixture_path);
	free(m->listen_host);
	pthread_cond_destroy(&m->stall_cond);
	pthread_mutex_destroy(&m->stall_lock);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

uint16_t
mock_port(const struct mock *m)
{
	return m->port;
}

const char *
mock_url(const struct mock *m)
{
	return m->url;
}

const char *
mock_token(const struct mock *m)
{
	return m->token;
}

int
mock_reset(struct mock *m)
{
	int r;

	pthread_mutex_lock(&m->lock);
	r = reset_locked(m);
	pthread_mutex_unlock(&m->lock);
	return r;
}

int
mock_add_fault(struct mock *m, const struct mock_fault *f)
{
	int r;

	pthread_mutex_lock(&m->lock);
	r = add_fault_locked(m, f);
	pthread_mutex_unlock(&m->lock);
	return r;
}

void
mock_clear_faults(struct mock *m)
{
	pthread_mutex_lock(&m->lock);
	m->n_faults = 0;
	pthread_mutex_unlock(&m->lock);
}

void
mock_set_rate_limits(struct mock *m, unsigned per_hour, unsigned per_minute)
{
	pthread_mutex_lock(&m->lock);
	m->cfg.rate_per_hour = per_hour;
	m->cfg.rate_per_minute = per_minute;
	if (limits_init(m) < 0) {
		/* Out of memory for the windows: better no limits than a broken mock. */
		bucket_init(&m->rl_token, MOCK_RATE_UNLIMITED, MOCK_RATE_UNLIMITED);
		bucket_init(&m->rl_other, MOCK_RATE_UNLIMITED, MOCK_RATE_UNLIMITED);
	}
	pthread_mutex_unlock(&m->lock);
}

size_t
mock_request_count(struct mock *m, const char *method, const char *path, int status)
{
	size_t i, n = 0;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->log_n; i++) {
		const struct mock_request *e = log_at(m, i);

		if (method != NULL && method[0] != '\0' && strcmp(method, e->method) != 0)
			continue;
		if (path != NULL && fnmatch(path, e->path, 0) != 0)
			continue;
		if (status != 0 && status != e->status)
			continue;
		n++;
	}
	pthread_mutex_unlock(&m->lock);
	return n;
}

int
mock_request_get(struct mock *m, size_t index, struct mock_request *ret)
{
	int r = -ENOENT;

	pthread_mutex_lock(&m->lock);
	if (index < m->log_n) {
		*ret = *log_at(m, index);
		r = 0;
	}
	pthread_mutex_unlock(&m->lock);
	return r;
}

int
mock_droplet_get(struct mock *m, int64_t id, struct mock_droplet_info *ret)
{
	struct mdroplet *d;
	struct mock_droplet_info info;
	size_t i;
	int r = -ENOENT;

	pthread_mutex_lock(&m->lock);
	advance(m);
	d = mstate_droplet(m->st, id);
	if (d != NULL) {
		memset(&info, 0, sizeof(info));
		info.id = d->id;
		snprintf(info.name, sizeof(info.name), "%s", d->name);
		snprintf(info.status, sizeof(info.status), "%s", mstatus_name(d->status));
		info.misbehaviour = d->misbehaviour;
		info.busy = d->busy_action != 0;
		info.n_actions = d->n_actions;
		for (i = 0; i < m->st->n_images; i++)
			if (m->st->images[i].droplet_id == id)
				info.n_snapshots++;
		for (i = 0; i < m->st->n_volumes; i++)
			if (m->st->volumes[i].droplet_id == id)
				info.n_volumes++;
		*ret = info;
		r = 0;
	}
	pthread_mutex_unlock(&m->lock);
	return r;
}

int
mock_droplet_set_status(struct mock *m, int64_t id, const char *status)
{
	struct mdroplet *d;
	enum mstatus s;
	int r;

	if (status == NULL || mstatus_parse(status, &s) < 0)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	d = mstate_droplet(m->st, id);
	r = d == NULL ? -ENOENT : 0;
	if (d != NULL)
		d->status = s;
	pthread_mutex_unlock(&m->lock);
	return r;
}

int
mock_droplet_set_misbehaviour(struct mock *m, int64_t id, unsigned bits)
{
	struct mdroplet *d;
	int r;

	pthread_mutex_lock(&m->lock);
	d = mstate_droplet(m->st, id);
	r = d == NULL ? -ENOENT : 0;
	if (d != NULL)
		d->misbehaviour = bits;
	pthread_mutex_unlock(&m->lock);
	return r;
}

int
mock_droplet_snapshots(struct mock *m, int64_t id, struct mock_snapshot *ret, size_t max)
{
	size_t i, n = 0;
	int r;

	pthread_mutex_lock(&m->lock);
	advance(m);
	if (mstate_droplet(m->st, id) == NULL) {
		r = -ENOENT;
		goto out;
	}
	for (i = 0; i < m->st->n_images; i++) {
		const struct mimage *img = &m->st->images[i];

		if (img->droplet_id != id)
			continue;
		if (n < max) {
			memset(&ret[n], 0, sizeof(ret[n]));
			ret[n].id = img->id;
			snprintf(ret[n].name, sizeof(ret[n].name), "%s", img->name);
			snprintf(ret[n].type, sizeof(ret[n].type), "%s", img->backup ? "backup" : "snapshot");
			ret[n].created_at = img->created_at;
		}
		n++;
	}
	r = n > INT32_MAX ? INT32_MAX : (int)n;
out:
	pthread_mutex_unlock(&m->lock);
	return r;
}

int
mock_volume_snapshots(struct mock *m, const char *id, struct mock_snapshot *ret, size_t max)
{
	size_t i, n = 0;
	int r;

	pthread_mutex_lock(&m->lock);
	if (id == NULL || mstate_volume(m->st, id) == NULL) {
		r = -ENOENT;
		goto out;
	}
	for (i = 0; i < m->st->n_vsnaps; i++) {
		const struct mvsnap *vs = &m->st->vsnaps[i];

		if (strcmp(vs->volume_id, id) != 0)
			continue;
		if (n < max) {
			memset(&ret[n], 0, sizeof(ret[n]));
			snprintf(ret[n].uuid, sizeof(ret[n].uuid), "%s", vs->id);
			snprintf(ret[n].name, sizeof(ret[n].name), "%s", vs->name);
			snprintf(ret[n].type, sizeof(ret[n].type), "snapshot");
			ret[n].created_at = vs->created_at;
		}
		n++;
	}
	r = n > INT32_MAX ? INT32_MAX : (int)n;
out:
	pthread_mutex_unlock(&m->lock);
	return r;
}

size_t
mock_action_count(struct mock *m, int64_t droplet_id, const char *type, const char *status)
{
	size_t i, n = 0;

	pthread_mutex_lock(&m->lock);
	advance(m);
	for (i = 0; i < m->st->n_actions; i++) {
		const struct maction *a = &m->st->actions[i];

		if (droplet_id != 0 && a->droplet_id != droplet_id)
			continue;
		if (type != NULL && strcmp(type, maction_type_name(a->type)) != 0)
			continue;
		if (status != NULL && strcmp(status, maction_status_name(a->status)) != 0)
			continue;
		n++;
	}
	pthread_mutex_unlock(&m->lock);
	return n;
}
