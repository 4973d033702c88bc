/* api_object: the decoded API objects: releasing them and naming their states. */
#include <stdlib.h>
#include <string.h>

#include "api_int.h"

void
api_strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
api_droplet_release(struct api_droplet *d)
{
	free(d->name);
	free(d->region);
	api_strv_free(d->tags, d->n_tags);
	api_strv_free(d->volume_ids, d->n_volume_ids);
	memset(d, 0, sizeof(*d));
}

void
api_snapshot_release(struct api_snapshot *s)
{
	free(s->id);
	free(s->name);
	free(s->resource_id);
	api_strv_free(s->tags, s->n_tags);
	memset(s, 0, sizeof(*s));
}

void
api_volume_release(struct api_volume *v)
{
	free(v->id);
	free(v->name);
	free(v->region);
	free(v->droplet_ids);
	memset(v, 0, sizeof(*v));
}

void
api_droplet_free(struct api_droplet *d)
{
	if (d == NULL)
		return;
	api_droplet_release(d);
	free(d);
}

void
api_action_free(struct api_action *a)
{
	free(a);
}

void
api_snapshot_free(struct api_snapshot *s)
{
	if (s == NULL)
		return;
	api_snapshot_release(s);
	free(s);
}

void
api_volume_free(struct api_volume *v)
{
	if (v == NULL)
		return;
	api_volume_release(v);
	free(v);
}

void
api_account_free(struct api_account *a)
{
	if (a == NULL)
		return;
	free(a->email);
	free(a->uuid);
	free(a);
}

void
api_droplet_list_free(struct api_droplet_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		api_droplet_release(&l->items[i]);
	free(l->items);
	free(l);
}

void
api_action_list_free(struct api_action_list *l)
{
	if (l == NULL)
		return;
	free(l->items);
	free(l);
}

void
api_snapshot_list_free(struct api_snapshot_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		api_snapshot_release(&l->items[i]);
	free(l->items);
	free(l);
}

void
api_volume_list_free(struct api_volume_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		api_volume_release(&l->items[i]);
	free(l->items);
	free(l);
}

/* The one place that knows every object pointer of a reply. */
static void
reply_forget(struct api_reply *reply)
{
	reply->account = NULL;
	reply->droplet = NULL;
	reply->action = NULL;
	reply->snapshot = NULL;
	reply->volume = NULL;
	reply->droplets = NULL;
	reply->actions = NULL;
	reply->snapshots = NULL;
	reply->volumes = NULL;
}

void
api_reply_release(struct api_reply *reply)
{
	if (reply == NULL)
		return;
	api_account_free(reply->account);
	api_droplet_free(reply->droplet);
	api_action_free(reply->action);
	api_snapshot_free(reply->snapshot);
	api_volume_free(reply->volume);
	api_droplet_list_free(reply->droplets);
	api_action_list_free(reply->actions);
	api_snapshot_list_free(reply->snapshots);
	api_volume_list_free(reply->volumes);
	reply_forget(reply);
}

void
api_reply_move(struct api_reply *dst, struct api_reply *src)
{
	*dst = *src;
	reply_forget(src);
}

const char *
api_droplet_status_name(enum api_droplet_status s)
{
	switch (s) {
	case API_DROPLET_NEW:
		return "new";
	case API_DROPLET_ACTIVE:
		return "active";
	case API_DROPLET_OFF:
		return "off";
	case API_DROPLET_ARCHIVE:
		return "archive";
	case API_DROPLET_UNKNOWN:
		break;
	}
	return "unknown";
}
