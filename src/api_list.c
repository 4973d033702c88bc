/* api_list: listings: following next links, appending pages, and their caps on items, bytes, pages and loops. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "dosnap/util.h"

/*
 * Move ADD's items to the end of *ITEMS (N of them, room for *ALLOC,
 * ITEM_SIZE bytes each).
 */
static int
append_items(void **items, size_t *n, size_t *alloc, const void *add, size_t add_n,
    size_t item_size)
{
	int r;

	if (add_n == 0)
		return 0;
	if (*n + add_n > API_LIST_MAX) {
		snprintf(api_decode_why, sizeof(api_decode_why), "the listing has more than %d items",
		    API_LIST_MAX);
		return -EFBIG;
	}
	r = grow_array(items, alloc, *n + add_n, item_size, API_LIST_MAX);
	if (r < 0)
		return r;
	memcpy((unsigned char *)*items + *n * item_size, add, add_n * item_size);
	*n += add_n;
	return 0;
}

/* Append a decoded page to Q's reply; the page's items move, its shell is freed. */
static int
list_append(struct req *q, struct api_reply *page)
{
	struct api_reply *acc = &q->reply;
	int r = 0;

#define APPEND(field, type, release_fn)						\
	do {									\
		if (page->field == NULL)					\
			break;							\
		if (acc->field == NULL) {					\
			acc->field = page->field;				\
			page->field = NULL;					\
			q->items_alloc = acc->field->n;				\
			break;							\
		}								\
		r = append_items((void **)&acc->field->items, &acc->field->n,	\
		    &q->items_alloc, page->field->items, page->field->n,	\
		    sizeof(type));						\
		if (r == 0) {							\
			free(page->field->items);				\
			page->field->items = NULL;				\
			page->field->n = 0;					\
		}								\
		release_fn(page->field);					\
		page->field = NULL;						\
	} while (0)

	APPEND(droplets, struct api_droplet, api_droplet_list_free);
	APPEND(actions, struct api_action, api_action_list_free);
	APPEND(snapshots, struct api_snapshot, api_snapshot_list_free);
	APPEND(volumes, struct api_volume, api_volume_list_free);
#undef APPEND
	return r;
}

static size_t
list_count(const struct api_reply *reply)
{
	if (reply->droplets != NULL)
		return reply->droplets->n;
	if (reply->actions != NULL)
		return reply->actions->n;
	if (reply->snapshots != NULL)
		return reply->snapshots->n;
	if (reply->volumes != NULL)
		return reply->volumes->n;
	return 0;
}

/* Cut a listing to MAX items. */
static void
list_truncate(struct api_reply *reply, size_t max)
{
	size_t i;

	if (reply->droplets != NULL && reply->droplets->n > max) {
		for (i = max; i < reply->droplets->n; i++)
			api_droplet_release(&reply->droplets->items[i]);
		reply->droplets->n = max;
	}
	if (reply->actions != NULL && reply->actions->n > max)
		reply->actions->n = max;
	if (reply->snapshots != NULL && reply->snapshots->n > max) {
		for (i = max; i < reply->snapshots->n; i++)
			api_snapshot_release(&reply->snapshots->items[i]);
		reply->snapshots->n = max;
	}
	if (reply->volumes != NULL && reply->volumes->n > max) {
		for (i = max; i < reply->volumes->n; i++)
			api_volume_release(&reply->volumes->items[i]);
		reply->volumes->n = max;
	}
}

/*
 * Give snapshots that came without a resource_id the one the request named.
 * gcc 12's -fanalyzer loses a pointer stored at a variable index of a heap
 * array and calls it leaked; api_snapshot_list_free frees every one.
 */
ANALYZER_QUIET("-Wanalyzer-malloc-leak")
static int
fill_resource_ids(struct req *q)
{
	size_t i;

	if (q->resource_id == NULL || q->reply.snapshots == NULL)
		return 0;
	for (i = 0; i < q->reply.snapshots->n; i++) {
		struct api_snapshot *s = &q->reply.snapshots->items[i];

		if (s->resource_id != NULL)
			continue;
		s->resource_id = strdup(q->resource_id);
		if (s->resource_id == NULL)
			return -ENOMEM;
	}
	return 0;
}
ANALYZER_LOUD

/* What malloc really spends on N bytes: a header, 16-byte steps, 32 at least. */
static size_t
alloc_bytes(size_t n)
{
	n = (n + 8 + 15) & ~(size_t)15;
	return n < 32 ? 32 : n;
}

static size_t
str_bytes(const char *s)
{
	return s != NULL ? alloc_bytes(strlen(s) + 1) : 0;
}

static size_t
strv_bytes(char *const *v, size_t n)
{
	size_t b = n > 0 ? alloc_bytes(n * sizeof(*v)) : 0, i;

	for (i = 0; i < n; i++)
		b += str_bytes(v[i]);
	return b;
}

/* What the items of a decoded page hold, in bytes: the measure of API_LIST_BYTES_MAX. */
static size_t
page_bytes(const struct api_reply *p)
{
	size_t b = 0, i;

	if (p->droplets != NULL) {
		for (i = 0; i < p->droplets->n; i++) {
			const struct api_droplet *d = &p->droplets->items[i];

			b += sizeof(*d) + str_bytes(d->name) + str_bytes(d->region) +
			    strv_bytes(d->tags, d->n_tags) +
			    strv_bytes(d->volume_ids, d->n_volume_ids);
		}
	}
	if (p->actions != NULL)
		b += p->actions->n * sizeof(struct api_action);
	if (p->snapshots != NULL) {
		for (i = 0; i < p->snapshots->n; i++) {
			const struct api_snapshot *sn = &p->snapshots->items[i];

			b += sizeof(*sn) + str_bytes(sn->id) + str_bytes(sn->name) +
			    str_bytes(sn->resource_id) + strv_bytes(sn->tags, sn->n_tags);
		}
	}
	if (p->volumes != NULL) {
		for (i = 0; i < p->volumes->n; i++) {
			const struct api_volume *v = &p->volumes->items[i];

			b += sizeof(*v) + str_bytes(v->id) + str_bytes(v->name) +
			    str_bytes(v->region) + v->n_droplet_ids * sizeof(int64_t);
		}
	}
	return b;
}

/*
 * Note that the listing fetched URL; -ELOOP when it had fetched that page
 * before: a next link that leads back would otherwise go round until the
 * page cap.  A page is its path and its "page" parameter (1 when absent),
 * whatever else the query holds or in what order.
 */
static int
seen_add(struct req *q, const char *url)
{
	const char *query = strchr(url, '?'), *p;
	unsigned long page = 1;
	uint64_t h;
	size_t i;

	for (p = query; p != NULL; p = strchr(p + 1, '&')) {
		if (strncmp(p + 1, "page=", 5) == 0) {
			page = strtoul(p + 6, NULL, 10);
			break;
		}
	}
	h = hash_fnv1a64(url, query != NULL ? (size_t)(query - url) : strlen(url)) ^
	    (uint64_t)page * 0x9e3779b97f4a7c15ULL;

	for (i = 0; i < q->n_seen; i++) {
		if (q->seen[i] == h) {
			snprintf(api_decode_why, sizeof(api_decode_why),
			    "the listing's next link leads back to page %zu", i + 1);
			return -ELOOP;
		}
	}
	if (q->seen == NULL) {
		q->seen = calloc(API_PAGES_MAX + 1, sizeof(*q->seen));
		if (q->seen == NULL)
			return -ENOMEM;
	}
	if (q->n_seen < API_PAGES_MAX + 1)
		q->seen[q->n_seen++] = h;
	return 0;
}

int
api_list_page(struct req *q, int64_t now)
{
	struct api_client *c = q->c;
	struct api_reply page = { 0 };
	char *next = NULL, *url = NULL;
	size_t max;
	int r;

	r = api_decode(q->body_kind, q->body.data, q->body.len, &page, &next);
	if (r < 0)
		return r;
	q->kept += page_bytes(&page);
	if (q->kept > API_LIST_BYTES_MAX) {
		snprintf(api_decode_why, sizeof(api_decode_why),
		    "the listing holds more than %u MiB once decoded",
		    API_LIST_BYTES_MAX / (1024 * 1024));
		api_reply_release(&page);
		r = -EFBIG;
		goto fail;
	}
	r = list_append(q, &page);
	api_reply_release(&page);
	if (r == 0)
		r = fill_resource_ids(q);
	if (r < 0)
		goto fail;
	q->pages++;
	max = q->max_items > 0 ? q->max_items : API_LIST_MAX;
	if (next != NULL && list_count(&q->reply) < max) {
		if (q->pages >= API_PAGES_MAX) {
			snprintf(api_decode_why, sizeof(api_decode_why),
			    "the listing has more than %d pages", API_PAGES_MAX);
			r = -EFBIG;
			goto fail;
		}
		r = q->n_seen == 0 ? seen_add(q, q->url) : 0;
		if (r < 0)
			goto fail;
		/* "" for the current page: seen_add tells a link back, to any page. */
		r = api_next_url(c, next, "", &url);
		if (r == -EPROTO)
			snprintf(api_decode_why, sizeof(api_decode_why),
			    "the listing's next link is not a /v2/ link of printable characters");
		if (r == 0) {
			r = seen_add(q, url);
			if (r < 0)
				free(url);
		}
		if (r < 0)
			goto fail;
		free(q->url);
		q->url = url;
		q->attempts = 0;
		q->deadline = now + c->retry_max_total_ms;
		free(next);
		api_req_requeue(q, now, 0);
		return 0;
	}
	free(next);
	list_truncate(&q->reply, max);
	api_req_complete(q, 0, NULL);
	return 0;

fail:
	free(next);
	return r;
}
