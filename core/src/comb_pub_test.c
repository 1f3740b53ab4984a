/* comb_pub_test.c — pub, sub, unsub (docs/semantics.md §4 case 60). */
#include "comb_testutil.h"

/* Topic: "string" for strings, "int" otherwise. */
static xchan_val
kind_topic(void *user, xchan_val v)
{
	(*(int *)user)++;
	const char *t = v.kind == XCHAN_STRING ? "string" : "int";
	xchan_val k = xchan_val_nil();
	xchan_val_string(&k, t, strlen(t));
	return k;
}

static void
expect_strs(xchan_chan *ch, const char *const *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		xchan_val v;
		XCHECK_ERR(xchan_take(&v, ch, tu_dl()), XCHAN_OK);
		const char *s = NULL;
		size_t len = 0;
		XCHECK_ERR(xchan_get_string(v, &s, &len), XCHAN_OK);
		XCHECK(s != NULL && len == strlen(want[i]) &&
		       memcmp(s, want[i], len) == 0);
		xchan_val_release(v);
	}
	TU_CLOSED(ch);
}

/* 60: a topic function routes to two subscribers per topic, in order. */
XTEST(pub_sub_routes_by_topic)
{
	xchan_chan *a_ints = tu_chan(XCHAN_BUF_FIXED, 5),
	           *a_strs = tu_chan(XCHAN_BUF_FIXED, 5),
	           *b_ints = tu_chan(XCHAN_BUF_FIXED, 5),
	           *b_strs = tu_chan(XCHAN_BUF_FIXED, 5);
	xchan_chan *src = tu_chan(XCHAN_BUF_NONE, 0), *done = NULL;
	int calls = 0;
	xchan_pub *p = NULL;
	XCHECK_ERR(xchan_pub_new(&p, &done, src, kind_topic, &calls, NULL,
	               NULL),
	    XCHAN_OK);
	xchan_val ts = tu_str("string"), ti = tu_str("int");
	XCHECK_ERR(xchan_pub_sub(p, ts, a_strs, 1), XCHAN_OK);
	XCHECK_ERR(xchan_pub_sub(p, ts, b_strs, 1), XCHAN_OK);
	XCHECK_ERR(xchan_pub_sub(p, ti, a_ints, 1), XCHAN_OK);
	XCHECK_ERR(xchan_pub_sub(p, ti, b_ints, 1), XCHAN_OK);
	xchan_val vals[6] = {xchan_val_int(1), tu_str("a"), xchan_val_int(2),
	    tu_str("b"), xchan_val_int(3), tu_str("c")};
	xchan_chan *in = NULL;
	XCHECK_ERR(xchan_to_chan(&in, vals, 6), XCHAN_OK);
	XCHECK_ERR(xchan_pipe(NULL, in, src, 1), XCHAN_OK);
	int64_t w[3] = {1, 2, 3};
	const char *ws[3] = {"a", "b", "c"};
	XCHECK(tu_expect_seq(a_ints, w, 3));
	XCHECK(tu_expect_seq(b_ints, w, 3));
	expect_strs(a_strs, ws, 3);
	expect_strs(b_strs, ws, 3);
	tu_done(done);
	XCHECK_EQ(calls, 6);
	xchan_val_release(ts);
	xchan_val_release(ti);
	xchan_pub_release(p);
	xchan_chan_release(in);
	xchan_chan_release(src);
	xchan_chan_release(a_ints);
	xchan_chan_release(a_strs);
	xchan_chan_release(b_ints);
	xchan_chan_release(b_strs);
}

static xchan_val
int_mod3(void *user, xchan_val v)
{
	(void)user;
	int64_t i = 0;
	xchan_get_int(v, &i);
	return xchan_val_int(i % 3);
}

static int32_t
buf_by_topic(void *user, uint32_t *kind, uint64_t *cap, xchan_val topic)
{
	(*(int *)user)++;
	int64_t t = 0;
	xchan_get_int(topic, &t);
	*kind = XCHAN_BUF_FIXED;
	*cap = (uint64_t)(t + 1) * 10;
	return XCHAN_OK;
}

/* Values of topics without subscribers are dropped; buf_fn is called once
 * per topic; unsub/unsub_topic/unsub_all; close flags. */
XTEST(pub_unsub_and_buffers)
{
	xchan_chan *src = tu_chan(XCHAN_BUF_NONE, 0), *done = NULL;
	int bufs = 0;
	xchan_pub *p = NULL;
	XCHECK_ERR(xchan_pub_new(&p, &done, src, int_mod3, NULL, buf_by_topic,
	               &bufs),
	    XCHAN_OK);
	xchan_chan *s0 = tu_chan(XCHAN_BUF_FIXED, 100),
	           *s0b = tu_chan(XCHAN_BUF_FIXED, 100),
	           *s1 = tu_chan(XCHAN_BUF_FIXED, 100),
	           *s1open = tu_chan(XCHAN_BUF_FIXED, 100);
	XCHECK_ERR(xchan_pub_sub(p, xchan_val_int(0), s0, 1), XCHAN_OK);
	XCHECK_ERR(xchan_pub_sub(p, xchan_val_int(0), s0b, 1), XCHAN_OK);
	XCHECK_ERR(xchan_pub_sub(p, xchan_val_int(1), s1, 1), XCHAN_OK);
	XCHECK_ERR(xchan_pub_sub(p, xchan_val_int(1), s1open, 0), XCHAN_OK);
	XCHECK_EQ(bufs, 2);
	for (int i = 0; i < 6; i++) /* topic 2 has nobody: 2 and 5 dropped */
		XCHECK_ERR(xchan_put(src, xchan_val_int(i), tu_dl()), XCHAN_OK);
	TU_TAKE_EQ(s0, 0);
	TU_TAKE_EQ(s0, 3);
	TU_TAKE_EQ(s0b, 0);
	TU_TAKE_EQ(s0b, 3);
	TU_TAKE_EQ(s1, 1);
	TU_TAKE_EQ(s1, 4);
	TU_TAKE_EQ(s1open, 1);
	TU_TAKE_EQ(s1open, 4);
	XCHECK_ERR(xchan_pub_unsub(p, xchan_val_int(0), s0b), XCHAN_OK);
	XCHECK_ERR(xchan_pub_unsub_topic(p, xchan_val_int(1)), XCHAN_OK);
	for (int i = 6; i < 9; i++)
		XCHECK_ERR(xchan_put(src, xchan_val_int(i), tu_dl()), XCHAN_OK);
	TU_TAKE_EQ(s0, 6);
	XCHECK_ERR(xchan_pub_unsub_all(p), XCHAN_OK);
	XCHECK_ERR(xchan_put(src, xchan_val_int(9), tu_dl()), XCHAN_OK);
	/* The pub takes 10 only after it has routed (dropped) 9. */
	XCHECK_ERR(xchan_put(src, xchan_val_int(10), tu_dl()), XCHAN_OK);
	/* Resubscribing makes the topic again (buf_fn runs again). */
	XCHECK_ERR(xchan_pub_sub(p, xchan_val_int(0), s0, 1), XCHAN_OK);
	XCHECK_EQ(bufs, 3);
	XCHECK_ERR(xchan_put(src, xchan_val_int(12), tu_dl()), XCHAN_OK);
	xchan_chan_close(src);
	tu_done(done);
	int64_t w12 = 12;
	XCHECK(tu_expect_seq(s0, &w12, 1)); /* closed by the end of src */
	TU_EMPTY(s0b); /* unsubscribed: never closed, got nothing more */
	TU_EMPTY(s1);
	TU_EMPTY(s1open);
	xchan_chan *late = tu_chan(XCHAN_BUF_FIXED, 1);
	XCHECK_ERR(xchan_pub_sub(p, xchan_val_int(0), late, 1), XCHAN_OK);
	TU_CLOSED(late);
	xchan_pub_release(p);
	xchan_chan_release(src);
	xchan_chan_release(s0);
	xchan_chan_release(s0b);
	xchan_chan_release(s1);
	xchan_chan_release(s1open);
	xchan_chan_release(late);
}

/* Close flag 0 leaves the subscriber open when the source closes. */
XTEST(pub_close_flag)
{
	xchan_chan *src = tu_range(0, 4), *done = NULL;
	xchan_chan *c = tu_chan(XCHAN_BUF_FIXED, 10),
	           *o = tu_chan(XCHAN_BUF_FIXED, 10);
	xchan_pub *p = NULL;
	/* Subscribe before the pub starts taking: hold the source back. */
	xchan_chan *gate = tu_chan(XCHAN_BUF_NONE, 0);
	XCHECK_ERR(xchan_pub_new(&p, &done, gate, int_mod3, NULL, NULL, NULL),
	    XCHAN_OK);
	XCHECK_ERR(xchan_pub_sub(p, xchan_val_int(0), c, 1), XCHAN_OK);
	XCHECK_ERR(xchan_pub_sub(p, xchan_val_int(0), o, 0), XCHAN_OK);
	XCHECK_ERR(xchan_pipe(NULL, src, gate, 1), XCHAN_OK);
	tu_done(done);
	TU_TAKE_EQ(c, 0);
	TU_TAKE_EQ(c, 3);
	TU_CLOSED(c);
	TU_TAKE_EQ(o, 0);
	TU_TAKE_EQ(o, 3);
	TU_EMPTY(o);
	xchan_pub_release(p);
	xchan_chan_release(src);
	xchan_chan_release(gate);
	xchan_chan_release(c);
	xchan_chan_release(o);
}

/* sub/unsub race with routing: a thread subscribes and unsubscribes a
 * dropping channel to topics 1 and 2 while 3000 values flow; topic 0's
 * steady subscriber still gets its 1000 values in order. */
typedef struct subchurn {
	xchan_pub *p;
	_Atomic int *stop;
} subchurn;

static int32_t
subchurn_run(void *arg, xchan_val *result)
{
	subchurn *c = arg;
	*result = xchan_val_nil();
	xchan_chan *mine = NULL;
	xchan_chan_make(&mine, XCHAN_BUF_DROPPING, 1);
	/* Bounded: each new topic spawns a mult task, and an unbounded churn
	 * under TSan (where starting a task costs ~1 ms) would only flood the
	 * two workers with them. */
	for (int k = 0; k < 20000 && !atomic_load(c->stop); k++) {
		xchan_val topic = xchan_val_int(1 + k % 2);
		xchan_pub_sub(c->p, topic, mine, 0);
		if (k % 2)
			xchan_pub_unsub(c->p, topic, mine);
		if (k % 97 == 0)
			xchan_pub_unsub_topic(c->p, topic);
	}
	xchan_chan_release(mine);
	return XCHAN_OK;
}

XTEST(pub_concurrent_sub_unsub)
{
	xchan_chan *src = tu_chan(XCHAN_BUF_FIXED, 16),
	           *zero = tu_chan(XCHAN_BUF_FIXED, 16), *done = NULL,
	           *t = NULL;
	xchan_pub *p = NULL;
	XCHECK_ERR(xchan_pub_new(&p, &done, src, int_mod3, NULL, NULL, NULL),
	    XCHAN_OK);
	XCHECK_ERR(xchan_pub_sub(p, xchan_val_int(0), zero, 1), XCHAN_OK);
	_Atomic int stop = 0;
	subchurn c = {p, &stop};
	XCHECK_ERR(xchan_thread(&t, subchurn_run, &c, NULL), XCHAN_OK);
	xchan_val *v = calloc(3000, sizeof(xchan_val));
	for (int i = 0; i < 3000; i++)
		v[i] = xchan_val_int(i);
	XCHECK_ERR(xchan_onto_chan(NULL, src, v, 3000, 1), XCHAN_OK);
	free(v);
	int64_t *want = calloc(1000, sizeof(int64_t));
	for (int i = 0; i < 1000; i++)
		want[i] = 3 * i;
	XCHECK(tu_expect_seq(zero, want, 1000));
	free(want);
	atomic_store(&stop, 1);
	tu_done(t);
	tu_done(done);
	xchan_pub_release(p);
	xchan_chan_release(src);
	xchan_chan_release(zero);
}

XTEST_MAIN()
