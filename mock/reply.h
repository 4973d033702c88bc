/* reply: a reply being put together: status, JSON body, the service's error shape. */
#ifndef DOSNAP_MOCK_REPLY_H
#define DOSNAP_MOCK_REPLY_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

struct reply {
	int status;
	char *body;			/* malloc'd; NULL for no body */
	size_t len;
	char allow[48];			/* for 405: "GET, POST"; "" for no header */
	unsigned retry_after;		/* seconds; 0: no header */
	bool v2;			/* carries x-request-id and ratelimit headers */
};

/*
 * Each of these sets RP's status and body and returns 0, or returns -ENOMEM.
 * OBJ and ITEM are taken over (freed) in every case.
 */
int	reply_json(struct reply *rp, int status, cJSON *obj);
/* reply_json when OK is true; otherwise OBJ is freed and the answer is -ENOMEM. */
int	reply_json_if(struct reply *rp, int status, cJSON *obj, bool ok);
int	reply_wrapped(struct reply *rp, int status, const char *key, cJSON *item);	/* {"KEY": ITEM} */

/*
 * The service's error body {"id", "message", "request_id"}; the request id
 * is a placeholder until reply_fill_request_id.
 */
int	reply_error(struct reply *rp, int status, const char *id, const char *message);
int	reply_not_found(struct reply *rp);
int	reply_method_not_allowed(struct reply *rp, const char *allow);	/* ALLOW is copied */

/* Put the request id RID where reply_error left its placeholder. */
void	reply_fill_request_id(struct reply *rp, const char *rid);

/* A new {"KEY": []} with the array in *ret_arr, or NULL when out of memory. */
cJSON	*json_list_start(const char *key, cJSON **ret_arr);

/* Append ITEM to ARR; false (ITEM freed) when ITEM is NULL or it cannot. */
bool	json_push(cJSON *arr, cJSON *item);

#endif
