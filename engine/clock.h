/* Monotonic time in one unit (nanoseconds) for every timing in deskpilot. */
#pragma once

#include <stdint.h>
#include <time.h>

#define DP_NSEC_PER_MSEC INT64_C(1000000)
#define DP_NSEC_PER_SEC INT64_C(1000000000)

static inline int64_t dp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * DP_NSEC_PER_SEC + ts.tv_nsec;
}
