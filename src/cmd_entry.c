/* cmd_entry: one schedule entry from command-line flags, for `snapshot`, `prune` and `list`. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dosnap/cli.h"
#include "dosnap/cmd.h"
#include "dosnap/log.h"
#include "dosnap/schedule.h"
#include "dosnap/token.h"

/* Every command-line entry fires every minute: the command runs it now. */
#define HEAD		"* * * * *"
#define HEAD_LEN	(sizeof(HEAD) - 1)

/*
 * Append " WORD" or " KEY=WORD" to one part of the line.  The schedule's
 * limit on a line applies to each part with the head, as if it were alone
 * on the line: the parser then reports a line the two parts make too long.
 */
static int
part_add(char *part, size_t size, size_t *len, const char *key, const char *value)
{
	int n;

	if (strpbrk(value, " \t\n") != NULL)
		return -EINVAL;
	if (HEAD_LEN + *len + strlen(value) + (key != NULL ? strlen(key) + 2 : 1) >=
	    SCHED_MAX_LINE)
		return -E2BIG;
	n = snprintf(part + *len, size - *len, " %s%s%s", key != NULL ? key : "",
	    key != NULL ? "=" : "", value);
	if (n < 0 || (size_t)n >= size - *len)
		return -E2BIG;
	*len += (size_t)n;
	return 0;
}

int
cmd_entry_target(struct cmd_entry *ce, const char *target)
{
	if (token_looks_like(target))
		return -EPERM;	/* a token pasted as a target: never echoed */
	return part_add(ce->targets, sizeof(ce->targets), &ce->targets_len, NULL, target);
}

int
cmd_entry_option(struct cmd_entry *ce, const char *key, const char *value)
{
	return part_add(ce->opts, sizeof(ce->opts), &ce->opts_len, key, value);
}

size_t
cmd_entry_line(const struct cmd_entry *ce, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s%.*s%.*s", HEAD, (int)ce->targets_len, ce->targets,
	    (int)ce->opts_len, ce->opts);

	return n < 0 ? 0 : (size_t)n;
}

int
cmd_entry_parse(struct cmd_entry *ce, const char *cmd)
{
	struct sched_diags d = { 0 };
	char line[CMD_ENTRY_LINE_MAX];
	size_t i, len;
	int r;

	len = cmd_entry_line(ce, line, sizeof(line));
	r = schedule_parse(line, len, &ce->schedule, &d);
	if (r == -EINVAL) {
		for (i = 0; i < d.n; i++)
			fprintf(stderr, "dosnap %s: %s%s%s\n", cmd, d.items[i].message,
			    d.items[i].hint ? "; " : "", d.items[i].hint ? d.items[i].hint : "");
		sched_diags_release(&d);
		return EXIT_USAGE;
	}
	sched_diags_release(&d);
	if (r < 0) {
		log_errno(r, "cannot parse the options");
		return EXIT_SOFTWARE;
	}
	return EXIT_OK;
}

const struct sched_entry *
cmd_entry_get(const struct cmd_entry *ce)
{
	return ce->schedule != NULL && ce->schedule->n_entries > 0 ? &ce->schedule->entries[0] :
	    NULL;
}

void
cmd_entry_release(struct cmd_entry *ce)
{
	schedule_free(ce->schedule);
	ce->schedule = NULL;
}
