/* api_buf: the API client's growing byte buffer with a hard cap (response bodies, trace lines). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"

int
api_buf_append(struct api_buf *b, const void *p, size_t n)
{
	size_t want;
	char *d;

	if (n > b->cap - b->len) {
		b->overflow = true;
		return -EFBIG;
	}
	want = b->len + n + 1;
	if (want > b->alloc) {
		size_t a = b->alloc > 0 ? b->alloc : 4096;

		while (a < want)
			a *= 2;
		/* Doubling must not take the allocation far past the cap. */
		if (a > b->cap + 1 && want <= b->cap + 1)
			a = b->cap + 1;
		d = realloc(b->data, a);
		if (d == NULL)
			return -ENOMEM;
		b->data = d;
		b->alloc = a;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

void
api_buf_reset(struct api_buf *b)
{
	b->len = 0;
	b->overflow = false;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
api_buf_release(struct api_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->alloc = 0;
}
