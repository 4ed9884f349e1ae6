/* The daemon's waiting tasks: highest priority first, first come first
 * served within a priority, and a task waits while its display is busy
 * (one running task per display).  Pure: no bus, no threads. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dp_queue;

/* Says whether a display already runs a task. */
typedef bool (*dp_queue_busy_fn)(void *data, const char *display);

int dp_queue_create(struct dp_queue **out);
void dp_queue_destroy(struct dp_queue *q);

/* Adds item; seq orders items of the same priority (lower first) and must
 * grow with every push.  display is copied. */
int dp_queue_push(struct dp_queue *q, void *item, int32_t priority, uint64_t seq, const char *display);
/* Takes out the first item whose display is not busy; NULL if none. */
void *dp_queue_pop_ready(struct dp_queue *q, dp_queue_busy_fn busy, void *data);
/* Takes item out wherever it is (a cancel); returns whether it was there. */
bool dp_queue_remove(struct dp_queue *q, const void *item);
size_t dp_queue_length(const struct dp_queue *q);
