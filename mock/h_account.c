/* h_account: GET /v2/account. */
#include "handlers.h"
#include "render.h"
#include "reply.h"
#include "server.h"

int
h_account_get(struct req *q, struct reply *rp)
{
	return reply_wrapped(rp, 200, "account", render_account(&q->m->st->account));
}
