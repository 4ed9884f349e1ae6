/* Where {{secret:name}} values come from: inline values first, then
 * systemd credentials, then secrets.json, which must be mode 0600. */
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/secrets.h"
#include "tst.h"

static char dir[256], creds[300], file[300];

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static int lookup(const struct dp_secret_source *src, const char *name, char *value, size_t size,
		  struct dp_error *err)
{
	memset(value, 'x', size);
	return dp_secret_lookup(src, name, value, size, err);
}

static void test_order(void)
{
	char *names[] = { (char *)"pin", NULL }, *values[] = { (char *)"1234", NULL };
	struct dp_secret_source src = { .credentials_dir = creds, .secrets_file = file, .inline_names = names,
					.inline_values = values, .n_inline = 1 };
	struct dp_error err = { 0 };
	char value[64];

	write_file(file, "{\"pin\": \"from-file\", \"erp_password\": \"s3cr3t äö\", \"token\": \"file-token\"}",
		   0600);
	mkdir(creds, 0700);
	{
		char path[400];

		snprintf(path, sizeof(path), "%s/token", creds);
		write_file(path, "cred-token\n", 0600);
	}
	TST_EQ_INT(lookup(&src, "pin", value, sizeof(value), &err), 0);
	TST_EQ_STR(value, "1234");
	TST_EQ_INT(lookup(&src, "token", value, sizeof(value), &err), 0);
	TST_EQ_STR(value, "cred-token"); /* the newline an echo left is not part of it */
	TST_EQ_INT(lookup(&src, "erp_password", value, sizeof(value), &err), 0);
	TST_EQ_STR(value, "s3cr3t äö");
	TST_EQ_INT(lookup(&src, "missing", value, sizeof(value), &err), -ENOENT);
	TST_CHECK(strstr(err.message, "no secret called 'missing'") != NULL);
	/* A name never climbs out of the credentials folder. */
	TST_EQ_INT(lookup(&src, "../secrets.json", value, sizeof(value), &err), -ENOENT);
	/* Too long for the buffer: refused, not cut. */
	TST_EQ_INT(lookup(&src, "erp_password", value, 4, &err), -E2BIG);
}

static void test_file_mode(void)
{
	struct dp_secret_source src = { .secrets_file = file };
	struct dp_error err = { 0 };
	char value[64], want[400];

	write_file(file, "{\"erp_password\": \"s3cr3t\"}", 0644);
	TST_EQ_INT(lookup(&src, "erp_password", value, sizeof(value), &err), -EPERM);
	snprintf(want, sizeof(want), "run chmod 600 %s", file);
	TST_CHECK(strstr(err.message, want) != NULL);
	TST_CHECK(strstr(err.message, "s3cr3t") == NULL);
	chmod(file, 0600);
	TST_EQ_INT(lookup(&src, "erp_password", value, sizeof(value), &err), 0);
	TST_EQ_STR(value, "s3cr3t");
	write_file(file, "[\"not an object\"]", 0600);
	TST_EQ_INT(lookup(&src, "erp_password", value, sizeof(value), &err), -EINVAL);
	TST_CHECK(strstr(err.message, "is not a JSON object") != NULL);
	write_file(file, "{\"erp_password\": 42}", 0600);
	TST_EQ_INT(lookup(&src, "erp_password", value, sizeof(value), &err), -EINVAL);
	TST_CHECK(strstr(err.message, "'erp_password' is not a string") != NULL);
}

static void test_loop_callback(void)
{
	struct dp_secret_source src = { .secrets_file = file };
	char value[64];

	write_file(file, "{\"a\": \"b\"}", 0600);
	TST_EQ_INT(dp_secret_lookup_for_loop(&src, "a", value, sizeof(value)), 0);
	TST_EQ_STR(value, "b");
	TST_EQ_INT(dp_secret_lookup_for_loop(&src, "c", value, sizeof(value)), -ENOENT);
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

int main(void)
{
	snprintf(dir, sizeof(dir), "%s/dp-secrets-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return EXIT_FAILURE;
	snprintf(creds, sizeof(creds), "%s/credentials", dir);
	snprintf(file, sizeof(file), "%s/secrets.json", dir);
	TST_RUN(test_order);
	TST_RUN(test_file_mode);
	TST_RUN(test_loop_callback);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	TST_EXIT();
}
