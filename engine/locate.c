/* Text targets: OCR words matched against a query (engine/locate.h). */
#include "engine/locate.h"

#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/rects.h"
#include "engine/textmatch.h"

#define TOKENS_MAX 64
#define SIMILAR_SHOWN 3
#define LIST_ROOM 330 /* bytes of a message given to a list of places */

struct query {
	const struct dp_text_query *q;
	char *buf;                      /* the text, cut into tokens */
	const char *tokens[TOKENS_MAX];
	size_t n_tokens;
	char phrase[512];               /* the tokens joined by single spaces */
	regex_t re;
	bool has_re;
};

/* The words of one line that lie in the region, in reading order. */
struct line_view {
	const struct dp_ocr_word **w;
	size_t n;
};

struct matches {
	struct dp_match *v;
	size_t n, cap;
};

/* A message built piece by piece, cut (not overflowed) at its end. */
struct msg {
	char s[512];
	size_t len;
};

static void msg_add(struct msg *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void msg_add(struct msg *m, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (m->len + 1 >= sizeof(m->s))
		return;
	va_start(ap, fmt);
	n = vsnprintf(m->s + m->len, sizeof(m->s) - m->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		m->len = m->len + (size_t)n < sizeof(m->s) ? m->len + (size_t)n : sizeof(m->s) - 1;
}

static const char *mode_name(enum dp_text_match m)
{
	return m == DP_MATCH_REGEX ? "regex" : m == DP_MATCH_ICASE ? "text (any case)" : "text";
}

static void query_free(struct query *qq)
{
	free(qq->buf);
	if (qq->has_re)
		regfree(&qq->re);
}

static int query_parse(struct query *qq, const struct dp_text_query *q, struct dp_error *err)
{
	char *save = NULL, *tok;
	size_t len = 0;
	int r;

	memset(qq, 0, sizeof(*qq));
	qq->q = q;
	if (!q->text || !q->text[strspn(q->text, " \t\r\n")])
		return dp_error_set(err, -EINVAL, "locate: the text to find is empty");
	if (q->match != DP_MATCH_EXACT && q->match != DP_MATCH_ICASE && q->match != DP_MATCH_REGEX)
		return dp_error_set(err, -EINVAL, "locate: unknown match mode %d", (int)q->match);
	if (q->match == DP_MATCH_REGEX) {
		r = regcomp(&qq->re, q->text, REG_EXTENDED);
		if (r != 0) {
			char why[160];

			regerror(r, &qq->re, why, sizeof(why));
			return dp_error_set(err, -EINVAL, "locate: regex /%s/ does not compile: %s", q->text, why);
		}
		qq->has_re = true;
	}
	qq->buf = strdup(q->text);
	if (!qq->buf) {
		query_free(qq);
		return dp_error_set(err, -ENOMEM, "locate: out of memory");
	}
	for (tok = strtok_r(qq->buf, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (qq->n_tokens == TOKENS_MAX) {
			query_free(qq);
			return dp_error_set(err, -EINVAL, "locate: \"%s\" has more than %d words", q->text, TOKENS_MAX);
		}
		qq->tokens[qq->n_tokens++] = tok;
		len += (size_t)snprintf(qq->phrase + len, len < sizeof(qq->phrase) ? sizeof(qq->phrase) - len : 0,
					"%s%s", len ? " " : "", tok);
		if (len >= sizeof(qq->phrase))
			len = sizeof(qq->phrase) - 1;
	}
	return 0;
}

/* ---------- lines ---------- */

static bool in_region(const struct dp_text_query *q, const struct dp_ocr_word *w)
{
	return !q->has_region ||
	       dp_rect_contains_point(q->region, w->box.x + w->box.width / 2, w->box.y + w->box.height / 2);
}

/* Sorts the words of the region by line (stably, so each line keeps its
 * reading order); views[l] points into order. */
static int group_lines(const struct dp_ocr_result *res, const struct dp_text_query *q,
		       const struct dp_ocr_word ***order, struct line_view **views, size_t *n_views)
{
	size_t nl = res->n_lines, *start;
	const struct dp_ocr_word **o;
	struct line_view *v;

	/* Words whose line is out of range get a line of their own, past the end. */
	for (size_t i = 0; i < res->n_words; i++)
		if (res->words[i].line >= nl)
			nl = res->words[i].line + 1;
	o = malloc((res->n_words ? res->n_words : 1) * sizeof(*o));
	v = calloc(nl ? nl : 1, sizeof(*v));
	start = calloc(nl + 1, sizeof(*start));
	if (!o || !v || !start) {
		free(o);
		free(v);
		free(start);
		return -ENOMEM;
	}
	for (size_t i = 0; i < res->n_words; i++)
		if (in_region(q, &res->words[i]))
			start[res->words[i].line + 1]++;
	for (size_t l = 0; l < nl; l++)
		start[l + 1] += start[l];
	for (size_t l = 0; l < nl; l++)
		v[l].w = o + start[l];
	for (size_t i = 0; i < res->n_words; i++) {
		const struct dp_ocr_word *w = &res->words[i];

		if (in_region(q, w))
			v[w->line].w[v[w->line].n++] = w;
	}
	free(start);
	*order = o;
	*views = v;
	*n_views = nl;
	return 0;
}

/* The words w[a..b] joined by single spaces into out. */
static void join(char *out, size_t size, const struct dp_ocr_word *const *w, size_t a, size_t b)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = a; i <= b && len + 1 < size; i++) {
		int n = snprintf(out + len, size - len, "%s%s", i > a ? " " : "", w[i]->text);

		len = n < 0 ? len : len + (size_t)n < size ? len + (size_t)n : size - 1;
	}
}

/* ---------- matching ---------- */

static int add_match(struct matches *m, const struct line_view *lv, size_t a, size_t b)
{
	struct dp_match *x;
	float conf = 0;

	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		struct dp_match *v = realloc(m->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		m->v = v;
		m->cap = cap;
	}
	x = &m->v[m->n++];
	memset(x, 0, sizeof(*x));
	for (size_t i = a; i <= b; i++) {
		x->box = dp_rect_union(x->box, lv->w[i]->box);
		conf += lv->w[i]->confidence;
	}
	x->score = conf / (float)(b - a + 1);
	join(x->text, sizeof(x->text), lv->w, a, b);
	return 0;
}

static int match_words(const struct query *qq, const struct line_view *lv, struct matches *m)
{
	bool icase = qq->q->match == DP_MATCH_ICASE;

	for (size_t i = 0; i + qq->n_tokens <= lv->n; i++) {
		size_t j = 0;

		while (j < qq->n_tokens && dp_text_word_equal(lv->w[i + j]->text, qq->tokens[j], icase))
			j++;
		if (j == qq->n_tokens && add_match(m, lv, i, i + j - 1) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int match_regex(const struct query *qq, const struct line_view *lv, struct matches *m)
{
	size_t len = 0, pos = 0, *off, last_a = (size_t)-1, last_b = 0;
	char *text;
	int r = 0;

	if (lv->n == 0)
		return 0;
	for (size_t i = 0; i < lv->n; i++)
		len += strlen(lv->w[i]->text) + 1;
	text = malloc(len + 1);
	off = malloc((lv->n + 1) * sizeof(*off));
	if (!text || !off) {
		free(text);
		free(off);
		return -ENOMEM;
	}
	len = 0;
	for (size_t i = 0; i < lv->n; i++) {
		size_t n = strlen(lv->w[i]->text);

		if (i)
			text[len++] = ' ';
		off[i] = len;
		memcpy(text + len, lv->w[i]->text, n);
		len += n;
	}
	off[lv->n] = len + 1;
	text[len] = '\0';
	while (pos <= len) {
		regmatch_t pm;
		size_t so, eo, a = 0, b;

		if (regexec(&qq->re, text + pos, 1, &pm, pos ? REG_NOTBOL : 0) != 0)
			break;
		so = pos + (size_t)pm.rm_so;
		eo = pos + (size_t)pm.rm_eo;
		if (eo == so) { /* an empty match selects no word */
			pos = so + 1;
			continue;
		}
		/* The words the match touches: a..b. */
		while (a + 1 < lv->n && off[a + 1] <= so)
			a++;
		if (a + 1 < lv->n && so >= off[a] + strlen(lv->w[a]->text)) /* starts at the space after a */
			a++;
		for (b = a; b + 1 < lv->n && off[b + 1] < eo; b++)
			;
		if (a != last_a || b != last_b) {
			r = add_match(m, lv, a, b);
			if (r < 0)
				break;
			last_a = a;
			last_b = b;
		}
		pos = eo;
	}
	free(text);
	free(off);
	return r;
}

/* ---------- messages ---------- */

struct similar {
	double score;
	char text[128];
	struct dp_rect box;
};

static void consider(struct similar *best, const char *text, struct dp_rect box, double score)
{
	int i;

	for (i = 0; i < SIMILAR_SHOWN; i++)
		if (best[i].score >= 0 && strcmp(best[i].text, text) == 0)
			return;
	if (score <= best[SIMILAR_SHOWN - 1].score)
		return;
	for (i = SIMILAR_SHOWN - 1; i > 0 && score > best[i - 1].score; i--)
		best[i] = best[i - 1];
	best[i].score = score;
	snprintf(best[i].text, sizeof(best[i].text), "%s", text);
	best[i].box = box;
}

/* What the regex asks for, without its operators, for a similarity. */
static void regex_literal(const char *re, char *out, size_t size)
{
	size_t n = 0;

	for (; *re && n + 1 < size; re++)
		if (!strchr("\\^$.|?*+()[]{}", *re))
			out[n++] = *re;
	out[n] = '\0';
}

static int not_found(const struct query *qq, const struct line_view *views, size_t n_views, size_t n_words,
		     struct dp_error *err)
{
	const struct dp_text_query *q = qq->q;
	struct similar best[SIMILAR_SHOWN];
	char target[512], text[512];
	struct msg m = { .len = 0 };
	size_t width = qq->n_tokens;

	for (int i = 0; i < SIMILAR_SHOWN; i++)
		best[i].score = -1;
	if (q->match == DP_MATCH_REGEX)
		regex_literal(q->text, target, sizeof(target));
	else
		snprintf(target, sizeof(target), "%s", qq->phrase);
	for (size_t l = 0; l < n_views; l++) {
		const struct line_view *lv = &views[l];

		if (lv->n == 0)
			continue;
		if (q->match == DP_MATCH_REGEX || lv->n <= width) {
			join(text, sizeof(text), lv->w, 0, lv->n - 1);
			consider(best, text, dp_rect_union(lv->w[0]->box, lv->w[lv->n - 1]->box),
				 dp_text_similarity(text, target));
			continue;
		}
		for (size_t i = 0; i + width <= lv->n; i++) {
			join(text, sizeof(text), lv->w, i, i + width - 1);
			consider(best, text, dp_rect_union(lv->w[i]->box, lv->w[i + width - 1]->box),
				 dp_text_similarity(text, target));
		}
	}
	msg_add(&m, "%s %s%s%s not found", mode_name(q->match), q->match == DP_MATCH_REGEX ? "/" : "\"", q->text,
		q->match == DP_MATCH_REGEX ? "/" : "\"");
	if (q->has_region)
		msg_add(&m, " in region %dx%d at %d,%d", q->region.width, q->region.height, q->region.x,
			q->region.y);
	if (n_words == 0) {
		msg_add(&m, ": no text was read there");
		return dp_error_set(err, -ENOENT, "%s", m.s);
	}
	msg_add(&m, " (%zu words read); most similar:", n_words);
	for (int i = 0; i < SIMILAR_SHOWN && best[i].score >= 0; i++)
		msg_add(&m, "%s \"%s\" at %d,%d (%d%%)", i ? "," : "", best[i].text, best[i].box.x, best[i].box.y,
			(int)(best[i].score * 100 + 0.5));
	return dp_error_set(err, -ENOENT, "%s", m.s);
}

static void list_places(struct msg *m, const struct matches *ms)
{
	for (size_t i = 0; i < ms->n; i++) {
		const struct dp_rect *b = &ms->v[i].box;

		if (m->len > LIST_ROOM) {
			msg_add(m, " and %zu more", ms->n - i);
			return;
		}
		msg_add(m, "%s %d,%d %dx%d", i ? ";" : "", b->x, b->y, b->width, b->height);
	}
}

/* ---------- the searches ---------- */

static int locate_in(const struct query *qq, const struct dp_ocr_result *result, struct dp_match *out,
		     struct dp_error *err)
{
	const struct dp_text_query *q = qq->q;
	const struct dp_ocr_word **order = NULL;
	struct line_view *views = NULL;
	struct matches ms = { 0 };
	struct msg m = { .len = 0 };
	size_t n_views = 0, n_words = 0;
	int r;

	r = group_lines(result, q, &order, &views, &n_views);
	for (size_t l = 0; r == 0 && l < n_views; l++) {
		n_words += views[l].n;
		r = q->match == DP_MATCH_REGEX ? match_regex(qq, &views[l], &ms) : match_words(qq, &views[l], &ms);
	}
	if (r < 0) {
		r = dp_error_set(err, r, "locate: out of memory");
	} else if (ms.n == 0) {
		r = not_found(qq, views, n_views, n_words, err);
	} else if (q->nth == 0 && ms.n > 1) {
		msg_add(&m, "%s \"%s\" is ambiguous: %zu matches at", mode_name(q->match), q->text, ms.n);
		list_places(&m, &ms);
		msg_add(&m, "; set nth (1-%zu, in reading order) or a region", ms.n);
		r = dp_error_set(err, -EINVAL, "%s", m.s);
	} else if (q->nth > ms.n) {
		msg_add(&m, "%s \"%s\": match %u asked for, but there %s only %zu at", mode_name(q->match), q->text,
			q->nth, ms.n == 1 ? "is" : "are", ms.n);
		list_places(&m, &ms);
		r = dp_error_set(err, -ENOENT, "%s", m.s);
	} else {
		*out = ms.v[q->nth ? q->nth - 1 : 0];
	}
	free(ms.v);
	free(order);
	free(views);
	return r;
}

int dp_locate_text_in(const struct dp_ocr_result *result, const struct dp_text_query *q, struct dp_match *out,
		      struct dp_error *err)
{
	struct query qq;
	int r = query_parse(&qq, q, err);

	if (r < 0)
		return r;
	r = locate_in(&qq, result, out, err);
	query_free(&qq);
	return r;
}

int dp_locate_text(struct dp_ocr *ocr, const struct dp_frame *frame, const struct dp_text_query *q,
		   struct dp_match *out, struct dp_error *err)
{
	struct dp_ocr_result res;
	struct query qq;
	int r = query_parse(&qq, q, err);

	if (r < 0)
		return r;
	r = dp_ocr_read(ocr, frame, q->has_region ? &q->region : NULL, &res, err);
	if (r == 0) {
		r = locate_in(&qq, &res, out, err);
		dp_ocr_result_clear(&res);
	}
	query_free(&qq);
	return r;
}
