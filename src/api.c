/* api: the DigitalOcean API client, the only code that speaks HTTP and JSON (libcurl, opened at run time). */

/*
 * libcurl is not linked: dosnap runs every minute and usually has nothing to
 * do, and mapping libcurl with its TLS and HTTP/2 libraries costs more than
 * the rest of the run.  The header gives the types; the functions come from
 * dlopen() into the table below when the first client is made.
 */
#define CURL_DISABLE_TYPECHECK 1
#define CURL_DISABLE_DEPRECATION 1
#include <curl/curl.h>

#include <cjson/cJSON.h>
#include <dlfcn.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dosnap/api.h"
#include "dosnap/tz.h"
#include "dosnap/util.h"

#ifndef DOSNAP_VERSION
#define DOSNAP_VERSION "unknown"
#endif

/* The oldest libcurl with everything used here (curl_multi_wakeup). */
#define CURL_MIN_VERSION	0x074400	/* 7.68.0 */
#define CURL_PROTOCOLS_STR_VERSION 0x075500	/* 7.85.0 */

#define TOKEN_MAX		1024
#define TRACE_LINE_MAX		(16 * 1024)
#define TRACE_BODY_MAX		4096
#define STRING_MAX		4096	/* any one string from a body */
#define HEADER_NUM_MAX		1000000000000L	/* a number in a header, clamped: x 1000 fits */
#define RETRY_AFTER_MAX_S	3600
#define ADOPT_PAGES_MAX		10
#define API_TRIM_BODY		(128 * 1024)	/* bodies after which the heap is trimmed */
#define HEAP_CHECK_BODY		(16 * 1024)	/* bodies before whose decoding the heap is measured */

/* --- libcurl, loaded at run time ----------------------------------------- */

static struct {
	bool loaded;
	unsigned version;
	CURLcode (*global_init)(long);
	curl_version_info_data *(*version_info)(CURLversion);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_cleanup)(CURLM *);
	CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_perform)(CURLM *, int *);
	CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd *, unsigned, int, int *);
	CURLMcode (*multi_wakeup)(CURLM *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	CURLU *(*url)(void);
	void (*url_cleanup)(CURLU *);
	CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
	CURLUcode (*url_get)(const CURLU *, CURLUPart, char **, unsigned int);
	void (*free)(void *);
} cf;

/* Copy a symbol into a function pointer without a cast between object and function pointers. */
#define LOAD_SYM(h, field, name)					\
	do {								\
		void *sym_ = dlsym((h), (name));			\
		if (sym_ == NULL)					\
			goto fail;					\
		memcpy(&cf.field, &sym_, sizeof(sym_));			\
	} while (0)

/*
 * Open libcurl once per process.  The handle is never closed: libcurl's
 * global state (TLS libraries) does not survive being unloaded and reloaded.
 */
static int
curl_load(const char *path)
{
	const char *names[] = { "libcurl.so.4", "libcurl.so" };
	curl_version_info_data *vi;
	void *h = NULL;
	size_t i;

	if (path != NULL) {
		/* An explicit path must load, even when libcurl is already in. */
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (h == NULL)
			return -ELIBACC;
		if (cf.loaded)
			return 0;	/* cppcheck-suppress resourceLeak ; never closed, see above */
	} else if (cf.loaded) {
		return 0;
	} else {
		for (i = 0; i < sizeof(names) / sizeof(names[0]) && h == NULL; i++)
			h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	}
	if (h == NULL)
		return -ELIBACC;
	LOAD_SYM(h, global_init, "curl_global_init");
	LOAD_SYM(h, version_info, "curl_version_info");
	LOAD_SYM(h, easy_init, "curl_easy_init");
	LOAD_SYM(h, easy_perform, "curl_easy_perform");
	LOAD_SYM(h, easy_cleanup, "curl_easy_cleanup");
	LOAD_SYM(h, easy_setopt, "curl_easy_setopt");
	LOAD_SYM(h, easy_getinfo, "curl_easy_getinfo");
	LOAD_SYM(h, easy_strerror, "curl_easy_strerror");
	LOAD_SYM(h, slist_append, "curl_slist_append");
	LOAD_SYM(h, slist_free_all, "curl_slist_free_all");
	LOAD_SYM(h, multi_init, "curl_multi_init");
	LOAD_SYM(h, multi_cleanup, "curl_multi_cleanup");
	LOAD_SYM(h, multi_setopt, "curl_multi_setopt");
	LOAD_SYM(h, multi_add_handle, "curl_multi_add_handle");
	LOAD_SYM(h, multi_remove_handle, "curl_multi_remove_handle");
	LOAD_SYM(h, multi_perform, "curl_multi_perform");
	LOAD_SYM(h, multi_poll, "curl_multi_poll");
	LOAD_SYM(h, multi_wakeup, "curl_multi_wakeup");
	LOAD_SYM(h, multi_info_read, "curl_multi_info_read");
	LOAD_SYM(h, url, "curl_url");
	LOAD_SYM(h, url_cleanup, "curl_url_cleanup");
	LOAD_SYM(h, url_set, "curl_url_set");
	LOAD_SYM(h, url_get, "curl_url_get");
	LOAD_SYM(h, free, "curl_free");
	vi = cf.version_info(CURLVERSION_NOW);
	if (vi == NULL || vi->version_num < CURL_MIN_VERSION)
		goto fail;
	cf.version = vi->version_num;
	if (cf.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		goto fail;
	cf.loaded = true;
	return 0;

fail:
	/* Keep h open: a partly resolved table must not point into unmapped code. */
	memset(&cf, 0, sizeof(cf));
	return -ELIBACC;
}

/* --- small helpers ------------------------------------------------------- */

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n-- > 0)
		*v++ = 0;
}

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

static int
ascii_lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch + ('a' - 'A') : ch;
}

static bool
prefix_icase(const char *s, const char *prefix)
{
	for (; *prefix != '\0'; s++, prefix++)
		if (ascii_lower((unsigned char)*s) != ascii_lower((unsigned char)*prefix))
			return false;
	return true;
}

/* A growing byte buffer with a hard cap. */
struct buf {
	char *data;
	size_t len, alloc, cap;
	bool overflow;
};

static int
buf_append(struct buf *b, const void *p, size_t n)
{
	size_t want;
	char *d;

	if (n > b->cap - b->len) {
		b->overflow = true;
		return -EFBIG;
	}
	want = b->len + n + 1;
	if (want > b->alloc) {
		size_t a = b->alloc > 0 ? b->alloc : 4096;

		while (a < want)
			a *= 2;
		/* Doubling must not take the allocation far past the cap. */
		if (a > b->cap + 1 && want <= b->cap + 1)
			a = b->cap + 1;
		d = realloc(b->data, a);
		if (d == NULL)
			return -ENOMEM;
		b->data = d;
		b->alloc = a;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

static void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->overflow = false;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static void
buf_release(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->alloc = 0;
}

/* Percent-encode S (RFC 3986 unreserved characters stay) into a new string. */
static char *
url_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strnlen(s, STRING_MAX), i, o = 0;
	char *d;

	d = malloc(n * 3 + 1);
	if (d == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' ||
		    ch == '~') {
			d[o++] = (char)ch;
		} else {
			d[o++] = '%';
			d[o++] = hex[ch >> 4];
			d[o++] = hex[ch & 15];
		}
	}
	d[o] = '\0';
	return d;
}

/* --- times --------------------------------------------------------------- */

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

/* --- loopback ------------------------------------------------------------ */

int
api_host_is_loopback(const char *host)
{
	unsigned a, b, c, d;
	char tail;

	if (host == NULL)
		return 0;
	if (strcmp(host, "[::1]") == 0 || strcmp(host, "::1") == 0)
		return 1;
	/*
	 * Only "localhost" itself, which libcurl answers without asking DNS:
	 * "localhost." and "x.localhost" are names a resolver may send anywhere.
	 */
	if (strcmp(host, "localhost") == 0)
		return 1;
	/* Only the plain dotted quad: "127.1" or octal forms are not taken. */
	/* NOLINTNEXTLINE(cert-err34-c): %3u reads at most three digits, so it cannot overflow. */
	if (sscanf(host, "%3u.%3u.%3u.%3u%c", &a, &b, &c, &d, &tail) != 4)
		return 0;
	if (strspn(host, "0123456789.") != strlen(host))
		return 0;
	return a == 127 && b <= 255 && c <= 255 && d <= 255;
}

/* --- freeing objects ----------------------------------------------------- */

static void
strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
droplet_release(struct api_droplet *d)
{
	free(d->name);
	free(d->region);
	strv_free(d->tags, d->n_tags);
	strv_free(d->volume_ids, d->n_volume_ids);
	memset(d, 0, sizeof(*d));
}

static void
snapshot_release(struct api_snapshot *s)
{
	free(s->id);
	free(s->name);
	free(s->resource_id);
	strv_free(s->tags, s->n_tags);
	memset(s, 0, sizeof(*s));
}

static void
volume_release(struct api_volume *v)
{
	free(v->id);
	free(v->name);
	free(v->region);
	free(v->droplet_ids);
	memset(v, 0, sizeof(*v));
}

void
api_droplet_free(struct api_droplet *d)
{
	if (d == NULL)
		return;
	droplet_release(d);
	free(d);
}

void
api_action_free(struct api_action *a)
{
	free(a);
}

void
api_snapshot_free(struct api_snapshot *s)
{
	if (s == NULL)
		return;
	snapshot_release(s);
	free(s);
}

void
api_volume_free(struct api_volume *v)
{
	if (v == NULL)
		return;
	volume_release(v);
	free(v);
}

void
api_account_free(struct api_account *a)
{
	if (a == NULL)
		return;
	free(a->email);
	free(a->uuid);
	free(a);
}

void
api_droplet_list_free(struct api_droplet_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		droplet_release(&l->items[i]);
	free(l->items);
	free(l);
}

void
api_action_list_free(struct api_action_list *l)
{
	if (l == NULL)
		return;
	free(l->items);
	free(l);
}

void
api_snapshot_list_free(struct api_snapshot_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		snapshot_release(&l->items[i]);
	free(l->items);
	free(l);
}

void
api_volume_list_free(struct api_volume_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		volume_release(&l->items[i]);
	free(l->items);
	free(l);
}

void
api_reply_release(struct api_reply *reply)
{
	if (reply == NULL)
		return;
	api_account_free(reply->account);
	api_droplet_free(reply->droplet);
	api_action_free(reply->action);
	api_snapshot_free(reply->snapshot);
	api_volume_free(reply->volume);
	api_droplet_list_free(reply->droplets);
	api_action_list_free(reply->actions);
	api_snapshot_list_free(reply->snapshots);
	api_volume_list_free(reply->volumes);
	reply->account = NULL;
	reply->droplet = NULL;
	reply->action = NULL;
	reply->snapshot = NULL;
	reply->volume = NULL;
	reply->droplets = NULL;
	reply->actions = NULL;
	reply->snapshots = NULL;
	reply->volumes = NULL;
}

const char *
api_droplet_status_name(enum api_droplet_status s)
{
	switch (s) {
	case API_DROPLET_NEW:
		return "new";
	case API_DROPLET_ACTIVE:
		return "active";
	case API_DROPLET_OFF:
		return "off";
	case API_DROPLET_ARCHIVE:
		return "archive";
	case API_DROPLET_UNKNOWN:
		break;
	}
	return "unknown";
}

const char *
api_action_status_name(enum api_action_status s)
{
	switch (s) {
	case API_ACTION_IN_PROGRESS:
		return "in-progress";
	case API_ACTION_COMPLETED:
		return "completed";
	case API_ACTION_ERRORED:
		return "errored";
	case API_ACTION_UNKNOWN:
		break;
	}
	return "unknown";
}

/* --- decoding ------------------------------------------------------------ */

/*
 * Why the last decode failed on a cap, for the error message: the decoders
 * are many small functions that return an errno, and only this thread
 * decodes (the client is single-threaded).  Set where a cap is hit, read
 * by decode_body's callers.
 */
static char decode_why[160];

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
			snprintf(decode_why, sizeof(decode_why),
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

/* A new copy of string field KEY; NULL when absent, null or not a string. */
static int
jstr(const cJSON *obj, const char *key, char **ret)
{
	const cJSON *v = jget(obj, key);

	*ret = NULL;
	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return 0;
	*ret = dup_capped(v->valuestring, STRING_MAX);
	return *ret == NULL ? -ENOMEM : 0;
}

static void
jstr_fixed(const cJSON *obj, const char *key, char *buf, size_t size)
{
	const cJSON *v = jget(obj, key);

	buf[0] = '\0';
	if (cJSON_IsString(v) && v->valuestring != NULL)
		snprintf(buf, size, "%s", v->valuestring);
}

/* An integer from a JSON number (integral, exactly representable) or a decimal string. */
static bool
jint_value(const cJSON *v, int64_t *ret)
{
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;

		/* No libm: the dosnap binary does not link it.  The range test also rejects NaN. */
		if (!(d >= -9007199254740992.0 && d <= 9007199254740992.0) ||
		    (double)(int64_t)d != d)
			return false;
		*ret = (int64_t)d;
		return true;
	}
	if (cJSON_IsString(v) && v->valuestring != NULL) {
		const char *s = v->valuestring;
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
	const cJSON *v = jget(obj, key);
	int64_t t;

	if (!cJSON_IsString(v) || api_parse_time(v->valuestring, &t) < 0)
		return 0;
	return t;
}

/* An id that the API gives as a number or a string, as a string. */
static int
jid_string(const cJSON *obj, const char *key, char **ret)
{
	const cJSON *v = jget(obj, key);
	int64_t n;

	*ret = NULL;
	if (cJSON_IsString(v) && v->valuestring != NULL && v->valuestring[0] != '\0')
		*ret = dup_capped(v->valuestring, 256);
	else if (cJSON_IsNumber(v) && jint_value(v, &n))
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
		snprintf(decode_why, sizeof(decode_why), "an item has more than %zu %s", max, key);
		return -EFBIG;
	}
	v = calloc(cap, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	cJSON_ArrayForEach(e, arr) {
		int64_t num;

		if (n == cap)
			break;
		if (cJSON_IsString(e) && e->valuestring != NULL)
			v[n] = dup_capped(e->valuestring, STRING_MAX);
		else if (jint_value(e, &num))
			v[n] = str_printf("%lld", (long long)num);
		else
			continue;
		if (v[n] == NULL) {
			strv_free(v, n);
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
	const cJSON *status, *region;
	int r;

	memset(d, 0, sizeof(*d));
	if (!cJSON_IsObject(o) || !jint_value(jget(o, "id"), &d->id) || d->id <= 0)
		return -EPROTO;
	status = jget(o, "status");
	d->status = droplet_status_from(cJSON_IsString(status) ? status->valuestring : NULL);
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
	droplet_release(d);
	return r;
}

static enum api_action_status
action_status_from(const cJSON *v)
{
	const char *s = cJSON_IsString(v) ? v->valuestring : NULL;

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
	if (cJSON_IsString(v) && strcmp(v->valuestring, "volume") == 0)
		s->resource_type = API_RESOURCE_VOLUME;
	else if (droplet_list || (cJSON_IsString(v) && strcmp(v->valuestring, "droplet") == 0))
		s->resource_type = API_RESOURCE_DROPLET;
	v = jget(o, "type");
	if (cJSON_IsString(v) && strcmp(v->valuestring, "snapshot") == 0)
		s->type = API_SNAPSHOT_TYPE_SNAPSHOT;
	else if (cJSON_IsString(v) && strcmp(v->valuestring, "backup") == 0)
		s->type = API_SNAPSHOT_TYPE_BACKUP;
	v = jget(o, "size_gigabytes");
	if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 1e15)
		s->size_gigabytes = v->valuedouble;
	s->min_disk_size = jint(o, "min_disk_size", 0);
	r = jstrv(o, "tags", API_ITEM_TAGS_MAX, &s->tags, &s->n_tags);
	if (r < 0)
		goto fail;
	return 0;

fail:
	snapshot_release(s);
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
			snprintf(decode_why, sizeof(decode_why),
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
	volume_release(vol);
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
			droplet_release(&((struct api_droplet *)items)[i]);
			break;
		case API_BODY_SNAPSHOTS:
		case API_BODY_DROPLET_SNAPSHOTS:
			snapshot_release(&((struct api_snapshot *)items)[i]);
			break;
		case API_BODY_VOLUMES:
			volume_release(&((struct api_volume *)items)[i]);
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
		snprintf(decode_why, sizeof(decode_why), "the listing has more than %d items",
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
	const cJSON *next;

	*ret_next = NULL;
	next = jget(jget(jget(root, "links"), "pages"), "next");
	if (!cJSON_IsString(next) || next->valuestring == NULL || next->valuestring[0] == '\0')
		return 0;
	*ret_next = dup_capped(next->valuestring, 2048);
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
	decode_why[0] = '\0';
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

/* --- the client and its requests ------------------------------------------ */

enum req_kind {
	REQ_GET,		/* one object */
	REQ_LIST,		/* pages, following links.pages.next */
	REQ_DELETE,
	REQ_POST_ACTION,	/* droplet action: adopted from the droplet's actions */
	REQ_POST_TAG,		/* tag action: never re-sent after an ambiguous failure */
	REQ_POST_VOLSNAP,	/* volume snapshot: adopted from the volume's snapshots by name */
};

enum req_state {
	RS_QUEUED,		/* waiting for its due time and the pacer */
	RS_RUNNING,		/* in the multi handle */
	RS_DONE,		/* reply ready; callback not yet run */
};

enum req_phase {
	PH_MAIN,
	PH_ADOPT,		/* reading what an ambiguous POST may have done */
};

struct req {
	struct req *next, *prev;
	struct api_client *c;
	uint64_t id;
	api_reply_fn cb;
	void *userdata;
	enum req_kind kind;
	enum api_body_kind body_kind;
	const char *method;		/* static string */
	char *url;			/* the current page or the request */
	char *post_body;
	char *resource_id;		/* given to droplet snapshots, which lack it */
	size_t max_items;
	size_t pages;
	size_t kept;			/* bytes of decoded items held, over the pages so far */
	uint64_t *seen;			/* hashes of the pages' URLs, to stop a listing that loops */
	size_t n_seen;

	/* For adopting the effect of an ambiguous POST. */
	int64_t droplet_id;
	char action_type[32];
	char *snap_name;
	char *adopt_url;
	size_t adopt_pages;
	int64_t first_sent_wall;	/* seconds; first time the POST went out */
	bool ambiguous_seen;
	bool final_adopt;		/* looking once more after a 422 to a re-sent POST */
	enum req_phase phase;
	int saved_r;
	struct api_error *saved_error;	/* while adopting only: most requests never need one */

	enum req_state state;
	int64_t due;			/* monotonic ms */
	int64_t deadline;		/* monotonic ms; retries stop here */
	int attempts;			/* in this phase, for this page */
	int main_attempts;		/* attempts, kept while adopting */
	int total_attempts;
	int64_t adopt_deadline;
	CURL *easy;
	struct buf body;
	bool bodies_full;		/* the client-wide cap on bodies stopped this one */
	bool body_nomem;		/* no memory for the body */
	char errbuf[CURL_ERROR_SIZE];

	/* From the response headers of the current attempt. */
	long retry_after_s;		/* -1: none */
	long rl_remaining;		/* -1: none */
	int64_t rl_reset;		/* 0: none */
	char request_id[72];		/* as in struct api_error: a UUID, with room */

	struct api_reply reply;
};

struct api_client {
	CURLM *multi;
	char *base;			/* scheme://host[:port][/prefix], no trailing '/' */
	bool http_ok;
	char *token;
	size_t token_len;
	char *auth_header;
	struct curl_slist *hdr_get, *hdr_post;
	char *cacert;

	long connect_timeout_ms, request_timeout_ms, low_speed_time_s;
	int max_connections, max_running;
	size_t max_body;
	size_t bodies;			/* bytes allocated for response bodies of live requests */
	int retry_max_attempts;
	long retry_max_total_ms, retry_base_ms, retry_cap_ms, adopt_slack_s;
	int rate_per_minute, rate_reserve;
	int64_t rate_window_ms;		/* the "minute" rate_per_minute counts over */

	api_trace_fn trace;
	void *trace_userdata;
	bool trace_bodies;

	struct req *head, *tail;	/* queued and running */
	struct req *done_head, *done_tail;
	size_t n_pending, n_running;
	uint64_t next_id;
	uint64_t rng;
	int in_callback;
	bool closing;

	/* Pacing: our own sends in the last minute, and the server's counters. */
	int64_t *sends;
	size_t sends_head, sends_n;
	int64_t blocked_until;		/* monotonic ms; after a 429 */
	bool have_rl;
	long rl_remaining;
	int64_t rl_reset;		/* Unix seconds */
	int64_t rl_hold_until;		/* monotonic ms; 0: not holding */
	int64_t pace_until;		/* when the pacer next lets a request go */

	/* For api_client_stats. */
	uint64_t stat_requests, stat_retries, stat_429;
};

/* xorshift64*: jitter needs no quality, only independence from rand()'s global state. */
static double
rng_unit(struct api_client *c)
{
	uint64_t x = c->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	c->rng = x;
	return (double)((x * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* --- tracing, with the token kept out ----------------------------------- */

/*
 * Copy LINE (N bytes) to OUT without the token: an Authorization header
 * becomes "Authorization: Bearer [REDACTED]", an "authorization:" inside
 * other text (libcurl's HTTP/2 notes print headers in brackets) loses its
 * value, and any other occurrence of the token becomes "[REDACTED]".
 */
static void
redact(const struct api_client *c, const char *line, size_t n, struct buf *out)
{
	static const char red[] = "[REDACTED]";
	size_t i = 0;

	buf_reset(out);
	if (n >= 14 && prefix_icase(line, "authorization:")) {
		buf_append(out, "Authorization: Bearer [REDACTED]", 32);
		return;
	}
	while (i < n) {
		if (c->token_len > 0 && n - i >= c->token_len &&
		    memcmp(line + i, c->token, c->token_len) == 0) {
			buf_append(out, red, sizeof(red) - 1);
			i += c->token_len;
			continue;
		}
		if (n - i >= 14 && prefix_icase(line + i, "authorization:")) {
			buf_append(out, line + i, 14);
			buf_append(out, " [REDACTED]", 11);
			i += 14;
			while (i < n && line[i] != ']' && line[i] != '\r' && line[i] != '\n')
				i++;
			continue;
		}
		buf_append(out, line + i, 1);
		i++;
	}
}

/*
 * Copy SRC (N bytes) into DST (SIZE bytes, NUL-terminated) without the
 * token: redact first, then cut.  Each position of SRC is compared with the
 * whole token over the whole of SRC, so a limit can never leave the first
 * part of a token behind; "[REDACTED]" goes in whole or not at all.
 * Returns how many bytes of SRC were used.
 */
static size_t
redact_cut(const struct api_client *c, const char *src, size_t n, char *dst, size_t size)
{
	static const char red[] = "[REDACTED]";
	size_t i = 0, o = 0;

	if (size == 0)
		return 0;
	while (i < n && o + 1 < size) {
		if (c->token_len > 0 && n - i >= c->token_len &&
		    memcmp(src + i, c->token, c->token_len) == 0) {
			if (o + sizeof(red) - 1 >= size)
				break;
			memcpy(dst + o, red, sizeof(red) - 1);
			o += sizeof(red) - 1;
			i += c->token_len;
			continue;
		}
		dst[o++] = src[i++];
	}
	dst[o] = '\0';
	return i;
}

static void
trace_text(const struct api_client *c, enum api_trace_kind kind, const char *data, size_t size)
{
	struct buf out = { .cap = TRACE_LINE_MAX };
	size_t start = 0, i;

	for (i = 0; i <= size; i++) {
		size_t end;

		if (i < size && data[i] != '\n')
			continue;
		end = i;
		if (end > start && data[end - 1] == '\r')
			end--;
		if (end > start) {
			redact(c, data + start, end - start, &out);
			if (out.data != NULL && out.len > 0)
				c->trace(kind, out.data, c->trace_userdata);
		}
		start = i + 1;
	}
	buf_release(&out);
}

static void
trace_event(const struct api_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
trace_event(const struct api_client *c, const char *fmt, ...)
{
	char small[1024], *line = small;
	va_list ap, ap2;
	int n;

	if (c->trace == NULL)
		return;
	/* Whole, then redacted, then cut (by trace_text): never cut first. */
	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	if (n >= 0 && (size_t)n >= sizeof(small)) {
		line = malloc((size_t)n + 1);
		if (line != NULL)
			vsnprintf(line, (size_t)n + 1, fmt, ap2);
	}
	va_end(ap2);
	va_end(ap);
	if (n >= 0 && line != NULL)
		trace_text(c, API_TRACE_EVENT, line, (size_t)n);
	if (line != small)
		free(line);
}

/*
 * Trace a request or response body: its first TRACE_BODY_MAX bytes,
 * redacted over the whole body first (redact_cut), so a token is hidden
 * wherever it lies, across any boundary of the pieces libcurl hands over.
 */
static void
trace_body(const struct api_client *c, enum api_trace_kind kind, const char *data, size_t len)
{
	char shown[TRACE_BODY_MAX + 1];
	size_t used;

	if (c->trace == NULL || !c->trace_bodies || data == NULL || len == 0)
		return;
	used = redact_cut(c, data, len, shown, sizeof(shown));
	trace_text(c, kind, shown, strlen(shown));
	if (used < len) {
		char note[96];

		snprintf(note, sizeof(note), "[body cut: %zu of %zu bytes shown]", used, len);
		c->trace(kind, note, c->trace_userdata);
	}
}

static int
debug_cb(CURL *easy, curl_infotype type, char *data, size_t size, void *userdata)
{
	struct req *q = userdata;
	const struct api_client *c = q->c;
	enum api_trace_kind kind;

	(void)easy;
	switch (type) {
	case CURLINFO_TEXT:
		kind = API_TRACE_TEXT;
		break;
	case CURLINFO_HEADER_IN:
		kind = API_TRACE_HEADER_IN;
		break;
	case CURLINFO_HEADER_OUT:
		kind = API_TRACE_HEADER_OUT;
		break;
	case CURLINFO_DATA_IN:
		kind = API_TRACE_DATA_IN;
		break;
	case CURLINFO_DATA_OUT:
		kind = API_TRACE_DATA_OUT;
		break;
	default:
		return 0;
	}
	/* Bodies are traced whole, once, from the request's buffers (trace_body). */
	if (kind == API_TRACE_DATA_IN || kind == API_TRACE_DATA_OUT)
		return 0;
	if (c->trace != NULL)
		trace_text(c, kind, data, size);
	return 0;
}

/* Replace the token wherever a server put it into an error's text. */
static void
scrub(const struct api_client *c, char *s, size_t size)
{
	struct buf out = { .cap = size * 2 + 64 };

	if (c->token_len == 0 || strstr(s, c->token) == NULL)
		return;
	redact(c, s, strlen(s), &out);
	if (out.data != NULL)
		snprintf(s, size, "%s", out.data);
	buf_release(&out);
}

/*
 * libcurl cuts its own error text (CURL_ERROR_SIZE) before dosnap sees it:
 * when S is full to SIZE, drop a tail that begins the token.
 */
static void
drop_token_tail(const struct api_client *c, char *s, size_t size)
{
	size_t n = strlen(s), k;

	if (c->token_len == 0 || n + 1 < size)
		return;
	for (k = c->token_len - 1 < n ? c->token_len - 1 : n; k > 0; k--) {
		if (memcmp(s + n - k, c->token, k) == 0) {
			s[n - k] = '\0';
			return;
		}
	}
}

/* --- callbacks from libcurl --------------------------------------------- */

static size_t
write_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct req *q = userdata;
	struct api_client *c = q->c;
	size_t n = size * nmemb, before = q->body.alloc;

	/*
	 * One body is capped; so are all of them together, so that many
	 * answers at once cannot add up to more than one run may hold.
	 */
	if (q->body.len + n >= q->body.alloc &&
	    c->bodies - q->body.alloc + q->body.len + n > API_BODIES_MAX) {
		q->body.overflow = true;
		q->bodies_full = true;
		return 0;
	}
	/* Returning less than N makes libcurl fail the transfer. */
	if (buf_append(&q->body, data, n) < 0) {
		q->body_nomem = !q->body.overflow;
		c->bodies += q->body.alloc - before;
		return 0;
	}
	c->bodies += q->body.alloc - before;
	return n;
}

/*
 * A header's number, -1 when there is none.  Clamped to HEADER_NUM_MAX, so
 * that arithmetic on it (a reset time in milliseconds) cannot overflow
 * whatever a server sends.
 */
static long
header_long(const char *v, size_t n)
{
	long x = 0;
	size_t i = 0;

	while (i < n && (v[i] == ' ' || v[i] == '\t'))
		i++;
	if (i == n || v[i] < '0' || v[i] > '9')
		return -1;
	for (; i < n && v[i] >= '0' && v[i] <= '9'; i++) {
		x = x * 10 + (v[i] - '0');
		if (x > HEADER_NUM_MAX)
			return HEADER_NUM_MAX;
	}
	return x;
}

static size_t
header_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct req *q = userdata;
	size_t n = size * nmemb, vn;
	const char *v;

	if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		/* A new response (after a 100 Continue, say): forget the last one's. */
		q->retry_after_s = -1;
		q->rl_remaining = -1;
		q->rl_reset = 0;
		q->request_id[0] = '\0';
		return n;
	}
	v = memchr(data, ':', n);
	if (v == NULL)
		return n;
	v++;
	vn = n - (size_t)(v - data);
	while (vn > 0 && (v[vn - 1] == '\r' || v[vn - 1] == '\n' || v[vn - 1] == ' '))
		vn--;
	if (n > 20 && prefix_icase(data, "ratelimit-remaining:")) {
		q->rl_remaining = header_long(v, vn);
	} else if (n > 16 && prefix_icase(data, "ratelimit-reset:")) {
		q->rl_reset = header_long(v, vn);
	} else if (n > 12 && prefix_icase(data, "retry-after:")) {
		q->retry_after_s = header_long(v, vn);
	} else if (n > 13 && prefix_icase(data, "x-request-id:")) {
		while (vn > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			vn--;
		}
		redact_cut(q->c, v, vn, q->request_id, sizeof(q->request_id));
	}
	return n;
}

/* --- the request list ---------------------------------------------------- */

static void
list_unlink(struct api_client *c, struct req *q)
{
	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		c->head = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	else
		c->tail = q->prev;
	q->next = q->prev = NULL;
}

static void
req_free(struct req *q)
{
	if (q == NULL)
		return;
	api_reply_release(&q->reply);
	free(q->url);
	free(q->post_body);
	free(q->resource_id);
	free(q->snap_name);
	free(q->adopt_url);
	free(q->saved_error);
	free(q->seen);
	q->c->bodies -= q->body.alloc;
	buf_release(&q->body);
	free(q);
}

static void
req_detach(struct req *q)
{
	struct api_client *c = q->c;

	if (q->easy == NULL)
		return;
	cf.multi_remove_handle(c->multi, q->easy);
	cf.easy_cleanup(q->easy);
	q->easy = NULL;
	c->n_running--;
}

/*
 * Finish Q with R (ERR when failing): move it to the done list, where its
 * callback runs from api_client_run.
 */
static void
req_complete(struct req *q, int r, const struct api_error *err)
{
	struct api_client *c = q->c;

	req_detach(q);
	list_unlink(c, q);
	q->state = RS_DONE;
	q->reply.r = r;
	q->reply.request = q->id;
	if (r < 0) {
		api_reply_release(&q->reply);
		if (err != NULL)
			q->reply.error = *err;
		q->reply.error.attempts = q->total_attempts;
		scrub(c, q->reply.error.message, sizeof(q->reply.error.message));
		scrub(c, q->reply.error.curl_error, sizeof(q->reply.error.curl_error));
		drop_token_tail(c, q->reply.error.curl_error, sizeof(q->reply.error.curl_error));
	}
	q->prev = c->done_tail;
	if (c->done_tail != NULL)
		c->done_tail->next = q;
	else
		c->done_head = q;
	c->done_tail = q;
}

/* "/v2/droplets/42/actions" from a full URL, for messages; a next link's path is the server's, so redacted. */
static void
url_path(const struct api_client *c, const char *url, char *buf, size_t size)
{
	const char *p = strstr(url, "://");

	p = p != NULL ? strchr(p + 3, '/') : url;
	if (p == NULL)
		p = "/";
	redact_cut(c, p, strcspn(p, "?#"), buf, size);
}

static const char *
req_method(const struct req *q)
{
	return q->phase == PH_ADOPT ? "GET" : q->method;
}

static const char *
req_url(const struct req *q)
{
	return q->phase == PH_ADOPT ? q->adopt_url : q->url;
}

static void
error_init(const struct req *q, struct api_error *err)
{
	memset(err, 0, sizeof(*err));
	snprintf(err->method, sizeof(err->method), "%s", req_method(q));
	url_path(q->c, req_url(q), err->path, sizeof(err->path));
}

/* --- pacing -------------------------------------------------------------- */

static void
pacer_note_send(struct api_client *c, int64_t now)
{
	size_t cap = (size_t)c->rate_per_minute;

	if (c->sends == NULL || cap == 0)
		return;
	if (c->sends_n == cap) {
		c->sends_head = (c->sends_head + 1) % cap;
		c->sends_n--;
	}
	c->sends[(c->sends_head + c->sends_n) % cap] = now;
	c->sends_n++;
}

/* What the response to Q said about the budget all requests share. */
static void
pacer_note_response(struct api_client *c, const struct req *q, long status, int64_t now)
{
	/*
	 * Answers can overtake each other, so a higher count than the one we
	 * hold may be stale; it can only really rise once the oldest counted
	 * request has expired, at the ratelimit-reset we were told.
	 */
	if (q->rl_remaining >= 0 && (!c->have_rl || q->rl_remaining <= c->rl_remaining ||
	    wall_ms() / 1000 >= c->rl_reset)) {
		c->have_rl = true;
		c->rl_remaining = q->rl_remaining;
		c->rl_reset = q->rl_reset;
		c->rl_hold_until = 0;
	}
	if (status == 429) {
		long s = q->retry_after_s >= 0 ? q->retry_after_s : 1;
		int64_t until;

		c->stat_429++;
		if (s > RETRY_AFTER_MAX_S)
			s = RETRY_AFTER_MAX_S;
		until = now + s * 1000;
		if (until > c->blocked_until)
			c->blocked_until = until;
	}
}

/*
 * Whether a request may start now: 0 if so, else the monotonic time to ask
 * again.  One budget for all requests: our own sends in the last minute
 * against rate_per_minute, the server's ratelimit-remaining (less requests
 * in flight and the reserve), and any retry-after from a 429.
 */
static int64_t
pacer_wait_until(struct api_client *c, int64_t now)
{
	if (c->blocked_until > now)
		return c->blocked_until;
	if (c->sends != NULL) {
		size_t cap = (size_t)c->rate_per_minute;

		while (c->sends_n > 0 && c->sends[c->sends_head] <= now - c->rate_window_ms) {
			c->sends_head = (c->sends_head + 1) % cap;
			c->sends_n--;
		}
		if (c->sends_n >= cap)
			return c->sends[c->sends_head] + c->rate_window_ms;
	}
	if (c->have_rl && c->rl_remaining - (long)c->n_running <= c->rate_reserve) {
		int64_t wait;

		/* Responses still to come will bring fresher counts. */
		if (c->n_running > 0)
			return now + 1000;
		if (c->rl_hold_until == 0) {
			/*
			 * ratelimit-reset: when the oldest counted request stops
			 * counting.  Clamped before the arithmetic (see header_long).
			 */
			wait = (c->rl_reset < HEADER_NUM_MAX ? c->rl_reset : HEADER_NUM_MAX) * 1000 -
			    wall_ms();
			if (wait < 1000)
				wait = 1000;
			if (wait > 3600 * 1000)
				wait = 3600 * 1000;
			c->rl_hold_until = now + wait;
		}
		if (now < c->rl_hold_until)
			return c->rl_hold_until;
		/* The hold is over: let one request through to learn the new count. */
		c->have_rl = false;
		c->rl_hold_until = 0;
	}
	return 0;
}

/* --- starting an attempt ------------------------------------------------- */

#define SETOPT(e, opt, val)						\
	do {								\
		if (cf.easy_setopt((e), (opt), (val)) != CURLE_OK)	\
			goto fail;					\
	} while (0)

static int
req_start(struct req *q, int64_t now)
{
	struct api_client *c = q->c;
	const char *method = req_method(q);
	CURL *e;

	e = cf.easy_init();
	if (e == NULL)
		return -ENOMEM;
	buf_reset(&q->body);
	q->body.cap = c->max_body;
	q->bodies_full = false;
	q->body_nomem = false;
	q->errbuf[0] = '\0';
	q->retry_after_s = -1;
	q->rl_remaining = -1;
	q->rl_reset = 0;
	q->request_id[0] = '\0';

	SETOPT(e, CURLOPT_URL, req_url(q));
	SETOPT(e, CURLOPT_PRIVATE, (void *)q);
	SETOPT(e, CURLOPT_NOSIGNAL, 1L);
	SETOPT(e, CURLOPT_ERRORBUFFER, q->errbuf);
	SETOPT(e, CURLOPT_WRITEFUNCTION, write_cb);
	SETOPT(e, CURLOPT_WRITEDATA, (void *)q);
	SETOPT(e, CURLOPT_HEADERFUNCTION, header_cb);
	SETOPT(e, CURLOPT_HEADERDATA, (void *)q);
	SETOPT(e, CURLOPT_USERAGENT, "dosnap/" DOSNAP_VERSION);
	SETOPT(e, CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(e, CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->cacert != NULL)
		SETOPT(e, CURLOPT_CAINFO, c->cacert);
	if (cf.version >= CURL_PROTOCOLS_STR_VERSION)
		SETOPT(e, CURLOPT_PROTOCOLS_STR, c->http_ok ? "http,https" : "https");
	else
		SETOPT(e, CURLOPT_PROTOCOLS, c->http_ok ? (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS) :
		    (long)CURLPROTO_HTTPS);
	SETOPT(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	SETOPT(e, CURLOPT_TIMEOUT_MS, c->request_timeout_ms);
	SETOPT(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	SETOPT(e, CURLOPT_LOW_SPEED_TIME, c->low_speed_time_s);
	SETOPT(e, CURLOPT_PIPEWAIT, 1L);
	SETOPT(e, CURLOPT_ACCEPT_ENCODING, "");
	if (strcmp(method, "POST") == 0) {
		SETOPT(e, CURLOPT_HTTPHEADER, c->hdr_post);
		SETOPT(e, CURLOPT_POSTFIELDS, q->post_body);
		SETOPT(e, CURLOPT_POSTFIELDSIZE, (long)strlen(q->post_body));
		trace_body(c, API_TRACE_DATA_OUT, q->post_body, strlen(q->post_body));
	} else {
		SETOPT(e, CURLOPT_HTTPHEADER, c->hdr_get);
		if (strcmp(method, "DELETE") == 0)
			SETOPT(e, CURLOPT_CUSTOMREQUEST, "DELETE");
	}
	if (c->trace != NULL) {
		SETOPT(e, CURLOPT_DEBUGFUNCTION, debug_cb);
		SETOPT(e, CURLOPT_DEBUGDATA, (void *)q);
		SETOPT(e, CURLOPT_VERBOSE, 1L);
	}
	if (cf.multi_add_handle(c->multi, e) != CURLM_OK)
		goto fail;
	q->easy = e;
	q->state = RS_RUNNING;
	q->attempts++;
	q->total_attempts++;
	c->stat_requests++;
	if (q->attempts > 1)	/* per phase and page: page 2 is no retry */
		c->stat_retries++;
	c->n_running++;
	pacer_note_send(c, now);
	if (q->phase == PH_MAIN && strcmp(method, "POST") == 0 && q->first_sent_wall == 0)
		q->first_sent_wall = wall_ms() / 1000;
	return 0;

fail:
	cf.easy_cleanup(e);
	return -EIO;
}

/* Start every queued request that is due, as far as the pacer allows. */
static void
start_due(struct api_client *c, int64_t now)
{
	struct req *q, *next;

	c->pace_until = 0;
	for (q = c->head; q != NULL; q = next) {
		struct api_error err;
		int64_t until;
		int r;

		next = q->next;
		if (q->state != RS_QUEUED || q->due > now)
			continue;
		if (c->n_running >= (size_t)c->max_running)
			break;
		until = pacer_wait_until(c, now);
		if (until > 0) {
			if (until <= q->deadline) {
				c->pace_until = until;
				break;
			}
			error_init(q, &err);
			err.transient = true;
			snprintf(err.message, sizeof(err.message),
			    "the API rate limit leaves no room before this request's deadline");
			req_complete(q, -EAGAIN, &err);
			continue;
		}
		r = req_start(q, now);
		if (r < 0) {
			error_init(q, &err);
			snprintf(err.message, sizeof(err.message), "cannot set up the transfer");
			req_complete(q, r, &err);
		}
	}
}

/* --- what an attempt's end means ------------------------------------------ */

struct outcome {
	int r;
	bool retry;		/* trying again may work */
	bool ambiguous;		/* the request went out and may have taken effect */
};

static bool
curl_code_transient(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_WEIRD_SERVER_REPLY:
		return true;
	default:
		return false;
	}
}

/*
 * The API's error body {"id","message","request_id"} into ERR.  The fields
 * are cut to their arrays only after the token is gone from the whole text
 * (redact_cut): a server that echoes the token must not get part of it
 * past a limit.
 */
static void
error_from_body(const struct req *q, struct api_error *err)
{
	static const struct {
		const char *key;
		size_t off, size;
	} fields[] = {
		{ "id", offsetof(struct api_error, id), sizeof(err->id) },
		{ "message", offsetof(struct api_error, message), sizeof(err->message) },
		{ "request_id", offsetof(struct api_error, request_id), sizeof(err->request_id) },
	};
	cJSON *root;
	size_t i;

	if (q->body.len == 0 || prescan(q->body.data, q->body.len, API_JSON_DEPTH_MAX,
	    API_JSON_VALUES_MAX) < 0)
		return;
	json_hooks();
	root = cJSON_ParseWithLength(q->body.data, q->body.len);
	if (root == NULL)
		return;
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const cJSON *v = jget(root, fields[i].key);

		if (cJSON_IsString(v) && v->valuestring != NULL)
			redact_cut(q->c, v->valuestring, strlen(v->valuestring),
			    (char *)err + fields[i].off, fields[i].size);
	}
	cJSON_Delete(root);
}

/*
 * A certificate the client cannot trust is a lasting failure: retrying
 * meets the same certificate.  Put what to do first in MSG (libcurl's words
 * after it, where truncation may cut them) and return true; false for any
 * other failure.
 */
static bool
certificate_failure(CURLcode cc, const char *why, char *msg, size_t size)
{
	const char *fix;
	int n;

	if (cc == CURLE_SSL_CACERT_BADFILE)
		fix = "cannot use the CA certificates: check the file given to --cacert FILE";
	else if (cc != CURLE_PEER_FAILED_VERIFICATION)
		return false;
	else if (strstr(why, "expired") != NULL)
		fix = "the server's TLS certificate has expired: the server must renew it, "
		    "or this machine's clock is wrong";
	else if (strstr(why, "not yet valid") != NULL)
		fix = "the server's TLS certificate is not valid yet: check this machine's clock";
	else if (strstr(why, "host name") != NULL || strstr(why, "hostname") != NULL)
		fix = "the server's TLS certificate is for another host name: check the host in --api-url";
	else
		fix = "the server's TLS certificate is not signed by a CA this machine trusts: "
		    "for a private CA, pass its certificate with --cacert FILE";
	n = snprintf(msg, size, "%s (%s)", fix, why);
	if (n > 0 && (size_t)n >= size && size > 1)
		msg[size - 2] = ')';	/* cut inside libcurl's words: close what was opened */
	return true;
}

/* Fill O and ERR for an attempt that did not bring a usable 2xx answer. */
static void
classify(struct req *q, CURLcode cc, long status, bool sent, struct api_error *err,
    struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	if (cc != CURLE_OK) {
		snprintf(err->curl_error, sizeof(err->curl_error), "%s",
		    q->errbuf[0] != '\0' ? q->errbuf : cf.easy_strerror(cc));
		if (cc == CURLE_WRITE_ERROR && q->body_nomem) {
			o->r = -ENOMEM;
			snprintf(err->message, sizeof(err->message),
			    "out of memory receiving the answer (%zu bytes so far)", q->body.len);
			return;
		}
		if (cc == CURLE_WRITE_ERROR && q->bodies_full) {
			o->r = -EFBIG;
			snprintf(err->message, sizeof(err->message),
			    "the answers in progress hold more than %u MiB together",
			    API_BODIES_MAX / (1024 * 1024));
			return;
		}
		if (cc == CURLE_WRITE_ERROR && q->body.overflow) {
			o->r = -EFBIG;
			snprintf(err->message, sizeof(err->message),
			    "the response body is larger than %zu bytes (decompressed)",
			    q->c->max_body);
			return;
		}
		if (certificate_failure(cc, err->curl_error, err->message, sizeof(err->message))) {
			o->r = -EPERM;
			return;
		}
		o->r = cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
		o->retry = curl_code_transient(cc);
		o->ambiguous = o->retry && sent;
		err->transient = o->retry;
		return;
	}

	/* An HTTP error: the API says why in its body, 502s from proxies do not. */
	error_from_body(q, err);
	if (err->request_id[0] == '\0')
		snprintf(err->request_id, sizeof(err->request_id), "%s", q->request_id);

	switch (status) {
	case 401:
	case 403:
		o->r = -EACCES;
		break;
	case 404:
		o->r = -ENOENT;
		break;
	case 408:
		o->r = -ETIMEDOUT;
		o->retry = true;
		o->ambiguous = true;
		break;
	case 422:
		o->r = q->kind == REQ_POST_ACTION || q->kind == REQ_POST_TAG ? -EBUSY : -EINVAL;
		break;
	case 429:
		o->r = -EAGAIN;
		o->retry = true;
		break;
	case 500:
	case 502:
	case 503:
	case 504:
		o->r = -EIO;
		o->retry = true;
		o->ambiguous = true;
		break;
	default:
		o->r = status >= 500 ? -EIO : -EINVAL;
		break;
	}
	err->transient = status >= 500 || status == 429 || status == 408;
	if (err->message[0] == '\0' && status >= 500)
		snprintf(err->message, sizeof(err->message), "server error");
}

/* The delay before attempt number q->attempts + 1: exponential, jittered, at least retry-after. */
static long
backoff_ms(struct req *q)
{
	const struct api_client *c = q->c;
	double d = (double)c->retry_base_ms;
	int i;

	for (i = 1; i < q->attempts && d < (double)c->retry_cap_ms; i++)
		d *= 2;
	if (d > (double)c->retry_cap_ms)
		d = (double)c->retry_cap_ms;
	d *= 0.5 + 0.5 * rng_unit(q->c);
	if (q->retry_after_s >= 0) {
		long ra = q->retry_after_s > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : q->retry_after_s;

		if (d < (double)ra * 1000)
			d = (double)ra * 1000;
	}
	return (long)d;
}

static bool
can_retry(const struct req *q, int64_t now, long delay)
{
	int64_t deadline = q->phase == PH_ADOPT ? q->adopt_deadline : q->deadline;

	return q->attempts < q->c->retry_max_attempts && now + delay <= deadline;
}

static void
req_requeue(struct req *q, int64_t now, long delay)
{
	req_detach(q);
	q->state = RS_QUEUED;
	q->due = now + delay;
}

static void
describe_failure(const struct api_error *err, char *buf, size_t size)
{
	/* A 2xx that failed is a body that could not be read: say so, not "200". */
	if (err->http_status >= 200 && err->http_status < 300)
		snprintf(buf, size, "HTTP %ld, but %s", err->http_status,
		    err->message[0] != '\0' ? err->message : "the answer could not be read");
	else if (err->http_status > 0)
		snprintf(buf, size, "HTTP %ld%s%s", err->http_status,
		    err->id[0] != '\0' ? " " : "", err->id);
	else
		snprintf(buf, size, "%s", err->curl_error[0] != '\0' ? err->curl_error : "failed");
}

/* Retry Q after a backoff if it may; returns whether it did. */
static bool
maybe_retry(struct req *q, struct api_error *err, int64_t now)
{
	char why[300];
	long delay = backoff_ms(q);

	if (!can_retry(q, now, delay))
		return false;
	describe_failure(err, why, sizeof(why));
	trace_event(q->c, "%s %s: %s, retrying in %.1f s (attempt %d of %d)", err->method,
	    err->path, why, (double)delay / 1000, q->attempts + 1, q->c->retry_max_attempts);
	req_requeue(q, now, delay);
	return true;
}

/* --- adopting an ambiguous POST's effect ----------------------------------- */

static void
adopt_begin(struct req *q, int r, const struct api_error *err, int64_t now, long delay)
{
	struct api_client *c = q->c;
	char *url;

	if (q->kind == REQ_POST_ACTION)
		url = str_printf("%s/v2/droplets/%lld/actions?per_page=%d", c->base,
		    (long long)q->droplet_id, API_PER_PAGE);
	else
		url = str_printf("%s/v2/volumes/%s/snapshots?per_page=%d", c->base,
		    q->resource_id, API_PER_PAGE);
	q->saved_r = r;
	free(q->saved_error);
	q->saved_error = malloc(sizeof(*q->saved_error));
	if (url == NULL || q->saved_error == NULL) {
		struct api_error e = *err;

		e.ambiguous = true;
		free(url);
		req_complete(q, r, &e);
		return;
	}
	*q->saved_error = *err;
	q->saved_error->ambiguous = true;
	free(q->adopt_url);
	q->adopt_url = url;
	q->adopt_pages = 0;
	q->main_attempts = q->attempts;
	q->attempts = 0;
	q->phase = PH_ADOPT;
	q->adopt_deadline = now + delay + c->retry_max_total_ms;
	{
		char why[384];

		describe_failure(err, why, sizeof(why));
		trace_event(c, "%s %s: %s; checking whether it took effect before sending it again",
		    err->method, err->path, why);
	}
	req_requeue(q, now, delay);
}

/* Look in one page of the adoption listing; 1 when found and adopted. */
static int
adopt_search(struct req *q, struct api_reply *page)
{
	int64_t since = q->first_sent_wall;
	size_t i;

	if (q->c->adopt_slack_s > 0)
		since -= q->c->adopt_slack_s;
	if (q->kind == REQ_POST_ACTION && page->actions != NULL) {
		const struct api_action *best = NULL;

		for (i = 0; i < page->actions->n; i++) {
			const struct api_action *a = &page->actions->items[i];

			if (strcmp(a->type, q->action_type) != 0 || a->started_at < since ||
			    a->started_at == 0)
				continue;
			if (a->resource_id != 0 && a->resource_id != q->droplet_id)
				continue;
			if (best == NULL || a->started_at > best->started_at ||
			    (a->started_at == best->started_at && a->id > best->id))
				best = a;
		}
		if (best == NULL)
			return 0;
		q->reply.action = malloc(sizeof(*q->reply.action));
		if (q->reply.action == NULL)
			return -ENOMEM;
		*q->reply.action = *best;
		return 1;
	}
	if (q->kind == REQ_POST_VOLSNAP && page->snapshots != NULL) {
		for (i = 0; i < page->snapshots->n; i++) {
			struct api_snapshot *s = &page->snapshots->items[i];

			if (s->name == NULL || strcmp(s->name, q->snap_name) != 0)
				continue;
			q->reply.snapshot = malloc(sizeof(*q->reply.snapshot));
			if (q->reply.snapshot == NULL)
				return -ENOMEM;
			/* Move the item out; the page's list frees an empty shell. */
			*q->reply.snapshot = *s;
			memset(s, 0, sizeof(*s));
			return 1;
		}
	}
	return 0;
}

static int next_url(const struct api_client *c, const char *link, const char *current,
    char **ret);

static void
adopt_done(struct req *q, CURLcode cc, long status, bool sent, int64_t now)
{
	struct api_client *c = q->c;
	struct api_reply page = { 0 };
	struct api_error err;
	struct outcome o;
	char *next = NULL, *url = NULL;
	int r;

	error_init(q, &err);
	err.http_status = status;
	if (cc != CURLE_OK || status < 200 || status >= 300) {
		classify(q, cc, status, sent, &err, &o);
		if (o.retry && maybe_retry(q, &err, now))
			return;
		req_complete(q, q->saved_r, q->saved_error);
		return;
	}
	r = api_decode(q->kind == REQ_POST_ACTION ? API_BODY_ACTIONS : API_BODY_SNAPSHOTS,
	    q->body.data, q->body.len, &page, &next);
	if (r == -ENOMEM) {
		snprintf(q->saved_error->message, sizeof(q->saved_error->message),
		    "out of memory decoding the answer (%zu bytes)", q->body.len);
		req_complete(q, r, q->saved_error);
		return;
	}
	if (r < 0) {
		snprintf(err.message, sizeof(err.message), "the answer is not valid JSON of the expected shape");
		if (maybe_retry(q, &err, now))
			return;
		req_complete(q, q->saved_r, q->saved_error);
		return;
	}
	r = adopt_search(q, &page);
	api_reply_release(&page);
	if (r < 0) {
		free(next);
		req_complete(q, r, q->saved_error);
		return;
	}
	if (r > 0) {
		free(next);
		q->reply.adopted = true;
		trace_event(c, "%s %s: found what the failed request did; adopted, not sent again",
		    q->saved_error->method, q->saved_error->path);
		req_complete(q, 0, NULL);
		return;
	}
	if (next != NULL && ++q->adopt_pages < ADOPT_PAGES_MAX &&
	    next_url(c, next, q->adopt_url, &url) == 0) {
		free(next);
		free(q->adopt_url);
		q->adopt_url = url;
		q->attempts = 0;
		req_requeue(q, now, 0);
		return;
	}
	free(next);

	/* Not there: the failed request did nothing, so sending it again is safe. */
	q->saved_error->ambiguous = false;
	q->phase = PH_MAIN;
	q->attempts = q->main_attempts;
	if (q->final_adopt || q->attempts >= c->retry_max_attempts || now > q->deadline) {
		req_complete(q, q->saved_r, q->saved_error);
		return;
	}
	trace_event(c, "%s %s: it did not take effect; sending it again (attempt %d of %d)",
	    q->saved_error->method, q->saved_error->path, q->attempts + 1, c->retry_max_attempts);
	req_requeue(q, now, 0);
}

/* --- a finished attempt of the request itself ------------------------------ */

/*
 * The URL of the next page: the path and query of LINK (from "/v2/" on)
 * under our own base URL, so that a link can never send the token to
 * another host.  -EPROTO for a link that is odd or points back at CURRENT.
 */
static int
next_url(const struct api_client *c, const char *link, const char *current, char **ret)
{
	const char *p, *v2;
	char *url;
	size_t i;

	for (i = 0; link[i] != '\0'; i++)
		if ((unsigned char)link[i] <= 0x20 || (unsigned char)link[i] >= 0x7f)
			return -EPROTO;
	p = strstr(link, "://");
	p = p != NULL ? strchr(p + 3, '/') : link;
	if (p == NULL)
		return -EPROTO;
	v2 = strstr(p, "/v2/");
	if (v2 == NULL)
		return -EPROTO;
	url = str_printf("%s%s", c->base, v2);
	if (url == NULL)
		return -ENOMEM;
	if (strcmp(url, current) == 0) {
		free(url);
		return -EPROTO;
	}
	*ret = url;
	return 0;
}

/* Move ADD's items to the end of *ITEMS (N of them, ITEM_SIZE bytes each). */
static int
append_items(void **items, size_t *n, void *add, size_t add_n, size_t item_size)
{
	unsigned char *d;

	if (add_n == 0)
		return 0;
	if (*n + add_n > API_LIST_MAX) {
		snprintf(decode_why, sizeof(decode_why), "the listing has more than %d items",
		    API_LIST_MAX);
		return -EFBIG;
	}
	d = realloc(*items, (*n + add_n) * item_size);
	if (d == NULL)
		return -ENOMEM;
	memcpy(d + *n * item_size, add, add_n * item_size);
	*items = d;
	*n += add_n;
	return 0;
}

/* Append a decoded page to Q's reply; the page's items move, its shell is freed. */
static int
list_append(struct req *q, struct api_reply *page)
{
	struct api_reply *acc = &q->reply;
	int r = 0;

#define APPEND(field, type, release_fn)						\
	do {									\
		if (page->field == NULL)					\
			break;							\
		if (acc->field == NULL) {					\
			acc->field = page->field;				\
			page->field = NULL;					\
			break;							\
		}								\
		r = append_items((void **)&acc->field->items, &acc->field->n,	\
		    page->field->items, page->field->n, sizeof(type));		\
		if (r == 0) {							\
			free(page->field->items);				\
			page->field->items = NULL;				\
			page->field->n = 0;					\
		}								\
		release_fn(page->field);					\
		page->field = NULL;						\
	} while (0)

	APPEND(droplets, struct api_droplet, api_droplet_list_free);
	APPEND(actions, struct api_action, api_action_list_free);
	APPEND(snapshots, struct api_snapshot, api_snapshot_list_free);
	APPEND(volumes, struct api_volume, api_volume_list_free);
#undef APPEND
	return r;
}

static size_t
list_count(const struct api_reply *reply)
{
	if (reply->droplets != NULL)
		return reply->droplets->n;
	if (reply->actions != NULL)
		return reply->actions->n;
	if (reply->snapshots != NULL)
		return reply->snapshots->n;
	if (reply->volumes != NULL)
		return reply->volumes->n;
	return 0;
}

/* Cut a listing to MAX items. */
static void
list_truncate(struct api_reply *reply, size_t max)
{
	size_t i;

	if (reply->droplets != NULL && reply->droplets->n > max) {
		for (i = max; i < reply->droplets->n; i++)
			droplet_release(&reply->droplets->items[i]);
		reply->droplets->n = max;
	}
	if (reply->actions != NULL && reply->actions->n > max)
		reply->actions->n = max;
	if (reply->snapshots != NULL && reply->snapshots->n > max) {
		for (i = max; i < reply->snapshots->n; i++)
			snapshot_release(&reply->snapshots->items[i]);
		reply->snapshots->n = max;
	}
	if (reply->volumes != NULL && reply->volumes->n > max) {
		for (i = max; i < reply->volumes->n; i++)
			volume_release(&reply->volumes->items[i]);
		reply->volumes->n = max;
	}
}

/* Give snapshots that came without a resource_id the one the request named. */
static int
fill_resource_ids(struct req *q)
{
	size_t i;

	if (q->resource_id == NULL || q->reply.snapshots == NULL)
		return 0;
	for (i = 0; i < q->reply.snapshots->n; i++) {
		struct api_snapshot *s = &q->reply.snapshots->items[i];

		if (s->resource_id != NULL)
			continue;
		s->resource_id = strdup(q->resource_id);
		if (s->resource_id == NULL)
			return -ENOMEM;
	}
	return 0;
}

/* What malloc really spends on N bytes: a header, 16-byte steps, 32 at least. */
static size_t
alloc_bytes(size_t n)
{
	n = (n + 8 + 15) & ~(size_t)15;
	return n < 32 ? 32 : n;
}

static size_t
str_bytes(const char *s)
{
	return s != NULL ? alloc_bytes(strlen(s) + 1) : 0;
}

static size_t
strv_bytes(char *const *v, size_t n)
{
	size_t b = n > 0 ? alloc_bytes(n * sizeof(*v)) : 0, i;

	for (i = 0; i < n; i++)
		b += str_bytes(v[i]);
	return b;
}

/* What the items of a decoded page hold, in bytes: the measure of API_LIST_BYTES_MAX. */
static size_t
page_bytes(const struct api_reply *p)
{
	size_t b = 0, i;

	if (p->droplets != NULL) {
		for (i = 0; i < p->droplets->n; i++) {
			const struct api_droplet *d = &p->droplets->items[i];

			b += sizeof(*d) + str_bytes(d->name) + str_bytes(d->region) +
			    strv_bytes(d->tags, d->n_tags) +
			    strv_bytes(d->volume_ids, d->n_volume_ids);
		}
	}
	if (p->actions != NULL)
		b += p->actions->n * sizeof(struct api_action);
	if (p->snapshots != NULL) {
		for (i = 0; i < p->snapshots->n; i++) {
			const struct api_snapshot *sn = &p->snapshots->items[i];

			b += sizeof(*sn) + str_bytes(sn->id) + str_bytes(sn->name) +
			    str_bytes(sn->resource_id) + strv_bytes(sn->tags, sn->n_tags);
		}
	}
	if (p->volumes != NULL) {
		for (i = 0; i < p->volumes->n; i++) {
			const struct api_volume *v = &p->volumes->items[i];

			b += sizeof(*v) + str_bytes(v->id) + str_bytes(v->name) +
			    str_bytes(v->region) + v->n_droplet_ids * sizeof(int64_t);
		}
	}
	return b;
}

/*
 * Note that the listing fetched URL; -ELOOP when it had fetched that page
 * before: a next link that leads back would otherwise go round until the
 * page cap.  A page is its path and its "page" parameter (1 when absent),
 * whatever else the query holds or in what order.
 */
static int
seen_add(struct req *q, const char *url)
{
	const char *query = strchr(url, '?'), *p;
	unsigned long page = 1;
	uint64_t h;
	size_t i;

	for (p = query; p != NULL; p = strchr(p + 1, '&')) {
		if (strncmp(p + 1, "page=", 5) == 0) {
			page = strtoul(p + 6, NULL, 10);
			break;
		}
	}
	h = hash_fnv1a64(url, query != NULL ? (size_t)(query - url) : strlen(url)) ^
	    (uint64_t)page * 0x9e3779b97f4a7c15ULL;

	for (i = 0; i < q->n_seen; i++) {
		if (q->seen[i] == h) {
			snprintf(decode_why, sizeof(decode_why),
			    "the listing's next link leads back to page %zu", i + 1);
			return -ELOOP;
		}
	}
	if (q->seen == NULL) {
		q->seen = calloc(API_PAGES_MAX + 1, sizeof(*q->seen));
		if (q->seen == NULL)
			return -ENOMEM;
	}
	if (q->n_seen < API_PAGES_MAX + 1)
		q->seen[q->n_seen++] = h;
	return 0;
}

/*
 * The last line of the memory bound.  Each answer is capped, but many
 * requests' results may be alive at once (every flow holds its droplet's
 * snapshots), so before a sizeable answer is decoded, the heap in use is
 * measured: past API_HEAP_MAX, dosnap decodes nothing more and says why
 * (-ENOMEM, exit 71) rather than grow with what a server sends.  One
 * decode adds at most the caps' worth on top.  glibc only; under the
 * sanitizers, whose allocator glibc does not see, this never fires.
 */
static int
heap_check(size_t body_len)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
	struct mallinfo2 mi;

	if (body_len < HEAP_CHECK_BODY)
		return 0;
	mi = mallinfo2();
	if (mi.uordblks + mi.hblkhd > API_HEAP_MAX) {
		snprintf(decode_why, sizeof(decode_why),
		    "dosnap already holds %zu MiB of memory, over its bound of %u MiB; "
		    "not decoding a %zu-byte answer", (mi.uordblks + mi.hblkhd) >> 20,
		    API_HEAP_MAX >> 20, body_len);
		return -ENOMEM;
	}
#else
	(void)body_len;
#endif
	return 0;
}

/* A 2xx answer: decode it, and finish, or go on to the next page.  <0: the answer was bad. */
static int
main_success(struct req *q, int64_t now)
{
	struct api_client *c = q->c;
	struct api_reply page = { 0 };
	char *next = NULL, *url = NULL;
	size_t max;
	int r;

	if (q->kind == REQ_DELETE) {
		req_complete(q, 0, NULL);
		return 0;
	}
	r = heap_check(q->body.len);
	if (r < 0)
		return r;
	if (q->kind != REQ_LIST) {
		r = api_decode(q->body_kind, q->body.data, q->body.len, &q->reply, NULL);
		if (r < 0)
			return r;
		req_complete(q, 0, NULL);
		return 0;
	}

	r = api_decode(q->body_kind, q->body.data, q->body.len, &page, &next);
	if (r < 0)
		return r;
	q->kept += page_bytes(&page);
	if (q->kept > API_LIST_BYTES_MAX) {
		snprintf(decode_why, sizeof(decode_why),
		    "the listing holds more than %u MiB once decoded",
		    API_LIST_BYTES_MAX / (1024 * 1024));
		api_reply_release(&page);
		r = -EFBIG;
		goto fail;
	}
	r = list_append(q, &page);
	api_reply_release(&page);
	if (r == 0)
		r = fill_resource_ids(q);
	if (r < 0)
		goto fail;
	q->pages++;
	max = q->max_items > 0 ? q->max_items : API_LIST_MAX;
	if (next != NULL && list_count(&q->reply) < max) {
		if (q->pages >= API_PAGES_MAX) {
			snprintf(decode_why, sizeof(decode_why),
			    "the listing has more than %d pages", API_PAGES_MAX);
			r = -EFBIG;
			goto fail;
		}
		r = q->n_seen == 0 ? seen_add(q, q->url) : 0;
		if (r < 0)
			goto fail;
		/* "" for the current page: seen_add tells a link back, to any page. */
		r = next_url(c, next, "", &url);
		if (r == -EPROTO)
			snprintf(decode_why, sizeof(decode_why),
			    "the listing's next link is not a /v2/ link of printable characters");
		if (r == 0) {
			r = seen_add(q, url);
			if (r < 0)
				free(url);
		}
		if (r < 0)
			goto fail;
		free(q->url);
		q->url = url;
		q->attempts = 0;
		q->deadline = now + c->retry_max_total_ms;
		free(next);
		req_requeue(q, now, 0);
		return 0;
	}
	free(next);
	list_truncate(&q->reply, max);
	req_complete(q, 0, NULL);
	return 0;

fail:
	free(next);
	return r;
}

static void
main_done(struct req *q, CURLcode cc, long status, bool sent, int64_t now)
{
	struct api_error err;
	struct outcome o;
	int r;

	error_init(q, &err);
	err.http_status = status;
	if (cc == CURLE_OK && status >= 200 && status < 300) {
		decode_why[0] = '\0';
		r = main_success(q, now);
		if (r == 0)
			return;
		snprintf(err.request_id, sizeof(err.request_id), "%s", q->request_id);
		memset(&o, 0, sizeof(o));
		o.r = r;
		if (r == -EPROTO && decode_why[0] == '\0') {
			snprintf(err.message, sizeof(err.message),
			    "the answer is not JSON of the shape the API documents");
			/* A garbled answer to a read may be a glitch; to a POST it may hide a success. */
			o.retry = q->kind == REQ_GET || q->kind == REQ_LIST;
			o.ambiguous = q->kind == REQ_POST_ACTION || q->kind == REQ_POST_VOLSNAP ||
			    q->kind == REQ_POST_TAG;
		} else if (r == -EFBIG || r == -ELOOP || r == -EPROTO) {
			/* A cap or a loop: asking again would bring the same. */
			o.r = r == -EFBIG ? -EFBIG : -EPROTO;
			snprintf(err.message, sizeof(err.message), "%s",
			    decode_why[0] != '\0' ? decode_why : "the answer is over a cap");
		} else if (r == -ENOMEM) {
			if (decode_why[0] != '\0')
				snprintf(err.message, sizeof(err.message), "%s", decode_why);
			else
				snprintf(err.message, sizeof(err.message),
				    "out of memory decoding the answer (%zu bytes)", q->body.len);
		}
	} else {
		classify(q, cc, status, sent, &err, &o);
	}

	if (q->kind == REQ_DELETE && o.r == -ENOENT && q->ambiguous_seen) {
		trace_event(q->c, "%s %s: gone; the earlier attempt deleted it", err.method, err.path);
		req_complete(q, 0, NULL);
		return;
	}
	if (q->kind == REQ_POST_ACTION && status == 422 && q->ambiguous_seen && !q->final_adopt) {
		q->final_adopt = true;
		adopt_begin(q, o.r, &err, now, 0);
		return;
	}
	if (o.ambiguous) {
		if (q->kind == REQ_POST_ACTION || q->kind == REQ_POST_VOLSNAP) {
			long delay = backoff_ms(q);

			q->ambiguous_seen = true;
			if (now + delay > q->deadline)
				delay = 0;
			adopt_begin(q, o.r, &err, now, delay);
			return;
		}
		if (q->kind == REQ_POST_TAG) {
			err.ambiguous = true;
			req_complete(q, o.r, &err);
			return;
		}
		q->ambiguous_seen = true;
	}
	if (o.retry && maybe_retry(q, &err, now))
		return;
	req_complete(q, o.r, &err);
}

/* Collect what libcurl has finished and decide what each finished attempt means. */
static void
process_done(struct api_client *c)
{
	CURLMsg *msg;
	int left;

	while ((msg = cf.multi_info_read(c->multi, &left)) != NULL) {
		struct req *q;
		void *priv = NULL;
		long status = 0, request_size = 0;
		int64_t now = clock_mono_ms();
		CURLcode cc;
		CURL *e;

		if (msg->msg != CURLMSG_DONE)
			continue;
		e = msg->easy_handle;
		cc = msg->data.result;
		cf.easy_getinfo(e, CURLINFO_PRIVATE, &priv);
		q = priv;
		if (q == NULL)
			continue;
		cf.easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
		cf.easy_getinfo(e, CURLINFO_REQUEST_SIZE, &request_size);
		req_detach(q);
		trace_body(c, API_TRACE_DATA_IN, q->body.data, q->body.len);
		if (status > 0)
			pacer_note_response(c, q, status, now);
		if (q->phase == PH_ADOPT)
			adopt_done(q, cc, status, request_size > 0, now);
		else
			main_done(q, cc, status, request_size > 0, now);
	}
}

/* Run the callbacks of finished requests; returns how many ran. */
static int
fire_done(struct api_client *c)
{
	int fired = 0;

	while (c->done_head != NULL) {
		struct req *q = c->done_head;

		c->done_head = q->next;
		if (c->done_head != NULL)
			c->done_head->prev = NULL;
		else
			c->done_tail = NULL;
		c->n_pending--;
		c->in_callback++;
		q->cb(c, &q->reply, q->userdata);
		c->in_callback--;
		req_free(q);
		fired++;
	}
	return fired;
}

static int64_t
next_due(const struct api_client *c, int64_t now)
{
	const struct req *q;
	int64_t due = -1;

	if (c->done_head != NULL)
		return now;
	for (q = c->head; q != NULL; q = q->next) {
		int64_t t;

		if (q->state != RS_QUEUED)
			continue;
		t = q->due > c->pace_until ? q->due : c->pace_until;
		if (t < now)
			t = now;
		if (due < 0 || t < due)
			due = t;
	}
	return due;
}

int
api_client_run(struct api_client *c, int timeout_ms)
{
	int64_t start = clock_mono_ms();
	int fired = 0;

	if (c == NULL)
		return -EINVAL;
	if (c->in_callback > 0)
		return -EDEADLK;
	for (;;) {
		int64_t now = clock_mono_ms(), due, wait;
		int running;

		fired += fire_done(c);
		start_due(c, now);
		if (cf.multi_perform(c->multi, &running) != CURLM_OK)
			return -EIO;
		process_done(c);
		fired += fire_done(c);
		if (fired > 0) {
			start_due(c, clock_mono_ms());
			return fired;
		}
		if (timeout_ms < 0 && c->n_pending == 0)
			return 0;

		now = clock_mono_ms();
		if (timeout_ms < 0) {
			wait = 60000;
		} else {
			wait = start + timeout_ms - now;
			if (wait <= 0)
				return 0;
		}
		due = next_due(c, now);
		if (due >= 0 && due - now < wait)
			wait = due - now;
		if (wait < 0)
			wait = 0;
		if (cf.multi_poll(c->multi, NULL, 0, (int)wait, NULL) != CURLM_OK)
			return -EIO;
	}
}

size_t
api_client_pending(const struct api_client *c)
{
	return c == NULL ? 0 : c->n_pending;
}

void
api_client_stats(const struct api_client *c, struct api_stats *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->ratelimit_remaining = -1;
	if (c == NULL)
		return;
	ret->requests = c->stat_requests;
	ret->retries = c->stat_retries;
	ret->rate_limited = c->stat_429;
	if (c->have_rl)
		ret->ratelimit_remaining = c->rl_remaining;
}

long
api_client_next_timeout(const struct api_client *c)
{
	int64_t now = clock_mono_ms(), due;
	long t;

	if (c == NULL || c->n_pending == 0)
		return -1;
	due = next_due(c, now);
	t = due < 0 ? -1 : (long)(due - now);
	if (c->n_running > 0 && (t < 0 || t > 1000))
		t = 1000;
	return t;
}

void
api_client_wakeup(struct api_client *c)
{
	if (c != NULL && c->multi != NULL)
		cf.multi_wakeup(c->multi);
}

int
api_client_cancel(struct api_client *c, uint64_t id)
{
	struct api_error err;
	struct req *q;

	if (c == NULL)
		return -EINVAL;
	for (q = c->head; q != NULL; q = q->next) {
		if (q->id != id)
			continue;
		error_init(q, &err);
		snprintf(err.message, sizeof(err.message), "cancelled");
		req_complete(q, -ECANCELED, &err);
		return 0;
	}
	for (q = c->done_head; q != NULL; q = q->next) {
		if (q->id != id)
			continue;
		if (q->reply.r == 0) {
			api_reply_release(&q->reply);
			q->reply.r = -ECANCELED;
			snprintf(q->reply.error.message, sizeof(q->reply.error.message), "cancelled");
		}
		return 0;
	}
	return -ENOENT;
}

/* --- making and freeing a client ------------------------------------------ */

static bool
token_ok(const char *t)
{
	size_t i, n;

	if (t == NULL)
		return false;
	n = strnlen(t, TOKEN_MAX + 1);
	if (n == 0 || n > TOKEN_MAX)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
			return false;
	return true;
}

/*
 * Check BASE_URL and store "scheme://host[:port][/prefix]" in *ret.  The URL
 * parser is libcurl's own, so the host checked here is the host it connects to.
 */
static int
parse_base_url(const char *base_url, bool *ret_http, char **ret)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *part = NULL;
	size_t plen;
	bool http = false;
	int r = -EINVAL;

	u = cf.url();
	if (u == NULL)
		return -ENOMEM;
	if (cf.url_set(u, CURLUPART_URL, base_url, 0) != CURLUE_OK)
		goto out;
	if (cf.url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    cf.url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	if (cf.url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK) {
		/* A user name in the URL would be sent as credentials: refuse it. */
		goto out;
	}
	if (cf.url_get(u, CURLUPART_QUERY, &part, 0) == CURLUE_OK ||
	    cf.url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK)
		goto out;
	if (cf.url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
		port = NULL;
	if (cf.url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		path = NULL;
	if (strcmp(scheme, "http") == 0) {
		http = true;
		if (!api_host_is_loopback(host)) {
			/* A bearer token must not cross a network in clear text. */
			r = -EPERM;
			goto out;
		}
	} else if (strcmp(scheme, "https") != 0) {
		goto out;
	}
	plen = path != NULL ? strlen(path) : 0;
	while (plen > 0 && path[plen - 1] == '/')
		plen--;
	*ret = str_printf("%s://%s%s%s%.*s", scheme, host, port != NULL ? ":" : "",
	    port != NULL ? port : "", (int)plen, path != NULL ? path : "");
	r = *ret == NULL ? -ENOMEM : 0;
	*ret_http = http;
out:
	cf.free(scheme);
	cf.free(host);
	cf.free(port);
	cf.free(path);
	cf.free(part);
	cf.url_cleanup(u);
	return r;
}

static void
slist_wipe_free(struct curl_slist *l)
{
	struct curl_slist *p;

	for (p = l; p != NULL; p = p->next)
		if (p->data != NULL)
			wipe(p->data, strlen(p->data));
	if (l != NULL)
		cf.slist_free_all(l);
}

static struct curl_slist *
headers_new(const char *auth, bool post)
{
	const char *lines[] = {
		auth, "Accept: application/json", "Content-Type: application/json", "Expect:",
	};
	struct curl_slist *l = NULL, *n;
	size_t i, count = post ? 4 : 2;

	for (i = 0; i < count; i++) {
		n = cf.slist_append(l, lines[i]);
		if (n == NULL) {
			slist_wipe_free(l);
			return NULL;
		}
		l = n;
	}
	return l;
}

int
api_client_new(const struct api_config *cfg, struct api_client **ret)
{
	struct api_client *c;
	int r;

	if (cfg == NULL || ret == NULL)
		return -EINVAL;
	if (!token_ok(cfg->token))
		return -EINVAL;
	r = curl_load(cfg->libcurl_path);
	if (r < 0)
		return r;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	r = parse_base_url(cfg->base_url != NULL ? cfg->base_url : API_DEFAULT_URL,
	    &c->http_ok, &c->base);
	if (r < 0)
		goto fail;
	r = -ENOMEM;
	c->token = strdup(cfg->token);
	if (c->token == NULL)
		goto fail;
	c->token_len = strlen(c->token);
	c->auth_header = str_printf("Authorization: Bearer %s", c->token);
	if (c->auth_header == NULL)
		goto fail;
	c->hdr_get = headers_new(c->auth_header, false);
	c->hdr_post = headers_new(c->auth_header, true);
	if (c->hdr_get == NULL || c->hdr_post == NULL)
		goto fail;
	if (cfg->cacert != NULL) {
		c->cacert = strdup(cfg->cacert);
		if (c->cacert == NULL)
			goto fail;
	}

	c->connect_timeout_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 10000;
	c->request_timeout_ms = cfg->request_timeout_ms > 0 ? cfg->request_timeout_ms : 60000;
	c->low_speed_time_s = cfg->low_speed_time_s > 0 ? cfg->low_speed_time_s : 20;
	c->max_connections = cfg->max_connections > 0 ? cfg->max_connections : 8;
	/* Over https, HTTP/2 carries many streams on one connection. */
	c->max_running = c->max_connections * (c->http_ok ? 1 : 16);
	c->max_body = cfg->max_body_bytes > 0 ? cfg->max_body_bytes : API_BODY_MAX_DEFAULT;
	c->retry_max_attempts = cfg->retry_max_attempts > 0 ? cfg->retry_max_attempts : 5;
	c->retry_max_total_ms = cfg->retry_max_total_ms > 0 ? cfg->retry_max_total_ms : 300000;
	c->retry_base_ms = cfg->retry_base_ms > 0 ? cfg->retry_base_ms : 1000;
	c->retry_cap_ms = cfg->retry_cap_ms > 0 ? cfg->retry_cap_ms : 30000;
	c->adopt_slack_s = cfg->adopt_slack_s > 0 ? cfg->adopt_slack_s :
	    cfg->adopt_slack_s == 0 ? 60 : 0;
	c->rate_per_minute = cfg->rate_per_minute > 0 ? cfg->rate_per_minute :
	    cfg->rate_per_minute == 0 ? 240 : 0;
	if (c->rate_per_minute > 100000)
		c->rate_per_minute = 100000;
	c->rate_window_ms = cfg->rate_window_ms > 0 ? cfg->rate_window_ms : 60000;
	c->rate_reserve = cfg->rate_reserve > 0 ? cfg->rate_reserve :
	    cfg->rate_reserve == 0 ? 5 : 0;
	c->trace = cfg->trace;
	c->trace_userdata = cfg->trace_userdata;
	c->trace_bodies = cfg->trace_bodies;
	c->rng = (uint64_t)wall_ms() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)c;
	if (c->rng == 0)
		c->rng = 0x9e3779b97f4a7c15ULL;
	c->next_id = 1;
	if (c->rate_per_minute > 0) {
		c->sends = calloc((size_t)c->rate_per_minute, sizeof(*c->sends));
		if (c->sends == NULL)
			goto fail;
	}

	c->multi = cf.multi_init();
	if (c->multi == NULL)
		goto fail;
	cf.multi_setopt(c->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	cf.multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)c->max_connections);
	cf.multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)c->max_connections);
	*ret = c;
	return 0;

fail:
	api_client_free(c);
	return r;
}

void
api_client_free(struct api_client *c)
{
	struct api_error err;

	if (c == NULL)
		return;
	c->closing = true;
	while (c->head != NULL) {
		error_init(c->head, &err);
		snprintf(err.message, sizeof(err.message), "cancelled: the client is closing");
		req_complete(c->head, -ECANCELED, &err);
	}
	fire_done(c);
	if (c->multi != NULL)
		cf.multi_cleanup(c->multi);
	slist_wipe_free(c->hdr_get);
	slist_wipe_free(c->hdr_post);
	if (c->auth_header != NULL) {
		wipe(c->auth_header, strlen(c->auth_header));
		free(c->auth_header);
	}
	if (c->token != NULL) {
		wipe(c->token, c->token_len);
		free(c->token);
	}
	free(c->base);
	free(c->cacert);
	free(c->sends);
	free(c);
}

const char *
api_error_format(const struct api_error *err, char *buf, size_t size)
{
	char status[96] = "", rid[160] = "";
	const char *what;

	if (buf == NULL || size == 0)
		return buf;
	if (err == NULL) {
		snprintf(buf, size, "unknown error");
		return buf;
	}
	if (err->http_status > 0)
		snprintf(status, sizeof(status), "HTTP %ld%s%s", err->http_status,
		    err->id[0] != '\0' ? " " : "", err->id);
	if (err->request_id[0] != '\0')
		snprintf(rid, sizeof(rid), " (request_id %s)", err->request_id);
	what = err->message[0] != '\0' ? err->message : err->curl_error;
	snprintf(buf, size, "%s%s%s%s%s%s%s%s", err->method, err->method[0] != '\0' ? " " : "",
	    err->path, err->path[0] != '\0' ? ": " : "", status,
	    status[0] != '\0' && what[0] != '\0' ? ": " : "", what, rid);
	if (err->http_status > 0 && err->curl_error[0] != '\0' && err->message[0] != '\0') {
		size_t n = strlen(buf);

		snprintf(buf + n, size - n, " [%s]", err->curl_error);
	}
	return buf;
}

/* --- operations ---------------------------------------------------------- */

/*
 * Queue a request for PATH (with its query, under the base URL).  PATH and
 * POST_BODY are taken over, also on failure.  The new request is returned
 * in *ret_q for the caller to finish setting up; it does not start before
 * the next api_client_run.
 */
static int
submit(struct api_client *c, enum req_kind kind, enum api_body_kind body_kind,
    const char *method, char *path, char *post_body, api_reply_fn cb, void *userdata,
    uint64_t *ret_id, struct req **ret_q)
{
	struct req *q;
	int64_t now = clock_mono_ms();

	if (c == NULL || cb == NULL || c->closing) {
		free(path);
		free(post_body);
		return c != NULL && c->closing ? -ECANCELED : -EINVAL;
	}
	if (path == NULL || (strcmp(method, "POST") == 0 && post_body == NULL)) {
		free(path);
		free(post_body);
		return -ENOMEM;
	}
	q = calloc(1, sizeof(*q));
	if (q == NULL) {
		free(path);
		free(post_body);
		return -ENOMEM;
	}
	if (kind == REQ_LIST)
		q->url = str_printf("%s%s%sper_page=%d", c->base, path,
		    strchr(path, '?') != NULL ? "&" : "?", API_PER_PAGE);
	else
		q->url = str_printf("%s%s", c->base, path);
	free(path);
	if (q->url == NULL) {
		free(post_body);
		free(q);
		return -ENOMEM;
	}
	q->c = c;
	q->id = c->next_id++;
	q->cb = cb;
	q->userdata = userdata;
	q->kind = kind;
	q->body_kind = body_kind;
	q->method = method;
	q->post_body = post_body;
	q->state = RS_QUEUED;
	q->due = now;
	q->deadline = now + c->retry_max_total_ms;
	q->retry_after_s = -1;
	q->rl_remaining = -1;
	q->prev = c->tail;
	if (c->tail != NULL)
		c->tail->next = q;
	else
		c->head = q;
	c->tail = q;
	c->n_pending++;
	if (ret_id != NULL)
		*ret_id = q->id;
	if (ret_q != NULL)
		*ret_q = q;
	return 0;
}

static char *
escaped_path(const char *fmt_prefix, const char *id, const char *suffix)
{
	char *e, *p;

	if (id == NULL || id[0] == '\0' || strnlen(id, 257) > 256)
		return NULL;
	e = url_escape(id);
	if (e == NULL)
		return NULL;
	p = str_printf("%s%s%s", fmt_prefix, e, suffix);
	free(e);
	return p;
}

static bool
action_type_ok(const char *type)
{
	size_t i, n;

	if (type == NULL)
		return false;
	n = strnlen(type, 32);
	if (n == 0 || n >= 32)
		return false;
	for (i = 0; i < n; i++)
		if (!((type[i] >= 'a' && type[i] <= 'z') || type[i] == '_'))
			return false;
	return true;
}

/* The JSON body of an action POST; NULL on failure. */
static char *
action_body(const char *type, const char *name)
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

static bool
name_ok(const char *name)
{
	return name != NULL && name[0] != '\0' && strnlen(name, 256) < 256;
}

int
api_get_account_async(struct api_client *c, api_reply_fn cb, void *userdata, uint64_t *ret_id)
{
	return submit(c, REQ_GET, API_BODY_ACCOUNT, "GET", strdup("/v2/account"), NULL, cb,
	    userdata, ret_id, NULL);
}

int
api_list_droplets_async(struct api_client *c, const char *tag, const char *name,
    api_reply_fn cb, void *userdata, uint64_t *ret_id)
{
	char *path;

	if (tag != NULL && name != NULL)
		return -EINVAL;
	if (tag != NULL)
		path = escaped_path("/v2/droplets?tag_name=", tag, "");
	else if (name != NULL)
		path = escaped_path("/v2/droplets?name=", name, "");
	else
		path = strdup("/v2/droplets");
	if (path == NULL && (tag != NULL || name != NULL))
		return -EINVAL;
	return submit(c, REQ_LIST, API_BODY_DROPLETS, "GET", path, NULL, cb, userdata, ret_id,
	    NULL);
}

int
api_get_droplet_async(struct api_client *c, int64_t id, api_reply_fn cb, void *userdata,
    uint64_t *ret_id)
{
	if (id <= 0)
		return -EINVAL;
	return submit(c, REQ_GET, API_BODY_DROPLET, "GET",
	    str_printf("/v2/droplets/%lld", (long long)id), NULL, cb, userdata, ret_id, NULL);
}

int
api_post_droplet_action_async(struct api_client *c, int64_t id, const char *type,
    const char *name, api_reply_fn cb, void *userdata, uint64_t *ret_id)
{
	struct req *q;
	int r;

	if (id <= 0 || !action_type_ok(type) || (name != NULL && !name_ok(name)))
		return -EINVAL;
	if (name != NULL && strcmp(type, "snapshot") != 0)
		return -EINVAL;
	r = submit(c, REQ_POST_ACTION, API_BODY_ACTION, "POST",
	    str_printf("/v2/droplets/%lld/actions", (long long)id), action_body(type, name),
	    cb, userdata, ret_id, &q);
	if (r < 0)
		return r;
	q->droplet_id = id;
	snprintf(q->action_type, sizeof(q->action_type), "%s", type);
	return 0;
}

int
api_post_tag_action_async(struct api_client *c, const char *tag, const char *type,
    const char *name, api_reply_fn cb, void *userdata, uint64_t *ret_id)
{
	char *path;

	if (!action_type_ok(type) || (name != NULL && !name_ok(name)))
		return -EINVAL;
	path = escaped_path("/v2/droplets/actions?tag_name=", tag, "");
	if (path == NULL)
		return -EINVAL;
	return submit(c, REQ_POST_TAG, API_BODY_ACTIONS, "POST", path, action_body(type, name),
	    cb, userdata, ret_id, NULL);
}

int
api_get_action_async(struct api_client *c, int64_t action_id, api_reply_fn cb,
    void *userdata, uint64_t *ret_id)
{
	if (action_id <= 0)
		return -EINVAL;
	return submit(c, REQ_GET, API_BODY_ACTION, "GET",
	    str_printf("/v2/actions/%lld", (long long)action_id), NULL, cb, userdata, ret_id,
	    NULL);
}

int
api_get_droplet_action_async(struct api_client *c, int64_t id, int64_t action_id,
    api_reply_fn cb, void *userdata, uint64_t *ret_id)
{
	if (id <= 0 || action_id <= 0)
		return -EINVAL;
	return submit(c, REQ_GET, API_BODY_ACTION, "GET",
	    str_printf("/v2/droplets/%lld/actions/%lld", (long long)id, (long long)action_id),
	    NULL, cb, userdata, ret_id, NULL);
}

int
api_list_droplet_actions_async(struct api_client *c, int64_t id, size_t max_items,
    api_reply_fn cb, void *userdata, uint64_t *ret_id)
{
	struct req *q;
	int r;

	if (id <= 0)
		return -EINVAL;
	r = submit(c, REQ_LIST, API_BODY_ACTIONS, "GET",
	    str_printf("/v2/droplets/%lld/actions", (long long)id), NULL, cb, userdata, ret_id,
	    &q);
	if (r == 0)
		q->max_items = max_items;
	return r;
}

int
api_list_actions_async(struct api_client *c, size_t max_items, api_reply_fn cb,
    void *userdata, uint64_t *ret_id)
{
	struct req *q;
	int r;

	r = submit(c, REQ_LIST, API_BODY_ACTIONS, "GET", strdup("/v2/actions"), NULL, cb,
	    userdata, ret_id, &q);
	if (r == 0)
		q->max_items = max_items;
	return r;
}

int
api_list_droplet_snapshots_async(struct api_client *c, int64_t id, api_reply_fn cb,
    void *userdata, uint64_t *ret_id)
{
	struct req *q;
	int r;

	if (id <= 0)
		return -EINVAL;
	r = submit(c, REQ_LIST, API_BODY_DROPLET_SNAPSHOTS, "GET",
	    str_printf("/v2/droplets/%lld/snapshots", (long long)id), NULL, cb, userdata,
	    ret_id, &q);
	if (r < 0)
		return r;
	q->resource_id = str_printf("%lld", (long long)id);
	if (q->resource_id == NULL) {
		/* Queued already; let it fail through the normal path. */
		req_complete(q, -ENOMEM, NULL);
	}
	return 0;
}

int
api_list_snapshots_async(struct api_client *c, const char *resource_type, api_reply_fn cb,
    void *userdata, uint64_t *ret_id)
{
	char *path;

	if (resource_type != NULL && strcmp(resource_type, "droplet") != 0 &&
	    strcmp(resource_type, "volume") != 0)
		return -EINVAL;
	if (resource_type != NULL)
		path = str_printf("/v2/snapshots?resource_type=%s", resource_type);
	else
		path = strdup("/v2/snapshots");
	return submit(c, REQ_LIST, API_BODY_SNAPSHOTS, "GET", path, NULL, cb, userdata, ret_id,
	    NULL);
}

int
api_get_snapshot_async(struct api_client *c, const char *id, api_reply_fn cb,
    void *userdata, uint64_t *ret_id)
{
	char *path = escaped_path("/v2/snapshots/", id, "");

	if (path == NULL)
		return -EINVAL;
	return submit(c, REQ_GET, API_BODY_SNAPSHOT, "GET", path, NULL, cb, userdata, ret_id,
	    NULL);
}

int
api_delete_snapshot_async(struct api_client *c, const char *id, api_reply_fn cb,
    void *userdata, uint64_t *ret_id)
{
	char *path = escaped_path("/v2/snapshots/", id, "");

	if (path == NULL)
		return -EINVAL;
	return submit(c, REQ_DELETE, API_BODY_ERROR, "DELETE", path, NULL, cb, userdata, ret_id,
	    NULL);
}

int
api_list_volumes_async(struct api_client *c, api_reply_fn cb, void *userdata,
    uint64_t *ret_id)
{
	return submit(c, REQ_LIST, API_BODY_VOLUMES, "GET", strdup("/v2/volumes"), NULL, cb,
	    userdata, ret_id, NULL);
}

int
api_get_volume_async(struct api_client *c, const char *id, api_reply_fn cb, void *userdata,
    uint64_t *ret_id)
{
	char *path = escaped_path("/v2/volumes/", id, "");

	if (path == NULL)
		return -EINVAL;
	return submit(c, REQ_GET, API_BODY_VOLUME, "GET", path, NULL, cb, userdata, ret_id, NULL);
}

int
api_create_volume_snapshot_async(struct api_client *c, const char *id, const char *name,
    api_reply_fn cb, void *userdata, uint64_t *ret_id)
{
	struct req *q;
	char *path;
	int r;

	if (!name_ok(name))
		return -EINVAL;
	path = escaped_path("/v2/volumes/", id, "/snapshots");
	if (path == NULL)
		return -EINVAL;
	r = submit(c, REQ_POST_VOLSNAP, API_BODY_SNAPSHOT, "POST", path,
	    action_body(NULL, name), cb, userdata, ret_id, &q);
	if (r < 0)
		return r;
	q->resource_id = url_escape(id);
	q->snap_name = strdup(name);
	if (q->resource_id == NULL || q->snap_name == NULL)
		req_complete(q, -ENOMEM, NULL);
	return 0;
}

int
api_list_volume_snapshots_async(struct api_client *c, const char *id, api_reply_fn cb,
    void *userdata, uint64_t *ret_id)
{
	char *path = escaped_path("/v2/volumes/", id, "/snapshots");

	if (path == NULL)
		return -EINVAL;
	return submit(c, REQ_LIST, API_BODY_SNAPSHOTS, "GET", path, NULL, cb, userdata, ret_id,
	    NULL);
}

int
api_delete_volume_snapshot_async(struct api_client *c, const char *id, api_reply_fn cb,
    void *userdata, uint64_t *ret_id)
{
	char *path = escaped_path("/v2/volumes/snapshots/", id, "");

	if (path == NULL)
		return -EINVAL;
	return submit(c, REQ_DELETE, API_BODY_ERROR, "DELETE", path, NULL, cb, userdata, ret_id,
	    NULL);
}

/* --- blocking wrappers ----------------------------------------------------- */

struct waiter {
	bool done;
	struct api_reply reply;
};

static void
wait_cb(struct api_client *c, struct api_reply *reply, void *userdata)
{
	struct waiter *w = userdata;

	(void)c;
	/* Take everything: the struct copy owns the objects now. */
	w->reply = *reply;
	reply->account = NULL;
	reply->droplet = NULL;
	reply->action = NULL;
	reply->snapshot = NULL;
	reply->volume = NULL;
	reply->droplets = NULL;
	reply->actions = NULL;
	reply->snapshots = NULL;
	reply->volumes = NULL;
	w->done = true;
}

static int
blocking_ok(const struct api_client *c)
{
	if (c == NULL)
		return -EINVAL;
	if (c->in_callback > 0)
		return -EDEADLK;
	return 0;
}

/* Run the loop until W is done; R is what queueing returned. */
static int
wait_for(struct api_client *c, int r, uint64_t id, struct waiter *w, struct api_error *err)
{
	if (r < 0) {
		if (err != NULL) {
			memset(err, 0, sizeof(*err));
			snprintf(err->message, sizeof(err->message), "cannot make the request: %s",
			    strerror(-r));
		}
		return r;
	}
	while (!w->done) {
		r = api_client_run(c, -1);
		if (r < 0) {
			api_client_cancel(c, id);
			fire_done(c);
		}
	}
	if (w->reply.r < 0 && err != NULL)
		*err = w->reply.error;
	return w->reply.r;
}

#define BLOCKING(call, field, out)						\
	do {									\
		struct waiter w_ = { 0 };					\
		uint64_t id_ = 0;						\
		int r_;								\
									\
		r_ = blocking_ok(c);						\
		if (r_ < 0)							\
			return r_;						\
		r_ = (call);							\
		r_ = wait_for(c, r_, id_, &w_, err);				\
		if (r_ == 0) {							\
			*(out) = w_.reply.field;				\
			w_.reply.field = NULL;					\
		}								\
		api_reply_release(&w_.reply);					\
		return r_;							\
	} while (0)

int
api_get_account(struct api_client *c, struct api_account **ret, struct api_error *err)
{
	if (ret == NULL)
		return -EINVAL;
	BLOCKING(api_get_account_async(c, wait_cb, &w_, &id_), account, ret);
}

int
api_list_droplets(struct api_client *c, const char *tag, const char *name,
    struct api_droplet_list **ret, struct api_error *err)
{
	if (ret == NULL)
		return -EINVAL;
	BLOCKING(api_list_droplets_async(c, tag, name, wait_cb, &w_, &id_), droplets, ret);
}

int
api_get_droplet(struct api_client *c, int64_t id, struct api_droplet **ret,
    struct api_error *err)
{
	if (ret == NULL)
		return -EINVAL;
	BLOCKING(api_get_droplet_async(c, id, wait_cb, &w_, &id_), droplet, ret);
}

int
api_post_droplet_action(struct api_client *c, int64_t id, const char *type, const char *name,
    struct api_action **ret, bool *ret_adopted, struct api_error *err)
{
	struct waiter w = { 0 };
	uint64_t qid = 0;
	int r;

	if (ret == NULL)
		return -EINVAL;
	r = blocking_ok(c);
	if (r < 0)
		return r;
	r = api_post_droplet_action_async(c, id, type, name, wait_cb, &w, &qid);
	r = wait_for(c, r, qid, &w, err);
	if (r == 0) {
		*ret = w.reply.action;
		w.reply.action = NULL;
		if (ret_adopted != NULL)
			*ret_adopted = w.reply.adopted;
	}
	api_reply_release(&w.reply);
	return r;
}

int
api_post_tag_action(struct api_client *c, const char *tag, const char *type, const char *name,
    struct api_action_list **ret, struct api_error *err)
{
	if (ret == NULL)
		return -EINVAL;
	BLOCKING(api_post_tag_action_async(c, tag, type, name, wait_cb, &w_, &id_), actions, ret);
}

int
api_get_action(struct api_client *c, int64_t action_id, struct api_action **ret,
    struct api_error *err)
{
	if (ret == NULL)
		return -EINVAL;
	BLOCKING(api_get_action_async(c, action_id, wait_cb, &w_, &id_), action, ret);
}

int
api_get_droplet_action(struct api_client *c, int64_t id, int64_t action_id,
    struct api_action **ret, struct api_error *err)
{
	if (ret == NULL)
		return -EINVAL;
	BLOCKING(api_get_droplet_action_async(c, id, action_id, wait_cb, &w_, &id_), action, ret);
}

int
api_list_droplet_actions(struct api_client *c, int64_t id, size_t max_items,
    struct api_action_list **ret, struct api_error *err)
{
	if (ret == NULL)
		return -EINVAL;
	BLOCKING(api_list_droplet_actions_async(c, id, max_items, wait_cb, &w_, &id_), actions,
	    ret);
}

int
api_list_actions(struct api_client *c, size_t max_items, struct api_action_list **ret,
    struct api_error *err)
{
	if (ret == NULL)
		return -EINVAL;
	BLOCKING(api_list_actions_async(c, max_items, wait_cb, &w_, &id_), actions, ret);
}

int
api_list_droplet_snapshots(struct api_client *c, int64_t id, struct api_snapshot_list **ret,
    struct api_error *err)
{
	if (ret == NULL)
		return -EINVAL;
	BLOCKING(api_list_droplet_snapshots_async(c, id, wait_cb, &w_, &id_), snapshots, ret);
}

int
api_list_snapshots(struct api_client *c, const char *resource_type,
    struct api_snapshot_list **ret, struct api_error *err)
{
	if (ret == NULL)
		return -EINVAL;
	BLOCKING(api_list_snapshots_async(c, resource_type, wait_cb, &w_, &id_), snapshots, ret);
}

int
api_get_snapshot(struct api_client *c, const char *id, struct api_snapshot **ret,
    struct api_error *err)
{
	if (ret == NULL)
		return -EINVAL;
	BLOCKING(api_get_snapshot_async(c, id, wait_cb, &w_, &id_), snapshot, ret);
}

int
api_delete_snapshot(struct api_client *c, const char *id, struct api_error *err)
{
	struct waiter w = { 0 };
	uint64_t qid = 0;
	int r;

	r = blocking_ok(c);
	if (r < 0)
		return r;
	r = api_delete_snapshot_async(c, id, wait_cb, &w, &qid);
	r = wait_for(c, r, qid, &w, err);
	api_reply_release(&w.reply);
	return r;
}

int
api_list_volumes(struct api_client *c, struct api_volume_list **ret, struct api_error *err)
{
	if (ret == NULL)
		return -EINVAL;
	BLOCKING(api_list_volumes_async(c, wait_cb, &w_, &id_), volumes, ret);
}

int
api_get_volume(struct api_client *c, const char *id, struct api_volume **ret,
    struct api_error *err)
{
	if (ret == NULL)
		return -EINVAL;
	BLOCKING(api_get_volume_async(c, id, wait_cb, &w_, &id_), volume, ret);
}

int
api_create_volume_snapshot(struct api_client *c, const char *id, const char *name,
    struct api_snapshot **ret, bool *ret_adopted, struct api_error *err)
{
	struct waiter w = { 0 };
	uint64_t qid = 0;
	int r;

	if (ret == NULL)
		return -EINVAL;
	r = blocking_ok(c);
	if (r < 0)
		return r;
	r = api_create_volume_snapshot_async(c, id, name, wait_cb, &w, &qid);
	r = wait_for(c, r, qid, &w, err);
	if (r == 0) {
		*ret = w.reply.snapshot;
		w.reply.snapshot = NULL;
		if (ret_adopted != NULL)
			*ret_adopted = w.reply.adopted;
	}
	api_reply_release(&w.reply);
	return r;
}

int
api_list_volume_snapshots(struct api_client *c, const char *id,
    struct api_snapshot_list **ret, struct api_error *err)
{
	if (ret == NULL)
		return -EINVAL;
	BLOCKING(api_list_volume_snapshots_async(c, id, wait_cb, &w_, &id_), snapshots, ret);
}

int
api_delete_volume_snapshot(struct api_client *c, const char *id, struct api_error *err)
{
	struct waiter w = { 0 };
	uint64_t qid = 0;
	int r;

	r = blocking_ok(c);
	if (r < 0)
		return r;
	r = api_delete_volume_snapshot_async(c, id, wait_cb, &w, &qid);
	r = wait_for(c, r, qid, &w, err);
	api_reply_release(&w.reply);
	return r;
}

/* --- notification pings -------------------------------------------------- */

static size_t
discard_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
	(void)data;
	(void)userdata;
	return size * nmemb;
}

/*
 * A ping goes to a third party (a monitoring service), so it is a plain
 * easy transfer of its own: never the API's headers, never the token.
 */
int
api_ping(struct api_client *c, const char *url, const char *body, struct api_error *err)
{
	struct curl_slist *hdrs = NULL;
	CURLcode cc = CURLE_OK;
	long status = 0;
	CURL *e = NULL;
	int attempt = 0, r = -ENOMEM;

	if (err != NULL) {
		memset(err, 0, sizeof(*err));
		snprintf(err->method, sizeof(err->method), "POST");
	}
	/* The scheme is checked here and redirects are off, so only http(s) goes. */
	if (c == NULL || url == NULL ||
	    (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0))
		return -EINVAL;
	/* No path in the error: a ping URL's path is often its secret. */
	e = cf.easy_init();
	if (e == NULL)
		goto fail;
	hdrs = cf.slist_append(NULL, "Content-Type: text/plain; charset=utf-8");
	if (hdrs == NULL)
		goto fail;
	r = -EINVAL;
	SETOPT(e, CURLOPT_URL, url);
	SETOPT(e, CURLOPT_HTTPHEADER, hdrs);
	SETOPT(e, CURLOPT_POSTFIELDS, body != NULL ? body : "");
	SETOPT(e, CURLOPT_POSTFIELDSIZE, (long)(body != NULL ? strlen(body) : 0));
	SETOPT(e, CURLOPT_USERAGENT, "dosnap/" DOSNAP_VERSION);
	SETOPT(e, CURLOPT_NOSIGNAL, 1L);
	SETOPT(e, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	SETOPT(e, CURLOPT_TIMEOUT_MS, 10000L);
	SETOPT(e, CURLOPT_WRITEFUNCTION, discard_cb);
	SETOPT(e, CURLOPT_FOLLOWLOCATION, 0L);
	if (c->cacert != NULL)
		SETOPT(e, CURLOPT_CAINFO, c->cacert);
	/* Two tries: a ping is worth little next to the time a run may wait. */
	for (attempt = 1; attempt <= 2; attempt++) {
		status = 0;
		cc = cf.easy_perform(e);
		if (cc == CURLE_OK)
			cf.easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
		if (cc == CURLE_OK && status >= 200 && status < 300)
			break;
	}
	if (cc == CURLE_OK && status >= 200 && status < 300) {
		r = 0;
	} else {
		r = cc != CURLE_OK ? -EIO : -EPROTO;
		if (err != NULL) {
			err->http_status = status;
			err->attempts = attempt - 1;
			err->transient = true;
			if (cc != CURLE_OK)
				snprintf(err->curl_error, sizeof(err->curl_error), "%s",
				    cf.easy_strerror(cc));
		}
	}
fail:
	if (e != NULL)
		cf.easy_cleanup(e);
	if (hdrs != NULL)
		cf.slist_free_all(hdrs);
	return r;
}
