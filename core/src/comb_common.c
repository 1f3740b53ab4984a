/*
 * comb_common.c — helpers shared by the combinators (see comb_common.h).
 */
#include "comb_common.h"

int32_t
xchan__comb_go(xchan_chan **out_done, xchan_go_fn fn, void *arg,
    const char *name)
{
	xchan_go_opts o = {0};
	o.size = sizeof(o);
	o.name = name;
	xchan_chan *done = NULL;
	int32_t err = xchan_go(&done, fn, arg, &o);
	if (err != XCHAN_OK)
		return err;
	if (out_done != NULL)
		*out_done = done;
	else
		xchan_chan_release(done);
	return XCHAN_OK;
}

int32_t
xchan__comb_chan(xchan_chan **out, const xchan_chan_opts *opts)
{
	if (opts == NULL)
		return xchan_chan_make(out, XCHAN_BUF_NONE, 0);
	return xchan_chan_new(out, opts);
}

void
xchan__comb_opts_drop(const xchan_chan_opts *opts)
{
	/* The xform is the caller's gift whenever the struct reaches its
	 * field, even if the struct is too small to be accepted: never leak
	 * it (xchan_chan_new takes it over by the same rule). */
	if (opts != NULL &&
	    opts->size >= XCHAN__END_OF(xchan_chan_opts, xform) &&
	    opts->xform != NULL)
		xchan_xform_free(opts->xform);
}

int32_t
xchan__comb_closed_chan(xchan_chan **out)
{
	int32_t err = xchan_chan_make(out, XCHAN_BUF_NONE, 0);
	if (err == XCHAN_OK)
		xchan_chan_close(*out);
	return err;
}

void
xchan__comb_release_vals(xchan_val *vals, size_t n)
{
	for (size_t i = 0; i < n; i++)
		xchan_val_release(vals[i]);
}
