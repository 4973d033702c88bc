/* target: whether a droplet is one an entry's target names. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dosnap/api.h"
#include "dosnap/schedule.h"
#include "dosnap/target.h"

bool
target_matches(const struct api_droplet *d, const struct sched_target *t)
{
	size_t i;

	switch (t->kind) {
	case SCHED_TARGET_ID:
		return (uint64_t)d->id == t->id;
	case SCHED_TARGET_NAME:
		return d->name != NULL && strcmp(d->name, t->value) == 0;
	case SCHED_TARGET_TAG:
		for (i = 0; i < d->n_tags; i++)
			if (strcmp(d->tags[i], t->value) == 0)
				return true;
		return false;
	}
	return false;
}

void
target_format(const struct sched_target *t, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s", t->kind == SCHED_TARGET_TAG ? "tag:" :
	    t->kind == SCHED_TARGET_NAME ? "name:" : "", t->value);
}
