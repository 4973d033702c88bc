/* ratelimit: the per-token request budget, an hour and a minute of sliding window in mock time. */
#include <errno.h>
#include <stdlib.h>

#include "ratelimit.h"

/* Round up, for the non-negative values here (the mock links without libm). */
static double
round_up(double v)
{
	double t = (double)(long long)v;

	return t < v ? t + 1 : t;
}

static void
window_release(struct window *w)
{
	free(w->t);
	w->t = NULL;
	w->head = w->n = 0;
}

static int
window_init(struct window *w, unsigned limit, double span)
{
	window_release(w);
	w->limit = limit;
	w->span = span;
	if (limit == MOCK_RATE_UNLIMITED)
		return 0;
	w->t = calloc(limit, sizeof(*w->t));
	return w->t == NULL ? -ENOMEM : 0;
}

static void
window_expire(struct window *w, double now)
{
	while (w->n > 0 && w->t[w->head] + w->span <= now) {
		w->head = (w->head + 1) % w->limit;
		w->n--;
	}
}

static void
window_add(struct window *w, double now)
{
	if (w->limit == MOCK_RATE_UNLIMITED || w->n >= w->limit)
		return;
	w->t[(w->head + w->n) % w->limit] = now;
	w->n++;
}

int
bucket_init(struct bucket *b, unsigned per_hour, unsigned per_minute)
{
	int r;

	r = window_init(&b->hour, per_hour, 3600);
	if (r < 0)
		return r;
	return window_init(&b->minute, per_minute, 60);
}

void
bucket_release(struct bucket *b)
{
	window_release(&b->hour);
	window_release(&b->minute);
}

int
bucket_take(struct bucket *b, double now, double time_scale, unsigned *retry_after)
{
	struct window *mw = &b->minute;

	window_expire(&b->hour, now);
	window_expire(mw, now);
	if (mw->limit != MOCK_RATE_UNLIMITED && mw->n >= mw->limit) {
		double wait = (mw->t[mw->head] + mw->span - now) * time_scale;

		*retry_after = wait < 1 ? 1 : (unsigned)round_up(wait);
		return 1;
	}
	if (b->hour.limit != MOCK_RATE_UNLIMITED && b->hour.n >= b->hour.limit)
		return 2;
	window_add(&b->hour, now);
	window_add(mw, now);
	return 0;
}

void
bucket_headers(const struct bucket *b, double now, double wall, double time_scale,
    unsigned *limit, unsigned *remaining, long long *reset)
{
	const struct window *h = &b->hour;

	if (h->limit == MOCK_RATE_UNLIMITED) {
		*limit = 5000;
		*remaining = 5000;
		*reset = (long long)wall;
		return;
	}
	*limit = h->limit;
	*remaining = h->limit - (unsigned)h->n;
	if (h->n == 0)
		*reset = (long long)round_up(wall);
	else
		*reset = (long long)round_up(wall + (h->t[h->head] + h->span - now) * time_scale);
}
