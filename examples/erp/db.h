/* The invoice store: one SQLite table, prepared statements only.
 *
 *   invoices(number TEXT PRIMARY KEY, date TEXT, customer TEXT,
 *            net_cents INTEGER, vat_percent INTEGER, total_cents INTEGER,
 *            created TEXT)
 *
 * Plain C and SQLite, no GTK: --dump runs without a display. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct erp_error {
	char message[512];
};

struct erp_invoice {
	const char *number;
	const char *date;     /* YYYY-MM-DD */
	const char *customer; /* UTF-8 */
	int64_t net_cents;
	int vat_percent;
	int64_t total_cents;
	const char *created;  /* ISO 8601 UTC; set by erp_db_insert, read by erp_db_each */
};

struct erp_db;

/* Opens the database at path.  writable: creates the file and the table if
 * missing; otherwise the file must exist (for --dump).  Returns 0 or a
 * negative errno with err filled. */
int erp_db_open(const char *path, bool writable, struct erp_db **out, struct erp_error *err);
void erp_db_close(struct erp_db *db);

int erp_db_exists(struct erp_db *db, const char *number, bool *exists, struct erp_error *err);

/* Inserts one invoice, stamped with the current time.  -EEXIST when the
 * number is taken. */
int erp_db_insert(struct erp_db *db, const struct erp_invoice *inv, struct erp_error *err);

/* Calls fn for each invoice in number order; the strings live only for the
 * call.  A nonzero return from fn stops the walk and is returned. */
typedef int (*erp_db_row_fn)(void *data, const struct erp_invoice *inv);
int erp_db_each(struct erp_db *db, erp_db_row_fn fn, void *data, struct erp_error *err);

/* Writes the invoices as CSV (RFC 4180 quoting), header
 * number,date,customer,net,vat,total, amounts with a dot and two decimals. */
int erp_db_dump_csv(struct erp_db *db, FILE *out, struct erp_error *err);
