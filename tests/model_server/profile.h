/* What the server knows of the model it plays: read from the same profile
 * files the client ships (policies/model/profiles/NAME.json), so both sides
 * agree on the image grid and the coordinate space by construction of the
 * files, not of the code. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "engine/error.h"

enum ms_coords { MS_COORDS_PIXELS, MS_COORDS_NORM1000 };

struct ms_profile {
	char name[64];   /* the file's name without .json */
	char model[128]; /* the model name requests carry */
	int32_t factor;
	int64_t min_pixels, max_pixels;
	enum ms_coords coords;
	bool text_actions;     /* UI-TARS: actions as text, no tools */
	bool thinking;         /* replies carry reasoning_details (MiniMax with thinking on) */
	bool drops_screenshots; /* the client may replace old images by "[screenshot of step N dropped]" */
	bool any_model;        /* generic-openai: the model name comes from the client's configuration */
};

/* Reads DIR/NAME.json.  Only the fields the server needs are read; the
 * others are left to the client's parser.  Errors say which file and field. */
int ms_profile_load(const char *dir, const char *name, struct ms_profile *p, struct dp_error *err);

/* The profile in dir whose "model" is model; -ENOENT when none is. */
int ms_profile_for_model(const char *dir, const char *model, struct ms_profile *p, struct dp_error *err);
