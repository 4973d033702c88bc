/* failcalloc: an LD_PRELOAD shim for tests: calloc(N, SIZE) fails when $DOSNAP_FAIL_CALLOC is "N,SIZE". */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

/* glibc's own calloc, so that no dlsym (which itself allocates) is needed. */
extern void *__libc_calloc(size_t n, size_t size);

void	*calloc(size_t n, size_t size);

void *
calloc(size_t n, size_t size)
{
	static int armed = -1;
	static size_t fail_n, fail_size;

	if (armed < 0) {
		const char *v = getenv("DOSNAP_FAIL_CALLOC");
		char *end = NULL;

		armed = 0;
		if (v != NULL) {
			fail_n = strtoul(v, &end, 10);
			if (end != NULL && *end == ',') {
				fail_size = strtoul(end + 1, &end, 10);
				armed = *end == '\0';
			}
		}
	}
	if (armed && n == fail_n && size == fail_size) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_calloc(n, size);
}
