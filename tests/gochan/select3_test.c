/*
 * select3_test.c — after Go's test/chan/select3.go: which operations block
 * and which never do.  Each case runs in its own task; "blocks" means it has
 * not finished after 100 ms (then the test closes its channel to release
 * it, and it must finish); "never blocks" means it finishes within 5 s.
 * Go's nil channels and empty select block for ever; xchan has no nil
 * channel, and gives the documented XCHAN_EINVAL at once instead.  Go
 * panics on a send to a closed channel; xchan answers XCHAN_ECLOSED.
 */
#include "gochan.h"

typedef struct tcase {
	const char *name;
	int blocks;
	void (*fn)(xchan_chan *ch, xchan_chan *closedch);
} tcase;

typedef struct run {
	const tcase *t;
	xchan_chan *ch, *closedch, *done;
} run;

static int32_t
runner(void *arg, xchan_val *res)
{
	run *r = arg;
	r->t->fn(r->ch, r->closedch);
	send_(r->done, 1);
	*res = xchan_val_nil();
	return XCHAN_OK;
}

static void
take_blocks(xchan_chan *ch, xchan_chan *closedch)
{
	xchan_val v;
	(void)closedch;
	XCHECK_ERR(xchan_take(&v, ch, XCHAN_DEADLINE_NEVER), XCHAN_ECLOSED);
}

static void
put_with_room(xchan_chan *ch, xchan_chan *closedch)
{
	(void)ch;
	(void)closedch;
	xchan_chan *b = chan_(1);
	send_(b, 7);
	xchan_chan_release(b);
}

static void
take_closed(xchan_chan *ch, xchan_chan *closedch)
{
	(void)ch;
	for (int i = 0; i < 10; i++) {
		xchan_val v = xchan_val_int(5);
		XCHECK_ERR(xchan_take(&v, closedch, XCHAN_DEADLINE_NEVER),
		    XCHAN_ECLOSED);
		XCHECK(v.kind == XCHAN_NIL);
	}
}

static void
put_closed(xchan_chan *ch, xchan_chan *closedch)
{
	(void)ch;
	XCHECK_ERR(xchan_put(closedch, xchan_val_int(7), XCHAN_DEADLINE_NEVER),
	    XCHAN_ECLOSED);
}

static void
nil_channel(xchan_chan *ch, xchan_chan *closedch)
{
	(void)ch;
	(void)closedch;
	xchan_val v;
	XCHECK_ERR(xchan_put(NULL, xchan_val_int(7), XCHAN_DEADLINE_NEVER),
	    XCHAN_EINVAL);
	XCHECK_ERR(xchan_take(&v, NULL, XCHAN_DEADLINE_NEVER), XCHAN_EINVAL);
	xchan_clause cl[2] = {take_clause_(NULL), put_clause_(NULL, 7)};
	xchan_result r;
	XCHECK_ERR(xchan_alts(&r, cl, 1, 0, XCHAN_DEADLINE_POLL), XCHAN_EINVAL);
	XCHECK_ERR(xchan_alts(&r, cl + 1, 1, 0, XCHAN_DEADLINE_NEVER),
	    XCHAN_EINVAL);
	XCHECK_ERR(xchan_alts(&r, cl, 2, 0, XCHAN_DEADLINE_NEVER),
	    XCHAN_EINVAL);
}

static void
empty_select(xchan_chan *ch, xchan_chan *closedch)
{
	(void)ch;
	(void)closedch;
	xchan_result r;
	xchan_clause cl[1] = {take_clause_(ch)};
	XCHECK_ERR(xchan_alts(&r, cl, 0, 0, XCHAN_DEADLINE_NEVER),
	    XCHAN_EINVAL);
}

static void
select_not_ready(xchan_chan *ch, xchan_chan *closedch)
{
	(void)closedch;
	xchan_clause cl[1] = {take_clause_(ch)};
	xchan_result r;
	XCHECK_ERR(xchan_alts(&r, cl, 1, 0, XCHAN_DEADLINE_NEVER),
	    XCHAN_ECLOSED);
}

static void
select_default(xchan_chan *ch, xchan_chan *closedch)
{
	(void)closedch;
	xchan_clause cl[2] = {take_clause_(ch), put_clause_(ch, 7)};
	xchan_result r;
	XCHECK_ERR(xchan_alts(&r, cl, 2, 0, XCHAN_DEADLINE_POLL), XCHAN_EAGAIN);
	XCHECK_EQ(r.index, -1);
}

static void
select_ready(xchan_chan *ch, xchan_chan *closedch)
{
	(void)ch;
	(void)closedch;
	xchan_chan *b = chan_(1);
	xchan_clause cl[1] = {put_clause_(b, 7)};
	xchan_result r;
	XCHECK_ERR(xchan_alts(&r, cl, 1, 0, XCHAN_DEADLINE_POLL), XCHAN_OK);
	cl[0] = take_clause_(b);
	XCHECK_ERR(xchan_alts(&r, cl, 1, 0, XCHAN_DEADLINE_POLL), XCHAN_OK);
	int64_t i = 0;
	XCHECK_ERR(xchan_get_int(r.val, &i), XCHAN_OK);
	XCHECK_EQ(i, 7);
	xchan_chan_release(b);
}

static void
select_closed(xchan_chan *ch, xchan_chan *closedch)
{
	(void)ch;
	xchan_clause cl[1] = {take_clause_(closedch)};
	xchan_result r;
	XCHECK_ERR(xchan_alts(&r, cl, 1, 0, XCHAN_DEADLINE_NEVER),
	    XCHAN_ECLOSED);
	XCHECK_EQ(r.index, 0);
	cl[0] = put_clause_(closedch, 7);
	XCHECK_ERR(xchan_alts(&r, cl, 1, 0, XCHAN_DEADLINE_NEVER),
	    XCHAN_ECLOSED);
	XCHECK_EQ(r.index, 0);
}

/* An alts must not match its own put with its own take. */
static void
select_sees_itself(xchan_chan *ch, xchan_chan *closedch)
{
	(void)closedch;
	xchan_clause cl[2] = {put_clause_(ch, 1), take_clause_(ch)};
	xchan_result r;
	XCHECK_ERR(xchan_alts(&r, cl, 2, 0, XCHAN_DEADLINE_NEVER),
	    XCHAN_ECLOSED);
}

static const tcase cases[] = {
    {"receive from a channel nobody sends on", 1, take_blocks},
    {"send with buffer room", 0, put_with_room},
    {"receive from a closed channel", 0, take_closed},
    {"send to a closed channel", 0, put_closed},
    {"nil channel: EINVAL", 0, nil_channel},
    {"empty select: EINVAL", 0, empty_select},
    {"select on a channel that is not ready", 1, select_not_ready},
    {"select with a default", 0, select_default},
    {"select on ready channels", 0, select_ready},
    {"select on a closed channel", 0, select_closed},
    {"select that sees itself", 1, select_sees_itself},
};

static int32_t
program(void *arg, xchan_val *res)
{
	(void)arg;
	xchan_chan *closedch = chan_(0);
	xchan_chan_close(closedch);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run r = {&cases[i], chan_(0), closedch, chan_(1)};
		go_(runner, &r);
		xchan_val v;
		int32_t err = xchan_take(&v, r.done,
		    xchan_deadline_in_ms(cases[i].blocks ? 100 : 5000));
		if ((err == XCHAN_OK) == cases[i].blocks)
			fprintf(stderr, "  select3: \"%s\" %s\n", cases[i].name,
			    cases[i].blocks ? "did not block" : "blocked");
		XCHECK_EQ(err == XCHAN_OK, !cases[i].blocks);
		if (cases[i].blocks) { /* release it */
			xchan_chan_close(r.ch);
			XCHECK_ERR(xchan_take(&v, r.done, xt_deadline_s(5)),
			    XCHAN_OK);
		}
		xchan_chan_release(r.ch);
		xchan_chan_release(r.done);
	}
	xchan_chan_release(closedch);
	*res = xchan_val_nil();
	return XCHAN_OK;
}

GOCHAN_TESTS(select3, program)

XTEST_MAIN()
