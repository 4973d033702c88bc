/* render: the mock's objects as the JSON DigitalOcean's API gives (cJSON stays in mock/). */
#ifndef DOSNAP_MOCK_RENDER_H
#define DOSNAP_MOCK_RENDER_H

#include <cjson/cJSON.h>

#include "state.h"

/*
 * Each returns a new cJSON object the caller frees with cJSON_Delete, or
 * NULL when out of memory.  DRIFT makes the droplet break the OpenAPI
 * description on purpose (see mock_config.debug_drift).
 */
cJSON	*render_droplet(const struct mstate *st, const struct mdroplet *d, bool drift);
cJSON	*render_action(const struct maction *a);
cJSON	*render_droplet_image(const struct mimage *img);	/* integer id, type */
cJSON	*render_image_snapshot(const struct mimage *img);	/* string id, resource_* */
cJSON	*render_volume(const struct mstate *st, const struct mvolume *v);
cJSON	*render_vsnap(const struct mvsnap *vs);
cJSON	*render_account(const struct maccount *a);
cJSON	*render_region(const struct mregion *r);

#endif
