/* state: what dosnap did last time: the state directory, the state file, and the lock. */
#ifndef DOSNAP_STATE_H
#define DOSNAP_STATE_H

#include <stddef.h>
#include <stdint.h>

#define STATE_MAX_FILE_SIZE	(4 * 1024 * 1024)
#define STATE_MAX_ENTRIES	100000
#define STATE_MAX_DROPLETS	10000	/* per entry; past it the oldest record goes */
#define STATE_MAX_COUNTERS	64

/* How a droplet's last attempt ended. */
enum state_outcome {
	STATE_OUTCOME_NONE,	/* not tried yet */
	STATE_OUTCOME_OK,
	STATE_OUTCOME_PASSING,	/* network, 5xx, 429, timeout: retried within the slot */
	STATE_OUTCOME_LASTING,	/* errored snapshot, 4xx, no such droplet: the next slot tries */
};

/*
 * What is remembered of one droplet of an entry.  Id 0 stands for the
 * entry's targets as a whole: they could not be resolved at all.
 */
struct state_droplet {
	int64_t id;
	int64_t slot;		/* the slot of the last attempt */
	enum state_outcome outcome;
	int attempts;		/* failed attempts in that slot */
	int64_t next_retry;	/* when a passing failure is tried again; 0: never */
	int64_t last_attempt;	/* Unix seconds */
	int64_t last_success;	/* Unix seconds; 0: never */
	int64_t duration_ms;	/* of the last attempt */
	uint64_t taken;		/* snapshots taken, ever (a counter) */
	uint64_t deleted;	/* snapshots pruned, ever */
	char name[64];		/* the droplet's name, for people and labels */
};

/* What is remembered of one schedule entry, keyed by sched_entry.id. */
struct state_entry {
	uint64_t id;
	int64_t checked;	/* fire times up to here have been handled */
	int64_t slot;		/* the last slot run (0: none) */
	int result;		/* that slot's outcome: 0 ok, else an exit code */
	int64_t last_ok;	/* the last slot that fully succeeded (0: none known) */
	int64_t since;		/* fire times after this are dosnap's to run (0: unknown) */
	struct state_droplet *droplets;	/* owned; sorted by id */
	size_t n_droplets, cap_droplets;
};

/* A named counter that survives across runs ("api-requests"). */
struct state_counter {
	char name[32];
	uint64_t value;
};

struct state {
	int64_t last_run;	/* the previous invocation's time; 0 on a first run */
	struct state_counter counters[STATE_MAX_COUNTERS];
	size_t n_counters;
	struct state_entry *entries;
	size_t n_entries;
	size_t cap_entries;
};

/*
 * Choose the state directory: OPT (--state-dir) when not NULL, else the
 * first path in $STATE_DIRECTORY (systemd), else $XDG_STATE_HOME/dosnap,
 * else /var/lib/dosnap for root, else ~/.local/state/dosnap.  On success
 * *ret is a malloc'd path the caller frees.  -ENOENT when nothing applies
 * (no $HOME), -ENOMEM.
 */
int	state_dir_resolve(const char *opt, char **ret);

/*
 * Create DIR (and missing parents) with mode 0700 if it does not exist, and
 * refuse it when it is not a directory (-ENOTDIR), or is not ours or is
 * writable by group or others (-EPERM), since whoever can write there can
 * steer dosnap.  A symlink to such a directory is fine (systemd's
 * DynamicUser= makes one); the files inside are never opened through one.
 */
int	state_dir_prepare(const char *dir);

/*
 * The state file for SCHEDULE_PATH inside DIR: "<dir>/<basename>-<hash>.state",
 * the hash taken over the schedule's absolute path, so that two schedules
 * with one name in different places keep separate state.  *ret is malloc'd.
 */
int	state_path_for(const char *dir, const char *schedule_path, char **ret);

/* An empty state; state_release frees what it holds.  Never fails. */
void	state_init(struct state *st);
void	state_release(struct state *st);

/*
 * Read the state file at PATH into *ret (initialised by the caller with
 * state_init, filled only on success).  -ENOENT when there is none (a first
 * run), -EBADMSG when it is not a dosnap state file or is damaged (then
 * *ret_line, when not NULL, gets the 1-based line), -EFBIG past
 * STATE_MAX_FILE_SIZE, -ELOOP for a symlink, other errno from the system.
 */
int	state_load(const char *path, struct state *ret, unsigned *ret_line);

/* As state_load, from a buffer; for tests and the fuzzer. */
int	state_parse(const char *text, size_t len, struct state *ret, unsigned *ret_line);

/*
 * Write ST to PATH atomically: a new file (mode 0600) beside it, written
 * and fsync'd, renamed over PATH, and the directory fsync'd, so that a crash
 * at any moment leaves either the old state or the new one.
 */
int	state_save(const struct state *st, const char *path);

/*
 * Move a damaged state file aside to "PATH.corrupt-<unix time>", so the run
 * can go on as a first run and the file stays for inspection.  *ret_aside,
 * when not NULL, gets the new name (malloc'd).
 */
int	state_quarantine(const char *path, int64_t now, char **ret_aside);

/* The entry with ID, or NULL.  O(log n). */
const struct state_entry *state_find(const struct state *st, uint64_t id);

/* The entry with ID, added (zeroed but for the id) if missing; NULL on ENOMEM. */
struct state_entry *state_get(struct state *st, uint64_t id);

/* Droplet ID of entry SE, or NULL.  O(log n). */
const struct state_droplet *state_droplet_find(const struct state_entry *se, int64_t id);

/*
 * Droplet ID of entry SE, added (zeroed but for the id) if missing.  Past
 * STATE_MAX_DROPLETS the record attempted longest ago is dropped first.
 * NULL on ENOMEM.  Pointers into SE's droplets are invalidated.
 */
struct state_droplet *state_droplet_get(struct state_entry *se, int64_t id);

/*
 * The counter NAME (at most 31 bytes, [a-z0-9_-]), added at 0 if missing;
 * NULL when STATE_MAX_COUNTERS are taken or NAME is not valid.
 */
uint64_t *state_counter(struct state *st, const char *name);

/*
 * Drop entries whose id is not among IDS (sorted ascending: the schedule's
 * current entries), so that the state file does not grow with every edit.
 */
void	state_prune(struct state *st, const uint64_t *ids, size_t n_ids);

/*
 * Take the exclusive lock that goes with the state file PATH ("PATH.lock")
 * without waiting.  On success *ret_fd holds it until state_unlock.
 * -EWOULDBLOCK when another dosnap holds it.
 */
int	state_lock(const char *path, int *ret_fd);
void	state_unlock(int fd);

/*
 * The last seen difference between the local clock and the API's (from the
 * Date of its answers), kept in DIR/clock for `dosnap status`: OFFSET_S is
 * local minus API, AT the local Unix time it was seen.  Save returns 0 or a
 * negative errno; load returns 0, -ENOENT when none was saved, -EINVAL for
 * a damaged file.
 */
#define STATE_CLOCK_WARN_S	300	/* apart by more than this, the local clock is wrong */

int	state_clock_save(const char *dir, int64_t offset_s, int64_t at);
int	state_clock_load(const char *dir, int64_t *ret_offset_s, int64_t *ret_at);

#endif
