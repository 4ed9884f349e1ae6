#include "actuators/keynames.h"

#include <errno.h>
#include <stdbool.h>
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

static const char *utf8_decode(const char *s, uint32_t *cp)
{
	const unsigned char *p = (const unsigned char *)s;
	int len = p[0] < 0x80 ? 1 : (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3 : (p[0] & 0xf8) == 0xf0 ? 4 : 0;

	if (!len)
		return NULL;
	*cp = len == 1 ? p[0] : p[0] & (0x7f >> len);
	for (int i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return NULL;
		*cp = (*cp << 6) | (p[i] & 0x3f);
	}
	return s + len;
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
	const char *end;

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
		end = utf8_decode(name, &cp);
		if (end && !*end && cp >= 0x20)
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
