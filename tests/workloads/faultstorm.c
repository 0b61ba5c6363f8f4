// SPDX-License-Identifier: MIT
/*
 * faultstorm MIB ROUNDS - map MIB MiB, write one byte per 4 KiB page through a volatile
 * pointer (so the compiler keeps every write), unmap; ROUNDS times. About 256 rss_stat
 * events per MiB per round: the worst case for a tracer that sees every change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 1024;
	int rounds = argc > 2 ? atoi(argv[2]) : 4;

	for (int r = 0; r < rounds; r++) {
		size_t len = mib << 20;
		volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			perror("faultstorm: mmap");
			return 1;
		}
		for (size_t off = 0; off < len; off += 4096)
			p[off] = 1;
		munmap((void *)p, len);
	}
	return 0;
}
