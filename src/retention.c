/* retention: which snapshots to keep and which to delete (pure: no API calls, no I/O). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "dosnap/api.h"
#include "dosnap/naming.h"
#include "dosnap/retention.h"

int
retention_plan(const struct api_snapshot *snaps, size_t n, const struct retention_rule *rule,
    const char *keep_name, bool **ret_del)
{
	struct naming_snap *ns;
	bool *del;
	size_t i, chosen;

	if (n == 0) {
		*ret_del = NULL;
		return 0;
	}
	ns = calloc(n, sizeof(*ns));
	del = calloc(n, sizeof(*del));
	if (ns == NULL || del == NULL) {
		free(ns);
		free(del);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		ns[i].name = snaps[i].name;
		ns[i].created_at = snaps[i].created_at;
		ns[i].backup = snaps[i].type == API_SNAPSHOT_TYPE_BACKUP;
	}
	chosen = naming_retention(ns, n, rule->tmpl, keep_name, rule->keep, rule->max_age,
	    rule->now, del);
	free(ns);
	*ret_del = del;
	return chosen > INT_MAX ? INT_MAX : (int)chosen;
}
