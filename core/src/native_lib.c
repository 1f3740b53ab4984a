/*
 * native_lib.c — the libraries native workers call into: loaded once per
 * path, given the function table, kept for the life of the process.
 *
 * Design notes
 *  - Two locks, never held together.  `g_libs_lock` (a leaf) guards the
 *    list `g_libs` and nothing else: a lookup takes it only to walk the
 *    list.  `g_load_lock` serializes first loads: it is held across dlopen
 *    and the library's xchan_native_onload, so that onload runs exactly
 *    once per library and no call reaches a library before its onload
 *    has returned.  It is the one place xchan runs user code under a lock
 *    of its own, as the dynamic loader itself does for constructors (its
 *    own lock is held then too); it is never taken on the cached path.
 *  - Re-entry: a constructor or onload that calls xchan_native_run for a
 *    library not loaded yet would wait for itself; a thread-local flag
 *    turns that into XCHAN_ELOAD with a message instead.
 *  - Entries are never removed, so an entry found under the lock stays
 *    valid after it is dropped.  A task may run a library's code at any
 *    time, which is why nothing is ever unloaded.  An entry records the
 *    onload's result: a library whose onload failed fails every call.
 *  - Keyed by the path string as given: "./libx.so" and "/abs/libx.so" are
 *    two entries for one loaded library (the loader counts references; the
 *    second gets no second onload, as the same handle is found).
 */
#include "native.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "lock.h"

typedef struct lib_entry {
	struct lib_entry *next;
	void *handle;
	int32_t onload_err; /* XCHAN_OK, or what xchan_native_onload returned */
	size_t path_size;
	char path[]; /* NUL-terminated */
} lib_entry;

typedef int32_t (*onload_fn)(const xchan_api *api);

static xchan__lock g_libs_lock;
static xchan__lock g_load_lock;
static lib_entry *g_libs;
static _Thread_local int g_loading;

static lib_entry *
find(const char *path, void *handle)
{
	xchan__lock_acquire(&g_libs_lock);
	lib_entry *e = g_libs;
	while (e != NULL && !(path != NULL ? strcmp(e->path, path) == 0
	                                   : e->handle == handle))
		e = e->next;
	xchan__lock_release(&g_libs_lock);
	return e;
}

static int32_t
entry_result(const lib_entry *e, const char *path, char *msg, size_t msg_size)
{
	if (e->onload_err == XCHAN_OK)
		return XCHAN_OK;
	snprintf(msg, msg_size,
	    "library \"%s\": xchan_native_onload failed with %s (%s)", path,
	    xchan_err_name(e->onload_err), xchan_strerror(e->onload_err));
	return XCHAN_ELOAD;
}

/* Under g_load_lock: dlopen, onload (once per handle), a new entry. */
static int32_t
load_locked(lib_entry **out, const char *path, char *msg, size_t msg_size)
{
	g_loading = 1; /* constructors run inside dlopen */
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	g_loading = 0;
	if (h == NULL) {
		const char *why = dlerror();
		snprintf(msg, msg_size, "cannot load library \"%s\": %s", path,
		    why ? why : "unknown error");
		return XCHAN_ELOAD;
	}
	int32_t onload_err = XCHAN_OK;
	const lib_entry *same = find(NULL, h); /* the library by another path */
	if (same != NULL) {
		onload_err = same->onload_err;
	} else {
		dlerror();
		void *sym = dlsym(h, "xchan_native_onload");
		if (sym != NULL) {
			onload_fn f;
			memcpy(&f, &sym, sizeof(f));
			g_loading = 1;
			onload_err = f(xchan_get_api());
			g_loading = 0;
		}
	}
	size_t ps = strlen(path) + 1;
	lib_entry *e = xchan__alloc(sizeof(*e) + ps);
	if (e == NULL)
		return XCHAN_ENOMEM; /* stays loaded; a later call retries */
	memcpy(e->path, path, ps);
	e->path_size = ps;
	e->handle = h;
	e->onload_err = onload_err;
	xchan__lock_acquire(&g_libs_lock);
	e->next = g_libs;
	g_libs = e;
	xchan__lock_release(&g_libs_lock);
	*out = e;
	return XCHAN_OK;
}

static int32_t
load(lib_entry **out, const char *path, char *msg, size_t msg_size)
{
	lib_entry *e = find(path, NULL);
	if (e == NULL) {
		if (g_loading) {
			snprintf(msg, msg_size,
			    "cannot load library \"%s\" from inside another "
			    "library's constructor or xchan_native_onload",
			    path);
			return XCHAN_ELOAD;
		}
		xchan__lock_acquire(&g_load_lock);
		e = find(path, NULL); /* loaded while we waited? */
		int32_t err = XCHAN_OK;
		if (e == NULL)
			err = load_locked(&e, path, msg, msg_size);
		xchan__lock_release(&g_load_lock);
		if (err != XCHAN_OK)
			return err;
	}
	*out = e;
	return entry_result(e, path, msg, msg_size);
}

int32_t
xchan__native_lib_symbol(void **out, const char *path, const char *symbol,
    char *msg, size_t msg_size)
{
	lib_entry *e;
	int32_t err = load(&e, path, msg, msg_size);
	if (err != XCHAN_OK)
		return err;
	dlerror();
	void *fp = dlsym(e->handle, symbol);
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
