/*
 * alloc.c — allocation hooks, library initialisation, version and error
 * tables.
 *
 * Concurrency: `g_init_state` moves 0 (untouched) -> 1 (initialised) once,
 * by CAS; the hooks are written before the CAS publishes them (release) and
 * read after an acquire load, so every thread sees one set of hooks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static _Atomic int g_init_state;
static void *(*g_alloc)(void *, size_t);
static void (*g_free)(void *, void *, size_t);
static void *g_alloc_user;
/* Tests: the calling thread's N-th allocation fails.  Per thread, so a
 * worker or the timer allocating meanwhile cannot take the failure meant
 * for the call under test. */
static _Thread_local long t_fail_after;

void
xchan__ensure_init(void)
{
	if (atomic_load_explicit(&g_init_state, memory_order_acquire) == 0) {
		int expected = 0;
		atomic_compare_exchange_strong(&g_init_state, &expected, 1);
	}
}

int32_t
xchan_init(const xchan_init_params *p)
{
	if (p == NULL || p->size < sizeof(xchan_init_params) ||
	    (p->alloc == NULL) != (p->free == NULL))
		return XCHAN_EINVAL;
	if (atomic_load(&g_init_state) != 0)
		return XCHAN_ESTATE;
	g_alloc = p->alloc;
	g_free = p->free;
	g_alloc_user = p->alloc_user;
	int expected = 0;
	if (!atomic_compare_exchange_strong(&g_init_state, &expected, 1)) {
		/* Lost a race with first use: keep malloc, say so. */
		g_alloc = NULL;
		g_free = NULL;
		return XCHAN_ESTATE;
	}
	return XCHAN_OK;
}

void
xchan__fail_alloc_after(long n)
{
	t_fail_after = n;
}

void *
xchan__alloc(size_t size)
{
	xchan__ensure_init();
	if (XCHAN_UNLIKELY(t_fail_after > 0)) {
		if (--t_fail_after == 0)
			return NULL;
	}
	if (g_alloc)
		return g_alloc(g_alloc_user, size);
	return malloc(size);
}

void *
xchan__zalloc(size_t size)
{
	void *p = xchan__alloc(size);
	if (p)
		memset(p, 0, size);
	return p;
}

void
xchan__free(void *p, size_t size)
{
	if (p == NULL)
		return;
	if (g_free)
		g_free(g_alloc_user, p, size);
	else
		free(p);
}

_Noreturn void
xchan__panic(const char *file, int line, const char *what)
{
	fprintf(stderr, "xchan: assertion failed at %s:%d: %s\n", file, line,
	    what);
	abort();
}

/* ---- versions ---------------------------------------------------------- */

#define XCHAN_STR2_(x) #x
#define XCHAN_STR_(x) XCHAN_STR2_(x)

int32_t
xchan_version_number(void)
{
	return XCHAN_VERSION_NUMBER;
}

const char *
xchan_version_string(void)
{
	return XCHAN_STR_(XCHAN_VERSION_MAJOR) "." XCHAN_STR_(
	    XCHAN_VERSION_MINOR) "." XCHAN_STR_(XCHAN_VERSION_PATCH);
}

int32_t
xchan_check_version(int32_t header_number)
{
	if (header_number / 10000 != XCHAN_VERSION_MAJOR)
		return XCHAN_EVERSION;
	if ((header_number / 100) % 100 > XCHAN_VERSION_MINOR)
		return XCHAN_EVERSION;
	return XCHAN_OK;
}

/* ---- errors -------------------------------------------------------------- */

const char *
xchan_strerror(int32_t err)
{
	switch (err) {
#define XCHAN_ERR_MSG_(name, num, msg)                                         \
	case num:                                                              \
		return msg;
		XCHAN_ERRORS(XCHAN_ERR_MSG_)
#undef XCHAN_ERR_MSG_
	default:
		return "unknown error";
	}
}

const char *
xchan_err_name(int32_t err)
{
	switch (err) {
#define XCHAN_ERR_NAME_(name, num, msg)                                        \
	case num:                                                              \
		return #name;
		XCHAN_ERRORS(XCHAN_ERR_NAME_)
#undef XCHAN_ERR_NAME_
	default:
		return "EUNKNOWN";
	}
}
