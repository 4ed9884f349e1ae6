#include "stats.h"

#include <stdio.h>
#include <stdlib.h>

static int by_value(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static double percentile(const int64_t *sorted, size_t n, double p)
{
	double rank = p * (double)(n - 1);
	size_t lo = (size_t)rank, hi = lo + 1 < n ? lo + 1 : lo;

	return (double)sorted[lo] + (rank - (double)lo) * (double)(sorted[hi] - sorted[lo]);
}

void dp_stats_summarize(int64_t *ns, size_t n, double unit_ns, struct dp_stats *out)
{
	if (!n) {
		*out = (struct dp_stats){ 0 };
		return;
	}
	qsort(ns, n, sizeof(*ns), by_value);
	out->median = percentile(ns, n, 0.5) / unit_ns;
	out->p10 = percentile(ns, n, 0.1) / unit_ns;
	out->p90 = percentile(ns, n, 0.9) / unit_ns;
	out->min = (double)ns[0] / unit_ns;
	out->max = (double)ns[n - 1] / unit_ns;
}

void dp_stats_print_result(const char *name, const struct dp_stats *st, const char *unit, double floor)
{
	char f[32] = "-";

	if (floor >= 0)
		snprintf(f, sizeof(f), "%.4g", floor);
	printf("RESULT %s %.4g %.4g %.4g %s %s\n", name, st->median, st->p10, st->p90, unit, f);
}
