/* server: the running mock as its files share it: struct mock and what the control plane asks of it. */
#ifndef DOSNAP_MOCK_SERVER_H
#define DOSNAP_MOCK_SERVER_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "fault.h"
#include "mock.h"
#include "ratelimit.h"
#include "state.h"

#define MAX_STALLS		256

struct stall {
	struct MHD_Connection *c;
	struct timespec deadline;	/* CLOCK_MONOTONIC */
};

struct mock {
	pthread_mutex_t lock;		/* guards everything below but the stall list */
	char *token;
	char *fixture_path;
	char *listen_host;
	unsigned n_generate;
	struct mock_config cfg;		/* strings point at the copies above */
	unsigned action_ms[MOCK_ACTION__COUNT];
	struct mparams params;
	char url[80];
	uint16_t port;
	struct MHD_Daemon *daemon;
	struct mstate *st;
	struct timespec mono0;

	struct mock_fault *cfg_faults;
	size_t n_cfg_faults;
	struct fault_rule faults[MOCK_MAX_FAULTS];
	size_t n_faults;
	uint64_t rng;

	struct bucket rl_token, rl_other;

	struct mock_request *log;
	size_t log_cap, log_head, log_n;
	uint64_t log_total;
	uint64_t request_seq;

	pthread_mutex_t stall_lock;	/* guards the stall list; taken after lock, never before */
	pthread_cond_t stall_cond;
	pthread_t stall_thread;
	bool stall_thread_started;
	bool stopping;
	struct stall stalls[MAX_STALLS];
	size_t n_stalls;
};

/* The functions below are called with m->lock held. */

/* Mock time now: real seconds since start (or reset) over the time scale. */
double	mock_now(const struct mock *m);

/* Request log entry I, 0 the oldest kept (I < m->log_n). */
struct mock_request *mock_log_at(struct mock *m, size_t i);

/* Complete every action whose time has come. */
void	mock_advance_locked(struct mock *m);

/*
 * Log a /v2 request (FAULT the fault kind's name or NULL, WHEN its Unix
 * time); past MOCK_MAX_REQUEST_LOG the oldest entry goes, still counted.
 */
void	mock_log_request(struct mock *m, const char *method, const char *url, const char *query,
	    int status, const char *fault, double when);

/* mock_reset and mock_add_fault, for callers that hold the lock. */
int	mock_reset_locked(struct mock *m);
int	mock_add_fault_locked(struct mock *m, const struct mock_fault *f);

#endif
