/* What a real server would reject or silently mis-handle in a request:
 * each finding is a violation, recorded in /stats; those a real server
 * rejects make the answer a 400. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "tests/model_server/convo.h"
#include "tests/model_server/profile.h"

#define MS_MAX_FINDINGS 16

struct ms_findings {
	char reason[MS_MAX_FINDINGS][400];
	size_t n;
	bool reject; /* at least one a real server answers with 400 */
	char reject_reason[400];
	/* Sizes of the images, in order. */
	int32_t image_w[256], image_h[256];
	size_t n_images;
};

void ms_finding(struct ms_findings *f, bool reject, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The images: data URLs of JPEG or PNG, on the profile's grid, inside its
 * pixel range. */
void ms_check_images(const cJSON *messages, const struct ms_profile *p, struct ms_findings *f);

/* Every tool call answered by a tool message with its id before the next
 * assistant message; no tool message answering nothing. */
void ms_check_tool_results(const cJSON *messages, struct ms_findings *f);

/* The history against the previous request of its conversation (append
 * only, except screenshots replaced by the dropped note where the profile
 * drops them), and each assistant message against what was sent. */
void ms_check_history(const struct ms_convo *cv, const cJSON *messages, const struct ms_segments *seg,
		      const struct ms_profile *p, struct ms_findings *f);
