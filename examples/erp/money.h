/* Amounts and dates as a legacy invoice form takes them.
 *
 * Amounts are integer cents throughout: no floating point, so no drift.
 * The parser accepts what people type into such forms: "1234.56",
 * "1234,56", "1.234,56", "1,234.56", "1 234,56", "1'234.56", a leading
 * minus for credit notes; it refuses what it cannot read unambiguously
 * ("1.234": a thousand and more, or one and a bit?) and more than two
 * decimal places. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 99,999,999,999.99: big enough for any invoice, small enough that the
 * total with VAT never overflows. */
#define ERP_CENTS_MAX INT64_C(9999999999999)

/* Parses text into *cents.  Returns 0, or -EINVAL / -ERANGE with *why set
 * to a phrase that completes "Net amount: \"text\" ..." (such as "has more
 * than two decimal places"). */
int erp_amount_parse(const char *text, int64_t *cents, const char **why);

/* net plus vat_percent of it, rounded half away from zero to the cent. */
int64_t erp_total_cents(int64_t net_cents, int vat_percent);

/* "1234.56", "-0.05": a dot and two decimals, no grouping.  size >= 24. */
void erp_amount_format(int64_t cents, char *buf, size_t size);

/* True for an existing calendar day written exactly YYYY-MM-DD, years
 * 1900 to 2099. */
bool erp_date_valid(const char *text);
