/* fault: fault rules, their spec syntax, and which rule fires for a request. */
#ifndef DOSNAP_MOCK_FAULT_H
#define DOSNAP_MOCK_FAULT_H

#include <stddef.h>
#include <stdint.h>

#include "mock.h"

struct fault_rule {
	struct mock_fault f;
	unsigned seen;			/* matching requests so far */
	unsigned fired;			/* times it fired */
};

/*
 * The rule that fires for METHOD and PATH, or NULL.  Updates the counters of
 * every matching rule up to the one that fires, and draws from *RNG for rules
 * with a probability below 1.
 */
struct fault_rule *fault_pick(struct fault_rule *rules, size_t n, const char *method,
	    const char *path, uint64_t *rng);

/* A fault that is one HTTP error answer: its status and the API's error body. */
struct fault_http {
	enum mock_fault_kind kind;
	int status;
	const char *id;
	const char *message;
};

/* The answer for KIND when it is a plain HTTP error ("401", "404", "422"), else NULL. */
const struct fault_http *fault_http(enum mock_fault_kind kind);

/* Check a rule's values (kind in range, probability in [0,1], strings terminated).  0 or -EINVAL. */
int	fault_validate(const struct mock_fault *f);

#endif
