/* One bus object per task, /org/deskpilot/Agent1/task/<id>, each with its
 * own slot: properties read from the task, control methods for its
 * submitter (or root), and the step signals. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "daemon/daemon.h"

#define DP_LOG_SUBSYS "bus"
#include "engine/log.h"

#define PROP_ARGS sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply, \
		  void *userdata, sd_bus_error *error
#define UNUSED_PROP_ARGS (void)bus, (void)path, (void)iface, (void)prop, (void)error

static int prop_string(PROP_ARGS)
{
	struct dp_task *t = userdata;
	const char *v = "";

	UNUSED_PROP_ARGS;
	if (strcmp(prop, "Id") == 0)
		v = t->rec.id;
	else if (strcmp(prop, "State") == 0)
		v = t->rec.state;
	else if (strcmp(prop, "Instruction") == 0)
		v = t->rec.instruction;
	else if (strcmp(prop, "Policy") == 0)
		v = t->rec.policy;
	else if (strcmp(prop, "Result") == 0)
		v = t->rec.result;
	else if (strcmp(prop, "Error") == 0)
		v = t->rec.error;
	else if (strcmp(prop, "Trajectory") == 0)
		v = t->rec.run_dir;
	else if (strcmp(prop, "Question") == 0)
		v = t->question;
	return sd_bus_message_append_basic(reply, 's', v ? v : "");
}

static int prop_uint(PROP_ARGS)
{
	struct dp_task *t = userdata;

	UNUSED_PROP_ARGS;
	return sd_bus_message_append(reply, "u", strcmp(prop, "Step") == 0 ? t->rec.step : t->rec.max_steps);
}

static int prop_time(PROP_ARGS)
{
	struct dp_task *t = userdata;
	uint64_t v = strcmp(prop, "Created") == 0 ? t->rec.created
		     : strcmp(prop, "Started") == 0 ? t->rec.started : t->rec.finished;

	UNUSED_PROP_ARGS;
	return sd_bus_message_append(reply, "t", v);
}

static int prop_submitter(PROP_ARGS)
{
	struct dp_task *t = userdata;

	UNUSED_PROP_ARGS;
	return sd_bus_message_append(reply, "(us)", t->rec.submitter_uid, t->rec.submitter_name);
}

/* Only the submitter's uid, or root, may steer a task. */
static int authorize(sd_bus_message *m, struct dp_task *t, sd_bus_error *error)
{
	sd_bus_creds *creds = NULL;
	uid_t uid = (uid_t)-1;
	int r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &creds);

	if (r >= 0)
		r = sd_bus_creds_get_euid(creds, &uid);
	sd_bus_creds_unref(creds);
	if (r < 0)
		return sd_bus_error_setf(error, DP_BUS_ERROR_PREFIX "PermissionDenied",
					 "cannot tell who is asking (%s)", strerror(-r));
	if (uid != 0 && uid != t->rec.submitter_uid)
		return sd_bus_error_setf(error, DP_BUS_ERROR_PREFIX "PermissionDenied",
					 "task %s belongs to uid %u: only that user or root may control it", t->rec.id,
					 t->rec.submitter_uid);
	return 0;
}

static int method_control(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct dp_task *t = userdata;
	const char *member = sd_bus_message_get_member(m);
	struct dp_error err = { 0 };
	int r;

	if ((r = authorize(m, t, error)) < 0)
		return r;
	if (strcmp(member, "Cancel") == 0)
		r = dp_task_cancel(t, &err); /* t may be gone after this */
	else if (strcmp(member, "Pause") == 0)
		r = dp_task_pause(t, true, &err);
	else
		r = dp_task_pause(t, false, &err);
	if (r < 0)
		return dp_bus_set_error(error, &err);
	return sd_bus_reply_method_return(m, "");
}

static int method_answer(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct dp_task *t = userdata;
	struct dp_error err = { 0 };
	const char *text;
	int r;

	if ((r = sd_bus_message_read(m, "s", &text)) < 0)
		return r;
	if ((r = authorize(m, t, error)) < 0)
		return r;
	if (dp_task_answer(t, text, &err) < 0)
		return dp_bus_set_error(error, &err);
	return sd_bus_reply_method_return(m, "");
}

static const sd_bus_vtable task_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Id", "s", prop_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("State", "s", prop_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Step", "u", prop_uint, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("MaxSteps", "u", prop_uint, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Instruction", "s", prop_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Policy", "s", prop_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Result", "s", prop_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Error", "s", prop_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Submitter", "(us)", prop_submitter, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Created", "t", prop_time, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Started", "t", prop_time, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Finished", "t", prop_time, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Trajectory", "s", prop_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Question", "s", prop_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_METHOD_WITH_ARGS("Cancel", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_control, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("Pause", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_control, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("Resume", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_control, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("Answer", SD_BUS_ARGS("s", text), SD_BUS_NO_RESULT, method_answer,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_SIGNAL_WITH_ARGS("StepCompleted", SD_BUS_ARGS("u", step, "s", action, "a{sv}", details), 0),
	SD_BUS_SIGNAL_WITH_ARGS("NeedsInput", SD_BUS_ARGS("s", question), 0),
	SD_BUS_SIGNAL_WITH_ARGS("Finished", SD_BUS_ARGS("s", state, "a{sv}", details), 0),
	SD_BUS_VTABLE_END,
};

int dp_bus_task_add(struct dp_task *t)
{
	snprintf(t->path, sizeof(t->path), DP_BUS_TASK_PREFIX "%s", t->rec.id);
	return sd_bus_add_object_vtable(t->daemon->bus, &t->slot, t->path, DP_BUS_TASK_IFACE, task_vtable, t);
}

void dp_bus_task_remove(struct dp_task *t)
{
	t->slot = sd_bus_slot_unref(t->slot);
}

void dp_bus_task_changed(struct dp_task *t, const char *first, ...)
{
	const char *names[16];
	size_t n = 0;
	va_list ap;
	int r;

	va_start(ap, first);
	for (const char *p = first; p && n < 15; p = va_arg(ap, const char *))
		names[n++] = p;
	va_end(ap);
	names[n] = NULL;
	r = sd_bus_emit_properties_changed_strv(t->daemon->bus, t->path, DP_BUS_TASK_IFACE, (char **)names);
	if (r < 0)
		dp_log_errno(DP_LOG_WARN, r, "PropertiesChanged on %s", t->path);
}

void dp_bus_emit_step(struct dp_task *t, uint32_t step, const char *action, const char *verdict, const char *message,
		      uint32_t duration_ms, uint64_t tokens)
{
	sd_bus_message *m = NULL;
	int r = sd_bus_message_new_signal(t->daemon->bus, &m, t->path, DP_BUS_TASK_IFACE, "StepCompleted");

	if (r >= 0)
		r = sd_bus_message_append(m, "usa{sv}", step, action ? action : "", 4, "verdict", "s",
					  verdict ? verdict : "",
					  "message", "s", message ? message : "", "duration_ms", "u", duration_ms,
					  "tokens", "t", tokens);
	if (r >= 0)
		r = sd_bus_send(t->daemon->bus, m, NULL);
	sd_bus_message_unref(m);
	if (r < 0)
		dp_log_errno(DP_LOG_WARN, r, "StepCompleted on %s", t->path);
}

void dp_bus_emit_needs_input(struct dp_task *t, const char *question)
{
	int r = sd_bus_emit_signal(t->daemon->bus, t->path, DP_BUS_TASK_IFACE, "NeedsInput", "s", question);

	if (r < 0)
		dp_log_errno(DP_LOG_WARN, r, "NeedsInput on %s", t->path);
}

void dp_bus_emit_finished(struct dp_task *t)
{
	sd_bus_message *m = NULL;
	int r = sd_bus_message_new_signal(t->daemon->bus, &m, t->path, DP_BUS_TASK_IFACE, "Finished");

	if (r >= 0)
		r = sd_bus_message_append(m, "sa{sv}", t->rec.state, 4, "result", "s", t->rec.result, "error", "s",
					  t->rec.error, "steps", "u", t->rec.step, "tokens", "t", t->tokens);
	if (r >= 0)
		r = sd_bus_send(t->daemon->bus, m, NULL);
	sd_bus_message_unref(m);
	if (r < 0)
		dp_log_errno(DP_LOG_WARN, r, "Finished on %s", t->path);
}
