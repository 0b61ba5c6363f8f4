// modules: router deaths collector hooks mm result names sizing tally record table stages escape util
/*
 * libFuzzer: any bytes as serve's record stream. Each record is a 2-byte little-endian
 * length then that many bytes (so short, long and cut records all occur); every 8th record
 * time passes (router__tick past the quiet period and the expiry). The router must route,
 * end and expire trees without a crash, an out-of-bounds read or a leak, and every kept
 * tree's result must be buildable.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "bmtrace.h"
#include "router.h"

#define SECOND 1000000000ull

/* A JOIN to seed: its ADOPT record, fed back into the router (as procscan__seed does). */
static int seed(void *ctx, struct router_tree *t, uint32_t pid, int root)
{
	struct bmt_adopt a = { { BMT_REC_ADOPT, 0, sizeof(a), t->run.start_ts }, pid, 0,
			       { 4096, 8192, 0, 0 }, "seeded" };

	if (root)
		router__add_pid(*(struct router **)ctx, t->id, pid + 1);
	return router__feed(*(struct router **)ctx, &a, sizeof(a));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct router *r = NULL;
	struct router_opts opts = { NULL, 2 * SECOND, 3, { NULL, seed, NULL, NULL, &r } };
	struct router_tree *t;
	uint64_t now = 0;
	size_t off = 0, n = 0;
	void *rec;

	r = router__new(&opts);
	if (!r)
		return 0;
	while (off + 2 <= size) {
		size_t len = data[off] | (size_t)data[off + 1] << 8;

		off += 2;
		if (len > size - off)
			len = size - off;
		rec = malloc(len ? len : 1); /* its own block: ASan sees any read past the record */
		if (!rec)
			break;
		memcpy(rec, data + off, len);
		if (len >= sizeof(struct bmt_hdr) && ((struct bmt_hdr *)rec)->ts > now)
			now = ((struct bmt_hdr *)rec)->ts;
		router__feed(r, rec, len);
		free(rec);
		off += len;
		if (++n % 8 == 0) {
			now += 3 * SECOND / 2;
			router__tick(r, now);
		}
	}
	router__tick(r, now + 3 * SECOND / 2);
	for (size_t pos = 0; (t = router__next(r, &pos));)
		collector__result(t->coll);
	router__free(r);
	return 0;
}
