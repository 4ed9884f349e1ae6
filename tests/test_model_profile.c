/* Model profiles: the four shipped ones load with the numbers the model
 * servers use, and a broken profile file is refused with its line and
 * what to fix. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "policies/model/model_image.h"
#include "policies/model/profile.h"
#include "tst.h"

static void test_shipped_profiles_load(void)
{
	struct dp_model_profile p;
	struct dp_error err = { 0 };

	TST_REQUIRE(dp_model_profile_load("minimax-m3", &p, &err) == 0);
	TST_EQ_STR(p.name, "minimax-m3");
	TST_EQ_STR(p.model, "MiniMax-M3");
	TST_EQ_INT(p.factor, 28);
	TST_EQ_INT(p.min_pixels, 3136);
	TST_EQ_INT(p.max_pixels, 451584);
	TST_EQ_INT(p.coords, DP_COORDS_PIXELS);
	TST_EQ_INT(p.actions, DP_MODEL_ACTIONS_TOOLS);
	TST_EQ_INT(p.thinking, DP_MODEL_THINKING_ADAPTIVE);
	TST_EQ_INT(p.thinking_style, DP_MODEL_THINKING_STYLE_MINIMAX);
	TST_EQ_INT(p.keep_screenshots, 0);
	TST_EQ_STR(p.endpoint, "https://api.minimax.io/v1");
	TST_EQ_STR(p.api_key_env, "MINIMAX_API_KEY");

	TST_REQUIRE(dp_model_profile_load("qwen3-vl", &p, &err) == 0);
	TST_EQ_STR(p.model, "Qwen3-VL-8B-Instruct");
	TST_EQ_INT(p.factor, 32);
	TST_EQ_INT(p.coords, DP_COORDS_NORM1000);
	TST_CHECK(p.keep_screenshots > 0 && p.drop_chunk > 1);

	TST_REQUIRE(dp_model_profile_load("ui-tars-1.5", &p, &err) == 0);
	TST_EQ_STR(p.model, "UI-TARS-1.5-7B");
	TST_EQ_INT(p.factor, 28);
	TST_EQ_INT(p.max_pixels, 16384 * 28 * 28);
	TST_EQ_INT(p.actions, DP_MODEL_ACTIONS_UI_TARS_TEXT);
	TST_EQ_INT(p.image_format, DP_MODEL_IMAGE_PNG);

	TST_REQUIRE(dp_model_profile_load("generic-openai", &p, &err) == 0);
	TST_EQ_STR(p.model, "gpt-4o");
	TST_EQ_INT(p.max_pixels, 1003520);
	TST_EQ_INT(p.thinking, DP_MODEL_THINKING_NONE);
}

/* The grid each profile sends a 1920x1080 screen at, and its token cost. */
static void test_image_grid_per_profile(void)
{
	static const struct {
		const char *name;
		int32_t w, h;
	} want[] = {
		{ "minimax-m3", 896, 504 },       /* DESIGN.md: 576 tokens */
		{ "generic-openai", 1316, 728 },
		{ "ui-tars-1.5", 1932, 1092 },
		{ "qwen3-vl", 1344, 768 },
	};
	struct dp_model_profile p;
	struct dp_error err = { 0 };

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		int32_t w = 0, h = 0;

		TST_REQUIRE(dp_model_profile_load(want[i].name, &p, &err) == 0);
		TST_REQUIRE(dp_model_image_size(&p, 1920, 1080, &w, &h, &err) == 0);
		fprintf(stderr, "  %s: %dx%d, %d tokens\n", want[i].name, w, h, (w / p.factor) * (h / p.factor));
		TST_EQ_INT(w, want[i].w);
		TST_EQ_INT(h, want[i].h);
		TST_EQ_INT(w % p.factor, 0);
		TST_EQ_INT(h % p.factor, 0);
		TST_CHECK((int64_t)w * h <= p.max_pixels && (int64_t)w * h >= p.min_pixels);
	}
}

static const char good[] =
	"{\n"
	"  \"model\": \"m\",\n"
	"  \"factor\": 28,\n"
	"  \"min_pixels\": 3136,\n"
	"  \"max_pixels\": 451584,\n"
	"  \"coordinate_space\": \"image_pixels\",\n"
	"  \"action_format\": \"tools\",\n"
	"  \"thinking\": \"none\",\n"
	"  \"thinking_style\": \"vllm\",\n"
	"  \"keep_screenshots\": 0,\n"
	"  \"drop_chunk\": 0,\n"
	"  \"context_tokens\": 100000,\n"
	"  \"max_completion_tokens\": 1024,\n"
	"  \"image_format\": \"jpeg\",\n"
	"  \"image_quality\": 80,\n"
	"  \"endpoint\": \"http://127.0.0.1:8000/v1\"\n"
	"}\n";

/* good with one line replaced (1-based), or removed when repl is "". */
static char *with_line(int line, const char *repl)
{
	char *out = malloc(sizeof(good) + 256), *o = out;
	const char *p = good;
	int n = 1;

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = (size_t)(eol - p) + 1;

		if (n == line) {
			o += sprintf(o, "%s", repl);
		} else {
			memcpy(o, p, len);
			o += len;
		}
		p += len;
		n++;
	}
	*o = '\0';
	return out;
}

static void expect_error(int line, const char *repl, const char *want)
{
	struct dp_model_profile p;
	struct dp_error err = { 0 };
	char *text = with_line(line, repl);

	TST_EQ_INT(dp_model_profile_parse(text, strlen(text), "t", &p, &err), -EINVAL);
	if (!strstr(err.message, want)) {
		fprintf(stderr, "  got \"%s\", wanted \"%s\"\n", err.message, want);
		TST_CHECK(strstr(err.message, want));
	}
	free(text);
}

static void test_broken_profiles_give_line_and_reason(void)
{
	struct dp_model_profile p;
	struct dp_error err = { 0 };

	TST_EQ_INT(dp_model_profile_parse(good, strlen(good), "t", &p, &err), 0);
	expect_error(3, "  \"factor\": \"28\",\n", "line 3: factor: expected a whole number from 2 to 1024");
	expect_error(3, "  \"factor\": 28.5,\n", "line 3: factor: expected a whole number");
	expect_error(6, "  \"coordinate_space\": \"pixels\",\n",
		     "line 6: coordinate_space: expected one of \"image_pixels\", \"normalized_1000\"");
	expect_error(8, "  \"thinking\": \"on\",\n", "line 8: thinking: expected one of \"none\", \"adaptive\"");
	expect_error(5, "  \"max_pixels\": 100,\n", "line 5: max_pixels: must not be below min_pixels");
	expect_error(10, "  \"keep_screenshots\": 5,\n", "line 11: drop_chunk: must be 1 or more");
	expect_error(16, "  \"endpoint\": \"api.minimax.io\"\n", "line 16: endpoint: expected an http:// or https://");
	expect_error(9, "  \"thinking_style\": \"vllm\",\n  \"colour\": \"blue\",\n", "line 10: colour: unknown field");
	expect_error(4, "  \"min_pixels\" 3136,\n", "line 4, column");
	expect_error(2, "", "model: missing");
	expect_error(14, "  \"image_format\": \"webp\",\n", "line 14: image_format: expected one of \"jpeg\", \"png\"");
}

static void test_lookup_by_name_path_and_folders(void)
{
	char dir[] = "/tmp/dp-profiles-XXXXXX", path[256];
	struct dp_model_profile p;
	struct dp_error err = { 0 };
	const char *saved = getenv("DESKPILOT_PROFILE_DIR");
	char *saved_copy = saved ? strdup(saved) : NULL;
	FILE *f;

	TST_REQUIRE(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/mine.json", dir);
	f = fopen(path, "w");
	TST_REQUIRE(f);
	fputs(good, f);
	fclose(f);
	/* a path */
	TST_EQ_INT(dp_model_profile_load(path, &p, &err), 0);
	TST_EQ_STR(p.name, "mine");
	/* a name in DESKPILOT_PROFILE_DIR */
	setenv("DESKPILOT_PROFILE_DIR", dir, 1);
	TST_EQ_INT(dp_model_profile_load("mine", &p, &err), 0);
	/* a name found nowhere says where it looked */
	TST_EQ_INT(dp_model_profile_load("nope", &p, &err), -ENOENT);
	TST_CHECK(strstr(err.message, "no model profile 'nope'") && strstr(err.message, dir));
	/* no folder tricks in a name */
	TST_EQ_INT(dp_model_profile_load("a b", &p, &err), -EINVAL);
	/* a broken file in the folder is an error, not "not found" */
	f = fopen(path, "w");
	TST_REQUIRE(f);
	fputs("{\"model\": 1}\n", f);
	fclose(f);
	TST_EQ_INT(dp_model_profile_load("mine", &p, &err), -EINVAL);
	TST_CHECK(strstr(err.message, "mine.json: line 1: model: expected a string"));
	unlink(path);
	rmdir(dir);
	if (saved_copy)
		setenv("DESKPILOT_PROFILE_DIR", saved_copy, 1);
	else
		unsetenv("DESKPILOT_PROFILE_DIR");
	free(saved_copy);
}

int main(void)
{
	TST_RUN(test_shipped_profiles_load);
	TST_RUN(test_image_grid_per_profile);
	TST_RUN(test_broken_profiles_give_line_and_reason);
	TST_RUN(test_lookup_by_name_path_and_folders);
	TST_EXIT();
}
