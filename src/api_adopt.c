/* api_adopt: learning whether an ambiguous POST went through, and adopting what it did. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "dosnap/util.h"

void
api_adopt_begin(struct req *q, int r, const struct api_error *err, int64_t now, long delay)
{
	struct api_client *c = q->c;
	char *url;

	if (q->kind == REQ_POST_ACTION)
		url = str_printf("%s/v2/droplets/%lld/actions?per_page=%d", c->base,
		    (long long)q->droplet_id, API_PER_PAGE);
	else
		url = str_printf("%s/v2/volumes/%s/snapshots?per_page=%d", c->base,
		    q->resource_id, API_PER_PAGE);
	q->saved_r = r;
	free(q->saved_error);
	q->saved_error = malloc(sizeof(*q->saved_error));
	if (url == NULL || q->saved_error == NULL) {
		struct api_error e = *err;

		e.ambiguous = true;
		free(url);
		api_req_complete(q, r, &e);
		return;
	}
	*q->saved_error = *err;
	q->saved_error->ambiguous = true;
	free(q->adopt_url);
	q->adopt_url = url;
	q->adopt_pages = 0;
	q->main_attempts = q->attempts;
	q->attempts = 0;
	q->phase = PH_ADOPT;
	q->adopt_deadline = now + delay + c->retry_max_total_ms;
	{
		char why[384];

		api_describe_failure(err, why, sizeof(why));
		api_trace_event(c, "%s %s: %s; checking whether it took effect before sending it again",
		    err->method, err->path, why);
	}
	api_req_requeue(q, now, delay);
}

/* Look in one page of the adoption listing; 1 when found and adopted. */
static int
adopt_search(struct req *q, struct api_reply *page)
{
	int64_t since = q->first_sent_wall;
	size_t i;

	if (q->c->adopt_slack_s > 0)
		since -= q->c->adopt_slack_s;
	if (q->kind == REQ_POST_ACTION && page->actions != NULL) {
		const struct api_action *best = NULL;

		for (i = 0; i < page->actions->n; i++) {
			const struct api_action *a = &page->actions->items[i];

			if (strcmp(a->type, q->action_type) != 0 || a->started_at < since ||
			    a->started_at == 0)
				continue;
			if (a->resource_id != 0 && a->resource_id != q->droplet_id)
				continue;
			if (best == NULL || a->started_at > best->started_at ||
			    (a->started_at == best->started_at && a->id > best->id))
				best = a;
		}
		if (best == NULL)
			return 0;
		q->reply.action = malloc(sizeof(*q->reply.action));
		if (q->reply.action == NULL)
			return -ENOMEM;
		*q->reply.action = *best;
		return 1;
	}
	if (q->kind == REQ_POST_VOLSNAP && page->snapshots != NULL) {
		for (i = 0; i < page->snapshots->n; i++) {
			struct api_snapshot *s = &page->snapshots->items[i];

			if (s->name == NULL || strcmp(s->name, q->snap_name) != 0)
				continue;
			q->reply.snapshot = malloc(sizeof(*q->reply.snapshot));
			if (q->reply.snapshot == NULL)
				return -ENOMEM;
			/* Move the item out; the page's list frees an empty shell. */
			*q->reply.snapshot = *s;
			memset(s, 0, sizeof(*s));
			return 1;
		}
	}
	return 0;
}

void
api_adopt_done(struct req *q, CURLcode cc, long status, bool sent, int64_t now)
{
	struct api_client *c = q->c;
	struct api_reply page = { 0 };
	struct api_error err;
	struct api_outcome o;
	char *next = NULL, *url = NULL;
	int r;

	api_error_init(q, &err);
	err.http_status = status;
	if (cc != CURLE_OK || status < 200 || status >= 300) {
		api_classify(q, cc, status, sent, &err, &o);
		if (o.retry && api_maybe_retry(q, &err, now))
			return;
		api_req_complete(q, q->saved_r, q->saved_error);
		return;
	}
	r = api_decode(q->kind == REQ_POST_ACTION ? API_BODY_ACTIONS : API_BODY_SNAPSHOTS,
	    q->body.data, q->body.len, &page, &next);
	if (r == -ENOMEM) {
		snprintf(q->saved_error->message, sizeof(q->saved_error->message),
		    "out of memory decoding the answer (%zu bytes)", q->body.len);
		api_req_complete(q, r, q->saved_error);
		return;
	}
	if (r < 0) {
		snprintf(err.message, sizeof(err.message), "the answer is not valid JSON of the expected shape");
		if (api_maybe_retry(q, &err, now))
			return;
		api_req_complete(q, q->saved_r, q->saved_error);
		return;
	}
	r = adopt_search(q, &page);
	api_reply_release(&page);
	if (r < 0) {
		free(next);
		api_req_complete(q, r, q->saved_error);
		return;
	}
	if (r > 0) {
		free(next);
		q->reply.adopted = true;
		api_trace_event(c, "%s %s: found what the failed request did; adopted, not sent again",
		    q->saved_error->method, q->saved_error->path);
		api_req_complete(q, 0, NULL);
		return;
	}
	if (next != NULL && ++q->adopt_pages < ADOPT_PAGES_MAX &&
	    api_next_url(c, next, q->adopt_url, &url) == 0) {
		free(next);
		free(q->adopt_url);
		q->adopt_url = url;
		q->attempts = 0;
		api_req_requeue(q, now, 0);
		return;
	}
	free(next);

	/* Not there: the failed request did nothing, so sending it again is safe. */
	q->saved_error->ambiguous = false;
	q->phase = PH_MAIN;
	q->attempts = q->main_attempts;
	if (q->final_adopt || q->attempts >= c->retry_max_attempts || now > q->deadline) {
		api_req_complete(q, q->saved_r, q->saved_error);
		return;
	}
	api_trace_event(c, "%s %s: it did not take effect; sending it again (attempt %d of %d)",
	    q->saved_error->method, q->saved_error->path, q->attempts + 1, c->retry_max_attempts);
	api_req_requeue(q, now, 0);
}
