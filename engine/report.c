/* report.html: one self-contained page built from a run folder.
 *
 * Reads result.json (how the task ended), traj.jsonl (one JSON object per
 * step) and the step_NNN.jpg screenshots, and writes report.html whole or not
 * at all.  The page has a summary (outcome, counts, per-phase timing totals
 * and medians, a strip of links to the steps) and one card per step: the
 * screenshot embedded as a base64 data: URI under an SVG overlay drawn in the
 * image's pixel space (clicks, drags, scrolls, changed regions), the actions
 * in words with their verdicts, the reasoning, and the phase timings.  Plain
 * HTML and CSS: no scripts, no external files.
 *
 * Everything read from the folder is untrusted.  Every string goes through
 * put_text() (HTML-escaped), numbers are range-checked before they reach an
 * attribute, only names of the form step_NNN.jpg are opened (relative to the
 * run folder, never through a symlink), and unreadable lines or images become
 * visible notes in the page, never errors.
 */
#include "engine/report.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/file.h"

#define MAX_IMAGE_BYTES (32u << 20)   /* a screenshot larger than this is not embedded */
#define MAX_COORD 1000000.0           /* coordinates outside ±this are not drawn */
#define MAX_SHOWN_CHARS 400           /* typed text and similar are cut after this */

enum { N_PHASES = 7 };
static const char *const phases[N_PHASES] = { "observe", "decide", "guard", "act", "settle", "check", "record" };

/* One line of traj.jsonl: a step, or why it could not be read. */
struct line {
	int number; /* 1-based, in traj.jsonl */
	cJSON *step; /* NULL: unreadable */
	const char *why;
};

struct report {
	FILE *out;
	int dirfd;
	cJSON *result;          /* NULL when result.json is missing or unreadable */
	const char *result_why; /* ... and why */
	const char *traj_why;   /* why traj.jsonl could not be read at all */
	struct line *lines;
	size_t n_lines, n_bad;
};

/* ---- Text and numbers ------------------------------------------------- */

static const char *html_entity(char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;";
	default:
		return NULL;
	}
}

/* Writes at most n bytes of s, HTML-escaped: safe in text and in quoted attributes. */
static void put_text_n(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i]; i++) {
		const char *entity = html_entity(s[i]);

		if (entity)
			fputs(entity, f);
		else
			fputc(s[i], f);
	}
}

static void put_text(FILE *f, const char *s)
{
	put_text_n(f, s, SIZE_MAX);
}

/* The bytes of s's first max_chars UTF-8 characters; *cut says if more follow. */
static size_t utf8_prefix(const char *s, size_t max_chars, bool *cut)
{
	size_t i = 0, chars = 0;

	for (; s[i]; i++) {
		if (((unsigned char)s[i] & 0xc0) == 0x80)
			continue;
		if (chars++ == max_chars)
			break;
	}
	*cut = s[i] != '\0';
	return i;
}

/* Writes s escaped, cut after MAX_SHOWN_CHARS characters. */
static void put_text_short(FILE *f, const char *s)
{
	bool cut;
	size_t n = utf8_prefix(s, MAX_SHOWN_CHARS, &cut);

	put_text_n(f, s, n);
	if (cut)
		fprintf(f, "… <span class=\"muted\">(%zu more bytes)</span>", strlen(s) - n);
}

/* Durations for people: 0.35 ms, 4.2 ms, 180 ms, 2.41 s, 3 min 5 s, 1 h 2 min. */
static void fmt_ms(char *buf, size_t size, double ms)
{
	if (ms <= 0)
		snprintf(buf, size, "0 ms");
	else if (ms < 1)
		snprintf(buf, size, "%.2f ms", ms);
	else if (ms < 10)
		snprintf(buf, size, "%.1f ms", ms);
	else if (ms < 1000)
		snprintf(buf, size, "%.0f ms", ms);
	else if (ms < 60000)
		snprintf(buf, size, "%.2f s", ms / 1000);
	else if (ms < 3600000)
		snprintf(buf, size, "%lld min %lld s", (long long)ms / 60000, (long long)ms / 1000 % 60);
	else
		snprintf(buf, size, "%lld h %lld min", (long long)ms / 3600000, (long long)ms / 60000 % 60);
}

/* 1234567 -> "1 234 567" (narrow no-break spaces). */
static void fmt_count(char *buf, size_t size, double v)
{
	char digits[32];
	size_t n, o = 0;

	snprintf(digits, sizeof(digits), "%.0f", v);
	n = strlen(digits);
	for (size_t i = 0; i < n && o + 4 < size; i++) {
		if (i > 0 && digits[i - 1] != '-' && (n - i) % 3 == 0) {
			memcpy(buf + o, "\u202f", 3);
			o += 3;
		}
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
}

/* Small math without libm, which the engine does not link. */
static double absd(double v)
{
	return v < 0 ? -v : v;
}

static double maxd(double a, double b)
{
	return a > b ? a : b;
}

/* The length of (dx, dy) by Newton's method; enough for on-screen vectors. */
static double length(double dx, double dy)
{
	double s = dx * dx + dy * dy, r = s > 1 ? s / 2 : 1;

	if (!(s > 0))
		return 0;
	for (int i = 0; i < 64; i++)
		r = (r + s / r) / 2;
	return r;
}

/* ---- JSON access that never trusts the input ------------------------- */

static const char *jstr(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* True when obj[key] is a number within lo..hi (NaN is not). */
static bool jnum(const cJSON *obj, const char *key, double lo, double hi, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi))
		return false;
	*out = v->valuedouble;
	return true;
}

static bool jpoint(const cJSON *obj, double *x, double *y)
{
	return jnum(obj, "x", -MAX_COORD, MAX_COORD, x) && jnum(obj, "y", -MAX_COORD, MAX_COORD, y);
}

/* [x, y] */
static bool jpair(const cJSON *arr, double *x, double *y)
{
	const cJSON *a = cJSON_GetArrayItem(arr, 0), *b = cJSON_GetArrayItem(arr, 1);

	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) != 2 || !cJSON_IsNumber(a) || !cJSON_IsNumber(b) ||
	    !(absd(a->valuedouble) <= MAX_COORD) || !(absd(b->valuedouble) <= MAX_COORD))
		return false;
	*x = a->valuedouble;
	*y = b->valuedouble;
	return true;
}

/* [x, y, w, h] with w, h > 0 */
static bool jrect(const cJSON *arr, double r[4])
{
	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) != 4)
		return false;
	for (int i = 0; i < 4; i++) {
		const cJSON *v = cJSON_GetArrayItem(arr, i);

		if (!cJSON_IsNumber(v) || !(absd(v->valuedouble) <= MAX_COORD))
			return false;
		r[i] = v->valuedouble;
	}
	return r[2] > 0 && r[3] > 0;
}

/* ---- Reading the run folder ------------------------------------------ */

/* Reads dir/name, a regular file (not a symlink) of at most max bytes. */
static int read_at(int dirfd, const char *name, size_t max, char **data, size_t *size)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	char *buf;
	size_t got = 0;
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = -EINVAL;
	else if ((uint64_t)st.st_size > max)
		r = -EFBIG;
	if (r < 0) {
		close(fd);
		return r;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : 0;
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[got] = '\0';
	*data = buf;
	*size = got;
	return 0;
}

static void read_result(struct report *rp)
{
	char *text;
	size_t size;
	int r = read_at(rp->dirfd, "result.json", 1u << 20, &text, &size);

	if (r < 0) {
		rp->result_why = r == -ENOENT ? "result.json is missing: the run may still be going, or it stopped "
						"without finishing"
					      : "result.json could not be read";
		return;
	}
	rp->result = cJSON_ParseWithLength(text, size);
	free(text);
	if (!cJSON_IsObject(rp->result)) {
		cJSON_Delete(rp->result);
		rp->result = NULL;
		rp->result_why = "result.json is not a valid JSON object";
	}
}

static const char *check_step(const cJSON *step)
{
	double n;

	if (!cJSON_IsObject(step))
		return "is not a JSON object";
	if (!jnum(step, "step", 0, UINT32_MAX, &n))
		return "has no step number";
	return NULL;
}

/* Checked by check_step() for every step kept. */
static double step_number(const cJSON *step)
{
	double n = 0;

	jnum(step, "step", 0, UINT32_MAX, &n);
	return n;
}

static int add_line(struct report *rp, int number, const char *text, size_t len)
{
	struct line *l;

	if (rp->n_lines % 64 == 0) {
		struct line *grown = realloc(rp->lines, (rp->n_lines + 64) * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		rp->lines = grown;
	}
	l = &rp->lines[rp->n_lines++];
	l->number = number;
	l->step = cJSON_ParseWithLength(text, len);
	l->why = l->step ? check_step(l->step) : "is not valid JSON (cut short or corrupt)";
	if (l->why) {
		cJSON_Delete(l->step);
		l->step = NULL;
		rp->n_bad++;
	}
	return 0;
}

static int read_traj(struct report *rp)
{
	int fd = openat(rp->dirfd, "traj.jsonl", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	bool missing = fd < 0 && errno == ENOENT;
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	char *text = NULL;
	size_t cap = 0;
	ssize_t len;
	int number = 0, r = 0;

	if (!f) {
		if (fd >= 0)
			close(fd);
		rp->traj_why = missing ? "traj.jsonl is missing: no step was recorded" : "traj.jsonl could not be read";
		return 0;
	}
	while (r == 0 && (len = getline(&text, &cap, f)) >= 0) {
		number++;
		while (len > 0 && strchr(" \t\r\n", text[len - 1]))
			len--;
		if (len > 0)
			r = add_line(rp, number, text, (size_t)len);
	}
	free(text);
	fclose(f);
	return r;
}

/* ---- Page head and summary ------------------------------------------- */

static const char page_css[] =
	":root{--bg:#f4f5f7;--card:#fff;--ink:#1f2430;--muted:#667085;--line:#e4e7ec;--soft:#f8f9fb;"
	"--ok:#2b8a3e;--warn:#d97706;--noeff:#c2410c;--bad:#d92d20;--rej:#9c36b5;--grey:#7b8494;--mark:#e0287d}"
	"*{box-sizing:border-box}"
	"body{margin:0;background:var(--bg);color:var(--ink);"
	"font:15px/1.55 system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans',Ubuntu,Cantarell,sans-serif}"
	"main{max-width:1180px;margin:0 auto;padding:28px 20px 56px}"
	"code,.act{font-family:ui-monospace,'SF Mono','DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:.88em}"
	"h1{font-size:1.45rem;line-height:1.35;margin:.2rem 0 .9rem;font-weight:650}"
	"h2{font-size:.78rem;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);margin:0 0 .5rem;"
	"font-weight:600}"
	".muted{color:var(--muted)}"
	".card{background:var(--card);border:1px solid var(--line);border-radius:14px;"
	"box-shadow:0 1px 3px rgba(16,24,40,.05);margin:0 0 22px;overflow:hidden}"
	".summary{padding:22px 26px}"
	".eyebrow{color:var(--muted);font-size:.85rem}"
	".outcome{display:inline-block;color:#fff;border-radius:999px;padding:2px 12px;font-weight:600;"
	"font-size:.9rem;margin-right:.6rem}"
	".o-ok{background:var(--ok)}.o-warn{background:var(--warn)}.o-bad{background:var(--bad)}"
	".o-grey{background:var(--grey)}"
	".message{font-size:.98rem}"
	".facts{display:flex;flex-wrap:wrap;gap:10px 34px;margin:18px 0 4px;padding:0}"
	".facts div{min-width:90px}.facts dt{font-size:.75rem;color:var(--muted);text-transform:uppercase;"
	"letter-spacing:.05em}.facts dd{margin:0;font-size:1.05rem;font-weight:600}"
	".facts dd small{font-weight:400;color:var(--muted);font-size:.8rem}"
	".phases{margin-top:20px;border-top:1px solid var(--line);padding-top:16px}"
	"table{border-collapse:collapse;font-size:.87rem;margin-top:10px;width:100%;max-width:640px}"
	"th,td{text-align:right;padding:3px 10px;font-variant-numeric:tabular-nums}"
	"th:first-child,td:first-child{text-align:left;padding-left:0}"
	"th{color:var(--muted);font-weight:500;font-size:.78rem;border-bottom:1px solid var(--line)}"
	".dot{display:inline-block;width:9px;height:9px;border-radius:3px;margin-right:6px;vertical-align:0}"
	".bar{display:flex;height:10px;border-radius:5px;overflow:hidden;background:var(--line)}"
	".bar span{display:block;height:100%;min-width:1px}"
	".p-observe{background:#74c0fc}.p-decide{background:#9775fa}.p-guard{background:#f783ac}"
	".p-act{background:#ff922b}.p-settle{background:#fcc419}.p-check{background:#38d9a9}"
	".p-record{background:#adb5bd}"
	".notes{margin-top:16px}"
	".note{background:#fff8e6;border:1px solid #f5d78e;color:#7a4d00;border-radius:10px;padding:9px 14px;"
	"margin:0 0 10px;font-size:.9rem}"
	".nav{margin-top:18px;border-top:1px solid var(--line);padding-top:14px;display:flex;flex-wrap:wrap;gap:4px;"
	"align-items:center}.nav h2{margin:0 8px 0 0}"
	".nav a{display:inline-block;min-width:30px;text-align:center;padding:1px 4px;border-radius:6px;"
	"font-size:.75rem;text-decoration:none;font-variant-numeric:tabular-nums;font-weight:600}"
	".nav a.v-ok{background:#dcf2e2;color:#1d6a33}.nav a.v-warn{background:#fdecc8;color:#8a4b00}"
	".nav a.v-noeff{background:#fde0cf;color:#9a3412}.nav a.v-bad{background:#fbd9d6;color:#a61b12}"
	".nav a.v-rej{background:#f1dcf6;color:#7b2a90}.nav a.v-grey,.nav a.v-none{background:#e9ecf0;color:#4b5563}"
	".nav a:hover{outline:2px solid var(--muted)}"
	".step{content-visibility:auto;contain-intrinsic-size:auto 900px}"
	".step-head{display:flex;align-items:baseline;gap:14px;padding:13px 20px;border-bottom:1px solid var(--line)}"
	".step-head a{font-weight:650;font-size:1.05rem;color:var(--ink);text-decoration:none}"
	".step-head .meta{margin-left:auto;color:var(--muted);font-size:.85rem;font-variant-numeric:tabular-nums}"
	".shot{position:relative;background:#111;line-height:0}"
	".shot img{display:block;width:100%;height:auto}"
	".shot svg{position:absolute;left:0;top:0;width:100%;height:100%;overflow:hidden}"
	".shot .ph{display:flex;align-items:center;justify-content:center;line-height:1.4;color:#c9ced6;"
	"background:repeating-linear-gradient(135deg,#2a2f38 0 14px,#262a33 14px 28px);font-size:.95rem;"
	"width:100%;height:100%;min-height:120px;padding:20px;text-align:center}"
	".ov *{vector-effect:non-scaling-stroke;fill:none;stroke-linecap:round;stroke-linejoin:round}"
	".ov .halo *{stroke:#fff;stroke-width:5.5;stroke-opacity:.9}"
	".ov .mk *{stroke:var(--mark);stroke-width:2.5}"
	".ov .mk .fill,.ov .halo .fill{fill:var(--mark)}.ov .halo .fill{fill:#fff}"
	".ov .chg{stroke-width:2;stroke-dasharray:7 5;fill-opacity:.07}"
	".ov .chg.v-ok{stroke:var(--ok);fill:var(--ok)}.ov .chg.v-warn{stroke:var(--warn);fill:var(--warn)}"
	".ov .chg.v-noeff{stroke:var(--noeff);fill:var(--noeff)}.ov .chg.v-grey{stroke:var(--grey);fill:var(--grey)}"
	".ov .chg.v-bad,.ov .chg.v-rej{stroke:var(--bad);fill:var(--bad)}"
	".ov text{fill:var(--mark);stroke:#fff;stroke-width:3;paint-order:stroke;font-weight:700;"
	"font-family:system-ui,sans-serif}"
	".caption{padding:7px 20px;font-size:.78rem;color:var(--muted);border-bottom:1px solid var(--line);"
	"background:var(--soft)}"
	".caption i{display:inline-block;width:14px;height:0;border-top:2.5px solid var(--mark);vertical-align:3px;"
	"margin-right:5px}.caption i.c{border-top:2px dashed var(--ok);margin-left:14px}"
	".body{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:8px 30px;padding:16px 20px}"
	"@media (max-width:820px){.body{grid-template-columns:minmax(0,1fr)}}"
	".acts{list-style:none;margin:0;padding:0}"
	".acts li{padding:6px 0;border-bottom:1px solid var(--line)}.acts li:last-child{border-bottom:0}"
	".acts .n{display:inline-block;width:19px;height:19px;line-height:19px;border-radius:50%;"
	"background:var(--mark);color:#fff;font-size:.7rem;text-align:center;font-weight:700;margin-right:8px;"
	"vertical-align:1px}"
	".act{overflow-wrap:anywhere}.act b{font-weight:650}"
	".fb{margin:3px 0 0 27px;font-size:.85rem;color:var(--muted);overflow-wrap:anywhere}"
	".badge{display:inline-block;border-radius:6px;padding:0 7px;font-size:.74rem;font-weight:600;"
	"margin-right:6px;color:#fff;line-height:1.6}"
	".v-ok{background:var(--ok)}.v-warn{background:var(--warn)}.v-noeff{background:var(--noeff)}"
	".v-grey{background:var(--grey)}.v-bad{background:var(--bad)}.v-rej{background:var(--rej)}"
	".v-none{background:#c3c8d0}"
	".reason{white-space:pre-wrap;overflow-wrap:anywhere;margin:0;font-size:.92rem;max-height:26em;overflow:auto}"
	".timing{padding:11px 20px 14px;border-top:1px solid var(--line);background:var(--soft)}"
	".legend{display:flex;flex-wrap:wrap;gap:2px 16px;margin-top:7px;font-size:.78rem;color:var(--muted);"
	"font-variant-numeric:tabular-nums}.legend b{color:var(--ink);font-weight:600}"
	".badline{margin:0 0 22px;padding:12px 20px}"
	"footer.page{color:var(--muted);font-size:.8rem;text-align:center}";

/* How an outcome reads and its colour; unknown ones are shown as they are, grey. */
static const char *outcome_class(const char *outcome, const char **label)
{
	static const struct {
		const char *name, *label, *cls;
	} table[] = {
		{ "succeeded", "succeeded", "o-ok" },        { "failed", "failed", "o-bad" },
		{ "error", "error", "o-bad" },               { "cancelled", "cancelled", "o-grey" },
		{ "out_of_steps", "out of steps", "o-warn" }, { "timed_out", "timed out", "o-warn" },
		{ "out_of_tokens", "out of tokens", "o-warn" },
	};

	*label = outcome;
	for (size_t i = 0; outcome && i < sizeof(table) / sizeof(table[0]); i++) {
		if (strcmp(outcome, table[i].name) == 0) {
			*label = table[i].label;
			return table[i].cls;
		}
	}
	return "o-grey";
}

/* A verdict's badge colour and how bad it is (for the step strip). */
static const char *verdict_class(const char *verdict, int *rank)
{
	static const struct {
		const char *name, *cls;
		int rank;
	} table[] = {
		{ "unchecked", "v-grey", 1 },        { "changed", "v-ok", 2 },
		{ "changed elsewhere", "v-warn", 3 }, { "elsewhere", "v-warn", 3 },
		{ "no visible effect", "v-noeff", 4 }, { "rejected", "v-rej", 5 },
		{ "failed", "v-bad", 6 },
	};

	for (size_t i = 0; verdict && i < sizeof(table) / sizeof(table[0]); i++) {
		if (strcmp(verdict, table[i].name) == 0) {
			if (rank)
				*rank = table[i].rank;
			return table[i].cls;
		}
	}
	if (rank)
		*rank = verdict ? 1 : 0;
	return "v-grey";
}

/* The worst verdict of a step's feedback, or NULL when there is none. */
static const char *worst_verdict(const cJSON *step)
{
	const cJSON *fb;
	const char *worst = NULL;
	int worst_rank = 0, rank;

	cJSON_ArrayForEach(fb, cJSON_GetObjectItemCaseSensitive(step, "feedback")) {
		const char *v = jstr(fb, "verdict");

		verdict_class(v, &rank);
		if (rank > worst_rank) {
			worst = v;
			worst_rank = rank;
		}
	}
	return worst;
}

static void write_head(const struct report *rp)
{
	const char *task = rp->result ? jstr(rp->result, "task") : NULL;
	const char *outcome = rp->result ? jstr(rp->result, "outcome") : NULL;

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
	      "style-src 'unsafe-inline'\">\n<title>",
	      rp->out);
	put_text(rp->out, task && *task ? task : "deskpilot run");
	if (outcome) {
		fputs(" · ", rp->out);
		put_text(rp->out, outcome);
	}
	fprintf(rp->out, " — deskpilot</title>\n<style>%s</style></head>\n<body><main>\n", page_css);
}

/* Sums and medians of each phase over the readable steps, in ms. */
struct phase_stats {
	double total[N_PHASES], median[N_PHASES], all;
	size_t n_steps;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int phase_stats(const struct report *rp, struct phase_stats *st)
{
	double *v = malloc((rp->n_lines + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	memset(st, 0, sizeof(*st));
	for (int p = 0; p < N_PHASES; p++) {
		size_t n = 0;

		for (size_t i = 0; i < rp->n_lines; i++) {
			const cJSON *t = cJSON_GetObjectItemCaseSensitive(rp->lines[i].step, "timings_us");
			double us;

			if (rp->lines[i].step && jnum(t, phases[p], 0, 1e13, &us))
				v[n++] = us / 1000;
		}
		qsort(v, n, sizeof(*v), cmp_double);
		for (size_t i = 0; i < n; i++)
			st->total[p] += v[i];
		st->median[p] = n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
		st->all += st->total[p];
		st->n_steps = n > st->n_steps ? n : st->n_steps;
	}
	free(v);
	return 0;
}

/* A stacked bar of the phases' shares, values in ms. */
static void write_bar(FILE *f, const double ms[N_PHASES], double all)
{
	char buf[32];

	fputs("<div class=\"bar\">", f);
	for (int p = 0; p < N_PHASES && all > 0; p++) {
		if (ms[p] <= 0)
			continue;
		fmt_ms(buf, sizeof(buf), ms[p]);
		fprintf(f, "<span class=\"p-%s\" style=\"width:%.3f%%\" title=\"%s %s\"></span>", phases[p],
			100 * ms[p] / all, phases[p], buf);
	}
	fputs("</div>", f);
}

static void write_phase_table(const struct report *rp)
{
	struct phase_stats st;
	char total[32], median[32];
	FILE *f = rp->out;

	if (phase_stats(rp, &st) < 0 || st.n_steps == 0)
		return;
	fmt_ms(total, sizeof(total), st.all);
	fprintf(f, "<section class=\"phases\"><h2>Where the time went · %s over %zu steps</h2>", total, st.n_steps);
	write_bar(f, st.total, st.all);
	fputs("<table><tr><th>phase</th><th>total</th><th>median per step</th><th>share</th></tr>", f);
	for (int p = 0; p < N_PHASES; p++) {
		fmt_ms(total, sizeof(total), st.total[p]);
		fmt_ms(median, sizeof(median), st.median[p]);
		fprintf(f, "<tr><td><span class=\"dot p-%s\"></span>%s</td><td>%s</td><td>%s</td><td>%.1f%%</td></tr>",
			phases[p], phases[p], total, median, st.all > 0 ? 100 * st.total[p] / st.all : 0.0);
	}
	fputs("</table></section>\n", f);
}

/* Token totals from the steps, in and out. */
static void step_tokens(const struct report *rp, double *in, double *out)
{
	*in = *out = 0;
	for (size_t i = 0; i < rp->n_lines; i++) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(rp->lines[i].step, "tokens");
		double v;

		if (jnum(t, "in", 0, 1e15, &v))
			*in += v;
		if (jnum(t, "out", 0, 1e15, &v))
			*out += v;
	}
}

/* "2025-01-01T10:00:00Z" reads as "2025-01-01 10:00:00 UTC"; other forms stay as they are. */
static void fmt_time(char *buf, size_t size, const char *iso)
{
	if (strlen(iso) == 20 && iso[10] == 'T' && iso[19] == 'Z')
		snprintf(buf, size, "%.10s %.8s UTC", iso, iso + 11);
	else
		snprintf(buf, size, "%s", iso);
}

static void write_fact(FILE *f, const char *name, const char *value)
{
	fprintf(f, "<div><dt>%s</dt><dd>", name);
	put_text(f, value);
	fputs("</dd></div>", f);
}

static void write_facts(const struct report *rp)
{
	const cJSON *res = rp->result;
	FILE *f = rp->out;
	char buf[64], in_s[32], out_s[32];
	double v, in, out;

	fputs("<dl class=\"facts\">", f);
	if (jnum(res, "steps", 0, 1e9, &v)) {
		snprintf(buf, sizeof(buf), "%.0f", v);
		write_fact(f, "Steps", buf);
	} else {
		snprintf(buf, sizeof(buf), "%zu", rp->n_lines - rp->n_bad);
		write_fact(f, "Steps recorded", buf);
	}
	if (jnum(res, "duration_ms", 0, 1e12, &v)) {
		fmt_ms(buf, sizeof(buf), v);
		write_fact(f, "Duration", buf);
	}
	step_tokens(rp, &in, &out);
	if (!jnum(res, "tokens", 0, 1e15, &v))
		v = in + out;
	fmt_count(buf, sizeof(buf), v);
	fprintf(f, "<div><dt>Tokens</dt><dd>%s", buf);
	if (in + out > 0) {
		fmt_count(in_s, sizeof(in_s), in);
		fmt_count(out_s, sizeof(out_s), out);
		fprintf(f, " <small>%s in · %s out</small>", in_s, out_s);
	}
	fputs("</dd></div>", f);
	if (jstr(res, "started")) {
		fmt_time(buf, sizeof(buf), jstr(res, "started"));
		write_fact(f, "Started", buf);
	}
	if (jstr(res, "finished")) {
		fmt_time(buf, sizeof(buf), jstr(res, "finished"));
		write_fact(f, "Finished", buf);
	}
	fputs("</dl>\n", f);
}

static void write_notes(const struct report *rp)
{
	FILE *f = rp->out;

	if (!rp->result_why && !rp->traj_why && rp->n_bad == 0)
		return;
	fputs("<div class=\"notes\">", f);
	if (rp->result_why)
		fprintf(f, "<div class=\"note\">%s.</div>", rp->result_why);
	if (rp->traj_why)
		fprintf(f, "<div class=\"note\">%s.</div>", rp->traj_why);
	if (rp->n_bad > 0) {
		fprintf(f, "<div class=\"note\">%zu line%s of traj.jsonl could not be read and %s skipped:", rp->n_bad,
			rp->n_bad == 1 ? "" : "s", rp->n_bad == 1 ? "is" : "are");
		for (size_t i = 0, shown = 0; i < rp->n_lines && shown < 20; i++) {
			if (rp->lines[i].step)
				continue;
			fprintf(f, "%s <a href=\"#line-%d\">line %d</a>", shown++ ? "," : "", rp->lines[i].number,
				rp->lines[i].number);
		}
		fputs(rp->n_bad > 20 ? ", …</div>" : ".</div>", f);
	}
	fputs("</div>\n", f);
}

/* A strip of links, one per step, coloured by its worst verdict. */
static void write_nav(const struct report *rp)
{
	FILE *f = rp->out;

	if (rp->n_lines < 2)
		return;
	fputs("<nav class=\"nav\" aria-label=\"steps\"><h2 title=\"each coloured by its least good verdict\">Steps</h2>",
	      f);
	for (size_t i = 0; i < rp->n_lines; i++) {
		const struct line *l = &rp->lines[i];
		const char *worst;
		double n;

		if (!l->step) {
			fprintf(f, "<a class=\"v-bad\" href=\"#line-%d\" title=\"traj.jsonl line %d: unreadable\">!</a>",
				l->number, l->number);
			continue;
		}
		worst = worst_verdict(l->step);
		n = step_number(l->step);
		fprintf(f, "<a class=\"%s\" href=\"#step-%.0f\" title=\"Step %.0f: ",
			worst ? verdict_class(worst, NULL) : "v-none", n, n);
		put_text(f, worst ? worst : "no feedback");
		fprintf(f, "\">%.0f</a>", n);
	}
	fputs("</nav>\n", f);
}

static void write_summary(const struct report *rp)
{
	const cJSON *res = rp->result;
	const char *task = jstr(res, "task"), *instruction = jstr(res, "instruction");
	const char *outcome = jstr(res, "outcome"), *message = jstr(res, "message"), *label;
	const char *cls = outcome_class(outcome, &label);
	FILE *f = rp->out;

	fputs("<header class=\"card summary\"><div class=\"eyebrow\">deskpilot run", f);
	if (task && *task) {
		fputs(" · task <code>", f);
		put_text(f, task);
		fputs("</code>", f);
	}
	fputs("</div>\n<h1>", f);
	put_text(f, instruction && *instruction ? instruction : "(no instruction recorded)");
	fprintf(f, "</h1>\n<div><span class=\"outcome %s\">", cls);
	put_text(f, label ? label : "unknown");
	fputs("</span><span class=\"message\">", f);
	if (message)
		put_text(f, message);
	fputs("</span></div>\n", f);
	write_facts(rp);
	write_phase_table(rp);
	write_notes(rp);
	write_nav(rp);
	fputs("</header>\n", f);
}

/* ---- Step cards ------------------------------------------------------ */

static bool is_step_image_name(const char *name)
{
	size_t digits = 0;

	if (!name || strncmp(name, "step_", 5) != 0)
		return false;
	while (name[5 + digits] >= '0' && name[5 + digits] <= '9')
		digits++;
	return digits >= 3 && digits <= 6 && strcmp(name + 5 + digits, ".jpg") == 0;
}

static void base64_write(FILE *f, const uint8_t *d, size_t n)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char buf[4096];
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0) |
			     (i + 2 < n ? d[i + 2] : 0);

		buf[o++] = tbl[v >> 18 & 63];
		buf[o++] = tbl[v >> 12 & 63];
		buf[o++] = i + 1 < n ? tbl[v >> 6 & 63] : '=';
		buf[o++] = i + 2 < n ? tbl[v & 63] : '=';
		if (o + 4 > sizeof(buf)) {
			fwrite(buf, 1, o, f);
			o = 0;
		}
	}
	fwrite(buf, 1, o, f);
}

/* Marks are sized in image pixels from u, so they scale with the screenshot;
 * strokes keep their width on screen (non-scaling-stroke). */
struct overlay {
	FILE *f;
	double w, h, u;
};

static const char *button_name(const cJSON *a)
{
	static const char *const names[] = { NULL, "left", "middle", "right", NULL, NULL, NULL, NULL, "back",
					     "forward" };
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(a, "button");

	if (cJSON_IsString(b))
		return b->valuestring;
	if (!b)
		return "left";
	if (cJSON_IsNumber(b) && b->valuedouble >= 1 && b->valuedouble <= 9 && names[(int)b->valuedouble])
		return names[(int)b->valuedouble];
	return NULL;
}

static void draw_ring(const struct overlay *o, double x, double y, double r, bool cross)
{
	fprintf(o->f, "<circle cx=\"%g\" cy=\"%g\" r=\"%.1f\"/>", x, y, r);
	if (!cross)
		return;
	/* Four arms with a gap in the middle, so the target pixel stays visible. */
	fprintf(o->f,
		"<path d=\"M%g %.1fV%.1fM%g %.1fV%.1fM%.1f %gH%.1fM%.1f %gH%.1f\"/>",
		x, y - 1.8 * r, y - 0.35 * r, x, y + 0.35 * r, y + 1.8 * r, x - 1.8 * r, y, x - 0.35 * r, x + 0.35 * r,
		y, x + 1.8 * r);
}

static void draw_arrow_head(const struct overlay *o, double x0, double y0, double x1, double y1)
{
	double dx = x1 - x0, dy = y1 - y0, len = length(dx, dy), s = 1.1 * o->u;

	if (len <= 0)
		return;
	dx /= len;
	dy /= len;
	fprintf(o->f, "<path d=\"M%.1f %.1fL%g %gL%.1f %.1f\"/>", x1 - s * dx + 0.6 * s * dy,
		y1 - s * dy - 0.6 * s * dx, x1, y1, x1 - s * dx - 0.6 * s * dy, y1 - s * dy + 0.6 * s * dx);
}

static void draw_drag(const struct overlay *o, const cJSON *a)
{
	const cJSON *pt;
	double x, y, fx = 0, fy = 0, px = 0, py = 0, lx = 0, ly = 0;
	int n = 0;

	fputs("<polyline points=\"", o->f);
	cJSON_ArrayForEach(pt, cJSON_GetObjectItemCaseSensitive(a, "path")) {
		if (!jpair(pt, &x, &y))
			continue;
		if (n++ == 0) {
			fx = x;
			fy = y;
		}
		px = lx;
		py = ly;
		lx = x;
		ly = y;
		fprintf(o->f, "%s%g,%g", n > 1 ? " " : "", x, y);
	}
	fputs("\"/>", o->f);
	if (n == 0)
		return;
	fprintf(o->f, "<circle cx=\"%g\" cy=\"%g\" r=\"%.1f\"/>", fx, fy, 0.6 * o->u);
	if (n > 1)
		draw_arrow_head(o, px, py, lx, ly);
}

static void draw_scroll(const struct overlay *o, const cJSON *a)
{
	double x, y, dx = 0, dy = 0, len;

	if (!jpoint(a, &x, &y))
		return;
	jnum(a, "dx", -1000, 1000, &dx);
	jnum(a, "dy", -1000, 1000, &dy);
	len = length(dx, dy);
	fprintf(o->f, "<circle cx=\"%g\" cy=\"%g\" r=\"%.1f\"/>", x, y, 0.5 * o->u);
	if (len <= 0)
		return;
	/* Longer for more wheel clicks, up to a limit. */
	double l = o->u * (2.5 + 1.2 * (len < 8 ? len : 8));
	double ex = x + dx / len * l, ey = y + dy / len * l;

	fprintf(o->f, "<path d=\"M%g %gL%.1f %.1f\"/>", x, y, ex, ey);
	draw_arrow_head(o, x, y, ex, ey);
}

/* The marks of one action, in the current group's style. */
static void draw_action(const struct overlay *o, const cJSON *a)
{
	const char *type = jstr(a, "action");
	double x, y, w, h, count = 1;

	if (!type)
		return;
	if (strcmp(type, "click") == 0 && jpoint(a, &x, &y)) {
		draw_ring(o, x, y, 1.2 * o->u, true);
		if (jnum(a, "count", 1, 3, &count) && count > 1)
			fprintf(o->f, "<circle cx=\"%g\" cy=\"%g\" r=\"%.1f\"/>", x, y, 0.75 * o->u);
		fprintf(o->f, "<circle class=\"fill\" cx=\"%g\" cy=\"%g\" r=\"%.1f\"/>", x, y, 0.12 * o->u);
	} else if ((strcmp(type, "button_down") == 0 || strcmp(type, "button_up") == 0) && jpoint(a, &x, &y)) {
		draw_ring(o, x, y, 1.0 * o->u, true);
	} else if (strcmp(type, "move") == 0 && jpoint(a, &x, &y)) {
		draw_ring(o, x, y, 0.6 * o->u, false);
	} else if (strcmp(type, "drag") == 0) {
		draw_drag(o, a);
	} else if (strcmp(type, "scroll") == 0) {
		draw_scroll(o, a);
	} else if (strcmp(type, "zoom") == 0 && jpoint(a, &x, &y) && jnum(a, "width", 1, MAX_COORD, &w) &&
		   jnum(a, "height", 1, MAX_COORD, &h)) {
		fprintf(o->f, "<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" stroke-dasharray=\"2 6\"/>", x, y, w, h);
	}
}

/* Where to put an action's number label: beside its first point. */
static bool label_point(const cJSON *a, double *x, double *y)
{
	const char *type = jstr(a, "action");

	if (type && strcmp(type, "drag") == 0)
		return jpair(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(a, "path"), 0), x, y);
	return jpoint(a, x, y);
}

static void write_overlay(FILE *f, const cJSON *step, double w, double h)
{
	const cJSON *actions = cJSON_GetObjectItemCaseSensitive(step, "actions");
	const cJSON *a, *fb;
	struct overlay o = { .f = f, .w = w, .h = h, .u = maxd(maxd(w, h) / 95, 5) };
	double r[4], x, y;
	int i = 0, n_actions = cJSON_GetArraySize(actions);

	fprintf(f, "<svg class=\"ov\" viewBox=\"0 0 %g %g\" preserveAspectRatio=\"none\" aria-hidden=\"true\">", w, h);
	cJSON_ArrayForEach(fb, cJSON_GetObjectItemCaseSensitive(step, "feedback")) {
		if (jrect(cJSON_GetObjectItemCaseSensitive(fb, "changed"), r))
			fprintf(f, "<rect class=\"chg %s\" x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\"/>",
				verdict_class(jstr(fb, "verdict"), NULL), r[0], r[1], r[2], r[3]);
	}
	/* White halos first, then the marks: a mark is never hidden by another's halo. */
	for (int pass = 0; pass < 2; pass++) {
		fprintf(f, "<g class=\"%s\">", pass == 0 ? "halo" : "mk");
		cJSON_ArrayForEach(a, actions)
			draw_action(&o, a);
		fputs("</g>", f);
	}
	cJSON_ArrayForEach(a, actions) {
		i++;
		if (n_actions > 1 && label_point(a, &x, &y))
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%.1f\">%d</text>", x + 1.5 * o.u,
				y - 1.3 * o.u, 2.2 * o.u, i);
	}
	fputs("</svg>", f);
}

static void write_placeholder(FILE *f, const char *what, const char *name)
{
	fputs("<div class=\"ph\"><span>", f);
	if (name && *name) {
		fputs("<code>", f);
		put_text(f, name);
		fputs("</code> ", f);
	}
	put_text(f, what);
	fputs("</span></div>", f);
}

/* Reads a step's screenshot into *data; returns why it cannot be shown, or NULL. */
static const char *load_shot(const struct report *rp, const char *name, char **data, size_t *size)
{
	int r;

	if (!name || !*name)
		return "no screenshot was recorded for this step";
	if (!is_step_image_name(name))
		return "is not a step_NNN.jpg name; not shown";
	r = read_at(rp->dirfd, name, MAX_IMAGE_BYTES, data, size);
	if (r == -ENOENT)
		return "is missing";
	if (r == -EFBIG)
		return "is too large to embed";
	if (r < 0)
		return "could not be read";
	if (*size < 3 || memcmp(*data, "\xff\xd8\xff", 3) != 0) {
		free(*data);
		*data = NULL;
		return "is not a JPEG";
	}
	return NULL;
}

/* The screenshot with the marks over it, or a short placeholder. */
static void write_shot(const struct report *rp, const cJSON *step, double n)
{
	const char *name = jstr(step, "image"), *why;
	FILE *f = rp->out;
	char *data = NULL;
	size_t size = 0;
	double w = 0, h = 0;
	bool has_size = jnum(step, "image_width", 1, 65535, &w) && jnum(step, "image_height", 1, 65535, &h);

	why = load_shot(rp, name, &data, &size);
	if (why) {
		fputs("<div class=\"shot\">", f);
		write_placeholder(f, why, name && *name ? name : NULL);
		fputs("</div>\n", f);
		return;
	}
	fprintf(f, "<div class=\"shot\"><img loading=\"lazy\" decoding=\"async\" alt=\"Screen at step %.0f\"", n);
	if (has_size)
		fprintf(f, " width=\"%g\" height=\"%g\"", w, h);
	fputs(" src=\"data:image/jpeg;base64,", f);
	base64_write(f, (const uint8_t *)data, size);
	fputs("\">", f);
	free(data);
	/* The marks need the image's size: without it, none are drawn. */
	if (has_size)
		write_overlay(f, step, w, h);
	fputs("</div>\n<div class=\"caption\">", f);
	fputs(has_size ? "<i></i>where the actions went<i class=\"c\"></i>where the screen changed"
		       : "The image size was not recorded: actions are not marked.", f);
	fputs("</div>\n", f);
}

/* A coordinate pair as text, or nothing when absent. */
static void put_point(FILE *f, const cJSON *a, const char *prefix)
{
	double x, y;

	if (jpoint(a, &x, &y))
		fprintf(f, "%s(%g, %g)", prefix, x, y);
}

static void put_quoted(FILE *f, const char *s)
{
	fputs("“", f);
	put_text_short(f, s ? s : "");
	fputs("”", f);
}

/* Extra text fields: " key “value”" for each present one. */
static void put_field(FILE *f, const cJSON *a, const char *key, const char *label)
{
	const char *v = jstr(a, key);

	if (!v)
		return;
	fprintf(f, " %s ", label);
	put_quoted(f, v);
}

static void put_modifiers(FILE *f, const cJSON *a)
{
	const char *m = jstr(a, "modifiers");

	if (m && *m) {
		fputs(" with ", f);
		put_text_short(f, m);
	}
}

static void put_drag(FILE *f, const cJSON *a)
{
	const cJSON *path = cJSON_GetObjectItemCaseSensitive(a, "path");
	int n = cJSON_GetArraySize(path);
	double x0, y0, x1, y1;

	if (jpair(cJSON_GetArrayItem(path, 0), &x0, &y0) && jpair(cJSON_GetArrayItem(path, n - 1), &x1, &y1))
		fprintf(f, " (%g, %g) → (%g, %g)", x0, y0, x1, y1);
	if (n > 2)
		fprintf(f, " through %d points", n);
}

static void put_scroll(FILE *f, const cJSON *a)
{
	double dx = 0, dy = 0;

	jnum(a, "dx", -1000, 1000, &dx);
	jnum(a, "dy", -1000, 1000, &dy);
	if (dy)
		fprintf(f, " %s %g", dy > 0 ? "down" : "up", absd(dy));
	if (dx)
		fprintf(f, "%s %s %g", dy ? "," : "", dx > 0 ? "right" : "left", absd(dx));
	put_point(f, a, " at ");
}

static void put_argv(FILE *f, const cJSON *a)
{
	const cJSON *arg;

	cJSON_ArrayForEach(arg, cJSON_GetObjectItemCaseSensitive(a, "argv")) {
		fputc(' ', f);
		if (cJSON_IsString(arg))
			put_text_short(f, arg->valuestring);
	}
}

/* One action in words: "click (640, 400) left ×2", "type “Grüße”", ... */
static void put_action(FILE *f, const cJSON *a)
{
	const char *type = jstr(a, "action"), *button = button_name(a);
	double v;

	if (!type) {
		fputs("<span class=\"muted\">(an action without a name)</span>", f);
		return;
	}
	fputs("<b>", f);
	put_text(f, type);
	fputs("</b>", f);
	if (strcmp(type, "click") == 0 || strcmp(type, "button_down") == 0 || strcmp(type, "button_up") == 0) {
		put_point(f, a, " ");
		fprintf(f, " %s", button ? button : "(odd button)");
		if (jnum(a, "count", 2, 3, &v))
			fprintf(f, " ×%g", v);
		put_modifiers(f, a);
	} else if (strcmp(type, "move") == 0) {
		put_point(f, a, " ");
	} else if (strcmp(type, "drag") == 0) {
		put_drag(f, a);
		if (button && strcmp(button, "left") != 0)
			fprintf(f, " %s", button);
		put_modifiers(f, a);
	} else if (strcmp(type, "scroll") == 0) {
		put_scroll(f, a);
		put_modifiers(f, a);
	} else if (strcmp(type, "type") == 0) {
		fputc(' ', f);
		put_quoted(f, jstr(a, "text"));
		if (jstr(a, "method") && strcmp(jstr(a, "method"), "auto") != 0) {
			fputs(" by ", f);
			put_text(f, jstr(a, "method"));
		}
	} else if (strcmp(type, "key") == 0 || strcmp(type, "key_down") == 0 || strcmp(type, "key_up") == 0 ||
		   strcmp(type, "hold") == 0) {
		fputc(' ', f);
		put_text_short(f, jstr(a, "keys") ? jstr(a, "keys") : "?");
		if (jnum(a, "count", 2, 1000, &v))
			fprintf(f, " ×%g", v);
		if (jnum(a, "ms", 0, 1e9, &v))
			fprintf(f, " for %g ms", v);
	} else if (strcmp(type, "wait") == 0) {
		if (jnum(a, "ms", 0, 1e9, &v))
			fprintf(f, " %g ms", v);
	} else if (strcmp(type, "zoom") == 0) {
		put_point(f, a, " ");
		if (jnum(a, "width", 0, MAX_COORD, &v))
			fprintf(f, " %g", v);
		if (jnum(a, "height", 0, MAX_COORD, &v))
			fprintf(f, "×%g", v);
	} else if (strcmp(type, "window") == 0) {
		if (jstr(a, "op")) {
			fputc(' ', f);
			put_text(f, jstr(a, "op"));
		}
		put_field(f, a, "title", "title");
		put_field(f, a, "class", "class");
		if (jnum(a, "pid", 0, 1e10, &v))
			fprintf(f, " pid %g", v);
		put_point(f, a, " to ");
	} else if (strcmp(type, "launch") == 0) {
		put_argv(f, a);
	} else if (strcmp(type, "done") == 0) {
		put_field(f, a, "summary", "—");
	} else if (strcmp(type, "fail") == 0) {
		put_field(f, a, "reason", "—");
	} else if (strcmp(type, "ask_user") == 0) {
		put_field(f, a, "question", "—");
	}
}

static void write_actions(FILE *f, const cJSON *step)
{
	const cJSON *actions = cJSON_GetObjectItemCaseSensitive(step, "actions");
	const cJSON *feedback = cJSON_GetObjectItemCaseSensitive(step, "feedback");
	int n_actions = cJSON_GetArraySize(actions), n_fb = cJSON_GetArraySize(feedback);
	int n = n_actions > n_fb ? n_actions : n_fb;

	fputs("<div><h2>Actions</h2>", f);
	if (n == 0)
		fputs("<p class=\"muted\">No actions.</p>", f);
	else
		fputs("<ol class=\"acts\">", f);
	for (int i = 0; i < n; i++) {
		const cJSON *a = cJSON_GetArrayItem(actions, i), *fb = cJSON_GetArrayItem(feedback, i);
		const char *verdict = jstr(fb, "verdict"), *message = jstr(fb, "message");

		fprintf(f, "<li><span class=\"n\">%d</span><span class=\"act\">", i + 1);
		if (a)
			put_action(f, a);
		else
			fputs("<span class=\"muted\">(no action)</span>", f);
		fputs("</span>", f);
		if (verdict || (message && *message)) {
			fputs("<div class=\"fb\">", f);
			if (verdict) {
				fprintf(f, "<span class=\"badge %s\">", verdict_class(verdict, NULL));
				put_text(f, verdict);
				fputs("</span>", f);
			}
			if (message)
				put_text(f, message);
			fputs("</div>", f);
		}
		fputs("</li>", f);
	}
	fputs(n ? "</ol></div>\n" : "</div>\n", f);
}

static void write_reasoning(FILE *f, const cJSON *step)
{
	const char *reasoning = jstr(step, "reasoning");

	fputs("<div><h2>Reasoning</h2>", f);
	if (reasoning && *reasoning) {
		fputs("<p class=\"reason\">", f);
		put_text(f, reasoning);
		fputs("</p></div>\n", f);
	} else {
		fputs("<p class=\"muted\">None recorded.</p></div>\n", f);
	}
}

/* A step's phase times in ms; returns their sum, or -1 when none was recorded. */
static double step_phase_ms(const cJSON *step, double ms[N_PHASES])
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(step, "timings_us");
	double all = -1, us;

	for (int p = 0; p < N_PHASES; p++) {
		ms[p] = 0;
		if (jnum(t, phases[p], 0, 1e13, &us)) {
			ms[p] = us / 1000;
			all = (all < 0 ? 0 : all) + ms[p];
		}
	}
	return all;
}

static void write_timing(FILE *f, const cJSON *step)
{
	double ms[N_PHASES], all = step_phase_ms(step, ms);
	char buf[32];

	if (all < 0)
		return;
	fputs("<div class=\"timing\">", f);
	write_bar(f, ms, all);
	fputs("<div class=\"legend\">", f);
	for (int p = 0; p < N_PHASES; p++) {
		fmt_ms(buf, sizeof(buf), ms[p]);
		fprintf(f, "<span><span class=\"dot p-%s\"></span>%s <b>%s</b></span>", phases[p], phases[p], buf);
	}
	fmt_ms(buf, sizeof(buf), all);
	fprintf(f, "<span>total <b>%s</b></span></div></div>\n", buf);
}

static void write_step(const struct report *rp, const cJSON *step)
{
	const cJSON *tok = cJSON_GetObjectItemCaseSensitive(step, "tokens");
	FILE *f = rp->out;
	double n = step_number(step), in = 0, out = 0, ms[N_PHASES], all = step_phase_ms(step, ms);
	char time_s[32], in_s[32], out_s[32];

	fprintf(f, "<section class=\"card step\" id=\"step-%.0f\"><div class=\"step-head\">"
		   "<a href=\"#step-%.0f\">Step %.0f</a><span class=\"meta\">",
		n, n, n);
	if (all >= 0) {
		fmt_ms(time_s, sizeof(time_s), all);
		fputs(time_s, f);
	}
	jnum(tok, "in", 0, 1e15, &in);
	jnum(tok, "out", 0, 1e15, &out);
	if (in + out > 0) {
		fmt_count(in_s, sizeof(in_s), in);
		fmt_count(out_s, sizeof(out_s), out);
		fprintf(f, "%s%s tokens in · %s out", all >= 0 ? " · " : "", in_s, out_s);
	}
	fputs("</span></div>\n", f);
	write_shot(rp, step, n);
	fputs("<div class=\"body\">", f);
	write_actions(f, step);
	write_reasoning(f, step);
	fputs("</div>\n", f);
	write_timing(f, step);
	fputs("</section>\n", f);
}

static void write_bad_line(const struct report *rp, const struct line *l)
{
	fprintf(rp->out,
		"<div class=\"note badline\" id=\"line-%d\">Line %d of traj.jsonl %s; skipped.</div>\n",
		l->number, l->number, l->why);
}

static void write_page(const struct report *rp)
{
	write_head(rp);
	write_summary(rp);
	for (size_t i = 0; i < rp->n_lines; i++) {
		if (rp->lines[i].step)
			write_step(rp, rp->lines[i].step);
		else
			write_bad_line(rp, &rp->lines[i]);
	}
	fputs("<footer class=\"page\">Made by deskpilot from result.json, traj.jsonl and the step screenshots."
	      "</footer>\n</main></body></html>\n",
	      rp->out);
}

static void report_free(struct report *rp)
{
	for (size_t i = 0; i < rp->n_lines; i++)
		cJSON_Delete(rp->lines[i].step);
	free(rp->lines);
	cJSON_Delete(rp->result);
	if (rp->dirfd >= 0)
		close(rp->dirfd);
}

int dp_report_write(const char *run_dir, struct dp_error *err)
{
	struct report rp = { .dirfd = open(run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) };
	char path[PATH_MAX], tmp[PATH_MAX];
	int r;

	if (rp.dirfd < 0)
		return dp_error_set(err, -errno, "cannot open the run folder %s: %s", run_dir, strerror(errno));
	if (snprintf(path, sizeof(path), "%s/report.html", run_dir) >= (int)sizeof(path)) {
		report_free(&rp);
		return dp_error_set(err, -ENAMETOOLONG, "run folder name too long: %s", run_dir);
	}
	read_result(&rp);
	r = read_traj(&rp);
	if (r < 0) {
		report_free(&rp);
		return dp_error_set(err, r, "cannot read %s/traj.jsonl: %s", run_dir, strerror(-r));
	}
	rp.out = dp_file_open_part(path, tmp, sizeof(tmp), err);
	if (!rp.out) {
		report_free(&rp);
		return err ? err->code : -EIO;
	}
	write_page(&rp);
	r = dp_file_commit_part(rp.out, tmp, path, ferror(rp.out) ? -EIO : 0, err);
	report_free(&rp);
	return r;
}
