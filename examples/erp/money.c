#include "money.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Grouping marks other than '.' and ',' become this byte while parsing. */
#define GROUP_MARK 'g'
#define MAX_NORMALIZED 64

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The length of a grouping mark at s (space, apostrophe, no-break space,
 * narrow no-break space, right single quote), or 0. */
static size_t group_mark_len(const char *s)
{
	if (s[0] == ' ' || s[0] == '\'')
		return 1;
	if ((unsigned char)s[0] == 0xc2 && (unsigned char)s[1] == 0xa0)
		return 2;
	if ((unsigned char)s[0] == 0xe2 && (unsigned char)s[1] == 0x80 &&
	    ((unsigned char)s[2] == 0xaf || (unsigned char)s[2] == 0x99))
		return 3;
	return 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Copies text without surrounding blanks and the sign into out, with every
 * grouping mark as GROUP_MARK.  Returns false on any other character. */
static bool normalize(const char *text, char *out, bool *negative)
{
	const char *end = text + strlen(text);
	size_t n = 0;

	while (is_blank(*text))
		text++;
	while (end > text && is_blank(end[-1]))
		end--;
	*negative = text < end && *text == '-';
	if (*negative)
		text++;
	while (text < end) {
		size_t g = group_mark_len(text);

		if (n + 1 >= MAX_NORMALIZED)
			return false;
		if (g) {
			out[n++] = GROUP_MARK;
			text += g;
		} else if (is_digit(*text) || *text == '.' || *text == ',') {
			out[n++] = *text++;
		} else {
			return false;
		}
	}
	out[n] = '\0';
	return true;
}

static size_t count_char(const char *s, char c)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

/* Checks the integer part: digits, and where group is set, groups of three
 * after a first group of one to three.  Accumulates its value. */
static int parse_integer_part(const char *s, size_t len, char group, int64_t *value, const char **why)
{
	size_t run = 0, digits = 0;
	bool grouped = false;

	*value = 0;
	for (size_t i = 0; i < len; i++) {
		if (is_digit(s[i])) {
			run++;
			if (digits > 0 || s[i] != '0')
				digits++;
			if (digits > 11) {
				*why = "is too large";
				return -ERANGE;
			}
			*value = *value * 10 + (s[i] - '0');
			continue;
		}
		if (s[i] != group || group == '\0') {
			*why = "is not a number";
			return -EINVAL;
		}
		/* A mark between groups: the group before it must be whole. */
		if (run == 0 || run > 3 || (grouped && run != 3)) {
			*why = "has misplaced thousands separators";
			return -EINVAL;
		}
		grouped = true;
		run = 0;
	}
	if (run == 0 || (grouped && run != 3)) {
		*why = grouped ? "has misplaced thousands separators" : "is not a number";
		return -EINVAL;
	}
	return 0;
}

int erp_amount_parse(const char *text, int64_t *cents, const char **why)
{
	char s[MAX_NORMALIZED];
	const char *dec_at = NULL;
	char dec = '\0', group = '\0';
	size_t dots, commas, marks, len, int_len;
	int64_t units = 0, fraction = 0;
	bool negative;
	int r;

	*why = "is not a number";
	if (!text || !normalize(text, s, &negative))
		return -EINVAL;
	len = strlen(s);
	if (len == 0) {
		*why = negative ? "is not a number" : "is empty";
		return -EINVAL;
	}
	if (!is_digit(s[0]) || !is_digit(s[len - 1]))
		return -EINVAL;

	dots = count_char(s, '.');
	commas = count_char(s, ',');
	marks = count_char(s, GROUP_MARK);
	if (dots && commas) {
		/* Both: the last one is the decimal separator, the other groups. */
		dec = strrchr(s, '.') > strrchr(s, ',') ? '.' : ',';
		group = dec == '.' ? ',' : '.';
		if (count_char(s, dec) != 1 || marks) {
			*why = "mixes separators";
			return -EINVAL;
		}
	} else if (dots + commas > 1) {
		/* One kind, several times: thousands separators, no decimals. */
		group = dots ? '.' : ',';
		if (marks) {
			*why = "mixes separators";
			return -EINVAL;
		}
	} else if (dots + commas == 1) {
		char c = dots ? '.' : ',';
		size_t after = len - (size_t)(strchr(s, c) - s) - 1;

		if (after == 3 && !marks) {
			*why = "is ambiguous: write 1234.56, 1234,56 or 1.234,56";
			return -EINVAL;
		}
		dec = c;
		group = marks ? GROUP_MARK : '\0';
	} else {
		group = marks ? GROUP_MARK : '\0';
	}

	dec_at = dec ? strchr(s, dec) : NULL;
	int_len = dec_at ? (size_t)(dec_at - s) : len;
	r = parse_integer_part(s, int_len, group, &units, why);
	if (r < 0)
		return r;
	if (dec_at) {
		const char *f = dec_at + 1;
		size_t flen = strlen(f);

		if (flen > 2) {
			*why = "has more than two decimal places";
			return -EINVAL;
		}
		for (size_t i = 0; i < flen; i++) {
			if (!is_digit(f[i]))
				return -EINVAL;
			fraction = fraction * 10 + (f[i] - '0');
		}
		if (flen == 1)
			fraction *= 10;
	}
	if (units * 100 + fraction > ERP_CENTS_MAX) {
		*why = "is too large";
		return -ERANGE;
	}
	*cents = (negative ? -1 : 1) * (units * 100 + fraction);
	*why = NULL;
	return 0;
}

int64_t erp_total_cents(int64_t net_cents, int vat_percent)
{
	int64_t magnitude = net_cents < 0 ? -net_cents : net_cents;
	int64_t total = (magnitude * (100 + vat_percent) + 50) / 100;

	return net_cents < 0 ? -total : total;
}

void erp_amount_format(int64_t cents, char *buf, size_t size)
{
	uint64_t magnitude = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;

	snprintf(buf, size, "%s%" PRIu64 ".%02" PRIu64, cents < 0 ? "-" : "", magnitude / 100, magnitude % 100);
}

bool erp_date_valid(const char *text)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int year, month, day, max;

	if (!text || strlen(text) != 10 || text[4] != '-' || text[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !is_digit(text[i]))
			return false;
	year = (text[0] - '0') * 1000 + (text[1] - '0') * 100 + (text[2] - '0') * 10 + (text[3] - '0');
	month = (text[5] - '0') * 10 + (text[6] - '0');
	day = (text[8] - '0') * 10 + (text[9] - '0');
	if (year < 1900 || year > 2099 || month < 1 || month > 12 || day < 1)
		return false;
	max = days[month - 1];
	if (month == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))
		max = 29;
	return day <= max;
}
