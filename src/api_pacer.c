/* api_pacer: the API rate budget shared by all requests, with the clock passed in (no curl). */
#include <errno.h>
#include <stdlib.h>

#include "api_pacer.h"

int
api_pacer_init(struct api_pacer *p, int rate_per_minute, int64_t window_ms, int reserve)
{
	*p = (struct api_pacer){
		.rate_per_minute = rate_per_minute > 0 ? rate_per_minute : 0,
		.window_ms = window_ms,
		.reserve = reserve,
	};
	if (p->rate_per_minute > 0) {
		p->sends = calloc((size_t)p->rate_per_minute, sizeof(*p->sends));
		if (p->sends == NULL)
			return -ENOMEM;
	}
	return 0;
}

void
api_pacer_release(struct api_pacer *p)
{
	free(p->sends);
	p->sends = NULL;
}

void
api_pacer_note_send(struct api_pacer *p, int64_t now)
{
	size_t cap = (size_t)p->rate_per_minute;

	if (p->sends == NULL || cap == 0)
		return;
	if (p->sends_n == cap) {
		p->sends_head = (p->sends_head + 1) % cap;
		p->sends_n--;
	}
	p->sends[(p->sends_head + p->sends_n) % cap] = now;
	p->sends_n++;
}

void
api_pacer_note_response(struct api_pacer *p, long status, long rl_remaining, int64_t rl_reset,
    long retry_after_s, int64_t now, int64_t wall_ms)
{
	/*
	 * Answers can overtake each other, so a higher count than the one we
	 * hold may be stale; it can only really rise once the oldest counted
	 * request has expired, at the ratelimit-reset we were told.
	 */
	if (rl_remaining >= 0 && (!p->have_rl || rl_remaining <= p->rl_remaining ||
	    wall_ms / 1000 >= p->rl_reset)) {
		p->have_rl = true;
		p->rl_remaining = rl_remaining;
		p->rl_reset = rl_reset;
		p->rl_hold_until = 0;
	}
	if (status == 429) {
		long s = retry_after_s >= 0 ? retry_after_s : 1;
		int64_t until;

		if (s > RETRY_AFTER_MAX_S)
			s = RETRY_AFTER_MAX_S;
		until = now + s * 1000;
		if (until > p->blocked_until)
			p->blocked_until = until;
	}
}

int64_t
api_pacer_wait_until(struct api_pacer *p, size_t n_running, int64_t now, int64_t wall_ms)
{
	if (p->blocked_until > now)
		return p->blocked_until;
	if (p->sends != NULL) {
		size_t cap = (size_t)p->rate_per_minute;

		while (p->sends_n > 0 && p->sends[p->sends_head] <= now - p->window_ms) {
			p->sends_head = (p->sends_head + 1) % cap;
			p->sends_n--;
		}
		if (p->sends_n >= cap)
			return p->sends[p->sends_head] + p->window_ms;
	}
	if (p->have_rl && p->rl_remaining - (long)n_running <= p->reserve) {
		int64_t wait;

		/* Responses still to come will bring fresher counts. */
		if (n_running > 0)
			return now + 1000;
		if (p->rl_hold_until == 0) {
			/*
			 * ratelimit-reset: when the oldest counted request stops
			 * counting.  Clamped before the arithmetic (see HEADER_NUM_MAX).
			 */
			wait = (p->rl_reset < HEADER_NUM_MAX ? p->rl_reset : HEADER_NUM_MAX) * 1000 -
			    wall_ms;
			if (wait < 1000)
				wait = 1000;
			if (wait > 3600 * 1000)
				wait = 3600 * 1000;
			p->rl_hold_until = now + wait;
		}
		if (now < p->rl_hold_until)
			return p->rl_hold_until;
		/* The hold is over: let one request through to learn the new count. */
		p->have_rl = false;
		p->rl_hold_until = 0;
	}
	return 0;
}
