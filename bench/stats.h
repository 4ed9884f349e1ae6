/* Summaries of timing samples, the same way in every benchmark. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct dp_stats {
	double median, p10, p90, min, max; /* in units of `unit_ns` */
};

/* Sorts the n samples (nanoseconds) in place and summarizes them; the
 * percentiles interpolate between the two nearest ranks. */
void dp_stats_summarize(int64_t *ns, size_t n, double unit_ns, struct dp_stats *out);

/* One machine-readable line, for bench/run:
 *   RESULT name median p10 p90 unit floor
 * floor is what the memory system or the hardware allows for the same
 * work (a memcpy of a grab's bytes), or "-" when floor < 0. */
void dp_stats_print_result(const char *name, const struct dp_stats *st, const char *unit, double floor);
