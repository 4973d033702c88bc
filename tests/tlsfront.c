/* tlsfront: a real TLS and HTTP/2 front (nghttpx) before the in-process mock, with a throw-away CA from openssl. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "testutil.h"
#include "tlsfront.h"

#define TF_PATH_MAX		4096
#define TF_START_TRIES		5	/* free ports tried, in case another process takes one first */
#define TF_START_WAIT_MS	10000
#define TF_STOP_WAIT_MS		5000
#define TF_LOG_MAX		(4 * 1024 * 1024)	/* bytes of access log read */
#define TF_MAX_CONNS		4096	/* distinct client ports counted */
#define TF_CLOSER_READ_MS	1000

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* DIR/NAME, malloc'd. */
static char *
path_in(const char *dir, const char *name)
{
	char buf[TF_PATH_MAX];
	char *p;

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	p = strdup(buf);
	ck_assert_ptr_nonnull(p);
	return p;
}

/* Find PROG as $ENV, on $PATH, or in the sbin directories; write its path to BUF. */
static bool
find_tool(const char *env, const char *prog, char *buf, size_t size)
{
	const char *over = getenv(env), *path = getenv("PATH");
	char dirs[TF_PATH_MAX];
	char *save = NULL, *d;

	if (over != NULL && over[0] != '\0') {
		snprintf(buf, size, "%s", over);
		return access(buf, X_OK) == 0;
	}
	snprintf(dirs, sizeof(dirs), "%s:/usr/sbin:/usr/local/sbin:/usr/bin:/bin",
	    path != NULL ? path : "");
	for (d = strtok_r(dirs, ":", &save); d != NULL; d = strtok_r(NULL, ":", &save)) {
		if (d[0] == '\0')
			continue;
		snprintf(buf, size, "%s/%s", d, prog);
		if (access(buf, X_OK) == 0)
			return true;
	}
	return false;
}

static char nghttpx_bin[TF_PATH_MAX], openssl_bin[TF_PATH_MAX];

const char *
tf_missing_tools(void)
{
	bool ng = find_tool("NGHTTPX", "nghttpx", nghttpx_bin, sizeof(nghttpx_bin));
	bool os = find_tool("OPENSSL", "openssl", openssl_bin, sizeof(openssl_bin));

	if (!ng && !os)
		return "nghttpx and openssl are not installed (apt-get install nghttp2-proxy openssl)";
	if (!ng)
		return "nghttpx is not installed (apt-get install nghttp2-proxy)";
	if (!os)
		return "openssl is not installed (apt-get install openssl)";
	return NULL;
}

bool
tf_must_run(void)
{
	const char *ci = getenv("CI");

	return ci != NULL && strcmp(ci, "true") == 0;
}

void
tf_skip_note(const char *test, const char *why)
{
	size_t n = strlen(test);

	/* Check names a test's function NAME_fn. */
	if (n > 3 && strcmp(test + n - 3, "_fn") == 0)
		n -= 3;
	fprintf(stderr, "tls: SKIPPED %.*s: %s; the tests over TLS and HTTP/2 did not run\n",
	    (int)n, test, why);
}

/* --- the certificates ------------------------------------------------------ */

/* Run openssl with ARGV; fail the test with its stderr unless it exits 0. */
static void
openssl_run(const char *const *argv)
{
	struct tu_result res;

	tu_run(openssl_bin, argv, NULL, &res);
	ck_assert_msg(res.status == 0, "openssl %s %s exited %d: %s", argv[0],
	    argv[1] != NULL ? argv[1] : "", res.status, res.err);
	tu_result_release(&res);
}

/*
 * One configuration for `openssl req` and `openssl ca`, so that nothing
 * depends on the system's openssl.cnf.  `openssl ca` is used because it can
 * sign with a validity in the past (-startdate, -enddate), which
 * `openssl x509 -req -days` cannot.
 */
static const char pki_conf[] =
    "[ req ]\n"
    "distinguished_name = dn\n"
    "prompt = no\n"
    "[ dn ]\n"
    "CN = dosnap test\n"
    "[ v3_ca ]\n"
    "basicConstraints = critical,CA:TRUE\n"
    "keyUsage = critical,keyCertSign,cRLSign\n"
    "subjectKeyIdentifier = hash\n"
    "[ ca ]\n"
    "default_ca = testca\n"
    "[ testca ]\n"
    "database = %s/index.txt\n"
    "new_certs_dir = %s\n"
    "serial = %s/serial\n"
    "default_md = sha256\n"
    "policy = any\n"
    "unique_subject = no\n"
    "email_in_dn = no\n"
    "[ any ]\n"
    "commonName = supplied\n"
    "[ server ]\n"
    "subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1\n"
    "basicConstraints = critical,CA:FALSE\n"
    "keyUsage = critical,digitalSignature\n"
    "extendedKeyUsage = serverAuth\n"
    "authorityKeyIdentifier = keyid\n"
    "[ wrong ]\n"
    "subjectAltName = DNS:wrong-host.invalid\n"
    "basicConstraints = critical,CA:FALSE\n"
    "keyUsage = critical,digitalSignature\n"
    "extendedKeyUsage = serverAuth\n"
    "authorityKeyIdentifier = keyid\n";

static void
make_ca(const char *conf, const char *key, const char *cert, const char *cn)
{
	const char *argv[] = { "req", "-config", conf, "-x509", "-extensions", "v3_ca",
		"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-keyout", key, "-out", cert, "-days", "2", "-subj", cn, NULL };

	openssl_run(argv);
}

/* Sign CSR with the CA as OUT, with extensions EXT, valid from START to END or for two days. */
static void
sign(const struct tf_pki *p, const char *conf, const char *cakey, const char *csr,
    const char *out, const char *ext, const char *start, const char *end)
{
	const char *argv[24];
	size_t n = 0;

	argv[n++] = "ca";
	argv[n++] = "-batch";
	argv[n++] = "-notext";
	argv[n++] = "-config";
	argv[n++] = conf;
	argv[n++] = "-cert";
	argv[n++] = p->ca;
	argv[n++] = "-keyfile";
	argv[n++] = cakey;
	argv[n++] = "-in";
	argv[n++] = csr;
	argv[n++] = "-out";
	argv[n++] = out;
	argv[n++] = "-extensions";
	argv[n++] = ext;
	if (start != NULL) {
		argv[n++] = "-startdate";
		argv[n++] = start;
		argv[n++] = "-enddate";
		argv[n++] = end;
	} else {
		argv[n++] = "-days";
		argv[n++] = "2";
	}
	argv[n] = NULL;
	openssl_run(argv);
}

void
tf_pki_make(struct tf_pki *p)
{
	char text[sizeof(pki_conf) + 3 * TF_PATH_MAX];
	char *conf, *cakey, *otherkey, *csr;

	ck_assert_msg(tf_missing_tools() == NULL, "%s", tf_missing_tools());
	memset(p, 0, sizeof(*p));
	p->dir = tu_mkdtemp();
	snprintf(text, sizeof(text), pki_conf, p->dir, p->dir, p->dir);
	conf = tu_write(p->dir, "openssl.cnf", text);
	free(tu_write(p->dir, "index.txt", ""));
	free(tu_write(p->dir, "serial", "1000\n"));
	cakey = path_in(p->dir, "ca.key");
	otherkey = path_in(p->dir, "other-ca.key");
	csr = path_in(p->dir, "server.csr");
	p->ca = path_in(p->dir, "ca.pem");
	p->other_ca = path_in(p->dir, "other-ca.pem");
	p->key = path_in(p->dir, "server.key");
	p->cert = path_in(p->dir, "server.pem");
	p->wrong_host = path_in(p->dir, "wrong-host.pem");
	p->expired = path_in(p->dir, "expired.pem");

	make_ca(conf, cakey, p->ca, "/CN=dosnap throw-away test CA");
	make_ca(conf, otherkey, p->other_ca, "/CN=dosnap unrelated test CA");
	{
		const char *argv[] = { "req", "-config", conf, "-new", "-newkey", "ec",
			"-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", p->key,
			"-out", csr, "-subj", "/CN=localhost", NULL };

		openssl_run(argv);
	}
	sign(p, conf, cakey, csr, p->cert, "server", NULL, NULL);
	sign(p, conf, cakey, csr, p->wrong_host, "wrong", NULL, NULL);
	sign(p, conf, cakey, csr, p->expired, "server", "20200101000000Z", "20200102000000Z");
	free(conf);
	free(cakey);
	free(otherkey);
	free(csr);
}

void
tf_pki_release(struct tf_pki *p)
{
	tu_rmtree(p->dir);
	free(p->dir);
	free(p->ca);
	free(p->other_ca);
	free(p->key);
	free(p->cert);
	free(p->wrong_host);
	free(p->expired);
	memset(p, 0, sizeof(*p));
}

/* --- the front ------------------------------------------------------------------ */

/* Bind port 0 on ::1, note the port and let it go; -1 when this machine has no IPv6 loopback. */
static int
free_port6(void)
{
	struct sockaddr_in6 sin6;
	socklen_t len = sizeof(sin6);
	int fd, port = -1;

	fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_loopback;
	if (bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin6, &len) == 0)
		port = ntohs(sin6.sin6_port);
	close(fd);
	return port;
}

bool
tf_have_ipv6(void)
{
	return free_port6() > 0;
}

/* Bind port 0 on 127.0.0.1, note the port, and let it go; or a listening socket in *RET_FD. */
static uint16_t
free_port(int *ret_fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	if (ret_fd != NULL) {
		ck_assert_int_eq(listen(fd, 16), 0);
		*ret_fd = fd;
	} else {
		close(fd);
	}
	return ntohs(sin.sin_port);
}

static char *
slurp(const char *path, size_t max)
{
	FILE *f = fopen(path, "r");
	char *buf = malloc(max + 1);
	size_t n = 0;

	ck_assert_ptr_nonnull(buf);
	if (f != NULL) {
		n = fread(buf, 1, max, f);
		(void)fclose(f);	/* read only: nothing to lose */
	}
	buf[n] = '\0';
	return buf;
}

/*
 * Whether the front says it listens on its port: its own word, not a
 * connection that might reach whoever else took the port first.
 */
static bool
listening(const struct tf_front *f)
{
	char *log = slurp(f->error_log, 64 * 1024), want[64];
	bool yes;

	snprintf(want, sizeof(want), "Listening on %s:%u,", f->v6 ? "[::1]" : "127.0.0.1", f->port);
	/* It says so before it loads the key and certificate, which may still fail. */
	yes = strstr(log, want) != NULL && strstr(log, "FATAL") == NULL;
	free(log);
	return yes;
}

static pid_t
spawn_front(const struct tf_front *f, const struct tf_pki *pki, const char *cert,
    uint16_t backend_port)
{
	char fe[64], be[64], al[TF_PATH_MAX + 32], el[TF_PATH_MAX + 32];
	const char *argv[] = { nghttpx_bin, "--conf=/dev/null", "--single-process", "--workers=1",
		fe, be, al, el, "--accesslog-format=$remote_port $alpn $method $path $status",
		"--log-level=NOTICE", "--no-ocsp", "--no-via", pki->key, cert, NULL };
	pid_t pid;

	snprintf(fe, sizeof(fe), "--frontend=%s,%u", f->v6 ? "::1" : "127.0.0.1", f->port);
	snprintf(be, sizeof(be), "--backend=127.0.0.1,%u", backend_port);
	snprintf(al, sizeof(al), "--accesslog-file=%s", f->access_log);
	snprintf(el, sizeof(el), "--errorlog-file=%s", f->error_log);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);

		/* Its own group, so that stopping it stops all of it; and it dies with us. */
		setpgid(0, 0);
#ifdef __linux__
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
			dup2(nul, 2);
		}
		execv(nghttpx_bin, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static void
reap(pid_t pid)
{
	int i, status;

	kill(-pid, SIGTERM);
	for (i = 0; i < TF_STOP_WAIT_MS / 10; i++) {
		if (waitpid(pid, &status, WNOHANG) != 0)
			return;
		sleep_ms(10);
	}
	kill(-pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

void
tf_front_start(struct tf_front *f, const struct tf_pki *pki, const char *cert,
    uint16_t backend_port)
{
	tf_front_start_on(f, pki, cert, backend_port, false);
}

void
tf_front_start_on(struct tf_front *f, const struct tf_pki *pki, const char *cert,
    uint16_t backend_port, bool v6)
{
	static char why[4096];
	char *errlog;
	int try, i, status;

	ck_assert_msg(tf_missing_tools() == NULL, "%s", tf_missing_tools());
	memset(f, 0, sizeof(*f));
	f->v6 = v6;
	f->dir = tu_mkdtemp();
	f->access_log = path_in(f->dir, "access.log");
	f->error_log = path_in(f->dir, "error.log");
	for (try = 0; try < TF_START_TRIES; try++) {
		/* Each try's log of its own, so that an old "Listening on" cannot mislead. */
		(void)remove(f->error_log);
		if (v6) {
			int p6 = free_port6();

			ck_assert_msg(p6 > 0, "no IPv6 loopback here (see tf_have_ipv6)");
			f->port = (uint16_t)p6;
		} else {
			f->port = free_port(NULL);
		}
		f->pid = spawn_front(f, pki, cert, backend_port);
		for (i = 0; i < TF_START_WAIT_MS / 20; i++) {
			if (waitpid(f->pid, &status, WNOHANG) == f->pid) {
				f->pid = 0;
				break;
			}
			if (listening(f)) {
				snprintf(f->url, sizeof(f->url), "https://%s:%u",
				    v6 ? "[::1]" : "127.0.0.1", f->port);
				return;
			}
			sleep_ms(20);
		}
		if (f->pid != 0) {
			reap(f->pid);
			f->pid = 0;
		}
	}
	errlog = slurp(f->error_log, 4096);
	snprintf(why, sizeof(why), "%s", errlog);
	free(errlog);
	ck_abort_msg("nghttpx did not start after %d tries: %s", TF_START_TRIES, why);
}

void
tf_front_stop(struct tf_front *f)
{
	if (f->pid > 0)
		reap(f->pid);
	f->pid = 0;
	tu_rmtree(f->dir);
	free(f->dir);
	free(f->access_log);
	free(f->error_log);
	f->dir = f->access_log = f->error_log = NULL;
}

void
tf_front_stats(const struct tf_front *f, struct tf_stats *ret)
{
	static unsigned long ports[TF_MAX_CONNS];
	char *log = slurp(f->access_log, TF_LOG_MAX), *line, *save = NULL;
	size_t n_ports = 0, i;

	memset(ret, 0, sizeof(*ret));
	for (line = strtok_r(log, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *end, *alpn;
		unsigned long port = strtoul(line, &end, 10);

		/* "$remote_port $alpn $method $path $status" */
		if (end == line || *end != ' ' || port == 0 || port > 65535)
			continue;
		alpn = end + 1;
		ret->requests++;
		if (strncmp(alpn, "h2 ", 3) == 0)
			ret->h2++;
		for (i = 0; i < n_ports && ports[i] != port; i++)
			;
		if (i == n_ports && n_ports < TF_MAX_CONNS)
			ports[n_ports++] = port;
	}
	ret->connections = (unsigned)n_ports;
	free(log);
}

/* --- the server that closes mid-handshake ----------------------------------------- */

static bool
closer_stopping(struct tf_closer *c)
{
	bool stop;

	pthread_mutex_lock(&c->lock);
	stop = c->stop;
	pthread_mutex_unlock(&c->lock);
	return stop;
}

static void *
closer_main(void *arg)
{
	struct tf_closer *c = arg;
	char buf[4096];

	while (!closer_stopping(c)) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		int conn;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		conn = accept(c->fd, NULL, NULL);
		if (conn < 0)
			continue;
		pthread_mutex_lock(&c->lock);
		c->accepted++;
		pthread_mutex_unlock(&c->lock);
		/* Wait for the ClientHello, so that the close lands mid-handshake. */
		pfd.fd = conn;
		if (poll(&pfd, 1, TF_CLOSER_READ_MS) > 0)
			(void)read(conn, buf, sizeof(buf));
		close(conn);
	}
	return NULL;
}

void
tf_closer_start(struct tf_closer *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->port = free_port(&c->fd);
	snprintf(c->url, sizeof(c->url), "https://127.0.0.1:%u", c->port);
	ck_assert_int_eq(pthread_create(&c->thread, NULL, closer_main, c), 0);
}

void
tf_closer_stop(struct tf_closer *c)
{
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	close(c->fd);
	pthread_mutex_destroy(&c->lock);
}

unsigned
tf_closer_accepted(struct tf_closer *c)
{
	unsigned n;

	pthread_mutex_lock(&c->lock);
	n = c->accepted;
	pthread_mutex_unlock(&c->lock);
	return n;
}
