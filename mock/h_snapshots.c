/* h_snapshots: /v2/snapshots: droplet snapshots and volume snapshots in one list, by id, deleted. */
#include <errno.h>
#include <string.h>

#include "handlers.h"
#include "page.h"
#include "render.h"
#include "reply.h"
#include "server.h"

/* Droplet snapshots (not backups), then volume snapshots. */
int
h_snapshots_list(struct req *q, struct reply *rp)
{
	struct mstate *st = q->m->st;
	const char *rt = req_arg(q, "resource_type");
	bool want_d = true, want_v = true;
	struct pager pg;
	size_t i;

	if (pager_init(&pg, q, "snapshots") < 0)
		return pager_refuse(rp);
	if (rt != NULL) {
		want_d = strcmp(rt, "droplet") == 0;
		want_v = strcmp(rt, "volume") == 0;
		if (!want_d && !want_v)
			return reply_error(rp, 400, "bad_request", "resource_type must be droplet or volume");
	}
	for (i = 0; want_d && i < st->n_images; i++) {
		if (st->images[i].backup)
			continue;
		if (pager_take(&pg))
			pager_push(&pg, render_image_snapshot(&st->images[i]));
	}
	for (i = 0; want_v && i < st->n_vsnaps; i++)
		if (pager_take(&pg))
			pager_push(&pg, render_vsnap(&st->vsnaps[i]));
	return pager_finish(&pg, q, rp);
}

/*
 * /v2/snapshots/{id}: a numeric id names a droplet image, anything else a
 * volume snapshot's uuid (*ret_img NULL).  Returns 0, or 1 after writing the
 * 404, or the 400 for a backup (not a snapshot), or -ENOMEM.
 */
static int
snapshot_image(struct req *q, struct reply *rp, struct mimage **ret_img)
{
	int64_t n;

	*ret_img = NULL;
	if (route_parse_id(q->arg[0].s, q->arg[0].len, &n) < 0)
		return 0;
	*ret_img = mstate_image(q->m->st, n);
	if (*ret_img == NULL)
		return reply_not_found(rp) < 0 ? -ENOMEM : 1;
	if ((*ret_img)->backup)
		return reply_error(rp, 400, "bad_request", "the resource is not a snapshot") < 0 ? -ENOMEM : 1;
	return 0;
}

int
h_snapshots_get(struct req *q, struct reply *rp)
{
	struct mimage *img;
	int r = snapshot_image(q, rp, &img);

	if (r != 0)
		return r < 0 ? r : 0;
	if (img == NULL)
		return h_volume_snapshots_get(q, rp);
	return reply_wrapped(rp, 200, "snapshot", render_image_snapshot(img));
}

int
h_snapshots_delete(struct req *q, struct reply *rp)
{
	struct mimage *img;
	int r = snapshot_image(q, rp, &img);

	if (r != 0)
		return r < 0 ? r : 0;
	if (img == NULL)
		return h_volume_snapshots_delete(q, rp);
	mstate_delete_image(q->m->st, img->id);
	rp->status = 204;
	return 0;
}
