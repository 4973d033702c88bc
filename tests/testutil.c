/* testutil: what the tests share: temporary directories, files, and running the real binary. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

static void
die(const char *what)
{
	perror(what);
	abort();
}

char *
tu_mkdtemp(void)
{
	const char *tmp = getenv("TMPDIR");
	char buf[4096];
	char *p;

	snprintf(buf, sizeof(buf), "%s/dosnap-test-XXXXXX", tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(buf) == NULL)
		die("mkdtemp");
	p = strdup(buf);
	if (p == NULL)
		die("strdup");
	return p;
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void
tu_rmtree(const char *dir)
{
	if (dir != NULL)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *
tu_write(const char *dir, const char *name, const char *text)
{
	char *path;
	FILE *f;

	path = malloc(strlen(dir) + strlen(name) + 2);
	if (path == NULL)
		die("malloc");
	sprintf(path, "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL)
		die(path);
	fputs(text, f);
	if (fclose(f) != 0)
		die(path);
	return path;
}

const char *
tu_dosnap_bin(void)
{
	const char *b = getenv("DOSNAP_BIN");

	return b != NULL ? b : "build/dosnap";
}

const char *
tu_srcdir(void)
{
	const char *s = getenv("DOSNAP_SRCDIR");

	return s != NULL ? s : ".";
}

char *
tu_slurp_fd(int fd, size_t cap)
{
	char *buf = malloc(cap + 1);
	size_t len = 0;
	ssize_t n;

	if (buf == NULL)
		die("malloc");
	lseek(fd, 0, SEEK_SET);
	while (len < cap) {
		n = read(fd, buf + len, cap - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

void
tu_run(const char *path, const char *const *argv, const char *const *env,
    struct tu_result *res)
{
	char outname[] = "/tmp/dosnap-out-XXXXXX", errname[] = "/tmp/dosnap-err-XXXXXX";
	const char *fullargv[256];
	const char *fullenv[64];
	size_t i, n = 0, m = 0;
	int outfd, errfd, status;
	pid_t pid;

	fullargv[n++] = path;
	for (i = 0; argv != NULL && argv[i] != NULL && n < 255; i++)
		fullargv[n++] = argv[i];
	fullargv[n] = NULL;
	fullenv[m++] = "PATH=/usr/bin:/bin";
	fullenv[m++] = "HOME=/nonexistent";
	fullenv[m++] = "TZ=UTC";
	for (i = 0; env != NULL && env[i] != NULL && m < 63; i++)
		fullenv[m++] = env[i];
	fullenv[m] = NULL;

	outfd = mkstemp(outname);
	errfd = mkstemp(errname);
	if (outfd < 0 || errfd < 0)
		die("mkstemp");
	unlink(outname);
	unlink(errname);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);

		dup2(nul, 0);
		dup2(outfd, 1);
		dup2(errfd, 2);
		execve(path, (char *const *)fullargv, (char *const *)fullenv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	res->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	res->out = tu_slurp_fd(outfd, TU_OUTPUT_MAX);
	res->err = tu_slurp_fd(errfd, TU_OUTPUT_MAX);
	close(outfd);
	close(errfd);
}

void
tu_run_dosnap(const char *const *argv, const char *const *env, struct tu_result *res)
{
	tu_run(tu_dosnap_bin(), argv, env, res);
}

void
tu_result_release(struct tu_result *res)
{
	free(res->out);
	free(res->err);
	res->out = res->err = NULL;
}
