/* Runner threads tell the main loop what happened through a mailbox: a
 * locked list and an eventfd that sd_event watches.  Posting never blocks
 * on the main loop, and the main loop never blocks on a runner. */
#pragma once

#include <stdint.h>

#include <systemd/sd-event.h>

#include "engine/loop.h"

enum dp_event_kind {
	DP_EVENT_STEP,     /* a step was recorded */
	DP_EVENT_ASK,      /* the task waits for an answer */
	DP_EVENT_FINISHED, /* the runner is done; join it */
};

struct dp_task;

struct dp_event {
	enum dp_event_kind kind;
	struct dp_task *task;
	uint32_t step;
	char *action;           /* step: one-line summary */
	char *verdict;
	char *text;             /* step: message; ask: the question; finished: result or error */
	uint32_t duration_ms;
	uint64_t tokens;
	enum dp_task_outcome outcome;
	struct dp_event *next;
};

struct dp_mailbox;

typedef void (*dp_mailbox_fn)(void *data, struct dp_event *event);

int dp_mailbox_create(struct dp_mailbox **out, sd_event *loop, dp_mailbox_fn fn, void *data);
void dp_mailbox_destroy(struct dp_mailbox *mb);
/* Thread-safe; takes the event (malloc'ed, strings too).  The handler gets
 * events in the order they were posted, on the main loop. */
void dp_mailbox_post(struct dp_mailbox *mb, struct dp_event *event);
void dp_event_free(struct dp_event *event);
