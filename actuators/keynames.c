#include "actuators/keynames.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <xkbcommon/xkbcommon.h>

struct alias {
	const char *name;
	const char *keysym_name;
};

/* xdotool's own aliases first, then spellings people type for special keys. */
static const struct alias aliases[] = {
	{ "alt", "Alt_L" },       { "ctrl", "Control_L" },  { "control", "Control_L" },
	{ "shift", "Shift_L" },   { "super", "Super_L" },   { "meta", "Meta_L" },
	{ "win", "Super_L" },     { "cmd", "Super_L" },     { "altgr", "ISO_Level3_Shift" },
	{ "enter", "Return" },    { "return", "Return" },   { "esc", "Escape" },
	{ "del", "Delete" },      { "ins", "Insert" },      { "pgup", "Prior" },
	{ "pageup", "Prior" },    { "pgdn", "Next" },       { "pagedown", "Next" },
	{ "backspace", "BackSpace" }, { "bksp", "BackSpace" }, { "capslock", "Caps_Lock" },
	{ "printscreen", "Print" },
};

#define KEYSYM_RETURN 0xff0d
#define KEYSYM_TAB 0xff09

/* One UTF-8 character at s[*i] (of len bytes); -EILSEQ for anything that
 * is not a valid, shortest-form encoding of a Unicode scalar value. */
static int utf8_next(const unsigned char *s, size_t len, size_t *i, uint32_t *cp)
{
	unsigned char c = s[*i];
	int n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
	uint32_t v;

	if (!n || *i + (size_t)n > len)
		return -EILSEQ;
	v = n == 1 ? c : c & (0x7fu >> n);
	for (int k = 1; k < n; k++) {
		if ((s[*i + (size_t)k] & 0xc0) != 0x80)
			return -EILSEQ;
		v = (v << 6) | (s[*i + (size_t)k] & 0x3f);
	}
	/* Overlong forms and surrogates are not characters. */
	if ((n == 2 && v < 0x80) || (n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10ffff)) ||
	    (v >= 0xd800 && v <= 0xdfff))
		return -EILSEQ;
	*i += (size_t)n;
	*cp = v;
	return 0;
}

static int distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int row[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int diag = row[0];

		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int up = row[j];
			int cost = (a[i - 1] | 0x20) == (b[j - 1] | 0x20) ? 0 : 1;
			int best = diag + cost;

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

struct suggestions {
	char names[3][48];
	int scores[3];
};

static void consider(struct suggestions *s, const char *wanted, const char *candidate)
{
	int d = distance(wanted, candidate);

	for (int i = 0; i < 3; i++)
		if (strcasecmp(s->names[i], candidate) == 0)
			return;
	for (int i = 0; i < 3; i++) {
		if (d < s->scores[i]) {
			for (int j = 2; j > i; j--) {
				s->scores[j] = s->scores[j - 1];
				memcpy(s->names[j], s->names[j - 1], sizeof(s->names[j]));
			}
			s->scores[i] = d;
			snprintf(s->names[i], sizeof(s->names[i]), "%s", candidate);
			return;
		}
	}
}

/* The keysym ranges that have names people use as keys. */
static const uint32_t named_ranges[][2] = {
	{ 0x20, 0x7e }, { 0xa0, 0xff }, { 0xfe00, 0xfeff }, { 0xff00, 0xffff }, { 0x1008ff00, 0x1008ffff },
};

static int unknown(const char *name, struct dp_error *err)
{
	struct suggestions s = { .scores = { 99, 99, 99 } };
	char buf[64];

	/* Proper keysym names first: on a tie they win over an alias. */
	for (size_t r = 0; r < sizeof(named_ranges) / sizeof(named_ranges[0]); r++) {
		for (uint32_t ks = named_ranges[r][0]; ks <= named_ranges[r][1]; ks++) {
			if (xkb_keysym_get_name(ks, buf, sizeof(buf)) > 0 && strncmp(buf, "0x", 2) != 0)
				consider(&s, name, buf);
		}
	}
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		consider(&s, name, aliases[i].name);
	return dp_error_set(err, -ENOENT, "unknown key name '%s'; closest: %s, %s, %s", name, s.names[0],
			    s.names[1], s.names[2]);
}

int dp_keyname_lookup(const char *name, uint32_t *keysym, struct dp_error *err)
{
	xkb_keysym_t ks;
	uint32_t cp;
	size_t at = 0;

	if (!name[0])
		return dp_error_set(err, -EINVAL, "empty key name");
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
		if (strcasecmp(name, aliases[i].name) == 0) {
			*keysym = xkb_keysym_from_name(aliases[i].keysym_name, XKB_KEYSYM_NO_FLAGS);
			return 0;
		}
	}
	ks = xkb_keysym_from_name(name, XKB_KEYSYM_NO_FLAGS);
	if (ks == XKB_KEY_NoSymbol)
		ks = xkb_keysym_from_name(name, XKB_KEYSYM_CASE_INSENSITIVE);
	if (ks == XKB_KEY_NoSymbol) {
		/* A single character names itself: "ü", "€", "@". */
		if (utf8_next((const unsigned char *)name, strlen(name), &at, &cp) == 0 && !name[at] && cp >= 0x20)
			ks = xkb_utf32_to_keysym(cp);
	}
	if (ks == XKB_KEY_NoSymbol)
		return unknown(name, err);
	*keysym = ks;
	return 0;
}

int dp_chord_parse(const char *chord, uint32_t keysyms[DP_CHORD_MAX], struct dp_error *err)
{
	const char *p = chord;
	int n = 0;

	if (!chord || !*chord)
		return dp_error_set(err, -EINVAL, "no keys given (write a chord such as ctrl+s or Return)");
	while (*p) {
		char name[64];
		const char *plus = strchr(p, '+');
		size_t len;
		int r;

		/* A '+' right at the start of a part is the plus key itself. */
		if (plus == p)
			plus = strchr(p + 1, '+');
		len = plus ? (size_t)(plus - p) : strlen(p);
		if (len == 0 || len >= sizeof(name))
			return dp_error_set(err, -EINVAL, "'%s': empty or overlong key name in the chord", chord);
		if (n == DP_CHORD_MAX)
			return dp_error_set(err, -E2BIG, "'%s': more than %d keys in one chord", chord, DP_CHORD_MAX);
		memcpy(name, p, len);
		name[len] = '\0';
		r = dp_keyname_lookup(name, &keysyms[n], err);
		if (r < 0)
			return r;
		n++;
		if (!plus)
			break;
		p = plus + 1;
		if (!*p)
			return dp_error_set(err, -EINVAL, "'%s' ends with '+': a key is missing (the plus key is 'plus')", chord);
	}
	return n;
}

/* Unicode code point to X keysym: Latin-1 maps to itself, everything
 * else to 0x01000000 + code point, which X and toolkits all accept. */
static uint32_t keysym_of(uint32_t cp)
{
	if (cp == '\n' || cp == '\r')
		return KEYSYM_RETURN;
	if (cp == '\t')
		return KEYSYM_TAB;
	if ((cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xff))
		return cp;
	return 0x01000000u + cp;
}

int dp_text_keysyms(const char *text, uint32_t **out, size_t *n, struct dp_error *err)
{
	size_t len = strlen(text), i = 0, count = 0;
	uint32_t *syms = malloc((len + 1) * sizeof(uint32_t));

	if (!syms)
		return -ENOMEM;
	while (i < len) {
		uint32_t cp;
		size_t at = i;

		if (utf8_next((const unsigned char *)text, len, &i, &cp) < 0) {
			free(syms);
			return dp_error_set(err, -EILSEQ, "type.text: invalid UTF-8 at byte %zu", at);
		}
		if ((cp < 0x20 && cp != '\n' && cp != '\r' && cp != '\t') || cp == 0x7f) {
			free(syms);
			return dp_error_set(err, -EINVAL,
					    "type.text: control character U+%04X at byte %zu cannot be typed "
					    "(use a key action for special keys)", cp, at);
		}
		syms[count++] = keysym_of(cp);
	}
	*out = syms;
	*n = count;
	return 0;
}
