/*
 * opscript.h — op scripts run on one thread against two "worlds": the
 * sequential reference model of channel semantics (chanmodel.c) and the real
 * core through its public API (corechan.c).  opscript.c decodes a byte
 * string into a script, runs each op on both worlds and compares them step
 * by step: return codes, values taken, which async ops completed and how,
 * which values were released (each value is a box whose destructor records
 * its release), and every channel's counts.  The fuzzer (fuzz_chan.c) feeds
 * it random bytes; the replay main runs the corpus under ctest.
 *
 * Values are boxes numbered 1, 2, ... by the script; the map transform turns
 * value v into v + VAL_MAPPED (a new box; the input is released), the filter
 * keeps values not divisible by 3, partition_all makes arrays of boxes.  Everything runs on the calling thread:
 * callbacks run inline, so a step's effects are complete when it returns.
 */
#ifndef XCHAN_OPSCRIPT_H
#define XCHAN_OPSCRIPT_H

#include <stddef.h>
#include <stdint.h>

#define SCRIPT_MAX_CHANS 4
#define SCRIPT_MAX_SLOTS 8   /* async ops alive at once */
#define SCRIPT_MAX_CLAUSES 3 /* per alts */
#define SCRIPT_MAX_OPS 256
#define SCRIPT_MAX_EVENTS 256 /* per step */
#define VAL_MAPPED 4096
/* partition_all's arrays are numbered VAL_ARRAY + their first item's
 * number (an item is in one array only); no destructor tells when an array
 * goes, only its items' do. */
#define VAL_ARRAY (2 * VAL_MAPPED)
#define VAL_MAX (3 * VAL_MAPPED)

/* Transforms a script may put on a buffered channel. */
enum {
	XF_NONE,
	XF_MAP,
	XF_FILTER,
	XF_TAKE,        /* take(n) */
	XF_FILTER_TAKE, /* comp(filter, take(n)) */
	XF_REPEAT,      /* repeat(n): an expanding step */
	XF_MAP_FILTER,  /* comp(map, filter) */
	XF_PARTITION,   /* partition_all(n): flushes at close */
	XF_COUNT
};

typedef struct chan_spec {
	uint32_t buf_kind; /* an xchan_buf_kind */
	uint32_t cap;      /* 0 for NONE and PROMISE */
	uint32_t xform;    /* XF_* (XF_NONE on unbuffered channels) */
	uint32_t xform_n;  /* n of take / repeat */
	uint32_t max_pending;
} chan_spec;

typedef struct clause_spec {
	int32_t ch;
	int32_t is_put;
	int64_t val; /* put: the value's number */
} clause_spec;

/* Async op kinds of a slot. */
enum { SLOT_NONE, SLOT_PUT, SLOT_TAKE, SLOT_ALTS };

typedef struct slot_spec {
	int32_t kind;
	int32_t notify; /* XCHAN_ASYNC_NOTIFY: results wait to be collected */
	int32_t n;
	clause_spec cl[SCRIPT_MAX_CLAUSES];
} slot_spec;

/* What happened during one step, in either world. */
enum { EV_CALLBACK = 1, EV_RELEASE = 2, EV_NOTIFY = 3 };
typedef struct event {
	int32_t kind;
	int32_t slot;  /* EV_CALLBACK */
	int32_t err;   /* EV_CALLBACK */
	int32_t index; /* EV_CALLBACK */
	int64_t val;   /* the value's number (0: nil); EV_RELEASE: released */
} event;

typedef struct chan_counts {
	uint64_t count;
	uint32_t closed;
	uint32_t pending_puts;
	uint32_t pending_takes;
} chan_counts;

typedef struct world world;

/* One world's operations.  Values are numbers; each world maps them to its
 * own representation.  `self->slots` (shared, owned by the interpreter)
 * describes what each async slot started. */
typedef struct world_vt {
	const char *name;
	int32_t (*chan_new)(world *w, int ch, const chan_spec *spec);
	int32_t (*put_async)(world *w, int slot, int ch, int64_t v);
	int32_t (*take_async)(world *w, int slot, int ch);
	int32_t (*alts_async)(world *w, int slot, const clause_spec *cl, int n);
	int32_t (*cancel)(world *w, int slot);
	/* xchan_op_cancel_ex / xchan_op_collect: on XCHAN_OK the result is
	 * in *err, *index, *val (moved to the script). */
	int32_t (*cancel_ex)(world *w, int slot, int32_t *err, int32_t *index,
	    int64_t *val);
	int32_t (*collect)(world *w, int slot, int32_t *err, int32_t *index,
	    int64_t *val);
	/* mode 0: offer; 1: put with XCHAN_DEADLINE_POLL; 2: put with a
	 * deadline that has passed. */
	int32_t (*put_now)(world *w, int ch, int64_t v, int mode);
	/* mode as put_now, for poll / take. */
	int32_t (*take_now)(world *w, int ch, int mode, int64_t *got);
	int32_t (*alts_now)(world *w, const clause_spec *cl, int n,
	    int32_t *index, int64_t *got);
	int32_t (*close)(world *w, int ch);
	void (*counts)(world *w, int ch, chan_counts *out);
	/* Drops a reference to value v that the script owns. */
	void (*release)(world *w, int64_t v);
	/* Releases every channel (pending ops were canceled before). */
	void (*teardown)(world *w);
} world_vt;

struct world {
	const world_vt *vt;
	const slot_spec *slots;        /* the interpreter's */
	int pending[SCRIPT_MAX_SLOTS]; /* registered, not completed */
	int stored[SCRIPT_MAX_SLOTS];  /* notify: completed, not collected */
	event ev[SCRIPT_MAX_EVENTS];
	int nev;
	int overflow;
	uint8_t released[VAL_MAX]; /* times each value's destructor ran */
};

/* Records an event of the current step. */
void world_event(world *w, event e);

/* What the script does with an async op's result (both worlds call it from
 * their completion): records the callback, then releases every value the
 * script owns again: a taken value, a put value handed back, and the put
 * values of alts clauses that did not deliver. */
void world_on_result(world *w, int slot, int32_t err, int32_t index,
    int64_t val);

/* The two worlds. */
world *chanmodel_new(void);
void chanmodel_free(world *w);
world *corechan_new(void);
void corechan_free(world *w);

/* Runs the script encoded in data[0..size) on both worlds; on the first
 * difference it prints the steps so far and the difference, and returns
 * -1 (0 when they agree to the end).  `trace` prints every step. */
int opscript_run(const uint8_t *data, size_t size, int trace);

#endif
