/* The daemon's queue: priority first, first come first served within a
 * priority, one running task per display. */
#include <stdbool.h>

#include "daemon/queue.h"
#include "tst.h"

struct busy {
	const char *displays[4];
};

static bool is_busy(void *data, const char *display)
{
	struct busy *b = data;

	for (int i = 0; i < 4 && b->displays[i]; i++)
		if (strcmp(b->displays[i], display) == 0)
			return true;
	return false;
}

static void test_priority_then_fifo(void)
{
	struct dp_queue *q;
	int items[6];
	int order[6];

	TST_REQUIRE(dp_queue_create(&q) == 0);
	/* seq 1..6 with priorities 0, 5, 0, -3, 5, 0 */
	const int prio[6] = { 0, 5, 0, -3, 5, 0 };
	for (int i = 0; i < 6; i++)
		TST_EQ_INT(dp_queue_push(q, &items[i], prio[i], (uint64_t)i + 1, ":1"), 0);
	TST_EQ_INT(dp_queue_length(q), 6);
	for (int i = 0; i < 6; i++) {
		int *it = dp_queue_pop_ready(q, NULL, NULL);

		TST_REQUIRE(it);
		order[i] = (int)(it - items);
	}
	/* 5s in submission order, then the 0s, then -3. */
	TST_EQ_INT(order[0], 1);
	TST_EQ_INT(order[1], 4);
	TST_EQ_INT(order[2], 0);
	TST_EQ_INT(order[3], 2);
	TST_EQ_INT(order[4], 5);
	TST_EQ_INT(order[5], 3);
	TST_CHECK(dp_queue_pop_ready(q, NULL, NULL) == NULL);
	TST_EQ_INT(dp_queue_length(q), 0);
	dp_queue_destroy(q);
}

static void test_busy_display_waits(void)
{
	struct dp_queue *q;
	struct busy b = { { ":1" } };
	int a, c, d;

	TST_REQUIRE(dp_queue_create(&q) == 0);
	dp_queue_push(q, &a, 10, 1, ":1");
	dp_queue_push(q, &c, 0, 2, ":2");
	dp_queue_push(q, &d, 0, 3, ":1");
	/* :1 runs something: its tasks wait, :2's goes ahead despite its lower priority. */
	TST_CHECK(dp_queue_pop_ready(q, is_busy, &b) == &c);
	TST_CHECK(dp_queue_pop_ready(q, is_busy, &b) == NULL);
	TST_EQ_INT(dp_queue_length(q), 2);
	b.displays[0] = ":2";
	TST_CHECK(dp_queue_pop_ready(q, is_busy, &b) == &a);
	TST_CHECK(dp_queue_pop_ready(q, is_busy, &b) == &d);
	dp_queue_destroy(q);
}

static void test_remove(void)
{
	struct dp_queue *q;
	int v[3];

	TST_REQUIRE(dp_queue_create(&q) == 0);
	for (int i = 0; i < 3; i++)
		dp_queue_push(q, &v[i], 0, (uint64_t)i + 1, ":1");
	TST_CHECK(dp_queue_remove(q, &v[1]));
	TST_CHECK(!dp_queue_remove(q, &v[1]));
	TST_EQ_INT(dp_queue_length(q), 2);
	TST_CHECK(dp_queue_pop_ready(q, NULL, NULL) == &v[0]);
	TST_CHECK(dp_queue_pop_ready(q, NULL, NULL) == &v[2]);
	dp_queue_destroy(q);
}

static void test_many(void)
{
	struct dp_queue *q;
	static int v[2000];
	uint64_t last_seq = 0;
	int last_prio = 1000;

	TST_REQUIRE(dp_queue_create(&q) == 0);
	for (int i = 0; i < 2000; i++)
		TST_EQ_INT(dp_queue_push(q, &v[i], (i * 7919) % 201 - 100, (uint64_t)i + 1, ":1"), 0);
	for (int i = 0; i < 2000; i++) {
		int *it = dp_queue_pop_ready(q, NULL, NULL);
		int idx = (int)(it - v), prio = (idx * 7919) % 201 - 100;

		TST_REQUIRE(it);
		TST_CHECK(prio <= last_prio);
		if (prio == last_prio)
			TST_CHECK((uint64_t)idx + 1 > last_seq);
		last_prio = prio;
		last_seq = (uint64_t)idx + 1;
	}
	dp_queue_destroy(q);
}

int main(void)
{
	TST_RUN(test_priority_then_fifo);
	TST_RUN(test_busy_display_waits);
	TST_RUN(test_remove);
	TST_RUN(test_many);
	TST_EXIT();
}
