/* ratelimit: the per-token request budget, an hour and a minute of sliding window in mock time. */
#ifndef DOSNAP_MOCK_RATELIMIT_H
#define DOSNAP_MOCK_RATELIMIT_H

#include <stddef.h>

#include "mock.h"

/* Sliding windows of request times (mock time), one ring per window. */
struct window {
	unsigned limit;			/* MOCK_RATE_UNLIMITED: off */
	double span;			/* seconds of mock time */
	double *t;
	size_t head, n;
};

struct bucket {
	struct window hour, minute;
};

/*
 * (Re)start B with these limits (MOCK_RATE_UNLIMITED: off), dropping what
 * it counted.  0 or -ENOMEM.  bucket_release frees the windows.
 */
int	bucket_init(struct bucket *b, unsigned per_hour, unsigned per_minute);
void	bucket_release(struct bucket *b);

/*
 * Count a request against B at mock time NOW.  Returns 0 when allowed,
 * 1 past the minute limit (with *retry_after in real seconds: mock seconds
 * times TIME_SCALE), 2 past the hour limit.
 */
int	bucket_take(struct bucket *b, double now, double time_scale, unsigned *retry_after);

/*
 * The ratelimit-limit, -remaining and -reset headers' values for B at mock
 * time NOW and Unix time WALL.  An unlimited bucket reads as 5000 of 5000.
 */
void	bucket_headers(const struct bucket *b, double now, double wall, double time_scale,
	    unsigned *limit, unsigned *remaining, long long *reset);

#endif
