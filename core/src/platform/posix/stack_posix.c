/*
 * stack_posix.c — coroutine stacks for the POSIX port: anonymous private
 * mappings whose lowest page(s) are PROT_NONE, so a stack overflow faults
 * instead of silently corrupting the neighbouring memory.  Pages are only
 * backed when touched, so a 64 KiB stack of a parked task costs what it
 * used (typically one or two pages).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../coro.h"

#ifndef MAP_STACK
#define MAP_STACK 0
#endif
#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif
/* Linux 6.13+: guard regions (page-table markers that fault on access)
 * installed without splitting the mapping; older headers lack the name. */
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

size_t
xchan__page_size(void)
{
	/* Relaxed: every thread computes the same value. */
	static _Atomic size_t page;
	size_t v = atomic_load_explicit(&page, memory_order_relaxed);
	if (v == 0) {
		long p = sysconf(_SC_PAGESIZE);
		v = p > 0 ? (size_t)p : 4096;
		atomic_store_explicit(&page, v, memory_order_relaxed);
	}
	return v;
}

void *
xchan__stack_map(size_t size, size_t guard)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (guard > 0 && mprotect(p, guard, PROT_NONE) != 0) {
		munmap(p, size);
		return NULL;
	}
	return p;
}

void
xchan__stack_unmap(void *map, size_t size)
{
	if (map != NULL)
		munmap(map, size);
}

void
xchan__stack_release_pages(void *lo, size_t len)
{
	/* Keeps the mapping (no new VMA) but gives the memory back. */
	madvise(lo, len, MADV_DONTNEED);
}

int
xchan__stack_guard_region(void *lo, size_t len)
{
#if defined(__linux__)
	return madvise(lo, len, MADV_GUARD_INSTALL) == 0 ? 0 : -1;
#else
	(void)lo;
	(void)len;
	return -1;
#endif
}

int
xchan__stack_guard_probe(void)
{
	/* A kernel without guard regions answers EINVAL; but an emulator
	 * (qemu-user) may answer 0 and ignore the advice, so the guard is
	 * checked: the kernel must refuse to read the page (EFAULT) when
	 * asked to write it to a pipe.  No signal is involved. */
	size_t page = xchan__page_size();
	char *m = xchan__stack_map(2 * page, 0);
	if (m == NULL)
		return 0;
	int ok = 0;
	if (xchan__stack_guard_region(m, page) == 0) {
		int fd[2];
		if (pipe2(fd, O_CLOEXEC | O_NONBLOCK) == 0) {
			ssize_t w = write(fd[1], m, 1);
			ok = w < 0 && errno == EFAULT;
			w = write(fd[1], m + page,
			    1); /* the page above works */
			ok = ok && w == 1;
			close(fd[0]);
			close(fd[1]);
		}
	}
	xchan__stack_unmap(m, 2 * page);
	return ok;
}

uint64_t
xchan__stack_guard_budget(void)
{
	/* Each guarded stack costs two VMAs (guard + stack) and the kernel
	 * caps VMAs per process (vm.max_map_count, 65530 by default).  Give
	 * guarded stacks a quarter of the cap; the rest of the process keeps
	 * the other three quarters.  XCHAN_STACK_GUARD_BUDGET=N sets the
	 * number of guarded stacks instead (0: none, every stack from slabs). */
	const char *env = getenv("XCHAN_STACK_GUARD_BUDGET");
	if (env != NULL && env[0] >= '0' && env[0] <= '9')
		return strtoull(env, NULL, 10);
	long max = 65530;
	FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
	if (f != NULL) {
		if (fscanf(f, "%ld", &max) != 1)
			max = 65530;
		fclose(f);
	}
	return max > 4096 ? (uint64_t)max / 4 : 1024;
}
