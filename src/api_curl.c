/* api_curl: the libcurl function table, filled by dlopen() when the first client is made. */
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "api_int.h"

/* The oldest libcurl dosnap accepts: the one it was written and tested against. */
#define CURL_MIN_VERSION	0x074400	/* 7.68.0 */

struct api_curl_fns api_curl;

/* Copy a symbol into a function pointer without a cast between object and function pointers. */
#define LOAD_SYM(h, field, name)					\
	do {								\
		void *sym_ = dlsym((h), (name));			\
		if (sym_ == NULL)					\
			goto fail;					\
		memcpy(&api_curl.field, &sym_, sizeof(sym_));		\
	} while (0)

/*
 * Open libcurl once per process.  The handle is never closed: libcurl's
 * global state (TLS libraries) does not survive being unloaded and reloaded.
 *
 * gcc 12's -fanalyzer calls the pointer LOAD_SYM copies with memcpy
 * uninitialized (dlsym's result, tested for NULL just before): silenced here.
 */
ANALYZER_QUIET("-Wanalyzer-use-of-uninitialized-value")
int
api_curl_load(const char *path)
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
		if (api_curl.loaded)
			return 0;	/* cppcheck-suppress resourceLeak ; never closed, see above */
	} else if (api_curl.loaded) {
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
	LOAD_SYM(h, multi_info_read, "curl_multi_info_read");
	LOAD_SYM(h, url, "curl_url");
	LOAD_SYM(h, url_cleanup, "curl_url_cleanup");
	LOAD_SYM(h, url_set, "curl_url_set");
	LOAD_SYM(h, url_get, "curl_url_get");
	LOAD_SYM(h, free, "curl_free");
	vi = api_curl.version_info(CURLVERSION_NOW);
	if (vi == NULL || vi->version_num < CURL_MIN_VERSION)
		goto fail;
	api_curl.version = vi->version_num;
	if (api_curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		goto fail;
	api_curl.loaded = true;
	return 0;

fail:
	/* Keep h open: a partly resolved table must not point into unmapped code. */
	memset(&api_curl, 0, sizeof(api_curl));
	return -ELIBACC;
}
ANALYZER_LOUD
