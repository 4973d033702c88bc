/* fuzz_schedule: libFuzzer target for the schedule parser, next fire times, durations and RFC 3339. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dosnap/schedule.h"
#include "dosnap/tz.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs beyond a schedule's size limit only test the size check. */
#define FUZZ_MAX_INPUT	(64 * 1024)

/* Fire times from a few fixed instants, each checked to move forward. */
static void
fuzz_next(const struct sched_entry *e)
{
	static const int64_t starts[] = {
		0, 1772953199, 1793512800, 1774746000, 4102444800, -2208988800,
	};
	size_t i;
	int k;

	for (i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		int64_t t = starts[i], next;

		for (k = 0; k < 3; k++) {
			if (sched_next(e, t, &next) < 0)
				break;
			if (next <= t)
				abort();
			t = next;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct schedule *s = NULL;
	struct sched_diags d;
	struct sched_entry e;
	char *text;
	int64_t v;
	size_t i;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	memset(&d, 0, sizeof(d));
	if (schedule_parse((const char *)data, size, &s, &d) == 0) {
		if (d.n_total != 0)
			abort();
		for (i = 0; i < s->n_entries; i++)
			fuzz_next(&s->entries[i]);
		schedule_free(s);
	} else if (d.n_total == 0 && size <= SCHED_MAX_FILE_SIZE) {
		/* A refusal without a reason, other than running out of memory, is a bug. */
		abort();
	}
	sched_diags_release(&d);

	/* The same bytes, NUL-terminated, as a lone expression and as other values. */
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&d, 0, sizeof(d));
	if (sched_expr_parse(text, NULL, &e, &d) == 0) {
		fuzz_next(&e);
		sched_entry_release(&e);
	}
	sched_diags_release(&d);
	(void)sched_parse_duration(text, &v);
	(void)tz_parse_rfc3339(text, &v);
	free(text);
	return 0;
}
