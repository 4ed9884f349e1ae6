/* Key names as xdotool users write them. */
#include <errno.h>
#include <stdlib.h>

#include "actuators/keynames.h"
#include "tst.h"

static uint32_t keysym(const char *name)
{
	uint32_t ks = 0;

	return dp_keyname_lookup(name, &ks, NULL) == 0 ? ks : 0;
}

static void test_names_and_aliases(void)
{
	TST_EQ_INT(keysym("Return"), 0xff0d);
	TST_EQ_INT(keysym("enter"), 0xff0d);
	TST_EQ_INT(keysym("KP_Enter"), 0xff8d);
	TST_EQ_INT(keysym("F5"), 0xffc2);
	TST_EQ_INT(keysym("ctrl"), 0xffe3);   /* Control_L */
	TST_EQ_INT(keysym("Control"), 0xffe3);
	TST_EQ_INT(keysym("alt"), 0xffe9);    /* Alt_L */
	TST_EQ_INT(keysym("super"), 0xffeb);  /* Super_L */
	TST_EQ_INT(keysym("shift"), 0xffe1);
	TST_EQ_INT(keysym("a"), 'a');
	TST_EQ_INT(keysym("A"), 'A');
	TST_EQ_INT(keysym("return"), 0xff0d); /* any case */
	TST_EQ_INT(keysym("ü"), 0xfc);        /* a character names itself */
	TST_EQ_INT(keysym("€"), 0x20ac);
	TST_EQ_INT(keysym("plus"), '+');
	TST_EQ_INT(keysym("XF86AudioMute"), 0x1008ff12);
}

static void test_chords(void)
{
	uint32_t ks[DP_CHORD_MAX];

	TST_EQ_INT(dp_chord_parse("ctrl+shift+t", ks, NULL), 3);
	TST_EQ_INT(ks[0], 0xffe3);
	TST_EQ_INT(ks[1], 0xffe1);
	TST_EQ_INT(ks[2], 't');
	TST_EQ_INT(dp_chord_parse("ctrl++", ks, NULL), 2);
	TST_EQ_INT(ks[1], '+');
	TST_EQ_INT(dp_chord_parse("+", ks, NULL), 1);
	TST_EQ_INT(ks[0], '+');
	TST_EQ_INT(dp_chord_parse("super", ks, NULL), 1);
}

static void test_errors_name_the_closest_keys(void)
{
	struct dp_error err = { 0 };
	uint32_t ks[DP_CHORD_MAX];

	TST_EQ_INT(dp_chord_parse("ctrl+Retrun", ks, &err), -ENOENT);
	TST_CHECK(strstr(err.message, "'Retrun'") && strstr(err.message, "Return"));
	TST_EQ_INT(dp_chord_parse("ctlr+s", ks, &err), -ENOENT);
	TST_CHECK(strstr(err.message, "ctrl"));
	TST_EQ_INT(dp_chord_parse("", ks, &err), -EINVAL);
	TST_EQ_INT(dp_chord_parse("ctrl+", ks, &err), -EINVAL);
	TST_CHECK(strstr(err.message, "plus"));
	TST_EQ_INT(dp_chord_parse("a+b+c+d+e+f+g+h+i", ks, &err), -E2BIG);
	TST_EQ_INT(dp_chord_parse("\xff", ks, &err), -ENOENT);
}

static void test_text_to_keysyms(void)
{
	struct dp_error err = { 0 };
	uint32_t *ks = NULL;
	size_t n = 0;

	TST_EQ_INT(dp_text_keysyms("aü€😀\n\t", &ks, &n, NULL), 0);
	TST_EQ_INT(n, 6);
	TST_EQ_INT(ks[0], 'a');
	TST_EQ_INT(ks[1], 0xfc);          /* Latin-1 keysyms are the code point */
	TST_EQ_INT(ks[2], 0x10020ac);     /* the rest: 0x01000000 + code point */
	TST_EQ_INT(ks[3], 0x101f600);
	TST_EQ_INT(ks[4], 0xff0d);        /* Return */
	TST_EQ_INT(ks[5], 0xff09);        /* Tab */
	free(ks);
	TST_EQ_INT(dp_text_keysyms("ok\xc3(", &ks, &n, &err), -EILSEQ);
	TST_CHECK(strstr(err.message, "invalid UTF-8 at byte 2") != NULL);
	TST_EQ_INT(dp_text_keysyms("\xc0\xaf", &ks, &n, &err), -EILSEQ);     /* overlong '/' */
	TST_EQ_INT(dp_text_keysyms("\xed\xa0\x80", &ks, &n, &err), -EILSEQ); /* a surrogate */
	TST_EQ_INT(dp_text_keysyms("\xf4\x90\x80\x80", &ks, &n, &err), -EILSEQ); /* past U+10FFFF */
	TST_EQ_INT(dp_text_keysyms("a\x1b[0m", &ks, &n, &err), -EINVAL);
	TST_CHECK(strstr(err.message, "U+001B at byte 1") != NULL);
}

int main(void)
{
	TST_RUN(test_names_and_aliases);
	TST_RUN(test_chords);
	TST_RUN(test_errors_name_the_closest_keys);
	TST_RUN(test_text_to_keysyms);
	TST_EXIT();
}
