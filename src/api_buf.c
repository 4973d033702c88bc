/* api_buf: the API client's growing byte buffer with a hard cap (response bodies, trace lines). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "dosnap/util.h"

/* The first allocation: most answers and lines fit in it. */
#define BUF_FIRST	4096

int
api_buf_append(struct api_buf *b, const void *p, size_t n)
{
	size_t want;
	int r;

	if (n > b->cap - b->len) {
		b->overflow = true;
		return -EFBIG;
	}
	want = b->len + n + 1;
	if (b->alloc == 0 && want < BUF_FIRST)
		want = BUF_FIRST < b->cap + 1 ? BUF_FIRST : b->cap + 1;
	/* Doubling, but never past the cap (and its NUL): WANT is within it. */
	r = grow_array(&b->data, &b->alloc, want, 1, b->cap + 1);
	if (r < 0)
		return r;
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
