/* Model profiles: what one model family expects (its image grid, its
 * coordinate space, how it answers, how thinking is switched), read from
 * small JSON files in policies/model/profiles/ (installed to
 * $datadir/deskpilot/profiles). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "engine/coords.h"
#include "engine/error.h"

enum dp_model_actions {
	DP_MODEL_ACTIONS_TOOLS,        /* OpenAI function tools, one per action type */
	DP_MODEL_ACTIONS_UI_TARS_TEXT, /* "Thought: ...\nAction: click(start_box='(x,y)')" */
};

enum dp_model_thinking {
	DP_MODEL_THINKING_NONE,     /* the model has no switch: nothing is sent */
	DP_MODEL_THINKING_ADAPTIVE, /* the model thinks when it sees fit */
	DP_MODEL_THINKING_DISABLED,
};

enum dp_model_thinking_style {
	DP_MODEL_THINKING_STYLE_MINIMAX, /* "thinking": {"type": ...}, "reasoning_split": true */
	DP_MODEL_THINKING_STYLE_VLLM,    /* "chat_template_kwargs": {"thinking_mode": ...} */
};

enum dp_model_image_format {
	DP_MODEL_IMAGE_JPEG,
	DP_MODEL_IMAGE_PNG,
};

struct dp_model_profile {
	char name[64];           /* the file's name without .json */
	char model[128];         /* the "model" of each request */
	int32_t factor;          /* image sides are multiples of this (patch * merge) */
	int64_t min_pixels, max_pixels;
	enum dp_coord_space coords;
	enum dp_model_actions actions;
	enum dp_model_thinking thinking;
	enum dp_model_thinking_style thinking_style;
	uint32_t keep_screenshots; /* newest screenshots always kept; 0: all */
	uint32_t drop_chunk;       /* older ones are dropped this many at a time */
	uint64_t context_tokens;
	uint32_t max_completion_tokens;
	enum dp_model_image_format image_format;
	int image_quality;         /* JPEG 1..100 */
	char endpoint[512];        /* default base URL, such as https://api.minimax.io/v1 */
	char api_key_env[64];      /* environment variable with the key; "" if none */
};

/* Reads a profile from JSON text.  name becomes the profile's name.  Every
 * error names the line and what to fix: "line 4: factor: expected an
 * integer from 1 to 1024", "line 9: colour: unknown field (...)". */
int dp_model_profile_parse(const char *text, size_t len, const char *name, struct dp_model_profile *p,
			   struct dp_error *err);

/* Loads a profile by name ("minimax-m3") from $DESKPILOT_PROFILE_DIR,
 * $XDG_CONFIG_HOME/deskpilot/profiles and the installed profiles, in that
 * order; a name with a '/' or ending in .json is a file path. */
int dp_model_profile_load(const char *name_or_path, struct dp_model_profile *p, struct dp_error *err);

const char *dp_model_coords_name(enum dp_coord_space space);
