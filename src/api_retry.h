/* api_retry: what an attempt's HTTP status means (the outcome table), the backoff, the retry decision (no curl). */
#ifndef DOSNAP_API_RETRY_H
#define DOSNAP_API_RETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dosnap/api.h"

/* What an attempt's end means for its request. */
struct api_outcome {
	int r;			/* the request's result if it ends here */
	bool retry;		/* trying again may work */
	bool ambiguous;		/* the request went out and may have taken effect */
};

/*
 * The outcome of an HTTP error STATUS (not 2xx) into *O; ACTION_POST when
 * the request is a droplet action POST (a 422 then means a pending event,
 * -EBUSY).  Returns whether the failure is transient (trying later may work).
 */
bool	api_status_outcome(long status, bool action_post, struct api_outcome *o);

/*
 * The delay before attempt ATTEMPTS + 1: BASE_MS doubled per attempt up to
 * CAP_MS, jittered by UNIT (in [0, 1): half to all of it), and at least
 * RETRY_AFTER_S (-1: none; capped at RETRY_AFTER_MAX_S).
 */
long	api_backoff_ms(long base_ms, long cap_ms, int attempts, long retry_after_s, double unit);

/* Whether attempt ATTEMPTS + 1 may go after DELAY ms from NOW. */
bool	api_may_retry(int attempts, int max_attempts, int64_t now, long delay, int64_t deadline);

/* A number in [0, 1) from the xorshift64* state *STATE (not 0). */
double	api_rng_unit(uint64_t *state);

/* A few words on why ERR's attempt failed, for a trace line: "HTTP 503", "Connection refused". */
void	api_describe_failure(const struct api_error *err, char *buf, size_t size);

#endif
