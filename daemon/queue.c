#include "daemon/queue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	void *item;
	int32_t priority;
	uint64_t seq;
	char *display;
};

/* Kept sorted, first to run first: a queue holds at most some thousands,
 * so an ordered array beats anything cleverer. */
struct dp_queue {
	struct entry *v;
	size_t n, cap;
};

int dp_queue_create(struct dp_queue **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void dp_queue_destroy(struct dp_queue *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->n; i++)
		free(q->v[i].display);
	free(q->v);
	free(q);
}

static bool before(const struct entry *a, const struct entry *b)
{
	return a->priority != b->priority ? a->priority > b->priority : a->seq < b->seq;
}

int dp_queue_push(struct dp_queue *q, void *item, int32_t priority, uint64_t seq, const char *display)
{
	struct entry e = { .item = item, .priority = priority, .seq = seq, .display = strdup(display ? display : "") };
	size_t at;

	if (!e.display)
		return -ENOMEM;
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 16;
		struct entry *v = realloc(q->v, cap * sizeof(*v));

		if (!v) {
			free(e.display);
			return -ENOMEM;
		}
		q->v = v;
		q->cap = cap;
	}
	for (at = q->n; at > 0 && before(&e, &q->v[at - 1]); at--)
		;
	memmove(&q->v[at + 1], &q->v[at], (q->n - at) * sizeof(*q->v));
	q->v[at] = e;
	q->n++;
	return 0;
}

static void take(struct dp_queue *q, size_t i)
{
	free(q->v[i].display);
	memmove(&q->v[i], &q->v[i + 1], (q->n - i - 1) * sizeof(*q->v));
	q->n--;
}

void *dp_queue_pop_ready(struct dp_queue *q, dp_queue_busy_fn busy, void *data)
{
	for (size_t i = 0; i < q->n; i++) {
		void *item = q->v[i].item;

		if (busy && busy(data, q->v[i].display))
			continue;
		take(q, i);
		return item;
	}
	return NULL;
}

bool dp_queue_remove(struct dp_queue *q, const void *item)
{
	for (size_t i = 0; i < q->n; i++) {
		if (q->v[i].item == item) {
			take(q, i);
			return true;
		}
	}
	return false;
}

size_t dp_queue_length(const struct dp_queue *q)
{
	return q->n;
}
