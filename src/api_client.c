/* api_client: the request queue, the libcurl multi loop, completion, cancelling and draining. */
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api_int.h"
#include "dosnap/util.h"

int64_t
api_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
list_unlink(struct api_client *c, struct req *q)
{
	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		c->head = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	else
		c->tail = q->prev;
	q->next = q->prev = NULL;
}

static void
req_free(struct req *q)
{
	if (q == NULL)
		return;
	api_reply_release(&q->reply);
	free(q->url);
	free(q->post_body);
	free(q->resource_id);
	free(q->snap_name);
	free(q->adopt_url);
	free(q->saved_error);
	free(q->seen);
	q->c->bodies -= q->body.alloc;
	api_buf_release(&q->body);
	free(q);
}

void
api_req_detach(struct req *q)
{
	struct api_client *c = q->c;

	if (q->easy == NULL)
		return;
	api_curl.multi_remove_handle(c->multi, q->easy);
	api_curl.easy_cleanup(q->easy);
	q->easy = NULL;
	c->n_running--;
}

/*
 * Finish Q with R (ERR when failing): move it to the done list, where its
 * callback runs from api_client_run.
 */
void
api_req_complete(struct req *q, int r, const struct api_error *err)
{
	struct api_client *c = q->c;

	api_req_detach(q);
	list_unlink(c, q);
	q->state = RS_DONE;
	q->reply.r = r;
	q->reply.request = q->id;
	if (r < 0) {
		api_reply_release(&q->reply);
		if (err != NULL)
			q->reply.error = *err;
		q->reply.error.attempts = q->total_attempts;
		api_scrub(c, q->reply.error.message, sizeof(q->reply.error.message));
		api_scrub(c, q->reply.error.curl_error, sizeof(q->reply.error.curl_error));
		api_drop_token_tail(c, q->reply.error.curl_error, sizeof(q->reply.error.curl_error));
	}
	q->prev = c->done_tail;
	if (c->done_tail != NULL)
		c->done_tail->next = q;
	else
		c->done_head = q;
	c->done_tail = q;
}

/* "/v2/droplets/42/actions" from a full URL, for messages; a next link's path is the server's, so redacted. */
static void
url_path(const struct api_client *c, const char *url, char *buf, size_t size)
{
	const char *p = strstr(url, "://");

	p = p != NULL ? strchr(p + 3, '/') : url;
	if (p == NULL)
		p = "/";
	api_token_cut(c, p, strcspn(p, "?#"), buf, size);
}

const char *
api_req_method(const struct req *q)
{
	return q->phase == PH_ADOPT ? "GET" : q->method;
}

const char *
api_req_url(const struct req *q)
{
	return q->phase == PH_ADOPT ? q->adopt_url : q->url;
}

void
api_error_init(const struct req *q, struct api_error *err)
{
	memset(err, 0, sizeof(*err));
	snprintf(err->method, sizeof(err->method), "%s", api_req_method(q));
	url_path(q->c, api_req_url(q), err->path, sizeof(err->path));
}

/* Start every queued request that is due, as far as the pacer allows. */
static void
start_due(struct api_client *c, int64_t now)
{
	struct req *q, *next;

	c->pace_until = 0;
	for (q = c->head; q != NULL; q = next) {
		struct api_error err;
		int64_t until;
		int r;

		next = q->next;
		if (q->state != RS_QUEUED || q->due > now)
			continue;
		if (c->n_running >= (size_t)c->max_running)
			break;
		until = api_pacer_wait_until(&c->pacer, c->n_running, now, api_wall_ms());
		if (until > 0) {
			if (until <= q->deadline) {
				c->pace_until = until;
				break;
			}
			api_error_init(q, &err);
			err.transient = true;
			snprintf(err.message, sizeof(err.message),
			    "the API rate limit leaves no room before this request's deadline");
			api_req_complete(q, -EAGAIN, &err);
			continue;
		}
		r = api_req_start(q, now);
		if (r < 0) {
			api_error_init(q, &err);
			snprintf(err.message, sizeof(err.message), "cannot set up the transfer");
			api_req_complete(q, r, &err);
		}
	}
}

/* The delay before attempt number q->attempts + 1: exponential, jittered, at least retry-after. */
static long
backoff_ms(struct req *q)
{
	struct api_client *c = q->c;

	return api_backoff_ms(c->retry_base_ms, c->retry_cap_ms, q->attempts, q->retry_after_s,
	    api_rng_unit(&c->rng));
}

void
api_req_requeue(struct req *q, int64_t now, long delay)
{
	api_req_detach(q);
	q->state = RS_QUEUED;
	q->due = now + delay;
}

/* Retry Q after a backoff if it may; returns whether it did. */
bool
api_maybe_retry(struct req *q, struct api_error *err, int64_t now)
{
	char why[300];
	long delay = backoff_ms(q);

	if (!api_may_retry(q->attempts, q->c->retry_max_attempts, now, delay,
	    q->phase == PH_ADOPT ? q->adopt_deadline : q->deadline))
		return false;
	api_describe_failure(err, why, sizeof(why));
	api_trace_event(q->c, "%s %s: %s, retrying in %.1f s (attempt %d of %d)", err->method,
	    err->path, why, (double)delay / 1000, q->attempts + 1, q->c->retry_max_attempts);
	api_req_requeue(q, now, delay);
	return true;
}

/*
 * The last line of the memory bound.  Each answer is capped, but many
 * requests' results may be alive at once (every flow holds its droplet's
 * snapshots), so before a sizeable answer is decoded, the heap in use is
 * measured: past API_HEAP_MAX, dosnap decodes nothing more and says why
 * (-ENOMEM, exit 71) rather than grow with what a server sends.  One
 * decode adds at most the caps' worth on top.  glibc only; under the
 * sanitizers, whose allocator glibc does not see, this never fires.
 */
static int
heap_check(size_t body_len)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
	struct mallinfo2 mi;

	if (body_len < HEAP_CHECK_BODY)
		return 0;
	mi = mallinfo2();
	if (mi.uordblks + mi.hblkhd > API_HEAP_MAX) {
		snprintf(api_decode_why, sizeof(api_decode_why),
		    "dosnap already holds %zu MiB of memory, over its bound of %u MiB; "
		    "not decoding a %zu-byte answer", (mi.uordblks + mi.hblkhd) >> 20,
		    API_HEAP_MAX >> 20, body_len);
		return -ENOMEM;
	}
#else
	(void)body_len;
#endif
	return 0;
}

/* A 2xx answer: decode it, and finish, or go on to the next page.  <0: the answer was bad. */
static int
main_success(struct req *q, int64_t now)
{
	int r;

	if (q->kind == REQ_DELETE) {
		api_req_complete(q, 0, NULL);
		return 0;
	}
	r = heap_check(q->body.len);
	if (r < 0)
		return r;
	if (q->kind != REQ_LIST) {
		r = api_decode(q->body_kind, q->body.data, q->body.len, &q->reply, NULL);
		if (r < 0)
			return r;
		api_req_complete(q, 0, NULL);
		return 0;
	}

	return api_list_page(q, now);
}

static void
main_done(struct req *q, CURLcode cc, long status, bool sent, int64_t now)
{
	struct api_error err;
	struct api_outcome o;
	int r;

	api_error_init(q, &err);
	err.http_status = status;
	if (cc == CURLE_OK && status >= 200 && status < 300) {
		api_decode_why[0] = '\0';
		r = main_success(q, now);
		if (r == 0)
			return;
		snprintf(err.request_id, sizeof(err.request_id), "%s", q->request_id);
		memset(&o, 0, sizeof(o));
		o.r = r;
		if (r == -EPROTO && api_decode_why[0] == '\0') {
			snprintf(err.message, sizeof(err.message),
			    "the answer is not JSON of the shape the API documents");
			/* A garbled answer to a read may be a glitch; to a POST it may hide a success. */
			o.retry = q->kind == REQ_GET || q->kind == REQ_LIST;
			o.ambiguous = q->kind == REQ_POST_ACTION || q->kind == REQ_POST_VOLSNAP;
		} else if (r == -EFBIG || r == -ELOOP || r == -EPROTO) {
			/* A cap or a loop: asking again would bring the same. */
			o.r = r == -EFBIG ? -EFBIG : -EPROTO;
			snprintf(err.message, sizeof(err.message), "%s",
			    api_decode_why[0] != '\0' ? api_decode_why : "the answer is over a cap");
		} else if (r == -ENOMEM) {
			if (api_decode_why[0] != '\0')
				snprintf(err.message, sizeof(err.message), "%s", api_decode_why);
			else
				snprintf(err.message, sizeof(err.message),
				    "out of memory decoding the answer (%zu bytes)", q->body.len);
		}
	} else {
		api_classify(q, cc, status, sent, &err, &o);
	}

	if (q->kind == REQ_DELETE && o.r == -ENOENT && q->ambiguous_seen) {
		api_trace_event(q->c, "%s %s: gone; the earlier attempt deleted it", err.method, err.path);
		api_req_complete(q, 0, NULL);
		return;
	}
	if (q->kind == REQ_POST_ACTION && status == 422 && q->ambiguous_seen && !q->final_adopt) {
		q->final_adopt = true;
		api_adopt_begin(q, o.r, &err, now, 0);
		return;
	}
	if (o.ambiguous) {
		if (q->kind == REQ_POST_ACTION || q->kind == REQ_POST_VOLSNAP) {
			long delay = backoff_ms(q);

			q->ambiguous_seen = true;
			if (now + delay > q->deadline)
				delay = 0;
			api_adopt_begin(q, o.r, &err, now, delay);
			return;
		}
		q->ambiguous_seen = true;
	}
	if (o.retry && api_maybe_retry(q, &err, now))
		return;
	api_req_complete(q, o.r, &err);
}

/* Collect what libcurl has finished and decide what each finished attempt means. */
static void
process_done(struct api_client *c)
{
	CURLMsg *msg;
	int left;

	while ((msg = api_curl.multi_info_read(c->multi, &left)) != NULL) {
		struct req *q;
		void *priv = NULL;
		long status = 0, request_size = 0;
		int64_t now = clock_mono_ms();
		CURLcode cc;
		CURL *e;

		if (msg->msg != CURLMSG_DONE)
			continue;
		e = msg->easy_handle;
		cc = msg->data.result;
		api_curl.easy_getinfo(e, CURLINFO_PRIVATE, &priv);
		q = priv;
		if (q == NULL)
			continue;
		api_curl.easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
		api_curl.easy_getinfo(e, CURLINFO_REQUEST_SIZE, &request_size);
		api_req_detach(q);
		api_trace_body(c, API_TRACE_DATA_IN, q->body.data, q->body.len);
		if (status > 0)
			api_pacer_note_response(&c->pacer, status, q->rl_remaining, q->rl_reset,
			    q->retry_after_s, now, api_wall_ms());
		if (status == 429)
			c->stat_429++;
		if (q->phase == PH_ADOPT)
			api_adopt_done(q, cc, status, request_size > 0, now);
		else
			main_done(q, cc, status, request_size > 0, now);
	}
}

/* Run the callbacks of finished requests; returns how many ran. */
int
api_fire_done(struct api_client *c)
{
	int fired = 0;

	while (c->done_head != NULL) {
		struct req *q = c->done_head;

		c->done_head = q->next;
		if (c->done_head != NULL)
			c->done_head->prev = NULL;
		else
			c->done_tail = NULL;
		c->n_pending--;
		c->in_callback++;
		q->cb(c, &q->reply, q->userdata);
		c->in_callback--;
		req_free(q);
		fired++;
	}
	return fired;
}

static int64_t
next_due(const struct api_client *c, int64_t now)
{
	const struct req *q;
	int64_t due = -1;

	if (c->done_head != NULL)
		return now;
	for (q = c->head; q != NULL; q = q->next) {
		int64_t t;

		if (q->state != RS_QUEUED)
			continue;
		t = q->due > c->pace_until ? q->due : c->pace_until;
		if (t < now)
			t = now;
		if (due < 0 || t < due)
			due = t;
	}
	return due;
}

int
api_client_run(struct api_client *c, int timeout_ms)
{
	int64_t start = clock_mono_ms();
	int fired = 0;

	if (c == NULL)
		return -EINVAL;
	if (c->in_callback > 0)
		return -EDEADLK;
	for (;;) {
		int64_t now = clock_mono_ms(), due, wait;
		int running;

		fired += api_fire_done(c);
		start_due(c, now);
		if (api_curl.multi_perform(c->multi, &running) != CURLM_OK)
			return -EIO;
		process_done(c);
		fired += api_fire_done(c);
		if (fired > 0) {
			start_due(c, clock_mono_ms());
			return fired;
		}
		if (timeout_ms < 0 && c->n_pending == 0)
			return 0;

		now = clock_mono_ms();
		if (timeout_ms < 0) {
			wait = 60000;
		} else {
			wait = start + timeout_ms - now;
			if (wait <= 0)
				return 0;
		}
		due = next_due(c, now);
		if (due >= 0 && due - now < wait)
			wait = due - now;
		if (wait < 0)
			wait = 0;
		if (api_curl.multi_poll(c->multi, NULL, 0, (int)wait, NULL) != CURLM_OK)
			return -EIO;
	}
}

size_t
api_client_pending(const struct api_client *c)
{
	return c == NULL ? 0 : c->n_pending;
}

void
api_client_stats(const struct api_client *c, struct api_stats *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->ratelimit_remaining = -1;
	if (c == NULL)
		return;
	ret->requests = c->stat_requests;
	ret->retries = c->stat_retries;
	ret->rate_limited = c->stat_429;
	if (c->pacer.have_rl)
		ret->ratelimit_remaining = c->pacer.rl_remaining;
}

long
api_client_next_timeout(const struct api_client *c)
{
	int64_t now = clock_mono_ms(), due;
	long t;

	if (c == NULL || c->n_pending == 0)
		return -1;
	due = next_due(c, now);
	t = due < 0 ? -1 : (long)(due - now);
	if (c->n_running > 0 && (t < 0 || t > 1000))
		t = 1000;
	return t;
}

int
api_client_cancel(struct api_client *c, uint64_t id)
{
	struct api_error err;
	struct req *q;

	if (c == NULL)
		return -EINVAL;
	for (q = c->head; q != NULL; q = q->next) {
		if (q->id != id)
			continue;
		api_error_init(q, &err);
		snprintf(err.message, sizeof(err.message), "cancelled");
		api_req_complete(q, -ECANCELED, &err);
		return 0;
	}
	for (q = c->done_head; q != NULL; q = q->next) {
		if (q->id != id)
			continue;
		if (q->reply.r == 0) {
			api_reply_release(&q->reply);
			q->reply.r = -ECANCELED;
			snprintf(q->reply.error.message, sizeof(q->reply.error.message), "cancelled");
		}
		return 0;
	}
	return -ENOENT;
}

static bool
token_ok(const char *t)
{
	size_t i, n;

	if (t == NULL)
		return false;
	n = strnlen(t, TOKEN_MAX + 1);
	if (n == 0 || n > TOKEN_MAX)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
			return false;
	return true;
}

int
api_client_new(const struct api_config *cfg, struct api_client **ret)
{
	struct api_client *c;
	int r, rate;

	if (cfg == NULL || ret == NULL)
		return -EINVAL;
	if (!token_ok(cfg->token))
		return -EINVAL;
	r = api_curl_load(cfg->libcurl_path);
	if (r < 0)
		return r;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	r = api_parse_base_url(cfg->base_url != NULL ? cfg->base_url : API_DEFAULT_URL,
	    &c->http_ok, &c->base);
	if (r < 0)
		goto fail;
	r = -ENOMEM;
	c->token = strdup(cfg->token);
	if (c->token == NULL)
		goto fail;
	c->token_len = strlen(c->token);
	c->auth_header = str_printf("Authorization: Bearer %s", c->token);
	if (c->auth_header == NULL)
		goto fail;
	c->hdr_get = api_headers_new(c->auth_header, false);
	c->hdr_post = api_headers_new(c->auth_header, true);
	if (c->hdr_get == NULL || c->hdr_post == NULL)
		goto fail;
	if (cfg->cacert != NULL) {
		c->cacert = strdup(cfg->cacert);
		if (c->cacert == NULL)
			goto fail;
	}

	c->connect_timeout_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 10000;
	c->request_timeout_ms = cfg->request_timeout_ms > 0 ? cfg->request_timeout_ms : 60000;
	c->low_speed_time_s = cfg->low_speed_time_s > 0 ? cfg->low_speed_time_s : 20;
	c->max_connections = cfg->max_connections > 0 ? cfg->max_connections : 8;
	/* Over https, HTTP/2 carries many streams on one connection. */
	c->max_running = c->max_connections * (c->http_ok ? 1 : 16);
	c->max_body = cfg->max_body_bytes > 0 ? cfg->max_body_bytes : API_BODY_MAX_DEFAULT;
	c->retry_max_attempts = cfg->retry_max_attempts > 0 ? cfg->retry_max_attempts : 5;
	c->retry_max_total_ms = cfg->retry_max_total_ms > 0 ? cfg->retry_max_total_ms : 300000;
	c->retry_base_ms = cfg->retry_base_ms > 0 ? cfg->retry_base_ms : 1000;
	c->retry_cap_ms = cfg->retry_cap_ms > 0 ? cfg->retry_cap_ms : 30000;
	c->adopt_slack_s = cfg->adopt_slack_s > 0 ? cfg->adopt_slack_s :
	    cfg->adopt_slack_s == 0 ? 60 : 0;
	rate = cfg->rate_per_minute > 0 ? cfg->rate_per_minute : cfg->rate_per_minute == 0 ? 240 : 0;
	if (rate > 100000)
		rate = 100000;
	c->trace = cfg->trace;
	c->trace_userdata = cfg->trace_userdata;
	c->trace_bodies = cfg->trace_bodies;
	c->rng = (uint64_t)api_wall_ms() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)c;
	if (c->rng == 0)
		c->rng = 0x9e3779b97f4a7c15ULL;
	c->next_id = 1;
	if (api_pacer_init(&c->pacer, rate, cfg->rate_window_ms > 0 ? cfg->rate_window_ms : 60000,
	    cfg->rate_reserve > 0 ? cfg->rate_reserve : cfg->rate_reserve == 0 ? 5 : 0) < 0)
		goto fail;

	c->multi = api_curl.multi_init();
	if (c->multi == NULL)
		goto fail;
	api_curl.multi_setopt(c->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	api_curl.multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)c->max_connections);
	api_curl.multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)c->max_connections);
	*ret = c;
	return 0;

fail:
	api_client_free(c);
	return r;
}

void
api_client_free(struct api_client *c)
{
	struct api_error err;

	if (c == NULL)
		return;
	c->closing = true;
	while (c->head != NULL) {
		api_error_init(c->head, &err);
		snprintf(err.message, sizeof(err.message), "cancelled: the client is closing");
		api_req_complete(c->head, -ECANCELED, &err);
	}
	api_fire_done(c);
	if (c->multi != NULL)
		api_curl.multi_cleanup(c->multi);
	api_slist_wipe_free(c->hdr_get);
	api_slist_wipe_free(c->hdr_post);
	if (c->auth_header != NULL) {
		wipe_secret(c->auth_header, strlen(c->auth_header));
		free(c->auth_header);
	}
	if (c->token != NULL) {
		wipe_secret(c->token, c->token_len);
		free(c->token);
	}
	free(c->base);
	free(c->cacert);
	api_pacer_release(&c->pacer);
	free(c);
}
