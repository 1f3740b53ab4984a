/*
 * nonblock_test.c — after Go's test/chan/nonblock.go: non-blocking sends and
 * receives (offer and poll) on unbuffered and one-slot channels, with values
 * of several kinds.  Each round: poll on an empty channel gives EAGAIN; a
 * receiver task waits, and an offer succeeds once it is waiting; a sender
 * task sends, and a poll succeeds once the value is there.  Where Go sleeps
 * and hopes, this retries against a deadline (sleeping as a goroutine does:
 * parked on a timeout channel).
 */
#include "gochan.h"

typedef struct pair {
	xchan_chan *c, *sync;
	xchan_val want; /* what the receiver must get */
	xchan_val send; /* what the sender sends */
} pair;

static int32_t
receiver(void *arg, xchan_val *res)
{
	pair *p = arg;
	xchan_val v;
	XCHECK_ERR(xchan_take(&v, p->c, XCHAN_DEADLINE_NEVER), XCHAN_OK);
	XCHECK(xchan_val_equal(v, p->want));
	xchan_val_release(v);
	send_(p->sync, 1);
	*res = xchan_val_nil();
	return XCHAN_OK;
}

static int32_t
sender(void *arg, xchan_val *res)
{
	pair *p = arg;
	XCHECK_ERR(xchan_put(p->c, xchan_val_retain(p->send),
	               XCHAN_DEADLINE_NEVER),
	    XCHAN_OK);
	send_(p->sync, 1);
	*res = xchan_val_nil();
	return XCHAN_OK;
}

/* Retries fn until it stops answering EAGAIN, for 10 s at most. */
static int32_t
offer_until(xchan_chan *c, xchan_val v)
{
	int64_t end = xt_deadline_s(10);
	int32_t err;
	while ((err = xchan_offer(c, xchan_val_retain(v))) == XCHAN_EAGAIN &&
	       xchan_now() < end) {
		xchan_val_release(v); /* the retained copy stayed ours */
		sleep_(1);
	}
	if (err != XCHAN_OK)
		xchan_val_release(v);
	return err;
}

static int32_t
poll_until(xchan_chan *c, xchan_val *out)
{
	int64_t end = xt_deadline_s(10);
	int32_t err;
	while ((err = xchan_poll(out, c)) == XCHAN_EAGAIN && xchan_now() < end)
		sleep_(1);
	return err;
}

static void
round_of(int buffer, xchan_val a, xchan_val b, xchan_chan *sync)
{
	xchan_chan *c = chan_((uint64_t)buffer);
	pair p = {c, sync, a, b};
	xchan_val v;
	XCHECK_ERR(xchan_poll(&v, c), XCHAN_EAGAIN);

	go_(receiver, &p);
	if (buffer == 0) /* an offer succeeds only once someone waits */
		XCHECK_ERR(offer_until(c, a), XCHAN_OK);
	else
		XCHECK_ERR(xchan_offer(c, xchan_val_retain(a)), XCHAN_OK);
	recv_(sync, NULL);

	go_(sender, &p);
	if (buffer > 0)
		recv_(sync, NULL);
	XCHECK_ERR(poll_until(c, &v), XCHAN_OK);
	XCHECK(xchan_val_equal(v, b));
	xchan_val_release(v);
	if (buffer == 0)
		recv_(sync, NULL);
	xchan_chan_release(c);
}

static int32_t
program(void *arg, xchan_val *res)
{
	(void)arg;
	xchan_chan *sync = chan_(0);
	xchan_val s1, s2;
	XCHECK_ERR(xchan_val_string(&s1, "hello", 5), XCHAN_OK);
	XCHECK_ERR(xchan_val_string(&s2, "hello again", 11), XCHAN_OK);
	for (int buffer = 0; buffer < 2; buffer++) {
		round_of(buffer, xchan_val_int(123), xchan_val_int(234), sync);
		round_of(buffer, xchan_val_int(123456), xchan_val_int(234567),
		    sync);
		round_of(buffer, xchan_val_bool(1), xchan_val_bool(1), sync);
		round_of(buffer, xchan_val_double(1.5), xchan_val_double(-2.5),
		    sync);
		round_of(buffer, s1, s2, sync);
	}
	xchan_val_release(s1);
	xchan_val_release(s2);
	xchan_chan_release(sync);
	*res = xchan_val_nil();
	return XCHAN_OK;
}

GOCHAN_TESTS(nonblock, program)

XTEST_MAIN()
