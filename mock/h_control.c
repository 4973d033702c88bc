/* h_control: /__mock/: the control plane that shows and changes the mock's state, log and faults. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "render.h"
#include "reply.h"
#include "server.h"

static cJSON *
fault_json(const struct fault_rule *r)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "kind", mock_fault_kind_name(r->f.kind));
	cJSON_AddStringToObject(o, "method", r->f.method);
	cJSON_AddStringToObject(o, "path", r->f.path);
	cJSON_AddNumberToObject(o, "times", r->f.times);
	cJSON_AddNumberToObject(o, "after", r->f.after);
	cJSON_AddNumberToObject(o, "probability", r->f.probability == 0 ? 1 : r->f.probability);
	cJSON_AddNumberToObject(o, "seen", r->seen);
	cJSON_AddNumberToObject(o, "fired", r->fired);
	return o;
}

int
h_ctl_state(struct req *q, struct reply *rp)
{
	struct mock *m = q->m;
	struct mstate *st = m->st;
	cJSON *o = cJSON_CreateObject(), *arr, *it;
	bool ok = o != NULL;
	size_t i;

	if (o == NULL)
		return -ENOMEM;
	cJSON_AddNumberToObject(o, "time_scale", m->params.time_scale);
	cJSON_AddNumberToObject(o, "mock_time", mock_now(m));
	arr = cJSON_AddArrayToObject(o, "droplets");
	for (i = 0; ok && arr != NULL && i < st->n_droplets; i++) {
		it = render_droplet(st, &st->droplets[i], false);
		ok = json_push(arr, it);
		if (ok) {
			cJSON *mis = cJSON_AddArrayToObject(it, "misbehave");
			unsigned b = st->droplets[i].misbehaviour;

			if (mis == NULL)
				ok = false;
			else {
				if (b & MOCK_MISBEHAVE_IGNORE_SHUTDOWN)
					ok = json_push(mis, cJSON_CreateString("ignore_shutdown"));
				if (b & MOCK_MISBEHAVE_ACTIONS_ERROR)
					ok = ok && json_push(mis, cJSON_CreateString("actions_error"));
				if (b & MOCK_MISBEHAVE_ACTIONS_STALL)
					ok = ok && json_push(mis, cJSON_CreateString("actions_stall"));
			}
		}
	}
	arr = cJSON_AddArrayToObject(o, "actions");
	for (i = 0; ok && arr != NULL && i < st->n_actions; i++)
		ok = json_push(arr, render_action(&st->actions[i]));
	arr = cJSON_AddArrayToObject(o, "snapshots");
	for (i = 0; ok && arr != NULL && i < st->n_images; i++) {
		it = render_droplet_image(&st->images[i]);
		ok = json_push(arr, it) && cJSON_AddNumberToObject(it, "droplet_id",
		    (double)st->images[i].droplet_id) != NULL;
	}
	arr = cJSON_AddArrayToObject(o, "volumes");
	for (i = 0; ok && arr != NULL && i < st->n_volumes; i++)
		ok = json_push(arr, render_volume(st, &st->volumes[i]));
	arr = cJSON_AddArrayToObject(o, "volume_snapshots");
	for (i = 0; ok && arr != NULL && i < st->n_vsnaps; i++)
		ok = json_push(arr, render_vsnap(&st->vsnaps[i]));
	arr = cJSON_AddArrayToObject(o, "faults");
	for (i = 0; ok && arr != NULL && i < m->n_faults; i++)
		ok = json_push(arr, fault_json(&m->faults[i]));
	return reply_json_if(rp, 200, o, ok && arr != NULL);
}

int
h_ctl_requests(struct req *q, struct reply *rp)
{
	struct mock *m = q->m;
	cJSON *o = cJSON_CreateObject(), *arr, *it;
	bool ok = o != NULL;
	size_t i;

	if (o == NULL)
		return -ENOMEM;
	cJSON_AddNumberToObject(o, "total", (double)m->log_total);
	arr = cJSON_AddArrayToObject(o, "requests");
	for (i = 0; ok && arr != NULL && i < m->log_n; i++) {
		const struct mock_request *e = mock_log_at(m, i);

		it = cJSON_CreateObject();
		ok = json_push(arr, it);
		if (!ok)
			break;
		cJSON_AddStringToObject(it, "method", e->method);
		cJSON_AddStringToObject(it, "path", e->path);
		cJSON_AddStringToObject(it, "query", e->query);
		cJSON_AddNumberToObject(it, "status", e->status);
		if (e->fault[0] != '\0')
			cJSON_AddStringToObject(it, "fault", e->fault);
		cJSON_AddNumberToObject(it, "time", e->time);
	}
	return reply_json_if(rp, 200, o, ok && arr != NULL);
}

int
h_ctl_requests_clear(struct req *q, struct reply *rp)
{
	q->m->log_n = q->m->log_head = 0;
	q->m->log_total = 0;
	rp->status = 204;
	return 0;
}

int
h_ctl_reset(struct req *q, struct reply *rp)
{
	if (mock_reset_locked(q->m) < 0)
		return reply_error(rp, 500, "server_error", "cannot reload the fixture");
	rp->status = 204;
	return 0;
}

int
h_ctl_faults(struct req *q, struct reply *rp)
{
	struct mock *m = q->m;
	size_t i;
	cJSON *o, *arr;
	bool ok = true;

	o = json_list_start("faults", &arr);
	if (o == NULL)
		return -ENOMEM;
	for (i = 0; ok && i < m->n_faults; i++)
		ok = json_push(arr, fault_json(&m->faults[i]));
	return reply_json_if(rp, 200, o, ok);
}

/*
 * POST /__mock/faults takes a spec, as --fault does, either as the whole
 * body or as {"spec": "..."}.
 */
int
h_ctl_faults_add(struct req *q, struct reply *rp)
{
	struct mock *m = q->m;
	char spec[512];
	struct mock_fault f;
	cJSON *js;
	const cJSON *s;
	int r;

	if (q->body_too_big || q->body_len >= sizeof(spec))
		return reply_error(rp, 400, "bad_request", "fault spec too long");
	memcpy(spec, q->body, q->body_len);
	spec[q->body_len] = '\0';
	js = cJSON_Parse(spec);
	s = cJSON_GetObjectItemCaseSensitive(js, "spec");
	if (cJSON_IsString(s))
		snprintf(spec, sizeof(spec), "%s", s->valuestring);
	cJSON_Delete(js);
	spec[strcspn(spec, "\r\n")] = '\0';
	if (mock_fault_parse(spec, &f) < 0)
		return reply_error(rp, 400, "bad_request", "bad fault spec; see dosnap-mock --help");
	r = mock_add_fault_locked(m, &f);
	if (r == -ENOSPC)
		return reply_error(rp, 400, "bad_request", "too many fault rules");
	if (r < 0)
		return r;
	return reply_wrapped(rp, 201, "fault", fault_json(&m->faults[m->n_faults - 1]));
}

int
h_ctl_faults_clear(struct req *q, struct reply *rp)
{
	q->m->n_faults = 0;
	rp->status = 204;
	return 0;
}

/* POST /__mock/droplets/{id}: {"status": "...", "misbehave": [...]}. */
int
h_ctl_droplet(struct req *q, struct reply *rp)
{
	struct mock *m = q->m;
	struct mdroplet *d;
	cJSON *js;
	const cJSON *s, *mis, *it;
	enum mstatus status;
	unsigned bits = 0;
	int64_t id;
	int r;

	if (route_parse_id(q->arg[0].s, q->arg[0].len, &id) < 0)
		return reply_not_found(rp);
	d = mstate_droplet(m->st, id);
	if (d == NULL)
		return reply_not_found(rp);
	js = q->body_len > 0 && !q->body_too_big ? cJSON_ParseWithLength(q->body, q->body_len) : NULL;
	if (!cJSON_IsObject(js)) {
		cJSON_Delete(js);
		return reply_error(rp, 400, "bad_request", "error parsing request body");
	}
	s = cJSON_GetObjectItemCaseSensitive(js, "status");
	mis = cJSON_GetObjectItemCaseSensitive(js, "misbehave");
	r = reply_error(rp, 400, "bad_request",
	    "status must be new, active, off or archive; misbehave a list of ignore_shutdown, actions_error, actions_stall");
	if (s != NULL && (!cJSON_IsString(s) || mstatus_parse(s->valuestring, &status) < 0))
		goto out;
	if (mis != NULL && !cJSON_IsArray(mis))
		goto out;
	cJSON_ArrayForEach(it, mis) {
		if (!cJSON_IsString(it))
			goto out;
		if (strcmp(it->valuestring, "ignore_shutdown") == 0)
			bits |= MOCK_MISBEHAVE_IGNORE_SHUTDOWN;
		else if (strcmp(it->valuestring, "actions_error") == 0)
			bits |= MOCK_MISBEHAVE_ACTIONS_ERROR;
		else if (strcmp(it->valuestring, "actions_stall") == 0)
			bits |= MOCK_MISBEHAVE_ACTIONS_STALL;
		else
			goto out;
	}
	if (s != NULL)
		d->status = status;
	if (mis != NULL)
		d->misbehaviour = bits;
	r = reply_wrapped(rp, 200, "droplet", render_droplet(m->st, d, false));
out:
	cJSON_Delete(js);
	return r;
}
