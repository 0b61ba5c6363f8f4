// SPDX-License-Identifier: MIT
/*
 * forkstorm N K - start N short processes, at most K at a time: each is a fork + exec of
 * this program with the argument "-" (which exits 0 at once), so every one is a full
 * process with its own address space, as a build's compiler runs are. Prints how many it
 * started; exits 1 if any failed. A tracer of the tree must count N + 1 processes.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char self[PATH_MAX];
	long n, k, started = 0, running = 0, failed = 0;
	ssize_t len;
	int status;

	if (argc == 2 && !strcmp(argv[1], "-"))
		return 0; /* one of the storm's processes */
	if (argc != 3 || (n = atol(argv[1])) < 0 || (k = atol(argv[2])) < 1) {
		fprintf(stderr, "usage: forkstorm N K\n");
		return 2;
	}
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len < 0) {
		perror("forkstorm: /proc/self/exe");
		return 1;
	}
	self[len] = '\0';
	while (started < n || running > 0) {
		if (started < n && running < k) {
			pid_t pid = fork();

			if (pid < 0) {
				perror("forkstorm: fork");
				return 1;
			}
			if (pid == 0) {
				execl(self, "forkstorm", "-", (char *)NULL);
				_exit(127);
			}
			started++;
			running++;
			continue;
		}
		if (wait(&status) < 0) {
			if (errno == EINTR)
				continue;
			perror("forkstorm: wait");
			return 1;
		}
		running--;
		failed += !WIFEXITED(status) || WEXITSTATUS(status);
	}
	printf("forkstorm: started %ld processes, %ld failed\n", started, failed);
	return failed ? 1 : 0;
}
