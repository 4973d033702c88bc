/* chaosutil: run the real binary with a deadline, signals at chosen moments, and a look for sanitizer reports. */
#ifdef __linux__
#define _GNU_SOURCE 1	/* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp): unshare(2), CLONE_NEWNS */
#include <sched.h>
#include <sys/mount.h>
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chaosutil.h"
#include "dosnap/util.h"
#include "testutil.h"

#define CU_ERR_MAX	(256 * 1024)

static bool (*ready_fn)(void *);
static void *ready_arg;
static const char *ro_dir;

void
cu_set_readonly(const char *dir)
{
	ro_dir = dir;
}

/*
 * In the child: make DIR read-only for this process alone, by a read-only
 * bind mount in a mount namespace of its own.  Root ignores permission
 * bits, so a chmod cannot make a directory read-only for root; a read-only
 * mount can (EROFS), as a full or remounted disk would.  0, or -1 where
 * mount namespaces are not allowed.
 */
static int
make_readonly(const char *dir)
{
#ifdef __linux__
	if (unshare(CLONE_NEWNS) != 0)
		return -1;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		return -1;
	if (mount(dir, dir, NULL, MS_BIND, NULL) != 0)
		return -1;
	if (mount(NULL, dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) != 0)
		return -1;
	return 0;
#else
	(void)dir;
	errno = ENOSYS;
	return -1;
#endif
}

bool
cu_readonly_supported(void)
{
	static int known = -1;
	char dir[] = "/tmp/dosnap-ro-XXXXXX", probe[64];
	int st = 1;
	pid_t pid;

	if (known >= 0)
		return known == 1;
	if (mkdtemp(dir) == NULL)
		return false;
	snprintf(probe, sizeof(probe), "%s/x", dir);
	pid = fork();
	if (pid == 0)
		_exit(make_readonly(dir) == 0 && mkdir(probe, 0700) != 0 && errno == EROFS ? 0 : 1);
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	known = pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
	(void)rmdir(probe);
	(void)rmdir(dir);
	return known == 1;
}

void
cu_set_ready(bool (*ready)(void *arg), void *arg)
{
	ready_fn = ready;
	ready_arg = arg;
}

long
cu_now_ms(void)
{
	return (long)clock_mono_ms();
}

const char *
cu_faketime_lib(void)
{
	static const char *const paths[] = {
		"/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
		"/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
		"/usr/lib/faketime/libfaketime.so.1",
	};
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (access(paths[i], R_OK) == 0)
			return paths[i];
	return NULL;
}

static void
nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void
cu_dosnap(const char *const *argv, const char *const *env, int sig, long sig_at_ms,
    long sig2_gap_ms, long deadline_ms, struct cu_run *ret)
{
	char errname[] = "/tmp/dosnap-chaos-XXXXXX";
	const char *fa[CU_ARGS_MAX + 2], *fe[CU_ENV_MAX + 5];
	size_t i, n = 0, m = 0;
	int errfd, st = 0, sent = 0;
	long t0;
	pid_t pid, w;

	fa[n++] = tu_dosnap_bin();
	for (i = 0; argv[i] != NULL && n < CU_ARGS_MAX; i++)
		fa[n++] = argv[i];
	fa[n] = NULL;
	fe[m++] = "PATH=/usr/bin:/bin";
	fe[m++] = "HOME=/nonexistent";
	fe[m++] = "TZ=UTC";
	fe[m++] = "ASAN_OPTIONS=detect_stack_use_after_return=1:detect_leaks=1:verify_asan_link_order=0";
	for (i = 0; env != NULL && env[i] != NULL && m < CU_ENV_MAX + 4; i++)
		fe[m++] = env[i];
	fe[m] = NULL;
	errfd = mkstemp(errname);
	if (errfd < 0)
		abort();
	unlink(errname);
	ret->signal_ms = -1;
	t0 = cu_now_ms();
	pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);

		/* The test may ignore stray signals; the child starts as any process does. */
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		if (ro_dir != NULL && make_readonly(ro_dir) != 0)
			_exit(126);
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(errfd, 2);
		execve(fa[0], (char *const *)fa, (char *const *)fe);
		_exit(127);
	}
	for (;;) {
		long now = cu_now_ms() - t0;

		w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			abort();
		if (sig != 0 && sent == 0 && now >= sig_at_ms &&
		    (ready_fn == NULL || ready_fn(ready_arg))) {
			kill(pid, sig);
			ret->signal_ms = now;
			sent = 1;
		} else if (sig != 0 && sent == 1 && sig2_gap_ms >= 0 &&
		    now >= ret->signal_ms + sig2_gap_ms) {
			kill(pid, sig);
			sent = 2;
		}
		if (now >= deadline_ms) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
			ret->status = -1;
			ret->elapsed_ms = now;
			ret->err = tu_slurp_fd(errfd, CU_ERR_MAX);
			close(errfd);
			return;
		}
		nap_ms(2);
	}
	ret->elapsed_ms = cu_now_ms() - t0;
	ret->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	ret->err = tu_slurp_fd(errfd, CU_ERR_MAX);
	close(errfd);
}

void
cu_run_release(struct cu_run *r)
{
	free(r->err);
	r->err = NULL;
}

const char *
cu_sanitizer_report(const char *text)
{
	static const char *const marks[] = {
		"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
		"WARNING: ThreadSanitizer", "ERROR: MemorySanitizer",
	};
	size_t i;

	for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		const char *p = strstr(text, marks[i]);

		if (p != NULL)
			return p;
	}
	return NULL;
}
