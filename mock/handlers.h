/* handlers: the route handlers mock/routes.c names, one file per resource (h_*.c). */
#ifndef DOSNAP_MOCK_HANDLERS_H
#define DOSNAP_MOCK_HANDLERS_H

#include "routes.h"

/*
 * Every handler is a route_fn: it fills the reply (errors included, in the
 * service's error shape) and returns 0, or returns -ENOMEM.  The route
 * matched already; the handler checks what the pattern cannot (a droplet
 * that does not exist, a malformed uuid, the body).
 */

/* h_account.c */
route_fn h_account_get;

/* h_droplets.c: /v2/droplets and a droplet's images */
route_fn h_droplets_list;
route_fn h_droplets_get;
route_fn h_droplets_list_snapshots;

/* h_actions.c: /v2/actions and a droplet's actions, by id and by tag */
route_fn h_actions_list;
route_fn h_actions_get;
route_fn h_droplet_actions_list;
route_fn h_droplet_actions_post;
route_fn h_droplet_actions_post_by_tag;
route_fn h_droplet_actions_get;

/* h_snapshots.c: /v2/snapshots (droplet images and volume snapshots) */
route_fn h_snapshots_list;
route_fn h_snapshots_get;
route_fn h_snapshots_delete;

/* h_volumes.c: /v2/volumes and volume snapshots */
route_fn h_volumes_list;
route_fn h_volumes_get;
route_fn h_volume_snapshots_list;
route_fn h_volume_snapshots_create;
route_fn h_volume_snapshots_get;
route_fn h_volume_snapshots_delete;

/* h_control.c: /__mock/, the control plane tests and demos use */
route_fn h_ctl_state;
route_fn h_ctl_requests;
route_fn h_ctl_requests_clear;
route_fn h_ctl_reset;
route_fn h_ctl_faults;
route_fn h_ctl_faults_add;
route_fn h_ctl_faults_clear;
route_fn h_ctl_droplet;

#endif
