/*
 * native_lib.c — the libraries native workers call into: loaded once per
 * path, kept for the life of the process.
 *
 * Design notes
 *  - Locks: `g_libs_lock` guards the list `g_libs` and nothing else.  It is
 *    never held across dlopen (a library's constructors run user code that
 *    may call xchan, even xchan_native_run) nor across dlsym.
 *  - Two threads loading the same path at once both dlopen it; the second
 *    to insert finds the first's entry and keeps it.  Its own handle is
 *    left open: the dynamic loader counts references, and dlclose could
 *    run destructors, so never closing is the safe choice.
 *  - Entries are never removed, so a handle read from the list stays valid
 *    after the lock is dropped.  A task may run a library's code at any
 *    time, which is why nothing is ever unloaded.
 *  - Keyed by the path string as given: "./libx.so" and "/abs/libx.so" are
 *    two entries for one loaded library, which is harmless.
 */
#include "native.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "lock.h"

typedef struct lib_entry {
	struct lib_entry *next;
	void *handle;
	size_t path_size;
	char path[]; /* NUL-terminated */
} lib_entry;

static xchan__lock g_libs_lock;
static lib_entry *g_libs;

static void *
find_locked(const char *path)
{
	for (lib_entry *e = g_libs; e != NULL; e = e->next)
		if (strcmp(e->path, path) == 0)
			return e->handle;
	return NULL;
}

static int32_t
load(void **out, const char *path, char *msg, size_t msg_size)
{
	xchan__lock_acquire(&g_libs_lock);
	void *h = find_locked(path);
	xchan__lock_release(&g_libs_lock);
	if (h != NULL) {
		*out = h;
		return XCHAN_OK;
	}
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		const char *why = dlerror();
		snprintf(msg, msg_size, "cannot load library \"%s\": %s", path,
		    why ? why : "unknown error");
		return XCHAN_ELOAD;
	}
	size_t ps = strlen(path) + 1;
	lib_entry *e = xchan__alloc(sizeof(*e) + ps);
	if (e == NULL) {
		/* The library stays loaded, uncached: a later call retries. */
		*out = h;
		return XCHAN_OK;
	}
	memcpy(e->path, path, ps);
	e->path_size = ps;
	e->handle = h;
	xchan__lock_acquire(&g_libs_lock);
	void *first = find_locked(path);
	if (first == NULL) {
		e->next = g_libs;
		g_libs = e;
	}
	xchan__lock_release(&g_libs_lock);
	if (first != NULL) {
		xchan__free(e, sizeof(*e) + ps);
		h = first;
	}
	*out = h;
	return XCHAN_OK;
}

int32_t
xchan__native_lib_symbol(void **out, const char *path, const char *symbol,
    char *msg, size_t msg_size)
{
	void *h;
	int32_t err = load(&h, path, msg, msg_size);
	if (err != XCHAN_OK)
		return err;
	dlerror();
	void *fp = dlsym(h, symbol);
	if (fp == NULL) {
		const char *why = dlerror();
		snprintf(msg, msg_size,
		    "no symbol \"%s\" in library \"%s\"%s%s", symbol, path,
		    why ? ": " : "", why ? why : "");
		return XCHAN_ELOAD;
	}
	*out = fp;
	return XCHAN_OK;
}
