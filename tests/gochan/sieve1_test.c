/*
 * sieve1_test.c — after Go's test/chan/sieve1.go: the concurrent prime
 * sieve.  A generator task sends 2, 3, 4, ...; each prime found adds a
 * filter task between the last filter and the body; the first 25 primes
 * must come out.  Go leaves its goroutines blocked at exit; here they stop
 * on gochan.h's quit channel.
 */
#include "gochan.h"

static int32_t
generate(void *arg, xchan_val *res)
{
	xchan_chan *ch = arg;
	for (int64_t i = 2; send_q(ch, i); i++)
		;
	*res = xchan_val_nil();
	return XCHAN_OK;
}

typedef struct filter_arg {
	xchan_chan *in, *out;
	int64_t prime;
} filter_arg;

static int32_t
filter(void *arg, xchan_val *res)
{
	filter_arg *f = arg;
	int64_t i;
	while (recv_q(f->in, &i))
		if (i % f->prime != 0 && !send_q(f->out, i))
			break;
	*res = xchan_val_nil();
	return XCHAN_OK;
}

static xchan_chan *chans[26];
static int n_chans;

static void
release_chans(void)
{
	for (int i = 0; i < n_chans; i++)
		xchan_chan_release(chans[i]);
}

static int32_t
program(void *arg, xchan_val *res)
{
	(void)arg;
	static const int64_t want[25] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31,
	    37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97};
	static filter_arg filters[25];
	n_chans = 0;
	xchan_chan *ch = chan_(0);
	chans[n_chans++] = ch;
	go_(generate, ch);
	for (int i = 0; i < 25; i++) {
		int64_t prime = recv_(ch, NULL);
		XCHECK_EQ(prime, want[i]);
		xchan_chan *ch1 = chan_(0);
		chans[n_chans++] = ch1;
		filters[i] = (filter_arg) {ch, ch1, prime};
		go_(filter, &filters[i]);
		ch = ch1;
	}
	xchan_chan_close(gochan_quit);
	gochan_after = release_chans; /* once every task ended */
	*res = xchan_val_nil();
	return XCHAN_OK;
}

GOCHAN_TESTS(sieve1, program)

XTEST_MAIN()
