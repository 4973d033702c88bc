/* api: the DigitalOcean API's public operations: the async calls, request submission, the blocking wrappers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "dosnap/util.h"

/*
 * Queue a request for PATH (with its query, under the base URL).  PATH and
 * POST_BODY are taken over, also on failure.  The new request is returned
 * in *ret_q for the caller to finish setting up; it does not start before
 * the next api_client_run.
 */
/* --- operations ---------------------------------------------------------- */

static int
submit(struct api_client *c, enum req_kind kind, enum api_body_kind body_kind,
    const char *method, char *path, char *post_body, api_reply_fn cb, void *userdata,
    uint64_t *ret_id, struct req **ret_q)
{
	struct req *q;
	int64_t now = clock_mono_ms();

	if (c == NULL || cb == NULL || c->closing) {
		free(path);
		free(post_body);
		return c != NULL && c->closing ? -ECANCELED : -EINVAL;
	}
	if (path == NULL || (strcmp(method, "POST") == 0 && post_body == NULL)) {
		free(path);
		free(post_body);
		return -ENOMEM;
	}
	q = calloc(1, sizeof(*q));
	if (q == NULL) {
		free(path);
		free(post_body);
		return -ENOMEM;
	}
	if (kind == REQ_LIST)
		q->url = str_printf("%s%s%sper_page=%d", c->base, path,
		    strchr(path, '?') != NULL ? "&" : "?", API_PER_PAGE);
	else
		q->url = str_printf("%s%s", c->base, path);
	free(path);
	if (q->url == NULL) {
		free(post_body);
		free(q);
		return -ENOMEM;
	}
	q->c = c;
	q->id = c->next_id++;
	q->cb = cb;
	q->userdata = userdata;
	q->kind = kind;
	q->body_kind = body_kind;
	q->method = method;
	q->post_body = post_body;
	q->state = RS_QUEUED;
	q->due = now;
	q->deadline = now + c->retry_max_total_ms;
	q->retry_after_s = -1;
	q->rl_remaining = -1;
	q->prev = c->tail;
	if (c->tail != NULL)
		c->tail->next = q;
	else
		c->head = q;
	c->tail = q;
	c->n_pending++;
	if (ret_id != NULL)
		*ret_id = q->id;
	if (ret_q != NULL)
		*ret_q = q;
	return 0;
}

static char *
escaped_path(const char *fmt_prefix, const char *id, const char *suffix)
{
	char *e, *p;

	if (id == NULL || id[0] == '\0' || strnlen(id, 257) > 256)
		return NULL;
	e = api_url_escape(id);
	if (e == NULL)
		return NULL;
	p = str_printf("%s%s%s", fmt_prefix, e, suffix);
	free(e);
	return p;
}

static bool
action_type_ok(const char *type)
{
	size_t i, n;

	if (type == NULL)
		return false;
	n = strnlen(type, 32);
	if (n == 0 || n >= 32)
		return false;
	for (i = 0; i < n; i++)
		if (!((type[i] >= 'a' && type[i] <= 'z') || type[i] == '_'))
			return false;
	return true;
}

static bool
name_ok(const char *name)
{
	return name != NULL && name[0] != '\0' && strnlen(name, 256) < 256;
}

int
api_get_account_async(struct api_client *c, api_reply_fn cb, void *userdata, uint64_t *ret_id)
{
	return submit(c, REQ_GET, API_BODY_ACCOUNT, "GET", strdup("/v2/account"), NULL, cb,
	    userdata, ret_id, NULL);
}

int
api_list_droplets_async(struct api_client *c, const char *tag, const char *name,
    api_reply_fn cb, void *userdata, uint64_t *ret_id)
{
	char *path;

	if (tag != NULL && name != NULL)
		return -EINVAL;
	if (tag != NULL)
		path = escaped_path("/v2/droplets?tag_name=", tag, "");
	else if (name != NULL)
		path = escaped_path("/v2/droplets?name=", name, "");
	else
		path = strdup("/v2/droplets");
	if (path == NULL && (tag != NULL || name != NULL))
		return -EINVAL;
	return submit(c, REQ_LIST, API_BODY_DROPLETS, "GET", path, NULL, cb, userdata, ret_id,
	    NULL);
}

int
api_get_droplet_async(struct api_client *c, int64_t id, api_reply_fn cb, void *userdata,
    uint64_t *ret_id)
{
	if (id <= 0)
		return -EINVAL;
	return submit(c, REQ_GET, API_BODY_DROPLET, "GET",
	    str_printf("/v2/droplets/%lld", (long long)id), NULL, cb, userdata, ret_id, NULL);
}

int
api_post_droplet_action_async(struct api_client *c, int64_t id, const char *type,
    const char *name, api_reply_fn cb, void *userdata, uint64_t *ret_id)
{
	struct req *q;
	int r;

	if (id <= 0 || !action_type_ok(type) || (name != NULL && !name_ok(name)))
		return -EINVAL;
	if (name != NULL && strcmp(type, "snapshot") != 0)
		return -EINVAL;
	r = submit(c, REQ_POST_ACTION, API_BODY_ACTION, "POST",
	    str_printf("/v2/droplets/%lld/actions", (long long)id), api_json_action_body(type, name),
	    cb, userdata, ret_id, &q);
	if (r < 0)
		return r;
	q->droplet_id = id;
	snprintf(q->action_type, sizeof(q->action_type), "%s", type);
	return 0;
}

int
api_get_action_async(struct api_client *c, int64_t action_id, api_reply_fn cb,
    void *userdata, uint64_t *ret_id)
{
	if (action_id <= 0)
		return -EINVAL;
	return submit(c, REQ_GET, API_BODY_ACTION, "GET",
	    str_printf("/v2/actions/%lld", (long long)action_id), NULL, cb, userdata, ret_id,
	    NULL);
}

int
api_get_droplet_action_async(struct api_client *c, int64_t id, int64_t action_id,
    api_reply_fn cb, void *userdata, uint64_t *ret_id)
{
	if (id <= 0 || action_id <= 0)
		return -EINVAL;
	return submit(c, REQ_GET, API_BODY_ACTION, "GET",
	    str_printf("/v2/droplets/%lld/actions/%lld", (long long)id, (long long)action_id),
	    NULL, cb, userdata, ret_id, NULL);
}

int
api_list_droplet_actions_async(struct api_client *c, int64_t id, size_t max_items,
    api_reply_fn cb, void *userdata, uint64_t *ret_id)
{
	struct req *q;
	int r;

	if (id <= 0)
		return -EINVAL;
	r = submit(c, REQ_LIST, API_BODY_ACTIONS, "GET",
	    str_printf("/v2/droplets/%lld/actions", (long long)id), NULL, cb, userdata, ret_id,
	    &q);
	if (r == 0)
		q->max_items = max_items;
	return r;
}

int
api_list_actions_async(struct api_client *c, size_t max_items, api_reply_fn cb,
    void *userdata, uint64_t *ret_id)
{
	struct req *q;
	int r;

	r = submit(c, REQ_LIST, API_BODY_ACTIONS, "GET", strdup("/v2/actions"), NULL, cb,
	    userdata, ret_id, &q);
	if (r == 0)
		q->max_items = max_items;
	return r;
}

int
api_list_droplet_snapshots_async(struct api_client *c, int64_t id, api_reply_fn cb,
    void *userdata, uint64_t *ret_id)
{
	struct req *q;
	int r;

	if (id <= 0)
		return -EINVAL;
	r = submit(c, REQ_LIST, API_BODY_DROPLET_SNAPSHOTS, "GET",
	    str_printf("/v2/droplets/%lld/snapshots", (long long)id), NULL, cb, userdata,
	    ret_id, &q);
	if (r < 0)
		return r;
	q->resource_id = str_printf("%lld", (long long)id);
	if (q->resource_id == NULL) {
		/* Queued already; let it fail through the normal path. */
		api_req_complete(q, -ENOMEM, NULL);
	}
	return 0;
}

int
api_list_snapshots_async(struct api_client *c, const char *resource_type, api_reply_fn cb,
    void *userdata, uint64_t *ret_id)
{
	char *path;

	if (resource_type != NULL && strcmp(resource_type, "droplet") != 0 &&
	    strcmp(resource_type, "volume") != 0)
		return -EINVAL;
	if (resource_type != NULL)
		path = str_printf("/v2/snapshots?resource_type=%s", resource_type);
	else
		path = strdup("/v2/snapshots");
	return submit(c, REQ_LIST, API_BODY_SNAPSHOTS, "GET", path, NULL, cb, userdata, ret_id,
	    NULL);
}

int
api_delete_snapshot_async(struct api_client *c, const char *id, api_reply_fn cb,
    void *userdata, uint64_t *ret_id)
{
	char *path = escaped_path("/v2/snapshots/", id, "");

	if (path == NULL)
		return -EINVAL;
	return submit(c, REQ_DELETE, API_BODY_ERROR, "DELETE", path, NULL, cb, userdata, ret_id,
	    NULL);
}

int
api_get_volume_async(struct api_client *c, const char *id, api_reply_fn cb, void *userdata,
    uint64_t *ret_id)
{
	char *path = escaped_path("/v2/volumes/", id, "");

	if (path == NULL)
		return -EINVAL;
	return submit(c, REQ_GET, API_BODY_VOLUME, "GET", path, NULL, cb, userdata, ret_id, NULL);
}

/*
 * gcc 12's -fanalyzer loses Q once submit has put it on the client's list,
 * and calls what is stored in it leaked; req_free frees it with Q.
 */
ANALYZER_QUIET("-Wanalyzer-malloc-leak")
int
api_create_volume_snapshot_async(struct api_client *c, const char *id, const char *name,
    api_reply_fn cb, void *userdata, uint64_t *ret_id)
{
	struct req *q;
	char *path;
	int r;

	if (!name_ok(name))
		return -EINVAL;
	path = escaped_path("/v2/volumes/", id, "/snapshots");
	if (path == NULL)
		return -EINVAL;
	r = submit(c, REQ_POST_VOLSNAP, API_BODY_SNAPSHOT, "POST", path,
	    api_json_action_body(NULL, name), cb, userdata, ret_id, &q);
	if (r < 0)
		return r;
	q->resource_id = api_url_escape(id);
	q->snap_name = strdup(name);
	if (q->resource_id == NULL || q->snap_name == NULL)
		api_req_complete(q, -ENOMEM, NULL);
	return 0;
}
ANALYZER_LOUD

int
api_list_volume_snapshots_async(struct api_client *c, const char *id, api_reply_fn cb,
    void *userdata, uint64_t *ret_id)
{
	char *path = escaped_path("/v2/volumes/", id, "/snapshots");

	if (path == NULL)
		return -EINVAL;
	return submit(c, REQ_LIST, API_BODY_SNAPSHOTS, "GET", path, NULL, cb, userdata, ret_id,
	    NULL);
}

int
api_delete_volume_snapshot_async(struct api_client *c, const char *id, api_reply_fn cb,
    void *userdata, uint64_t *ret_id)
{
	char *path = escaped_path("/v2/volumes/snapshots/", id, "");

	if (path == NULL)
		return -EINVAL;
	return submit(c, REQ_DELETE, API_BODY_ERROR, "DELETE", path, NULL, cb, userdata, ret_id,
	    NULL);
}

/* --- blocking wrappers ----------------------------------------------------- */

struct waiter {
	bool done;
	struct api_reply reply;
};


static void
wait_cb(struct api_client *c, struct api_reply *reply, void *userdata)
{
	struct waiter *w = userdata;

	(void)c;
	/* Take everything: the waiter owns the objects now. */
	api_reply_move(&w->reply, reply);
	w->done = true;
}

static int
blocking_ok(const struct api_client *c)
{
	if (c == NULL)
		return -EINVAL;
	if (c->in_callback > 0)
		return -EDEADLK;
	return 0;
}

/* Run the loop until W is done; R is what queueing returned. */
static int
wait_for(struct api_client *c, int r, uint64_t id, struct waiter *w, struct api_error *err)
{
	if (r < 0) {
		if (err != NULL) {
			memset(err, 0, sizeof(*err));
			snprintf(err->message, sizeof(err->message), "cannot make the request: %s",
			    strerror(-r));
		}
		return r;
	}
	while (!w->done) {
		r = api_client_run(c, -1);
		if (r < 0) {
			api_client_cancel(c, id);
			api_fire_done(c);
		}
	}
	if (w->reply.r < 0 && err != NULL)
		*err = w->reply.error;
	return w->reply.r;
}

#define BLOCKING(call, field, out)						\
	do {									\
		struct waiter w_ = { 0 };					\
		uint64_t id_ = 0;						\
		int r_;								\
									\
		r_ = blocking_ok(c);						\
		if (r_ < 0)							\
			return r_;						\
		r_ = (call);							\
		r_ = wait_for(c, r_, id_, &w_, err);				\
		if (r_ == 0) {							\
			*(out) = w_.reply.field;				\
			w_.reply.field = NULL;					\
		}								\
		api_reply_release(&w_.reply);					\
		return r_;							\
	} while (0)


int
api_list_droplets(struct api_client *c, const char *tag, const char *name,
    struct api_droplet_list **ret, struct api_error *err)
{
	if (ret == NULL)
		return -EINVAL;
	BLOCKING(api_list_droplets_async(c, tag, name, wait_cb, &w_, &id_), droplets, ret);
}

int
api_get_droplet(struct api_client *c, int64_t id, struct api_droplet **ret,
    struct api_error *err)
{
	if (ret == NULL)
		return -EINVAL;
	BLOCKING(api_get_droplet_async(c, id, wait_cb, &w_, &id_), droplet, ret);
}

int
api_post_droplet_action(struct api_client *c, int64_t id, const char *type, const char *name,
    struct api_action **ret, bool *ret_adopted, struct api_error *err)
{
	struct waiter w = { 0 };
	uint64_t qid = 0;
	int r;

	if (ret == NULL)
		return -EINVAL;
	r = blocking_ok(c);
	if (r < 0)
		return r;
	r = api_post_droplet_action_async(c, id, type, name, wait_cb, &w, &qid);
	r = wait_for(c, r, qid, &w, err);
	if (r == 0) {
		*ret = w.reply.action;
		w.reply.action = NULL;
		if (ret_adopted != NULL)
			*ret_adopted = w.reply.adopted;
	}
	api_reply_release(&w.reply);
	return r;
}

int
api_get_action(struct api_client *c, int64_t action_id, struct api_action **ret,
    struct api_error *err)
{
	if (ret == NULL)
		return -EINVAL;
	BLOCKING(api_get_action_async(c, action_id, wait_cb, &w_, &id_), action, ret);
}

int
api_list_droplet_actions(struct api_client *c, int64_t id, size_t max_items,
    struct api_action_list **ret, struct api_error *err)
{
	if (ret == NULL)
		return -EINVAL;
	BLOCKING(api_list_droplet_actions_async(c, id, max_items, wait_cb, &w_, &id_), actions,
	    ret);
}

int
api_list_snapshots(struct api_client *c, const char *resource_type,
    struct api_snapshot_list **ret, struct api_error *err)
{
	if (ret == NULL)
		return -EINVAL;
	BLOCKING(api_list_snapshots_async(c, resource_type, wait_cb, &w_, &id_), snapshots, ret);
}

const char *
api_error_format(const struct api_error *err, char *buf, size_t size)
{
	char status[96] = "", rid[160] = "";
	const char *what;

	if (buf == NULL || size == 0)
		return buf;
	if (err == NULL) {
		snprintf(buf, size, "unknown error");
		return buf;
	}
	if (err->http_status > 0)
		snprintf(status, sizeof(status), "HTTP %ld%s%s", err->http_status,
		    err->id[0] != '\0' ? " " : "", err->id);
	if (err->request_id[0] != '\0')
		snprintf(rid, sizeof(rid), " (request_id %s)", err->request_id);
	what = err->message[0] != '\0' ? err->message : err->curl_error;
	snprintf(buf, size, "%s%s%s%s%s%s%s%s", err->method, err->method[0] != '\0' ? " " : "",
	    err->path, err->path[0] != '\0' ? ": " : "", status,
	    status[0] != '\0' && what[0] != '\0' ? ": " : "", what, rid);
	if (err->http_status > 0 && err->curl_error[0] != '\0' && err->message[0] != '\0') {
		size_t n = strlen(buf);

		snprintf(buf + n, size - n, " [%s]", err->curl_error);
	}
	return buf;
}
