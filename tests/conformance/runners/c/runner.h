/*
 * runner.h — the C conformance runner's shared declarations.
 *
 * The runner executes the language-neutral cases of tests/conformance/cases
 * (schema: tests/conformance/README.md) through xchan's public C API only,
 * once with every proc on its own OS thread ("thread") and once with every
 * proc as a go task ("task"), and compares each op's result with the case's
 * expectation.
 *
 * Concurrency design: one case runs at a time.  Its procs (threads or go
 * tasks) share one `world`: named objects and the trace, both guarded by
 * world.mu (a plain mutex, never held across an xchan call that can block or
 * park, and never taken inside a transform or combinator callback, so it
 * orders after every xchan lock).  An async op's record (`aop`) has its own
 * mutex guarding its result; the callback fills it and then closes the op's
 * `done` channel, which is what `await` waits on (so awaiting parks a task
 * and blocks a thread, through the public API).
 */
#ifndef XCONF_RUNNER_H
#define XCONF_RUNNER_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <xchan/xchan.h>

enum obj_type {
	OBJ_CHAN,
	OBJ_OP,
	OBJ_MULT,
	OBJ_PUB,
	OBJ_MIX,
	OBJ_TOKEN,
	OBJ_KEEP
};

/* Memory a combinator process uses until it ends (a pipeline's transform
 * spec, a pub's topic buffer): freed once its done channel has closed. */
typedef struct keep {
	void *mem;
	void (*free_fn)(void *);
	xchan_chan *done; /* owned */
} keep;

typedef struct named {
	char *name;
	int type;
	void *ptr;
} named;

/* An async operation started by put_async/take_async/alts_async. */
typedef struct aop {
	xchan_op *op;
	xchan_chan *done; /* closed by the callback */
	pthread_mutex_t mu;
	int completed;
	cJSON *result; /* the callback's result, encoded */
	pthread_t starter;
	int same_thread; /* the callback ran on the starting thread */
	int is_alts;
	int notify;   /* XCHAN_ASYNC_NOTIFY: the result is collected */
	int notified; /* the notifier ran */
	int in_go;    /* the callback or notifier ran inside a go task */
	struct world *w;
	/* alts_async put values stay the caller's: released at cleanup */
	xchan_clause *clauses;
	size_t nclauses;
} aop;

typedef struct world {
	pthread_mutex_t mu;
	named *objs;
	size_t nobjs, capobjs;
	cJSON *trace;       /* array of entries */
	int kind;           /* KIND_THREAD or KIND_TASK */
	atomic_int spawns;  /* spawned bodies still running */
	atomic_int missing; /* an op needed a core function not present */
	cJSON *task_errors; /* [[name, err], ...] from the task error hook */
	cJSON *marks;       /* {"mark": start time in ns} of marked ops */
	int64_t deadline;   /* the case's deadline (xchan_now ns) */
} world;

enum { KIND_THREAD = 0, KIND_TASK = 1 };

/* world.c */
void world_init(world *w, int kind, int64_t deadline);
void world_cleanup(world *w);
void world_put(world *w, const char *name, int type, void *ptr);
void *world_get(world *w, const char *name, int type);
const char *world_chan_name(world *w, xchan_chan *ch);
void world_trace(world *w, cJSON *entry);
void world_keep(world *w, void *mem, void (*free_fn)(void *), xchan_chan *done);

/* values.c: the JSON encoding of values (README "Values"). */
int32_t json_to_val(world *w, const cJSON *j, xchan_val *out);
/* Encodes `v` (borrowed); *err gets XCHAN_ERUNTIME for a host value of
 * another runtime (the value is then encoded as null). */
cJSON *val_to_json(world *w, xchan_val v, int32_t *err);
uint32_t conf_runtime_id(void);
int32_t conf_foreign_host(xchan_val *out, const char *tag);

/* vocab.c: the named transforms and functions every language can express. */
int32_t vocab_xform(const cJSON *spec, xchan_xform **out);
int32_t vocab_error_handler(const char *name, xchan_error_handler *out);
xchan_map_fn vocab_map_fn(const char *name);
xchan_pred_fn vocab_pred(const char *name);
xchan_map_n_fn vocab_map_n(const char *name);
xchan_reduce_fn vocab_reduce(const char *name);
xchan_async_fn vocab_async_fn(const char *name);
int32_t vocab_xform_factory(void *user, xchan_xform **out);

/* ops.c / ops_comb.c: run one op; returns its actual result (owned). */
void run_ops(world *w, const char *path, const cJSON *ops);
cJSON *exec_op(world *w, const char *path, const cJSON *op);
cJSON *exec_comb_op(world *w, const char *path, const cJSON *op,
    const char *name, int *handled);
cJSON *res_err(int32_t err);
int32_t parse_chan_opts(const cJSON *spec, xchan_chan_opts *o);
xchan_chan *arg_chan(world *w, const cJSON *op, const char *key);
const char *arg_str(const cJSON *op, const char *key, const char *dflt);
int64_t arg_int(const cJSON *op, const char *key, int64_t dflt);
int arg_bool(const cJSON *op, const char *key, int dflt);
cJSON *missing_core(world *w, const char *fn);
void aop_finish_notify(aop *a);

/* Weak references to the newest core functions: a core without them makes
 * the cases that use them report "missing-core" instead of failing to link. */
#define CONF_HAVE(fn) ((void *)(fn) != NULL)

/* Declared in xchan.h, implemented by the core over this round. */
#pragma weak xchan_op_cancel_ex
#pragma weak xchan_op_collect
#pragma weak xchan_op_state_get
#pragma weak xchan_cancel_new
#pragma weak xchan_cancel_fire
#pragma weak xchan_cancel_reset
#pragma weak xchan_cancel_release
#pragma weak xchan_put_ex
#pragma weak xchan_take_ex
#pragma weak xchan_alts_ex
#pragma weak xchan_runtime_unregister
#pragma weak xchan_val_string_host
#pragma weak xchan_val_bytes_host
#pragma weak xchan_set_log_hook

#endif
