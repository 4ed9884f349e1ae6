#include "daemon_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TASK_IFACE "org.deskpilot.Agent1.Task"

sd_bus *dp_tc_connect(const char *address)
{
	sd_bus *bus = NULL;
	int r = sd_bus_new(&bus);

	if (r >= 0)
		r = sd_bus_set_address(bus, address);
	if (r >= 0)
		r = sd_bus_set_bus_client(bus, 1);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r < 0) {
		fprintf(stderr, "cannot connect to %s: %s\n", address, strerror(-r));
		sd_bus_flush_close_unref(bus);
		return NULL;
	}
	return bus;
}

int dp_tc_submit(sd_bus *bus, int (*fill)(sd_bus_message *m, void *data), void *data, char *path, size_t size,
		 char *err, size_t err_size)
{
	sd_bus_message *m = NULL, *reply = NULL;
	sd_bus_error error = SD_BUS_ERROR_NULL;
	const char *p;
	int r = sd_bus_message_new_method_call(bus, &m, "org.deskpilot.Agent1", "/org/deskpilot/Agent1",
					       "org.deskpilot.Agent1.Manager", "Submit");

	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r >= 0)
		r = fill(m, data);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_call(bus, m, 60 * 1000000ULL, &error, &reply);
	if (r >= 0)
		r = sd_bus_message_read(reply, "o", &p);
	if (r >= 0)
		snprintf(path, size, "%s", p);
	if (err)
		snprintf(err, err_size, "%s: %s", error.name ? error.name : "", error.message ? error.message : "");
	sd_bus_error_free(&error);
	sd_bus_message_unref(m);
	sd_bus_message_unref(reply);
	return r < 0 ? r : 0;
}

int dp_tc_get_string(sd_bus *bus, const char *path, const char *property, char *out, size_t size)
{
	char *v = NULL;
	int r = sd_bus_get_property_string(bus, "org.deskpilot.Agent1", path, TASK_IFACE, property, NULL, &v);

	if (r >= 0)
		snprintf(out, size, "%s", v);
	free(v);
	return r;
}

int dp_tc_get_u32(sd_bus *bus, const char *path, const char *property, uint32_t *out)
{
	return sd_bus_get_property_trivial(bus, "org.deskpilot.Agent1", path, TASK_IFACE, property, NULL, 'u', out);
}

int dp_tc_list(sd_bus *bus, char ***paths, size_t *n)
{
	sd_bus_message *reply = NULL;
	char **v = NULL;
	size_t cap = 0;
	const char *p;
	int r = sd_bus_call_method(bus, "org.deskpilot.Agent1", "/org/deskpilot/Agent1", "org.deskpilot.Agent1.Manager",
				   "ListTasks", NULL, &reply, "");

	*n = 0;
	if (r >= 0)
		r = sd_bus_message_enter_container(reply, 'a', "o");
	while (r >= 0 && (r = sd_bus_message_read_basic(reply, 'o', &p)) > 0) {
		if (*n == cap) {
			char **grown = realloc(v, (cap = cap ? cap * 2 : 64) * sizeof(*v));

			if (!grown) {
				r = -ENOMEM;
				break;
			}
			v = grown;
		}
		v[(*n)++] = strdup(p);
	}
	sd_bus_message_unref(reply);
	*paths = v;
	return r < 0 ? r : 0;
}

void dp_tc_free_list(char **paths, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

int dp_tc_wait_final(sd_bus *bus, const char *path, char *state, size_t size, int timeout_ms)
{
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	static const char *const final[] = { "succeeded", "failed", "cancelled", "interrupted" };

	for (int waited = 0; waited <= timeout_ms; waited += 50) {
		if (dp_tc_get_string(bus, path, "State", state, size) >= 0) {
			for (size_t i = 0; i < 4; i++)
				if (strcmp(state, final[i]) == 0)
					return 0;
		}
		nanosleep(&pause, NULL);
	}
	return -ETIMEDOUT;
}
