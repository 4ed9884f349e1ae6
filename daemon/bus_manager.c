/* The manager object, /org/deskpilot/Agent1: Submit, ListTasks,
 * GetCapabilities, the queue's properties and the task signals. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <config.h> /* the build's; daemon/config.h is the settings file */
#include "daemon/daemon.h"

#define DP_LOG_SUBSYS "bus"
#include "engine/log.h"
#if HAVE_MODEL
#include "policies/model/profile.h"
#endif

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

/* A Submit waiting for the bus to say who sent it: the main loop does not
 * wait for that answer. */
struct pending_submit {
	struct dp_daemon *d;
	sd_bus_message *call;
	struct dp_task_spec spec;
};

static void finish_submit(struct pending_submit *p, uid_t uid)
{
	struct dp_error err = { 0 };
	struct dp_task *t = NULL;
	int r;

	if ((r = dp_daemon_check_spec(p->d, &p->spec, &err)) == 0 &&
	    (r = dp_daemon_submit(p->d, &p->spec, (uint32_t)uid, sd_bus_message_get_sender(p->call), &t, &err)) == 0) {
		r = sd_bus_reply_method_return(p->call, "o", t->path);
	} else {
		sd_bus_error error = SD_BUS_ERROR_NULL;

		dp_log_info("Submit refused: %s", err.message);
		dp_bus_set_error(&error, &err);
		r = sd_bus_reply_method_error(p->call, &error);
		sd_bus_error_free(&error);
	}
	if (r < 0)
		dp_log_errno(DP_LOG_WARN, r, "replying to Submit");
}

static void pending_free(struct pending_submit *p)
{
	dp_task_spec_release(&p->spec);
	sd_bus_message_unref(p->call);
	free(p);
}

static int on_sender_uid(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct pending_submit *p = userdata;
	uint32_t uid;

	(void)ret_error;
	if (sd_bus_message_is_method_error(reply, NULL) || sd_bus_message_read(reply, "u", &uid) < 0) {
		const sd_bus_error *e = sd_bus_message_get_error(reply);

		sd_bus_reply_method_errorf(p->call, DP_BUS_ERROR_PREFIX "PermissionDenied",
					   "cannot tell who is asking (%s)",
					   e && e->message ? e->message : "no answer from the bus");
	} else {
		finish_submit(p, (uid_t)uid);
	}
	pending_free(p);
	return 0;
}

static int method_submit(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct dp_daemon *d = userdata;
	struct pending_submit *p;
	struct dp_error err = { 0 };
	const char *display = d->config->display ? d->config->display : d->default_display;
	const char *sender = sd_bus_message_get_sender(m);
	int r;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->d = d;
	dp_task_spec_init(&p->spec);
	if ((r = dp_bus_read_submit(m, &p->spec, &err)) < 0 ||
	    (r = dp_task_spec_finish(&p->spec, d->config->max_steps, display, &err)) < 0) {
		pending_free(p);
		dp_log_info("Submit refused: %s", err.message);
		return dp_bus_set_error(error, &err);
	}
	if (!p->spec.has_timeout && d->config->timeout_s) {
		p->spec.timeout_s = d->config->timeout_s;
		p->spec.has_timeout = true;
	}
	p->call = sd_bus_message_ref(m);
	/* Replies come in the order asked, so tasks keep the order they
	 * were submitted in. */
	r = sender ? sd_bus_call_method_async(d->bus, NULL, "org.freedesktop.DBus", "/org/freedesktop/DBus",
					      "org.freedesktop.DBus", "GetConnectionUnixUser", on_sender_uid, p, "s",
					      sender)
		   : -ENXIO;
	if (r < 0) {
		pending_free(p);
		dp_error_set(&err, -EACCES, "cannot tell who is asking (%s)", strerror(-r));
		return dp_bus_set_error(error, &err);
	}
	return 1; /* the reply comes from on_sender_uid */
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

static int append_strv(sd_bus_message *reply, const char *key, const char *const *values, size_t n)
{
	int r = sd_bus_message_open_container(reply, 'e', "sv");

	if (r >= 0)
		r = sd_bus_message_append(reply, "s", key);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'v', "as");
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "s");
	for (size_t i = 0; i < n && r >= 0; i++)
		r = sd_bus_message_append(reply, "s", values[i]);
	for (int level = 0; level < 3 && r >= 0; level++)
		r = sd_bus_message_close_container(reply);
	return r;
}

static int method_caps(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	static const char *const policies[] = { "flow", "script", "model" };
	struct dp_daemon *d = userdata;
	const char *display = d->config->display ? d->config->display : d->default_display;
	sd_bus_message *reply = NULL;
	const char *profiles[4];
	size_t n_profiles = 0;
	int r;

	(void)error;
#if HAVE_MODEL
	/* The shipped profiles that load here. */
	static const char *const shipped[] = { "minimax-m3", "qwen3-vl", "ui-tars-1.5", "generic-openai" };

	for (size_t i = 0; i < 4; i++) {
		struct dp_model_profile p;
		struct dp_error ignored = { 0 };

		if (dp_model_profile_load(shipped[i], &p, &ignored) == 0)
			profiles[n_profiles++] = shipped[i];
	}
#endif
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "{sv}");
	if (r >= 0)
		r = sd_bus_message_append(reply, "{sv}{sv}{sv}{sv}", "version", "s", DP_VERSION, "max_steps", "u",
					  (uint32_t)DP_MAX_STEPS, "displays", "as", display ? 1 : 0, display, "ocr", "b",
					  HAVE_TESSERACT);
	if (r >= 0)
		r = append_strv(reply, "policies", policies, HAVE_MODEL ? 3 : 2);
	if (r >= 0)
		r = append_strv(reply, "profiles", profiles, n_profiles);
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
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
