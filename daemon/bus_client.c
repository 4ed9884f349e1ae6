/* The command line's side of deskpilotd's D-Bus API. */
#include "daemon/bus_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/exit_codes.h"
#include "engine/json.h"

int dp_busc_open(const char *address, sd_bus **out, const char **used)
{
	sd_bus *bus = NULL;
	int r;

	if (!address || !*address)
		address = getenv("DESKPILOT_BUS_ADDRESS");
	if (address && *address) {
		r = sd_bus_new(&bus);
		if (r >= 0)
			r = sd_bus_set_address(bus, address);
		if (r >= 0)
			r = sd_bus_set_bus_client(bus, 1);
		if (r >= 0)
			r = sd_bus_start(bus);
	} else {
		r = sd_bus_open_user(&bus);
		address = getenv("DBUS_SESSION_BUS_ADDRESS");
		if (!address)
			address = "$XDG_RUNTIME_DIR/bus";
	}
	*used = address;
	if (r < 0) {
		sd_bus_unref(bus);
		return r;
	}
	*out = bus;
	return 0;
}

int dp_busc_connect(const char *cmd, const char *address, sd_bus **out)
{
	int r = dp_busc_open(address, out, &address);

	if (r < 0) {
		fprintf(stderr, "deskpilot %s: cannot connect to the session bus at %s: %s\n"
			"  (start a session bus, or name one with --bus-address or $DESKPILOT_BUS_ADDRESS)\n",
			cmd, address, strerror(-r));
		return DP_EXIT_NO_DAEMON;
	}
	return DP_EXIT_OK;
}

static bool valid_id(const char *id)
{
	if (!*id || strlen(id) > 63)
		return false;
	for (const char *c = id; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') || *c == '_'))
			return false;
	return true;
}

int dp_busc_task_path(const char *cmd, const char *arg, char *path, size_t size)
{
	const char *id = arg;

	if (strncmp(arg, DP_BUS_TASK_PREFIX, strlen(DP_BUS_TASK_PREFIX)) == 0)
		id = arg + strlen(DP_BUS_TASK_PREFIX);
	if (!valid_id(id)) {
		fprintf(stderr, "deskpilot %s: '%s' is not a task: give its id (such as t20261125_142701_0001, "
			"from deskpilot list) or its object path %s<id>\n", cmd, arg, DP_BUS_TASK_PREFIX);
		return DP_EXIT_USAGE;
	}
	snprintf(path, size, "%s%s", DP_BUS_TASK_PREFIX, id);
	return DP_EXIT_OK;
}

const char *dp_busc_task_id(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

struct error_kind {
	const char *name;
	const char *meaning;
	int exit_code;
};

static const struct error_kind error_kinds[] = {
	{ DP_BUS_ERROR_PREFIX "InvalidArgument", "the request is not valid", DP_EXIT_USAGE },
	{ DP_BUS_ERROR_PREFIX "NotFound", "not found", DP_EXIT_NOT_FOUND },
	{ DP_BUS_ERROR_PREFIX "Busy", "deskpilotd is busy", DP_EXIT_FAILURE },
	{ DP_BUS_ERROR_PREFIX "PermissionDenied", "not allowed", DP_EXIT_DENIED },
	{ DP_BUS_ERROR_PREFIX "Failed", "deskpilotd failed", DP_EXIT_FAILURE },
	{ "org.freedesktop.DBus.Error.UnknownObject", "no such task", DP_EXIT_NOT_FOUND },
	{ "org.freedesktop.DBus.Error.AccessDenied", "the bus does not allow it", DP_EXIT_DENIED },
	{ "org.freedesktop.DBus.Error.ServiceUnknown",
	  "deskpilotd is not running and cannot be started (run deskpilotd, or install its D-Bus activation file)",
	  DP_EXIT_NO_DAEMON },
	{ "org.freedesktop.DBus.Error.NameHasNoOwner", "deskpilotd is not running", DP_EXIT_NO_DAEMON },
	{ "org.freedesktop.DBus.Error.NoReply", "deskpilotd did not answer in time", DP_EXIT_NO_DAEMON },
	{ "org.freedesktop.DBus.Error.Disconnected", "the connection to the bus was lost", DP_EXIT_NO_DAEMON },
};

int dp_busc_error(const char *cmd, const sd_bus_error *error, int r)
{
	if (error && sd_bus_error_is_set(error) && !sd_bus_error_has_name(error, SD_BUS_ERROR_INVALID_ARGS)) {
		for (size_t i = 0; i < sizeof(error_kinds) / sizeof(error_kinds[0]); i++) {
			if (strcmp(error->name, error_kinds[i].name) == 0) {
				fprintf(stderr, "deskpilot %s: %s: %s\n", cmd, error_kinds[i].meaning,
					error->message ? error->message : error->name);
				return error_kinds[i].exit_code;
			}
		}
		fprintf(stderr, "deskpilot %s: %s: %s\n", cmd, error->name, error->message ? error->message : "");
		return DP_EXIT_FAILURE;
	}
	/* sd-bus refuses to send text that is not UTF-8. */
	if (r == -EINVAL || (error && sd_bus_error_has_name(error, SD_BUS_ERROR_INVALID_ARGS))) {
		fprintf(stderr, "deskpilot %s: an argument cannot be sent over D-Bus: text must be valid UTF-8\n", cmd);
		return DP_EXIT_USAGE;
	}
	if (r == -ENOTCONN || r == -ECONNRESET || r == -EPIPE) {
		fprintf(stderr, "deskpilot %s: the connection to the bus was lost\n", cmd);
		return DP_EXIT_NO_DAEMON;
	}
	fprintf(stderr, "deskpilot %s: %s\n", cmd, strerror(r < 0 ? -r : EIO));
	return DP_EXIT_FAILURE;
}

static int read_basic(sd_bus_message *m, char type, cJSON **out)
{
	union {
		uint8_t y;
		int b;
		int16_t n;
		uint16_t q;
		int32_t i;
		uint32_t u;
		int64_t x;
		uint64_t t;
		double d;
		const char *s;
	} v;
	int r = sd_bus_message_read_basic(m, type, &v);

	if (r < 0)
		return r;
	switch (type) {
	case SD_BUS_TYPE_BYTE: *out = cJSON_CreateNumber(v.y); break;
	case SD_BUS_TYPE_BOOLEAN: *out = cJSON_CreateBool(v.b); break;
	case SD_BUS_TYPE_INT16: *out = cJSON_CreateNumber(v.n); break;
	case SD_BUS_TYPE_UINT16: *out = cJSON_CreateNumber(v.q); break;
	case SD_BUS_TYPE_INT32:
	case SD_BUS_TYPE_UNIX_FD: *out = cJSON_CreateNumber(v.i); break;
	case SD_BUS_TYPE_UINT32: *out = cJSON_CreateNumber(v.u); break;
	case SD_BUS_TYPE_INT64: *out = cJSON_CreateNumber((double)v.x); break;
	case SD_BUS_TYPE_UINT64: *out = cJSON_CreateNumber((double)v.t); break;
	case SD_BUS_TYPE_DOUBLE: *out = cJSON_CreateNumber(v.d); break;
	default: *out = cJSON_CreateString(v.s); break; /* s, o, g */
	}
	return *out ? 0 : -ENOMEM;
}

static int read_dict(sd_bus_message *m, const char *contents, cJSON *obj)
{
	char entry[64];
	size_t len = strlen(contents);
	int r;

	/* contents is "{kv}": the entry's own signature is what is inside. */
	if (len < 4 || len - 2 >= sizeof(entry))
		return -EBADMSG;
	memcpy(entry, contents + 1, len - 2);
	entry[len - 2] = '\0';
	while ((r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, entry)) > 0) {
		cJSON *key = NULL, *value = NULL;
		char buf[32];
		const char *name;

		r = read_basic(m, entry[0], &key);
		if (r >= 0)
			r = dp_busc_read_json(m, &value);
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
		if (r < 0) {
			cJSON_Delete(key);
			cJSON_Delete(value);
			return r;
		}
		if (cJSON_IsString(key)) {
			name = key->valuestring;
		} else {
			snprintf(buf, sizeof(buf), "%.0f", key->valuedouble);
			name = buf;
		}
		cJSON_AddItemToObject(obj, name, value);
		cJSON_Delete(key);
	}
	return r;
}

int dp_busc_read_json(sd_bus_message *m, cJSON **out)
{
	const char *contents;
	char type;
	cJSON *c;
	int r = sd_bus_message_peek_type(m, &type, &contents);

	*out = NULL;
	if (r <= 0)
		return r < 0 ? r : -EBADMSG;
	if (type != SD_BUS_TYPE_ARRAY && type != SD_BUS_TYPE_VARIANT && type != SD_BUS_TYPE_STRUCT)
		return read_basic(m, type, out);
	r = sd_bus_message_enter_container(m, type, contents);
	if (r < 0)
		return r;
	if (type == SD_BUS_TYPE_VARIANT) {
		r = dp_busc_read_json(m, out);
		return r < 0 ? r : sd_bus_message_exit_container(m);
	}
	if (type == SD_BUS_TYPE_ARRAY && contents[0] == SD_BUS_TYPE_DICT_ENTRY_BEGIN) {
		c = cJSON_CreateObject();
		r = c ? read_dict(m, contents, c) : -ENOMEM;
	} else {
		c = cJSON_CreateArray();
		r = c ? 0 : -ENOMEM;
		while (r >= 0 && (r = sd_bus_message_at_end(m, false)) == 0) {
			cJSON *item;

			r = dp_busc_read_json(m, &item);
			if (r >= 0)
				cJSON_AddItemToArray(c, item);
		}
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	if (r < 0) {
		cJSON_Delete(c);
		return r;
	}
	*out = c;
	return 0;
}

static void copy_string(const cJSON *props, const char *name, char *buf, size_t size)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(props, name);

	if (cJSON_IsString(v))
		snprintf(buf, size, "%s", v->valuestring);
}

static void dup_string(const cJSON *props, const char *name, char **field)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(props, name);
	char *copy;

	if (!cJSON_IsString(v) || !(copy = strdup(v->valuestring)))
		return;
	free(*field);
	*field = copy;
}

static void copy_number(const cJSON *props, const char *name, void *field, size_t width)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(props, name);

	if (!cJSON_IsNumber(v) || v->valuedouble < 0)
		return;
	if (width == 4)
		*(uint32_t *)field = (uint32_t)v->valuedouble;
	else
		*(uint64_t *)field = (uint64_t)v->valuedouble;
}

void dp_task_props_update(struct dp_task_props *t, const cJSON *props)
{
	const cJSON *sub = cJSON_GetObjectItemCaseSensitive(props, "Submitter");

	copy_string(props, "Id", t->id, sizeof(t->id));
	copy_string(props, "State", t->state, sizeof(t->state));
	copy_string(props, "Policy", t->policy, sizeof(t->policy));
	dup_string(props, "Instruction", &t->instruction);
	dup_string(props, "Result", &t->result);
	dup_string(props, "Error", &t->error);
	dup_string(props, "Trajectory", &t->trajectory);
	dup_string(props, "Question", &t->question);
	copy_number(props, "Step", &t->step, 4);
	copy_number(props, "MaxSteps", &t->max_steps, 4);
	copy_number(props, "Created", &t->created, 8);
	copy_number(props, "Started", &t->started, 8);
	copy_number(props, "Finished", &t->finished, 8);
	if (cJSON_GetArraySize(sub) == 2 && cJSON_IsNumber(cJSON_GetArrayItem(sub, 0)) &&
	    cJSON_IsString(cJSON_GetArrayItem(sub, 1))) {
		t->submitter_uid = (uint32_t)cJSON_GetArrayItem(sub, 0)->valuedouble;
		snprintf(t->submitter_name, sizeof(t->submitter_name), "%s", cJSON_GetArrayItem(sub, 1)->valuestring);
	}
}

void dp_task_props_clear(struct dp_task_props *t)
{
	free(t->instruction);
	free(t->result);
	free(t->error);
	free(t->trajectory);
	free(t->question);
	memset(t, 0, sizeof(*t));
}

int dp_busc_get_task(const char *cmd, sd_bus *bus, const char *path, struct dp_task_props *t, cJSON **json)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	cJSON *props = NULL;
	int r = sd_bus_call_method(bus, DP_BUS_NAME, path, "org.freedesktop.DBus.Properties", "GetAll", &error,
				   &reply, "s", DP_BUS_TASK);

	if (r < 0) {
		if (sd_bus_error_has_name(&error, "org.freedesktop.DBus.Error.UnknownObject") ||
		    sd_bus_error_has_name(&error, "org.freedesktop.DBus.Error.UnknownInterface")) {
			fprintf(stderr, "deskpilot %s: no task %s (deskpilot list shows them)\n", cmd,
				dp_busc_task_id(path));
			sd_bus_error_free(&error);
			return DP_EXIT_NOT_FOUND;
		}
		r = dp_busc_error(cmd, &error, r);
		sd_bus_error_free(&error);
		return r;
	}
	r = dp_busc_read_json(reply, &props);
	sd_bus_message_unref(reply);
	if (r < 0 || !cJSON_IsObject(props)) {
		cJSON_Delete(props);
		fprintf(stderr, "deskpilot %s: deskpilotd sent properties of task %s that cannot be read\n", cmd,
			dp_busc_task_id(path));
		return DP_EXIT_FAILURE;
	}
	if (t)
		dp_task_props_update(t, props);
	if (json)
		*json = props;
	else
		cJSON_Delete(props);
	return DP_EXIT_OK;
}

bool dp_task_state_is_final(const char *state)
{
	return strcmp(state, "succeeded") == 0 || strcmp(state, "failed") == 0 || strcmp(state, "cancelled") == 0 ||
	       strcmp(state, "interrupted") == 0;
}

/* How the loop ended, from result.json in the task's trajectory. */
static void read_outcome(const char *trajectory, char *outcome, size_t size)
{
	char path[4096];
	FILE *f;
	char text[8192];
	size_t n;
	cJSON *result = NULL;

	*outcome = '\0';
	if (!trajectory || !*trajectory)
		return;
	snprintf(path, sizeof(path), "%s/result.json", trajectory);
	f = fopen(path, "r");
	if (!f)
		return;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	if (dp_json_parse(text, n, 1, &result, NULL) == 0)
		copy_string(result, "outcome", outcome, size);
	cJSON_Delete(result);
}

int dp_task_exit_code(const struct dp_task_props *t)
{
	char outcome[32];

	if (strcmp(t->state, "succeeded") == 0)
		return DP_EXIT_OK;
	if (strcmp(t->state, "cancelled") == 0 || strcmp(t->state, "interrupted") == 0)
		return DP_EXIT_CANCELLED;
	read_outcome(t->trajectory, outcome, sizeof(outcome));
	if (strcmp(outcome, "out_of_steps") == 0 || strcmp(outcome, "timed_out") == 0 ||
	    strcmp(outcome, "out_of_tokens") == 0)
		return DP_EXIT_TIMEOUT;
	return DP_EXIT_FAILURE;
}

void dp_format_time(uint64_t usec, char *buf, size_t size)
{
	time_t when = (time_t)(usec / 1000000);
	struct tm tm;

	if (usec == 0 || !localtime_r(&when, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, size, "-");
}
