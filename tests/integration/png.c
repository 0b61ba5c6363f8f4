// SPDX-License-Identifier: MIT
/* png - decode a screenshot (png.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "harness.h"
#include "png.h"

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int paeth(int a, int b, int c)
{
	int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);

	return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/* Undo the per-row filters of raw (height rows of 1 + stride bytes) in place. */
static int unfilter(uint8_t *raw, uint32_t height, size_t stride, int bpp)
{
	for (uint32_t y = 0; y < height; y++) {
		uint8_t *row = raw + y * (stride + 1), *cur = row + 1;
		const uint8_t *up = y ? row - stride : NULL;

		for (size_t i = 0; i < stride; i++) {
			int a = i >= (size_t)bpp ? cur[i - bpp] : 0, b = up ? up[i] : 0;
			int c = up && i >= (size_t)bpp ? up[i - bpp] : 0;

			switch (row[0]) {
			case 0:
				break;
			case 1:
				cur[i] += a;
				break;
			case 2:
				cur[i] += b;
				break;
			case 3:
				cur[i] += (a + b) / 2;
				break;
			case 4:
				cur[i] += paeth(a, b, c);
				break;
			default:
				return -1;
			}
		}
	}
	return 0;
}

int png_load(const char *path, struct png *img, char *err, size_t errlen)
{
	size_t len, pos = 8, idat_len = 0, stride, raw_len;
	uint8_t *file = (uint8_t *)itest_slurp(path, &len), *idat = NULL, *raw = NULL;
	int bpp = 0, rc = -1;
	uLongf out_len;

	memset(img, 0, sizeof(*img));
	if (!file || len < 33 || memcmp(file, "\x89PNG\r\n\x1a\n", 8)) {
		snprintf(err, errlen, "%s: not a PNG file", path);
		goto out;
	}
	while (pos + 12 <= len) {
		uint32_t n = be32(file + pos);
		const uint8_t *type = file + pos + 4, *data = file + pos + 8;

		if (pos + 12 + n > len)
			break;
		if (!memcmp(type, "IHDR", 4)) {
			img->width = be32(data);
			img->height = be32(data + 4);
			bpp = data[9] == 2 ? 3 : data[9] == 6 ? 4 : 0;
			if (data[8] != 8 || !bpp || data[12]) {
				snprintf(err, errlen, "%s: not 8-bit RGB(A), non-interlaced", path);
				goto out;
			}
		} else if (!memcmp(type, "IDAT", 4)) {
			uint8_t *grown = realloc(idat, idat_len + n);

			if (!grown)
				goto out;
			idat = grown;
			memcpy(idat + idat_len, data, n);
			idat_len += n;
		}
		pos += 12 + n;
	}
	if (!bpp || !idat) {
		snprintf(err, errlen, "%s: no image data", path);
		goto out;
	}
	stride = (size_t)img->width * bpp;
	raw_len = (stride + 1) * img->height;
	raw = malloc(raw_len);
	img->rgb = malloc((size_t)img->width * img->height * 3);
	out_len = raw_len;
	if (!raw || !img->rgb || uncompress(raw, &out_len, idat, idat_len) != Z_OK ||
	    out_len != raw_len || unfilter(raw, img->height, stride, bpp)) {
		snprintf(err, errlen, "%s: corrupt image data", path);
		goto out;
	}
	for (uint32_t y = 0; y < img->height; y++)
		for (uint32_t x = 0; x < img->width; x++)
			memcpy(img->rgb + ((size_t)y * img->width + x) * 3,
			       raw + y * (stride + 1) + 1 + (size_t)x * bpp, 3);
	rc = 0;
out:
	if (rc)
		png_free(img);
	free(file);
	free(idat);
	free(raw);
	return rc;
}

void png_free(struct png *img)
{
	free(img->rgb);
	img->rgb = NULL;
}

uint32_t png_pixel(const struct png *img, long x, long y)
{
	const uint8_t *p;

	if (x < 0 || y < 0 || x >= (long)img->width || y >= (long)img->height)
		return 0xffffffff;
	p = img->rgb + ((size_t)y * img->width + (size_t)x) * 3;
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

int png_near(uint32_t a, uint32_t b, int tol)
{
	for (int shift = 0; shift <= 16; shift += 8)
		if (abs((int)(a >> shift & 0xff) - (int)(b >> shift & 0xff)) > tol)
			return 0;
	return a != 0xffffffff;
}
