/* Tasks coming in: a Submit checked against the world (files, secrets,
 * the policy) and stored before it is queued; and at start-up, the store
 * read back. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <config.h> /* the build's; daemon/config.h is the settings file */
#include "daemon/daemon.h"
#include "engine/file.h"
#include "policies/flow/flow.h"
#include "policies/policy_factory.h"
#if HAVE_MODEL
#include "policies/model/profile.h"
#endif

#define DP_LOG_SUBSYS "tasks"
#include "engine/log.h"

/* --- submitting ---------------------------------------------------------- */

/* Puts "what: " before the message err already holds. */
static int prefix_error(struct dp_error *err, int code, const char *what)
{
	char msg[sizeof(err->message)];

	snprintf(msg, sizeof(msg), "%s", err->message);
	return dp_error_set(err, code, "%s: %.480s", what, msg);
}

static int check_file(const char *key, const char *path, struct dp_error *err)
{
	if (path[0] != '/')
		return dp_error_set(err, -EINVAL,
				    "%s: '%.200s' is not an absolute path (the daemon does not share your "
				    "working folder)", key, path);
	if (access(path, R_OK) < 0)
		return dp_error_set(err, -ENOENT, "%s: cannot read %.300s: %s", key, path, strerror(errno));
	return 0;
}

/* A model task needs its words and a profile that loads; the server is
 * only reached when the task runs. */
static int check_model(struct dp_daemon *d, const struct dp_task_spec *spec, struct dp_error *err)
{
#if HAVE_MODEL
	const char *profile = spec->profile ? spec->profile : d->config->model_profile;
	struct dp_model_profile p;

	if (!spec->instruction || !*spec->instruction)
		return dp_error_set(err, -EINVAL, "instruction: a model needs the task in words");
	if (!profile)
		return dp_error_set(err, -EINVAL, "profile: name a model profile (minimax-m3, qwen3-vl, ui-tars-1.5, "
						  "generic-openai) or set model.profile in config.json");
	return dp_model_profile_load(profile, &p, err);
#else
	(void)d, (void)spec;
	return dp_error_set(err, -EOPNOTSUPP, "policy: this deskpilotd was built without the model policy "
					      "(libcurl): give a flow or a script");
#endif
}

int dp_daemon_check_spec(struct dp_daemon *d, const struct dp_task_spec *spec, struct dp_error *err)
{
	struct dp_secret_source src = {
		.credentials_dir = *d->creds_dir ? d->creds_dir : NULL,
		.secrets_file = *d->secrets_file ? d->secrets_file : NULL,
		.inline_names = spec->inline_names,
		.inline_values = spec->inline_values,
		.n_inline = spec->inline_values ? spec->n_inline : 0,
	};
	int r;

	if (strcmp(spec->policy, "model") == 0 && (r = check_model(d, spec, err)) < 0)
		return r;
	if (spec->flow && spec->flow[0] != '{' && (r = check_file("flow", spec->flow, err)) < 0)
		return r;
	if (spec->script && (r = check_file("script", spec->script, err)) < 0)
		return r;
	if (spec->data && (r = check_file("data", spec->data, err)) < 0)
		return r;
	for (size_t i = 0; spec->allow_launch && spec->allow_launch[i]; i++) {
		if (!dp_strv_has(d->config->allow_launch, spec->allow_launch[i]))
			return dp_error_set(err, -EINVAL,
					    "allow_launch: '%.100s' is not in the daemon's allow_launch (config.json): "
					    "add it there first", spec->allow_launch[i]);
	}
	for (size_t i = 0; spec->secrets && spec->secrets[i]; i++) {
		char value[4096];

		r = dp_secret_lookup(&src, spec->secrets[i], value, sizeof(value), err);
		explicit_bzero(value, sizeof(value));
		if (r == -ENOENT)
			return dp_error_set(err, -ENOENT,
					    "secrets: no secret called '%s': add it to %s (mode 600), pass it "
					    "as a systemd credential, or give it in inline_secrets",
					    spec->secrets[i], src.secrets_file ? src.secrets_file : "secrets.json");
		if (r < 0)
			return prefix_error(err, -EIO, "secrets");
	}
	return 0;
}

/* The flow in the spec as a file the policy can read: a path as given, or
 * JSON text saved in the run folder. */
static int flow_file(struct dp_task *t, struct dp_error *err)
{
	char path[PATH_MAX + 32];

	if (!t->spec.flow)
		return 0;
	if (t->spec.flow[0] != '{') {
		t->flow_path = strdup(t->spec.flow);
		return t->flow_path ? 0 : -ENOMEM;
	}
	snprintf(path, sizeof(path), "%s/flow.json", t->rec.run_dir);
	t->flow_path = strdup(path);
	if (!t->flow_path)
		return -ENOMEM;
	if (access(path, R_OK) == 0)
		return 0;
	return dp_file_write_atomic(path, t->spec.flow, strlen(t->spec.flow), err);
}

/* What can be checked without the screen: the flow's or script's syntax. */
static int check_policy(struct dp_task *t, struct dp_error *err)
{
	if (strcmp(t->spec.policy, "flow") == 0) {
		struct flow flow = { 0 };
		int r = flow_load(t->flow_path, &flow, err);

		if (r == 0)
			flow_free(&flow);
		return r < 0 ? prefix_error(err, r, "flow") : 0;
	}
	if (strcmp(t->spec.policy, "script") == 0) {
		struct dp_policy_options po = { .kind = "script", .script_path = t->spec.script };
		struct dp_policy *p = NULL;
		int r = dp_policy_create(&p, &po, err);

		if (p)
			p->impl->destroy(p);
		return r < 0 ? prefix_error(err, -EINVAL, "script") : 0;
	}
	return 0;
}

static int mkdir_parents(const char *dir)
{
	char buf[PATH_MAX];

	if (strlen(dir) >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, dir, strlen(dir) + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(buf, 0700) < 0 && errno != EEXIST ? -errno : 0;
}

static int queue_task(struct dp_daemon *d, struct dp_task *t)
{
	return dp_queue_push(d->queue, t, t->spec.priority, t->rec.seq, t->spec.display);
}

int dp_daemon_submit(struct dp_daemon *d, struct dp_task_spec *spec, uint32_t uid, const char *sender,
		     struct dp_task **out, struct dp_error *err)
{
	struct dp_task *t = calloc(1, sizeof(*t));
	char id[64], dir[PATH_MAX + 80];
	time_t now = time(NULL);
	struct tm tm;
	int r;

	if (!t)
		return dp_error_set(err, -ENOMEM, "out of memory");
	if (d->stopping) {
		free(t);
		return dp_error_set(err, -EBUSY, "the daemon is stopping: submit again once it is back");
	}
	t->daemon = d;
	t->spec = *spec;
	dp_task_spec_init(spec);
	t->has_spec = true;
	gmtime_r(&now, &tm);
	t->rec.seq = ++d->last_seq;
	snprintf(id, sizeof(id), "t%04d%02d%02d_%02d%02d%02d_%04llu", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned long long)t->rec.seq);
	snprintf(dir, sizeof(dir), "%s/%s", d->runs_dir, id);
	t->rec.id = strdup(id);
	t->rec.spec_json = dp_task_spec_to_json(&t->spec);
	t->rec.state = strdup("queued");
	t->rec.max_steps = t->spec.max_steps;
	t->rec.instruction = strdup(t->spec.instruction ? t->spec.instruction : "");
	t->rec.policy = strdup(t->spec.policy);
	t->rec.result = strdup("");
	t->rec.error = strdup("");
	t->rec.submitter_uid = uid;
	t->rec.submitter_name = strdup(sender ? sender : "");
	t->rec.created = dp_wall_us();
	t->rec.run_dir = strdup(dir);
	t->rec.priority = t->spec.priority;
	t->rec.display = strdup(t->spec.display);
	t->rec.inline_secrets = t->spec.n_inline > 0;
	t->state = DP_STATE_QUEUED;
	if (!t->rec.id || !t->rec.spec_json || !t->rec.state || !t->rec.instruction || !t->rec.policy ||
	    !t->rec.result || !t->rec.error || !t->rec.submitter_name || !t->rec.run_dir || !t->rec.display) {
		r = dp_error_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	if ((r = mkdir_parents(dir)) < 0) {
		r = dp_error_set(err, -EIO, "cannot create the run folder %s: %s", dir, strerror(-r));
		goto fail;
	}
	if ((r = flow_file(t, err)) < 0 || (r = check_policy(t, err)) < 0)
		goto fail_dir;
	/* Committed before the client hears of the task. */
	if ((r = dp_store_insert(d->store, &t->rec, err)) < 0)
		goto fail_dir;
	/* Stored; the task in memory keeps the parsed spec only. */
	free(t->rec.spec_json);
	t->rec.spec_json = NULL;
	if ((r = dp_daemon_add_task(d, t)) < 0 || (r = dp_bus_task_add(t)) < 0 || (r = queue_task(d, t)) < 0) {
		/* The row stays: at the next start the task is queued again. */
		dp_error_set(err, r, "cannot publish the task: %s", strerror(-r));
		if (d->n_tasks && d->tasks[d->n_tasks - 1] == t)
			d->n_tasks--;
		goto fail;
	}
	dp_log_info("task %s queued (%s, uid %u, %s)", t->rec.id, t->spec.policy, uid, sender ? sender : "?");
	dp_bus_emit_task_added(d, t);
	dp_bus_emit_manager_changed(d, "QueueLength");
	dp_daemon_schedule_dispatch(d);
	*out = t;
	return 0;
fail_dir:
	dp_remove_tree(dir);
fail:
	dp_task_free(t);
	return r;
}

/* --- start-up ------------------------------------------------------------ */

static int load_one(void *data, struct dp_task_record *rec)
{
	struct dp_daemon *d = data;
	struct dp_task *t = calloc(1, sizeof(*t));
	struct dp_error err = { 0 };
	int r;

	if (!t)
		return -ENOMEM;
	t->daemon = d;
	t->rec = *rec;
	memset(rec, 0, sizeof(*rec)); /* the task owns the strings now */
	if (dp_task_state_parse(t->rec.state, &t->state) < 0) {
		dp_log_warn("task %s: unknown state '%s' in the store: taken as interrupted", t->rec.id, t->rec.state);
		dp_task_set_state(t, DP_STATE_INTERRUPTED);
	}
	if (t->rec.seq > d->last_seq)
		d->last_seq = t->rec.seq;
	if (t->state == DP_STATE_QUEUED) {
		if (dp_task_spec_from_json(&t->spec, t->rec.spec_json, &err) < 0 || !t->spec.policy ||
		    !t->spec.display ||
		    flow_file(t, &err) < 0) {
			dp_log_error("task %s: %s", t->rec.id, err.message);
			dp_task_set_state(t, DP_STATE_INTERRUPTED);
			dp_replace_string(&t->rec.error, "the stored task could not be read back; submit it again");
			dp_task_persist(t);
		} else {
			t->has_spec = true;
		}
	}
	free(t->rec.spec_json);
	t->rec.spec_json = NULL;
	if ((r = dp_daemon_add_task(d, t)) < 0) {
		dp_task_free(t);
		return r;
	}
	if ((r = dp_bus_task_add(t)) < 0)
		return r;
	if (t->state == DP_STATE_QUEUED && (r = queue_task(d, t)) < 0)
		return r;
	return 0;
}

int dp_daemon_load(struct dp_daemon *d, struct dp_error *err)
{
	struct timespec ts;
	uint64_t now;
	int r;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	if ((r = dp_store_recover(d->store, now, err)) < 0)
		return r;
	if (r > 0)
		dp_log_info("%d task(s) interrupted by the last stop", r);
	d->last_seq = dp_store_max_seq(d->store);
	if ((r = dp_store_load(d->store, load_one, d, err)) < 0)
		return r;
	dp_daemon_prune(d);
	if (dp_queue_length(d->queue))
		dp_log_info("%zu queued task(s) taken up again", dp_queue_length(d->queue));
	dp_daemon_schedule_dispatch(d);
	return 0;
}

