/*
 * fuzz_chan.c — the op-script fuzzer: libFuzzer's entry point, and (built
 * without libFuzzer) a main that replays files and directories of scripts
 * or runs random ones, so the corpus runs under ctest with any compiler.
 *
 *   fuzz_chan_replay DIR|FILE ...        replay every script, print a summary
 *   fuzz_chan_replay --random N [SEED]   N random scripts (xorshift from SEED)
 *   OPSCRIPT_TRACE=1                     print every step
 *
 * A difference between model and core prints the script's steps and aborts
 * (libFuzzer then saves the input; the replay exits 1 after the summary).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "opscript.h"

static int
trace_on(void)
{
	const char *t = getenv("OPSCRIPT_TRACE");
	return t != NULL && (t[0] == '1' || t[0] == '2');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (opscript_run(data, size, trace_on()) != 0)
		abort();
	return 0;
}

#ifndef XCHAN_LIBFUZZER

static long g_runs, g_failed;

static void
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "fuzz_chan: cannot open %s\n", path);
		g_failed++;
		return;
	}
	static uint8_t buf[1 << 16];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	g_runs++;
	if (opscript_run(buf, n, trace_on()) != 0) {
		fprintf(stderr, "fuzz_chan: FAILED %s\n", path);
		g_failed++;
	}
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		fprintf(stderr, "fuzz_chan: cannot open %s\n", dir);
		g_failed++;
		return;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof(*names));
		}
		size_t len = strlen(dir) + strlen(e->d_name) + 2;
		names[n] = malloc(len);
		snprintf(names[n++], len, "%s/%s", dir, e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		replay_file(names[i]);
		free(names[i]);
	}
	free(names);
}

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
run_random(long count, uint64_t seed)
{
	uint8_t buf[512];
	uint64_t s = seed ? seed : 1;
	for (long i = 0; i < count; i++) {
		size_t n = 8 + xorshift(&s) % (sizeof(buf) - 8);
		for (size_t k = 0; k < n; k++)
			buf[k] = (uint8_t)xorshift(&s);
		g_runs++;
		if (opscript_run(buf, n, trace_on()) != 0) {
			fprintf(stderr,
			    "fuzz_chan: FAILED random script %ld (seed %llu); "
			    "saved as fuzz-failure.bin\n",
			    i, (unsigned long long)seed);
			FILE *f = fopen("fuzz-failure.bin", "wb");
			if (f) {
				fwrite(buf, 1, n, f);
				fclose(f);
			}
			g_failed++;
			return;
		}
	}
}

int
main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "--random") == 0) {
		long n = atol(argv[2]);
		if (getenv(
		        "XCHAN_UNDER_VALGRIND")) /* memcheck is ~50x slower */
			n = n / 20 + 1;
		run_random(n, argc > 3 ? strtoull(argv[3], NULL, 0) : 1);
	} else {
		for (int i = 1; i < argc; i++) {
			struct stat st;
			if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
				replay_dir(argv[i]);
			else
				replay_file(argv[i]);
		}
	}
	printf("fuzz_chan: %ld scripts run, %ld failed\n", g_runs, g_failed);
	return g_failed || g_runs == 0 ? 1 : 0;
}

#endif
