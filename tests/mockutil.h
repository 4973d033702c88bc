/* mockutil: start the mock in-process on port 0 and talk to it with libcurl, for every test. */
#ifndef DOSNAP_MOCKUTIL_H
#define DOSNAP_MOCKUTIL_H

#include <stddef.h>

#include "mock.h"

#define MU_BODY_MAX	(8 * 1024 * 1024)	/* bytes of response body kept */
#define MU_HEADERS_MAX	(16 * 1024)		/* bytes of response headers kept */

/*
 * Fill *cfg for a test: mock_config_init's defaults, time scale 0.01 (a 20 s
 * snapshot takes 0.2 s), and FIXTURE ("basic.json" etc. under
 * mock/fixtures/, or NULL for 3 generated droplets).  The fixture path
 * string lives in static storage until the next call.
 */
void	mu_config(struct mock_config *cfg, const char *fixture);

/* Start a mock with CFG (NULL: mu_config(cfg, "basic.json")).  Aborts the test on failure. */
struct mock *mu_start(const struct mock_config *cfg);

struct mu_response {
	long status;			/* HTTP status; 0 when none came */
	int curl_code;			/* CURLcode; 0 on success */
	char *body;			/* NUL-terminated, malloc'd; "" when empty */
	size_t len;
	char *headers;			/* raw header block, NUL-terminated, malloc'd */
};

/*
 * Send METHOD PATH (e.g. "/v2/droplets?per_page=2") to M with the mock's
 * token and, when BODY is not NULL, that JSON body.  Fills *res (release
 * with mu_response_release); transport errors show in res->curl_code.
 */
void	mu_request(struct mock *m, const char *method, const char *path, const char *body,
	    struct mu_response *res);

/*
 * As mu_request with full control: AUTH is the whole Authorization header
 * value (NULL: none), TIMEOUT_MS the total time allowed (0: 10 s).
 */
void	mu_request_ex(struct mock *m, const char *method, const char *path, const char *auth,
	    const char *body, long timeout_ms, struct mu_response *res);

/* The value of header NAME (case-insensitive) in RES, copied to BUF; NULL when absent. */
const char *mu_header(const struct mu_response *res, const char *name, char *buf, size_t len);

void	mu_response_release(struct mu_response *res);

/* Path of a fixture under $DOSNAP_SRCDIR/mock/fixtures/ (static storage). */
const char *mu_fixture(const char *name);

#endif
