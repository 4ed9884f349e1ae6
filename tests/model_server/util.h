/* Small helpers of the test model server: base64, canonical JSON, hashes,
 * the text of a message's content. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* Decodes standard base64 (padding optional, no white space).  *out is
 * malloc'ed.  Returns 0, -EINVAL for a character outside the alphabet or a
 * bad length, -ENOMEM. */
int ms_base64_decode(const char *in, size_t len, uint8_t **out, size_t *out_len);

/* JSON with the keys of every object sorted (bytewise), without white space:
 * two documents that differ only in key order or spacing print the same.
 * malloc'ed; NULL on allocation failure. */
char *ms_json_canonical(const cJSON *v);

/* FNV-1a, chainable: start with MS_HASH_INIT. */
#define MS_HASH_INIT UINT64_C(0xcbf29ce484222325)
uint64_t ms_hash(uint64_t h, const void *data, size_t len);
uint64_t ms_hash_str(uint64_t h, const char *s);

/* The text of a message's "content": the string itself, or its text parts
 * joined by newlines.  malloc'ed ("" when there is none). */
char *ms_content_text(const cJSON *message);

/* A whole file as a NUL-terminated string (malloc'ed), or NULL with errno set. */
char *ms_read_file(const char *path);

/* The string member name of obj, or NULL. */
const char *ms_json_str(const cJSON *obj, const char *name);
