#include "daemon/mailbox.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define DP_LOG_SUBSYS "mailbox"
#include "engine/log.h"

struct dp_mailbox {
	pthread_mutex_t lock;
	struct dp_event *head, *tail;
	int fd;
	sd_event_source *source;
	dp_mailbox_fn fn;
	void *data;
};

void dp_event_free(struct dp_event *e)
{
	if (!e)
		return;
	free(e->action);
	free(e->verdict);
	free(e->text);
	free(e);
}

static int on_ready(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct dp_mailbox *mb = userdata;
	struct dp_event *list;
	uint64_t count;

	(void)s;
	(void)revents;
	if (read(fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		dp_log_warn("reading the eventfd: %s", strerror(errno));
	pthread_mutex_lock(&mb->lock);
	list = mb->head;
	mb->head = mb->tail = NULL;
	pthread_mutex_unlock(&mb->lock);
	while (list) {
		struct dp_event *next = list->next;

		mb->fn(mb->data, list);
		dp_event_free(list);
		list = next;
	}
	return 0;
}

int dp_mailbox_create(struct dp_mailbox **out, sd_event *loop, dp_mailbox_fn fn, void *data)
{
	struct dp_mailbox *mb = calloc(1, sizeof(*mb));
	int r;

	if (!mb)
		return -ENOMEM;
	pthread_mutex_init(&mb->lock, NULL);
	mb->fn = fn;
	mb->data = data;
	mb->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (mb->fd < 0) {
		r = -errno;
		free(mb);
		return r;
	}
	r = sd_event_add_io(loop, &mb->source, mb->fd, EPOLLIN, on_ready, mb);
	if (r < 0) {
		close(mb->fd);
		free(mb);
		return r;
	}
	*out = mb;
	return 0;
}

void dp_mailbox_destroy(struct dp_mailbox *mb)
{
	if (!mb)
		return;
	sd_event_source_disable_unref(mb->source);
	close(mb->fd);
	while (mb->head) {
		struct dp_event *next = mb->head->next;

		dp_event_free(mb->head);
		mb->head = next;
	}
	pthread_mutex_destroy(&mb->lock);
	free(mb);
}

void dp_mailbox_post(struct dp_mailbox *mb, struct dp_event *e)
{
	uint64_t one = 1;

	e->next = NULL;
	pthread_mutex_lock(&mb->lock);
	if (mb->tail)
		mb->tail->next = e;
	else
		mb->head = e;
	mb->tail = e;
	pthread_mutex_unlock(&mb->lock);
	if (write(mb->fd, &one, sizeof(one)) < 0)
		dp_log_warn("waking the main loop: %s", strerror(errno));
}
