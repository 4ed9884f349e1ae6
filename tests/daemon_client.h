/* A test's own sd-bus client of deskpilotd: connect to a private bus,
 * submit, read task properties, list tasks. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

/* A new connection to the bus at address (NULL on failure, after a message). */
sd_bus *dp_tc_connect(const char *address);
/* Submit with the a{sv} built by fill (which appends its entries to m);
 * path gets the task's object path.  Returns 0 or a negative errno, with
 * the D-Bus error name and message in err (may be NULL). */
int dp_tc_submit(sd_bus *bus, int (*fill)(sd_bus_message *m, void *data), void *data, char *path, size_t size,
		 char *err, size_t err_size);
int dp_tc_get_string(sd_bus *bus, const char *path, const char *property, char *out, size_t size);
int dp_tc_get_u32(sd_bus *bus, const char *path, const char *property, uint32_t *out);
/* ListTasks: *paths (free each and the array), *n. */
int dp_tc_list(sd_bus *bus, char ***paths, size_t *n);
void dp_tc_free_list(char **paths, size_t n);
/* Polls State until it is one of the final states or timeout_ms passes;
 * fills state.  Returns 0 or -ETIMEDOUT. */
int dp_tc_wait_final(sd_bus *bus, const char *path, char *state, size_t size, int timeout_ms);
