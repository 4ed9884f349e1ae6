/* Text queries against OCR results made by hand (no Tesseract needed):
 * lines and reading order, phrases, any case, punctuation at word ends,
 * regexes, nth, regions, and the messages a flow author reads when a
 * target is missing or ambiguous. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/locate.h"
#include "engine/ocr_layout.h"
#include "engine/textmatch.h"
#include "tst.h"

struct spec {
	const char *text;
	int32_t x, y, w, h;
};

/* A screen, words out of order as an OCR of several areas returns them. */
static const struct spec screen[] = {
	{ "invoice", 45, 201, 50, 11 },  { "New", 10, 200, 30, 12 },     { "Save", 400, 200, 30, 12 },
	{ "Cancel", 460, 198, 40, 16 },  { "File", 10, 100, 30, 12 },    { "Edit", 46, 101, 28, 11 },
	{ "Save", 10, 300, 30, 12 },     { "Total:", 100, 300, 40, 12 }, { "1,234.56", 145, 300, 60, 12 },
	{ "INV-2024-0042", 10, 400, 90, 12 }, { "Straße", 106, 400, 50, 12 }, { "ÄRGER", 162, 400, 50, 12 },
	{ "(Draft)", 218, 399, 50, 14 }, { "Save", 700, 500, 30, 12 },
};
#define N_SCREEN (sizeof(screen) / sizeof(screen[0]))

static struct dp_ocr_result result;

static void build(void)
{
	result.words = calloc(N_SCREEN, sizeof(*result.words));
	for (size_t i = 0; i < N_SCREEN; i++) {
		snprintf(result.words[i].text, sizeof(result.words[i].text), "%s", screen[i].text);
		result.words[i].box = (struct dp_rect){ screen[i].x, screen[i].y, screen[i].w, screen[i].h };
		result.words[i].confidence = 0.9f;
	}
	result.n_words = N_SCREEN;
	dp_ocr_layout(result.words, result.n_words, &result.lines, &result.n_lines);
}

static int find(const char *text, enum dp_text_match match, uint32_t nth, struct dp_match *m, struct dp_error *err)
{
	struct dp_text_query q = { .text = text, .match = match, .nth = nth };

	memset(err, 0, sizeof(*err));
	return dp_locate_text_in(&result, &q, m, err);
}

static void test_lines_in_reading_order(void)
{
	/* Split where words are far apart: "Save" and "Cancel", "Save" and "Total:". */
	static const char *const want[] = { "File Edit", "New invoice", "Save", "Cancel", "Save", "Total: 1,234.56",
					    "INV-2024-0042 Straße ÄRGER (Draft)", "Save" };

	TST_EQ_INT(result.n_lines, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < result.n_lines && i < sizeof(want) / sizeof(want[0]); i++)
		TST_EQ_STR(result.lines[i].text, want[i]);
	/* Words in reading order, each line's consecutive. */
	TST_EQ_STR(result.words[0].text, "File");
	TST_EQ_STR(result.words[2].text, "New");
	TST_EQ_STR(result.words[3].text, "invoice");
	for (size_t i = 1; i < result.n_words; i++)
		TST_CHECK(result.words[i].line >= result.words[i - 1].line);
	TST_EQ_INT(result.lines[1].box.x, 10);
	TST_EQ_INT(result.lines[1].box.y, 200);
	TST_EQ_INT(result.lines[1].box.width, 85);
	TST_EQ_INT(result.lines[1].box.height, 12);
}

static void test_phrase_and_case(void)
{
	struct dp_error err;
	struct dp_match m;

	TST_EQ_INT(find("New invoice", DP_MATCH_EXACT, 0, &m, &err), 0);
	TST_EQ_STR(m.text, "New invoice");
	TST_EQ_INT(m.box.x, 10);
	TST_EQ_INT(m.box.width, 85);
	TST_CHECK(m.score > 0.89f && m.score < 0.91f);
	TST_EQ_INT(find(" New\tinvoice ", DP_MATCH_EXACT, 0, &m, &err), 0);
	TST_EQ_INT(find("new invoice", DP_MATCH_EXACT, 0, &m, &err), -ENOENT);
	TST_EQ_INT(find("NEW Invoice", DP_MATCH_ICASE, 0, &m, &err), 0);
	TST_EQ_INT(find("ärger", DP_MATCH_ICASE, 0, &m, &err), 0);
	TST_EQ_STR(m.text, "ÄRGER");
	TST_EQ_INT(find("STRAßE", DP_MATCH_ICASE, 0, &m, &err), 0);
	/* Across two lines of one row: no. */
	TST_EQ_INT(find("Save Cancel", DP_MATCH_EXACT, 0, &m, &err), -ENOENT);
}

static void test_punctuation_at_word_ends(void)
{
	struct dp_error err;
	struct dp_match m;

	TST_EQ_INT(find("Draft", DP_MATCH_EXACT, 0, &m, &err), 0);
	TST_EQ_STR(m.text, "(Draft)");
	TST_EQ_INT(find("Total", DP_MATCH_EXACT, 0, &m, &err), 0);
	TST_EQ_INT(find("Total: 1,234.56", DP_MATCH_EXACT, 0, &m, &err), 0);
	TST_EQ_INT(find("Total 1,234.56", DP_MATCH_EXACT, 0, &m, &err), 0);
	/* Inside a word it counts. */
	TST_EQ_INT(find("1234.56", DP_MATCH_EXACT, 0, &m, &err), -ENOENT);
	/* Punctuation alone must be there. */
	TST_EQ_INT(find(":", DP_MATCH_EXACT, 0, &m, &err), -ENOENT);
	TST_CHECK(dp_text_word_equal("Save...", "Save", false));
	TST_CHECK(!dp_text_word_equal("Save", "Sav", false));
	TST_CHECK(dp_text_word_equal("ÉCOLE", "école", true));
	TST_CHECK(!dp_text_word_equal("ÉCOLE", "école", false));
}

static void test_regex(void)
{
	struct dp_error err;
	struct dp_match m;

	TST_EQ_INT(find("INV-[0-9]+-[0-9]+", DP_MATCH_REGEX, 0, &m, &err), 0);
	TST_EQ_STR(m.text, "INV-2024-0042");
	TST_EQ_INT(m.box.x, 10);
	TST_EQ_INT(m.box.width, 90);
	/* A match over two words covers both. */
	TST_EQ_INT(find("Total: [0-9,.]+", DP_MATCH_REGEX, 0, &m, &err), 0);
	TST_EQ_STR(m.text, "Total: 1,234.56");
	TST_EQ_INT(m.box.x, 100);
	TST_EQ_INT(m.box.width, 105);
	/* Part of a word selects the word; a match starting at a space does not take the word before. */
	TST_EQ_INT(find("234", DP_MATCH_REGEX, 0, &m, &err), 0);
	TST_EQ_STR(m.text, "1,234.56");
	TST_EQ_INT(find(" 1,2", DP_MATCH_REGEX, 0, &m, &err), 0);
	TST_EQ_STR(m.text, "1,234.56");
	/* Anchors are per line. */
	TST_EQ_INT(find("^Save$", DP_MATCH_REGEX, 0, &m, &err), -EINVAL);
	TST_EQ_INT(find("^Total:", DP_MATCH_REGEX, 0, &m, &err), 0);
	TST_EQ_INT(m.box.y, 300);
	TST_EQ_INT(find("^1,234", DP_MATCH_REGEX, 0, &m, &err), -ENOENT);
	/* Several matches in one line count one by one. */
	TST_EQ_INT(find("[A-Z]{3,}", DP_MATCH_REGEX, 2, &m, &err), 0);
	TST_EQ_STR(m.text, "ÄRGER");
	TST_EQ_INT(find("x*", DP_MATCH_REGEX, 0, &m, &err), -ENOENT); /* empty matches select nothing */
	TST_EQ_INT(find("([", DP_MATCH_REGEX, 0, &m, &err), -EINVAL);
	TST_CHECK(strstr(err.message, "does not compile") != NULL);
}

static void test_nth_and_ambiguity(void)
{
	struct dp_error err;
	struct dp_match m;

	TST_EQ_INT(find("Save", DP_MATCH_EXACT, 0, &m, &err), -EINVAL);
	TST_CHECK(strstr(err.message, "3 matches") != NULL);
	TST_CHECK(strstr(err.message, "400,200 30x12") != NULL);
	TST_CHECK(strstr(err.message, "10,300 30x12") != NULL);
	TST_CHECK(strstr(err.message, "700,500 30x12") != NULL);
	TST_CHECK(strstr(err.message, "nth") != NULL);
	fprintf(stderr, "  (%s)\n", err.message);
	TST_EQ_INT(find("Save", DP_MATCH_EXACT, 1, &m, &err), 0);
	TST_EQ_INT(m.box.x, 400);
	TST_EQ_INT(find("Save", DP_MATCH_EXACT, 2, &m, &err), 0);
	TST_EQ_INT(m.box.y, 300);
	TST_EQ_INT(find("Save", DP_MATCH_EXACT, 3, &m, &err), 0);
	TST_EQ_INT(m.box.x, 700);
	TST_EQ_INT(find("Save", DP_MATCH_EXACT, 4, &m, &err), -ENOENT);
	TST_CHECK(strstr(err.message, "only 3") != NULL);
}

static void test_region(void)
{
	struct dp_text_query q = { .text = "Save", .has_region = true, .region = { 0, 250, 300, 100 } };
	struct dp_error err = { 0 };
	struct dp_match m;

	TST_EQ_INT(dp_locate_text_in(&result, &q, &m, &err), 0);
	TST_EQ_INT(m.box.y, 300);
	/* A word belongs to the region its centre is in. */
	q.region = (struct dp_rect){ 0, 307, 300, 100 }; /* the centre of Save at 10,300 is at y 306 */
	TST_EQ_INT(dp_locate_text_in(&result, &q, &m, &err), -ENOENT);
	TST_CHECK(strstr(err.message, "in region 300x100 at 0,307") != NULL);
	q.region = (struct dp_rect){ 0, 0, 5, 5 };
	TST_EQ_INT(dp_locate_text_in(&result, &q, &m, &err), -ENOENT);
	TST_CHECK(strstr(err.message, "no text was read") != NULL);
}

static void test_missing_names_the_nearest(void)
{
	struct dp_error err;
	struct dp_match m;

	TST_EQ_INT(find("Cancle", DP_MATCH_EXACT, 0, &m, &err), -ENOENT);
	TST_CHECK(strstr(err.message, "most similar: \"Cancel\" at 460,198") != NULL);
	fprintf(stderr, "  (%s)\n", err.message);
	TST_EQ_INT(find("New invoices", DP_MATCH_EXACT, 0, &m, &err), -ENOENT);
	TST_CHECK(strstr(err.message, "most similar: \"New invoice\"") != NULL);
	TST_EQ_INT(find("INV-2025-[0-9]+", DP_MATCH_REGEX, 0, &m, &err), -ENOENT);
	TST_CHECK(strstr(err.message, "INV-2024-0042") != NULL);
	TST_EQ_INT(find("  ", DP_MATCH_EXACT, 0, &m, &err), -EINVAL);
	TST_CHECK(dp_text_similarity("Cancel", "Cancle") > 0.6);
	TST_CHECK(dp_text_similarity("abc", "xyz") < 0.01);
	TST_CHECK(dp_text_similarity("", "") == 1.0);
}

static void test_reading_order_rows(void)
{
	/* Boxes of one row at slightly different heights, given out of order. */
	struct dp_rect boxes[] = { { 300, 52, 20, 10 }, { 10, 50, 20, 14 }, { 100, 49, 20, 12 }, { 5, 80, 20, 12 } };
	size_t order[4];

	TST_EQ_INT(dp_reading_order(boxes, 4, order), 0);
	TST_EQ_INT(order[0], 1);
	TST_EQ_INT(order[1], 2);
	TST_EQ_INT(order[2], 0);
	TST_EQ_INT(order[3], 3);
}

int main(void)
{
	build();
	TST_RUN(test_lines_in_reading_order);
	TST_RUN(test_phrase_and_case);
	TST_RUN(test_punctuation_at_word_ends);
	TST_RUN(test_regex);
	TST_RUN(test_nth_and_ambiguity);
	TST_RUN(test_region);
	TST_RUN(test_missing_names_the_nearest);
	TST_RUN(test_reading_order_rows);
	dp_ocr_result_clear(&result);
	TST_EXIT();
}
