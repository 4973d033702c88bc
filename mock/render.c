/* render: droplets, actions, snapshots, volumes and the account as the service's JSON. */
#include <stdio.h>
#include <string.h>

#include "render.h"

/*
 * The builders below note any failed allocation in *ok and carry on, so each
 * object is checked once at the end instead of after every field.
 */
static cJSON *
add(cJSON *obj, const char *key, cJSON *item, bool *ok)
{
	if (item == NULL || !cJSON_AddItemToObject(obj, key, item)) {
		cJSON_Delete(item);
		*ok = false;
		return NULL;
	}
	return item;
}

static void
add_str(cJSON *obj, const char *key, const char *v, bool *ok)
{
	add(obj, key, cJSON_CreateString(v), ok);
}

static void
add_num(cJSON *obj, const char *key, double v, bool *ok)
{
	add(obj, key, cJSON_CreateNumber(v), ok);
}

static void
add_bool(cJSON *obj, const char *key, bool v, bool *ok)
{
	add(obj, key, cJSON_CreateBool(v), ok);
}

static void
add_time(cJSON *obj, const char *key, double t, bool *ok)
{
	char buf[32];

	mstate_format_time(t, buf, sizeof(buf));
	add_str(obj, key, buf, ok);
}

static void
push(cJSON *arr, cJSON *item, bool *ok)
{
	if (arr == NULL || item == NULL || !cJSON_AddItemToArray(arr, item)) {
		cJSON_Delete(item);
		*ok = false;
	}
}

static cJSON *
done(cJSON *obj, bool ok)
{
	if (!ok) {
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

static cJSON *
str_array(const char *const *v, size_t n, bool *ok)
{
	cJSON *arr = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < n; i++)
		push(arr, cJSON_CreateString(v[i]), ok);
	return arr;
}

static const char *const region_features[] = {
	"private_networking", "backups", "ipv6", "metadata", "install_agent", "storage", "image_transfer",
};

static const char *const size_slugs[] = {
	"s-1vcpu-1gb", "s-1vcpu-2gb", "s-2vcpu-2gb", "s-2vcpu-4gb", "s-4vcpu-8gb", "g-2vcpu-8gb",
};

cJSON *
render_region(const struct mregion *r)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o != NULL;

	if (o == NULL)
		return NULL;
	add_str(o, "name", r->name, &ok);
	add_str(o, "slug", r->slug, &ok);
	add(o, "features", str_array(region_features, sizeof(region_features) / sizeof(region_features[0]), &ok), &ok);
	add_bool(o, "available", true, &ok);
	add(o, "sizes", str_array(size_slugs, sizeof(size_slugs) / sizeof(size_slugs[0]), &ok), &ok);
	return done(o, ok);
}

static cJSON *
region_slugs(void)
{
	const char *slugs[16];
	size_t n;
	bool ok = true;

	for (n = 0; n < 16 && mstate_regions[n].slug != NULL; n++)
		slugs[n] = mstate_regions[n].slug;
	return str_array(slugs, n, &ok);
}

static cJSON *
render_size(const struct msize *s, bool *ok)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL) {
		*ok = false;
		return NULL;
	}
	add_str(o, "slug", s->slug, ok);
	add_num(o, "memory", s->memory, ok);
	add_num(o, "vcpus", s->vcpus, ok);
	add_num(o, "disk", s->disk, ok);
	add_num(o, "transfer", 1.0, ok);
	add_num(o, "price_monthly", s->price_monthly, ok);
	add_num(o, "price_hourly", s->price_hourly, ok);
	add(o, "regions", region_slugs(), ok);
	add_bool(o, "available", true, ok);
	add_str(o, "description", s->description, ok);
	return o;
}

static cJSON *
render_base_image(bool *ok)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL) {
		*ok = false;
		return NULL;
	}
	add_num(o, "id", 129211873, ok);
	add_str(o, "name", "22.04 (LTS) x64", ok);
	add_str(o, "distribution", "Ubuntu", ok);
	add_str(o, "slug", "ubuntu-22-04-x64", ok);
	add_bool(o, "public", true, ok);
	add(o, "regions", region_slugs(), ok);
	add_str(o, "created_at", "2023-03-14T18:39:59Z", ok);
	add_str(o, "type", "base", ok);
	add_num(o, "min_disk_size", 7, ok);
	add_num(o, "size_gigabytes", 2.36, ok);
	add_str(o, "description", "Ubuntu 22.04 x64", ok);
	add(o, "tags", cJSON_CreateArray(), ok);
	add_str(o, "status", "available", ok);
	add_str(o, "error_message", "", ok);
	return o;
}

static cJSON *
render_networks(const struct mdroplet *d, bool *ok)
{
	cJSON *o = cJSON_CreateObject(), *v4, *pub, *priv;
	char ip[16], gw[16];

	if (o == NULL) {
		*ok = false;
		return NULL;
	}
	snprintf(ip, sizeof(ip), "%u.%u.%u.%u", d->ipv4 >> 24, (d->ipv4 >> 16) & 0xff,
	    (d->ipv4 >> 8) & 0xff, d->ipv4 & 0xff);
	snprintf(gw, sizeof(gw), "%u.%u.%u.1", d->ipv4 >> 24, (d->ipv4 >> 16) & 0xff,
	    (d->ipv4 >> 8) & 0xff);
	v4 = add(o, "v4", cJSON_CreateArray(), ok);
	pub = cJSON_CreateObject();
	if (pub != NULL) {
		add_str(pub, "ip_address", ip, ok);
		add_str(pub, "netmask", "255.255.240.0", ok);
		add_str(pub, "gateway", gw, ok);
		add_str(pub, "type", "public", ok);
	}
	push(v4, pub, ok);
	snprintf(ip, sizeof(ip), "10.108.%u.%u", (d->ipv4 >> 8) & 0xff, d->ipv4 & 0xff);
	priv = cJSON_CreateObject();
	if (priv != NULL) {
		add_str(priv, "ip_address", ip, ok);
		add_str(priv, "netmask", "255.255.0.0", ok);
		add_str(priv, "gateway", "nil", ok);
		add_str(priv, "type", "private", ok);
	}
	push(v4, priv, ok);
	add(o, "v6", cJSON_CreateArray(), ok);
	return o;
}

cJSON *
render_droplet(const struct mstate *st, const struct mdroplet *d, bool drift)
{
	cJSON *o = cJSON_CreateObject(), *arr, *di, *sz;
	bool ok = o != NULL, backups = false;
	size_t i;

	if (o == NULL)
		return NULL;
	add_num(o, "id", (double)d->id, &ok);
	add_str(o, "name", d->name, &ok);
	add_num(o, "memory", d->size->memory, &ok);
	add_num(o, "vcpus", d->size->vcpus, &ok);
	add_num(o, "disk", d->size->disk, &ok);
	arr = add(o, "disk_info", cJSON_CreateArray(), &ok);
	di = cJSON_CreateObject();
	if (di != NULL) {
		add_str(di, "type", "local", &ok);
		sz = add(di, "size", cJSON_CreateObject(), &ok);
		if (sz != NULL) {
			add_num(sz, "amount", d->size->disk, &ok);
			add_str(sz, "unit", "gib", &ok);
		}
	}
	push(arr, di, &ok);
	add_bool(o, "locked", false, &ok);
	add_str(o, "status", drift ? "sleeping" :
	    mstatus_name(d->stale_active ? MSTATUS_ACTIVE : d->status), &ok);
	add(o, "kernel", cJSON_CreateNull(), &ok);
	add_str(o, "created_at", d->created_at, &ok);
	arr = add(o, "backup_ids", cJSON_CreateArray(), &ok);
	for (i = 0; i < st->n_images; i++) {
		if (st->images[i].droplet_id == d->id && st->images[i].backup) {
			push(arr, cJSON_CreateNumber((double)st->images[i].id), &ok);
			backups = true;
		}
	}
	arr = add(o, "snapshot_ids", cJSON_CreateArray(), &ok);
	for (i = 0; i < st->n_images; i++)
		if (st->images[i].droplet_id == d->id && !st->images[i].backup)
			push(arr, cJSON_CreateNumber((double)st->images[i].id), &ok);
	arr = add(o, "features", cJSON_CreateArray(), &ok);
	if (backups)
		push(arr, cJSON_CreateString("backups"), &ok);
	push(arr, cJSON_CreateString("private_networking"), &ok);
	if (backups) {
		cJSON *w = add(o, "next_backup_window", cJSON_CreateObject(), &ok);

		if (w != NULL) {
			add_str(w, "start", "2030-01-01T00:00:00Z", &ok);
			add_str(w, "end", "2030-01-01T23:00:00Z", &ok);
		}
	} else {
		add(o, "next_backup_window", cJSON_CreateNull(), &ok);
	}
	add(o, "image", render_base_image(&ok), &ok);
	arr = add(o, "volume_ids", cJSON_CreateArray(), &ok);
	for (i = 0; i < st->n_volumes; i++)
		if (st->volumes[i].droplet_id == d->id)
			push(arr, cJSON_CreateString(st->volumes[i].id), &ok);
	add(o, "size", render_size(d->size, &ok), &ok);
	add_str(o, "size_slug", d->size->slug, &ok);
	add(o, "networks", render_networks(d, &ok), &ok);
	add(o, "region", render_region(d->region), &ok);
	add(o, "tags", str_array((const char *const *)d->tags, d->n_tags, &ok), &ok);
	add_str(o, "vpc_uuid", "760e09ef-dc84-11e8-981e-3cfdfeaae000", &ok);
	return done(o, ok);
}

cJSON *
render_action(const struct maction *a)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o != NULL;

	if (o == NULL)
		return NULL;
	add_num(o, "id", (double)a->id, &ok);
	add_str(o, "status", maction_status_name(a->status), &ok);
	add_str(o, "type", maction_type_name(a->type), &ok);
	add_time(o, "started_at", a->started_at, &ok);
	if (a->status == MACTION_IN_PROGRESS)
		add(o, "completed_at", cJSON_CreateNull(), &ok);
	else
		add_time(o, "completed_at", a->completed_at, &ok);
	add_num(o, "resource_id", (double)a->droplet_id, &ok);
	add_str(o, "resource_type", "droplet", &ok);
	add(o, "region", render_region(a->region), &ok);
	add_str(o, "region_slug", a->region->slug, &ok);
	return done(o, ok);
}

static void
snapshot_base(cJSON *o, const char *name, double created, const struct mregion *r,
    int min_disk, double size, bool *ok)
{
	cJSON *regions;

	add_str(o, "name", name, ok);
	add_time(o, "created_at", created, ok);
	regions = add(o, "regions", cJSON_CreateArray(), ok);
	push(regions, cJSON_CreateString(r->slug), ok);
	add_num(o, "min_disk_size", min_disk, ok);
	add_num(o, "size_gigabytes", size, ok);
}

cJSON *
render_droplet_image(const struct mimage *img)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o != NULL;

	if (o == NULL)
		return NULL;
	add_num(o, "id", (double)img->id, &ok);
	snapshot_base(o, img->name, img->created_at, img->region, img->min_disk_size,
	    img->size_gigabytes, &ok);
	add_str(o, "type", img->backup ? "backup" : "snapshot", &ok);
	return done(o, ok);
}

cJSON *
render_image_snapshot(const struct mimage *img)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o != NULL;
	char buf[24];

	if (o == NULL)
		return NULL;
	snprintf(buf, sizeof(buf), "%lld", (long long)img->id);
	add_str(o, "id", buf, &ok);
	snapshot_base(o, img->name, img->created_at, img->region, img->min_disk_size,
	    img->size_gigabytes, &ok);
	snprintf(buf, sizeof(buf), "%lld", (long long)img->droplet_id);
	add_str(o, "resource_id", buf, &ok);
	add_str(o, "resource_type", "droplet", &ok);
	add(o, "tags", cJSON_CreateArray(), &ok);
	return done(o, ok);
}

cJSON *
render_vsnap(const struct mvsnap *vs)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o != NULL;

	if (o == NULL)
		return NULL;
	add_str(o, "id", vs->id, &ok);
	snapshot_base(o, vs->name, vs->created_at, vs->region, vs->min_disk_size,
	    vs->size_gigabytes, &ok);
	add_str(o, "resource_id", vs->volume_id, &ok);
	add_str(o, "resource_type", "volume", &ok);
	add(o, "tags", str_array((const char *const *)vs->tags, vs->n_tags, &ok), &ok);
	return done(o, ok);
}

cJSON *
render_volume(const struct mstate *st, const struct mvolume *v)
{
	cJSON *o = cJSON_CreateObject(), *ids;
	bool ok = o != NULL;
	(void)st;
	if (o == NULL)
		return NULL;
	add_str(o, "id", v->id, &ok);
	ids = add(o, "droplet_ids", cJSON_CreateArray(), &ok);
	if (v->droplet_id != 0)
		push(ids, cJSON_CreateNumber((double)v->droplet_id), &ok);
	add_str(o, "name", v->name, &ok);
	add_str(o, "description", "", &ok);
	add_num(o, "size_gigabytes", v->size_gigabytes, &ok);
	add_time(o, "created_at", v->created_at, &ok);
	add(o, "tags", cJSON_CreateArray(), &ok);
	add(o, "region", render_region(v->region), &ok);
	add_str(o, "filesystem_type", "ext4", &ok);
	add_str(o, "filesystem_label", "", &ok);
	return done(o, ok);
}

cJSON *
render_account(const struct maccount *a)
{
	cJSON *o = cJSON_CreateObject(), *team;
	bool ok = o != NULL;

	if (o == NULL)
		return NULL;
	add_num(o, "droplet_limit", a->droplet_limit, &ok);
	add_num(o, "floating_ip_limit", 3, &ok);
	add_str(o, "email", a->email, &ok);
	add_str(o, "name", "Sammy the Shark", &ok);
	add_str(o, "uuid", a->uuid, &ok);
	add_bool(o, "email_verified", true, &ok);
	add_str(o, "status", "active", &ok);
	add_str(o, "status_message", "", &ok);
	team = add(o, "team", cJSON_CreateObject(), &ok);
	if (team != NULL) {
		add_str(team, "uuid", "5df3e3004a17e242b7c20ca6c9fc25b701a47ece", &ok);
		add_str(team, "name", a->team, &ok);
	}
	return done(o, ok);
}
