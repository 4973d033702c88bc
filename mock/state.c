/* state: the mock's world, loaded from a fixture or generated, and the transitions actions cause. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dosnap/calendar.h"
#include "dosnap/util.h"
#include "state.h"


const struct mregion mstate_regions[] = {
	{ "ams3", "Amsterdam 3" },
	{ "blr1", "Bangalore 1" },
	{ "fra1", "Frankfurt 1" },
	{ "lon1", "London 1" },
	{ "nyc1", "New York 1" },
	{ "nyc3", "New York 3" },
	{ "sfo3", "San Francisco 3" },
	{ "sgp1", "Singapore 1" },
	{ "syd1", "Sydney 1" },
	{ "tor1", "Toronto 1" },
	{ NULL, NULL },
};

const struct msize mstate_sizes[] = {
	{ "s-1vcpu-1gb", 1024, 1, 25, 6.0, 0.00893, "Basic" },
	{ "s-1vcpu-2gb", 2048, 1, 50, 12.0, 0.01786, "Basic" },
	{ "s-2vcpu-2gb", 2048, 2, 60, 18.0, 0.02679, "Basic" },
	{ "s-2vcpu-4gb", 4096, 2, 80, 24.0, 0.03571, "Basic" },
	{ "s-4vcpu-8gb", 8192, 4, 160, 48.0, 0.07143, "Basic" },
	{ "g-2vcpu-8gb", 8192, 2, 25, 63.0, 0.09375, "General Purpose" },
	{ NULL, 0, 0, 0, 0, 0, NULL },
};

static const char *const status_names[] = { "new", "active", "off", "archive" };
static const char *const action_status_names[] = { "in-progress", "completed", "errored" };
static const char *const action_type_names[] = {
	"power_off", "shutdown", "power_on", "reboot", "power_cycle", "snapshot", "volume_snapshot",
};

int
mstatus_parse(const char *s, enum mstatus *ret)
{
	size_t i;

	for (i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++) {
		if (strcmp(s, status_names[i]) == 0) {
			*ret = (enum mstatus)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *
mstatus_name(enum mstatus s)
{
	return status_names[s];
}

const char *
maction_status_name(enum maction_status s)
{
	return action_status_names[s];
}

const char *
maction_type_name(enum mock_action_type t)
{
	return action_type_names[t];
}

int
maction_type_parse(const char *s, enum mock_action_type *ret)
{
	size_t i;

	for (i = 0; i < MOCK_ACTION__COUNT; i++) {
		if (strcmp(s, action_type_names[i]) == 0) {
			*ret = (enum mock_action_type)i;
			return 0;
		}
	}
	return -EINVAL;
}

int
mstate_parse_time(const char *s, double *ret)
{
	int y, mo, d, h, mi, sec, n = 0;

	if (strlen(s) != 20)
		return -EINVAL;
	/* NOLINTNEXTLINE(cert-err34-c): every field is at most four digits, so none can overflow. */
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 20)
		return -EINVAL;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 ||
	    h < 0 || mi < 0 || sec < 0)
		return -EINVAL;
	*ret = (double)(cal_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec);
	return 0;
}

void
mstate_format_time(double t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
seterr(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errbuf == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

/* A uuid-shaped id that is the same on every run with the same seed. */
static void
make_uuid(struct mstate *st, char out[37])
{
	uint64_t a = st->seed * 0x9e3779b97f4a7c15ull + ++st->uuid_seq;
	uint64_t b = a * 0xbf58476d1ce4e5b9ull ^ (a >> 31);

	snprintf(out, 37, "%08" PRIx32 "-%04" PRIx32 "-4%03" PRIx32 "-a%03" PRIx32 "-%012" PRIx64,
	    (uint32_t)(b >> 32), (uint32_t)(b >> 16) & 0xffff, (uint32_t)b & 0xfff,
	    (uint32_t)(a >> 20) & 0xfff, (uint64_t)(a & 0xffffffffffffull));
}

static const struct mregion *
region_find(const char *slug)
{
	size_t i;

	for (i = 0; mstate_regions[i].slug != NULL; i++)
		if (strcmp(mstate_regions[i].slug, slug) == 0)
			return &mstate_regions[i];
	return NULL;
}

static const struct msize *
size_find(const char *slug)
{
	size_t i;

	for (i = 0; mstate_sizes[i].slug != NULL; i++)
		if (strcmp(mstate_sizes[i].slug, slug) == 0)
			return &mstate_sizes[i];
	return NULL;
}

/*
 * gcc 12's -fanalyzer loses a pointer stored at a variable index of a heap
 * array (st->droplets[st->n_droplets].name, vs.tags[i]) and calls it leaked;
 * mstate_free() frees every one of them.  Only that warning is silenced, and
 * only in this function.
 */
ANALYZER_LEAK_FP_BEGIN
static void
free_tags(char **tags, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(tags[i]);
	free(tags);
}
ANALYZER_LEAK_FP_END

void
mstate_free(struct mstate *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < st->n_droplets; i++) {
		free(st->droplets[i].name);
		free_tags(st->droplets[i].tags, st->droplets[i].n_tags);
	}
	free(st->droplets);
	for (i = 0; i < st->n_images; i++)
		free(st->images[i].name);
	free(st->images);
	for (i = 0; i < st->n_volumes; i++)
		free(st->volumes[i].name);
	free(st->volumes);
	for (i = 0; i < st->n_vsnaps; i++) {
		free(st->vsnaps[i].name);
		free_tags(st->vsnaps[i].tags, st->vsnaps[i].n_tags);
	}
	free(st->vsnaps);
	for (i = 0; i < st->n_actions; i++)
		free(st->actions[i].snapshot_name);
	free(st->actions);
	free(st);
}

static int
image_add(struct mstate *st, const struct mimage *img)
{
	int r;

	r = grow_array(&st->images, &st->cap_images, st->n_images + 1, sizeof(*st->images),
	    st->max_images);
	if (r < 0)
		return r;
	st->images[st->n_images++] = *img;
	return 0;
}

static int
vsnap_add(struct mstate *st, const struct mvsnap *vs)
{
	int r;

	r = grow_array(&st->vsnaps, &st->cap_vsnaps, st->n_vsnaps + 1, sizeof(*st->vsnaps),
	    st->max_vsnaps);
	if (r < 0)
		return r;
	st->vsnaps[st->n_vsnaps++] = *vs;
	return 0;
}

static int
cmp_droplet(const void *a, const void *b)
{
	const struct mdroplet *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static const char *
json_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A name the user controls: non-empty and at most MSTATE_MAX_NAME bytes. */
static bool
name_ok(const char *s)
{
	return s != NULL && s[0] != '\0' && strlen(s) <= MSTATE_MAX_NAME;
}

static int
load_tags(const cJSON *arr, char ***ret, size_t *ret_n)
{
	const cJSON *t;
	char **tags;
	size_t n = 0;

	*ret = NULL;
	*ret_n = 0;
	if (arr == NULL)
		return 0;
	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) > MSTATE_MAX_TAGS)
		return -EINVAL;
	tags = calloc(MSTATE_MAX_TAGS, sizeof(*tags));
	if (tags == NULL)
		return -ENOMEM;
	cJSON_ArrayForEach(t, arr) {
		if (!cJSON_IsString(t) || !name_ok(t->valuestring)) {
			free_tags(tags, n);
			return -EINVAL;
		}
		tags[n] = strdup(t->valuestring);
		if (tags[n] == NULL) {
			free_tags(tags, n);
			return -ENOMEM;
		}
		n++;
	}
	*ret = tags;
	*ret_n = n;
	return 0;
}

static int
load_image(struct mstate *st, const cJSON *js, int64_t droplet_id, const struct mregion *region,
    double wall, char *errbuf, size_t errlen)
{
	struct mimage img = { 0 };
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(js, "id");
	const char *name = json_str(js, "name"), *type = json_str(js, "type");
	const char *created = json_str(js, "created_at");
	const cJSON *size = cJSON_GetObjectItemCaseSensitive(js, "size_gigabytes");
	int r;

	if (!cJSON_IsNumber(id) || id->valuedouble < 1 || id->valuedouble > 9e15 || !name_ok(name)) {
		seterr(errbuf, errlen, "droplet %" PRId64 ": a snapshot needs an integer \"id\" and a \"name\"",
		    droplet_id);
		return -EINVAL;
	}
	if (mstate_image(st, (int64_t)id->valuedouble) != NULL) {
		seterr(errbuf, errlen, "snapshot id %" PRId64 " appears twice", (int64_t)id->valuedouble);
		return -EINVAL;
	}
	if (type != NULL && strcmp(type, "snapshot") != 0 && strcmp(type, "backup") != 0) {
		seterr(errbuf, errlen, "snapshot %" PRId64 ": \"type\" must be snapshot or backup",
		    (int64_t)id->valuedouble);
		return -EINVAL;
	}
	img.id = (int64_t)id->valuedouble;
	img.backup = type != NULL && strcmp(type, "backup") == 0;
	img.droplet_id = droplet_id;
	img.region = region;
	img.created_at = wall - 86400;
	if (created != NULL && mstate_parse_time(created, &img.created_at) < 0) {
		seterr(errbuf, errlen, "snapshot %" PRId64 ": \"created_at\" must be like 2024-05-01T12:00:00Z",
		    img.id);
		return -EINVAL;
	}
	img.min_disk_size = 25;
	img.size_gigabytes = cJSON_IsNumber(size) ? size->valuedouble : 2.36;
	img.name = strdup(name);
	if (img.name == NULL)
		return -ENOMEM;
	r = image_add(st, &img);
	if (r < 0)
		free(img.name);
	if (img.id >= st->next_image_id)
		st->next_image_id = img.id + 1;
	return r;
}

/* As above: a false -Wanalyzer-malloc-leak from gcc 12. */
ANALYZER_LEAK_FP_BEGIN
static int
load_droplet(struct mstate *st, const cJSON *js, struct mdroplet *d, double wall,
    char *errbuf, size_t errlen)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(js, "id");
	const cJSON *mis = cJSON_GetObjectItemCaseSensitive(js, "misbehave");
	const cJSON *snaps = cJSON_GetObjectItemCaseSensitive(js, "snapshots");
	const char *name = json_str(js, "name"), *status = json_str(js, "status");
	const char *region = json_str(js, "region"), *size = json_str(js, "size");
	const char *created = json_str(js, "created_at");
	const cJSON *it;
	double t;
	int r;

	if (!cJSON_IsNumber(id) || id->valuedouble < 1 || id->valuedouble > 9e15 || !name_ok(name)) {
		seterr(errbuf, errlen, "every droplet needs an integer \"id\" (>= 1) and a \"name\"");
		return -EINVAL;
	}
	d->id = (int64_t)id->valuedouble;
	d->status = MSTATUS_ACTIVE;
	if (status != NULL && mstatus_parse(status, &d->status) < 0) {
		seterr(errbuf, errlen, "droplet %" PRId64 ": unknown status '%s'", d->id, status);
		return -EINVAL;
	}
	d->region = region_find(region != NULL ? region : "nyc3");
	if (d->region == NULL) {
		seterr(errbuf, errlen, "droplet %" PRId64 ": unknown region '%s'", d->id, region);
		return -EINVAL;
	}
	d->size = size_find(size != NULL ? size : "s-1vcpu-1gb");
	if (d->size == NULL) {
		seterr(errbuf, errlen, "droplet %" PRId64 ": unknown size '%s'", d->id, size);
		return -EINVAL;
	}
	t = wall - 30 * 86400;
	if (created != NULL && mstate_parse_time(created, &t) < 0) {
		seterr(errbuf, errlen, "droplet %" PRId64 ": bad \"created_at\"", d->id);
		return -EINVAL;
	}
	mstate_format_time(t, d->created_at, sizeof(d->created_at));
	if (mis != NULL) {
		if (!cJSON_IsArray(mis)) {
			seterr(errbuf, errlen, "droplet %" PRId64 ": \"misbehave\" must be a list", d->id);
			return -EINVAL;
		}
		cJSON_ArrayForEach(it, mis) {
			if (!cJSON_IsString(it))
				goto bad_mis;
			if (strcmp(it->valuestring, "ignore_shutdown") == 0)
				d->misbehaviour |= MOCK_MISBEHAVE_IGNORE_SHUTDOWN;
			else if (strcmp(it->valuestring, "actions_error") == 0)
				d->misbehaviour |= MOCK_MISBEHAVE_ACTIONS_ERROR;
			else if (strcmp(it->valuestring, "actions_stall") == 0)
				d->misbehaviour |= MOCK_MISBEHAVE_ACTIONS_STALL;
			else if (strcmp(it->valuestring, "refuse_power_on") == 0)
				d->misbehaviour |= MOCK_MISBEHAVE_REFUSE_POWER_ON;
			else if (strcmp(it->valuestring, "stale_status") == 0)
				d->misbehaviour |= MOCK_MISBEHAVE_STALE_STATUS;
			else if (strcmp(it->valuestring, "phantom_snapshot") == 0)
				d->misbehaviour |= MOCK_MISBEHAVE_PHANTOM_SNAPSHOT;
			else
				goto bad_mis;
		}
	}
	d->ipv4 = (uint32_t)(0xa7630000u | ((uint32_t)d->id & 0xfffe)) | 1u; /* 167.99.x.y */
	d->name = strdup(name);
	if (d->name == NULL)
		return -ENOMEM;
	r = load_tags(cJSON_GetObjectItemCaseSensitive(js, "tags"), &d->tags, &d->n_tags);
	if (r == -EINVAL)
		seterr(errbuf, errlen, "droplet %" PRId64 ": \"tags\" must be a list of at most %d names",
		    d->id, MSTATE_MAX_TAGS);
	if (r < 0)
		return r;
	if (snaps != NULL) {
		if (!cJSON_IsArray(snaps)) {
			seterr(errbuf, errlen, "droplet %" PRId64 ": \"snapshots\" must be a list", d->id);
			return -EINVAL;
		}
		cJSON_ArrayForEach(it, snaps) {
			r = load_image(st, it, d->id, d->region, wall, errbuf, errlen);
			if (r < 0)
				return r;
		}
	}
	return 0;

bad_mis:
	seterr(errbuf, errlen, "droplet %" PRId64 ": \"misbehave\" takes ignore_shutdown, actions_error, actions_stall, "
	    "refuse_power_on, stale_status, phantom_snapshot",
	    d->id);
	return -EINVAL;
}
ANALYZER_LEAK_FP_END

static int
load_volume(struct mstate *st, const cJSON *js, struct mvolume *v, double wall,
    char *errbuf, size_t errlen)
{
	const char *id = json_str(js, "id"), *name = json_str(js, "name");
	const char *region = json_str(js, "region");
	const cJSON *did = cJSON_GetObjectItemCaseSensitive(js, "droplet_id");
	const cJSON *size = cJSON_GetObjectItemCaseSensitive(js, "size_gigabytes");
	const cJSON *snaps = cJSON_GetObjectItemCaseSensitive(js, "snapshots");
	const cJSON *it;
	struct mdroplet *d = NULL;

	if (!name_ok(name)) {
		seterr(errbuf, errlen, "every volume needs a \"name\"");
		return -EINVAL;
	}
	if (id != NULL && strlen(id) != 36) {
		seterr(errbuf, errlen, "volume '%s': \"id\" must be a uuid", name);
		return -EINVAL;
	}
	if (id != NULL)
		memcpy(v->id, id, 37);
	else
		make_uuid(st, v->id);
	if (mstate_volume(st, v->id) != NULL) {
		seterr(errbuf, errlen, "volume id %s appears twice", v->id);
		return -EINVAL;
	}
	if (did != NULL) {
		d = cJSON_IsNumber(did) ? mstate_droplet(st, (int64_t)did->valuedouble) : NULL;
		if (d == NULL) {
			seterr(errbuf, errlen, "volume '%s': \"droplet_id\" names no droplet", name);
			return -EINVAL;
		}
		v->droplet_id = d->id;
	}
	v->region = region_find(region != NULL ? region : d != NULL ? d->region->slug : "nyc3");
	if (v->region == NULL) {
		seterr(errbuf, errlen, "volume '%s': unknown region", name);
		return -EINVAL;
	}
	v->size_gigabytes = cJSON_IsNumber(size) && size->valuedouble >= 1 ? (int)size->valuedouble : 100;
	v->created_at = wall - 20 * 86400;
	v->name = strdup(name);
	if (v->name == NULL)
		return -ENOMEM;
	st->n_volumes++;
	if (snaps != NULL && !cJSON_IsArray(snaps)) {
		seterr(errbuf, errlen, "volume '%s': \"snapshots\" must be a list", name);
		return -EINVAL;
	}
	cJSON_ArrayForEach(it, snaps) {
		struct mvsnap vs = { 0 };
		const char *sname = json_str(it, "name"), *sid = json_str(it, "id");
		const char *created = json_str(it, "created_at");
		int r;

		if (!name_ok(sname) || (sid != NULL && strlen(sid) != 36)) {
			seterr(errbuf, errlen, "volume '%s': a snapshot needs a \"name\" (and a uuid \"id\" if any)",
			    name);
			return -EINVAL;
		}
		vs.created_at = wall - 86400;
		if (created != NULL && mstate_parse_time(created, &vs.created_at) < 0) {
			seterr(errbuf, errlen, "volume '%s': bad snapshot \"created_at\"", name);
			return -EINVAL;
		}
		if (sid != NULL)
			memcpy(vs.id, sid, 37);
		else
			make_uuid(st, vs.id);
		memcpy(vs.volume_id, v->id, 37);
		vs.region = v->region;
		vs.min_disk_size = v->size_gigabytes;
		vs.size_gigabytes = 0.5;
		vs.name = strdup(sname);
		if (vs.name == NULL)
			return -ENOMEM;
		r = vsnap_add(st, &vs);
		if (r < 0) {
			free(vs.name);
			return r;
		}
	}
	return 0;
}

static int
load_fixture(struct mstate *st, const char *text, double wall, char *errbuf, size_t errlen)
{
	cJSON *root;
	const cJSON *drops, *vols, *acct, *it;
	size_t n, i;
	int r = 0;

	root = cJSON_Parse(text);
	if (root == NULL || !cJSON_IsObject(root)) {
		seterr(errbuf, errlen, "not a JSON object");
		r = -EINVAL;
		goto out;
	}
	acct = cJSON_GetObjectItemCaseSensitive(root, "account");
	if (acct != NULL) {
		const char *email = json_str(acct, "email");
		const cJSON *lim = cJSON_GetObjectItemCaseSensitive(acct, "droplet_limit");

		if (email != NULL)
			snprintf(st->account.email, sizeof(st->account.email), "%s", email);
		if (cJSON_IsNumber(lim))
			st->account.droplet_limit = (int)lim->valuedouble;
	}
	drops = cJSON_GetObjectItemCaseSensitive(root, "droplets");
	if (!cJSON_IsArray(drops)) {
		seterr(errbuf, errlen, "\"droplets\" must be a list");
		r = -EINVAL;
		goto out;
	}
	n = (size_t)cJSON_GetArraySize(drops);
	if (n > MOCK_MAX_DROPLETS) {
		seterr(errbuf, errlen, "more than %d droplets", MOCK_MAX_DROPLETS);
		r = -EINVAL;
		goto out;
	}
	st->droplets = calloc(n + 1, sizeof(*st->droplets));
	if (st->droplets == NULL) {
		r = -ENOMEM;
		goto out;
	}
	cJSON_ArrayForEach(it, drops) {
		r = load_droplet(st, it, &st->droplets[st->n_droplets], wall, errbuf, errlen);
		st->n_droplets++;
		if (r < 0)
			goto out;
	}
	qsort(st->droplets, st->n_droplets, sizeof(*st->droplets), cmp_droplet);
	for (i = 1; i < st->n_droplets; i++) {
		if (st->droplets[i].id == st->droplets[i - 1].id) {
			seterr(errbuf, errlen, "droplet id %" PRId64 " appears twice", st->droplets[i].id);
			r = -EINVAL;
			goto out;
		}
	}
	vols = cJSON_GetObjectItemCaseSensitive(root, "volumes");
	if (vols != NULL) {
		if (!cJSON_IsArray(vols) || cJSON_GetArraySize(vols) > MOCK_MAX_DROPLETS) {
			seterr(errbuf, errlen, "\"volumes\" must be a list");
			r = -EINVAL;
			goto out;
		}
		st->volumes = calloc((size_t)cJSON_GetArraySize(vols) + 1, sizeof(*st->volumes));
		if (st->volumes == NULL) {
			r = -ENOMEM;
			goto out;
		}
		cJSON_ArrayForEach(it, vols) {
			r = load_volume(st, it, &st->volumes[st->n_volumes], wall, errbuf, errlen);
			if (r < 0)
				goto out;
		}
	}
out:
	cJSON_Delete(root);
	return r;
}

static const char *const gen_roles[] = { "web", "db", "worker" };
static const char *const gen_envs[] = { "env:prod", "env:staging" };

/* N droplets named like "web-prod-001", tagged by role and environment; every fourth has a volume. */
static int
generate(struct mstate *st, unsigned n, double wall)
{
	unsigned i, nvol = (n + 3) / 4;

	st->droplets = calloc((size_t)n + 1, sizeof(*st->droplets));
	st->volumes = calloc((size_t)nvol + 1, sizeof(*st->volumes));
	if (st->droplets == NULL || st->volumes == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct mdroplet *d = &st->droplets[i];
		const char *role = gen_roles[i % 3], *env = gen_envs[(i / 3) % 2];
		char name[64];

		d->id = 100000001 + (int64_t)i;
		d->status = MSTATUS_ACTIVE;
		d->region = &mstate_regions[5];
		d->size = &mstate_sizes[i % 3];
		mstate_format_time(wall - 30 * 86400, d->created_at, sizeof(d->created_at));
		d->ipv4 = 0xa7630001u + i;
		snprintf(name, sizeof(name), "%s-%s-%03u", role, env + 4, i + 1);
		d->name = strdup(name);
		d->tags = calloc(2, sizeof(*d->tags));
		st->n_droplets++;
		if (d->name == NULL || d->tags == NULL)
			return -ENOMEM;
		d->tags[0] = strdup(role);
		d->tags[1] = strdup(env);
		d->n_tags = 2;
		if (d->tags[0] == NULL || d->tags[1] == NULL)
			return -ENOMEM;
		if (i % 4 == 0) {
			struct mvolume *v = &st->volumes[st->n_volumes];

			make_uuid(st, v->id);
			snprintf(name, sizeof(name), "data-%03u", i + 1);
			v->name = strdup(name);
			if (v->name == NULL)
				return -ENOMEM;
			v->droplet_id = d->id;
			v->region = d->region;
			v->size_gigabytes = 100;
			v->created_at = wall - 20 * 86400;
			st->n_volumes++;
		}
	}
	return 0;
}

int
mstate_load(const char *path, unsigned n, uint64_t seed, double wall,
    struct mstate **ret, char *errbuf, size_t errlen)
{
	struct mstate *st;
	char *text = NULL;
	size_t len = 0;
	int r;

	if (n > MOCK_MAX_DROPLETS)
		return -EINVAL;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return -ENOMEM;
	st->seed = seed;
	st->max_images = MOCK_MAX_IMAGES;
	st->max_vsnaps = MOCK_MAX_VOLUME_SNAPSHOTS;
	st->max_actions = MOCK_MAX_ACTIONS;
	st->first_action_id = 2000000001;
	st->next_image_id = 170000001;
	snprintf(st->account.email, sizeof(st->account.email), "%s", "sammy@example.com");
	snprintf(st->account.team, sizeof(st->account.team), "%s", "My Team");
	st->account.droplet_limit = 25;
	if (path != NULL) {
		/* A link is followed, as fopen would; a FIFO or a directory is refused at once. */
		r = read_file_opt(path, MOCK_MAX_FIXTURE, READ_FILE_FOLLOW, &text, &len);
		if (r < 0) {
			seterr(errbuf, errlen, "cannot read fixture '%s': %s", path, strerror(-r));
			goto fail;
		}
		r = load_fixture(st, text, wall, errbuf, errlen);
		free(text);
	} else {
		r = generate(st, n, wall);
	}
	if (r < 0)
		goto fail;
	make_uuid(st, st->account.uuid);
	*ret = st;
	return 0;
fail:
	mstate_free(st);
	return r;
}

struct mdroplet *
mstate_droplet(struct mstate *st, int64_t id)
{
	struct mdroplet key = { .id = id };

	if (st->n_droplets == 0)
		return NULL;
	return bsearch(&key, st->droplets, st->n_droplets, sizeof(key), cmp_droplet);
}

struct maction *
mstate_action(struct mstate *st, int64_t id)
{
	if (id < st->first_action_id || id - st->first_action_id >= (int64_t)st->n_actions)
		return NULL;
	return &st->actions[id - st->first_action_id];
}

struct mimage *
mstate_image(struct mstate *st, int64_t id)
{
	size_t i;

	for (i = 0; i < st->n_images; i++)
		if (st->images[i].id == id)
			return &st->images[i];
	return NULL;
}

struct mvolume *
mstate_volume(struct mstate *st, const char *id)
{
	size_t i;

	for (i = 0; i < st->n_volumes; i++)
		if (strcmp(st->volumes[i].id, id) == 0)
			return &st->volumes[i];
	return NULL;
}

struct mvsnap *
mstate_vsnap(struct mstate *st, const char *id)
{
	size_t i;

	for (i = 0; i < st->n_vsnaps; i++)
		if (strcmp(st->vsnaps[i].id, id) == 0)
			return &st->vsnaps[i];
	return NULL;
}

bool
mdroplet_has_tag(const struct mdroplet *d, const char *tag)
{
	size_t i;

	for (i = 0; i < d->n_tags; i++)
		if (strcmp(d->tags[i], tag) == 0)
			return true;
	return false;
}

/* What a finished action does to its droplet. */
static void
finish(struct mstate *st, const struct mparams *p, struct maction *a, double wall)
{
	struct mdroplet *d = mstate_droplet(st, a->droplet_id);
	struct mimage img = { 0 };

	a->completed_at = wall;
	st->n_in_progress--;
	if (d != NULL && d->busy_action == a->id)
		d->busy_action = 0;
	if (d == NULL || (d->misbehaviour & MOCK_MISBEHAVE_ACTIONS_ERROR)) {
		a->status = MACTION_ERRORED;
		return;
	}
	a->status = MACTION_COMPLETED;
	switch (a->type) {
	case MOCK_ACTION_POWER_OFF:
		d->status = MSTATUS_OFF;
		d->stale_active = (d->misbehaviour & MOCK_MISBEHAVE_STALE_STATUS) != 0;
		break;
	case MOCK_ACTION_SHUTDOWN:
		if (!(d->misbehaviour & MOCK_MISBEHAVE_IGNORE_SHUTDOWN)) {
			d->status = MSTATUS_OFF;
			d->stale_active = (d->misbehaviour & MOCK_MISBEHAVE_STALE_STATUS) != 0;
		}
		break;
	case MOCK_ACTION_POWER_ON:
	case MOCK_ACTION_REBOOT:
	case MOCK_ACTION_POWER_CYCLE:
		d->status = MSTATUS_ACTIVE;
		break;
	case MOCK_ACTION_SNAPSHOT:
		if (d->misbehaviour & MOCK_MISBEHAVE_PHANTOM_SNAPSHOT)
			break;	/* "completed", and nothing to show for it */
		img.id = st->next_image_id++;
		img.name = a->snapshot_name;
		a->snapshot_name = NULL;
		img.droplet_id = d->id;
		img.region = d->region;
		img.created_at = wall;
		img.min_disk_size = d->size->disk;
		img.size_gigabytes = 2.36;
		if (image_add(st, &img) < 0) {
			/* Out of memory: the service would report that as a failed action. */
			free(img.name);
			a->status = MACTION_ERRORED;
			return;
		}
		if (d->status == MSTATUS_OFF && p->after_snapshot == MOCK_AFTER_SNAPSHOT_POWER_ON)
			d->status = MSTATUS_ACTIVE;
		break;
	case MOCK_ACTION_VOLUME_SNAPSHOT:
	case MOCK_ACTION__COUNT:
		break;
	}
}

void
mstate_advance(struct mstate *st, const struct mparams *p, double now, double wall)
{
	size_t i;

	if (st->n_in_progress == 0)
		return;
	for (i = 0; i < st->n_actions && st->n_in_progress > 0; i++) {
		struct maction *a = &st->actions[i];

		if (a->status != MACTION_IN_PROGRESS || a->due < 0 || a->due > now)
			continue;
		/* Report the time it should have finished, not the time someone looked. */
		finish(st, p, a, wall - (now - a->due) * p->time_scale);
	}
}

/* As above: a false -Wanalyzer-malloc-leak from gcc 12. */
ANALYZER_LEAK_FP_BEGIN
int
mstate_start_action(struct mstate *st, const struct mparams *p, struct mdroplet *d,
    enum mock_action_type type, const char *name, double now, double wall,
    struct maction **ret)
{
	struct maction *a;
	char buf[MSTATE_MAX_NAME + 1];
	int r;

	if (d->busy_action != 0)
		return -EBUSY;
	if (type == MOCK_ACTION_POWER_ON && (d->misbehaviour & MOCK_MISBEHAVE_REFUSE_POWER_ON))
		return -EBUSY;
	r = grow_array(&st->actions, &st->cap_actions, st->n_actions + 1, sizeof(*st->actions),
	    st->max_actions);
	if (r < 0)
		return r;
	a = &st->actions[st->n_actions];
	memset(a, 0, sizeof(*a));
	if (type == MOCK_ACTION_SNAPSHOT) {
		if (name == NULL) {
			snprintf(buf, sizeof(buf), "%s-%lld", d->name, (long long)wall);
			name = buf;
		}
		a->snapshot_name = strdup(name);
		if (a->snapshot_name == NULL)
			return -ENOMEM;
	}
	a->id = st->first_action_id + (int64_t)st->n_actions;
	a->type = type;
	a->status = MACTION_IN_PROGRESS;
	a->droplet_id = d->id;
	a->region = d->region;
	a->started_at = wall;
	a->due = (d->misbehaviour & MOCK_MISBEHAVE_ACTIONS_STALL) ? -1 : now + p->action_ms[type] / 1000.0;
	st->n_actions++;
	st->n_in_progress++;
	d->busy_action = a->id;
	/* Powered on again: the status is read afresh. */
	if (type == MOCK_ACTION_POWER_ON || type == MOCK_ACTION_REBOOT ||
	    type == MOCK_ACTION_POWER_CYCLE)
		d->stale_active = false;
	d->n_actions++;
	/* A zero duration finishes at once, so the 201 already says "completed". */
	mstate_advance(st, p, now, wall);
	*ret = a;
	return 0;
}
ANALYZER_LEAK_FP_END

/* As above: a false -Wanalyzer-malloc-leak from gcc 12. */
ANALYZER_LEAK_FP_BEGIN
int
mstate_snapshot_volume(struct mstate *st, struct mvolume *v, const char *name,
    const char *const *tags, size_t n_tags, double wall, struct mvsnap **ret)
{
	struct mvsnap vs = { 0 };
	size_t i;
	int r = -ENOMEM;

	if (n_tags > MSTATE_MAX_TAGS)
		return -EINVAL;
	make_uuid(st, vs.id);
	memcpy(vs.volume_id, v->id, 37);
	vs.region = v->region;
	vs.created_at = wall;
	vs.min_disk_size = v->size_gigabytes;
	vs.size_gigabytes = 0.5;
	vs.name = strdup(name);
	if (vs.name == NULL)
		goto fail;
	if (n_tags > 0) {
		vs.tags = calloc(n_tags, sizeof(*vs.tags));
		if (vs.tags == NULL)
			goto fail;
		for (i = 0; i < n_tags; i++) {
			vs.tags[i] = strdup(tags[i]);
			if (vs.tags[i] == NULL)
				goto fail;
			vs.n_tags++;
		}
	}
	r = vsnap_add(st, &vs);
	if (r < 0)
		goto fail;
	*ret = &st->vsnaps[st->n_vsnaps - 1];
	return 0;
fail:
	free(vs.name);
	free_tags(vs.tags, vs.n_tags);
	return r;
}
ANALYZER_LEAK_FP_END

int
mstate_delete_image(struct mstate *st, int64_t id)
{
	struct mimage *img = mstate_image(st, id);
	size_t i;

	if (img == NULL)
		return -ENOENT;
	i = (size_t)(img - st->images);
	free(img->name);
	memmove(img, img + 1, (st->n_images - i - 1) * sizeof(*img));
	st->n_images--;
	return 0;
}

int
mstate_delete_vsnap(struct mstate *st, const char *id)
{
	struct mvsnap *vs = mstate_vsnap(st, id);
	size_t i;

	if (vs == NULL)
		return -ENOENT;
	i = (size_t)(vs - st->vsnaps);
	free(vs->name);
	free_tags(vs->tags, vs->n_tags);
	memmove(vs, vs + 1, (st->n_vsnaps - i - 1) * sizeof(*vs));
	st->n_vsnaps--;
	return 0;
}
