/* api_pacer: the API rate budget shared by all requests, with the clock passed in (no curl). */
#ifndef DOSNAP_API_PACER_H
#define DOSNAP_API_PACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEADER_NUM_MAX		1000000000000L	/* a number in a header, clamped: x 1000 fits */
#define RETRY_AFTER_MAX_S	3600

/*
 * Our own sends in the last window against RATE_PER_MINUTE, the server's
 * ratelimit-remaining (less requests in flight and RESERVE), and any
 * retry-after from a 429.  Times: NOW is monotonic ms, WALL_MS wall-clock
 * ms (ratelimit-reset is a Unix time).
 */
struct api_pacer {
	int rate_per_minute;		/* 0: unpaced */
	int64_t window_ms;		/* the "minute" rate_per_minute counts over */
	int reserve;			/* of ratelimit-remaining, left unused */
	int64_t *sends;			/* ring of send times; NULL when unpaced */
	size_t sends_head, sends_n;
	int64_t blocked_until;		/* monotonic ms; after a 429 */
	bool have_rl;
	long rl_remaining;
	int64_t rl_reset;		/* Unix seconds */
	int64_t rl_hold_until;		/* monotonic ms; 0: not holding */
};

/*
 * Set up *P: RATE_PER_MINUTE sends (0: unpaced) over WINDOW_MS, RESERVE of
 * the server's count left unused.  0 or -ENOMEM.  Free with api_pacer_release.
 */
int	api_pacer_init(struct api_pacer *p, int rate_per_minute, int64_t window_ms, int reserve);
void	api_pacer_release(struct api_pacer *p);

/* A request went out at NOW. */
void	api_pacer_note_send(struct api_pacer *p, int64_t now);

/*
 * An answer with STATUS came at NOW, with its headers' RL_REMAINING (-1:
 * none), RL_RESET (Unix seconds, 0: none) and RETRY_AFTER_S (-1: none).
 */
void	api_pacer_note_response(struct api_pacer *p, long status, long rl_remaining,
	    int64_t rl_reset, long retry_after_s, int64_t now, int64_t wall_ms);

/*
 * Whether a request may start at NOW with N_RUNNING in flight: 0 if so,
 * else the monotonic time to ask again.
 */
int64_t	api_pacer_wait_until(struct api_pacer *p, size_t n_running, int64_t now,
	    int64_t wall_ms);

#endif
