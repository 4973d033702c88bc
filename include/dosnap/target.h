/* target: whether a droplet is one an entry's target names (pure: no API calls, no I/O). */
#ifndef DOSNAP_TARGET_H
#define DOSNAP_TARGET_H

#include <stdbool.h>
#include <stddef.h>

struct api_droplet;
struct sched_target;

/*
 * Whether droplet D is one target T names: by id, by exact name (a droplet
 * without a name matches no name), or by one of its tags, exactly.
 */
bool	target_matches(const struct api_droplet *d, const struct sched_target *t);

/* T as written in a schedule: "tag:web", "name:db-1" or "1234", in BUF of SIZE bytes. */
void	target_format(const struct sched_target *t, char *buf, size_t size);

#endif
