/* fault: parsing fault specs and deciding, deterministically, which fault a request meets. */
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"

static const char *const kind_names[MOCK_FAULT__COUNT] = {
	"500", "502", "503", "429", "reset", "stall", "truncated", "malformed", "401", "404", "422",
};

/* The kinds that are one plain HTTP error answer, as the API words them. */
static const struct fault_http http_errors[] = {
	{ MOCK_FAULT_HTTP_401, 401, "unauthorized", "Unable to authenticate you." },
	{ MOCK_FAULT_HTTP_404, 404, "not_found", "The resource you were accessing could not be found." },
	{ MOCK_FAULT_HTTP_422, 422, "unprocessable_entity", "Droplet already has a pending event." },
};

const struct fault_http *
fault_http(enum mock_fault_kind kind)
{
	size_t i;

	for (i = 0; i < sizeof(http_errors) / sizeof(http_errors[0]); i++)
		if (http_errors[i].kind == kind)
			return &http_errors[i];
	return NULL;
}

const char *
mock_fault_kind_name(enum mock_fault_kind kind)
{
	if ((unsigned)kind >= MOCK_FAULT__COUNT)
		return "?";
	return kind_names[kind];
}

/* A decimal number in [0, max], the whole string. */
static int
parse_uint(const char *s, unsigned max, unsigned *ret)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

static int
parse_item(const char *item, struct mock_fault *f, int *have_kind)
{
	const char *eq = strchr(item, '=');
	const char *v = eq != NULL ? eq + 1 : "";
	size_t klen = eq != NULL ? (size_t)(eq - item) : strlen(item);
	char *end;
	size_t i;

#define KEY(k) (klen == sizeof(k) - 1 && strncmp(item, k, klen) == 0)
	if (eq == NULL) {
		if (KEY("once")) {
			f->times = 1;
			return 0;
		}
		return -EINVAL;
	}
	if (KEY("kind")) {
		for (i = 0; i < MOCK_FAULT__COUNT; i++) {
			if (strcmp(v, kind_names[i]) == 0) {
				f->kind = (enum mock_fault_kind)i;
				*have_kind = 1;
				return 0;
			}
		}
		return -EINVAL;
	}
	if (KEY("method")) {
		if (strlen(v) >= sizeof(f->method))
			return -EINVAL;
		strcpy(f->method, v);
		return 0;
	}
	if (KEY("path")) {
		if (strlen(v) >= sizeof(f->path))
			return -EINVAL;
		strcpy(f->path, v);
		return 0;
	}
	if (KEY("times"))
		return parse_uint(v, INT_MAX, &f->times);
	if (KEY("after"))
		return parse_uint(v, INT_MAX, &f->after);
	if (KEY("retry-after"))
		return parse_uint(v, 86400, &f->retry_after);
	if (KEY("stall-ms"))
		return parse_uint(v, 3600000, &f->stall_ms);
	if (KEY("p")) {
		if (*v == '\0')
			return -EINVAL;
		errno = 0;
		f->probability = strtod(v, &end);
		if (errno != 0 || *end != '\0' || !(f->probability >= 0.0 && f->probability <= 1.0))
			return -EINVAL;
		return 0;
	}
#undef KEY
	return -EINVAL;
}

/*
 * spec = item *( "," item ); see mock.h for the items.  The spec is copied
 * into a bounded buffer so that strtok-style splitting leaves it alone.
 */
int
mock_fault_parse(const char *spec, struct mock_fault *ret)
{
	struct mock_fault f;
	char buf[512], *item, *next;
	int have_kind = 0, r;

	if (spec == NULL || strlen(spec) >= sizeof(buf))
		return -EINVAL;
	memset(&f, 0, sizeof(f));
	strcpy(buf, spec);
	for (item = buf; item != NULL; item = next) {
		next = strchr(item, ',');
		if (next != NULL)
			*next++ = '\0';
		r = parse_item(item, &f, &have_kind);
		if (r < 0)
			return r;
	}
	if (!have_kind)
		return -EINVAL;
	*ret = f;
	return 0;
}

int
fault_validate(const struct mock_fault *f)
{
	if ((unsigned)f->kind >= MOCK_FAULT__COUNT)
		return -EINVAL;
	if (memchr(f->method, '\0', sizeof(f->method)) == NULL ||
	    memchr(f->path, '\0', sizeof(f->path)) == NULL)
		return -EINVAL;
	if (!(f->probability >= 0.0 && f->probability <= 1.0))
		return -EINVAL;
	return 0;
}

/* splitmix64: small, fast, and the same sequence everywhere for a given seed. */
static uint64_t
next_random(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

struct fault_rule *
fault_pick(struct fault_rule *rules, size_t n, const char *method, const char *path,
    uint64_t *rng)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct fault_rule *r = &rules[i];
		double p = r->f.probability == 0.0 ? 1.0 : r->f.probability;

		if (r->f.method[0] != '\0' && strcmp(r->f.method, method) != 0)
			continue;
		if (r->f.path[0] != '\0' && fnmatch(r->f.path, path, 0) != 0)
			continue;
		if (r->f.times != 0 && r->fired >= r->f.times)
			continue;
		if (r->seen++ < r->f.after)
			continue;
		if (p < 1.0 && (double)(next_random(rng) >> 11) / 9007199254740992.0 >= p)
			continue;
		r->fired++;
		return r;
	}
	return NULL;
}
