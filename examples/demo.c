/*
 * demo.c — xchan at work, in six short scenes.
 *
 *   1. producer/consumer over a buffered channel (an OS thread puts, the
 *      main thread takes until the channel is closed and drained);
 *   2. alts over two channels with a timeout channel, a deadline and :default;
 *   3. two go tasks playing ping-pong, parking on unbuffered channels;
 *   4. a transducer channel: map, filter and partition_all;
 *   5. a promise channel: the first value, for every taker, for ever;
 *   6. async takes: a callback run by the putter, a cancel that loses
 *      nothing, and a callback run on the dispatch executor.
 *
 * Only the public header is used, as a program outside the tree would.
 * Every call is checked: the demo exits non-zero on any surprise.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xchan/xchan.h>

static pthread_t main_thread;

static void
fail(const char *what, int32_t got, int32_t want, int line)
{
	fflush(stdout);
	fprintf(stderr, "demo.c:%d: %s returned %s (%s), expected %s\n", line,
	    what, xchan_err_name(got), xchan_strerror(got),
	    xchan_err_name(want));
	exit(1);
}

/* EXPECT(call, code): the call must return `code`. */
#define EXPECT(call, code)                                                     \
	do {                                                                   \
		int32_t rc_ = (call);                                          \
		if (rc_ != (code))                                             \
			fail(#call, rc_, (code), __LINE__);                    \
	} while (0)
#define CHECK(call) EXPECT(call, XCHAN_OK)

static xchan_val
str(const char *s)
{
	xchan_val v;

	CHECK(xchan_val_string(&v, s, strlen(s)));
	return v;
}

/* Prints `v` the way Clojure would: 42, "hi", [1 2 3], nil. */
static void
show(xchan_val v)
{
	const char *s;
	const xchan_val *items;
	size_t len, i;
	int64_t n;

	switch (v.kind) {
	case XCHAN_INT:
		CHECK(xchan_get_int(v, &n));
		printf("%" PRId64, n);
		break;
	case XCHAN_STRING:
		CHECK(xchan_get_string(v, &s, &len));
		printf("\"%.*s\"", (int)len, s);
		break;
	case XCHAN_ARRAY:
		CHECK(xchan_get_array(v, &items, &len));
		printf("[");
		for (i = 0; i < len; i++) {
			if (i > 0)
				printf(" ");
			show(items[i]);
		}
		printf("]");
		break;
	case XCHAN_NIL:
		printf("nil");
		break;
	default:
		printf("#<%s>", xchan_kind_name(v.kind));
	}
}

static const char *
who(void)
{
	if (pthread_equal(pthread_self(), main_thread))
		return "the main thread";
	return "another thread";
}

/* Sleeps the core.async way: (<!! (timeout ms)).  Parks inside go. */
static void
sleep_ms(int64_t ms)
{
	xchan_chan *t;
	xchan_val v;

	CHECK(xchan_timeout(&t, ms));
	EXPECT(xchan_take(&v, t, XCHAN_DEADLINE_NEVER), XCHAN_ECLOSED);
	xchan_chan_release(t);
}

/* Waits for a task's result channel and returns the task's value; a task
 * that returned nil closes its channel without a value (nil here too). */
static xchan_val
join(xchan_chan *result)
{
	xchan_val v;
	int32_t rc;

	rc = xchan_take(&v, result, XCHAN_DEADLINE_NEVER);
	if (rc != XCHAN_ECLOSED)
		EXPECT(rc, XCHAN_OK);
	xchan_chan_release(result);
	return v;
}

/* ---- 1. producer/consumer -------------------------------------------- */

static int32_t
producer(void *arg, xchan_val *result)
{
	xchan_chan *ch = arg;
	int64_t i;

	for (i = 1; i <= 10; i++)
		CHECK(xchan_put(ch, xchan_val_int(i), XCHAN_DEADLINE_NEVER));
	CHECK(xchan_chan_close(ch));
	*result = xchan_val_int(10);
	return XCHAN_OK;
}

static void
scene_producer_consumer(void)
{
	xchan_chan *ch, *task;
	xchan_val v;
	int64_t n, sum = 0;
	int32_t rc;

	printf("\n1. producer/consumer over (chan 4)\n");
	CHECK(xchan_chan_make(&ch, XCHAN_BUF_FIXED, 4));
	CHECK(xchan_thread(&task, producer, ch, NULL));
	printf("   took:");
	while ((rc = xchan_take(&v, ch, XCHAN_DEADLINE_NEVER)) == XCHAN_OK) {
		CHECK(xchan_get_int(v, &n));
		printf(" %" PRId64, n);
		sum += n;
	}
	EXPECT(rc, XCHAN_ECLOSED);
	printf("\n   then the channel was closed and drained: sum %" PRId64
	       ", the producer put ",
	    sum);
	show(join(task));
	printf(" values\n");
	xchan_chan_release(ch);
}

/* ---- 2. alts with a timeout ------------------------------------------ */

static int32_t
slow_sender(void *arg, xchan_val *result)
{
	sleep_ms(20);
	CHECK(xchan_put(arg, str("b was first"), XCHAN_DEADLINE_NEVER));
	*result = xchan_val_nil();
	return XCHAN_OK;
}

static void
scene_alts(void)
{
	xchan_chan *a, *b, *t, *task;
	xchan_clause cl[3];
	xchan_result r;
	int64_t t0;

	printf("\n2. alts over two channels and a timeout\n");
	CHECK(xchan_chan_make(&a, XCHAN_BUF_NONE, 0));
	CHECK(xchan_chan_make(&b, XCHAN_BUF_NONE, 0));
	memset(cl, 0, sizeof(cl));
	cl[0].op = cl[1].op = cl[2].op = XCHAN_ALT_TAKE;
	cl[0].chan = a;
	cl[1].chan = b;

	/* b gets a value after 20 ms: it wins against a 1 s timeout. */
	CHECK(xchan_thread(&task, slow_sender, b, NULL));
	CHECK(xchan_timeout(&t, 1000));
	cl[2].chan = t;
	CHECK(xchan_alts(&r, cl, 3, 0, XCHAN_DEADLINE_NEVER));
	printf("   (alts! [a b (timeout 1000)]) -> clause %d: ", r.index);
	show(r.val);
	printf("\n");
	xchan_val_release(r.val);
	xchan_val_release(join(task));
	xchan_chan_release(t);

	/* Nobody sends now: the 50 ms timeout channel closes and wins. */
	t0 = xchan_now();
	CHECK(xchan_timeout(&t, 50));
	cl[2].chan = t;
	EXPECT(xchan_alts(&r, cl, 3, 0, XCHAN_DEADLINE_NEVER), XCHAN_ECLOSED);
	printf("   (alts! [a b (timeout 50)])   -> clause %d (the timeout) "
	       "closed after %" PRId64 " ms\n",
	    r.index, (xchan_now() - t0) / 1000000);
	xchan_chan_release(t);

	/* The same with a deadline instead of a channel, then :default. */
	EXPECT(xchan_alts(&r, cl, 2, 0, xchan_deadline_in_ms(30)),
	    XCHAN_ETIMEDOUT);
	printf("   alts with a 30 ms deadline   -> %s, index %d\n",
	    xchan_err_name(r.err), r.index);
	EXPECT(xchan_alts(&r, cl, 2, 0, XCHAN_DEADLINE_POLL), XCHAN_EAGAIN);
	printf("   alts with :default (POLL)    -> %s, index %d\n",
	    xchan_err_name(r.err), r.index);
	xchan_chan_release(a);
	xchan_chan_release(b);
}

/* ---- 3. go ping-pong ---------------------------------------------------- */

struct player {
	xchan_chan *in, *out;
	int64_t rounds;
};

/* Serves the ball `rounds` times; every take and put parks the go task. */
static int32_t
ping(void *arg, xchan_val *result)
{
	struct player *p = arg;
	xchan_val v;
	const xchan_deadline never = XCHAN_DEADLINE_NEVER;
	int64_t i;

	for (i = 0; i < p->rounds; i++) {
		CHECK(xchan_put(p->out, xchan_val_int(i), never));
		CHECK(xchan_take(&v, p->in, never));
	}
	CHECK(xchan_chan_close(p->out));
	*result = xchan_val_int(xchan_in_go());
	return XCHAN_OK;
}

/* Returns every ball, one more than it got, until ping closes the table. */
static int32_t
pong(void *arg, xchan_val *result)
{
	struct player *p = arg;
	xchan_val v;
	int64_t n, hits = 0;
	int32_t rc;

	while ((rc = xchan_take(&v, p->in, XCHAN_DEADLINE_NEVER)) == XCHAN_OK) {
		CHECK(xchan_get_int(v, &n));
		CHECK(xchan_put(p->out, xchan_val_int(n + 1),
		    XCHAN_DEADLINE_NEVER));
		hits++;
	}
	EXPECT(rc, XCHAN_ECLOSED);
	*result = xchan_val_int(hits);
	return XCHAN_OK;
}

static void
scene_ping_pong(void)
{
	xchan_chan *to_pong, *to_ping, *t_ping, *t_pong;
	struct player p1, p2;
	xchan_go_opts o1 = {sizeof(o1), 0, "ping", 0};
	xchan_go_opts o2 = {sizeof(o2), 0, "pong", 0};
	const int64_t rounds = 100000;
	int64_t t0, ns, in_go, hits;

	printf("\n3. two go tasks play ping-pong over unbuffered channels\n");
	CHECK(xchan_chan_make(&to_pong, XCHAN_BUF_NONE, 0));
	CHECK(xchan_chan_make(&to_ping, XCHAN_BUF_NONE, 0));
	p1 = (struct player) {to_ping, to_pong, rounds};
	p2 = (struct player) {to_pong, to_ping, 0};
	t0 = xchan_now();
	CHECK(xchan_go(&t_pong, pong, &p2, &o2));
	CHECK(xchan_go(&t_ping, ping, &p1, &o1));
	CHECK(xchan_get_int(join(t_ping), &in_go));
	CHECK(xchan_get_int(join(t_pong), &hits));
	ns = xchan_now() - t0;
	printf("   %" PRId64 " round trips in %" PRId64 " ms (%" PRId64
	       " ns each); pong hit %" PRId64 " balls\n",
	    rounds, ns / 1000000, ns / rounds, hits);
	printf("   inside ping, xchan_in_go() said %" PRId64 "\n", in_go);
	xchan_chan_release(to_pong);
	xchan_chan_release(to_ping);
}

/* ---- 4. transducer channel -------------------------------------------- */

static xchan_val
square(void *user, xchan_val in)
{
	int64_t n = 0;

	(void)user;
	xchan_get_int(in, &n);
	return xchan_val_int(n * n);
}

static int32_t
is_even(void *user, xchan_val in)
{
	int64_t n = 1;

	(void)user;
	xchan_get_int(in, &n);
	return n % 2 == 0;
}

static void
scene_transducer(void)
{
	xchan_xform *steps[3], *xf;
	xchan_chan_opts opts;
	xchan_chan *ch;
	xchan_val v;
	int64_t i;
	int32_t rc;

	printf("\n4. (chan 8 (comp (map square) (filter even?) "
	       "(partition-all 3)))\n");
	CHECK(xchan_xform_map(&steps[0], square, NULL));
	CHECK(xchan_xform_filter(&steps[1], is_even, NULL));
	CHECK(xchan_xform_partition_all(&steps[2], 3));
	CHECK(xchan_xform_comp(&xf, steps, 3));
	memset(&opts, 0, sizeof(opts));
	opts.size = sizeof(opts);
	opts.buf_kind = XCHAN_BUF_FIXED;
	opts.capacity = 8;
	opts.xform = xf;
	CHECK(xchan_chan_new(&ch, &opts));

	printf("   put 1..10, close; took:");
	for (i = 1; i <= 10; i++)
		CHECK(xchan_put(ch, xchan_val_int(i), XCHAN_DEADLINE_NEVER));
	/* Close runs the completion: partition-all flushes its last batch. */
	CHECK(xchan_chan_close(ch));
	while ((rc = xchan_take(&v, ch, XCHAN_DEADLINE_NEVER)) == XCHAN_OK) {
		printf(" ");
		show(v);
		xchan_val_release(v);
	}
	EXPECT(rc, XCHAN_ECLOSED);
	printf("\n");
	xchan_chan_release(ch);
}

/* ---- 5. promise channel ------------------------------------------------ */

static void
scene_promise(void)
{
	xchan_chan *p;
	xchan_val v;
	int i;

	printf("\n5. a promise channel\n");
	CHECK(xchan_chan_make(&p, XCHAN_BUF_PROMISE, 0));
	CHECK(xchan_put(p, str("the answer is 42"), XCHAN_DEADLINE_NEVER));
	/* Later puts succeed and are dropped (released by the channel). */
	CHECK(xchan_put(p, str("a second opinion"), XCHAN_DEADLINE_NEVER));
	for (i = 1; i <= 3; i++) {
		CHECK(xchan_take(&v, p, XCHAN_DEADLINE_NEVER));
		printf("   taker %d got ", i);
		show(v);
		printf("\n");
		xchan_val_release(v);
	}
	CHECK(xchan_chan_close(p));
	CHECK(xchan_take(&v, p, XCHAN_DEADLINE_POLL));
	printf("   after close, a taker still gets ");
	show(v);
	printf("\n");
	xchan_val_release(v);
	xchan_chan_release(p);
}

/* ---- 6. async take, callback, cancel ---------------------------------- */

struct waiter {
	const char *name;
	xchan_chan *done; /* gets one value when the callback has run */
};

static void
on_take(void *user, xchan_result *r)
{
	struct waiter *w = user;

	printf("   callback '%s' on %s: %s", w->name, who(),
	    xchan_err_name(r->err));
	if (r->err == XCHAN_OK) {
		printf(", value ");
		show(r->val);
	}
	printf("\n");
	fflush(stdout);
	xchan_val_release(r->val);
	if (w->done != NULL)
		CHECK(xchan_offer(w->done, xchan_val_bool(1)));
}

static void
scene_async(void)
{
	struct waiter w1 = {"first", NULL}, w2 = {"second", NULL};
	struct waiter w3 = {"dispatched", NULL};
	xchan_chan *ch;
	xchan_op *op;
	xchan_val v;

	printf("\n6. async takes with a callback, and a cancel\n");
	CHECK(xchan_chan_make(&ch, XCHAN_BUF_NONE, 0));

	/* A pending take; the put completes it and runs the callback
	 * inline, on the putting thread, before xchan_put returns. */
	CHECK(xchan_take_async(&op, ch, 0, on_take, &w1));
	printf("   take! is pending (op handle %s); putting \"hello\"\n",
	    op != NULL ? "returned" : "NULL");
	CHECK(xchan_put(ch, str("hello"), XCHAN_DEADLINE_POLL));
	/* It completed: cancelling now reports that and loses nothing. */
	if (op != NULL) {
		EXPECT(xchan_op_cancel(op), XCHAN_EDONE);
		xchan_op_release(op);
	}

	/* Cancel wins: the callback runs now with ECANCELED, and a later
	 * put finds no taker. */
	CHECK(xchan_take_async(&op, ch, 0, on_take, &w2));
	printf("   second take! is pending; cancelling it\n");
	CHECK(xchan_op_cancel(op));
	xchan_op_release(op);
	EXPECT(xchan_offer(ch, xchan_val_int(1)), XCHAN_EAGAIN);
	printf("   an offer! after the cancel finds no taker: EAGAIN\n");

	/* XCHAN_ASYNC_DISPATCH: the callback runs on a dispatch worker. */
	CHECK(xchan_chan_make(&w3.done, XCHAN_BUF_FIXED, 1));
	CHECK(xchan_take_async(NULL, ch, XCHAN_ASYNC_DISPATCH, on_take, &w3));
	CHECK(xchan_put(ch, xchan_val_int(7), XCHAN_DEADLINE_NEVER));
	CHECK(xchan_take(&v, w3.done, xchan_deadline_in_ms(5000)));
	xchan_chan_release(w3.done);
	xchan_chan_release(ch);
}

int
main(void)
{
	main_thread = pthread_self();
	setvbuf(stdout, NULL, _IOLBF, 0);
	EXPECT(xchan_check_version(XCHAN_VERSION_NUMBER), XCHAN_OK);
	printf("xchan %s demo\n", xchan_version_string());

	scene_producer_consumer();
	scene_alts();
	scene_ping_pong();
	scene_transducer();
	scene_promise();
	scene_async();

	CHECK(xchan_shutdown());
	printf("\ndone: every scene behaved as core.async would.\n");
	return 0;
}
