/* h_snapshots: /v2/snapshots: droplet snapshots and volume snapshots in one list, by id, deleted. */
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
 * /v2/snapshots/{id}: a numeric id is a droplet image (a backup is not a
 * snapshot: 400), anything else a volume snapshot's uuid.  Sets *ret_img,
 * or returns 1 for a volume snapshot, or -1 after writing the error reply
 * (R holding its result).
 */
static int
image_of(struct req *q, struct reply *rp, struct mimage **ret_img, int *r)
{
	struct mimage *img;
	int64_t n;

	if (route_parse_id(q->arg[0].s, q->arg[0].len, &n) < 0)
		return 1;
	img = mstate_image(q->m->st, n);
	if (img == NULL) {
		*r = reply_not_found(rp);
		return -1;
	}
	if (img->backup) {
		*r = reply_error(rp, 400, "bad_request", "the resource is not a snapshot");
		return -1;
	}
	*ret_img = img;
	return 0;
}

int
h_snapshots_get(struct req *q, struct reply *rp)
{
	struct mimage *img = NULL;
	int r = 0;

	switch (image_of(q, rp, &img, &r)) {
	case 1:
		return h_volume_snapshots_get(q, rp);
	case 0:
		return reply_wrapped(rp, 200, "snapshot", render_image_snapshot(img));
	default:
		return r;
	}
}

int
h_snapshots_delete(struct req *q, struct reply *rp)
{
	struct mimage *img = NULL;
	int r = 0;

	switch (image_of(q, rp, &img, &r)) {
	case 1:
		return h_volume_snapshots_delete(q, rp);
	case 0:
		mstate_delete_image(q->m->st, img->id);
		rp->status = 204;
		return 0;
	default:
		return r;
	}
}
