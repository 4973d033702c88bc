/* server: the mock's libmicrohttpd plumbing: each request's way through faults, auth, rate limit and routes; start and stop. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "fault.h"
#include "mock.h"
#include "query.h"
#include "reply.h"
#include "routes.h"
#include "server.h"
#include "state.h"

#define DEFAULT_TOKEN		"mock-token"
#define DEFAULT_STALL_MS	30000

/* Per-connection state: the request body so far, and whether it was stalled. */
struct conn {
	char *body;
	size_t len;
	bool too_big;
	bool stalled;
};

/* --- time ---------------------------------------------------------------- */

static double
ts_diff(const struct timespec *a, const struct timespec *b)
{
	return (double)(a->tv_sec - b->tv_sec) + (double)(a->tv_nsec - b->tv_nsec) / 1e9;
}

double
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

void
mock_advance_locked(struct mock *m)
{
	mstate_advance(m->st, &m->params, mock_now(m), wall_now());
}

/* --- request ids ----------------------------------------------------------- */

static void
make_request_id(struct mock *m, char out[37])
{
	uint64_t a = ++m->request_seq, b = (a + m->cfg.seed) * 0x9e3779b97f4a7c15ull;

	snprintf(out, 37, "%08" PRIx32 "-%04" PRIx32 "-4%03" PRIx32 "-8%03" PRIx32 "-%012" PRIx64,
	    (uint32_t)(b >> 32), (uint32_t)(b >> 16) & 0xffff, (uint32_t)b & 0xfff,
	    (uint32_t)(a >> 48) & 0xfff, (uint64_t)(a & 0xffffffffffffull));
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
		bucket_headers(b, now, wall_now(), m->params.time_scale, &limit, &remaining, &reset);
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
	if (rp->allow[0] != '\0')
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
	query_all(c, &query);
	pthread_mutex_lock(&m->lock);
	q.now = mock_now(m);
	q.wall = wall_now();
	mstate_advance(m->st, &m->params, q.now, q.wall);
	if (strncmp(url, "/__mock/", 8) == 0) {
		r = route_request(&q, &rp, true);
		goto send;
	}
	rp.v2 = true;
	fr = fault_pick(m->faults, m->n_faults, method, url, &m->rng);
	if (fr != NULL) {
		fk = fr->f.kind;
		switch (fk) {
		case MOCK_FAULT_RESET:
			mock_log_request(m, method, url, query.s, 0, "reset", q.wall);
			pthread_mutex_unlock(&m->lock);
			return MHD_NO;
		case MOCK_FAULT_STALL:
			mock_log_request(m, method, url, query.s, 0, "stall", q.wall);
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
	switch (bucket_take(b, q.now, m->params.time_scale, &rp.retry_after)) {
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
	r = route_request(&q, &rp, false);
send:
	if (r < 0) {
		free(rp.body);
		rp.body = NULL;
		rp.retry_after = 0;
		rp.allow[0] = '\0';
		r = reply_error(&rp, 500, "server_error", "Unexpected server-side error");
		if (r < 0) {
			pthread_mutex_unlock(&m->lock);
			return MHD_NO;
		}
	}
	make_request_id(m, rid);
	reply_fill_request_id(&rp, rid);
	status = rp.status;
	if (rp.v2) {
		const char *fname = fr != NULL ? mock_fault_kind_name(fk) : NULL;

		mock_log_request(m, method, url, query.s,
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

/* --- lifecycle and settings -------------------------------------------------- */

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

int
mock_add_fault_locked(struct mock *m, const struct mock_fault *f)
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
int
mock_reset_locked(struct mock *m)
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
		mock_add_fault_locked(m, &m->cfg_faults[i]);
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
	r = mock_reset_locked(m);
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
	r = mock_reset_locked(m);
	pthread_mutex_unlock(&m->lock);
	return r;
}

int
mock_add_fault(struct mock *m, const struct mock_fault *f)
{
	int r;

	pthread_mutex_lock(&m->lock);
	r = mock_add_fault_locked(m, f);
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
