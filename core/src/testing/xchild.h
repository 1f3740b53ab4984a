/*
 * xchild.h — run one test of the current binary in a fresh child process
 * with extra environment variables (for settings read once per process:
 * the executor factory, pool sizes, go-checking).  The child runs
 * `<self> <test>` with XTEST_CHILD=1 set; a test meant only for children
 * starts with XCHILD_ONLY() and passes trivially in the parent.
 */
#ifndef XCHAN_XCHILD_H
#define XCHAN_XCHILD_H

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define XCHILD_ONLY()                                                          \
	do {                                                                   \
		if (getenv("XTEST_CHILD") == NULL)                             \
			return;                                                \
	} while (0)

/* Runs the child; returns its wait status (-1 if it could not start) and
 * copies up to outlen-1 bytes of its stderr into out. */
static int
xchild_run(const char *test, const char *env1, const char *env2, char *out,
    size_t outlen)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = 0;
	size_t ne = 0;
	while (environ[ne])
		ne++;
	char **envp = calloc(ne + 4, sizeof(char *));
	if (envp == NULL)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < ne; i++) {
		/* The child's settings replace inherited ones. */
		if (strncmp(environ[i], "XCHAN_", 6) == 0)
			continue;
		envp[k++] = environ[i];
	}
	envp[k++] = (char *)"XTEST_CHILD=1";
	if (env1)
		envp[k++] = (char *)env1;
	if (env2)
		envp[k++] = (char *)env2;
	envp[k] = NULL;
	int pfd[2];
	if (pipe(pfd) != 0) {
		free(envp);
		return -1;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	/* Its own summary line must not look like ours. */
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addclose(&fa, pfd[0]);
	/* Under user-mode emulation (XTEST_EMULATOR=/usr/bin/qemu-aarch64,
	 * with QEMU_LD_PREFIX set) the child must be started through the
	 * emulator: the kernel cannot exec a foreign binary by itself. */
	const char *emu = getenv("XTEST_EMULATOR");
	char *argv[] = {self, (char *)test, NULL, NULL};
	const char *prog = self;
	if (emu != NULL && emu[0] != 0) {
		argv[0] = (char *)emu;
		argv[1] = self;
		argv[2] = (char *)test;
		prog = emu;
	}
	pid_t pid;
	int rc = posix_spawn(&pid, prog, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	free(envp);
	close(pfd[1]);
	if (rc != 0) {
		close(pfd[0]);
		return -1;
	}
	size_t used = 0;
	char buf[4096];
	ssize_t r;
	while ((r = read(pfd[0], buf, sizeof(buf))) > 0) {
		if (out && used + 1 < outlen) {
			size_t c = (size_t)r < outlen - 1 - used
			               ? (size_t)r
			               : outlen - 1 - used;
			memcpy(out + used, buf, c);
			used += c;
		}
	}
	if (out && outlen)
		out[used] = 0;
	close(pfd[0]);
	int st = 0;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return st;
}

/* 1 if the child ran its test and passed. */
static int
xchild_ok(int st)
{
	return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

#endif
