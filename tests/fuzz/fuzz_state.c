/* fuzz_state: the state file and intent journal readers against arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "dosnap/journal.h"
#include "dosnap/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct journal_record rec;
	struct state st;
	unsigned line = 0;

	/* The first byte picks the reader, so one corpus serves both. */
	if (size == 0)
		return 0;
	if (data[0] & 1) {
		(void)journal_parse((const char *)data + 1, size - 1, &rec);
	} else {
		state_init(&st);
		if (state_parse((const char *)data + 1, size - 1, &st, &line) == 0) {
			/* What parsed must be usable: look every entry up again. */
			size_t i;

			for (i = 0; i < st.n_entries; i++)
				if (state_find(&st, st.entries[i].id) != &st.entries[i])
					__builtin_trap();
		}
		state_release(&st);
	}
	return 0;
}
