/* comb_mix_test.c — mix, admix, unmix, toggle, solo_mode (docs/semantics.md §4
 * cases 58-59). */
#include "comb_mix.h"
#include "comb_testutil.h"

/* Waits (with a deadline) until the mix has applied the last change. */
static int
settle(xchan_mix *m)
{
	xchan_deadline d = tu_dl();
	while (!xchan__mix_settled(m)) {
		if (xchan_now() > d)
			return 0;
		tu_sleep_ms(1);
	}
	return 1;
}

static uint64_t
count_of(xchan_chan *ch)
{
	xchan_chan_info info = {0};
	info.size = sizeof(info);
	xchan_chan_info_get(&info, ch);
	return info.count;
}

/* Waits (with a deadline) until `ch` holds no buffered value. */
static int
drained(xchan_chan *ch)
{
	xchan_deadline d = tu_dl();
	while (count_of(ch) != 0) {
		if (xchan_now() > d)
			return 0;
		tu_sleep_ms(1);
	}
	return 1;
}

/* 58: two admixed sources give the union of their values. */
XTEST(mix_union_of_inputs)
{
	xchan_chan *out = tu_chan(XCHAN_BUF_NONE, 0), *done = NULL;
	xchan_mix *m = NULL;
	XCHECK_ERR(xchan_mix_new(&m, &done, out), XCHAN_OK);
	xchan_chan *a = tu_range(0, 5), *b = tu_range(10, 15);
	XCHECK_ERR(xchan_mix_admix(m, a), XCHAN_OK);
	XCHECK_ERR(xchan_mix_admix(m, b), XCHAN_OK);
	int seen[15] = {0};
	for (int i = 0; i < 10; i++) {
		int32_t err;
		int64_t v = tu_take_int(out, &err);
		XCHECK_ERR(err, XCHAN_OK);
		if (v >= 0 && v < 15)
			seen[v]++;
	}
	for (int i = 0; i < 15; i++)
		XCHECK_EQ(seen[i], (i < 5 || i >= 10) ? 1 : 0);
	/* Both inputs closed and were removed; releasing the handle ends the
	 * mix, which never closes its output. */
	xchan_mix_release(m);
	tu_done(done);
	TU_EMPTY(out);
	xchan_chan_release(a);
	xchan_chan_release(b);
	xchan_chan_release(out);
}

/* 59, ASYNC-145: 2048 admixed inputs work. */
XTEST(mix_2048_inputs)
{
	enum { N = 2048 };
	xchan_chan *out = tu_chan(XCHAN_BUF_FIXED, 64), *done = NULL;
	xchan_mix *m = NULL;
	XCHECK_ERR(xchan_mix_new(&m, &done, out), XCHAN_OK);
	static xchan_chan *ins[N];
	for (int i = 0; i < N; i++) {
		ins[i] = tu_range(i, i + 1);
		XCHECK_ERR(xchan_mix_admix(m, ins[i]), XCHAN_OK);
	}
	static int seen[N];
	memset(seen, 0, sizeof(seen));
	int bad = 0;
	for (int i = 0; i < N; i++) {
		int32_t err;
		int64_t v = tu_take_int(out, &err);
		if (err != XCHAN_OK) {
			XCHECK_ERR(err, XCHAN_OK);
			break;
		}
		if (v >= 0 && v < N)
			seen[v]++;
		else
			bad++;
	}
	XCHECK_EQ(bad, 0);
	int missing = 0;
	for (int i = 0; i < N; i++)
		missing += seen[i] != 1;
	XCHECK_EQ(missing, 0);
	xchan_mix_release(m);
	tu_done(done);
	for (int i = 0; i < N; i++)
		xchan_chan_release(ins[i]);
	xchan_chan_release(out);
}

/* Fixture: a mix over two open buffered inputs a and b. */
typedef struct mixfx {
	xchan_chan *out, *a, *b, *done;
	xchan_mix *m;
} mixfx;

static void
fx_open(mixfx *f)
{
	f->out = tu_chan(XCHAN_BUF_NONE, 0);
	f->a = tu_chan(XCHAN_BUF_FIXED, 10);
	f->b = tu_chan(XCHAN_BUF_FIXED, 10);
	XCHECK_ERR(xchan_mix_new(&f->m, &f->done, f->out), XCHAN_OK);
	XCHECK_ERR(xchan_mix_admix(f->m, f->a), XCHAN_OK);
	XCHECK_ERR(xchan_mix_admix(f->m, f->b), XCHAN_OK);
}

static void
fx_toggle(mixfx *f, xchan_chan *ch, uint32_t mask, uint32_t flags)
{
	xchan_mix_toggle_entry e = {ch, mask, flags};
	XCHECK_ERR(xchan_mix_toggle(f->m, &e, 1), XCHAN_OK);
	XCHECK(settle(f->m));
}

static void
fx_close(mixfx *f)
{
	/* Closing the inputs removes them; the released handle ends it. */
	xchan_chan_close(f->a);
	xchan_chan_close(f->b);
	xchan_mix_release(f->m);
	tu_done(f->done);
	xchan_chan_release(f->a);
	xchan_chan_release(f->b);
	xchan_chan_release(f->out);
}

XTEST(mix_mute_drops)
{
	mixfx f;
	fx_open(&f);
	fx_toggle(&f, f.a, XCHAN_MIX_MUTE, XCHAN_MIX_MUTE);
	uint32_t flags = 0;
	XCHECK_ERR(xchan_mix_get(&flags, f.m, f.a), XCHAN_OK);
	XCHECK_EQ(flags, XCHAN_MIX_MUTE);
	XCHECK_ERR(xchan_put(f.a, xchan_val_int(1), tu_dl()), XCHAN_OK);
	XCHECK(drained(f.a)); /* muted inputs are still read */
	XCHECK_ERR(xchan_put(f.b, xchan_val_int(2), tu_dl()), XCHAN_OK);
	TU_TAKE_EQ(f.out, 2);
	fx_toggle(&f, f.a, XCHAN_MIX_MUTE, 0);
	XCHECK_ERR(xchan_put(f.a, xchan_val_int(3), tu_dl()), XCHAN_OK);
	TU_TAKE_EQ(f.out, 3);
	fx_close(&f);
}

XTEST(mix_pause_holds)
{
	mixfx f;
	fx_open(&f);
	fx_toggle(&f, f.a, XCHAN_MIX_PAUSE, XCHAN_MIX_PAUSE);
	XCHECK_ERR(xchan_put(f.a, xchan_val_int(1), tu_dl()), XCHAN_OK);
	XCHECK_ERR(xchan_put(f.b, xchan_val_int(2), tu_dl()), XCHAN_OK);
	TU_TAKE_EQ(f.out, 2);
	XCHECK_EQ(count_of(f.a), 1); /* paused: not read */
	fx_toggle(&f, f.a, XCHAN_MIX_PAUSE, 0);
	TU_TAKE_EQ(f.out, 1);
	fx_close(&f);
}

XTEST(mix_solo_mute_mode)
{
	mixfx f;
	fx_open(&f);
	fx_toggle(&f, f.a, XCHAN_MIX_SOLO, XCHAN_MIX_SOLO);
	XCHECK_ERR(xchan_put(f.b, xchan_val_int(1), tu_dl()), XCHAN_OK);
	XCHECK(drained(f.b)); /* non-solo inputs are muted: read, dropped */
	XCHECK_ERR(xchan_put(f.a, xchan_val_int(2), tu_dl()), XCHAN_OK);
	TU_TAKE_EQ(f.out, 2);
	TU_EMPTY(f.out);
	fx_close(&f);
}

XTEST(mix_solo_pause_mode)
{
	mixfx f;
	fx_open(&f);
	XCHECK_ERR(xchan_mix_solo_mode(f.m, XCHAN_MIX_SOLO_PAUSE), XCHAN_OK);
	XCHECK_ERR(xchan_mix_solo_mode(f.m, 7), XCHAN_EINVAL);
	/* Solo a and b atomically, then unsolo b. */
	xchan_mix_toggle_entry e[2] = {{f.a, XCHAN_MIX_SOLO, XCHAN_MIX_SOLO},
	    {f.b, XCHAN_MIX_SOLO, XCHAN_MIX_SOLO}};
	XCHECK_ERR(xchan_mix_toggle(f.m, e, 2), XCHAN_OK);
	fx_toggle(&f, f.b, XCHAN_MIX_SOLO, 0);
	XCHECK_ERR(xchan_put(f.b, xchan_val_int(1), tu_dl()), XCHAN_OK);
	XCHECK_ERR(xchan_put(f.a, xchan_val_int(2), tu_dl()), XCHAN_OK);
	TU_TAKE_EQ(f.out, 2);
	XCHECK_EQ(count_of(f.b), 1); /* paused, not dropped */
	fx_toggle(&f, f.a, XCHAN_MIX_SOLO, 0);
	TU_TAKE_EQ(f.out, 1);
	fx_close(&f);
}

XTEST(mix_unmix_and_toggle_adds)
{
	mixfx f;
	fx_open(&f);
	XCHECK_ERR(xchan_mix_unmix(f.m, f.a), XCHAN_OK);
	XCHECK(settle(f.m));
	uint32_t flags;
	XCHECK_ERR(xchan_mix_get(&flags, f.m, f.a), XCHAN_EINVAL);
	XCHECK_ERR(xchan_put(f.a, xchan_val_int(1), tu_dl()), XCHAN_OK);
	XCHECK_ERR(xchan_put(f.b, xchan_val_int(2), tu_dl()), XCHAN_OK);
	TU_TAKE_EQ(f.out, 2);
	XCHECK_EQ(count_of(f.a), 1);
	/* toggle of a channel not in the mix adds it. */
	fx_toggle(&f, f.a, XCHAN_MIX_MUTE, 0);
	TU_TAKE_EQ(f.out, 1);
	XCHECK_ERR(xchan_mix_unmix_all(f.m), XCHAN_OK);
	XCHECK(settle(f.m));
	XCHECK_ERR(xchan_put(f.b, xchan_val_int(3), tu_dl()), XCHAN_OK);
	TU_EMPTY(f.out);
	XCHECK_EQ(count_of(f.b), 1);
	xchan_mix_toggle_entry bad = {f.a, 8, 0};
	XCHECK_ERR(xchan_mix_toggle(f.m, &bad, 1), XCHAN_EINVAL);
	fx_close(&f);
}

/* The mix ends when its output closes; later control calls say so. */
XTEST(mix_ends_when_out_closes)
{
	xchan_chan *out = tu_chan(XCHAN_BUF_NONE, 0),
	           *a = tu_chan(XCHAN_BUF_FIXED, 4), *done = NULL;
	xchan_mix *m = NULL;
	XCHECK_ERR(xchan_mix_new(&m, &done, out), XCHAN_OK);
	XCHECK_ERR(xchan_mix_admix(m, a), XCHAN_OK);
	xchan_chan_close(out);
	XCHECK_ERR(xchan_put(a, xchan_val_int(1), tu_dl()), XCHAN_OK);
	tu_done(done);
	XCHECK_ERR(xchan_mix_admix(m, a), XCHAN_ECLOSED);
	xchan_mix_release(m);
	xchan_chan_release(a);
	xchan_chan_release(out);
}

XTEST(mix_release_without_inputs_ends)
{
	xchan_chan *out = tu_chan(XCHAN_BUF_NONE, 0), *done = NULL;
	xchan_mix *m = NULL;
	XCHECK_ERR(xchan_mix_new(&m, &done, out), XCHAN_OK);
	xchan_mix_release(m);
	tu_done(done);
	xchan_chan_release(out);
}

/* Control calls race with mixing: a thread toggles mute/pause/solo on
 * input a while 1000 values flow through each of a and b; b is never
 * touched, so all its values arrive, in order. */
typedef struct togglechurn {
	xchan_mix *m;
	xchan_chan *a;
	_Atomic int *stop;
} togglechurn;

static int32_t
togglechurn_run(void *arg, xchan_val *result)
{
	togglechurn *c = arg;
	*result = xchan_val_nil();
	for (uint32_t k = 0; !atomic_load(c->stop); k++) {
		xchan_mix_toggle_entry e = {c->a,
		    XCHAN_MIX_MUTE | XCHAN_MIX_PAUSE,
		    k & (XCHAN_MIX_MUTE | XCHAN_MIX_PAUSE)};
		xchan_mix_toggle(c->m, &e, 1);
		xchan_mix_solo_mode(c->m, k % 2);
	}
	/* Leave a audible so that its values drain. */
	xchan_mix_toggle_entry e = {c->a, XCHAN_MIX_MUTE | XCHAN_MIX_PAUSE, 0};
	xchan_mix_toggle(c->m, &e, 1);
	return XCHAN_OK;
}

XTEST(mix_concurrent_toggle)
{
	xchan_chan *out = tu_chan(XCHAN_BUF_FIXED, 8), *done = NULL, *t = NULL;
	xchan_mix *m = NULL;
	XCHECK_ERR(xchan_mix_new(&m, &done, out), XCHAN_OK);
	xchan_chan *a = tu_range(0, 1000), *b = tu_range(1000, 2000);
	XCHECK_ERR(xchan_mix_admix(m, a), XCHAN_OK);
	XCHECK_ERR(xchan_mix_admix(m, b), XCHAN_OK);
	_Atomic int stop = 0;
	togglechurn c = {m, a, &stop};
	XCHECK_ERR(xchan_thread(&t, togglechurn_run, &c, NULL), XCHAN_OK);
	int64_t next_b = 1000, next_a = 0;
	int bad = 0;
	while (next_b < 2000) {
		int32_t err;
		int64_t v = tu_take_int(out, &err);
		if (err != XCHAN_OK) {
			XCHECK_ERR(err, XCHAN_OK);
			break;
		}
		if (v >= 1000)
			bad += v != next_b++;
		else if (v >= next_a) /* muted values are skipped */
			next_a = v + 1;
		else
			bad++;
	}
	XCHECK_EQ(bad, 0);
	atomic_store(&stop, 1);
	tu_done(t);
	/* Release the handle and drain `out` until the mix ends (its inputs
	 * drain and close once a is audible again). */
	xchan_mix_release(m);
	xchan_deadline d = tu_dl();
	int ended = 0;
	while (!ended && xchan_now() < d) {
		xchan_val v;
		while (xchan_poll(&v, out) == XCHAN_OK)
			xchan_val_release(v);
		ended = xchan_take(&v, done, xchan_deadline_in_ms(20)) ==
		        XCHAN_ECLOSED;
	}
	XCHECK(ended);
	xchan_chan_release(done);
	xchan_chan_release(a);
	xchan_chan_release(b);
	xchan_chan_release(out);
}

XTEST_MAIN()
