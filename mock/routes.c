/* routes: the route tables {method, pattern, handler, operationId}; 404, 405 and Allow come from them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "reply.h"
#include "routes.h"

/*
 * The API.  Order matters only where two patterns match one path: the
 * first decides ("/v2/volumes/snapshots/X" is a volume snapshot, not the
 * snapshots of volume "snapshots").  Rows of one pattern stand together;
 * their order is the order of the Allow header.
 */
static const struct route v2_routes[] = {
	{ "GET",    "/v2/account",                      h_account_get,                 "account_get" },
	{ "GET",    "/v2/droplets",                     h_droplets_list,               "droplets_list" },
	{ "POST",   "/v2/droplets/actions",             h_droplet_actions_post_by_tag, "dropletActions_post_byTag" },
	{ "GET",    "/v2/droplets/{id}",                h_droplets_get,                "droplets_get" },
	/* dosnap never destroys a droplet; the mock refuses to, with a 405. */
	{ "DELETE", "/v2/droplets/{id}",                NULL,                          "droplets_destroy" },
	{ "GET",    "/v2/droplets/{id}/actions",        h_droplet_actions_list,        "dropletActions_list" },
	{ "POST",   "/v2/droplets/{id}/actions",        h_droplet_actions_post,        "dropletActions_post" },
	{ "GET",    "/v2/droplets/{id}/actions/{seg}",  h_droplet_actions_get,         "dropletActions_get" },
	{ "GET",    "/v2/droplets/{id}/snapshots",      h_droplets_list_snapshots,     "droplets_list_snapshots" },
	{ "GET",    "/v2/actions",                      h_actions_list,                "actions_list" },
	{ "GET",    "/v2/actions/{seg}",                h_actions_get,                 "actions_get" },
	{ "GET",    "/v2/snapshots",                    h_snapshots_list,              "snapshots_list" },
	{ "GET",    "/v2/snapshots/{seg}",              h_snapshots_get,               "snapshots_get" },
	{ "DELETE", "/v2/snapshots/{seg}",              h_snapshots_delete,            "snapshots_delete" },
	{ "GET",    "/v2/volumes",                      h_volumes_list,                "volumes_list" },
	{ "GET",    "/v2/volumes/snapshots/{seg}",      h_volume_snapshots_get,        "volumeSnapshots_get_byId" },
	{ "DELETE", "/v2/volumes/snapshots/{seg}",      h_volume_snapshots_delete,     "volumeSnapshots_delete_byId" },
	{ "GET",    "/v2/volumes/{seg}",                h_volumes_get,                 "volumes_get" },
	{ "GET",    "/v2/volumes/{seg}/snapshots",      h_volume_snapshots_list,       "volumeSnapshots_list" },
	{ "POST",   "/v2/volumes/{seg}/snapshots",      h_volume_snapshots_create,     "volumeSnapshots_create" },
};

/* The control plane: no auth, no rate limit, no faults, not logged. */
static const struct route control_routes[] = {
	{ "GET",    "/__mock/state",                    h_ctl_state,                   NULL },
	{ "GET",    "/__mock/requests",                 h_ctl_requests,                NULL },
	{ "DELETE", "/__mock/requests",                 h_ctl_requests_clear,          NULL },
	{ "POST",   "/__mock/reset",                    h_ctl_reset,                   NULL },
	{ "GET",    "/__mock/faults",                   h_ctl_faults,                  NULL },
	{ "POST",   "/__mock/faults",                   h_ctl_faults_add,              NULL },
	{ "DELETE", "/__mock/faults",                   h_ctl_faults_clear,            NULL },
	{ "POST",   "/__mock/droplets/{rest}",          h_ctl_droplet,                 NULL },
};

#define N_ROUTES(t)	(sizeof(t) / sizeof((t)[0]))

int
route_parse_id(const char *s, size_t len, int64_t *ret)
{
	int64_t v = 0;
	size_t i;

	if (len == 0 || len > 15)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1)
		return -EINVAL;
	*ret = v;
	return 0;
}

/*
 * Match PATH against PATTERN (see struct route), recording the
 * placeholders in Q.  A placeholder starts right after a '/' and a segment
 * placeholder ends at the next '/' or the end, so empty segments ("//")
 * never match.
 */
static bool
match(const char *pat, const char *path, struct req *q)
{
	struct route_arg *a;
	const char *end;

	q->n_args = 0;
	while (*pat != '\0') {
		if (*pat != '{') {
			if (*pat++ != *path++)
				return false;
			continue;
		}
		if (q->n_args == ROUTE_MAX_ARGS)
			return false;
		a = &q->arg[q->n_args++];
		a->s = path;
		a->id = 0;
		if (strncmp(pat, "{rest}", 6) == 0) {
			a->len = strlen(path);
			return pat[6] == '\0';
		}
		end = strchr(path, '/');
		a->len = end != NULL ? (size_t)(end - path) : strlen(path);
		if (a->len == 0)
			return false;
		if (strncmp(pat, "{id}", 4) == 0) {
			if (route_parse_id(path, a->len, &a->id) < 0)
				return false;
			pat += 4;
		} else if (strncmp(pat, "{seg}", 5) == 0) {
			pat += 5;
		} else {
			return false;	/* a typo in a table */
		}
		path += a->len;
	}
	return *path == '\0';
}

static int
dispatch(const struct route *t, size_t n, struct req *q, struct reply *rp)
{
	const char *pattern = NULL;
	char allow[sizeof(rp->allow)] = "";
	size_t i, len = 0;

	for (i = 0; i < n && pattern == NULL; i++)
		if (match(t[i].pattern, q->url, q))
			pattern = t[i].pattern;
	if (pattern == NULL)
		return reply_not_found(rp);
	for (i = 0; i < n; i++) {
		if (strcmp(t[i].pattern, pattern) != 0 || t[i].handler == NULL)
			continue;
		if (strcmp(t[i].method, q->method) == 0)
			return t[i].handler(q, rp);
		len += (size_t)snprintf(allow + len, sizeof(allow) - len, "%s%s", len > 0 ? ", " : "",
		    t[i].method);
		if (len >= sizeof(allow))
			len = sizeof(allow) - 1;
	}
	return reply_method_not_allowed(rp, allow);
}

int
route_request(struct req *q, struct reply *rp, bool control)
{
	if (control)
		return dispatch(control_routes, N_ROUTES(control_routes), q, rp);
	return dispatch(v2_routes, N_ROUTES(v2_routes), q, rp);
}

const struct route *
route_table(size_t *ret_n)
{
	*ret_n = N_ROUTES(v2_routes);
	return v2_routes;
}

const char *
req_arg(const struct req *q, const char *key)
{
	return MHD_lookup_connection_value(q->c, MHD_GET_ARGUMENT_KIND, key);
}
