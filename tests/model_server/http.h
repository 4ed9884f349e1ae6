/* The HTTP side (libmicrohttpd, one thread per connection, 127.0.0.1 only):
 *   POST /v1/chat/completions   (also /chat/completions)
 *   POST /control               faults, see faults.h
 *   GET  /stats                 what the server saw, see stats.h */
#pragma once

#include <stdint.h>

#include "engine/error.h"
#include "tests/model_server/server.h"

struct ms_http;

/* Listens on 127.0.0.1:port (0: any free port); *bound gets the port. */
int ms_http_start(struct ms_http **out, struct ms_server *s, uint16_t port, uint16_t *bound, struct dp_error *err);
void ms_http_stop(struct ms_http *h);
