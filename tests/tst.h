/* A tiny test framework: each test file is one executable with test
 * functions run in order; a failed check prints where and what, and the
 * executable exits non-zero at the end. */
#pragma once

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tst_failures;
static const char *tst_current;

#define TST_CHECK(cond)                                                                       \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			fprintf(stderr, "%s:%d: %s: check failed: %s\n", __FILE__, __LINE__,  \
				tst_current, #cond);                                          \
			tst_failures++;                                                       \
		}                                                                             \
	} while (0)

#define TST_EQ_INT(a, b)                                                                      \
	do {                                                                                  \
		long long tst_a = (long long)(a), tst_b = (long long)(b);                     \
		if (tst_a != tst_b) {                                                         \
			fprintf(stderr, "%s:%d: %s: %s == %s failed: %lld != %lld\n", __FILE__,  \
				__LINE__, tst_current, #a, #b, tst_a, tst_b);                 \
			tst_failures++;                                                       \
		}                                                                             \
	} while (0)

#define TST_EQ_STR(a, b)                                                                      \
	do {                                                                                  \
		const char *tst_a = (a), *tst_b = (b);                                        \
		if (!tst_a || !tst_b || strcmp(tst_a, tst_b) != 0) {                          \
			fprintf(stderr, "%s:%d: %s: %s == %s failed: \"%s\" != \"%s\"\n",     \
				__FILE__, __LINE__, tst_current, #a, #b, tst_a ? tst_a : "(null)", \
				tst_b ? tst_b : "(null)");                                    \
			tst_failures++;                                                       \
		}                                                                             \
	} while (0)

/* Stops the current test function when a check it depends on fails. */
#define TST_REQUIRE(cond)                                                                     \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			fprintf(stderr, "%s:%d: %s: required: %s\n", __FILE__, __LINE__,       \
				tst_current, #cond);                                          \
			tst_failures++;                                                       \
			return;                                                               \
		}                                                                             \
	} while (0)

/* TST_ONLY=name runs only the test functions whose name contains it. */
#define TST_RUN(fn)                                                                           \
	do {                                                                                  \
		int tst_before = tst_failures;                                                \
		if (getenv("TST_ONLY") && !strstr(#fn, getenv("TST_ONLY")))                   \
			break;                                                                \
		tst_current = #fn;                                                            \
		fn();                                                                         \
		fprintf(stderr, "%s %s\n", tst_failures == tst_before ? "ok  " : "FAIL", #fn); \
	} while (0)

#define TST_EXIT() return tst_failures ? EXIT_FAILURE : EXIT_SUCCESS

/* Exit status meson reads as "skipped". */
#define TST_SKIP 77
