/* token: find the DigitalOcean API token in the places dosnap looks, in order, and keep it secret. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dosnap/token.h"
#include "dosnap/util.h"

static void
set_reason(char *reason, size_t reason_size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
set_reason(char *reason, size_t reason_size, const char *fmt, ...)
{
	va_list ap;

	if (reason == NULL || reason_size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, reason_size, fmt, ap);
	va_end(ap);
}

static bool
is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
	    ch == '\v' || ch == '\f';
}

/*
 * Trim S (of length N) in place and check what is left: a token goes into
 * an HTTP header, so anything outside printable ASCII, or a space inside
 * it, would either break the header or mean the file holds something else.
 * Returns the trimmed length, or -EINVAL.
 */
static int
trim_and_check(char *s, size_t n)
{
	size_t start = 0, end = n, i;

	while (start < end && is_space(s[start]))
		start++;
	while (end > start && is_space(s[end - 1]))
		end--;
	for (i = start; i < end; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch <= 0x20 || ch >= 0x7f)
			return -EINVAL;
	}
	if (start > 0)
		memmove(s, s + start, end - start);
	wipe_secret(s + (end - start), n - (end - start));
	s[end - start] = '\0';
	return (int)(end - start);
}

/*
 * Read the token file at PATH into *ret_value (owned by the caller, to be
 * wiped) and its mode into *ret_mode.  A link is followed (Kubernetes
 * mounts secrets as links), a FIFO or device refused without blocking.
 * Returns 0 or a negative errno: -EINVAL for a file that is not a regular
 * file, -EBADMSG for white space or control characters inside the token.
 */
static int
read_token_file(const char *path, char **ret_value, unsigned *ret_mode)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int r;

	r = read_file_opt(path, TOKEN_FILE_MAX, READ_FILE_FOLLOW, &buf, &len);
	if (r < 0)
		return r;
	r = trim_and_check(buf, len);
	if (r < 0) {
		wipe_secret(buf, len);
		free(buf);
		return -EBADMSG;
	}
	/* The mode is only for a warning: a stat after the read will do. */
	*ret_mode = stat(path, &st) == 0 ? (unsigned)(st.st_mode & 07777) : 0600;
	*ret_value = buf;
	return 0;
}

bool
token_looks_like(const char *s)
{
	size_t i, n = strlen(s), hex = 0;

	if (n >= 7 && (strncmp(s, "dop_v1_", 7) == 0 || strncmp(s, "doo_v1_", 7) == 0 ||
	    strncmp(s, "dor_v1_", 7) == 0))
		return true;
	for (i = 0; i < n; i++)
		if (isxdigit((unsigned char)s[i]))
			hex++;
	return n >= 40 && hex == n;
}

/*
 * Fill *ret from the file at PATH.  MISSING_OK makes a file that does not
 * exist return 1 (try the next source) instead of -ENOENT.
 */
static int
load_file(const char *path, enum token_source source, bool missing_ok,
    struct token *ret, char *reason, size_t reason_size)
{
	char *value = NULL;
	unsigned mode = 0;
	int r;

	r = read_token_file(path, &value, &mode);
	if (r == -ENOENT && missing_ok)
		return 1;
	if (r < 0 && source == TOKEN_SOURCE_FILE && token_looks_like(path)) {
		set_reason(reason, reason_size,
		    "--token-file was given what looks like a token, not a file name (not "
		    "repeated here); put the token in a file (mode 0600) and pass its path");
		return -EINVAL;
	}
	if (r == -EBADMSG) {
		set_reason(reason, reason_size,
		    "token file '%s' holds white space or control characters inside the token",
		    path);
		return -EINVAL;
	}
	if (r == -EINVAL || r == -EISDIR) {
		set_reason(reason, reason_size,
		    "token file '%s' is not a regular file (a %s); it should be a file holding "
		    "only the token", path, r == -EISDIR ? "directory" : "FIFO, socket or device");
		return -EINVAL;
	}
	if (r == -EFBIG) {
		set_reason(reason, reason_size,
		    "token file '%s' is larger than %d bytes; it should hold only the token",
		    path, TOKEN_FILE_MAX);
		return r;
	}
	if (r < 0) {
		set_reason(reason, reason_size, "cannot read token file '%s': %s",
		    path, strerror(-r));
		return r;
	}
	if (value == NULL || value[0] == '\0') {
		free(value);
		set_reason(reason, reason_size, "token file '%s' is empty", path);
		return -EINVAL;
	}
	ret->value = value;
	ret->source = source;
	snprintf(ret->origin, sizeof(ret->origin), "%s", path);
	ret->mode = mode;
	ret->flags = (mode & (S_IRGRP | S_IROTH)) != 0 ? TOKEN_FLAG_LOOSE_MODE : 0;
	return 0;
}

/* Fill *ret from environment variable NAME; 1 when it is unset or empty. */
static int
load_env(const char *name, enum token_source source, struct token *ret,
    char *reason, size_t reason_size)
{
	const char *env;
	char *value;
	size_t len;
	int r;

	env = getenv(name);
	if (env == NULL || env[0] == '\0')
		return 1;
	len = strnlen(env, TOKEN_FILE_MAX + 1);
	if (len > TOKEN_FILE_MAX) {
		set_reason(reason, reason_size, "$%s is longer than %d bytes",
		    name, TOKEN_FILE_MAX);
		return -EFBIG;
	}
	value = malloc(len + 1);
	if (value == NULL)
		return -ENOMEM;
	memcpy(value, env, len);
	value[len] = '\0';
	r = trim_and_check(value, len);
	if (r < 0) {
		wipe_secret(value, len);
		free(value);
		set_reason(reason, reason_size,
		    "$%s holds white space or control characters inside the token", name);
		return r;
	}
	if (r == 0) {
		free(value);
		return 1;
	}
	ret->value = value;
	ret->source = source;
	snprintf(ret->origin, sizeof(ret->origin), "%s", name);
	ret->mode = 0;
	ret->flags = 0;
	return 0;
}

int
token_load(const char *token_file, struct token *ret, char *reason,
    size_t reason_size)
{
	struct token t = { 0 };
	const char *credentials_dir;
	char cred_note[64] = "";
	int r;

	if (ret == NULL)
		return -EINVAL;
	if (token_file != NULL) {
		r = load_file(token_file, TOKEN_SOURCE_FILE, false, &t, reason,
		    reason_size);
		if (r < 0)
			return r;
		*ret = t;
		return 0;
	}

	credentials_dir = getenv("CREDENTIALS_DIRECTORY");
	if (credentials_dir != NULL && credentials_dir[0] != '\0') {
		char path[512];
		int n;

		n = snprintf(path, sizeof(path), "%s/%s", credentials_dir,
		    TOKEN_CREDENTIAL_NAME);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			set_reason(reason, reason_size,
			    "$CREDENTIALS_DIRECTORY is too long (%zu bytes)",
			    strlen(credentials_dir));
			return -ENAMETOOLONG;
		}
		r = load_file(path, TOKEN_SOURCE_CREDENTIAL, true, &t, reason,
		    reason_size);
		if (r < 0)
			return r;
		if (r == 0) {
			*ret = t;
			return 0;
		}
		snprintf(cred_note, sizeof(cred_note), " (no %s there)",
		    TOKEN_CREDENTIAL_NAME);
	} else {
		snprintf(cred_note, sizeof(cred_note), " (not set)");
	}

	r = load_env("DIGITALOCEAN_ACCESS_TOKEN", TOKEN_SOURCE_ENV_DIGITALOCEAN, &t,
	    reason, reason_size);
	if (r <= 0)
		goto done;
	r = load_env("DO_TOKEN", TOKEN_SOURCE_ENV_DO, &t, reason, reason_size);
	if (r <= 0)
		goto done;

	set_reason(reason, reason_size,
	    "looked for --token-file, "
	    "$CREDENTIALS_DIRECTORY/%s%s, $DIGITALOCEAN_ACCESS_TOKEN and $DO_TOKEN",
	    TOKEN_CREDENTIAL_NAME, cred_note);
	return -ENOKEY;

done:
	if (r < 0)
		return r;
	*ret = t;
	return 0;
}

const char *
token_source_name(enum token_source source)
{
	switch (source) {
	case TOKEN_SOURCE_FILE:
		return "--token-file";
	case TOKEN_SOURCE_CREDENTIAL:
		return "$CREDENTIALS_DIRECTORY/" TOKEN_CREDENTIAL_NAME;
	case TOKEN_SOURCE_ENV_DIGITALOCEAN:
		return "$DIGITALOCEAN_ACCESS_TOKEN";
	case TOKEN_SOURCE_ENV_DO:
		return "$DO_TOKEN";
	}
	return "unknown";
}

void
token_release(struct token *t)
{
	if (t == NULL)
		return;
	if (t->value != NULL) {
		wipe_secret(t->value, strlen(t->value));
		free(t->value);
	}
	t->value = NULL;
	t->flags = 0;
}
