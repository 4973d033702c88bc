/* h_actions: /v2/actions and a droplet's actions: lists, lookups, and starting one by id or by tag. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "page.h"
#include "render.h"
#include "reply.h"
#include "server.h"

/* Actions newest first, as the service lists them; DROPLET_ID 0 for all. */
static int
list_actions(struct req *q, struct reply *rp, int64_t droplet_id)
{
	struct mstate *st = q->m->st;
	struct pager pg;
	size_t i;

	if (pager_init(&pg, q, "actions") < 0)
		return pager_refuse(rp);
	for (i = st->n_actions; i-- > 0;) {
		const struct maction *a = &st->actions[i];

		if (droplet_id != 0 && a->droplet_id != droplet_id)
			continue;
		if (pager_take(&pg))
			pager_push(&pg, render_action(a));
	}
	return pager_finish(&pg, q, rp);
}

int
h_actions_list(struct req *q, struct reply *rp)
{
	return list_actions(q, rp, 0);
}

int
h_actions_get(struct req *q, struct reply *rp)
{
	struct maction *a;
	int64_t aid;

	if (route_parse_id(q->arg[0].s, q->arg[0].len, &aid) < 0)
		return reply_not_found(rp);
	a = mstate_action(q->m->st, aid);
	return a == NULL ? reply_not_found(rp) : reply_wrapped(rp, 200, "action", render_action(a));
}

int
h_droplet_actions_list(struct req *q, struct reply *rp)
{
	if (mstate_droplet(q->m->st, q->arg[0].id) == NULL)
		return reply_not_found(rp);
	return list_actions(q, rp, q->arg[0].id);
}

/* GET /v2/droplets/{id}/actions/{action id}: the action, when it is that droplet's. */
int
h_droplet_actions_get(struct req *q, struct reply *rp)
{
	struct mstate *st = q->m->st;
	struct maction *a;
	int64_t aid;

	if (route_parse_id(q->arg[1].s, q->arg[1].len, &aid) < 0 ||
	    mstate_droplet(st, q->arg[0].id) == NULL)
		return reply_not_found(rp);
	a = mstate_action(st, aid);
	if (a == NULL || a->droplet_id != q->arg[0].id)
		return reply_not_found(rp);
	return reply_wrapped(rp, 200, "action", render_action(a));
}

/*
 * Decode an action request body: {"type": T[, "name": N]}.  Returns 0, or
 * writes a 400/422 reply and returns 1.
 */
static int
parse_action_body(struct req *q, struct reply *rp, bool by_tag, enum mock_action_type *ret_type,
    char *name, size_t name_len)
{
	cJSON *js;
	const cJSON *t, *n;
	int r = 1;

	name[0] = '\0';
	if (q->body_too_big)
		return reply_error(rp, 400, "bad_request", "request body too large") < 0 ? -ENOMEM : 1;
	js = q->body_len > 0 ? cJSON_ParseWithLength(q->body, q->body_len) : NULL;
	if (js == NULL || !cJSON_IsObject(js)) {
		cJSON_Delete(js);
		return reply_error(rp, 400, "bad_request", "error parsing request body") < 0 ? -ENOMEM : 1;
	}
	t = cJSON_GetObjectItemCaseSensitive(js, "type");
	n = cJSON_GetObjectItemCaseSensitive(js, "name");
	if (!cJSON_IsString(t)) {
		r = reply_error(rp, 422, "unprocessable_entity",
		    "type is required") < 0 ? -1 : 1;
		goto out;
	}
	if (maction_type_parse(t->valuestring, ret_type) < 0 || *ret_type == MOCK_ACTION_VOLUME_SNAPSHOT) {
		r = reply_error(rp, 422, "unprocessable_entity",
		    "type is not an action this mock performs (power_off, shutdown, power_on, reboot, power_cycle, snapshot)") < 0 ? -1 : 1;
		goto out;
	}
	if (by_tag && *ret_type == MOCK_ACTION_REBOOT) {
		r = reply_error(rp, 422, "unprocessable_entity",
		    "reboot cannot be performed by tag") < 0 ? -1 : 1;
		goto out;
	}
	if (n != NULL && !cJSON_IsNull(n)) {
		if (!cJSON_IsString(n) || n->valuestring[0] == '\0' || strlen(n->valuestring) >= name_len) {
			r = reply_error(rp, 422, "unprocessable_entity",
		    "name must be a non-empty string of at most 255 bytes") < 0 ? -1 : 1;
			goto out;
		}
		snprintf(name, name_len, "%s", n->valuestring);
	}
	r = 0;
out:
	cJSON_Delete(js);
	return r < 0 ? -ENOMEM : r;
}

static int
busy_error(struct reply *rp)
{
	return reply_error(rp, 422, "unprocessable_entity", "Droplet already has a pending event.");
}

int
h_droplet_actions_post(struct req *q, struct reply *rp)
{
	struct mdroplet *d = mstate_droplet(q->m->st, q->arg[0].id);
	enum mock_action_type type;
	char name[MSTATE_MAX_NAME + 1];
	struct maction *a;
	int r;

	if (d == NULL)
		return reply_not_found(rp);
	r = parse_action_body(q, rp, false, &type, name, sizeof(name));
	if (r != 0)
		return r < 0 ? r : 0;
	r = mstate_start_action(q->m->st, &q->m->params, d, type, name[0] != '\0' ? name : NULL,
	    q->now, q->wall, &a);
	if (r == -EBUSY)
		return busy_error(rp);
	if (r < 0)
		return r;
	return reply_wrapped(rp, 201, "action", render_action(a));
}

/* POST /v2/droplets/actions?tag_name=T: all or nothing, 201 with every action. */
int
h_droplet_actions_post_by_tag(struct req *q, struct reply *rp)
{
	struct mstate *st = q->m->st;
	const char *tag = req_arg(q, "tag_name");
	enum mock_action_type type;
	char name[MSTATE_MAX_NAME + 1];
	struct maction *a;
	cJSON *o, *arr;
	size_t i;
	bool ok = true;
	int r;

	if (tag == NULL || tag[0] == '\0')
		return reply_error(rp, 422, "unprocessable_entity", "tag_name is required");
	r = parse_action_body(q, rp, true, &type, name, sizeof(name));
	if (r != 0)
		return r < 0 ? r : 0;
	/* All or nothing: one busy droplet refuses the whole request. */
	for (i = 0; i < st->n_droplets; i++)
		if (mdroplet_has_tag(&st->droplets[i], tag) && st->droplets[i].busy_action != 0)
			return busy_error(rp);
	o = json_list_start("actions", &arr);
	if (o == NULL)
		return -ENOMEM;
	for (i = 0; i < st->n_droplets; i++) {
		struct mdroplet *d = &st->droplets[i];

		if (!mdroplet_has_tag(d, tag))
			continue;
		r = mstate_start_action(st, &q->m->params, d, type, name[0] != '\0' ? name : NULL,
		    q->now, q->wall, &a);
		if (r < 0)
			ok = false;
		else if (ok)
			ok = json_push(arr, render_action(a));
	}
	return reply_json_if(rp, 201, o, ok);
}
