/* The manager object, /org/deskpilot/Agent1: Submit, ListTasks,
 * GetCapabilities, the queue's properties and the task signals. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <config.h> /* the build's; daemon/config.h is the settings file */
#include "daemon/daemon.h"

#define DP_LOG_SUBSYS "bus"
#include "engine/log.h"

int dp_bus_set_error(sd_bus_error *error, const struct dp_error *err)
{
	const char *name;

	switch (err->code) {
	case -EINVAL: name = DP_BUS_ERROR_PREFIX "InvalidArgument"; break;
	case -ENOENT: name = DP_BUS_ERROR_PREFIX "NotFound"; break;
	case -EBUSY: name = DP_BUS_ERROR_PREFIX "Busy"; break;
	case -EPERM:
	case -EACCES: name = DP_BUS_ERROR_PREFIX "PermissionDenied"; break;
	default: name = DP_BUS_ERROR_PREFIX "Failed"; break;
	}
	return sd_bus_error_setf(error, name, "%s", err->message[0] ? err->message : strerror(-err->code));
}

static int method_submit(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct dp_daemon *d = userdata;
	struct dp_task_spec spec;
	struct dp_error err = { 0 };
	sd_bus_creds *creds = NULL;
	struct dp_task *t = NULL;
	uid_t uid = (uid_t)-1;
	const char *display = d->config->display ? d->config->display : d->default_display;
	int r;

	dp_task_spec_init(&spec);
	r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &creds);
	if (r >= 0)
		r = sd_bus_creds_get_euid(creds, &uid);
	sd_bus_creds_unref(creds);
	if (r < 0) {
		dp_error_set(&err, -EACCES, "cannot tell who is asking (%s)", strerror(-r));
		return dp_bus_set_error(error, &err);
	}
	if ((r = dp_bus_read_submit(m, &spec, &err)) < 0 ||
	    (r = dp_task_spec_finish(&spec, d->config->max_steps, display, &err)) < 0 ||
	    (r = dp_daemon_check_spec(d, &spec, &err)) < 0)
		goto fail;
	if (!spec.has_timeout && d->config->timeout_s) {
		spec.timeout_s = d->config->timeout_s;
		spec.has_timeout = true;
	}
	if ((r = dp_daemon_submit(d, &spec, (uint32_t)uid, sd_bus_message_get_sender(m), &t, &err)) < 0)
		goto fail;
	return sd_bus_reply_method_return(m, "o", t->path);
fail:
	dp_task_spec_release(&spec);
	dp_log_info("Submit refused: %s", err.message);
	return dp_bus_set_error(error, &err);
}

static int method_list(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct dp_daemon *d = userdata;
	sd_bus_message *reply = NULL;
	int r;

	(void)error;
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "o");
	for (size_t i = 0; r >= 0 && i < d->n_tasks; i++)
		r = sd_bus_message_append_basic(reply, 'o', d->tasks[i]->path);
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	return r;
}

static int method_caps(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct dp_daemon *d = userdata;
	const char *display = d->config->display ? d->config->display : d->default_display;
	sd_bus_message *reply = NULL;
	int r;

	(void)error;
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_append(reply, "a{sv}", 6, "version", "s", DP_VERSION, "policies", "as", 2, "flow", "script",
					  "profiles", "as", 0, "max_steps", "u", (uint32_t)DP_MAX_STEPS, "displays", "as",
					  display ? 1 : 0, display, "ocr", "b", HAVE_TESSERACT);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	return r;
}

static int prop_version(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
			void *userdata, sd_bus_error *error)
{
	(void)bus, (void)path, (void)iface, (void)prop, (void)userdata, (void)error;
	return sd_bus_message_append(reply, "s", DP_VERSION);
}

static int prop_queue_length(sd_bus *bus, const char *path, const char *iface, const char *prop,
			     sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct dp_daemon *d = userdata;

	(void)bus, (void)path, (void)iface, (void)prop, (void)error;
	return sd_bus_message_append(reply, "u", (uint32_t)dp_queue_length(d->queue));
}

static int prop_running(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
			void *userdata, sd_bus_error *error)
{
	struct dp_daemon *d = userdata;
	int r;

	(void)bus, (void)path, (void)iface, (void)prop, (void)error;
	r = sd_bus_message_open_container(reply, 'a', "o");
	for (size_t i = 0; r >= 0 && i < d->n_running; i++)
		r = sd_bus_message_append_basic(reply, 'o', d->running[i]->path);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

static const sd_bus_vtable manager_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD_WITH_ARGS("Submit", SD_BUS_ARGS("a{sv}", task), SD_BUS_RESULT("o", path), method_submit,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("ListTasks", SD_BUS_NO_ARGS, SD_BUS_RESULT("ao", tasks), method_list,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetCapabilities", SD_BUS_NO_ARGS, SD_BUS_RESULT("a{sv}", caps), method_caps,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_PROPERTY("Version", "s", prop_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("QueueLength", "u", prop_queue_length, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Running", "ao", prop_running, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_SIGNAL_WITH_ARGS("TaskAdded", SD_BUS_ARGS("o", task), 0),
	SD_BUS_SIGNAL_WITH_ARGS("TaskFinished", SD_BUS_ARGS("o", task, "s", state), 0),
	SD_BUS_VTABLE_END,
};

int dp_bus_manager_add(struct dp_daemon *d)
{
	return sd_bus_add_object_vtable(d->bus, &d->manager_slot, DP_BUS_PATH, DP_BUS_MANAGER_IFACE, manager_vtable, d);
}

void dp_bus_emit_manager_changed(struct dp_daemon *d, const char *property)
{
	int r = sd_bus_emit_properties_changed(d->bus, DP_BUS_PATH, DP_BUS_MANAGER_IFACE, property, NULL);

	if (r < 0)
		dp_log_errno(DP_LOG_WARN, r, "PropertiesChanged %s", property);
}

void dp_bus_emit_task_added(struct dp_daemon *d, struct dp_task *t)
{
	int r = sd_bus_emit_signal(d->bus, DP_BUS_PATH, DP_BUS_MANAGER_IFACE, "TaskAdded", "o", t->path);

	if (r < 0)
		dp_log_errno(DP_LOG_WARN, r, "TaskAdded %s", t->rec.id);
}

void dp_bus_emit_task_finished(struct dp_daemon *d, struct dp_task *t)
{
	int r = sd_bus_emit_signal(d->bus, DP_BUS_PATH, DP_BUS_MANAGER_IFACE, "TaskFinished", "os", t->path,
				   t->rec.state);

	if (r < 0)
		dp_log_errno(DP_LOG_WARN, r, "TaskFinished %s", t->rec.id);
}
