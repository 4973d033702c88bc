/* h_volumes: /v2/volumes: the list, one volume, its snapshots (listed, taken, looked up, deleted). */
#include <string.h>

#include "handlers.h"
#include "page.h"
#include "render.h"
#include "reply.h"
#include "server.h"

/* The uuid in path segment A, terminated in OUT; false when it has not a uuid's length. */
static bool
seg_uuid(const struct route_arg *a, char out[37])
{
	if (a->len != 36)
		return false;
	memcpy(out, a->s, 36);
	out[36] = '\0';
	return true;
}

/* The volume of /v2/volumes/{uuid}..., or NULL. */
static struct mvolume *
volume_of(struct req *q)
{
	char uuid[37];

	return seg_uuid(&q->arg[0], uuid) ? mstate_volume(q->m->st, uuid) : NULL;
}

int
h_volumes_list(struct req *q, struct reply *rp)
{
	struct mstate *st = q->m->st;
	const char *name = req_arg(q, "name"), *region = req_arg(q, "region");
	struct pager pg;
	size_t i;

	if (pager_init(&pg, q, "volumes") < 0)
		return pager_refuse(rp);
	for (i = 0; i < st->n_volumes; i++) {
		const struct mvolume *v = &st->volumes[i];

		if (name != NULL && strcmp(v->name, name) != 0)
			continue;
		if (region != NULL && strcmp(v->region->slug, region) != 0)
			continue;
		if (pager_take(&pg))
			pager_push(&pg, render_volume(st, v));
	}
	return pager_finish(&pg, q, rp);
}

int
h_volumes_get(struct req *q, struct reply *rp)
{
	struct mvolume *v = volume_of(q);

	return v == NULL ? reply_not_found(rp) : reply_wrapped(rp, 200, "volume", render_volume(q->m->st, v));
}

int
h_volume_snapshots_list(struct req *q, struct reply *rp)
{
	struct mstate *st = q->m->st;
	struct mvolume *v = volume_of(q);
	struct pager pg;
	size_t i;

	if (v == NULL)
		return reply_not_found(rp);
	if (pager_init(&pg, q, "snapshots") < 0)
		return pager_refuse(rp);
	for (i = 0; i < st->n_vsnaps; i++) {
		if (strcmp(st->vsnaps[i].volume_id, v->id) != 0)
			continue;
		if (pager_take(&pg))
			pager_push(&pg, render_vsnap(&st->vsnaps[i]));
	}
	return pager_finish(&pg, q, rp);
}

/* POST /v2/volumes/{uuid}/snapshots: {"name": N[, "tags": [...]]}, taken at once. */
int
h_volume_snapshots_create(struct req *q, struct reply *rp)
{
	struct mvolume *v = volume_of(q);
	const char *tags[MSTATE_MAX_TAGS];
	size_t n_tags = 0;
	cJSON *js;
	const cJSON *name, *t, *it;
	struct mvsnap *vs;
	int r;

	if (v == NULL)
		return reply_not_found(rp);
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

/* /v2/volumes/snapshots/{uuid}, and /v2/snapshots/{uuid} (h_snapshots.c hands those over). */
int
h_volume_snapshots_get(struct req *q, struct reply *rp)
{
	struct mvsnap *vs;
	char uuid[37];

	vs = seg_uuid(&q->arg[0], uuid) ? mstate_vsnap(q->m->st, uuid) : NULL;
	return vs == NULL ? reply_not_found(rp) : reply_wrapped(rp, 200, "snapshot", render_vsnap(vs));
}

int
h_volume_snapshots_delete(struct req *q, struct reply *rp)
{
	char uuid[37];

	if (!seg_uuid(&q->arg[0], uuid) || mstate_vsnap(q->m->st, uuid) == NULL)
		return reply_not_found(rp);
	mstate_delete_vsnap(q->m->st, uuid);
	rp->status = 204;
	return 0;
}
