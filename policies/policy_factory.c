#include "policies/policy_factory.h"

#include <errno.h>
#include <string.h>

#include "config.h"
#include "policies/flow/flow_policy.h"
#if HAVE_MODEL
#include "policies/model/model_policy.h"
#endif
#include "policies/script/script_policy.h"

static const char *infer_kind(const struct dp_policy_options *o)
{
	if (o->kind && *o->kind)
		return o->kind;
	if (o->flow_path)
		return "flow";
	if (o->script_path)
		return "script";
	if (o->profile || o->endpoint)
		return "model";
	return NULL;
}

int dp_policy_create(struct dp_policy **out, const struct dp_policy_options *o, struct dp_error *err)
{
	const char *kind = infer_kind(o);

	*out = NULL;
	if (!kind)
		return dp_error_set(err, -EINVAL, "no policy: give a flow, a script or a model profile");
	if (strcmp(kind, "flow") == 0) {
		struct dp_flow_options fo = { .flow_path = o->flow_path, .data_path = o->data_path, .vars = o->vars,
					      .actuator = o->actuator };

		if (!o->flow_path)
			return dp_error_set(err, -EINVAL, "the flow policy needs a flow file");
		return dp_flow_policy_create(out, &fo, err);
	}
	if (o->data_path)
		return dp_error_set(err, -EINVAL, "data (a CSV) goes with a flow, not the %s policy", kind);
	if (strcmp(kind, "script") == 0) {
		if (!o->script_path)
			return dp_error_set(err, -EINVAL, "the script policy needs a script file");
		return dp_script_policy_create(out, o->script_path, err);
	}
	if (strcmp(kind, "model") == 0) {
#if HAVE_MODEL
		struct dp_model_options mo = {
			.profile = o->profile, .endpoint = o->endpoint, .model_name = o->model_name,
			.api_key_file = o->api_key_file, .no_verify = o->no_verify,
			.thinking = o->thinking > 0 ? DP_MODEL_THINKING_ON
				    : o->thinking < 0 ? DP_MODEL_THINKING_OFF : DP_MODEL_THINKING_PROFILE,
			.stall_s = o->stall_s, .request_timeout_s = o->request_timeout_s,
		};

		if (!o->profile)
			return dp_error_set(err, -EINVAL, "the model policy needs a profile (minimax-m3, qwen3-vl, "
							  "ui-tars-1.5, generic-openai or a profile file)");
		return dp_model_policy_create(out, &mo, err);
#else
		return dp_error_set(err, -EOPNOTSUPP, "the model policy is not built: install libcurl "
						      "(libcurl4-openssl-dev) and build with -Dmodel=enabled");
#endif
	}
	return dp_error_set(err, -EINVAL, "unknown policy '%s': use flow, script or model", kind);
}
