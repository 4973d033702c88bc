/* tlsfront: a real TLS and HTTP/2 front (nghttpx) before the in-process mock, with a throw-away CA from openssl. */
#ifndef DOSNAP_TLSFRONT_H
#define DOSNAP_TLSFRONT_H

#include <check.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * NULL when nghttpx and openssl can both be run; otherwise one line saying
 * which is missing and what installs it.  nghttpx is looked for on $PATH,
 * then in /usr/sbin and /usr/local/sbin (where Debian puts it); $NGHTTPX
 * and $OPENSSL name other binaries.
 */
const char *tf_missing_tools(void);

/* Whether a missing tool fails the test instead of skipping it ($CI is "true"). */
bool	tf_must_run(void);

/* Say, on stderr, that TEST was skipped and why. */
void	tf_skip_note(const char *test, const char *why);

/*
 * At the top of every TLS test: without the tools, skip the test with one
 * line, or fail it under CI=true, where a skipped TLS test would hide that
 * the production transport went untested.
 */
#define TF_REQUIRE() \
	do { \
		const char *tf_why_ = tf_missing_tools(); \
		if (tf_why_ != NULL) { \
			ck_assert_msg(!tf_must_run(), \
			    "CI=true, yet the TLS tests cannot run: %s", tf_why_); \
			tf_skip_note(__func__, tf_why_); \
			return; \
		} \
	} while (0)

/*
 * A throw-away public key infrastructure, made fresh for each test in its
 * own temporary directory: a CA, and server certificates it signed, all for
 * one EC P-256 key.  Every path is malloc'd and inside dir.
 */
struct tf_pki {
	char *dir;
	char *ca;		/* the CA's certificate (PEM): what --cacert names */
	char *other_ca;		/* a CA that signed nothing here: "unknown CA" */
	char *key;		/* the servers' private key */
	char *cert;		/* for localhost, 127.0.0.1 and ::1, valid for two days from now */
	char *wrong_host;	/* signed by ca, valid now, for wrong-host.invalid only */
	char *expired;		/* signed by ca, for localhost, 127.0.0.1 and ::1, expired on 2020-01-02 */
};

/* Make *RET with openssl.  Fails the test, with openssl's own words, when it cannot. */
void	tf_pki_make(struct tf_pki *ret);

/* Remove the directory and free the paths.  A zeroed struct does nothing. */
void	tf_pki_release(struct tf_pki *pki);

/*
 * One nghttpx: TLS with ALPN h2 and http/1.1 on a free port of 127.0.0.1,
 * forwarding in plain HTTP/1.1 to 127.0.0.1:BACKEND_PORT (the mock), with an
 * access log that names each request's client port and protocol.
 */
struct tf_front {
	pid_t pid;			/* 0 when not running */
	bool v6;			/* on [::1] rather than 127.0.0.1 */
	uint16_t port;
	char url[64];			/* "https://127.0.0.1:PORT" or "https://[::1]:PORT" */
	char *dir;
	char *access_log;
	char *error_log;
};

/*
 * Start a front serving CERT (one of PKI's) with PKI's key before the mock
 * on BACKEND_PORT, and wait until it accepts connections (at most 10 s).
 * nghttpx runs in a process group of its own and dies with the test
 * process.  Fails the test, with nghttpx's error log, when it cannot start.
 */
void	tf_front_start(struct tf_front *f, const struct tf_pki *pki, const char *cert,
	    uint16_t backend_port);

/* The same on [::1] when V6 (check tf_have_ipv6 first). */
void	tf_front_start_on(struct tf_front *f, const struct tf_pki *pki, const char *cert,
	    uint16_t backend_port, bool v6);

/* Whether this machine has an IPv6 loopback to listen on. */
bool	tf_have_ipv6(void);

/* Stop the front (SIGTERM, then SIGKILL after 5 s) and remove its files.  Not running: nothing. */
void	tf_front_stop(struct tf_front *f);

/* What the front's access log says so far. */
struct tf_stats {
	unsigned requests;
	unsigned h2;			/* requests that came over HTTP/2 */
	unsigned connections;		/* client connections that carried requests (distinct client ports) */
};

void	tf_front_stats(const struct tf_front *f, struct tf_stats *ret);

/*
 * A TLS server that is not one: it accepts on a free port of 127.0.0.1,
 * reads the client's first bytes (its TLS ClientHello) and closes the
 * connection, mid-handshake.  Runs on a thread of its own until stopped.
 */
struct tf_closer {
	int fd;
	uint16_t port;
	char url[64];			/* "https://127.0.0.1:PORT" */
	pthread_t thread;
	pthread_mutex_t lock;
	unsigned accepted;		/* under lock */
	bool stop;			/* under lock */
};

void	tf_closer_start(struct tf_closer *c);
void	tf_closer_stop(struct tf_closer *c);

/* Connections the closer accepted so far. */
unsigned tf_closer_accepted(struct tf_closer *c);

#endif
