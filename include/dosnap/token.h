/* token: find the DigitalOcean API token in the places dosnap looks, in order, and keep it secret. */
#ifndef DOSNAP_TOKEN_H
#define DOSNAP_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

/* The largest token file dosnap reads; a token is about 71 bytes. */
#define TOKEN_FILE_MAX		4096

/* The name of the credential under $CREDENTIALS_DIRECTORY (systemd's LoadCredential=). */
#define TOKEN_CREDENTIAL_NAME	"digitalocean-token"

enum token_source {
	TOKEN_SOURCE_FILE,		/* --token-file FILE */
	TOKEN_SOURCE_CREDENTIAL,	/* $CREDENTIALS_DIRECTORY/digitalocean-token */
	TOKEN_SOURCE_ENV_DIGITALOCEAN,	/* $DIGITALOCEAN_ACCESS_TOKEN */
	TOKEN_SOURCE_ENV_DO,		/* $DO_TOKEN */
};

/* Flags in struct token.flags: conditions the caller should warn about. */
#define TOKEN_FLAG_LOOSE_MODE	0x1u	/* the file is readable by group or others */

struct token {
	char *value;			/* owned; trimmed; wiped by token_release */
	enum token_source source;
	char origin[512];		/* the file's path or the variable's name */
	unsigned mode;			/* permission bits of the file, for messages */
	unsigned flags;			/* TOKEN_FLAG_* */
};

/*
 * Find the token.  Sources, first found wins: TOKEN_FILE when not NULL (it
 * must then work: no fallback); $CREDENTIALS_DIRECTORY/digitalocean-token
 * when the variable is set and the file exists; $DIGITALOCEAN_ACCESS_TOKEN;
 * $DO_TOKEN.  Empty variables count as unset.  Surrounding white space is
 * trimmed; a token with white space or control characters inside it is
 * refused, since it could not be sent in a header.
 *
 * On success fill *ret (release it with token_release) and return 0.
 * Errors: -ENOKEY when no source has a token (REASON then says where dosnap
 * looked); -ENOENT, -EACCES and other open/read errors for a file that
 * cannot be read; -EFBIG for a file over TOKEN_FILE_MAX; -EINVAL for a token
 * with inner white space or control characters, or an empty file; -ENOMEM.
 * When REASON is not NULL it receives a one-line description on failure
 * (never the token itself), cut to REASON_SIZE.
 */
int	token_load(const char *token_file, struct token *ret, char *reason,
	    size_t reason_size);

/*
 * Whether S looks like a DigitalOcean token: "dop_v1_", "doo_v1_" or
 * "dor_v1_" first, or 40 or more hex digits alone.  Such a string given
 * where a file name or a target belongs is refused without being echoed.
 */
bool	token_looks_like(const char *s);

/* A short name for a source, for messages: "--token-file", "$DO_TOKEN", ... */
const char *token_source_name(enum token_source source);

/* Wipe and free the token's value; the struct may be reused.  NULL is fine. */
void	token_release(struct token *t);

#endif
