/*
 * api_test.c — the function table (xchan_ext.h, issue 9 §5): every public
 * function is in it, at its own address; calls through it work; the size
 * and version fields and XCHAN_API_HAS behave as the growth rules say.
 */
#include <string.h>

#include "testing/xtest.h"
#include "xchan/xchan_ext.h"

/* Every field is the function of the same name (with the prefix), and
 * none is NULL. */
XTEST(table_holds_every_public_function)
{
	const xchan_api *api = xchan_get_api();
	XREQUIRE(api != NULL);
	XCHECK(api == xchan_get_api()); /* static, one table */
	XCHECK_EQ(api->size, sizeof(xchan_api));
	XCHECK_EQ(api->version, XCHAN_VERSION_NUMBER);
	int n = 0;
#define X(f)                                                                   \
	do {                                                                   \
		XCHECK(XCHAN_API_HAS(api, f));                                 \
		XCHECK(api->f == xchan_##f);                                   \
		XCHECK(api->f != NULL);                                        \
		n++;                                                           \
	} while (0)
	X(version_number);
	X(version_string);
	X(check_version);
	X(strerror);
	X(err_name);
	X(init);
	X(set_log_hook);
	X(shutdown);
	X(now);
	X(deadline_in_ms);
	X(deadline_in_ns);
	X(val_nil);
	X(val_bool);
	X(val_int);
	X(val_double);
	X(val_string);
	X(val_bytes);
	X(val_chan);
	X(val_box);
	X(val_array);
	X(runtime_register);
	X(runtime_unregister);
	X(val_host);
	X(val_string_host);
	X(val_bytes_host);
	X(val_retain);
	X(val_release);
	X(get_bool);
	X(get_int);
	X(get_double);
	X(get_string);
	X(get_bytes);
	X(get_chan);
	X(get_box);
	X(get_array);
	X(get_host);
	X(val_equal);
	X(kind_name);
	X(emit_push);
	X(emit_fail);
	X(xform_new);
	X(xform_free);
	X(xform_map);
	X(xform_filter);
	X(xform_mapcat);
	X(xform_take);
	X(xform_partition_all);
	X(xform_repeat);
	X(xform_comp);
	X(chan_new);
	X(chan_make);
	X(chan_retain);
	X(chan_release);
	X(chan_close);
	X(put);
	X(take);
	X(offer);
	X(poll);
	X(put_async);
	X(take_async);
	X(op_cancel);
	X(op_cancel_ex);
	X(op_collect);
	X(op_state_get);
	X(op_release);
	X(cancel_new);
	X(cancel_fire);
	X(cancel_reset);
	X(cancel_fired);
	X(cancel_release);
	X(put_ex);
	X(take_ex);
	X(alts);
	X(alts_async);
	X(alts_ex);
	X(random_seed);
	X(timeout);
	X(timeout_at);
	X(chan_info_get);
	X(executor_new);
	X(executor_for);
	X(execute);
	X(set_executor_factory);
	X(go);
	X(thread);
	X(io_thread);
	X(in_go);
	X(set_task_error_hook);
	X(set_go_checking);
	X(pipe);
	X(pipeline);
	X(pipeline_blocking);
	X(pipeline_async);
	X(mult_new);
	X(mult_tap);
	X(mult_untap);
	X(mult_untap_all);
	X(mult_retain);
	X(mult_release);
	X(pub_new);
	X(pub_sub);
	X(pub_unsub);
	X(pub_unsub_topic);
	X(pub_unsub_all);
	X(pub_retain);
	X(pub_release);
	X(mix_new);
	X(mix_admix);
	X(mix_unmix);
	X(mix_unmix_all);
	X(mix_toggle);
	X(mix_solo_mode);
	X(mix_get);
	X(mix_retain);
	X(mix_release);
	X(merge);
	X(split);
	X(map);
	X(take_n);
	X(reduce);
	X(transduce);
	X(into);
	X(onto_chan);
	X(to_chan);
#undef X
	/* size, version, then one pointer per function: nothing else */
	XCHECK_EQ(sizeof(xchan_api), 8 + (size_t)n * sizeof(void (*)(void)));
	XCHECK_EQ(n, 124);
}

XTEST(calls_through_the_table)
{
	const xchan_api *api = xchan_get_api();
	XCHECK_ERR(api->check_version(XCHAN_VERSION_NUMBER), XCHAN_OK);
	XCHECK(strcmp(api->err_name(XCHAN_ECLOSED), "ECLOSED") == 0);
	xchan_chan *ch = NULL;
	XREQUIRE(api->chan_make(&ch, XCHAN_BUF_FIXED, 2) == XCHAN_OK);
	xchan_val s;
	XREQUIRE(api->val_string(&s, "via table", 9) == XCHAN_OK);
	XCHECK_ERR(api->put(ch, api->val_int(7), XCHAN_DEADLINE_NEVER),
	    XCHAN_OK);
	XCHECK_ERR(api->offer(ch, s), XCHAN_OK);
	xchan_val v;
	int64_t i = 0;
	XCHECK_ERR(api->take(&v, ch, XCHAN_DEADLINE_NEVER), XCHAN_OK);
	XCHECK_ERR(api->get_int(v, &i), XCHAN_OK);
	XCHECK_EQ(i, 7);
	XCHECK_ERR(api->poll(&v, ch), XCHAN_OK);
	const char *text;
	size_t len;
	XCHECK_ERR(api->get_string(v, &text, &len), XCHAN_OK);
	XCHECK(len == 9 && memcmp(text, "via table", 9) == 0);
	api->val_release(v);
	XCHECK_ERR(api->chan_close(ch), XCHAN_OK);
	XCHECK_ERR(api->take(&v, ch, XCHAN_DEADLINE_POLL), XCHAN_ECLOSED);
	api->chan_release(ch);
}

/* A consumer built against a newer header sees an older (smaller) table:
 * XCHAN_API_HAS says which fields it may use. */
XTEST(api_has_follows_the_size)
{
	xchan_api old;
	memcpy(&old, xchan_get_api(), sizeof(old));
	old.size = (uint32_t)(offsetof(xchan_api, now) + sizeof(old.now));
	XCHECK(XCHAN_API_HAS(&old, now));
	XCHECK(XCHAN_API_HAS(&old, version_number));
	XCHECK(!XCHAN_API_HAS(&old, deadline_in_ms));
	XCHECK(!XCHAN_API_HAS(&old, to_chan));
	XCHECK(!XCHAN_API_HAS((const xchan_api *)NULL, now));
	old.size = 8;
	XCHECK(!XCHAN_API_HAS(&old, version_number));
}

XTEST_MAIN()
