/* api_json: the only cJSON user: decoding the API's answers into dosnap structs, and request bodies. */
#include <cjson/cJSON.h>
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "dosnap/redact.h"
#include "dosnap/tz.h"
#include "dosnap/util.h"

char api_decode_why[160];

static char *
dup_capped(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);
	char *d = malloc(n + 1);

	if (d == NULL)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/*
 * The API's times are RFC 3339; the tz module parses those for the whole
 * program ("2020-07-28T16:47:44Z", fractions and offsets allowed).
 */
int
api_parse_time(const char *s, int64_t *ret)
{
	if (s == NULL)
		return -EINVAL;
	return tz_parse_rfc3339(s, ret);
}

/*
 * cJSON builds the whole tree before anything can be counted, at about 100
 * bytes a value, so a body of tiny values ("[0,0,0,...]", which gzip
 * shrinks to almost nothing) would cost 25 times its size.  So the body is
 * scanned first: nesting over MAX_DEPTH is -EPROTO (cJSON parses
 * recursively), more than MAX_VALUES values is -EFBIG.  The count is an
 * upper bound (every value but a container's first follows a comma).
 */
static int
prescan(const char *s, size_t len, int max_depth, size_t max_values)
{
	bool in_string = false, escaped = false;
	size_t values = 1, i;
	int depth = 0;

	for (i = 0; i < len; i++) {
		char ch = s[i];

		if (in_string) {
			if (escaped)
				escaped = false;
			else if (ch == '\\')
				escaped = true;
			else if (ch == '"')
				in_string = false;
			continue;
		}
		if (ch == '"') {
			in_string = true;
		} else if (ch == '[' || ch == '{') {
			depth++;
			values++;
			if (depth > max_depth)
				return -EPROTO;
		} else if (ch == ']' || ch == '}') {
			depth--;
		} else if (ch == ',') {
			values++;
		} else {
			continue;
		}
		if (values > max_values) {
			snprintf(api_decode_why, sizeof(api_decode_why),
			    "the answer holds more than %zu JSON values", max_values);
			return -EFBIG;
		}
	}
	return 0;
}

/*
 * cJSON returns NULL both for text that is not JSON and when malloc fails;
 * its allocations go through this wrapper so that the second is told
 * apart and reported as what it is (exit 71), not as a garbled answer.
 */
static bool json_alloc_failed;

static void *
json_malloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL)
		json_alloc_failed = true;
	return p;
}

static void
json_hooks(void)
{
	static bool done;
	cJSON_Hooks h = { .malloc_fn = json_malloc, .free_fn = free };

	if (done)
		return;
	cJSON_InitHooks(&h);
	done = true;
}

static const cJSON *
jget(const cJSON *obj, const char *key)
{
	if (!cJSON_IsObject(obj))
		return NULL;
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/*
 * V's text; NULL when V is absent, null or not a string.  (cJSON_IsString
 * is false for NULL too, but gcc's -fanalyzer cannot see into it: every
 * string is read through here, with the test written out.)
 */
static const char *
jstring(const cJSON *v)
{
	if (v == NULL || !cJSON_IsString(v))
		return NULL;
	return v->valuestring;
}

/* Whether V is the string S. */
static bool
jis(const cJSON *v, const char *s)
{
	const char *t = jstring(v);

	return t != NULL && strcmp(t, s) == 0;
}

/* A new copy of string field KEY; NULL when absent, null or not a string. */
static int
jstr(const cJSON *obj, const char *key, char **ret)
{
	const char *s = jstring(jget(obj, key));

	*ret = NULL;
	if (s == NULL)
		return 0;
	*ret = dup_capped(s, STRING_MAX);
	return *ret == NULL ? -ENOMEM : 0;
}

static void
jstr_fixed(const cJSON *obj, const char *key, char *buf, size_t size)
{
	const char *s = jstring(jget(obj, key));

	buf[0] = '\0';
	if (s != NULL)
		snprintf(buf, size, "%s", s);
}

/* An integer from a JSON number (integral, exactly representable) or a decimal string. */
static bool
jint_value(const cJSON *v, int64_t *ret)
{
	const char *s = jstring(v);

	if (v != NULL && cJSON_IsNumber(v)) {
		double d = v->valuedouble;

		/* No libm: the dosnap binary does not link it.  The range test also rejects NaN. */
		if (!(d >= -9007199254740992.0 && d <= 9007199254740992.0) ||
		    (double)(int64_t)d != d)
			return false;
		*ret = (int64_t)d;
		return true;
	}
	if (s != NULL) {
		int64_t n = 0;
		size_t i, len = strnlen(s, 20);

		if (len == 0 || len > 18)
			return false;
		for (i = 0; i < len; i++) {
			if (s[i] < '0' || s[i] > '9')
				return false;
			n = n * 10 + (s[i] - '0');
		}
		if (s[len] != '\0')
			return false;
		*ret = n;
		return true;
	}
	return false;
}

static int64_t
jint(const cJSON *obj, const char *key, int64_t dflt)
{
	int64_t v;

	if (jint_value(jget(obj, key), &v))
		return v;
	return dflt;
}

static int64_t
jtime(const cJSON *obj, const char *key)
{
	const char *s = jstring(jget(obj, key));
	int64_t t;

	if (s == NULL || api_parse_time(s, &t) < 0)
		return 0;
	return t;
}

/* An id that the API gives as a number or a string, as a string. */
static int
jid_string(const cJSON *obj, const char *key, char **ret)
{
	const cJSON *v = jget(obj, key);
	const char *s = jstring(v);
	int64_t n;

	*ret = NULL;
	if (s != NULL && s[0] != '\0')
		*ret = dup_capped(s, 256);
	else if (v != NULL && cJSON_IsNumber(v) && jint_value(v, &n))
		*ret = str_printf("%lld", (long long)n);
	else
		return -EPROTO;
	return *ret == NULL ? -ENOMEM : 0;
}

/*
 * The strings of array KEY (other elements skipped); absent or null gives
 * none.  More than MAX elements is -EFBIG: what dosnap keeps of one item
 * is bounded, and a droplet's tags cut short could miss a tag: target.
 */
static int
jstrv(const cJSON *obj, const char *key, size_t max, char ***ret, size_t *ret_n)
{
	const cJSON *arr = jget(obj, key), *e;
	char **v;
	size_t n = 0, cap;

	*ret = NULL;
	*ret_n = 0;
	if (!cJSON_IsArray(arr))
		return 0;
	cap = (size_t)cJSON_GetArraySize(arr);
	if (cap == 0)
		return 0;
	if (cap > max) {
		snprintf(api_decode_why, sizeof(api_decode_why), "an item has more than %zu %s", max, key);
		return -EFBIG;
	}
	v = calloc(cap, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	cJSON_ArrayForEach(e, arr) {
		int64_t num;

		if (n == cap)
			break;
		if (jstring(e) != NULL)
			v[n] = dup_capped(jstring(e), STRING_MAX);
		else if (jint_value(e, &num))
			v[n] = str_printf("%lld", (long long)num);
		else
			continue;
		if (v[n] == NULL) {
			api_strv_free(v, n);
			return -ENOMEM;
		}
		n++;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static enum api_droplet_status
droplet_status_from(const char *s)
{
	if (s == NULL)
		return API_DROPLET_UNKNOWN;
	if (strcmp(s, "new") == 0)
		return API_DROPLET_NEW;
	if (strcmp(s, "active") == 0)
		return API_DROPLET_ACTIVE;
	if (strcmp(s, "off") == 0)
		return API_DROPLET_OFF;
	if (strcmp(s, "archive") == 0)
		return API_DROPLET_ARCHIVE;
	return API_DROPLET_UNKNOWN;
}

static int
decode_droplet(const cJSON *o, struct api_droplet *d)
{
	const cJSON *region;
	int r;

	memset(d, 0, sizeof(*d));
	if (!cJSON_IsObject(o) || !jint_value(jget(o, "id"), &d->id) || d->id <= 0)
		return -EPROTO;
	d->status = droplet_status_from(jstring(jget(o, "status")));
	d->locked = cJSON_IsTrue(jget(o, "locked"));
	d->created_at = jtime(o, "created_at");
	d->disk_gigabytes = jint(o, "disk", 0);
	r = jstr(o, "name", &d->name);
	if (r < 0)
		goto fail;
	region = jget(o, "region");
	r = jstr(region, "slug", &d->region);
	if (r < 0)
		goto fail;
	r = jstrv(o, "tags", API_ITEM_TAGS_MAX, &d->tags, &d->n_tags);
	if (r < 0)
		goto fail;
	r = jstrv(o, "volume_ids", API_ITEM_IDS_MAX, &d->volume_ids, &d->n_volume_ids);
	if (r < 0)
		goto fail;
	return 0;

fail:
	api_droplet_release(d);
	return r;
}

static enum api_action_status
action_status_from(const cJSON *v)
{
	const char *s = jstring(v);

	if (s == NULL)
		return API_ACTION_UNKNOWN;
	if (strcmp(s, "in-progress") == 0)
		return API_ACTION_IN_PROGRESS;
	if (strcmp(s, "completed") == 0)
		return API_ACTION_COMPLETED;
	if (strcmp(s, "errored") == 0)
		return API_ACTION_ERRORED;
	return API_ACTION_UNKNOWN;
}

static int
decode_action(const cJSON *o, struct api_action *a)
{
	memset(a, 0, sizeof(*a));
	if (!cJSON_IsObject(o) || !jint_value(jget(o, "id"), &a->id) || a->id <= 0)
		return -EPROTO;
	jstr_fixed(o, "type", a->type, sizeof(a->type));
	jstr_fixed(o, "resource_type", a->resource_type, sizeof(a->resource_type));
	a->status = action_status_from(jget(o, "status"));
	a->resource_id = jint(o, "resource_id", 0);
	a->started_at = jtime(o, "started_at");
	a->completed_at = jtime(o, "completed_at");
	return 0;
}

static int
decode_snapshot(const cJSON *o, bool droplet_list, struct api_snapshot *s)
{
	const cJSON *v;
	int r;

	memset(s, 0, sizeof(*s));
	if (!cJSON_IsObject(o))
		return -EPROTO;
	r = jid_string(o, "id", &s->id);
	if (r < 0)
		return r;
	r = jstr(o, "name", &s->name);
	if (r < 0)
		goto fail;
	s->created_at = jtime(o, "created_at");
	v = jget(o, "resource_id");
	if (v != NULL && !cJSON_IsNull(v)) {
		r = jid_string(o, "resource_id", &s->resource_id);
		if (r == -ENOMEM)
			goto fail;
	}
	v = jget(o, "resource_type");
	if (jis(v, "volume"))
		s->resource_type = API_RESOURCE_VOLUME;
	else if (droplet_list || jis(v, "droplet"))
		s->resource_type = API_RESOURCE_DROPLET;
	v = jget(o, "type");
	if (jis(v, "snapshot"))
		s->type = API_SNAPSHOT_TYPE_SNAPSHOT;
	else if (jis(v, "backup"))
		s->type = API_SNAPSHOT_TYPE_BACKUP;
	v = jget(o, "size_gigabytes");
	if (v != NULL && cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 1e15)
		s->size_gigabytes = v->valuedouble;
	s->min_disk_size = jint(o, "min_disk_size", 0);
	r = jstrv(o, "tags", API_ITEM_TAGS_MAX, &s->tags, &s->n_tags);
	if (r < 0)
		goto fail;
	return 0;

fail:
	api_snapshot_release(s);
	return r;
}

static int
decode_volume(const cJSON *o, struct api_volume *vol)
{
	const cJSON *arr, *e;
	size_t cap;
	int r;

	memset(vol, 0, sizeof(*vol));
	if (!cJSON_IsObject(o))
		return -EPROTO;
	r = jid_string(o, "id", &vol->id);
	if (r < 0)
		return r;
	r = jstr(o, "name", &vol->name);
	if (r < 0)
		goto fail;
	r = jstr(jget(o, "region"), "slug", &vol->region);
	if (r < 0)
		goto fail;
	vol->size_gigabytes = jint(o, "size_gigabytes", 0);
	vol->created_at = jtime(o, "created_at");
	arr = jget(o, "droplet_ids");
	if (cJSON_IsArray(arr) && cJSON_GetArraySize(arr) > 0) {
		cap = (size_t)cJSON_GetArraySize(arr);
		if (cap > API_ITEM_IDS_MAX) {
			snprintf(api_decode_why, sizeof(api_decode_why),
			    "an item has more than %d droplet_ids", API_ITEM_IDS_MAX);
			r = -EFBIG;
			goto fail;
		}
		vol->droplet_ids = calloc(cap, sizeof(*vol->droplet_ids));
		if (vol->droplet_ids == NULL) {
			r = -ENOMEM;
			goto fail;
		}
		cJSON_ArrayForEach(e, arr) {
			int64_t id;

			if (vol->n_droplet_ids == cap)
				break;
			if (jint_value(e, &id) && id > 0)
				vol->droplet_ids[vol->n_droplet_ids++] = id;
		}
	}
	return 0;

fail:
	api_volume_release(vol);
	return r;
}

static int
decode_account(const cJSON *o, struct api_account **ret)
{
	struct api_account *a;
	int r;

	if (!cJSON_IsObject(o))
		return -EPROTO;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return -ENOMEM;
	r = jstr(o, "email", &a->email);
	if (r == 0)
		r = jstr(o, "uuid", &a->uuid);
	if (r < 0) {
		api_account_free(a);
		return r;
	}
	jstr_fixed(o, "status", a->status, sizeof(a->status));
	a->droplet_limit = jint(o, "droplet_limit", 0);
	*ret = a;
	return 0;
}

/* Decode array KEY of ROOT with FN into a new array of ITEM_SIZE-byte items. */
typedef int (*decode_item_fn)(const cJSON *o, void *item, bool flag);

static int
decode_droplet_item(const cJSON *o, void *item, bool flag)
{
	(void)flag;
	return decode_droplet(o, item);
}

static int
decode_action_item(const cJSON *o, void *item, bool flag)
{
	(void)flag;
	return decode_action(o, item);
}

static int
decode_snapshot_item(const cJSON *o, void *item, bool flag)
{
	return decode_snapshot(o, flag, item);
}

static int
decode_volume_item(const cJSON *o, void *item, bool flag)
{
	(void)flag;
	return decode_volume(o, item);
}

static void
release_items(enum api_body_kind kind, void *items, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		switch (kind) {
		case API_BODY_DROPLETS:
			api_droplet_release(&((struct api_droplet *)items)[i]);
			break;
		case API_BODY_SNAPSHOTS:
		case API_BODY_DROPLET_SNAPSHOTS:
			api_snapshot_release(&((struct api_snapshot *)items)[i]);
			break;
		case API_BODY_VOLUMES:
			api_volume_release(&((struct api_volume *)items)[i]);
			break;
		default:
			break;
		}
	}
	free(items);
}

static int
decode_array(const cJSON *root, const char *key, enum api_body_kind kind,
    decode_item_fn fn, size_t item_size, bool flag, void **ret, size_t *ret_n)
{
	const cJSON *arr = jget(root, key), *e;
	unsigned char *items;
	size_t n = 0, count;
	int r;

	if (!cJSON_IsArray(arr))
		return -EPROTO;
	count = (size_t)cJSON_GetArraySize(arr);
	if (count > API_LIST_MAX) {
		snprintf(api_decode_why, sizeof(api_decode_why), "the listing has more than %d items",
		    API_LIST_MAX);
		return -EFBIG;
	}
	items = calloc(count > 0 ? count : 1, item_size);
	if (items == NULL)
		return -ENOMEM;
	cJSON_ArrayForEach(e, arr) {
		r = fn(e, items + n * item_size, flag);
		if (r < 0) {
			release_items(kind, items, n);
			return r;
		}
		n++;
	}
	*ret = items;
	*ret_n = n;
	return 0;
}

static int
decode_next(const cJSON *root, char **ret_next)
{
	const char *next;

	*ret_next = NULL;
	next = jstring(jget(jget(jget(root, "links"), "pages"), "next"));
	if (next == NULL || next[0] == '\0')
		return 0;
	*ret_next = dup_capped(next, 2048);
	return *ret_next == NULL ? -ENOMEM : 0;
}

static int
decode_list(enum api_body_kind kind, const cJSON *root, struct api_reply *reply)
{
	void *items = NULL;
	size_t n = 0;
	int r;

	switch (kind) {
	case API_BODY_DROPLETS:
		r = decode_array(root, "droplets", kind, decode_droplet_item,
		    sizeof(struct api_droplet), false, &items, &n);
		if (r < 0)
			return r;
		reply->droplets = calloc(1, sizeof(*reply->droplets));
		if (reply->droplets == NULL)
			goto nomem;
		reply->droplets->items = items;
		reply->droplets->n = n;
		return 0;
	case API_BODY_ACTIONS:
		r = decode_array(root, "actions", kind, decode_action_item,
		    sizeof(struct api_action), false, &items, &n);
		if (r < 0)
			return r;
		reply->actions = calloc(1, sizeof(*reply->actions));
		if (reply->actions == NULL)
			goto nomem;
		reply->actions->items = items;
		reply->actions->n = n;
		return 0;
	case API_BODY_SNAPSHOTS:
	case API_BODY_DROPLET_SNAPSHOTS:
		r = decode_array(root, "snapshots", kind, decode_snapshot_item,
		    sizeof(struct api_snapshot), kind == API_BODY_DROPLET_SNAPSHOTS,
		    &items, &n);
		if (r < 0)
			return r;
		reply->snapshots = calloc(1, sizeof(*reply->snapshots));
		if (reply->snapshots == NULL)
			goto nomem;
		reply->snapshots->items = items;
		reply->snapshots->n = n;
		return 0;
	case API_BODY_VOLUMES:
		r = decode_array(root, "volumes", kind, decode_volume_item,
		    sizeof(struct api_volume), false, &items, &n);
		if (r < 0)
			return r;
		reply->volumes = calloc(1, sizeof(*reply->volumes));
		if (reply->volumes == NULL)
			goto nomem;
		reply->volumes->items = items;
		reply->volumes->n = n;
		return 0;
	default:
		return -EINVAL;
	}

nomem:
	release_items(kind, items, n);
	return -ENOMEM;
}

static int
decode_single(enum api_body_kind kind, const cJSON *root, struct api_reply *reply)
{
	int r;

	switch (kind) {
	case API_BODY_ACCOUNT:
		return decode_account(jget(root, "account"), &reply->account);
	case API_BODY_DROPLET:
		reply->droplet = calloc(1, sizeof(*reply->droplet));
		if (reply->droplet == NULL)
			return -ENOMEM;
		r = decode_droplet(jget(root, "droplet"), reply->droplet);
		break;
	case API_BODY_ACTION:
		reply->action = calloc(1, sizeof(*reply->action));
		if (reply->action == NULL)
			return -ENOMEM;
		r = decode_action(jget(root, "action"), reply->action);
		break;
	case API_BODY_SNAPSHOT:
		reply->snapshot = calloc(1, sizeof(*reply->snapshot));
		if (reply->snapshot == NULL)
			return -ENOMEM;
		r = decode_snapshot(jget(root, "snapshot"), false, reply->snapshot);
		break;
	case API_BODY_VOLUME:
		reply->volume = calloc(1, sizeof(*reply->volume));
		if (reply->volume == NULL)
			return -ENOMEM;
		r = decode_volume(jget(root, "volume"), reply->volume);
		break;
	default:
		return -EINVAL;
	}
	if (r < 0) {
		/* The failed decoder released the members; free the shell. */
		free(reply->droplet);
		free(reply->action);
		free(reply->snapshot);
		free(reply->volume);
		reply->droplet = NULL;
		reply->action = NULL;
		reply->snapshot = NULL;
		reply->volume = NULL;
	}
	return r;
}

int
api_decode(enum api_body_kind kind, const char *body, size_t len,
    struct api_reply *reply, char **ret_next)
{
	const char *end = NULL;
	cJSON *root;
	char *next = NULL;
	int r;

	if (ret_next != NULL)
		*ret_next = NULL;
	if (reply == NULL || (body == NULL && len > 0) || kind < 0 || kind >= API_BODY__COUNT)
		return -EINVAL;
	api_decode_why[0] = '\0';
	if (body == NULL || len == 0)
		return -EPROTO;
	r = prescan(body, len, API_JSON_DEPTH_MAX, API_JSON_VALUES_MAX);
	if (r < 0)
		return r;
	json_hooks();
	json_alloc_failed = false;
	root = cJSON_ParseWithLengthOpts(body, len, &end, false);
	if (root == NULL)
		return json_alloc_failed ? -ENOMEM : -EPROTO;
	/* Only white space may follow the value: anything else means a garbled body. */
	for (; end != NULL && end < body + len && *end != '\0'; end++) {
		if (*end != ' ' && *end != '\t' && *end != '\r' && *end != '\n') {
			cJSON_Delete(root);
			return -EPROTO;
		}
	}
	if (!cJSON_IsObject(root)) {
		r = -EPROTO;
		goto out;
	}
	switch (kind) {
	case API_BODY_ERROR:
		jstr_fixed(root, "id", reply->error.id, sizeof(reply->error.id));
		jstr_fixed(root, "message", reply->error.message, sizeof(reply->error.message));
		jstr_fixed(root, "request_id", reply->error.request_id,
		    sizeof(reply->error.request_id));
		r = 0;
		break;
	case API_BODY_DROPLETS:
	case API_BODY_ACTIONS:
	case API_BODY_SNAPSHOTS:
	case API_BODY_DROPLET_SNAPSHOTS:
	case API_BODY_VOLUMES:
		r = decode_next(root, &next);
		if (r < 0)
			break;
		r = decode_list(kind, root, reply);
		break;
	default:
		r = decode_single(kind, root, reply);
		break;
	}
	if (r == 0 && ret_next != NULL) {
		*ret_next = next;
		next = NULL;
	}
out:
	free(next);
	cJSON_Delete(root);
#ifdef __GLIBC__
	/*
	 * A page of 200 droplets is a tree of tens of thousands of small
	 * allocations, freed between the long-lived ones of every flow: without
	 * this, glibc keeps the pages they leave free, and a run over a
	 * thousand droplets that lists them every round keeps tens of MiB
	 * resident it does not use.
	 */
	if (len >= API_TRIM_BODY)
		(void)malloc_trim(0);
#endif
	return r;
}

/*
 * The API's error body {"id","message","request_id"} into ERR.  The fields
 * are cut to their arrays only after the token is gone from the whole text
 * (redact_cut): a server that echoes the token must not get part of it
 * past a limit.
 */
void
api_json_error(const char *body, size_t len, const char *token, struct api_error *err)
{
	static const struct {
		const char *key;
		size_t off, size;
	} fields[] = {
		{ "id", offsetof(struct api_error, id), sizeof(err->id) },
		{ "message", offsetof(struct api_error, message), sizeof(err->message) },
		{ "request_id", offsetof(struct api_error, request_id), sizeof(err->request_id) },
	};
	const char *secrets[1] = { token };
	cJSON *root;
	size_t i;

	if (len == 0 || prescan(body, len, API_JSON_DEPTH_MAX, API_JSON_VALUES_MAX) < 0)
		return;
	json_hooks();
	root = cJSON_ParseWithLength(body, len);
	if (root == NULL)
		return;
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const char *s = jstring(jget(root, fields[i].key));

		if (s != NULL)
			redact_cut(secrets, token != NULL ? 1 : 0, s, strlen(s),
			    (char *)err + fields[i].off, fields[i].size, NULL);
	}
	cJSON_Delete(root);
}

char *
api_json_action_body(const char *type, const char *name)
{
	cJSON *o;
	char *s = NULL;

	o = cJSON_CreateObject();
	if (o == NULL)
		return NULL;
	if (type != NULL && cJSON_AddStringToObject(o, "type", type) == NULL)
		goto out;
	if (name != NULL && cJSON_AddStringToObject(o, "name", name) == NULL)
		goto out;
	s = cJSON_PrintUnformatted(o);
out:
	cJSON_Delete(o);
	return s;
}
