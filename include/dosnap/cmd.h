/* cmd: helpers the command implementations share (the top layer: these may print and log). */
#ifndef DOSNAP_CMD_H
#define DOSNAP_CMD_H

#include <stddef.h>

struct cli_ctx;
struct schedule;
struct sched_diags;
struct sched_entry;

/* Print schedule diagnostics for FILE to stderr, compiler style. */
void	cmd_print_diags(const char *file, const struct sched_diags *d);

/*
 * Load ctx->schedule_path into *ret, reporting every problem.  Returns
 * EXIT_OK, or the exit code to leave with (78 for errors in the file, 66
 * when it is missing) after saying why.
 */
int	cmd_load_schedule(const struct cli_ctx *ctx, struct schedule **ret);

/* The entry's targets as written ("123456 tag:web"), cut to fit SIZE. */
void	cmd_format_targets(const struct sched_entry *e, char *buf, size_t size);

#endif
