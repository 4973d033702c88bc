/* cmd_signal: SIGTERM and SIGINT for the commands that power droplets off: stop, then restore power. */
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dosnap/cli.h"
#include "dosnap/cmd.h"

static volatile sig_atomic_t stop_requested;
/* When the first signal came; only the handler reads and writes it. */
static struct timespec first_stop;

#define SAME_STOP_MS	2000	/* signals this close together are one stop */

/*
 * The first SIGINT/SIGTERM asks the flow to stop and restore power.
 * Ctrl-C, `timeout -s INT` and systemd signal the whole process group, so
 * one stop may arrive twice: a second signal within SAME_STOP_MS is the
 * same stop.  A later one exits at once (75), leaving the journal for the
 * next run.  Only async-signal-safe calls here.
 */
static void
on_stop_signal(int sig)
{
	static const char msg[] = "dosnap: second signal: exiting now; droplets still "
	    "powered off stay in the intent journal and the next run powers them on\n";
	struct timespec now;
	long long ms;

	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	if (!stop_requested) {
		first_stop = now;
		stop_requested = sig;
		return;
	}
	ms = (long long)(now.tv_sec - first_stop.tv_sec) * 1000 +
	    (now.tv_nsec - first_stop.tv_nsec) / 1000000;
	if (ms < SAME_STOP_MS)
		return;
	(void)write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(EXIT_TEMPFAIL);
}

volatile sig_atomic_t *
cmd_stop_flag(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	/* One handler at a time: they share first_stop. */
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGTERM);
	sigaddset(&sa.sa_mask, SIGINT);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	return &stop_requested;
}
