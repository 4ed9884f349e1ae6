/* libFuzzer target: any bytes as a chat-completions request to the test
 * model server (without OCR), one conversation store over all inputs so
 * that the history checks see sequences too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/model_server/plan.h"
#include "tests/model_server/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ms_server *server(void)
{
	static struct ms_server s;
	static bool ready;

	if (!ready) {
		ready = true;
		pthread_mutex_init(&s.lock, NULL);
		snprintf(s.profile.name, sizeof(s.profile.name), "minimax-m3");
		snprintf(s.profile.model, sizeof(s.profile.model), "MiniMax-M3");
		s.profile.factor = 28;
		s.profile.min_pixels = 3136;
		s.profile.max_pixels = 451584;
		s.profile.thinking = true;
		s.fixed_profile = true;
		s.max_waits = 1;
		s.convos = ms_convos_create();
		s.stats = ms_stats_create();
	}
	return &s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ms_response r;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	ms_chat_handle(server(), text, size, size % 2 ? "Bearer k" : NULL, &r);
	free(r.body);
	/* The plan reader on its own too: tasks are free text. */
	{
		struct ms_plan *plan = malloc(sizeof(*plan));

		if (plan)
			ms_plan_parse(text, plan);
		free(plan);
	}
	free(text);
	return 0;
}
