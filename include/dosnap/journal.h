/* journal: the intent journal: a durable record of every droplet dosnap powered off and has not yet restored. */
#ifndef DOSNAP_JOURNAL_H
#define DOSNAP_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOURNAL_MAX_RECORD	4096	/* bytes in one record file */
#define JOURNAL_MAX_RECORDS	10000

/* What is known about one flow that powered a droplet off. */
struct journal_record {
	int64_t droplet_id;
	char name[128];			/* the droplet's name, for messages */
	bool was_active;		/* its power state before */
	int64_t slot;			/* the slot it ran for */
	char snapshot[256];		/* the snapshot's name */
	int64_t action_id;		/* the snapshot action, 0 until it started */
	int64_t written;		/* Unix seconds of the last write */
	bool damaged;			/* the file could not be read: only the id is known */
	int damage;			/* when damaged, why: -EBADMSG unparseable, -EFBIG
					   over the cap, -EINVAL not a regular file (a FIFO,
					   a device), -ELOOP a symlink, or another errno */
};

struct journal;

/*
 * Open the journal in STATE_DIR ("STATE_DIR/journal/", created 0700).  Every
 * dosnap that may power droplets off holds it for its whole run: exclusively
 * when no other dosnap has it (then, and only then, open records belong to a
 * dosnap that died, and *ret_may_recover is set), else shared, so that two
 * runs never take each other's records for abandoned ones.  -EPERM when the
 * directory is a symlink or writable by others; -EINVAL when its lock file
 * ("journal/.lock") is not a regular file (never waits on a FIFO there).
 */
int	journal_open(const char *state_dir, struct journal **ret, bool *ret_may_recover);

/*
 * As journal_open for a state directory that cannot be written (a read-only
 * file system): recovery only needs to read the records, and must still
 * power droplets on.  Creates nothing.  The lock is taken shared (or not at
 * all when there is no lock file); *ret_may_recover is set only when no
 * other process holds it in any way, which F_GETLK tells without needing a
 * writable file.  Removing records then fails (-EROFS), and the caller says
 * so.  -ENOENT when there is no journal (and so nothing to recover), -EPERM
 * as journal_open.
 */
int	journal_open_readonly(const char *state_dir, struct journal **ret, bool *ret_may_recover);

/* After recovery: keep the journal shared, so other runs may start.  Never fails. */
void	journal_share(struct journal *j);

/* The journal's directory ("STATE_DIR/journal"), borrowed from J. */
const char *journal_dir(const struct journal *j);

/* Close and release.  NULL is fine. */
void	journal_close(struct journal *j);

/*
 * Write REC atomically (a new file beside the old, renamed over it).  With
 * DURABLE (the intent, before a power-off) also fsync file and directory:
 * when this returns 0, a crash at any later moment leaves it.  Without (the
 * progress updates) a crash may bring back the previous version, which
 * recovery handles just as well.  A FIFO or device where the record's
 * temporary file goes is refused (-EINVAL), never opened for writing.
 */
int	journal_write(struct journal *j, const struct journal_record *rec, bool durable);

/*
 * Remove the record of DROPLET_ID.  Not fsync'd: a crash that undoes it
 * leaves a record of a droplet already restored, which recovery drops.  A
 * missing record is not an error.
 */
int	journal_remove(struct journal *j, int64_t droplet_id);

/*
 * Read every record.  *ret is a malloc'd array of *ret_n records (free()
 * it), sorted by droplet id.  A record that cannot be parsed comes back with
 * `damaged` set and only its id (from the file name): recovery then powers
 * that droplet on if it is off, since a record is only ever written for a
 * droplet that was active; so does a record file that is not a regular file
 * (`damage` says why), which is never opened in a way that could block.  A
 * record that vanishes while the journal is read (a concurrent run restored
 * its droplet) is not listed.
 */
int	journal_list(struct journal *j, struct journal_record **ret, size_t *ret_n);

/*
 * As journal_list for the journal in STATE_DIR, without taking its lock or
 * creating anything: for `dosnap status`.  No journal is no records.
 */
int	journal_peek(const char *state_dir, struct journal_record **ret, size_t *ret_n);

/* Parse one record file's TEXT (LEN bytes) into *ret; -EBADMSG if damaged. */
int	journal_parse(const char *text, size_t len, struct journal_record *ret);

/* Whether the journal of STATE_DIR holds any record, cheaply (no lock). */
bool	journal_has_records(const char *state_dir);

#endif
