/* probe_pattern.h - expected pixels of the deskpilot probe fixture app.
 *
 * Shared by tests/apps/probe.c (which paints them) and by tests that
 * check captured frames, so both sides agree on every pixel. */
#ifndef DP_PROBE_PATTERN_H
#define DP_PROBE_PATTERN_H

#include <stdint.h>

/* Side of the counter stamp square painted at window (0,0) on every draw. */
#define DP_PROBE_STAMP_SIZE 8

/* 0x00RRGGBB for window-relative pixel (x, y). The low bytes of x and y go
 * into R and G; the next 4 bits of each go into B, so every pixel of a
 * window up to 4096x4096 is unique and a misplaced capture is detectable. */
static inline uint32_t dp_probe_pattern(int x, int y)
{
	uint32_t ux = (uint32_t)x, uy = (uint32_t)y;
	uint32_t r = ux & 0xffu;
	uint32_t g = uy & 0xffu;
	uint32_t b = ((ux >> 8) & 0x0fu) | (((uy >> 8) & 0x0fu) << 4);

	return (r << 16) | (g << 8) | b;
}

/* Color of the stamp square after the draw with this counter value. */
static inline uint32_t dp_probe_stamp_color(uint32_t counter)
{
	return counter & 0xffffffu;
}

#endif /* DP_PROBE_PATTERN_H */
