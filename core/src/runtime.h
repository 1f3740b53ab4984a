/*
 * runtime.h — host runtimes (internal view): registered runtimes'
 * records, and handing host objects back to them exactly once.
 *
 * A record lives as long as its registration or any value still carrying
 * one of its objects (a reference count), so a value never points at freed
 * memory even after xchan_runtime_unregister.
 */
#ifndef XCHAN_RUNTIME_H
#define XCHAN_RUNTIME_H

#include "common.h"

typedef struct xchan__rt xchan__rt;

/* The record of registered runtime `id` with a new reference for a value
 * about to carry one of its objects, or NULL if the id is unknown or was
 * unregistered.  The reference goes with xchan__rt_release_obj, or with
 * xchan__rt_unget if no value was made after all. */
xchan__rt *xchan__rt_get(uint32_t id);
void xchan__rt_unget(xchan__rt *rt);

/* The record's id (never reused). */
uint32_t xchan__rt_id(const xchan__rt *rt);

/* True while the runtime is registered. */
bool xchan__rt_alive(const xchan__rt *rt);

/* Hands `obj` back to the runtime's release hook, or, if the runtime was
 * unregistered, leaks it on purpose (counted); then drops the reference to
 * `rt` that came with the object.  Call with no xchan lock held. */
void xchan__rt_release_obj(xchan__rt *rt, void *obj);

/* Host objects leaked because their runtime was gone (process total). */
uint64_t xchan__rt_leaked(void);

#endif
