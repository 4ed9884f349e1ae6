/* Misbehaviour on request, so that one server can play a model that fails
 * in the ways real ones do.  Set with --control JSON at start-up or with
 * POST /control (the same JSON); each key arms one fault for the next
 * `count` requests it applies to, after skipping `after` of them:
 *
 *   {"http_500": 2}                        (a number is the count)
 *   {"rate_limit": {"count": 1, "retry_after": 2}}
 *   {"stall": {"count": 1, "seconds": 30, "mode": "headers" | "silent"}}
 *   {"truncated": 1}  {"malformed": 1}  {"empty_choices": 1}
 *   {"refusal": 1}    {"bad_arguments": {"count": 1, "kind": "string" | "outside"}}
 *   {"endless": true} {"verifier_no": 1}  {"reset": true}
 *
 * http_500, rate_limit, stall, truncated, malformed and empty_choices apply
 * to every chat request; refusal, bad_arguments and endless to the task's
 * requests only; verifier_no to verifier requests only. */
#pragma once

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "engine/error.h"

enum ms_fault_kind {
	MS_FAULT_NONE = -1,
	MS_FAULT_500 = 0,
	MS_FAULT_RATE_LIMIT,
	MS_FAULT_STALL,
	MS_FAULT_TRUNCATED,
	MS_FAULT_MALFORMED,
	MS_FAULT_EMPTY_CHOICES,
	MS_FAULT_REFUSAL,
	MS_FAULT_BAD_ARGS,
	MS_FAULT_VERIFIER_NO,
	MS_FAULT_COUNT,
};

struct ms_faults {
	struct {
		int count, after;
	} armed[MS_FAULT_COUNT];
	int retry_after_s;    /* rate_limit */
	int stall_s;          /* stall */
	bool stall_headers;   /* stall after the headers (else before anything) */
	bool bad_args_string; /* bad_arguments: x as a string (else outside the image) */
	bool endless;
};

/* Applies a control document; unknown keys and bad values are errors that
 * name them (nothing is changed then). */
int ms_faults_control(struct ms_faults *f, const cJSON *doc, struct dp_error *err);

/* The fault for this request (MS_FAULT_NONE for none), counted as used. */
enum ms_fault_kind ms_faults_take(struct ms_faults *f, bool verifier);

const char *ms_fault_name(enum ms_fault_kind k);
