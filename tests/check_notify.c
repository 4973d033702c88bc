/* check_notify: healthchecks-style pings from the real binary to a small loopback server. */
#include <check.h>
#include <errno.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dosnap/flow.h"
#include "dosnap/notify.h"
#include "dosnap/schedule.h"

#include "mockutil.h"
#include "suites.h"
#include "testutil.h"

#define PINGS_MAX	16

/* What the ping server saw. */
struct pings {
	pthread_mutex_t lock;
	size_t n;
	char path[PINGS_MAX][256];
	char body[PINGS_MAX][2048];
	bool saw_auth;
	int status;		/* what it answers */
};

struct conn {
	char body[2048];
	size_t len;
};

static enum MHD_Result
on_ping(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct pings *p = cls;
	struct conn *cn = *con_cls;
	struct MHD_Response *resp;
	enum MHD_Result ret;

	(void)version;
	if (cn == NULL) {
		cn = calloc(1, sizeof(*cn));
		if (cn == NULL)
			return MHD_NO;
		*con_cls = cn;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		size_t n = *upload_size;

		if (n > sizeof(cn->body) - 1 - cn->len)
			n = sizeof(cn->body) - 1 - cn->len;
		memcpy(cn->body + cn->len, upload, n);
		cn->len += n;
		*upload_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&p->lock);
	if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization") != NULL)
		p->saw_auth = true;
	if (p->n < PINGS_MAX && strcmp(method, "POST") == 0) {
		snprintf(p->path[p->n], sizeof(p->path[0]), "%s", url);
		snprintf(p->body[p->n], sizeof(p->body[0]), "%.*s", (int)cn->len, cn->body);
		p->n++;
	}
	pthread_mutex_unlock(&p->lock);
	resp = MHD_create_response_from_buffer(2, (void *)"OK", MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(c, (unsigned)p->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void
on_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
	(void)cls;
	(void)c;
	(void)t;
	free(*con_cls);
	*con_cls = NULL;
}

static struct MHD_Daemon *
ping_server(struct pings *p, uint16_t *ret_port)
{
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	struct sockaddr_in sa = { .sin_family = AF_INET };

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_ping, p,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL, MHD_OPTION_END);
	ck_assert_ptr_nonnull(d);
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	*ret_port = info->port;
	return d;
}

/* Run `dosnap snapshot` against mock M with --notify URL; returns the exit code. */
static int
snapshot_with_notify(struct mock *m, const char *target, const char *url, struct tu_result *res)
{
	char *dir = tu_mkdtemp(), env_tok[256];
	const char *argv[] = { "snapshot", "--api-url", mock_url(m), "--time-scale", "0.01",
		"--state-dir", dir, "--notify", url, target, NULL };
	const char *env[] = { env_tok, NULL };

	snprintf(env_tok, sizeof(env_tok), "DO_TOKEN=%s", mock_token(m));
	tu_run_dosnap(argv, env, res);
	tu_rmtree(dir);
	free(dir);
	return res->status;
}

START_TEST(test_ping_success)
{
	struct pings p = { .lock = PTHREAD_MUTEX_INITIALIZER, .status = 200 };
	struct MHD_Daemon *d;
	struct mock *m = mu_start(NULL);
	struct tu_result res;
	char url[128];
	uint16_t port;

	d = ping_server(&p, &port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/ping/abc-123", port);
	ck_assert_int_eq(snapshot_with_notify(m, "1001", url, &res), 0);
	ck_assert_uint_eq(p.n, 2);
	ck_assert_str_eq(p.path[0], "/ping/abc-123/start");
	ck_assert_str_eq(p.path[1], "/ping/abc-123");
	ck_assert_msg(strstr(p.body[1], "droplet 1001") != NULL, "body: %s", p.body[1]);
	ck_assert_ptr_nonnull(strstr(p.body[1], ": ok, snapshot dosnap-"));
	ck_assert(!p.saw_auth);
	ck_assert_ptr_null(strstr(p.body[1], mock_token(m)));
	tu_result_release(&res);
	MHD_stop_daemon(d);
	mock_stop(m);
}
END_TEST

START_TEST(test_ping_fail)
{
	struct pings p = { .lock = PTHREAD_MUTEX_INITIALIZER, .status = 200 };
	struct MHD_Daemon *d;
	struct mock *m = mu_start(NULL);
	struct tu_result res;
	char url[128];
	uint16_t port;

	d = ping_server(&p, &port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/p", port);
	/* A droplet that does not exist: the run fails, and says so. */
	ck_assert_int_eq(snapshot_with_notify(m, "424242", url, &res), 69);
	ck_assert_uint_eq(p.n, 2);
	ck_assert_str_eq(p.path[1], "/p/fail");
	ck_assert_ptr_nonnull(strstr(p.body[1], "424242 matches no droplet"));
	tu_result_release(&res);
	MHD_stop_daemon(d);
	mock_stop(m);
}
END_TEST

/* A ping that cannot be delivered is a warning; the backup goes on. */
START_TEST(test_ping_unreachable_does_not_fail)
{
	struct pings p = { .lock = PTHREAD_MUTEX_INITIALIZER, .status = 500 };
	struct MHD_Daemon *d;
	struct mock *m = mu_start(NULL);
	struct tu_result res;
	char url[128];
	uint16_t port;

	d = ping_server(&p, &port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/down", port);
	ck_assert_int_eq(snapshot_with_notify(m, "1001", url, &res), 0);
	ck_assert_ptr_nonnull(strstr(res.err, "notify: the ping to http://127.0.0.1"));
	ck_assert_ptr_nonnull(strstr(res.err, "the backup itself is not affected"));
	/* The path may be a secret: messages show the host only. */
	ck_assert_ptr_null(strstr(res.err, "/down"));
	tu_result_release(&res);
	MHD_stop_daemon(d);
	mock_stop(m);
}
END_TEST

/* An entry's notify= in the schedule pings for that entry's droplets only. */
START_TEST(test_entry_notify)
{
	struct pings p = { .lock = PTHREAD_MUTEX_INITIALIZER, .status = 200 };
	struct MHD_Daemon *d;
	struct mock *m = mu_start(NULL);
	struct tu_result res;
	char *dir = tu_mkdtemp(), *sched, text[512], env_tok[256];
	const char *env[] = { env_tok, NULL };
	uint16_t port;

	d = ping_server(&p, &port);
	snprintf(text, sizeof(text), "CRON_TZ=UTC\n30 3 * * * 1001 notify=http://127.0.0.1:%u/e1\n"
	    "30 3 * * * 1002 power=live\n", port);
	sched = tu_write(dir, "schedule", text);
	snprintf(env_tok, sizeof(env_tok), "DO_TOKEN=%s", mock_token(m));
	{
		char sd[4096];
		const char *argv[] = { "run", "-f", sched, "--state-dir", sd, "--now",
			"2026-11-26T03:30:10Z", "--api-url", mock_url(m), "--time-scale", "0.01", NULL };

		snprintf(sd, sizeof(sd), "%s/state", dir);
		tu_run_dosnap(argv, env, &res);
	}
	ck_assert_msg(res.status == 0, "exit %d: %s", res.status, res.err);
	ck_assert_uint_eq(p.n, 2);
	ck_assert_str_eq(p.path[0], "/e1/start");
	ck_assert_str_eq(p.path[1], "/e1");
	ck_assert_ptr_nonnull(strstr(p.body[1], "droplet 1001"));
	ck_assert_ptr_null(strstr(p.body[1], "droplet 1002"));
	tu_result_release(&res);
	free(sched);
	tu_rmtree(dir);
	free(dir);
	MHD_stop_daemon(d);
	mock_stop(m);
}
END_TEST

/* notify.c alone: what a ping to each URL carries, and how its host is shown. */
START_TEST(test_body_per_url)
{
	struct sched_entry e1 = { .line = 1, .opts.notify = (char *)"https://hc.example/a" };
	struct sched_entry e2 = { .line = 2, .opts.notify = (char *)"https://hc.example/b" };
	struct flow_job jobs[2] = { { .entry = &e1 }, { .entry = &e2 } };
	struct flow_result res[3] = {
		{ .job = &jobs[0], .droplet_id = 11, .droplet_name = "web\x1b[31m",
		    .snapshot_name = "dosnap-web-1", .snapshot_id = "901", .seconds = 2 },
		{ .job = &jobs[1], .droplet_id = 22, .droplet_name = "db", .r = -EIO,
		    .error = (char *)"HTTP 500", .seconds = 1 },
		{ .job = &jobs[1], .target = "tag:gone", .r = -ENOENT,
		    .error = (char *)"tag:gone matches no droplet" },
	};
	struct flow_report rep = { .results = res, .n = 3, .n_failed = 2 };
	char *body = NULL;
	bool failed = true;

	ck_assert_int_eq(notify_body(&rep, "https://hc.example/a", false, &body, &failed), 0);
	ck_assert(!failed);
	/* The name's escape byte is shown inert. */
	ck_assert_str_eq(body, "droplet 11 web\\x1b[31m: ok, snapshot dosnap-web-1 (id 901), 2.0 s\n");
	free(body);
	ck_assert_int_eq(notify_body(&rep, "https://hc.example/b", false, &body, &failed), 0);
	ck_assert(failed);
	ck_assert_str_eq(body, "droplet 22 db: FAILED, snapshot -, 1.0 s: HTTP 500\n"
	    "tag:gone: FAILED: tag:gone matches no droplet\n");
	free(body);
	/* The global URL covers every job. */
	ck_assert_int_eq(notify_body(&rep, "https://hc.example/all", true, &body, &failed), 0);
	ck_assert(failed);
	ck_assert_ptr_nonnull(strstr(body, "droplet 11 "));
	ck_assert_ptr_nonnull(strstr(body, "droplet 22 "));
	free(body);
}
END_TEST

START_TEST(test_url_host_hides_the_path)
{
	char buf[64];

	notify_url_host("https://hc-ping.com/5f1c-secret-uuid?x=1", buf, sizeof(buf));
	ck_assert_str_eq(buf, "https://hc-ping.com/...");
	notify_url_host("http://127.0.0.1:8080/ping/secret", buf, sizeof(buf));
	ck_assert_str_eq(buf, "http://127.0.0.1:8080/...");
	notify_url_host("hc.example/secret", buf, sizeof(buf));
	ck_assert_str_eq(buf, "hc.example/...");
}
END_TEST

Suite *
notify_suite(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("notify");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_ping_success);
	tcase_add_test(tc, test_ping_fail);
	tcase_add_test(tc, test_ping_unreachable_does_not_fail);
	tcase_add_test(tc, test_entry_notify);
	suite_add_tcase(s, tc);
	tc = tcase_create("body");
	tcase_add_test(tc, test_body_per_url);
	tcase_add_test(tc, test_url_host_hides_the_path);
	suite_add_tcase(s, tc);
	return s;
}
