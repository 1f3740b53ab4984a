/*
 * native.c — xchan_native_run: a function of a shared library, called
 * through libffi on go / thread / io_thread, its return value delivered on
 * the task's result channel.
 *
 * Design notes
 *  - Everything is checked before anything starts (signature, argument
 *    count and kinds, library, symbol, the libffi call interface), so a
 *    bad call returns an error with nothing retained and nothing running.
 *  - A `native_call` owns one reference to each argument (taken with
 *    xchan_val_retain at submission) and frees itself after the call: the
 *    borrowed pointers handed to the function (string bytes, channel, box
 *    pointer) are therefore valid for the whole call and no longer.
 *  - No locks of its own; native_lib.c has the library cache's.  The
 *    function runs as an ordinary go task or thread job: inside a go task
 *    its channel operations park the task at any call depth.
 *  - Messages: every error is written into a caller's buffer; the public
 *    xchan_native_check hands it out (never thread-local storage), and
 *    xchan_native_run reports XCHAN_ELOAD's through the log hook.
 */
#include "native.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

#if defined(XCHAN_HAVE_FFI)
#include <ffi.h>

typedef union native_slot {
	int64_t i;
	double d;
	uint8_t b; /* _Bool is passed as one unsigned byte */
	const char *s;
	void *p;
} native_slot;

typedef struct native_call {
	ffi_cif cif;
	void (*fn)(void);
	xchan__native_sig sig;
	ffi_type *types[XCHAN_NATIVE_MAX_ARGS];
	void *ptrs[XCHAN_NATIVE_MAX_ARGS];
	native_slot slots[XCHAN_NATIVE_MAX_ARGS];
	xchan_val vals[XCHAN_NATIVE_MAX_ARGS]; /* owned references */
} native_call;

static ffi_type *
ffi_type_of(char letter)
{
	switch (letter) {
	case 'v':
		return &ffi_type_void;
	case 'i':
		return &ffi_type_sint64;
	case 'd':
		return &ffi_type_double;
	case 'b':
		return &ffi_type_uint8;
	default: /* s, p, c */
		return &ffi_type_pointer;
	}
}

static void
call_free(native_call *c)
{
	for (uint32_t k = 0; k < c->sig.nargs; k++)
		xchan_val_release(c->vals[k]);
	xchan__free(c, sizeof(*c));
}

/* Fills the argument slots from the owned values (kinds already checked). */
static void
fill_slots(native_call *c)
{
	for (uint32_t k = 0; k < c->sig.nargs; k++) {
		xchan_val v = c->vals[k];
		native_slot *s = &c->slots[k];
		size_t len;
		xchan_chan *ch;
		int32_t b;
		switch (c->sig.args[k]) {
		case 'i':
			xchan_get_int(v, &s->i);
			break;
		case 'd':
			if (v.kind == XCHAN_INT) {
				int64_t i;
				xchan_get_int(v, &i);
				s->d = (double)i;
			} else {
				xchan_get_double(v, &s->d);
			}
			break;
		case 'b':
			xchan_get_bool(v, &b);
			s->b = b != 0;
			break;
		case 's':
			xchan_get_string(v, &s->s, &len);
			break;
		case 'p':
			s->p = NULL;
			if (v.kind == XCHAN_BOX)
				xchan_get_box(v, &s->p);
			break;
		case 'c':
			xchan_get_chan(v, &ch);
			s->p = ch;
			break;
		}
		c->ptrs[k] = s;
	}
}

/* The task body: makes the call, converts the return value. */
static int32_t
native_task(void *arg, xchan_val *result)
{
	native_call *c = arg;
	union {
		ffi_arg a;
		int64_t i;
		double d;
		void *p;
	} rv;
	memset(&rv, 0, sizeof(rv));
	ffi_call(&c->cif, c->fn, &rv, c->ptrs);
	int32_t err = XCHAN_OK;
	*result = xchan_val_nil();
	switch (c->sig.ret) {
	case 'v':
		break;
	case 'i':
		*result = xchan_val_int(rv.i);
		break;
	case 'd':
		*result = xchan_val_double(rv.d);
		break;
	case 'b':
		/* libffi widens small integer returns to a whole ffi_arg. */
		*result = xchan_val_bool((uint8_t)rv.a != 0);
		break;
	case 's':
		if (rv.p != NULL)
			err = xchan_val_string(result, rv.p, strlen(rv.p));
		break;
	case 'p':
		if (rv.p != NULL)
			err = xchan_val_box(result, rv.p, NULL);
		break;
	case 'c':
		if (rv.p != NULL) {
			err = xchan_val_chan(result, rv.p);
			/* The value took its own reference; the function's
			 * returned one is ours to drop either way. */
			xchan_chan_release(rv.p);
		}
		break;
	}
	if (err != XCHAN_OK)
		*result = xchan_val_nil();
	call_free(c);
	return err;
}
#endif /* XCHAN_HAVE_FFI */

/* The checks shared by run and check.  On success *sig and *fn are set. */
static int32_t
validate(xchan__native_sig *sig, void **fn, const char *lib_path,
    const char *symbol, const char *signature, const xchan_val *args,
    size_t nargs, char *msg, size_t msg_size)
{
	if (lib_path == NULL || symbol == NULL) {
		snprintf(msg, msg_size, "%s is NULL",
		    lib_path == NULL ? "lib_path" : "symbol");
		return XCHAN_EINVAL;
	}
	int32_t err = xchan__native_sig_parse(sig, signature, msg, msg_size);
	if (err != XCHAN_OK)
		return err;
	err = xchan__native_sig_check_args(sig, symbol, signature, args, nargs,
	    msg, msg_size);
	if (err != XCHAN_OK)
		return err;
#if defined(XCHAN_HAVE_FFI)
	return xchan__native_lib_symbol(fn, lib_path, symbol, msg, msg_size);
#else
	(void)fn;
	snprintf(msg, msg_size,
	    "native workers are not available: xchan was built without libffi");
	return XCHAN_ELOAD;
#endif
}

int32_t
xchan_native_check(char *msg, size_t msg_size, const char *lib_path,
    const char *symbol, const char *signature, const xchan_val *args,
    size_t nargs)
{
	char dummy[1];
	if (msg == NULL || msg_size == 0) {
		msg = dummy;
		msg_size = sizeof(dummy);
	}
	msg[0] = 0;
	xchan__native_sig sig;
	void *fn;
	int32_t err = validate(&sig, &fn, lib_path, symbol, signature, args,
	    nargs, msg, msg_size);
	if (err == XCHAN_OK)
		msg[0] = 0;
	return err;
}

int32_t
xchan_native_run(xchan_chan **out_result, uint32_t workload,
    const char *lib_path, const char *symbol, const char *signature,
    const xchan_val *args, size_t nargs, const xchan_go_opts *opts)
{
	if (out_result != NULL)
		*out_result = NULL;
	if (workload != XCHAN_WORKLOAD_DISPATCH &&
	    workload != XCHAN_WORKLOAD_MIXED && workload != XCHAN_WORKLOAD_IO)
		return XCHAN_EINVAL;
	if (opts != NULL &&
	    opts->size < offsetof(xchan_go_opts, stack_size) + sizeof(uint64_t))
		return XCHAN_EINVAL;
	char msg[256];
	xchan__native_sig sig;
	void *fn;
	int32_t err = validate(&sig, &fn, lib_path, symbol, signature, args,
	    nargs, msg, sizeof(msg));
	if (err != XCHAN_OK) {
		/* A library or symbol that cannot be found is an environment
		 * problem worth a report; a bad signature or argument is the
		 * caller's, answered by the code (and xchan_native_check). */
		if (err == XCHAN_ELOAD)
			xchan__log(XCHAN_LOG_WARN, "native worker: %s", msg);
		return err;
	}
#if defined(XCHAN_HAVE_FFI)
	native_call *c = xchan__zalloc(sizeof(*c));
	if (c == NULL)
		return XCHAN_ENOMEM;
	c->sig = sig;
	/* POSIX guarantees data and function pointers convert for dlsym. */
	memcpy(&c->fn, &fn, sizeof(c->fn));
	for (uint32_t k = 0; k < sig.nargs; k++)
		c->types[k] = ffi_type_of(sig.args[k]);
	if (ffi_prep_cif(&c->cif, FFI_DEFAULT_ABI, sig.nargs,
	        ffi_type_of(sig.ret), c->types) != FFI_OK) {
		xchan__free(c, sizeof(*c));
		return XCHAN_EINVAL;
	}
	for (uint32_t k = 0; k < sig.nargs; k++)
		c->vals[k] = xchan_val_retain(args[k]);
	fill_slots(c);
	xchan_go_opts o = {sizeof(o), 0, symbol, 0};
	if (opts != NULL) {
		o.stack_size = opts->stack_size;
		if (opts->name != NULL)
			o.name = opts->name;
	}
	switch (workload) {
	case XCHAN_WORKLOAD_DISPATCH:
		err = xchan_go(out_result, native_task, c, &o);
		break;
	case XCHAN_WORKLOAD_MIXED:
		err = xchan_thread(out_result, native_task, c, &o);
		break;
	default:
		err = xchan_io_thread(out_result, native_task, c, &o);
		break;
	}
	if (err != XCHAN_OK)
		call_free(c);
	return err;
#else
	return XCHAN_ELOAD;
#endif
}
