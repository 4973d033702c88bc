/* check_hostile: what a hostile server or file can do: memory it costs, output it forges, tokens it echoes. */
/* wait4, for the peak RSS of one child, is a BSD function. */
#define _DEFAULT_SOURCE 1	/* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
#include <check.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <zlib.h>

#include "dosnap/api.h"
#include "dosnap/journal.h"
#include "dosnap/log.h"
#include "dosnap/naming.h"
#include "mockutil.h"
#include "suites.h"
#include "testutil.h"

/* The bound the README states for a run's peak memory, whatever a server sends. */
#define PEAK_RSS_MAX_KB	(64 * 1024)

#define HS_TOKEN	"dosnap-hostile-test-token-5e1d"

/* --- a server that answers whatever the test says ------------------------- */

struct hs_answer {
	unsigned status;
	char headers[8][2][256];	/* name, value */
	size_t n_headers;
	char *body;			/* malloc'd; the server frees it */
	size_t len;
	bool gzip;			/* BODY is gzip: say so in Content-Encoding */
};

struct hs;
typedef void (*hs_fn)(struct hs *h, const char *method, const char *path, unsigned page,
    struct hs_answer *a);

struct hs {
	struct MHD_Daemon *d;
	char url[64];
	hs_fn fn;
	void *data;
	pthread_mutex_t lock;
	unsigned requests;
};

static void
hs_header(struct hs_answer *a, const char *name, const char *value)
{
	ck_assert_uint_lt(a->n_headers, 8);
	snprintf(a->headers[a->n_headers][0], sizeof(a->headers[0][0]), "%s", name);
	snprintf(a->headers[a->n_headers][1], sizeof(a->headers[0][1]), "%s", value);
	a->n_headers++;
}

static enum MHD_Result
hs_on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	static int marker;
	struct hs *h = cls;
	struct hs_answer a = { .status = 200 };
	struct MHD_Response *resp;
	const char *page;
	enum MHD_Result ret;
	size_t i;

	(void)version;
	(void)upload;
	if (*con_cls == NULL) {
		*con_cls = &marker;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		*upload_size = 0;
		return MHD_YES;
	}
	page = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "page");
	pthread_mutex_lock(&h->lock);
	h->requests++;
	h->fn(h, method, url, page != NULL ? (unsigned)strtoul(page, NULL, 10) : 1, &a);
	pthread_mutex_unlock(&h->lock);
	resp = MHD_create_response_from_buffer(a.len, a.body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(a.body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	if (a.gzip)
		MHD_add_response_header(resp, "Content-Encoding", "gzip");
	for (i = 0; i < a.n_headers; i++)
		MHD_add_response_header(resp, a.headers[i][0], a.headers[i][1]);
	ret = MHD_queue_response(c, a.status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static struct hs *
hs_start(hs_fn fn, void *data)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	const union MHD_DaemonInfo *info;
	struct hs *h = calloc(1, sizeof(*h));

	ck_assert_ptr_nonnull(h);
	h->fn = fn;
	h->data = data;
	pthread_mutex_init(&h->lock, NULL);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, hs_on_request, h,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_END);
	ck_assert_ptr_nonnull(h->d);
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	snprintf(h->url, sizeof(h->url), "http://127.0.0.1:%u", info->port);
	return h;
}

static void
hs_stop(struct hs *h)
{
	MHD_stop_daemon(h->d);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

static char *
xstrdup(const char *s)
{
	char *d = strdup(s);

	ck_assert_ptr_nonnull(d);
	return d;
}

static void
answer_text(struct hs_answer *a, const char *text)
{
	a->body = xstrdup(text);
	a->len = strlen(text);
}

/* gzip IN (N bytes) into a new buffer. */
static char *
gzip_bytes(const char *in, size_t n, size_t *ret_len)
{
	z_stream zs;
	size_t cap = compressBound((uLong)n) + 64;
	char *out = malloc(cap);

	ck_assert_ptr_nonnull(out);
	memset(&zs, 0, sizeof(zs));
	ck_assert_int_eq(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)n;
	zs.next_out = (Bytef *)out;
	zs.avail_out = (uInt)cap;
	ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*ret_len = zs.total_out;
	deflateEnd(&zs);
	return out;
}

/* --- running the binary and measuring it ---------------------------------- */

struct measured {
	int status;
	long maxrss_kb;
	char *out, *err;
};

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(TU_OUTPUT_MAX + 1);
	size_t n;

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(buf);
	n = fread(buf, 1, TU_OUTPUT_MAX, f);
	buf[n] = '\0';
	(void)fclose(f);
	return buf;
}

/*
 * Run dosnap with ARGV and ENV (as tu_run_dosnap), stderr to a file whose
 * device and inode go into $JOURNAL_STREAM when JOURNAL is set, and DATA_MAX
 * bytes of RLIMIT_DATA when not 0.  Its peak RSS comes from wait4.
 */
static void
run_measured(const char *const *argv, const char *const *env, bool journal, rlim_t data_max,
    struct measured *m)
{
	char *dir = tu_mkdtemp(), out[4200], err[4200], js[96];
	const char *fullargv[32], *fullenv[16];
	struct rusage ru;
	struct stat st;
	int outfd, errfd, status, i, n = 0;
	pid_t pid;

	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(err, sizeof(err), "%s/err", dir);
	outfd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	errfd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(outfd, 0);
	ck_assert_int_ge(errfd, 0);
	ck_assert_int_eq(fstat(errfd, &st), 0);
	snprintf(js, sizeof(js), "JOURNAL_STREAM=%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	fullargv[0] = tu_dosnap_bin();
	for (i = 0; i < 30 && argv[i] != NULL; i++)
		fullargv[i + 1] = argv[i];
	fullargv[i + 1] = NULL;
	fullenv[n++] = "PATH=/usr/bin:/bin";
	fullenv[n++] = "HOME=/nonexistent";
	fullenv[n++] = "TZ=UTC";
	if (journal)
		fullenv[n++] = js;
	for (i = 0; env != NULL && env[i] != NULL && n < 15; i++)
		fullenv[n++] = env[i];
	fullenv[n] = NULL;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);

		if (data_max > 0) {
			struct rlimit rl = { data_max, data_max };

			(void)setrlimit(RLIMIT_DATA, &rl);
		}
		dup2(nul, 0);
		dup2(outfd, 1);
		dup2(errfd, 2);
		execve(fullargv[0], (char *const *)fullargv, (char *const *)fullenv);
		_exit(127);
	}
	close(outfd);
	close(errfd);
	ck_assert_int_eq(wait4(pid, &status, 0, &ru), pid);
	m->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	m->maxrss_kb = ru.ru_maxrss;
	m->out = slurp(out);
	m->err = slurp(err);
	tu_rmtree(dir);
	free(dir);
}

static void
measured_release(struct measured *m)
{
	free(m->out);
	free(m->err);
}

/* Sanitizers keep freed memory in quarantine: their RSS says nothing about dosnap's. */
static bool
rss_meaningful(void)
{
	return strstr(tu_dosnap_bin(), "/san-") == NULL;
}

/* `dosnap list` against H; returns what it did, having checked the memory bound. */
static void
list_against(struct hs *h, const char *what, struct measured *m)
{
	const char *argv[] = { "list", "--api-url", h->url, NULL };
	const char *env[] = { "DO_TOKEN=" HS_TOKEN, NULL };

	run_measured(argv, env, false, 0, m);
	printf("hostile: %s: exit %d, peak RSS %.1f MiB, %u requests\n", what, m->status,
	    (double)m->maxrss_kb / 1024, h->requests);
	(void)fflush(stdout);
	if (rss_meaningful())
		ck_assert_msg(m->maxrss_kb < PEAK_RSS_MAX_KB, "%s: peak RSS %ld KiB over the bound",
		    what, m->maxrss_kb);
}

/* --- memory: caps on what is decoded -------------------------------------- */

/* Everything but /v2/droplets is an empty listing. */
static bool
answer_other(const char *path, struct hs_answer *a)
{
	if (strcmp(path, "/v2/droplets") == 0)
		return false;
	if (strcmp(path, "/v2/snapshots") == 0)
		answer_text(a, "{\"snapshots\":[],\"links\":{},\"meta\":{\"total\":0}}");
	else
		answer_text(a, "{\"account\":{\"email\":\"a@b\",\"uuid\":\"u\",\"status\":\"active\"}}");
	return true;
}

/* A body of tiny values that gzip shrinks to nothing: 7 MiB of "0," in one array. */
static void
fn_tiny_values(struct hs *h, const char *method, const char *path, unsigned page,
    struct hs_answer *a)
{
	size_t n = 7u * 1024 * 1024, i, len;
	char *plain;

	(void)h;
	(void)method;
	(void)page;
	if (answer_other(path, a))
		return;
	plain = malloc(n + 64);
	ck_assert_ptr_nonnull(plain);
	len = (size_t)sprintf(plain, "{\"droplets\":[");
	for (i = 0; len + 4 < n; i++) {
		plain[len++] = '0';
		plain[len++] = ',';
	}
	len += (size_t)sprintf(plain + len, "0]}");
	a->body = gzip_bytes(plain, len, &a->len);
	a->gzip = true;
	free(plain);
}

START_TEST(test_gzip_tiny_values)
{
	struct hs *h = hs_start(fn_tiny_values, NULL);
	struct measured m;

	list_against(h, "7 MiB of gzipped tiny JSON values", &m);
	ck_assert_int_eq(m.status, 69);
	ck_assert_msg(strstr(m.err, "GET /v2/droplets") != NULL &&
	    strstr(m.err, "more than 150000 JSON values") != NULL, "stderr: %s", m.err);
	/* A cap is not a glitch: not asked again. */
	ck_assert_uint_eq(h->requests, 1);
	measured_release(&m);
	hs_stop(h);
}
END_TEST

/* 32 MiB once decompressed, a few KiB on the wire. */
static void
fn_gzip_bomb(struct hs *h, const char *method, const char *path, unsigned page,
    struct hs_answer *a)
{
	size_t n = 32u * 1024 * 1024;
	char *plain;

	(void)h;
	(void)method;
	(void)page;
	if (answer_other(path, a))
		return;
	plain = malloc(n);
	ck_assert_ptr_nonnull(plain);
	memset(plain, ' ', n);
	memcpy(plain, "{\"droplets\":[]}", 15);
	a->body = gzip_bytes(plain, n, &a->len);
	a->gzip = true;
	free(plain);
}

START_TEST(test_gzip_bomb)
{
	struct hs *h = hs_start(fn_gzip_bomb, NULL);
	struct measured m;

	list_against(h, "a 32 MiB gzip bomb", &m);
	ck_assert_int_eq(m.status, 69);
	ck_assert_msg(strstr(m.err, "GET /v2/droplets") != NULL &&
	    strstr(m.err, "larger than 8388608 bytes (decompressed)") != NULL, "stderr: %s", m.err);
	measured_release(&m);
	hs_stop(h);
}
END_TEST

/*
 * The most expensive answer every cap lets through: just under 8 MiB of
 * body and 150,000 values, all of them strings dosnap ignores (cJSON
 * still builds them).
 */
static void
fn_worst_answer(struct hs *h, const char *method, const char *path, unsigned page,
    struct hs_answer *a)
{
	size_t values = API_JSON_VALUES_MAX - 16, slen = 8u * 1024 * 1024 / values - 4, i, len = 0;
	size_t cap = 64 + values * (slen + 3);
	char *b = malloc(cap);

	(void)h;
	(void)method;
	(void)page;
	if (answer_other(path, a)) {
		free(b);
		return;
	}
	ck_assert_ptr_nonnull(b);
	len += (size_t)snprintf(b, cap, "{\"droplets\":[{\"id\":1,\"name\":\"x\",\"junk\":[");
	for (i = 0; i < values; i++) {
		b[len++] = i > 0 ? ',' : ' ';
		b[len++] = '"';
		memset(b + len, 'j', slen);
		len += slen;
		b[len++] = '"';
	}
	len += (size_t)snprintf(b + len, cap - len, "]}]}");
	ck_assert_uint_lt(len, API_BODY_MAX_DEFAULT);
	a->body = b;
	a->len = len;
}

START_TEST(test_worst_answer)
{
	struct hs *h = hs_start(fn_worst_answer, NULL);
	struct measured m;

	list_against(h, "the most expensive answer under every cap", &m);
	ck_assert_msg(m.status == 0, "exit %d: %s", m.status, m.err);
	measured_release(&m);
	hs_stop(h);
}
END_TEST

/* Pages of 100 droplets with TAGS numeric tags each, a next link on every one. */
static void
droplet_page(unsigned page, unsigned tags, unsigned next_page, struct hs_answer *a)
{
	size_t cap = 256 + 100 * (64 + (size_t)tags * 10), len = 0;
	unsigned i, t;
	char *b = malloc(cap);

	ck_assert_ptr_nonnull(b);
	len += (size_t)snprintf(b + len, cap - len, "{\"droplets\":[");
	for (i = 0; i < 100; i++) {
		len += (size_t)snprintf(b + len, cap - len, "%s{\"id\":%u,\"name\":\"d\",\"tags\":[",
		    i > 0 ? "," : "", page * 1000 + i + 1);
		for (t = 0; t < tags; t++)
			len += (size_t)snprintf(b + len, cap - len, "%s\"%u\"", t > 0 ? "," : "",
			    1000000 + t);
		len += (size_t)snprintf(b + len, cap - len, "]}");
	}
	if (next_page > 0)
		len += (size_t)snprintf(b + len, cap - len, "],\"links\":{\"pages\":{\"next\":"
		    "\"https://api.digitalocean.com/v2/droplets?page=%u&per_page=200\"}},"
		    "\"meta\":{\"total\":1000000}}", next_page);
	else
		len += (size_t)snprintf(b + len, cap - len, "],\"links\":{},\"meta\":{\"total\":100}}");
	ck_assert_uint_lt(len, cap);
	a->body = b;
	a->len = len;
}

static void
fn_many_tags(struct hs *h, const char *method, const char *path, unsigned page,
    struct hs_answer *a)
{
	(void)h;
	(void)method;
	if (!answer_other(path, a))
		droplet_page(page, 900, page + 1, a);
}

START_TEST(test_listing_bytes)
{
	struct hs *h = hs_start(fn_many_tags, NULL);
	struct measured m;

	list_against(h, "endless pages of droplets with 900 tags each", &m);
	ck_assert_int_eq(m.status, 69);
	ck_assert_msg(strstr(m.err, "GET /v2/droplets") != NULL &&
	    strstr(m.err, "the listing holds more than 16 MiB once decoded") != NULL,
	    "stderr: %s", m.err);
	ck_assert_uint_le(h->requests, 12);
	measured_release(&m);
	hs_stop(h);
}
END_TEST

static void
fn_too_many_tags(struct hs *h, const char *method, const char *path, unsigned page,
    struct hs_answer *a)
{
	(void)h;
	(void)method;
	if (!answer_other(path, a))
		droplet_page(page, API_ITEM_TAGS_MAX + 1, page + 1, a);
}

START_TEST(test_item_tags)
{
	struct hs *h = hs_start(fn_too_many_tags, NULL);
	struct measured m;

	list_against(h, "droplets with 1001 tags", &m);
	ck_assert_int_eq(m.status, 69);
	ck_assert_msg(strstr(m.err, "GET /v2/droplets") != NULL &&
	    strstr(m.err, "an item has more than 1000 tags") != NULL, "stderr: %s", m.err);
	ck_assert_uint_eq(h->requests, 1);
	measured_release(&m);
	hs_stop(h);
}
END_TEST

/* Page 1 links to page 2, page 2 back to page 1. */
static void
fn_loop(struct hs *h, const char *method, const char *path, unsigned page, struct hs_answer *a)
{
	(void)h;
	(void)method;
	if (!answer_other(path, a))
		droplet_page(page, 1, page == 1 ? 2 : 1, a);
}

START_TEST(test_pages_loop)
{
	struct hs *h = hs_start(fn_loop, NULL);
	struct measured m;

	list_against(h, "a next link back to page 1", &m);
	ck_assert_int_eq(m.status, 69);
	ck_assert_msg(strstr(m.err, "GET /v2/droplets") != NULL &&
	    strstr(m.err, "next link leads back to page 1") != NULL, "stderr: %s", m.err);
	ck_assert_uint_eq(h->requests, 2);
	measured_release(&m);
	hs_stop(h);
}
END_TEST

/*
 * Out of memory is said as such, exit 71, not "HTTP 200" and 69.  The
 * child's data segment is limited so that the answer (legal, under every
 * cap) does not fit.
 */
static void
fn_big_legal(struct hs *h, const char *method, const char *path, unsigned page,
    struct hs_answer *a)
{
	(void)h;
	(void)method;
	(void)page;
	if (!answer_other(path, a))
		droplet_page(1, API_ITEM_TAGS_MAX, 0, a);	/* 100,000 values, about 1 MiB */
}

/*
 * Run ARGV under a data limit raised step by step until the run gets past
 * start-up and runs out of memory on an answer; M holds that run.
 */
static bool
run_out_of_memory(const char *const *argv, struct measured *m, rlim_t *ret_lim)
{
	const char *env[] = { "DO_TOKEN=" HS_TOKEN, NULL };
	rlim_t lim;

	for (lim = 8u << 20; lim <= (64u << 20); lim += 1u << 20) {
		run_measured(argv, env, false, lim, m);
		if (strstr(m->err, "out of memory decoding the answer") != NULL ||
		    strstr(m->err, "out of memory receiving the answer") != NULL) {
			*ret_lim = lim;
			return true;
		}
		measured_release(m);
		if (m->status == 0)
			break;
	}
	return false;
}

START_TEST(test_out_of_memory)
{
	struct hs *h = hs_start(fn_big_legal, NULL);
	const char *argv[] = { "list", "--api-url", h->url, NULL };
	struct measured m;
	rlim_t lim = 0;
	bool found;

	if (!rss_meaningful()) {
		hs_stop(h);
		return;
	}
	/* Without a limit it works: 100,000 values, every item at the tag cap. */
	list_against(h, "a page of 100,000 JSON values", &m);
	ck_assert_int_eq(m.status, 0);
	measured_release(&m);
	found = run_out_of_memory(argv, &m, &lim);
	ck_assert_msg(found, "no limit gave an out-of-memory failure");
	printf("hostile: list out of memory at RLIMIT_DATA %.0f MiB: exit %d: %s",
	    (double)lim / (1 << 20), m.status, m.err);
	ck_assert_msg(m.status == 71, "exit %d, stderr: %s", m.status, m.err);
	ck_assert_ptr_null(strstr(m.err, "HTTP 200\n"));
	measured_release(&m);
	hs_stop(h);
}
END_TEST

/* A droplet of 100,000 values (ignored ones) to every request. */
static void
fn_heavy_droplet(struct hs *h, const char *method, const char *path, unsigned page,
    struct hs_answer *a)
{
	size_t n = 100000, i, len = 0, cap = 64 + n * 4;
	char *b = malloc(cap);

	(void)h;
	(void)method;
	(void)path;
	(void)page;
	ck_assert_ptr_nonnull(b);
	len += (size_t)snprintf(b, cap, "{\"droplet\":{\"id\":1001,\"name\":\"web\","
	    "\"status\":\"active\",\"junk\":[");
	for (i = 0; i < n; i++) {
		b[len++] = i > 0 ? ',' : ' ';
		b[len++] = '0';
	}
	len += (size_t)snprintf(b + len, cap - len, "]}}");
	a->body = b;
	a->len = len;
}

/* The same through a flow: the run's exit says out of memory (71), not 69. */
START_TEST(test_out_of_memory_flow)
{
	struct hs *h = hs_start(fn_heavy_droplet, NULL);
	char *dir = tu_mkdtemp();
	const char *argv[] = { "snapshot", "--api-url", h->url, "--state-dir", dir, "1001", NULL };
	struct measured m;
	rlim_t lim = 0;
	bool found;

	if (!rss_meaningful()) {
		hs_stop(h);
		tu_rmtree(dir);
		free(dir);
		return;
	}
	found = run_out_of_memory(argv, &m, &lim);
	ck_assert_msg(found, "no limit gave an out-of-memory failure");
	printf("hostile: snapshot out of memory at RLIMIT_DATA %.0f MiB: exit %d\n",
	    (double)lim / (1 << 20), m.status);
	ck_assert_msg(m.status == 71, "exit %d, stderr: %s", m.status, m.err);
	measured_release(&m);
	hs_stop(h);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* One page of 100 droplets with 900 tags each, no next page: about 5 MiB once decoded. */
static void
fn_heavy_page(struct hs *h, const char *method, const char *path, unsigned page,
    struct hs_answer *a)
{
	(void)h;
	(void)method;
	if (!answer_other(path, a))
		droplet_page(page, 900, 0, a);
}

/*
 * Each answer is capped, but results held at once add up (every flow holds
 * its droplet's snapshots): past API_HEAP_MAX of heap in use, nothing more
 * is decoded, and the failure says why.
 */
START_TEST(test_heap_bound)
{
#if defined(__SANITIZE_ADDRESS__)
	/* The sanitizer's allocator is not glibc's: the bound cannot see it. */
	(void)fn_heavy_page;
#else
	struct hs *h = hs_start(fn_heavy_page, NULL);
	struct api_config cfg = { .token = HS_TOKEN, .base_url = h->url, .rate_reserve = -1 };
	struct api_droplet_list *held[32] = { NULL };
	struct api_client *c = NULL;
	struct api_error err;
	char want[64];
	int i, r = 0;

	ck_assert_int_eq(api_client_new(&cfg, &c), 0);
	for (i = 0; i < 32; i++) {
		r = api_list_droplets(c, NULL, NULL, &held[i], &err);
		if (r < 0)
			break;
	}
	printf("hostile: heap bound: %d listings of 100 droplets with 900 tags held, then %s\n",
	    i, r < 0 ? err.message : "no failure");
	ck_assert_int_eq(r, -ENOMEM);
	ck_assert_int_ge(i, 2);
	snprintf(want, sizeof(want), "over its bound of %u MiB", API_HEAP_MAX >> 20);
	ck_assert_msg(strstr(err.message, want) != NULL, "%s", err.message);
	ck_assert_str_eq(err.path, "/v2/droplets");
	for (i = 0; i < 32; i++)
		api_droplet_list_free(held[i]);
	api_client_free(c);
	hs_stop(h);
#endif
}
END_TEST

/* Empty pages, each linking to the next: the page cap ends it. */
static void
fn_endless_empty(struct hs *h, const char *method, const char *path, unsigned page,
    struct hs_answer *a)
{
	char buf[256];

	(void)h;
	(void)method;
	(void)path;
	snprintf(buf, sizeof(buf), "{\"droplets\":[],\"links\":{\"pages\":{\"next\":"
	    "\"https://api.digitalocean.com/v2/droplets?page=%u\"}},\"meta\":{\"total\":0}}",
	    page + 1);
	answer_text(a, buf);
}

START_TEST(test_pages_cap)
{
	struct hs *h = hs_start(fn_endless_empty, NULL);
	struct api_config cfg = { .token = HS_TOKEN, .base_url = h->url, .rate_per_minute = -1,
		.rate_reserve = -1 };
	struct api_droplet_list *dl = NULL;
	struct api_client *c = NULL;
	struct api_error err;
	char text[512];

	ck_assert_int_eq(api_client_new(&cfg, &c), 0);
	ck_assert_int_eq(api_list_droplets(c, NULL, NULL, &dl, &err), -EFBIG);
	ck_assert_ptr_null(dl);
	api_error_format(&err, text, sizeof(text));
	ck_assert_msg(strstr(text, "GET /v2/droplets") != NULL &&
	    strstr(text, "more than 1000 pages") != NULL, "%s", text);
	ck_assert_uint_eq(h->requests, API_PAGES_MAX);
	api_client_free(c);
	hs_stop(h);
}
END_TEST

/* Bodies of 7 MiB to every GET, many at once: together they pass the client-wide cap. */
static void
fn_big_bodies(struct hs *h, const char *method, const char *path, unsigned page,
    struct hs_answer *a)
{
	size_t n = 7u * 1024 * 1024;

	(void)h;
	(void)method;
	(void)path;
	(void)page;
	a->body = malloc(n);
	ck_assert_ptr_nonnull(a->body);
	memset(a->body, ' ', n);
	memcpy(a->body, "{\"droplet\":{\"id\":1}}", 20);
	a->len = n;
}

static void
collect_cb(struct api_client *c, struct api_reply *reply, void *userdata)
{
	char *why = userdata;

	(void)c;
	if (reply->r == -EFBIG && why[0] == '\0')
		api_error_format(&reply->error, why, 512);
}

START_TEST(test_bodies_in_flight)
{
	struct hs *h = hs_start(fn_big_bodies, NULL);
	struct api_config cfg = { .token = HS_TOKEN, .base_url = h->url, .rate_reserve = -1,
		.retry_max_attempts = 1, .max_connections = 8 };
	struct api_client *c = NULL;
	char why[512] = "";
	int i, loops = 0;

	ck_assert_int_eq(api_client_new(&cfg, &c), 0);
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(api_get_droplet_async(c, 1 + i, collect_cb, why, NULL), 0);
	while (api_client_pending(c) > 0 && loops++ < 600)
		ck_assert_int_ge(api_client_run(c, 100), 0);
	ck_assert_msg(strstr(why, "GET /v2/droplets/") != NULL &&
	    strstr(why, "the answers in progress hold more than 24 MiB together") != NULL,
	    "'%s'", why);
	api_client_free(c);
	hs_stop(h);
}
END_TEST

/* ratelimit-reset near LONG_MAX: the pacer's arithmetic must not overflow. */
static void
fn_reset_far(struct hs *h, const char *method, const char *path, unsigned page,
    struct hs_answer *a)
{
	(void)h;
	(void)method;
	(void)path;
	(void)page;
	answer_text(a, "{\"droplet\":{\"id\":1,\"name\":\"d\",\"status\":\"active\"}}");
	hs_header(a, "ratelimit-remaining", "0");
	hs_header(a, "ratelimit-reset", "922337203685477580");
}

START_TEST(test_ratelimit_reset_clamped)
{
	struct hs *h = hs_start(fn_reset_far, NULL);
	struct api_config cfg = { .token = HS_TOKEN, .base_url = h->url,
		.retry_max_total_ms = 5000, .rate_reserve = -1 };
	struct api_client *c = NULL;
	struct api_droplet *d = NULL;
	struct api_error err;

	ck_assert_int_eq(api_client_new(&cfg, &c), 0);
	ck_assert_int_eq(api_get_droplet(c, 1, &d, &err), 0);
	api_droplet_free(d);
	d = NULL;
	/* No budget left until a reset clamped to an hour away: not before the deadline. */
	ck_assert_int_eq(api_get_droplet(c, 1, &d, &err), -EAGAIN);
	ck_assert_ptr_nonnull(strstr(err.message, "rate limit leaves no room"));
	ck_assert_uint_eq(h->requests, 1);
	api_client_free(c);
	hs_stop(h);
}
END_TEST

/* --- token fragments --------------------------------------------------------- */

static const struct shape {
	const char *name;
	const char *token;
	size_t public_prefix;		/* the part that says only what kind of token it is */
} shapes[] = {
	{ "dop_v1_", "dop_v1_3f2a9c81d07e4b5a96c3e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5", 7 },
	{ "doo_v1_", "doo_v1_c4d5e6f708192a3b4c5d6e7f8091a2b3c43f2a9c81d07e4b5a96c3e0f1a2b3d5", 7 },
	{ "dor_v1_", "dor_v1_8091a2b3c4d5e6f7d07e4b5a96c3e0f1a2b3c4d508192a3b4c5d6e7f3f2a9c81", 7 },
	{ "legacy hex", "9c3e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d53f2a9c81d07e4b5a6c4", 0 },
};

#define NSHAPES		(sizeof(shapes) / sizeof(shapes[0]))
#define FRAG_MIN	5	/* a run this long of the secret part, shown, is a leak */

/* Whether TEXT shows FRAG_MIN or more characters in a row of the token's secret part. */
static bool
leaks(const char *text, const struct shape *sh)
{
	const char *secret = sh->token + sh->public_prefix;
	size_t n = strlen(secret), i;
	char frag[FRAG_MIN + 1];

	for (i = 0; i + FRAG_MIN <= n; i++) {
		memcpy(frag, secret + i, FRAG_MIN);
		frag[FRAG_MIN] = '\0';
		if (strstr(text, frag) != NULL)
			return true;
	}
	return false;
}

/* The token at offset OFF in a run of '~', with LEN bytes in all. */
static char *
padded(const char *token, size_t off, size_t len)
{
	char *s = malloc(len + 1);
	size_t tl = strlen(token);

	ck_assert_ptr_nonnull(s);
	memset(s, '~', len);
	s[len] = '\0';
	if (off < len)
		memcpy(s + off, token, off + tl <= len ? tl : len - off);
	return s;
}

struct frag_case {
	const struct shape *sh;
	size_t off;			/* how far before each limit the token starts */
};

#define FRAG_SPAN	80		/* offsets 0..FRAG_SPAN-1 before a limit, and a few after */

/* Where the token starts for case OFF: FRAG_SPAN - OFF bytes before LIMIT (never before 0). */
static size_t
at(size_t limit, size_t off)
{
	return limit + off >= FRAG_SPAN ? limit + off - FRAG_SPAN : 0;
}

/*
 * An error whose every field holds the token across its limit: id (63),
 * message (255), request_id (71) in the body and x-request-id, and a body
 * whose first 4096 bytes, the trace's limit, end inside the token.
 */
static void
fn_echo(struct hs *h, const char *method, const char *path, unsigned page, struct hs_answer *a)
{
	const struct frag_case *fc = h->data;
	const char *tok = fc->sh->token;
	char *id = padded(tok, at(63, fc->off), 63 + 80), *msg = padded(tok, at(255, fc->off), 255 + 80);
	char *rid = padded(tok, at(71, fc->off), 71 + 80), *lead, *hdr;
	size_t prefix = strlen("{\"lead\":\""), cap = 8192 + 1024;

	(void)method;
	(void)path;
	(void)page;
	lead = padded(tok, at(4096, fc->off) - prefix, 4096 - prefix + 80);
	hdr = padded(tok, at(71, fc->off), 160);
	a->status = 422;
	a->body = malloc(cap);
	ck_assert_ptr_nonnull(a->body);
	a->len = (size_t)snprintf(a->body, cap,
	    "{\"lead\":\"%s\",\"id\":\"%s\",\"message\":\"%s\",\"request_id\":\"%s\"}",
	    lead, id, msg, rid);
	hs_header(a, "x-request-id", hdr);
	free(id);
	free(msg);
	free(rid);
	free(lead);
	free(hdr);
}

struct capture {
	char *buf;
	size_t len, cap;
};

static void
capture_cb(enum api_trace_kind kind, const char *line, void *userdata)
{
	struct capture *cap = userdata;
	size_t n = strlen(line);

	(void)kind;
	if (cap->len + n + 2 > cap->cap) {
		size_t ncap = (cap->len + n + 2) * 2;
		char *p = realloc(cap->buf, ncap);

		ck_assert_ptr_nonnull(p);
		cap->buf = p;
		cap->cap = ncap;
	}
	memcpy(cap->buf + cap->len, line, n);
	cap->len += n;
	cap->buf[cap->len++] = '\n';
	cap->buf[cap->len] = '\0';
}

START_TEST(test_token_fragments_api)
{
	size_t s, off, cases = 0;

	for (s = 0; s < NSHAPES; s++) {
		for (off = 0; off < FRAG_SPAN + 6; off++) {
			struct frag_case fc = { &shapes[s], off };
			struct hs *h = hs_start(fn_echo, &fc);
			struct capture cap = { 0 };
			struct api_config cfg = { .token = shapes[s].token, .base_url = h->url,
				.retry_max_attempts = 1, .trace = capture_cb, .trace_userdata = &cap,
				.trace_bodies = true };
			struct api_client *c = NULL;
			struct api_droplet *d = NULL;
			struct api_error err;
			char text[2048];

			ck_assert_int_eq(api_client_new(&cfg, &c), 0);
			ck_assert_int_eq(api_get_droplet(c, 1, &d, &err), -EINVAL);
			api_error_format(&err, text, sizeof(text));
			ck_assert_msg(!leaks(text, &shapes[s]) && !leaks(err.id, &shapes[s]) &&
			    !leaks(err.message, &shapes[s]) && !leaks(err.request_id, &shapes[s]),
			    "%s token %zu bytes before a field's limit: %s", shapes[s].name,
			    FRAG_SPAN - off, text);
			ck_assert_msg(cap.buf != NULL && !leaks(cap.buf, &shapes[s]),
			    "%s token %zu bytes before the body trace's limit:\n%s", shapes[s].name,
			    FRAG_SPAN - off, cap.buf);
			ck_assert_ptr_nonnull(strstr(cap.buf, "[REDACTED]"));
			api_client_free(c);
			free(cap.buf);
			hs_stop(h);
			cases++;
		}
	}
	printf("hostile: token fragments: %zu shapes x %d offsets, 5 limits each: %zu requests\n",
	    NSHAPES, FRAG_SPAN + 6, cases);
}
END_TEST

/* The log's own limits: a line of LOG_LINE_MAX (4096) and what it formats first. */
START_TEST(test_token_fragments_log)
{
	static const size_t limits[] = { 4096 };
	size_t s, l, off;

	for (s = 0; s < NSHAPES; s++) {
		for (l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
			char *path, *dir = tu_mkdtemp(), *text;
			pid_t pid;
			int status;

			path = malloc(strlen(dir) + 8);
			ck_assert_ptr_nonnull(path);
			sprintf(path, "%s/err", dir);
			pid = fork();
			ck_assert_int_ge(pid, 0);
			if (pid == 0) {
				int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

				dup2(fd, 2);
				log_setup(LOG_FORMAT_TEXT, 0);
				log_add_secret(shapes[s].token);
				for (off = 0; off < FRAG_SPAN + 6; off++) {
					/* "dosnap: " is not part of the message; the limit counts the message. */
					char *msg = padded(shapes[s].token, at(limits[l] - 1, off),
					    limits[l] + 100);

					log_notice("%s", msg);
					log_errno(-EIO, "%s", msg);
					free(msg);
				}
				_exit(0);
			}
			ck_assert_int_eq(waitpid(pid, &status, 0), pid);
			ck_assert_int_eq(status, 0);
			text = slurp(path);
			ck_assert_msg(!leaks(text, &shapes[s]), "%s token around the log's %zu-byte limit",
			    shapes[s].name, limits[l]);
			ck_assert_ptr_nonnull(strstr(text, "dosnap: "));
			free(text);
			tu_rmtree(dir);
			free(dir);
			free(path);
		}
	}
}
END_TEST

/* --- output the API can forge ------------------------------------------------- */

/* Names a hostile API could give: escape sequences, BEL, CR, newlines, C1, a journal priority. */
#define EVIL_DROPLET	"web\\u001b[2J\\u0007\\r\\ndosnap: error: forged\\n<0>emergency\\u009b31m\\u202e"
#define EVIL_SNAPSHOT	"old\\u001b]0;pwned\\u0007\\ndosnap: forged too\\u007f"

/* Whether OUT (a whole stream) holds a byte a terminal or journald would act on. */
static const char *
unsafe_byte(const char *out)
{
	const unsigned char *p = (const unsigned char *)out;

	for (; *p != '\0'; p++) {
		if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
			return (const char *)p;
		/* C1 in UTF-8, and U+202E. */
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			return (const char *)p;
		if (p[0] == 0xe2 && p[1] == 0x80 && p[2] == 0xae)
			return (const char *)p;
	}
	return NULL;
}

/* Every line of OUT starts with PREFIX (or, for JSON, is an object). */
static void
check_lines(const char *what, const char *out, const char *prefix)
{
	const char *line = out, *bad;

	bad = unsafe_byte(out);
	ck_assert_msg(bad == NULL, "%s: raw control byte 0x%02x at %zu in:\n%s", what,
	    (unsigned)(unsigned char)*bad, (size_t)(bad - out), out);
	while (*line != '\0') {
		const char *nl = strchr(line, '\n');
		size_t n = nl != NULL ? (size_t)(nl - line) : strlen(line);

		if (prefix != NULL)
			ck_assert_msg(strncmp(line, prefix, strlen(prefix)) == 0,
			    "%s: a line not from dosnap: '%.*s'", what, (int)n, line);
		/* No line may be forged: "dosnap: error: forged" only inside a real one. */
		ck_assert_msg(strncmp(line, "dosnap: error: forged", 21) != 0 &&
		    strncmp(line, "dosnap: forged", 14) != 0 && strncmp(line, "<0>", 3) != 0,
		    "%s: a forged line: '%.*s'", what, (int)n, line);
		line += n + (nl != NULL);
	}
}

START_TEST(test_hostile_names_every_output)
{
	char *dir = tu_mkdtemp(), *fixture, *state, tok[256], fx[2048];
	struct mock_config cfg;
	struct mock *m;
	struct measured r;
	size_t i;

	snprintf(fx, sizeof(fx),
	    "{\"droplets\":[{\"id\":1001,\"name\":\"" EVIL_DROPLET "\",\"tags\":[\"web\"],"
	    "\"snapshots\":[{\"id\":5001,\"name\":\"" EVIL_SNAPSHOT "\",\"type\":\"snapshot\","
	    "\"created_at\":\"2024-01-01T00:00:00Z\"}]}]}");
	fixture = tu_write(dir, "fixture.json", fx);
	state = malloc(strlen(dir) + 8);
	ck_assert_ptr_nonnull(state);
	sprintf(state, "%s/state", dir);
	mkdir(state, 0700);
	mu_config(&cfg, NULL);
	cfg.fixture_path = fixture;
	m = mu_start(&cfg);
	snprintf(tok, sizeof(tok), "DO_TOKEN=%s", mock_token(m));
	{
		const char *env[] = { tok, NULL };
		const char *snap[] = { "snapshot", "--api-url", mock_url(m), "--time-scale", "0.01",
			"--state-dir", state, "--keep", "1", "1001", NULL };
		const char *snap_json[] = { "snapshot", "--api-url", mock_url(m), "--time-scale",
			"0.01", "--state-dir", state, "--log-format", "json", "--dry-run", "1001",
			NULL };
		const char *list[] = { "list", "--api-url", mock_url(m), NULL };
		const char *list_json[] = { "list", "--api-url", mock_url(m), "--json", NULL };
		struct {
			const char *what;
			const char *const *argv;
			bool journal;
			const char *err_prefix;
		} runs[] = {
			{ "snapshot, plain log and summary", snap, false, "dosnap: " },
			{ "snapshot, journald", snap, true, "<" },
			{ "snapshot, JSON log", snap_json, false, "{\"time\":" },
			{ "list", list, false, "dosnap: " },
			{ "list --json", list_json, false, "dosnap: " },
		};

		for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
			run_measured(runs[i].argv, env, runs[i].journal, 0, &r);
			ck_assert_msg(r.status == 0, "%s: exit %d\n%s", runs[i].what, r.status, r.err);
			check_lines(runs[i].what, r.err, runs[i].err_prefix);
			check_lines(runs[i].what, r.out, NULL);
			/* The name is there, made visible, not dropped. */
			if (i < 2)
				ck_assert_msg(strstr(r.err, "web\\x1b[2J\\x07\\r\\ndosnap: error: forged") != NULL,
				    "%s: stderr:\n%s", runs[i].what, r.err);
			if (i == 2) {
				const char *line = r.err;

				/* Each line is one valid JSON object, whose message keeps the escapes. */
				while (*line != '\0') {
					const char *nl = strchr(line, '\n');
					size_t n = nl != NULL ? (size_t)(nl - line) : strlen(line);
					cJSON *o = cJSON_ParseWithLength(line, n);

					ck_assert_msg(o != NULL && cJSON_IsString(cJSON_GetObjectItem(o,
					    "message")), "not a JSON log line: '%.*s'", (int)n, line);
					cJSON_Delete(o);
					line += n + (nl != NULL);
				}
				ck_assert_msg(strstr(r.err, "web\\\\x1b[2J") != NULL, "JSON:\n%s", r.err);
			}
			if (i == 3)
				ck_assert_msg(strstr(r.out, "old\\x1b]0;pwned\\x07\\ndosnap: forged too\\x7f") != NULL,
				    "list:\n%s", r.out);
			if (i == 4)
				ck_assert_msg(strstr(r.out, "\"old\\u001b]0;pwned\\u0007\\ndosnap: forged too\\u007f\"") != NULL,
				    "list --json:\n%s", r.out);
			if (i == 0) {
				/* The summary's row, and the name sent to the API, by the name rule. */
				ck_assert_msg(strstr(r.out, "1001 web\\x1b") != NULL, "summary:\n%s", r.out);
				ck_assert_msg(strstr(r.out, "dosnap-web__2J___dosnap__error__forged_") != NULL,
				    "summary:\n%s", r.out);
			}
			measured_release(&r);
		}
	}
	{
		struct mock_snapshot snaps[8];
		int n = mock_droplet_snapshots(m, 1001, snaps, 8), k;
		bool found = false;

		for (k = 0; k < n && k < 8; k++) {
			const char *p;

			if (strncmp(snaps[k].name, "dosnap-", 7) != 0)
				continue;
			found = true;
			for (p = snaps[k].name; *p != '\0'; p++)
				ck_assert_msg(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789._-", *p) != NULL, "snapshot name '%s'", snaps[k].name);
		}
		ck_assert(found);
	}
	mock_stop(m);
	tu_rmtree(dir);
	free(dir);
	free(fixture);
	free(state);
}
END_TEST

/* `dosnap status` shows the intent journal's records, names from the API kept in files. */
START_TEST(test_hostile_names_status)
{
	char *dir = tu_mkdtemp(), *state, *sched;
	struct journal_record rec;
	struct journal *j = NULL;
	bool may_recover = false;
	struct measured r;

	state = malloc(strlen(dir) + 8);
	ck_assert_ptr_nonnull(state);
	sprintf(state, "%s/state", dir);
	ck_assert_int_eq(mkdir(state, 0700), 0);
	sched = tu_write(dir, "schedule", "0 3 * * * 1001\n");
	ck_assert_int_eq(journal_open(state, &j, &may_recover), 0);
	memset(&rec, 0, sizeof(rec));
	rec.droplet_id = 1001;
	rec.was_active = true;
	rec.slot = 1795663800;
	rec.written = 1795663800;
	/* No newline: the record format is one line a key (journal_put escapes names). */
	snprintf(rec.name, sizeof(rec.name), "web\x1b[2J\x07\xc2\x9b<0>forged");
	snprintf(rec.snapshot, sizeof(rec.snapshot), "dosnap-web-20261126T0330Z");
	ck_assert_int_eq(journal_write(j, &rec, false), 0);
	journal_close(j);
	{
		const char *argv[] = { "status", "--state-dir", state, "-f", sched, NULL };

		run_measured(argv, NULL, false, 0, &r);
	}
	check_lines("status", r.out, NULL);
	check_lines("status", r.err, NULL);
	ck_assert_msg(strstr(r.out, "droplet 1001 (web\\x1b[2J\\x07\\u009b<0>forged)") != NULL,
	    "status:\n%s", r.out);
	measured_release(&r);
	tu_rmtree(dir);
	free(dir);
	free(state);
	free(sched);
}
END_TEST

/* --- the name rule ------------------------------------------------------------ */

static const struct name_row {
	const char *tmpl, *name, *want;
	int r;
} name_rows[] = {
	{ "dosnap-{name}-{slot}", "web-1", "dosnap-web-1-20261126T0330Z", 0 },
	{ "dosnap-{name}-{slot}", "web 1/\x1b[31m", "dosnap-web_1___31m-20261126T0330Z", 0 },
	/* NOLINTNEXTLINE(misc-misleading-bidirectional): U+202E is what this row is about. */
	{ "dosnap-{name}", "caf\xc3\xa9-\xe2\x80\xae", "dosnap-caf_-_", 0 },
	{ "{name}", "a\xff" "b", "a_b", 0 },
	{ "{id}-{name}", "x", "1001-x", 0 },
	{ "bad name {name}", "x", NULL, -EINVAL },
	{ "%%{name}", "x", NULL, -EINVAL },
};

START_TEST(test_name_rule)
{
	const struct name_row *row = &name_rows[_i];
	char buf[NAMING_MAX];
	int r;

	r = naming_render(row->tmpl, "1001", row->name, 1795663800, NULL, buf, sizeof(buf));
	ck_assert_msg(r == row->r, "'%s': r=%d", row->tmpl, r);
	if (r == 0)
		ck_assert_str_eq(buf, row->want);
}
END_TEST

/* A long name is cut so that the whole fits in 255 characters; the slot survives. */
START_TEST(test_name_length)
{
	char name[1024], buf[NAMING_MAX];
	size_t len;

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ck_assert_int_eq(naming_render("dosnap-{name}-{slot}", "1", name, 1795663800, NULL, buf,
	    sizeof(buf)), 0);
	len = strlen(buf);
	ck_assert_uint_eq(len, NAMING_MAX - 1);
	ck_assert_str_eq(buf + len - 15, "-20261126T0330Z");
	ck_assert_int_eq(naming_render("{name}{name}", "1", name, 0, NULL, buf, sizeof(buf)), 0);
	ck_assert_uint_le(strlen(buf), NAMING_MAX - 1);
}
END_TEST

/* What one item may hold: volume ids of a droplet, droplet ids of a volume. */
START_TEST(test_item_ids)
{
	static const char *const kinds[] = { "droplet", "volume" };
	size_t k, i, len, cap = 64 * 1024;
	char *body = malloc(cap);

	ck_assert_ptr_nonnull(body);
	for (k = 0; k < 2; k++) {
		struct api_reply reply = { 0 };

		len = (size_t)snprintf(body, cap, k == 0 ?
		    "{\"droplet\":{\"id\":1,\"volume_ids\":[" :
		    "{\"volume\":{\"id\":\"v\",\"droplet_ids\":[");
		for (i = 0; i <= API_ITEM_IDS_MAX; i++)
			len += (size_t)snprintf(body + len, cap - len, "%s%s%zu%s", i > 0 ? "," : "",
			    k == 0 ? "\"" : "", i + 1, k == 0 ? "\"" : "");
		len += (size_t)snprintf(body + len, cap - len, "]}}");
		ck_assert_msg(api_decode(k == 0 ? API_BODY_DROPLET : API_BODY_VOLUME, body, len,
		    &reply, NULL) == -EFBIG, "a %s with %d ids", kinds[k], API_ITEM_IDS_MAX + 1);
		ck_assert_ptr_null(reply.droplet);
		ck_assert_ptr_null(reply.volume);
	}
	free(body);
}
END_TEST

/* --- log escaping ----------------------------------------------------------------- */

static const struct esc_row {
	const char *in, *want;
} esc_rows[] = {
	{ "plain", "plain" },
	{ "a\nb\r\tc", "a\\nb\\r\\tc" },
	{ "\x1b[31mred\x07", "\\x1b[31mred\\x07" },
	{ "del\x7f", "del\\x7f" },
	{ "c1 \xc2\x9b" "31m", "c1 \\u009b31m" },
	{ "raw \x9b", "raw \\x9b" },
	{ "caf\xc3\xa9", "caf\xc3\xa9" },
	/* NOLINTNEXTLINE(misc-misleading-bidirectional): U+202E is what this row is about. */
	{ "rlo \xe2\x80\xae!", "rlo \\u202e!" },
	{ "overlong \xc0\xaf", "overlong \\xc0\\xaf" },
};

START_TEST(test_log_escape)
{
	char buf[128];

	ck_assert_str_eq(log_safe(esc_rows[_i].in, buf, sizeof(buf)), esc_rows[_i].want);
}
END_TEST

/* A cut never splits an escape or a character, and says it cut. */
START_TEST(test_log_escape_cut)
{
	char buf[10];

	ck_assert_str_eq(log_safe("abcdefghijkl", buf, sizeof(buf)), "abcdef...");
	ck_assert_str_eq(log_safe("abcde\x1b" "fgh", buf, sizeof(buf)), "abcde...");
	ck_assert_str_eq(log_safe("abcde\xc3\xa9\xc3\xa9xy", buf, sizeof(buf)), "abcde...");
	ck_assert_str_eq(log_safe("abc\x1b", buf, sizeof(buf)), "abc\\x1b");
}
END_TEST

Suite *hostile_suite(void);

Suite *
hostile_suite(void)
{
	Suite *s = suite_create("hostile");
	TCase *unit = tcase_create("unit");
	TCase *server = tcase_create("server");

	tcase_add_loop_test(unit, test_name_rule, 0, (int)(sizeof(name_rows) / sizeof(name_rows[0])));
	tcase_add_test(unit, test_name_length);
	tcase_add_loop_test(unit, test_log_escape, 0, (int)(sizeof(esc_rows) / sizeof(esc_rows[0])));
	tcase_add_test(unit, test_log_escape_cut);
	tcase_add_test(unit, test_item_ids);
	tcase_add_test(unit, test_token_fragments_log);
	suite_add_tcase(s, unit);

	tcase_set_timeout(server, 120);
	tcase_add_test(server, test_gzip_tiny_values);
	tcase_add_test(server, test_gzip_bomb);
	tcase_add_test(server, test_worst_answer);
	tcase_add_test(server, test_listing_bytes);
	tcase_add_test(server, test_item_tags);
	tcase_add_test(server, test_pages_loop);
	tcase_add_test(server, test_out_of_memory);
	tcase_add_test(server, test_out_of_memory_flow);
	tcase_add_test(server, test_ratelimit_reset_clamped);
	tcase_add_test(server, test_heap_bound);
	tcase_add_test(server, test_pages_cap);
	tcase_add_test(server, test_bodies_in_flight);
	tcase_add_test(server, test_token_fragments_api);
	tcase_add_test(server, test_hostile_names_every_output);
	tcase_add_test(server, test_hostile_names_status);
	suite_add_tcase(s, server);
	return s;
}
