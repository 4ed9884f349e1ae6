#include "db.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "money.h"

struct erp_db {
	sqlite3 *sql;
	sqlite3_stmt *exists, *insert, *each;
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS invoices ("
	" number TEXT PRIMARY KEY,"
	" date TEXT NOT NULL,"
	" customer TEXT NOT NULL,"
	" net_cents INTEGER NOT NULL,"
	" vat_percent INTEGER NOT NULL,"
	" total_cents INTEGER NOT NULL,"
	" created TEXT NOT NULL)";

static int fail(struct erp_error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(struct erp_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
	}
	return code;
}

static int prepare(struct erp_db *db, const char *sql, sqlite3_stmt **stmt, struct erp_error *err)
{
	if (sqlite3_prepare_v2(db->sql, sql, -1, stmt, NULL) != SQLITE_OK)
		return fail(err, -EIO, "database: %s", sqlite3_errmsg(db->sql));
	return 0;
}

int erp_db_open(const char *path, bool writable, struct erp_db **out, struct erp_error *err)
{
	int flags = writable ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;
	struct erp_db *db = calloc(1, sizeof(*db));
	int r = 0;

	*out = NULL;
	if (!db)
		return fail(err, -ENOMEM, "out of memory");
	if (sqlite3_open_v2(path, &db->sql, flags, NULL) != SQLITE_OK) {
		r = fail(err, -ENOENT, "cannot open the database %s: %s%s", path,
			 db->sql ? sqlite3_errmsg(db->sql) : "out of memory",
			 writable ? "" : " (nothing saved there yet?)");
		goto out;
	}
	sqlite3_busy_timeout(db->sql, 3000);
	if (writable) {
		sqlite3_stmt *create = NULL;

		r = prepare(db, schema, &create, err);
		if (r == 0 && sqlite3_step(create) != SQLITE_DONE)
			r = fail(err, -EIO, "cannot create the invoices table in %s: %s", path,
				 sqlite3_errmsg(db->sql));
		sqlite3_finalize(create);
		if (r < 0)
			goto out;
	}
	r = prepare(db, "SELECT 1 FROM invoices WHERE number = ?1", &db->exists, err);
	if (r == 0 && writable)
		r = prepare(db,
			    "INSERT INTO invoices (number, date, customer, net_cents, vat_percent, total_cents, created)"
			    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
			    &db->insert, err);
	if (r == 0)
		r = prepare(db,
			    "SELECT number, date, customer, net_cents, vat_percent, total_cents, created"
			    " FROM invoices ORDER BY number",
			    &db->each, err);
out:
	if (r < 0 && err && !strstr(err->message, path))
		snprintf(err->message + strlen(err->message), sizeof(err->message) - strlen(err->message),
			 " (%s)", path);
	if (r < 0) {
		erp_db_close(db);
		return r;
	}
	*out = db;
	return 0;
}

void erp_db_close(struct erp_db *db)
{
	if (!db)
		return;
	sqlite3_finalize(db->exists);
	sqlite3_finalize(db->insert);
	sqlite3_finalize(db->each);
	sqlite3_close(db->sql);
	free(db);
}

int erp_db_exists(struct erp_db *db, const char *number, bool *exists, struct erp_error *err)
{
	int rc;

	sqlite3_reset(db->exists);
	sqlite3_bind_text(db->exists, 1, number, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(db->exists);
	sqlite3_reset(db->exists);
	sqlite3_clear_bindings(db->exists);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(err, -EIO, "database: %s", sqlite3_errmsg(db->sql));
	*exists = rc == SQLITE_ROW;
	return 0;
}

int erp_db_insert(struct erp_db *db, const struct erp_invoice *inv, struct erp_error *err)
{
	char created[32];
	time_t now = time(NULL);
	struct tm tm;
	int rc;

	if (!db->insert)
		return fail(err, -EROFS, "the database is open read-only");
	gmtime_r(&now, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	sqlite3_reset(db->insert);
	sqlite3_bind_text(db->insert, 1, inv->number, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(db->insert, 2, inv->date, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(db->insert, 3, inv->customer, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(db->insert, 4, inv->net_cents);
	sqlite3_bind_int(db->insert, 5, inv->vat_percent);
	sqlite3_bind_int64(db->insert, 6, inv->total_cents);
	sqlite3_bind_text(db->insert, 7, created, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(db->insert);
	sqlite3_reset(db->insert);
	sqlite3_clear_bindings(db->insert);
	if (rc == SQLITE_CONSTRAINT)
		return fail(err, -EEXIST, "invoice %s already exists", inv->number);
	if (rc != SQLITE_DONE)
		return fail(err, -EIO, "cannot save invoice %s: %s", inv->number, sqlite3_errmsg(db->sql));
	return 0;
}

static const char *column_text(sqlite3_stmt *stmt, int col)
{
	const unsigned char *t = sqlite3_column_text(stmt, col);

	return t ? (const char *)t : "";
}

int erp_db_each(struct erp_db *db, erp_db_row_fn fn, void *data, struct erp_error *err)
{
	int rc, r = 0;

	sqlite3_reset(db->each);
	while ((rc = sqlite3_step(db->each)) == SQLITE_ROW) {
		struct erp_invoice inv = {
			.number = column_text(db->each, 0),
			.date = column_text(db->each, 1),
			.customer = column_text(db->each, 2),
			.net_cents = sqlite3_column_int64(db->each, 3),
			.vat_percent = sqlite3_column_int(db->each, 4),
			.total_cents = sqlite3_column_int64(db->each, 5),
			.created = column_text(db->each, 6),
		};

		r = fn(data, &inv);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = fail(err, -EIO, "cannot read the invoices: %s", sqlite3_errmsg(db->sql));
	sqlite3_reset(db->each);
	return r;
}

/* One CSV field, quoted when it holds a comma, a quote or a line break. */
static void write_field(FILE *out, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static int write_row(void *data, const struct erp_invoice *inv)
{
	FILE *out = data;
	char net[32], total[32];

	erp_amount_format(inv->net_cents, net, sizeof(net));
	erp_amount_format(inv->total_cents, total, sizeof(total));
	write_field(out, inv->number);
	fputc(',', out);
	write_field(out, inv->date);
	fputc(',', out);
	write_field(out, inv->customer);
	fprintf(out, ",%s,%d,%s\n", net, inv->vat_percent, total);
	return 0;
}

int erp_db_dump_csv(struct erp_db *db, FILE *out, struct erp_error *err)
{
	int r;

	fputs("number,date,customer,net,vat,total\n", out);
	r = erp_db_each(db, write_row, out, err);
	if (r == 0 && (fflush(out) != 0 || ferror(out)))
		r = fail(err, -EIO, "cannot write the CSV: %s", strerror(errno));
	return r;
}
