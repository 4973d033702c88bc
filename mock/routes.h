/* routes: the route tables {method, pattern, handler, operationId}; 404, 405 and Allow come from them. */
#ifndef DOSNAP_MOCK_ROUTES_H
#define DOSNAP_MOCK_ROUTES_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mock;
struct reply;

#define ROUTE_MAX_ARGS	4

/* One placeholder of the path, as the route matched it. */
struct route_arg {
	const char *s;			/* into the request's path; not terminated */
	size_t len;
	int64_t id;			/* for {id}; 0 otherwise */
};

/* A request being served, with m->lock held. */
struct req {
	struct mock *m;
	struct MHD_Connection *c;
	const char *url;		/* the path, without the query or a trailing slash */
	const char *method;
	const char *body;
	size_t body_len;
	bool body_too_big;
	double now;			/* mock time */
	double wall;			/* Unix time */
	struct route_arg arg[ROUTE_MAX_ARGS];	/* the pattern's placeholders, in order */
	size_t n_args;
};

/*
 * Fill RP for Q.  Returns 0, or a negative errno (-ENOMEM) for which the
 * caller sends a 500.
 */
typedef int route_fn(struct req *q, struct reply *rp);

/*
 * One route.  PATTERN is the path, byte for byte, with placeholders for
 * whole segments: "{id}" a droplet or action id (digits, at most 15, not
 * 0; anything else is no match, so a 404), "{seg}" any non-empty segment
 * (the handler checks it), "{rest}" all that follows (slashes too, maybe
 * nothing).  A HANDLER of NULL is an operation the mock refuses on
 * purpose: it answers 405 and is not in Allow.  OPERATION is the
 * operationId of the OpenAPI file (NULL for the control plane), the list
 * mock/served-operations.txt must agree with.
 */
struct route {
	const char *method;
	const char *pattern;
	route_fn *handler;
	const char *operation;
};

/*
 * Route Q (an authenticated, rate-checked /v2 request; or a /__mock one
 * with CONTROL) through its table: the first row whose pattern matches
 * decides the path; of the rows with that same pattern the one with Q's
 * method runs; when none has it, 405 with Allow naming the methods those
 * rows do take; no pattern: 404.
 */
int	route_request(struct req *q, struct reply *rp, bool control);

/* The /v2 table, for the test that it agrees with mock/served-operations.txt. */
const struct route *route_table(size_t *ret_n);

/* Parse a droplet or action id: LEN digits, at most 15, >= 1.  0 or -EINVAL. */
int	route_parse_id(const char *s, size_t len, int64_t *ret);

/* The query argument KEY of Q, or NULL. */
const char *req_arg(const struct req *q, const char *key);

#endif
