/* redact: secrets out of text, removed before any cut, never after; for the log and the API trace alike. */
#include <string.h>

#include "dosnap/redact.h"

size_t
redact_match(const char *const *secrets, size_t n_secrets, const char *s, size_t n)
{
	size_t k;

	for (k = 0; k < n_secrets; k++) {
		size_t slen = strlen(secrets[k]);

		if (slen > 0 && n >= slen && memcmp(s, secrets[k], slen) == 0)
			return slen;
	}
	return 0;
}

size_t
redact_cut(const char *const *secrets, size_t n_secrets, const char *src, size_t n, char *dst,
    size_t size, size_t *ret_used)
{
	static const char mark[] = REDACT_MARK;
	size_t i = 0, o = 0;

	if (size == 0) {
		if (ret_used != NULL)
			*ret_used = 0;
		return 0;
	}
	while (i < n && o + 1 < size) {
		size_t hit = redact_match(secrets, n_secrets, src + i, n - i);

		if (hit > 0) {
			if (o + sizeof(mark) - 1 >= size)
				break;
			memcpy(dst + o, mark, sizeof(mark) - 1);
			o += sizeof(mark) - 1;
			i += hit;
			continue;
		}
		dst[o++] = src[i++];
	}
	dst[o] = '\0';
	if (ret_used != NULL)
		*ret_used = i;
	return o;
}

size_t
redact_drop_tail(const char *const *secrets, size_t n_secrets, const char *s, size_t n)
{
	size_t k, len;

	for (k = 0; k < n_secrets; k++) {
		size_t slen = strlen(secrets[k]);

		if (slen == 0)
			continue;
		for (len = slen - 1 < n ? slen - 1 : n; len > 0; len--) {
			if (memcmp(s + n - len, secrets[k], len) == 0)
				return n - len;
		}
	}
	return n;
}
