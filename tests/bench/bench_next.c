/* bench_next: measures sched_next throughput for a few expressions in UTC and America/New_York. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dosnap/schedule.h"
#include "dosnap/tz.h"

/* Each measurement runs for at least this long. */
#define BENCH_SECONDS	0.3
#define BENCH_STARTS	4096

static const char *const exprs[] = {
	"*/5 * * * *",
	"30 3 * * 0,4",
	"0 0 29 2 *",
	"0 12 * * mon-fri",
};

static const char *const zones[] = {
	"UTC",
	"America/New_York",
};

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Time sched_next from start instants spread over 2020..2040, so that
 * rare expressions are not measured from one lucky place.
 */
static int
bench_one(const struct sched_entry *e, const int64_t *starts, double *ret)
{
	double t0, elapsed;
	uint64_t n = 0;
	int64_t sink = 0, next;
	int r;

	t0 = now_seconds();
	do {
		size_t i;

		for (i = 0; i < BENCH_STARTS; i++) {
			r = sched_next(e, starts[i], &next);
			if (r < 0)
				return r;
			sink ^= next;
		}
		n += BENCH_STARTS;
		elapsed = now_seconds() - t0;
	} while (elapsed < BENCH_SECONDS);
	/* Keeps the calls from being optimised away. */
	if (sink == 1)
		fputc('\0', stderr);
	*ret = (double)n / elapsed;
	return 0;
}

int
main(void)
{
	int64_t *starts;
	size_t zi, ei, i;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	int rc = EXIT_SUCCESS;

	starts = malloc(BENCH_STARTS * sizeof(*starts));
	if (starts == NULL)
		return EXIT_FAILURE;
	for (i = 0; i < BENCH_STARTS; i++) {
		/* xorshift64: reproducible instants in [2020, 2040). */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		starts[i] = 1577836800 + (int64_t)(x % (20ULL * 365 * 86400));
	}
	for (zi = 0; zi < sizeof(zones) / sizeof(zones[0]); zi++) {
		struct tz *z;
		int r;

		r = tz_load(zones[zi], &z);
		if (r < 0) {
			fprintf(stderr, "bench_next: cannot load zone '%s': %s\n", zones[zi], strerror(-r));
			rc = EXIT_FAILURE;
			continue;
		}
		for (ei = 0; ei < sizeof(exprs) / sizeof(exprs[0]); ei++) {
			struct sched_entry e;
			struct sched_diags d;
			double rate;

			memset(&d, 0, sizeof(d));
			r = sched_expr_parse(exprs[ei], z, &e, &d);
			sched_diags_release(&d);
			if (r < 0) {
				fprintf(stderr, "bench_next: cannot parse '%s': %s\n", exprs[ei], strerror(-r));
				rc = EXIT_FAILURE;
				continue;
			}
			r = bench_one(&e, starts, &rate);
			sched_entry_release(&e);
			if (r < 0) {
				fprintf(stderr, "bench_next: sched_next '%s' in %s: %s\n", exprs[ei],
				    zones[zi], strerror(-r));
				rc = EXIT_FAILURE;
				continue;
			}
			printf("next_fire %s %s %.0f\n", exprs[ei], zones[zi], rate);
		}
		tz_free(z);
	}
	free(starts);
	return rc;
}
