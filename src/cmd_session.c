/* cmd_session: what the commands that change droplets hold while they run: the API client, the intent journal, recovery. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "dosnap/api.h"
#include "dosnap/cli.h"
#include "dosnap/cmd.h"
#include "dosnap/flow.h"
#include "dosnap/journal.h"
#include "dosnap/log.h"
#include "dosnap/recover.h"
#include "dosnap/state.h"
#include "dosnap/token.h"

static void
trace_to_log(enum api_trace_kind kind, const char *line, void *userdata)
{
	(void)userdata;
	if (kind == API_TRACE_EVENT)
		log_info("api: %s", line);
	else
		log_debug("http: %s", line);
}

int
cmd_api_open(const struct cli_ctx *ctx, bool optional, struct api_client **ret)
{
	struct api_config cfg = { 0 };
	struct token tok = { 0 };
	char reason[512] = "";
	int r;

	r = token_load(ctx->token_file, &tok, reason, sizeof(reason));
	if (r == -ENOKEY && optional)
		return EXIT_CONFIG;
	if (r == -ENOKEY) {
		log_error("no DigitalOcean API token: %s. Put it in a file and pass --token-file "
		    "FILE (mode 0600), or use systemd's LoadCredential=digitalocean-token:FILE",
		    reason);
		return EXIT_CONFIG;
	}
	if (r < 0) {
		log_error("cannot read the API token: %s", reason[0] ? reason : strerror(-r));
		return r == -ENOENT || r == -EACCES ? EXIT_NOINPUT : EXIT_CONFIG;
	}
	/* From here on no message, trace or core dump may carry the token. */
	(void)log_add_secret(tok.value);
#ifdef __linux__
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
	if (tok.flags & TOKEN_FLAG_LOOSE_MODE)
		log_warn("token file '%s' can be read by group or others (mode %04o); "
		    "chmod 600 it", tok.origin, tok.mode);
	log_info("using the API token from %s", token_source_name(tok.source));

	cfg.token = tok.value;
	cfg.base_url = ctx->api_url;
	cfg.cacert = ctx->cacert;
	if (ctx->time_scale > 0 && ctx->time_scale < 1) {
		/* Against the mock at a time scale: retries and pacing scale too. */
		cfg.retry_base_ms = (long)(1000 * ctx->time_scale) + 1;
		cfg.retry_cap_ms = (long)(30000 * ctx->time_scale) + 1;
		cfg.request_timeout_ms = (long)(60000 * ctx->time_scale) + 1000;
		/* The mock's minute is 60 s times the scale: so is ours. */
		cfg.rate_window_ms = (long)(60000 * ctx->time_scale) + 1;
	}
	/*
	 * DigitalOcean allows 250 requests a minute and does not announce
	 * that in its headers: dosnap keeps itself under it unless told.
	 */
	cfg.rate_per_minute = ctx->rate_limit;
	if (ctx->verbosity >= 1) {
		cfg.trace = trace_to_log;
		cfg.trace_bodies = ctx->verbosity >= 3;
	}
	r = api_client_new(&cfg, ret);
	token_release(&tok);
	if (r == -ELIBACC) {
		log_error("cannot load libcurl: dosnap needs libcurl (Debian: libcurl4) at run time");
		return EXIT_UNAVAIL;
	}
	if (r == -EPERM) {
		log_error("refusing plain http to '%s': a bearer token must not cross a network in "
		    "clear; use https (http is accepted for loopback addresses only)", ctx->api_url);
		return EXIT_USAGE;
	}
	if (r == -EINVAL) {
		log_error("cannot use API URL '%s': not an http(s) URL without query or user name",
		    ctx->api_url != NULL ? ctx->api_url : API_DEFAULT_URL);
		return EXIT_USAGE;
	}
	if (r < 0) {
		log_errno(r, "cannot set up the API client");
		return cli_exit_code(r);
	}
	return EXIT_OK;
}

/* --- the journal and recovery ------------------------------------------ */

static int
journal_put(const struct flow_record *rec, struct journal *j, bool durable)
{
	struct journal_record jr = {
		.droplet_id = rec->droplet_id,
		.was_active = rec->was_active,
		.slot = rec->slot,
		.action_id = rec->action_id,
	};

	/*
	 * A record is one "key value" a line: a name from the API with a
	 * newline in it would write keys of its own ("was-active 0"), so it
	 * goes in escaped, one line, as every message shows it.
	 */
	log_safe(rec->droplet_name, jr.name, sizeof(jr.name));
	snprintf(jr.snapshot, sizeof(jr.snapshot), "%s", rec->snapshot_name);
	return journal_write(j, &jr, durable);
}

/* Before a power-off: durable, or the droplet is not powered off. */
static int
hook_intent(const struct flow_record *rec, void *userdata)
{
	int r = journal_put(rec, userdata, true);

	if (r == -EINVAL)
		log_error("droplet %" PRId64 " (%s): '%s/%" PRId64 ".intent.tmp' is not a regular "
		    "file (a FIFO?), so its journal record cannot be written; remove it",
		    rec->droplet_id, rec->droplet_name, journal_dir(userdata), rec->droplet_id);
	return r;
}

static void
hook_progress(const struct flow_record *rec, void *userdata)
{
	int r = journal_put(rec, userdata, false);

	/* The record without the action id still leads recovery to the action. */
	if (r < 0)
		log_warn("droplet %" PRId64 " (%s): cannot update its journal record: %s",
		    rec->droplet_id, rec->droplet_name, strerror(-r));
}

static void
hook_done(const struct flow_record *rec, void *userdata)
{
	int r = journal_remove(userdata, rec->droplet_id);

	if (r < 0)
		log_warn("droplet %" PRId64 " (%s): restored, but its journal record stays (%s); "
		    "the next run checks it and removes it", rec->droplet_id, rec->droplet_name,
		    strerror(-r));
}

static void
hook_clock(int64_t offset_s, void *userdata)
{
	const char *dir = userdata;

	/* Only for `dosnap status`; the flow has warned already when it is off. */
	(void)state_clock_save(dir, offset_s, (int64_t)time(NULL));
}

void
cmd_session_hooks(struct cmd_session *s, struct flow_config *cfg)
{
	if (s->journal == NULL)
		return;
	if (s->state_dir != NULL) {
		cfg->hooks.clock = hook_clock;
		cfg->hooks.clock_userdata = s->state_dir;
	}
	cfg->hooks.intent = hook_intent;
	cfg->hooks.progress = hook_progress;
	cfg->hooks.done = hook_done;
	cfg->hooks.userdata = s->journal;
	cfg->was_active_ids = s->waiting;
	cfg->n_was_active_ids = s->n_waiting;
}

const char *
cmd_damage_text(int damage)
{
	switch (damage) {
	case -EBADMSG:
		return "it is damaged";
	case -EINVAL:
		return "it is not a regular file (a FIFO or a device?)";
	case -ELOOP:
		return "it is a symlink";
	case -EFBIG:
		return "it is too big";
	default:
		return strerror(-damage);
	}
}

/* Say that recovery waits, and for how long: the wait may take hours. */
static void
recovery_waiting(const struct recover_result *r, long limit_s, void *userdata)
{
	(void)userdata;
	log_warn("recovery: droplet %" PRId64 " (%s): action %" PRId64 " (its snapshot) is still "
	    "in progress, and it cannot be powered on before that ends; waiting for it, up to "
	    "%ld min", r->rec.droplet_id, r->rec.name[0] ? r->rec.name : "?", r->action_id,
	    limit_s / 60);
}

/* Log what recovery found and did; returns the exit code it deserves. */
static int
report_recovery(const struct recover_result *res, size_t n, const char *state_dir)
{
	int code = EXIT_OK;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct recover_result *r = &res[i];
		enum log_level lvl = r->outcome == RECOVER_FAILED ? LOG_LEVEL_ERR :
		    r->outcome == RECOVER_WAITING ? LOG_LEVEL_WARNING : LOG_LEVEL_NOTICE;

		if (r->rec.damaged)
			log_msg(lvl, "recovery: droplet %" PRId64 ", whose journal record "
			    "'%s/journal/%" PRId64 ".intent' cannot be read (%s; it is treated as "
			    "the record of a droplet that was active): %s", r->rec.droplet_id,
			    state_dir, r->rec.droplet_id, cmd_damage_text(r->rec.damage), r->message);
		else
			log_msg(lvl, "recovery: droplet %" PRId64 " (%s), left by an interrupted run "
			    "(slot snapshot '%s'): %s", r->rec.droplet_id,
			    r->rec.name[0] ? r->rec.name : "?",
			    r->rec.snapshot[0] ? r->rec.snapshot : "?", r->message);
		if (r->outcome == RECOVER_FAILED)
			code = r->transient || code == EXIT_TEMPFAIL ? EXIT_TEMPFAIL : EXIT_UNAVAIL;
		/* Waited as long as it may, or stopped: the droplet is still off. */
		if (r->outcome == RECOVER_WAITING && code == EXIT_OK)
			code = EXIT_TEMPFAIL;
		if (r->journal_r < 0) {
			log_error("recovery: droplet %" PRId64 ": its journal record "
			    "'%s/journal/%" PRId64 ".intent' cannot be removed (%s); the next run "
			    "checks the droplet again and removes it", r->rec.droplet_id, state_dir,
			    r->rec.droplet_id, strerror(-r->journal_r));
			if (code == EXIT_OK)
				code = EXIT_CANTCREAT;
		}
	}
	return code;
}

/*
 * Open the intent journal in STATE_DIR into s->journal (only read it with
 * READONLY, where no journal is no records) and list its records into
 * *RET_RECS (free with free()), *RET_N; *RET_MAY_RECOVER when no other
 * dosnap holds it.  Returns EXIT_OK, or the exit code after saying why.
 */
static int
session_journal(const char *state_dir, bool readonly, struct cmd_session *s,
    struct journal_record **ret_recs, size_t *ret_n, bool *ret_may_recover)
{
	int r;

	if (readonly) {
		r = journal_open_readonly(state_dir, &s->journal, ret_may_recover);
		if (r == -ENOENT)
			return EXIT_OK;
	} else {
		r = journal_open(state_dir, &s->journal, ret_may_recover);
	}
	if (r < 0) {
		if (r == -EINVAL)
			log_error("cannot open the intent journal in '%s/journal': its lock "
			    "file '.lock' is not a regular file; remove it (dosnap makes a "
			    "new one)", state_dir);
		else
			log_errno(r, "cannot open the intent journal in '%s/journal'", state_dir);
		return EXIT_CANTCREAT;
	}
	r = journal_list(s->journal, ret_recs, ret_n);
	if (r < 0) {
		log_errno(r, "cannot read the intent journal in '%s/journal'", state_dir);
		return r == -ENOMEM ? EXIT_OSERR : EXIT_CANTCREAT;
	}
	return EXIT_OK;
}

/*
 * Recover the N records RECS on s->client: power on what an interrupted run
 * left off, and keep in s->waiting the droplets whose snapshot is still in
 * progress (the flows restore those).  Sets s->recover_code; returns
 * EXIT_OK, or EXIT_OSERR after saying why.
 */
static int
session_recover(const struct cli_ctx *ctx, const char *state_dir, bool dry_run,
    const struct journal_record *recs, size_t n, struct cmd_session *s)
{
	struct recover_result *res = NULL;
	struct recover_config rc = { .time_scale = ctx->time_scale, .dry_run = dry_run };
	size_t i;
	int r;

	log_notice("recovering %zu droplet%s an interrupted run left behind", n,
	    n == 1 ? "" : "s");
	/* Waiting for a snapshot may be long: a stop signal ends it. */
	rc.stop = cmd_stop_flag();
	rc.waiting = recovery_waiting;
	r = recover_run(s->client, s->journal, &rc, recs, n, &res);
	if (r == -ENOMEM) {
		log_error("out of memory: cannot recover the journal's records; stopping "
		    "(they stay for the next run)");
		return EXIT_OSERR;
	}
	if (r < 0) {
		log_errno(r, "cannot recover the journal's records");
		s->recover_code = EXIT_TEMPFAIL;
		return EXIT_OK;
	}
	s->recover_code = report_recovery(res, n, state_dir);
	s->waiting = calloc(n, sizeof(*s->waiting));
	if (s->waiting == NULL) {
		/*
		 * Without the list, the flows would take those droplets
		 * for off before and leave them off.
		 */
		log_error("out of memory: cannot keep the list of the droplets recovery left off; "
		    "stopping (their journal records stay for the next run)");
		free(res);
		return EXIT_OSERR;
	}
	for (i = 0; i < n; i++)
		if (res[i].outcome == RECOVER_WAITING && res[i].rec.was_active)
			s->waiting[s->n_waiting++] = res[i].rec.droplet_id;
	free(res);
	return EXIT_OK;
}

/*
 * cmd_session_open, and with READONLY, for a state directory that cannot be
 * written: the journal is only read (journal_open_readonly), and no journal
 * is no records.
 */
static int
session_open(const struct cli_ctx *ctx, const char *state_dir, bool need_api, bool dry_run,
    bool readonly, struct cmd_session *s)
{
	struct journal_record *recs = NULL;
	bool may_recover = false;
	size_t n = 0;
	int ret;

	memset(s, 0, sizeof(*s));
	s->state_dir = strdup(state_dir);
	if (!dry_run) {
		ret = session_journal(state_dir, readonly, s, &recs, &n, &may_recover);
		if (ret != EXIT_OK)
			return ret;
	}
	if (n > 0 && !may_recover) {
		log_notice("the journal holds %zu open record%s, but another dosnap is running; "
		    "leaving them to it", n, n == 1 ? "" : "s");
		free(recs);
		recs = NULL;
		n = 0;
	}
	if (!need_api && n == 0) {
		free(recs);
		return EXIT_OK;
	}
	ret = cmd_api_open(ctx, dry_run, &s->client);
	if (ret == EXIT_CONFIG && dry_run) {
		/* A dry run without a token: the caller says what it cannot show. */
		free(recs);
		return EXIT_OK;
	}
	if (ret == EXIT_OK && n > 0)
		ret = session_recover(ctx, state_dir, dry_run, recs, n, s);
	free(recs);
	if (ret == EXIT_OK && s->journal != NULL)
		journal_share(s->journal);
	return ret;
}

int
cmd_session_open(const struct cli_ctx *ctx, const char *state_dir, bool need_api,
    bool dry_run, struct cmd_session *s)
{
	return session_open(ctx, state_dir, need_api, dry_run, false, s);
}

int
cmd_recover_readonly(const struct cli_ctx *ctx, const char *state_dir)
{
	struct cmd_session s;
	int ret;

	ret = session_open(ctx, state_dir, false, false, true, &s);
	if (ret == EXIT_OK)
		ret = s.recover_code;
	cmd_session_close(&s);
	return ret;
}

void
cmd_session_close(struct cmd_session *s)
{
	api_client_free(s->client);
	journal_close(s->journal);
	free(s->waiting);
	free(s->state_dir);
	memset(s, 0, sizeof(*s));
}
