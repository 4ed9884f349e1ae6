/* The sample ERP app's amount and date rules (examples/erp/money.c):
 * what a legacy form accepts, in integer cents, and what it refuses. */
#include <errno.h>

#include "money.h"
#include "tst.h"

static int64_t parsed(const char *text)
{
	const char *why = NULL;
	int64_t cents = -999;

	if (erp_amount_parse(text, &cents, &why) < 0) {
		fprintf(stderr, "  \"%s\": %s\n", text, why);
		return -999;
	}
	return cents;
}

static const char *refused(const char *text)
{
	const char *why = NULL;
	int64_t cents = 0;

	return erp_amount_parse(text, &cents, &why) < 0 ? why : NULL;
}

static void test_dot_and_comma_decimals(void)
{
	TST_EQ_INT(parsed("1234.56"), 123456);
	TST_EQ_INT(parsed("1234,56"), 123456);
	TST_EQ_INT(parsed("1.234,56"), 123456);
	TST_EQ_INT(parsed("1,234.56"), 123456);
	TST_EQ_INT(parsed("1.234.567,89"), 123456789);
	TST_EQ_INT(parsed("12,345,678"), 1234567800);
	TST_EQ_INT(parsed("99,9"), 9990);
	TST_EQ_INT(parsed("0.05"), 5);
	TST_EQ_INT(parsed("1500"), 150000);
	TST_EQ_INT(parsed("  42.10 "), 4210);
	TST_EQ_INT(parsed("-12,50"), -1250);
}

static void test_spaces_and_apostrophes_group(void)
{
	TST_EQ_INT(parsed("1 234,56"), 123456);
	TST_EQ_INT(parsed("1'234.56"), 123456);
	TST_EQ_INT(parsed("1\u00a0234,56"), 123456);  /* no-break space */
	TST_EQ_INT(parsed("12\u202f345,00"), 1234500); /* narrow no-break space */
}

static void test_what_is_refused(void)
{
	TST_EQ_STR(refused(""), "is empty");
	TST_EQ_STR(refused("   "), "is empty");
	TST_EQ_STR(refused("-"), "is not a number");
	TST_EQ_STR(refused("abc"), "is not a number");
	TST_EQ_STR(refused("12 EUR"), "is not a number");
	TST_EQ_STR(refused("1.2.3,45,6"), "mixes separators");
	TST_EQ_STR(refused("1.23456"), "has more than two decimal places");
	TST_EQ_STR(refused("1 234.567"), "has more than two decimal places");
	TST_CHECK(refused("1.234") != NULL && strstr(refused("1.234"), "ambiguous"));
	TST_CHECK(refused("1,234") != NULL && strstr(refused("1,234"), "ambiguous"));
	TST_EQ_STR(refused("12,34,567"), "has misplaced thousands separators");
	TST_EQ_STR(refused("1.2345,00"), "has misplaced thousands separators");
	TST_EQ_STR(refused("12."), "is not a number");
	TST_EQ_STR(refused(".5"), "is not a number");
	TST_EQ_STR(refused("1e5"), "is not a number");
	TST_EQ_STR(refused("--5"), "is not a number");
	TST_EQ_STR(refused("1,5\n"), "is not a number");
	TST_EQ_STR(refused("100000000000"), "is too large");
	TST_EQ_INT(parsed("99999999999.99"), ERP_CENTS_MAX);
	TST_EQ_INT(parsed("00000000000000001"), 100);
	TST_CHECK(refused("123456789012345678901234567890123456789012345678901234567890123456789") != NULL);
}

static void test_totals_round_half_away_from_zero(void)
{
	TST_EQ_INT(erp_total_cents(123456, 19), 146913); /* 1469.1264 */
	TST_EQ_INT(erp_total_cents(9990, 19), 11888);    /* 118.881 */
	TST_EQ_INT(erp_total_cents(50, 7), 54);          /* 0.535 -> 0.54 */
	TST_EQ_INT(erp_total_cents(-50, 7), -54);
	TST_EQ_INT(erp_total_cents(275035, 0), 275035);
	TST_EQ_INT(erp_total_cents(ERP_CENTS_MAX, 19), INT64_C(11899999999999)); /* no overflow */
}

static void test_format(void)
{
	char buf[32];

	erp_amount_format(146913, buf, sizeof(buf));
	TST_EQ_STR(buf, "1469.13");
	erp_amount_format(5, buf, sizeof(buf));
	TST_EQ_STR(buf, "0.05");
	erp_amount_format(-1250, buf, sizeof(buf));
	TST_EQ_STR(buf, "-12.50");
	erp_amount_format(0, buf, sizeof(buf));
	TST_EQ_STR(buf, "0.00");
}

static void test_dates(void)
{
	TST_CHECK(erp_date_valid("2026-03-15"));
	TST_CHECK(erp_date_valid("2024-02-29"));
	TST_CHECK(erp_date_valid("2000-02-29"));
	TST_CHECK(!erp_date_valid("1900-02-29"));
	TST_CHECK(!erp_date_valid("2026-02-29"));
	TST_CHECK(!erp_date_valid("2026-02-30"));
	TST_CHECK(!erp_date_valid("2026-04-31"));
	TST_CHECK(!erp_date_valid("2026-13-01"));
	TST_CHECK(!erp_date_valid("2026-00-10"));
	TST_CHECK(!erp_date_valid("2026-01-00"));
	TST_CHECK(!erp_date_valid("2026-1-5"));
	TST_CHECK(!erp_date_valid("15.03.2026"));
	TST_CHECK(!erp_date_valid("2026/03/15"));
	TST_CHECK(!erp_date_valid("2026-03-15 "));
	TST_CHECK(!erp_date_valid(""));
	TST_CHECK(!erp_date_valid(NULL));
}

int main(void)
{
	TST_RUN(test_dot_and_comma_decimals);
	TST_RUN(test_spaces_and_apostrophes_group);
	TST_RUN(test_what_is_refused);
	TST_RUN(test_totals_round_half_away_from_zero);
	TST_RUN(test_format);
	TST_RUN(test_dates);
	TST_EXIT();
}
