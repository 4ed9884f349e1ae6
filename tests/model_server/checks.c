#include "checks.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/model_server/screen.h"
#include "tests/model_server/util.h"

void ms_finding(struct ms_findings *f, bool reject, const char *fmt, ...)
{
	char text[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (reject && !f->reject) {
		f->reject = true;
		snprintf(f->reject_reason, sizeof(f->reject_reason), "%s", text);
	}
	if (f->n < MS_MAX_FINDINGS)
		snprintf(f->reason[f->n++], sizeof(f->reason[0]), "%s", text);
}

void ms_check_images(const cJSON *messages, const struct ms_profile *p, struct ms_findings *f)
{
	const cJSON *m;
	int i = 0;

	cJSON_ArrayForEach(m, messages) {
		const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content"), *part;
		int j = 0;

		cJSON_ArrayForEach(part, (cJSON_IsArray(content) ? content : NULL)) {
			const char *type = ms_json_str(part, "type");
			const char *url = ms_json_str(cJSON_GetObjectItemCaseSensitive(part, "image_url"), "url");
			struct dp_error err = { 0 };
			int32_t w, h;
			int64_t px;

			if (!type || strcmp(type, "image_url")) {
				j++;
				continue;
			}
			if (!url) {
				ms_finding(f, true, "messages[%d].content[%d].image_url.url: expected a string", i, j);
			} else if (ms_image_url_size(url, &w, &h, &err) < 0) {
				ms_finding(f, true, "messages[%d].content[%d].%s", i, j, err.message);
			} else {
				px = (int64_t)w * h;
				if (f->n_images < sizeof(f->image_w) / sizeof(f->image_w[0])) {
					f->image_w[f->n_images] = w;
					f->image_h[f->n_images++] = h;
				}
				if (w % p->factor || h % p->factor)
					ms_finding(f, true,
						   "messages[%d].content[%d]: image %dx%d is not on the %s grid: "
						   "both sides must be multiples of %d",
						   i, j, w, h, p->name, p->factor);
				else if (px < p->min_pixels || px > p->max_pixels)
					ms_finding(f, true,
						   "messages[%d].content[%d]: image %dx%d has %lld pixels, "
						   "outside %s's %lld..%lld",
						   i, j, w, h, (long long)px, p->name, (long long)p->min_pixels,
						   (long long)p->max_pixels);
			}
			j++;
		}
		i++;
	}
}

void ms_check_tool_results(const cJSON *messages, struct ms_findings *f)
{
	int n = cJSON_GetArraySize(messages);

	for (int i = 0; i < n; i++) {
		const cJSON *m = cJSON_GetArrayItem(messages, i);
		const char *role = ms_json_str(m, "role");
		const cJSON *call;

		if (role && !strcmp(role, "tool")) {
			/* It must answer a call of the nearest assistant message before it. */
			const char *id = ms_json_str(m, "tool_call_id");
			bool found = false;

			for (int k = i - 1; k >= 0 && !found; k--) {
				const cJSON *prev = cJSON_GetArrayItem(messages, k);
				const char *prole = ms_json_str(prev, "role");

				if (prole && !strcmp(prole, "assistant")) {
					cJSON_ArrayForEach(call, cJSON_GetObjectItemCaseSensitive(prev, "tool_calls"))
						found = found || (id && ms_json_str(call, "id") &&
								  !strcmp(id, ms_json_str(call, "id")));
					break;
				}
			}
			if (!found)
				ms_finding(f, true,
					   "messages[%d]: tool message for '%s', which no tool call of the assistant "
					   "message before it has",
					   i, id ? id : "(no tool_call_id)");
			continue;
		}
		if (!role || strcmp(role, "assistant"))
			continue;
		cJSON_ArrayForEach(call, cJSON_GetObjectItemCaseSensitive(m, "tool_calls")) {
			const char *id = ms_json_str(call, "id");
			bool answered = false;

			for (int k = i + 1; k < n && !answered; k++) {
				const cJSON *next = cJSON_GetArrayItem(messages, k);
				const char *nrole = ms_json_str(next, "role");

				if (nrole && !strcmp(nrole, "assistant"))
					break;
				answered = nrole && !strcmp(nrole, "tool") && id && ms_json_str(next, "tool_call_id") &&
					   !strcmp(ms_json_str(next, "tool_call_id"), id);
			}
			if (!answered)
				ms_finding(f, true, "messages[%d]: tool call '%s' has no tool message with its result",
					   i, id ? id : "(no id)");
		}
	}
}

/* prev and cur differ only where an image part became a dropped note. */
static bool only_dropped(const cJSON *prev, const cJSON *cur)
{
	cJSON *a = cJSON_Duplicate(prev, true), *b = cJSON_Duplicate(cur, true);
	cJSON *ca = cJSON_DetachItemFromObjectCaseSensitive(a, "content");
	cJSON *cb = cJSON_DetachItemFromObjectCaseSensitive(b, "content");
	char *ra = ms_json_canonical(a), *rb = ms_json_canonical(b);
	bool ok = ra && rb && !strcmp(ra, rb) && cJSON_IsArray(ca) && cJSON_IsArray(cb) &&
		  cJSON_GetArraySize(ca) == cJSON_GetArraySize(cb);

	for (int i = 0; ok && i < cJSON_GetArraySize(ca); i++) {
		const cJSON *pa = cJSON_GetArrayItem(ca, i), *pb = cJSON_GetArrayItem(cb, i);
		const char *ta = ms_json_str(pa, "type");
		char *sa = ms_json_canonical(pa), *sb = ms_json_canonical(pb);

		ok = sa && sb && (!strcmp(sa, sb) || (ta && !strcmp(ta, "image_url") &&
						      ms_is_dropped_note(ms_json_str(pb, "text"))));
		free(sa);
		free(sb);
	}
	free(ra);
	free(rb);
	cJSON_Delete(ca);
	cJSON_Delete(cb);
	cJSON_Delete(a);
	cJSON_Delete(b);
	return ok;
}

void ms_check_history(const struct ms_convo *cv, const cJSON *messages, const struct ms_segments *seg,
		      const struct ms_profile *p, struct ms_findings *f)
{
	size_t n = seg->n - 1; /* messages; segment 0 is the tools */

	if (cv->prev_messages) {
		size_t pn = cv->prev.n - 1;

		if (n < pn) {
			ms_finding(f, false, "history shrank: %zu messages after %zu in the previous request", n, pn);
		} else {
			for (size_t i = 0; i < pn; i++) {
				if (!strcmp(seg->canon[i + 1], cv->prev.canon[i + 1]))
					continue;
				if (only_dropped(cJSON_GetArrayItem(cv->prev_messages, (int)i),
						 cJSON_GetArrayItem(messages, (int)i))) {
					if (!p->drops_screenshots)
						ms_finding(f, false,
							   "messages[%zu]: a screenshot was dropped, but %s keeps all "
							   "of them", i, p->name);
					continue;
				}
				ms_finding(f, false, "messages[%zu] differs from the previous request's: the history "
						     "must only grow", i);
				break;
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		const cJSON *m = cJSON_GetArrayItem(messages, (int)i);
		const char *role = ms_json_str(m, "role");
		char *essence;
		bool any;

		if (!role || strcmp(role, "assistant"))
			continue;
		if (!(essence = ms_assistant_essence(m)))
			continue;
		if (!ms_convo_was_sent(cv, ms_prefix_key(seg, i), essence, &any) && any)
			ms_finding(f, false, "messages[%zu]: the assistant message is not the one sent (content, "
					     "tool_calls and reasoning_details must come back unchanged)", i);
		else if (!any)
			ms_finding(f, false, "messages[%zu]: this server sent no assistant message after that "
					     "history", i);
		free(essence);
	}
}
