/* api_ping: the monitoring ping, a plain POST to a third party's URL that never carries the token. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api_int.h"

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
	e = api_curl.easy_init();
	if (e == NULL)
		goto fail;
	hdrs = api_curl.slist_append(NULL, "Content-Type: text/plain; charset=utf-8");
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
		cc = api_curl.easy_perform(e);
		if (cc == CURLE_OK)
			api_curl.easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
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
				    api_curl.easy_strerror(cc));
		}
	}
fail:
	if (e != NULL)
		api_curl.easy_cleanup(e);
	if (hdrs != NULL)
		api_curl.slist_free_all(hdrs);
	return r;
}
