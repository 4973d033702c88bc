/* h_droplets: /v2/droplets: the list with its filters, one droplet, a droplet's images. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "handlers.h"
#include "page.h"
#include "render.h"
#include "reply.h"
#include "server.h"

int
h_droplets_list(struct req *q, struct reply *rp)
{
	struct mstate *st = q->m->st;
	const char *tag = req_arg(q, "tag_name"), *name = req_arg(q, "name"), *type = req_arg(q, "type");
	struct pager pg;
	size_t i;

	if (pager_init(&pg, q, "droplets") < 0)
		return pager_refuse(rp);
	if (type != NULL && strcmp(type, "droplets") != 0 && strcmp(type, "gpus") != 0)
		return reply_error(rp, 400, "bad_request", "type must be droplets or gpus");
	/* The OpenAPI file: tag_name "can not be combined with name or type". */
	if (tag != NULL && (name != NULL || type != NULL))
		return reply_error(rp, 400, "bad_request",
		    "tag_name can not be combined with name or type");
	for (i = 0; i < st->n_droplets; i++) {
		const struct mdroplet *d = &st->droplets[i];

		if (tag != NULL && !mdroplet_has_tag(d, tag))
			continue;
		/* "Exact matches. It is case-insensitive" (the OpenAPI file). */
		if (name != NULL && strcasecmp(d->name, name) != 0)
			continue;
		if (type != NULL && strcmp(type, "gpus") == 0)
			continue;
		if (pager_take(&pg))
			pager_push(&pg, render_droplet(st, d, q->m->cfg.debug_drift));
	}
	return pager_finish(&pg, q, rp);
}

int
h_droplets_get(struct req *q, struct reply *rp)
{
	struct mdroplet *d = mstate_droplet(q->m->st, q->arg[0].id);

	if (d == NULL)
		return reply_not_found(rp);
	return reply_wrapped(rp, 200, "droplet", render_droplet(q->m->st, d, q->m->cfg.debug_drift));
}

/* Images of the droplet, snapshots and backups, oldest first. */
int
h_droplets_list_snapshots(struct req *q, struct reply *rp)
{
	struct mstate *st = q->m->st;
	int64_t id = q->arg[0].id;
	struct pager pg;
	size_t i;

	if (mstate_droplet(st, id) == NULL)
		return reply_not_found(rp);
	if (pager_init(&pg, q, "snapshots") < 0)
		return pager_refuse(rp);
	for (i = 0; i < st->n_images; i++) {
		if (st->images[i].droplet_id != id)
			continue;
		if (pager_take(&pg))
			pager_push(&pg, render_droplet_image(&st->images[i]));
	}
	return pager_finish(&pg, q, rp);
}
