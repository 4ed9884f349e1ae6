/* The frames the PipeWire producer fixture publishes: every pixel a known
 * function of its position and the frame number, so a consumer's copy can
 * be checked pixel for pixel. */
#pragma once

#include <stdint.h>

/* 0x00RRGGBB of pixel (x, y) in frame n. */
static inline uint32_t pw_pattern_rgb(int32_t x, int32_t y, uint32_t n)
{
	uint32_t h = (uint32_t)x * 0x9e3779b1u ^ (uint32_t)y * 0x85ebca77u ^ n * 0xc2b2ae3du;

	h ^= h >> 15;
	h *= 0x2c1b3c6du;
	h ^= h >> 12;
	return h & 0x00ffffffu;
}
