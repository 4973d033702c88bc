/* state: the mock's world (droplets, actions, images, volumes) and how it changes; no HTTP. */
#ifndef DOSNAP_MOCK_STATE_H
#define DOSNAP_MOCK_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mock.h"

enum mstatus {
	MSTATUS_NEW,
	MSTATUS_ACTIVE,
	MSTATUS_OFF,
	MSTATUS_ARCHIVE,
};

enum maction_status {
	MACTION_IN_PROGRESS,
	MACTION_COMPLETED,
	MACTION_ERRORED,
};

#define MSTATE_MAX_TAGS		32
#define MSTATE_MAX_NAME		255	/* droplet, image, volume names, bytes */

struct msize {
	const char *slug;
	int memory, vcpus, disk;
	double price_monthly, price_hourly;
	const char *description;
};

struct mregion {
	const char *slug;
	const char *name;
};

struct mdroplet {
	int64_t id;
	char *name;
	enum mstatus status;
	char **tags;
	size_t n_tags;
	const struct mregion *region;
	const struct msize *size;
	char created_at[32];		/* RFC 3339 */
	unsigned misbehaviour;
	int64_t busy_action;		/* id of the action in progress, or 0 */
	bool stale_active;		/* stale_status: reads "active" whatever it is */
	size_t n_actions;
	uint32_t ipv4;			/* public address, host order */
};

struct mimage {				/* a droplet snapshot or backup */
	int64_t id;
	char *name;
	bool backup;
	int64_t droplet_id;
	const struct mregion *region;
	double created_at;		/* Unix time */
	int min_disk_size;
	double size_gigabytes;
};

struct mvolume {
	char id[37];
	char *name;
	int64_t droplet_id;		/* 0: not attached */
	const struct mregion *region;
	int size_gigabytes;
	double created_at;
};

struct mvsnap {				/* a volume snapshot */
	char id[37];
	char *name;
	char volume_id[37];
	const struct mregion *region;
	double created_at;
	int min_disk_size;
	double size_gigabytes;
	char **tags;
	size_t n_tags;
};

struct maction {
	int64_t id;
	enum mock_action_type type;
	enum maction_status status;
	int64_t droplet_id;
	const struct mregion *region;
	double started_at;		/* Unix time */
	double completed_at;		/* Unix time, when not in progress */
	double due;			/* mock time at which it ends; < 0: never */
	char *snapshot_name;		/* snapshot actions */
};

struct maccount {
	char email[128];
	char uuid[37];
	char team[64];
	int droplet_limit;
};

/*
 * The whole world.  Droplets are sorted by id, since they are only made at
 * load time; actions are in id order, so action ID is actions[ID - first_action_id].
 */
struct mstate {
	struct maccount account;
	struct mdroplet *droplets;
	size_t n_droplets;
	struct mimage *images;
	size_t n_images, cap_images;
	struct mvolume *volumes;
	size_t n_volumes;
	struct mvsnap *vsnaps;
	size_t n_vsnaps, cap_vsnaps;
	struct maction *actions;
	size_t n_actions, cap_actions;
	/* The lists' caps: the MOCK_MAX_ values (mock.h); a test may lower them. */
	size_t max_images, max_vsnaps, max_actions;
	size_t n_in_progress;
	int64_t first_action_id;
	int64_t next_image_id;
	uint64_t uuid_seq;
	uint64_t seed;
};

/* Timing and switches that state transitions need; owned by the caller. */
struct mparams {
	double time_scale;		/* real seconds per mock second */
	const unsigned *action_ms;	/* MOCK_ACTION__COUNT entries, mock-time ms */
	enum mock_after_snapshot after_snapshot;
};

/*
 * Build a state from the fixture file PATH, or, when PATH is NULL, with N
 * generated droplets.  WALL is the current Unix time.  On success store a new
 * state in *ret (free with mstate_free) and return 0; errors: -ENOENT,
 * -EACCES, -EFBIG, -EINVAL (with a reason in ERRBUF when not NULL), -ENOMEM.
 */
int	mstate_load(const char *path, unsigned n, uint64_t seed, double wall,
	    struct mstate **ret, char *errbuf, size_t errlen);

/* Free a state.  NULL does nothing. */
void	mstate_free(struct mstate *st);

/* Complete every action whose time (mock time NOW) has come. */
void	mstate_advance(struct mstate *st, const struct mparams *p, double now, double wall);

/* Find things; NULL when absent. */
struct mdroplet *mstate_droplet(struct mstate *st, int64_t id);
struct maction *mstate_action(struct mstate *st, int64_t id);
struct mimage *mstate_image(struct mstate *st, int64_t id);
struct mvolume *mstate_volume(struct mstate *st, const char *id);
struct mvsnap *mstate_vsnap(struct mstate *st, const char *id);

/* Parse "active" etc.; -EINVAL when unknown.  And back. */
int	mstatus_parse(const char *s, enum mstatus *ret);
const char *mstatus_name(enum mstatus s);
const char *maction_status_name(enum maction_status s);
const char *maction_type_name(enum mock_action_type t);
int	maction_type_parse(const char *s, enum mock_action_type *ret);

/*
 * Start an action of TYPE on droplet D at mock time NOW and Unix time WALL.
 * NAME is the snapshot name (copied; NULL: one is made up).  On success store
 * the action in *ret (owned by the state) and return 0.  -EBUSY when D has
 * an action in progress, -ENOMEM.
 */
int	mstate_start_action(struct mstate *st, const struct mparams *p, struct mdroplet *d,
	    enum mock_action_type type, const char *name, double now, double wall,
	    struct maction **ret);

/* Take a volume snapshot at once.  NAME is copied; TAGS borrowed and copied. */
int	mstate_snapshot_volume(struct mstate *st, struct mvolume *v, const char *name,
	    const char *const *tags, size_t n_tags, double wall, struct mvsnap **ret);

/* Delete an image or a volume snapshot.  Returns 0 or -ENOENT. */
int	mstate_delete_image(struct mstate *st, int64_t id);
int	mstate_delete_vsnap(struct mstate *st, const char *id);

/* Whether droplet D carries TAG. */
bool	mdroplet_has_tag(const struct mdroplet *d, const char *tag);

/* Format Unix time T as RFC 3339 ("2024-05-01T12:00:00Z") into BUF (at least 21 bytes). */
void	mstate_format_time(double t, char *buf, size_t len);

/* Parse "YYYY-MM-DDTHH:MM:SSZ" into Unix time.  Returns 0 or -EINVAL. */
int	mstate_parse_time(const char *s, double *ret);

extern const struct mregion mstate_regions[];
extern const struct msize mstate_sizes[];

#endif
