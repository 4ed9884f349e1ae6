/* RPA flows: a JSON program of steps that find their targets on screen
 * (by OCR text, an image template or coordinates) and act on them.  The
 * format is documented in docs/flows.md.  This module parses and checks a
 * flow; flow_policy.c runs it as a policy of the step loop. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/frame.h"
#include "engine/error.h"

enum flow_locator_kind { FLOW_LOC_NONE, FLOW_LOC_TEXT, FLOW_LOC_IMAGE, FLOW_LOC_POINT };
enum flow_text_match { FLOW_MATCH_EXACT, FLOW_MATCH_ICASE, FLOW_MATCH_REGEX };

struct flow_locator {
	enum flow_locator_kind kind;
	char *text;                 /* FLOW_LOC_TEXT; may hold ${...} */
	enum flow_text_match match;
	uint32_t nth;               /* 0: exactly one; k: the k-th in reading order */
	bool has_region;
	struct dp_rect region;
	char *image;                /* FLOW_LOC_IMAGE: a PNG path, relative to the flow file */
	double threshold;
	int32_t x, y;               /* FLOW_LOC_POINT */
	char *window;               /* FLOW_LOC_POINT: relative to the window whose title matches */
	int32_t dx, dy;             /* offset from the found target's centre */
};

enum flow_step_kind {
	FLOW_CLICK, FLOW_DOUBLE_CLICK, FLOW_RIGHT_CLICK, FLOW_TYPE, FLOW_KEY, FLOW_WAIT_FOR, FLOW_EXPECT,
	FLOW_WINDOW, FLOW_LAUNCH, FLOW_FOR_EACH, FLOW_IF_PRESENT, FLOW_RETRY, FLOW_SET, FLOW_FAIL, FLOW_NOTE,
	FLOW_IF,
};

struct flow_step;

struct flow_block {
	struct flow_step *steps;
	size_t n;
};

struct flow_step {
	enum flow_step_kind kind;
	char path[128];             /* "steps[4].for_each.do[2]": where it is, for messages */
	struct flow_locator loc;    /* click, type into, wait_for, expect, if_present, set */
	char *text;                 /* type, key, fail, note; set: the variable name; expect: title regex */
	char *window_json;          /* window: the action's JSON, substituted when run */
	char *equals[2];            /* if: the two texts compared (after substitution) */
	char **argv;                /* launch */
	bool vanish;                /* wait_for: until the target is gone */
	enum { FLOW_SCREEN_NONE, FLOW_SCREEN_CHANGES, FLOW_SCREEN_SETTLES } screen; /* wait_for the screen itself */
	bool replace;               /* type: select all (ctrl+a) first, so the text replaces the field's */
	int32_t timeout_ms;         /* wait_for */
	int32_t times, backoff_ms;  /* retry */
	bool skip_errors;           /* for_each: on_error "skip" */
	struct flow_block body;     /* for_each.do, if_present.then, if.then, retry.do */
	struct flow_block other;    /* if_present.else, if.else, for_each.recover */
};

struct flow_var {
	char *name, *value;
};

struct flow {
	char *name;
	char *dir;                  /* the flow file's folder: relative paths start here */
	char *data;                 /* the CSV path for for_each (flow's "data", or --data) */
	struct flow_var *vars;
	size_t n_vars;
	struct flow_block steps;
	bool uses_text;             /* any OCR locator: the flow needs Tesseract */
};

/* Reads and checks a flow file.  Errors point at the input: "line L,
 * column C: JSON syntax error", or the JSON path and the reason
 * ("steps[4].for_each.do[2].click: expected a locator object"). */
int flow_load(const char *path, struct flow *flow, struct dp_error *err);
/* The same from text in memory (dir: where relative paths start). */
int flow_parse(const char *text, size_t len, const char *dir, struct flow *flow, struct dp_error *err);
void flow_free(struct flow *flow);
