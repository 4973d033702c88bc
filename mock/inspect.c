/* inspect: the accessors tests use to look at and set up the mock's droplets, snapshots and actions. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "server.h"

int
mock_droplet_get(struct mock *m, int64_t id, struct mock_droplet_info *ret)
{
	struct mdroplet *d;
	struct mock_droplet_info info;
	size_t i;
	int r = -ENOENT;

	pthread_mutex_lock(&m->lock);
	mock_advance_locked(m);
	d = mstate_droplet(m->st, id);
	if (d != NULL) {
		memset(&info, 0, sizeof(info));
		info.id = d->id;
		snprintf(info.name, sizeof(info.name), "%s", d->name);
		snprintf(info.status, sizeof(info.status), "%s", mstatus_name(d->status));
		info.misbehaviour = d->misbehaviour;
		info.busy = d->busy_action != 0;
		info.n_actions = d->n_actions;
		for (i = 0; i < m->st->n_images; i++)
			if (m->st->images[i].droplet_id == id)
				info.n_snapshots++;
		for (i = 0; i < m->st->n_volumes; i++)
			if (m->st->volumes[i].droplet_id == id)
				info.n_volumes++;
		*ret = info;
		r = 0;
	}
	pthread_mutex_unlock(&m->lock);
	return r;
}

int
mock_droplet_set_status(struct mock *m, int64_t id, const char *status)
{
	struct mdroplet *d;
	enum mstatus s;
	int r;

	if (status == NULL || mstatus_parse(status, &s) < 0)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	d = mstate_droplet(m->st, id);
	r = d == NULL ? -ENOENT : 0;
	if (d != NULL)
		d->status = s;
	pthread_mutex_unlock(&m->lock);
	return r;
}

int
mock_droplet_set_misbehaviour(struct mock *m, int64_t id, unsigned bits)
{
	struct mdroplet *d;
	int r;

	pthread_mutex_lock(&m->lock);
	d = mstate_droplet(m->st, id);
	r = d == NULL ? -ENOENT : 0;
	if (d != NULL)
		d->misbehaviour = bits;
	pthread_mutex_unlock(&m->lock);
	return r;
}

int
mock_droplet_snapshots(struct mock *m, int64_t id, struct mock_snapshot *ret, size_t max)
{
	size_t i, n = 0;
	int r;

	pthread_mutex_lock(&m->lock);
	mock_advance_locked(m);
	if (mstate_droplet(m->st, id) == NULL) {
		r = -ENOENT;
		goto out;
	}
	for (i = 0; i < m->st->n_images; i++) {
		const struct mimage *img = &m->st->images[i];

		if (img->droplet_id != id)
			continue;
		if (n < max) {
			memset(&ret[n], 0, sizeof(ret[n]));
			ret[n].id = img->id;
			snprintf(ret[n].name, sizeof(ret[n].name), "%s", img->name);
			snprintf(ret[n].type, sizeof(ret[n].type), "%s", img->backup ? "backup" : "snapshot");
			ret[n].created_at = img->created_at;
		}
		n++;
	}
	r = n > INT32_MAX ? INT32_MAX : (int)n;
out:
	pthread_mutex_unlock(&m->lock);
	return r;
}

int
mock_volume_snapshots(struct mock *m, const char *id, struct mock_snapshot *ret, size_t max)
{
	size_t i, n = 0;
	int r;

	pthread_mutex_lock(&m->lock);
	if (id == NULL || mstate_volume(m->st, id) == NULL) {
		r = -ENOENT;
		goto out;
	}
	for (i = 0; i < m->st->n_vsnaps; i++) {
		const struct mvsnap *vs = &m->st->vsnaps[i];

		if (strcmp(vs->volume_id, id) != 0)
			continue;
		if (n < max) {
			memset(&ret[n], 0, sizeof(ret[n]));
			snprintf(ret[n].uuid, sizeof(ret[n].uuid), "%s", vs->id);
			snprintf(ret[n].name, sizeof(ret[n].name), "%s", vs->name);
			snprintf(ret[n].type, sizeof(ret[n].type), "snapshot");
			ret[n].created_at = vs->created_at;
		}
		n++;
	}
	r = n > INT32_MAX ? INT32_MAX : (int)n;
out:
	pthread_mutex_unlock(&m->lock);
	return r;
}

size_t
mock_action_count(struct mock *m, int64_t droplet_id, const char *type, const char *status)
{
	size_t i, n = 0;

	pthread_mutex_lock(&m->lock);
	mock_advance_locked(m);
	for (i = 0; i < m->st->n_actions; i++) {
		const struct maction *a = &m->st->actions[i];

		if (droplet_id != 0 && a->droplet_id != droplet_id)
			continue;
		if (type != NULL && strcmp(type, maction_type_name(a->type)) != 0)
			continue;
		if (status != NULL && strcmp(status, maction_status_name(a->status)) != 0)
			continue;
		n++;
	}
	pthread_mutex_unlock(&m->lock);
	return n;
}
