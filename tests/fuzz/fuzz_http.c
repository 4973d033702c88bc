/* fuzz_http: whole HTTP responses (status line, headers, body, gzip) from a loopback server to the real API client. */

/*
 * The input is one raw response: a loopback server thread answers every
 * request of the client with these bytes and closes the connection.  The
 * first byte picks the operation, so listings (with next links), single
 * objects, action POSTs (with adoption after an ambiguous answer) and
 * deletes all meet it; the client's full path runs: libcurl's parsing and
 * content decoding, the header callbacks, the caps, the decoders, tracing
 * with redaction.  Run under ASan and UBSan with -rss_limit_mb and
 * -malloc_limit_mb (make fuzz-smoke), an answer that costs memory out of
 * proportion to the caps shows up as a finding.
 */
#define _DEFAULT_SOURCE 1
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dosnap/api.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_TOKEN	"dop_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab"

static struct {
	pthread_mutex_t lock;
	const uint8_t *data;
	size_t size;
	int listen_fd;
	char url[64];
	bool ready;
} srv = { .lock = PTHREAD_MUTEX_INITIALIZER, .listen_fd = -1 };

/* Read a request's head (and whatever follows in the same reads); bounded. */
static void
drain_request(int fd)
{
	char buf[4096];
	uint32_t last = 0;
	size_t seen = 0;
	ssize_t n, i;

	while (seen < 64 * 1024) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			return;
		seen += (size_t)n;
		for (i = 0; i < n; i++) {
			last = last << 8 | (unsigned char)buf[i];
			if (last == 0x0d0a0d0a)
				return;
		}
	}
}

static void *
serve(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept(srv.listen_fd, NULL, NULL);
		struct timeval tv = { .tv_sec = 2 };

		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		drain_request(fd);
		pthread_mutex_lock(&srv.lock);
		if (srv.size > 0)
			(void)send(fd, srv.data, srv.size, MSG_NOSIGNAL);
		pthread_mutex_unlock(&srv.lock);
		shutdown(fd, SHUT_WR);
		close(fd);
	}
	return NULL;
}

static void
setup(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	pthread_t t;

	if (srv.ready)
		return;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (srv.listen_fd < 0 || bind(srv.listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(srv.listen_fd, 64) < 0 ||
	    getsockname(srv.listen_fd, (struct sockaddr *)&sa, &len) < 0) {
		perror("fuzz_http: loopback server");
		abort();
	}
	snprintf(srv.url, sizeof(srv.url), "http://127.0.0.1:%u", ntohs(sa.sin_port));
	if (pthread_create(&t, NULL, serve, NULL) != 0)
		abort();
	pthread_detach(t);
	srv.ready = true;
}

static void
on_trace(enum api_trace_kind kind, const char *line, void *userdata)
{
	(void)kind;
	(void)userdata;
	/* The token must never reach a trace line, whatever the server sends. */
	if (strstr(line, FUZZ_TOKEN) != NULL)
		abort();
}

static void
on_reply(struct api_client *c, struct api_reply *reply, void *userdata)
{
	char buf[1024];

	(void)c;
	(void)userdata;
	if (reply->r < 0) {
		api_error_format(&reply->error, buf, sizeof(buf));
		if (strstr(buf, FUZZ_TOKEN) != NULL)
			abort();
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct api_config cfg = { .token = FUZZ_TOKEN };
	struct api_client *c = NULL;

	(void)argc;
	(void)argv;
	setup();
	/* Load libcurl once, outside any input, so its global state is no leak of one. */
	cfg.base_url = srv.url;
	if (api_client_new(&cfg, &c) == 0)
		api_client_free(c);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_config cfg = {
		.token = FUZZ_TOKEN,
		.retry_max_attempts = 2,
		.retry_base_ms = 1,
		.retry_cap_ms = 2,
		.retry_max_total_ms = 500,	/* no waits for retry-after or rate limits */
		.request_timeout_ms = 2000,
		.connect_timeout_ms = 1000,
		.adopt_slack_s = -1,
		.rate_reserve = -1,
		.rate_per_minute = -1,
		.trace = on_trace,
		.trace_bodies = true,
	};
	struct api_client *c = NULL;
	int loops = 0, r = -1;

	if (size < 1)
		return 0;
	setup();
	pthread_mutex_lock(&srv.lock);
	srv.data = data + 1;
	srv.size = size - 1;
	pthread_mutex_unlock(&srv.lock);
	cfg.base_url = srv.url;
	if (api_client_new(&cfg, &c) < 0)
		return 0;
	switch (data[0] % 8) {
	case 0:
		r = api_list_droplets_async(c, NULL, NULL, on_reply, NULL, NULL);
		break;
	case 1:
		r = api_get_droplet_async(c, 42, on_reply, NULL, NULL);
		break;
	case 2:
		r = api_post_droplet_action_async(c, 42, "snapshot", "dosnap-x", on_reply, NULL,
		    NULL);
		break;
	case 3:
		r = api_list_snapshots_async(c, "droplet", on_reply, NULL, NULL);
		break;
	case 4:
		r = api_list_droplet_actions_async(c, 42, 0, on_reply, NULL, NULL);
		break;
	case 5:
		r = api_delete_snapshot_async(c, "123", on_reply, NULL, NULL);
		break;
	case 6:
		r = api_create_volume_snapshot_async(c, "vol-1", "dosnap-v", on_reply, NULL, NULL);
		break;
	default:
		r = api_get_account_async(c, on_reply, NULL, NULL);
		break;
	}
	while (r == 0 && api_client_pending(c) > 0 && loops++ < 200)
		if (api_client_run(c, 100) < 0)
			break;
	api_client_free(c);
	pthread_mutex_lock(&srv.lock);
	srv.data = NULL;
	srv.size = 0;
	pthread_mutex_unlock(&srv.lock);
	return 0;
}
