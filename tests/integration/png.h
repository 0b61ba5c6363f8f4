/* SPDX-License-Identifier: MIT */
/*
 * png - just enough PNG to look at a screenshot: 8-bit RGB or RGBA, not interlaced (what
 * headless Chromium writes), decoded with zlib into RGB pixels.
 */
#ifndef ITEST_PNG_H
#define ITEST_PNG_H

#include <stddef.h>
#include <stdint.h>

struct png {
	uint32_t width, height;
	uint8_t *rgb; /* width * height * 3 bytes, row by row */
};

/* Decode the file at path; 0, or -1 with a reason in err. */
int png_load(const char *path, struct png *img, char *err, size_t errlen);
void png_free(struct png *img);

/* The pixel at (x, y) as 0xRRGGBB; 0xffffffff outside the image. */
uint32_t png_pixel(const struct png *img, long x, long y);

/* Each channel of a within tol of b's. */
int png_near(uint32_t a, uint32_t b, int tol);

#endif /* ITEST_PNG_H */
