/* fuzz_api: feeds bytes to the API response decoders; the first byte picks which one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dosnap/api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_reply reply;
	enum api_body_kind kind;
	char *next = NULL, *text;
	int64_t t;

	if (size < 1)
		return 0;
	kind = (enum api_body_kind)(data[0] % API_BODY__COUNT);
	memset(&reply, 0, sizeof(reply));
	if (api_decode(kind, (const char *)data + 1, size - 1, &reply, &next) == 0)
		api_reply_release(&reply);
	free(next);

	/* The time parser sees the same bytes as a C string. */
	text = malloc(size);
	if (text == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	(void)api_parse_time(text, &t);
	(void)api_host_is_loopback(text);
	free(text);
	return 0;
}
