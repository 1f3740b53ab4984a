/*
 * api.c — the function table (xchan_ext.h): one static, constant
 * xchan_api holding every public function, for C extensions loaded by a
 * host that reach the core through it.  No state, no locks.
 *
 * Keep the initializer's order identical to the struct's (it is checked:
 * designated initializers, and api_test compares every field with the
 * function's own address).  New functions are appended at the end of both.
 */
#include "xchan/xchan_ext.h"

#include "common.h"

/* Declared in 0.2 and implemented by the async work landing separately:
 * weak until then, so the table links (a missing one reads as NULL and
 * XCHAN_API_HAS still says the field exists).  Remove once all landed. */
#pragma weak xchan_op_cancel_ex
#pragma weak xchan_op_collect
#pragma weak xchan_op_state_get
#pragma weak xchan_cancel_new
#pragma weak xchan_cancel_fire
#pragma weak xchan_cancel_reset
#pragma weak xchan_cancel_fired
#pragma weak xchan_cancel_release
#pragma weak xchan_put_ex
#pragma weak xchan_take_ex
#pragma weak xchan_alts_ex

static const xchan_api g_api = {
    .size = sizeof(xchan_api),
    .version = XCHAN_VERSION_NUMBER,
    .version_number = xchan_version_number,
    .version_string = xchan_version_string,
    .check_version = xchan_check_version,
    .strerror = xchan_strerror,
    .err_name = xchan_err_name,
    .init = xchan_init,
    .set_log_hook = xchan_set_log_hook,
    .shutdown = xchan_shutdown,
    .now = xchan_now,
    .deadline_in_ms = xchan_deadline_in_ms,
    .deadline_in_ns = xchan_deadline_in_ns,
    .val_nil = xchan_val_nil,
    .val_bool = xchan_val_bool,
    .val_int = xchan_val_int,
    .val_double = xchan_val_double,
    .val_string = xchan_val_string,
    .val_bytes = xchan_val_bytes,
    .val_chan = xchan_val_chan,
    .val_box = xchan_val_box,
    .val_array = xchan_val_array,
    .runtime_register = xchan_runtime_register,
    .runtime_unregister = xchan_runtime_unregister,
    .val_host = xchan_val_host,
    .val_string_host = xchan_val_string_host,
    .val_bytes_host = xchan_val_bytes_host,
    .val_retain = xchan_val_retain,
    .val_release = xchan_val_release,
    .get_bool = xchan_get_bool,
    .get_int = xchan_get_int,
    .get_double = xchan_get_double,
    .get_string = xchan_get_string,
    .get_bytes = xchan_get_bytes,
    .get_chan = xchan_get_chan,
    .get_box = xchan_get_box,
    .get_array = xchan_get_array,
    .get_host = xchan_get_host,
    .val_equal = xchan_val_equal,
    .kind_name = xchan_kind_name,
    .emit_push = xchan_emit_push,
    .emit_fail = xchan_emit_fail,
    .xform_new = xchan_xform_new,
    .xform_free = xchan_xform_free,
    .xform_map = xchan_xform_map,
    .xform_filter = xchan_xform_filter,
    .xform_mapcat = xchan_xform_mapcat,
    .xform_take = xchan_xform_take,
    .xform_partition_all = xchan_xform_partition_all,
    .xform_repeat = xchan_xform_repeat,
    .xform_comp = xchan_xform_comp,
    .chan_new = xchan_chan_new,
    .chan_make = xchan_chan_make,
    .chan_retain = xchan_chan_retain,
    .chan_release = xchan_chan_release,
    .chan_close = xchan_chan_close,
    .put = xchan_put,
    .take = xchan_take,
    .offer = xchan_offer,
    .poll = xchan_poll,
    .put_async = xchan_put_async,
    .take_async = xchan_take_async,
    .op_cancel = xchan_op_cancel,
    .op_cancel_ex = xchan_op_cancel_ex,
    .op_collect = xchan_op_collect,
    .op_state_get = xchan_op_state_get,
    .op_release = xchan_op_release,
    .cancel_new = xchan_cancel_new,
    .cancel_fire = xchan_cancel_fire,
    .cancel_reset = xchan_cancel_reset,
    .cancel_fired = xchan_cancel_fired,
    .cancel_release = xchan_cancel_release,
    .put_ex = xchan_put_ex,
    .take_ex = xchan_take_ex,
    .alts = xchan_alts,
    .alts_async = xchan_alts_async,
    .alts_ex = xchan_alts_ex,
    .random_seed = xchan_random_seed,
    .timeout = xchan_timeout,
    .timeout_at = xchan_timeout_at,
    .chan_info_get = xchan_chan_info_get,
    .executor_new = xchan_executor_new,
    .executor_for = xchan_executor_for,
    .execute = xchan_execute,
    .set_executor_factory = xchan_set_executor_factory,
    .go = xchan_go,
    .thread = xchan_thread,
    .io_thread = xchan_io_thread,
    .in_go = xchan_in_go,
    .set_task_error_hook = xchan_set_task_error_hook,
    .set_go_checking = xchan_set_go_checking,
    .pipe = xchan_pipe,
    .pipeline = xchan_pipeline,
    .pipeline_blocking = xchan_pipeline_blocking,
    .pipeline_async = xchan_pipeline_async,
    .mult_new = xchan_mult_new,
    .mult_tap = xchan_mult_tap,
    .mult_untap = xchan_mult_untap,
    .mult_untap_all = xchan_mult_untap_all,
    .mult_retain = xchan_mult_retain,
    .mult_release = xchan_mult_release,
    .pub_new = xchan_pub_new,
    .pub_sub = xchan_pub_sub,
    .pub_unsub = xchan_pub_unsub,
    .pub_unsub_topic = xchan_pub_unsub_topic,
    .pub_unsub_all = xchan_pub_unsub_all,
    .pub_retain = xchan_pub_retain,
    .pub_release = xchan_pub_release,
    .mix_new = xchan_mix_new,
    .mix_admix = xchan_mix_admix,
    .mix_unmix = xchan_mix_unmix,
    .mix_unmix_all = xchan_mix_unmix_all,
    .mix_toggle = xchan_mix_toggle,
    .mix_solo_mode = xchan_mix_solo_mode,
    .mix_get = xchan_mix_get,
    .mix_retain = xchan_mix_retain,
    .mix_release = xchan_mix_release,
    .merge = xchan_merge,
    .split = xchan_split,
    .map = xchan_map,
    .take_n = xchan_take_n,
    .reduce = xchan_reduce,
    .transduce = xchan_transduce,
    .into = xchan_into,
    .onto_chan = xchan_onto_chan,
    .to_chan = xchan_to_chan,
};

const xchan_api *
xchan_get_api(void)
{
	return &g_api;
}
