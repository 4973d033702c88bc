/* api_retry: what an attempt's HTTP status means (the outcome table), the backoff, the retry decision (no curl). */
#include <errno.h>
#include <stdio.h>

#include "api_pacer.h"
#include "api_retry.h"

/*
 * HTTP statuses as data.  A status not in the table: 5xx is -EIO, transient
 * but not retried (a 501 or 505 will not change); anything else is -EINVAL.
 */
static const struct status_row {
	long status;
	int r;
	int r_action;		/* R for a droplet action POST */
	bool retry;
	bool ambiguous;		/* the server may have done it before failing */
	bool transient;
} status_rows[] = {
	{ 401, -EACCES, -EACCES, false, false, false },
	{ 403, -EACCES, -EACCES, false, false, false },
	{ 404, -ENOENT, -ENOENT, false, false, false },
	{ 408, -ETIMEDOUT, -ETIMEDOUT, true, true, true },
	{ 422, -EINVAL, -EBUSY, false, false, false },	/* a droplet's pending event */
	{ 429, -EAGAIN, -EAGAIN, true, false, true },	/* refused, not processed */
	{ 500, -EIO, -EIO, true, true, true },
	{ 502, -EIO, -EIO, true, true, true },
	{ 503, -EIO, -EIO, true, true, true },
	{ 504, -EIO, -EIO, true, true, true },
};

bool
api_status_outcome(long status, bool action_post, struct api_outcome *o)
{
	size_t i;

	for (i = 0; i < sizeof(status_rows) / sizeof(status_rows[0]); i++) {
		const struct status_row *row = &status_rows[i];

		if (row->status != status)
			continue;
		*o = (struct api_outcome){
			.r = action_post ? row->r_action : row->r,
			.retry = row->retry,
			.ambiguous = row->ambiguous,
		};
		return row->transient;
	}
	*o = (struct api_outcome){ .r = status >= 500 ? -EIO : -EINVAL };
	return status >= 500;
}

/* xorshift64*: jitter needs no quality, only independence from rand()'s global state. */
double
api_rng_unit(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return (double)((x * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

long
api_backoff_ms(long base_ms, long cap_ms, int attempts, long retry_after_s, double unit)
{
	double d = (double)base_ms;
	int i;

	for (i = 1; i < attempts && d < (double)cap_ms; i++)
		d *= 2;
	if (d > (double)cap_ms)
		d = (double)cap_ms;
	d *= 0.5 + 0.5 * unit;
	if (retry_after_s >= 0) {
		long ra = retry_after_s > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : retry_after_s;

		if (d < (double)ra * 1000)
			d = (double)ra * 1000;
	}
	return (long)d;
}

bool
api_may_retry(int attempts, int max_attempts, int64_t now, long delay, int64_t deadline)
{
	return attempts < max_attempts && now + delay <= deadline;
}

void
api_describe_failure(const struct api_error *err, char *buf, size_t size)
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
