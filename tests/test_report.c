/* report.html from a run folder: images embedded, model text escaped, clicks
 * marked, bad lines and missing images shown, never a crash. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/file.h"
#include "engine/image_jpeg.h"
#include "engine/report.h"
#include "tst.h"

static char *make_run_dir(void)
{
	const char *base = getenv("TMPDIR");
	char tmpl[4096];

	snprintf(tmpl, sizeof(tmpl), "%s/dp-report-XXXXXX", base && *base ? base : "/tmp");
	return mkdtemp(tmpl) ? strdup(tmpl) : NULL;
}

static void remove_run_dir(char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];

	while (d && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	free(dir);
}

static void write_text(const char *dir, const char *name, const char *text)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	TST_EQ_INT(dp_file_write_atomic(path, text, strlen(text), NULL), 0);
}

/* A 64x48 JPEG: a gradient with a bright square where step 1 clicks. */
static void write_jpeg(const char *dir, const char *name, uint32_t tint, uint8_t **out, size_t *size)
{
	enum { W = 64, H = 48 };
	static uint32_t px[W * H];
	struct dp_frame frame = { .width = W, .height = H, .stride = W * 4, .pixels = (uint8_t *)px };
	char path[4096];

	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			px[y * W + x] = (x > 34 && x < 46 && y > 24 && y < 36) ? 0xffffff
										 : ((uint32_t)(x * 4) << 16 | (uint32_t)(y * 5) << 8) ^ tint;
	TST_EQ_INT(dp_jpeg_encode(&frame, 90, out, size, NULL), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	TST_EQ_INT(dp_file_write_atomic(path, *out, *size, NULL), 0);
}

static char *read_report(const char *dir)
{
	char path[4096];
	FILE *f;
	char *text;
	long size;

	snprintf(path, sizeof(path), "%s/report.html", dir);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)size + 1);
	if (fread(text, 1, (size_t)size, f) != (size_t)size) {
		free(text);
		text = NULL;
	}
	fclose(f);
	return text;
}

static int b64_value(char c)
{
	const char *tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(tbl, c) : NULL;

	return p ? (int)(p - tbl) : -1;
}

/* Decodes the base64 text at s up to the first non-base64 character. */
static uint8_t *b64_decode(const char *s, size_t *size)
{
	size_t n = 0, cap = strlen(s) / 4 * 3 + 3;
	uint8_t *out = malloc(cap);
	uint32_t acc = 0;
	int bits = 0, v;

	for (; (v = b64_value(*s)) >= 0; s++) {
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	*size = n;
	return out;
}

static const char result_json[] =
	"{\"task\":\"t-42\",\"instruction\":\"Save the file as <notes>.txt\",\"outcome\":\"succeeded\","
	"\"message\":\"saved\",\"steps\":4,\"tokens\":5321,\"started\":\"2025-01-01T10:00:00Z\","
	"\"finished\":\"2025-01-01T10:00:42Z\",\"duration_ms\":42000}\n";

static const char traj_jsonl[] =
	/* 1: a click, reasoning that tries to inject markup */
	"{\"step\":1,\"image\":\"step_001.jpg\",\"image_width\":64,\"image_height\":48,"
	"\"actions\":[{\"action\":\"click\",\"x\":40,\"y\":30,\"button\":1,\"count\":2}],"
	"\"reasoning\":\"<script>alert(1)</script> then \\\"quotes\\\" & ampersands\","
	"\"feedback\":[{\"verdict\":\"changed\",\"changed\":[30,20,20,20],\"message\":\"a menu opened\"}],"
	"\"timings_us\":{\"observe\":1200,\"decide\":900000,\"guard\":10,\"act\":5000,\"settle\":120000,"
	"\"check\":800,\"record\":3000},\"tokens\":{\"in\":1200,\"out\":80}}\n"
	/* 2: cut short, as after a crash */
	"{\"step\":2,\"image\":\"step_0\n"
	/* 3: drag, type, key */
	"{\"step\":2,\"image\":\"step_002.jpg\",\"image_width\":64,\"image_height\":48,"
	"\"actions\":[{\"action\":\"drag\",\"path\":[[5,5],[20,10],[50,40]],\"button\":1},"
	"{\"action\":\"type\",\"text\":\"Grüße\",\"method\":\"auto\"},{\"action\":\"key\",\"keys\":\"ctrl+s\",\"count\":1},"
	"{\"action\":\"scroll\",\"x\":10,\"y\":10,\"dx\":0,\"dy\":3}],"
	"\"feedback\":[{\"verdict\":\"changed elsewhere\",\"message\":\"m\"},{\"verdict\":\"no visible effect\","
	"\"message\":\"nothing\"},{\"verdict\":\"failed\",\"message\":\"<b>x</b>\"}],"
	"\"timings_us\":{\"observe\":1000,\"decide\":700000,\"guard\":5,\"act\":9000,\"settle\":90000,"
	"\"check\":700,\"record\":2000},\"tokens\":{\"in\":1900,\"out\":141}}\n"
	"\n"
	/* 5: its screenshot is missing */
	"{\"step\":3,\"image\":\"step_003.jpg\",\"image_width\":64,\"image_height\":48,"
	"\"actions\":[{\"action\":\"click\",\"x\":7,\"y\":8}],\"feedback\":[]}\n"
	/* 6: an image name that points elsewhere */
	"{\"step\":4,\"image\":\"../../../etc/passwd\",\"image_width\":64,\"image_height\":48,"
	"\"actions\":[{\"action\":\"done\",\"summary\":\"ok\"}]}\n"
	/* 7: JSON, but not a step */
	"[1,2,3]\n";

static void test_full_run(void)
{
	char *dir = make_run_dir();
	uint8_t *jpeg1 = NULL, *jpeg2 = NULL, *embedded;
	size_t size1 = 0, size2 = 0, embedded_size = 0;
	struct dp_error err = { 0 };
	char *page, *uri, path[4096];

	TST_REQUIRE(dir != NULL);
	write_text(dir, "result.json", result_json);
	write_text(dir, "traj.jsonl", traj_jsonl);
	write_jpeg(dir, "step_001.jpg", 0, &jpeg1, &size1);
	write_jpeg(dir, "step_002.jpg", 0x203040, &jpeg2, &size2);

	TST_EQ_INT(dp_report_write(dir, &err), 0);
	page = read_report(dir);
	TST_REQUIRE(page != NULL);
	snprintf(path, sizeof(path), "%s/report.html.part", dir);
	TST_CHECK(access(path, F_OK) != 0);

	/* The screenshots travel inside the page, byte for byte. */
	uri = strstr(page, "src=\"data:image/jpeg;base64,");
	TST_REQUIRE(uri != NULL);
	embedded = b64_decode(uri + strlen("src=\"data:image/jpeg;base64,"), &embedded_size);
	TST_EQ_INT(embedded_size, size1);
	TST_CHECK(embedded_size == size1 && memcmp(embedded, jpeg1, size1) == 0);
	free(embedded);
	uri = strstr(uri + 1, "src=\"data:image/jpeg;base64,");
	TST_REQUIRE(uri != NULL);
	embedded = b64_decode(uri + strlen("src=\"data:image/jpeg;base64,"), &embedded_size);
	TST_CHECK(embedded_size == size2 && memcmp(embedded, jpeg2, size2) == 0);
	free(embedded);
	TST_CHECK(strstr(uri + 10, "data:image/jpeg") == NULL); /* steps 3 and 4 have none */
	TST_CHECK(strstr(page, "loading=\"lazy\"") != NULL);
	TST_CHECK(strstr(page, "src=\"http") == NULL && strstr(page, "href=\"http") == NULL);

	/* Model text is inert. */
	TST_CHECK(strstr(page, "&lt;script&gt;alert(1)&lt;/script&gt; then &quot;quotes&quot; &amp; ampersands") != NULL);
	TST_CHECK(strstr(page, "<script") == NULL);
	TST_CHECK(strstr(page, "<b>x</b>") == NULL && strstr(page, "&lt;b&gt;x&lt;/b&gt;") != NULL);
	TST_CHECK(strstr(page, "Save the file as &lt;notes&gt;.txt") != NULL);

	/* The click is marked in the image's pixel space; the change outlined. */
	TST_CHECK(strstr(page, "viewBox=\"0 0 64 48\"") != NULL);
	TST_CHECK(strstr(page, "<circle cx=\"40\" cy=\"30\"") != NULL);
	TST_CHECK(strstr(page, "x=\"30\" y=\"20\" width=\"20\" height=\"20\"") != NULL);
	TST_CHECK(strstr(page, "<polyline points=\"5,5 20,10 50,40\"/>") != NULL);

	/* Actions in words, verdicts as badges. */
	TST_CHECK(strstr(page, "<b>click</b> (40, 30) left ×2") != NULL);
	TST_CHECK(strstr(page, "<b>type</b> “Grüße”") != NULL);
	TST_CHECK(strstr(page, "<b>key</b> ctrl+s") != NULL);
	TST_CHECK(strstr(page, "<b>drag</b> (5, 5) → (50, 40)") != NULL);
	TST_CHECK(strstr(page, "<b>scroll</b> down 3 at (10, 10)") != NULL);
	TST_CHECK(strstr(page, "class=\"badge v-ok\">changed<") != NULL);
	TST_CHECK(strstr(page, "class=\"badge v-noeff\">no visible effect<") != NULL);

	/* Bad lines, missing and refused images are shown, not fatal. */
	TST_CHECK(strstr(page, "Line 2 of traj.jsonl is not valid JSON") != NULL);
	TST_CHECK(strstr(page, "Line 7 of traj.jsonl is not a JSON object") != NULL);
	TST_CHECK(strstr(page, "2 lines of traj.jsonl could not be read") != NULL);
	TST_CHECK(strstr(page, "<code>step_003.jpg</code> is missing") != NULL);
	TST_CHECK(strstr(page, "is not a step_NNN.jpg name") != NULL);
	TST_CHECK(strstr(page, "root:") == NULL);

	/* The summary. */
	TST_CHECK(strstr(page, "<span class=\"outcome o-ok\">succeeded</span>") != NULL);
	TST_CHECK(strstr(page, "42.00 s") != NULL);
	TST_CHECK(strstr(page, "id=\"step-4\"") != NULL);
	TST_CHECK(strstr(page, "median per step") != NULL);

	free(page);
	free(jpeg1);
	free(jpeg2);
	remove_run_dir(dir);
}

static void test_empty_and_missing(void)
{
	char *dir = make_run_dir();
	struct dp_error err = { 0 };
	char *page;

	TST_REQUIRE(dir != NULL);
	/* A folder with nothing in it still gets a page that says so. */
	TST_EQ_INT(dp_report_write(dir, &err), 0);
	page = read_report(dir);
	TST_REQUIRE(page != NULL);
	TST_CHECK(strstr(page, "result.json is missing") != NULL);
	TST_CHECK(strstr(page, "traj.jsonl is missing") != NULL);
	free(page);

	/* A corrupt result.json and a traj.jsonl of garbage. */
	write_text(dir, "result.json", "{\"outcome\":");
	write_text(dir, "traj.jsonl", "\x01\xff garbage\n{}\n");
	TST_EQ_INT(dp_report_write(dir, &err), 0);
	page = read_report(dir);
	TST_REQUIRE(page != NULL);
	TST_CHECK(strstr(page, "result.json is not a valid JSON object") != NULL);
	TST_CHECK(strstr(page, "Line 2 of traj.jsonl has no step number") != NULL);
	free(page);
	remove_run_dir(dir);

	TST_CHECK(dp_report_write("/nonexistent/deskpilot-run", &err) < 0);
	TST_CHECK(strstr(err.message, "/nonexistent/deskpilot-run") != NULL);
}

int main(void)
{
	TST_RUN(test_full_run);
	TST_RUN(test_empty_and_missing);
	TST_EXIT();
}
