/* reply: a reply being put together: status, JSON body, the service's error shape. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reply.h"

int
reply_json(struct reply *rp, int status, cJSON *obj)
{
	char *s;

	if (obj == NULL)
		return -ENOMEM;
	s = cJSON_PrintUnformatted(obj);
	cJSON_Delete(obj);
	if (s == NULL)
		return -ENOMEM;
	free(rp->body);
	rp->status = status;
	rp->body = s;
	rp->len = strlen(s);
	return 0;
}

int
reply_json_if(struct reply *rp, int status, cJSON *obj, bool ok)
{
	if (!ok) {
		cJSON_Delete(obj);
		return -ENOMEM;
	}
	return reply_json(rp, status, obj);
}

/* Wrap ITEM as {"KEY": ITEM}. */
int
reply_wrapped(struct reply *rp, int status, const char *key, cJSON *item)
{
	cJSON *o;

	if (item == NULL)
		return -ENOMEM;
	o = cJSON_CreateObject();
	if (o == NULL || !cJSON_AddItemToObject(o, key, item)) {
		cJSON_Delete(o);
		cJSON_Delete(item);
		return -ENOMEM;
	}
	return reply_json(rp, status, o);
}

/* The error body; the request id is filled in when the reply is sent. */
int
reply_error(struct reply *rp, int status, const char *id, const char *message)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL || cJSON_AddStringToObject(o, "id", id) == NULL ||
	    cJSON_AddStringToObject(o, "message", message) == NULL ||
	    cJSON_AddStringToObject(o, "request_id", "@RID@") == NULL) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	return reply_json(rp, status, o);
}

int
reply_not_found(struct reply *rp)
{
	return reply_error(rp, 404, "not_found", "The resource you requested could not be found.");
}

int
reply_method_not_allowed(struct reply *rp, const char *allow)
{
	snprintf(rp->allow, sizeof(rp->allow), "%s", allow);
	return reply_error(rp, 405, "method_not_allowed", "Method not allowed.");
}

/* Put "@RID@" placeholders (error bodies) to the request id. */
void
reply_fill_request_id(struct reply *rp, const char *rid)
{
	char *p;

	if (rp->body == NULL)
		return;
	p = strstr(rp->body, "@RID@");
	if (p == NULL)
		return;
	/* The placeholder is shorter than a request id: rebuild the string. */
	{
		size_t pre = (size_t)(p - rp->body), idl = strlen(rid);
		char *nb = malloc(rp->len - 5 + idl + 1);

		if (nb == NULL) {
			memset(p, '-', 5);
			return;
		}
		snprintf(nb, rp->len - 5 + idl + 1, "%.*s%s%s", (int)pre, rp->body, rid, p + 5);
		free(rp->body);
		rp->body = nb;
		rp->len = rp->len - 5 + idl;
	}
}

/* Start {"KEY": []} for a list; the caller appends. */
cJSON *
json_list_start(const char *key, cJSON **ret_arr)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	*ret_arr = cJSON_AddArrayToObject(o, key);
	if (*ret_arr == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

bool
json_push(cJSON *arr, cJSON *item)
{
	if (item == NULL || !cJSON_AddItemToArray(arr, item)) {
		cJSON_Delete(item);
		return false;
	}
	return true;
}
