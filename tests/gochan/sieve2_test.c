/*
 * sieve2_test.c — after Go's test/chan/sieve2.go: an Eratosthenes sieve over
 * odd candidates.  Tasks generate the odd numbers and, for each prime p, its
 * odd multiples from p*p; a merging task keeps the multiple streams in a
 * heap ordered by their next value and sends every composite, in order, to
 * the sieving task, which passes the candidates that are not composites as
 * primes: to the output and, through a proxy task with an unbounded queue
 * (so the feedback loop cannot deadlock), back to the merger.  The first 25
 * primes must come out.  Every task stops on gochan.h's quit channel.
 */
#include "gochan.h"

typedef struct gen {
	xchan_chan *out;
	int64_t start, step;
} gen;

/* Sends start, start + step, ... until quit; owns one reference to out. */
static int32_t
generator(void *arg, xchan_val *res)
{
	gen *g = arg;
	for (int64_t n = g->start; send_q(g->out, n); n += g->step)
		;
	xchan_chan_release(g->out);
	free(g);
	*res = xchan_val_nil();
	return XCHAN_OK;
}

/* A new channel (buffer cap) fed by a generator; the caller owns it. */
static xchan_chan *
counting(uint64_t cap, int64_t start, int64_t step)
{
	gen *g = malloc(sizeof(*g));
	xchan_chan *c = chan_(cap);
	*g = (gen) {xchan_chan_retain(c), start, step};
	go_(generator, g);
	return c;
}

/* ---- the proxy: an unbounded buffer in front of `out` ----------------- */

typedef struct proxy_arg {
	xchan_chan *in, *out;
} proxy_arg;

static int32_t
proxy(void *arg, xchan_val *res)
{
	proxy_arg *p = arg;
	int64_t *q = NULL;
	size_t head = 0, n = 0, cap = 0;
	for (;;) {
		xchan_clause cl[3];
		size_t k = 0;
		cl[k++] = take_clause_(p->in);
		cl[k++] = take_clause_(gochan_quit);
		if (n > 0) /* buffer empty: output disabled (Go: nil chan) */
			cl[k++] = put_clause_(p->out, q[head]);
		xchan_result r;
		xchan_alts(&r, cl, k, 0, XCHAN_DEADLINE_NEVER);
		if (r.index == 1 || r.err != XCHAN_OK)
			break;
		if (r.index == 2) {
			head++;
			n--;
			continue;
		}
		int64_t e = 0;
		xchan_get_int(r.val, &e);
		if (head + n == cap) { /* grow (and compact) */
			if (n > 0)
				memmove(q, q + head, n * sizeof(*q));
			head = 0;
			if (n == cap) {
				cap = cap ? 2 * cap : 16;
				q = realloc(q, cap * sizeof(*q));
			}
		}
		q[head + n++] = e;
	}
	free(q);
	xchan_chan_release(p->in);
	xchan_chan_release(p->out);
	free(p);
	*res = xchan_val_nil();
	return XCHAN_OK;
}

static xchan_chan *
sendproxy(xchan_chan *out)
{
	proxy_arg *p = malloc(sizeof(*p));
	xchan_chan *in = chan_(10);
	*p = (proxy_arg) {xchan_chan_retain(in), xchan_chan_retain(out)};
	go_(proxy, p);
	return in;
}

/* ---- the merger: composites in increasing order ------------------------ */

typedef struct peek {
	int64_t head;
	xchan_chan *ch;
} peek;

typedef struct heap {
	peek v[64];
	int n;
} heap;

static void
heap_push(heap *h, peek p)
{
	int i = h->n++;
	while (i > 0 && h->v[(i - 1) / 2].head > p.head) {
		h->v[i] = h->v[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->v[i] = p;
}

static peek
heap_pop(heap *h)
{
	peek top = h->v[0], last = h->v[--h->n];
	int i = 0;
	for (;;) {
		int c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->v[c + 1].head < h->v[c].head)
			c++;
		if (h->v[c].head >= last.head)
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	h->v[i] = last;
	return top;
}

static xchan_chan *primes_fb, *composites, *out;

/* Pops the smallest stream, reads its next value and pushes it back;
 * returns the popped head, or -1 on quit. */
static int64_t
advance(heap *h)
{
	peek m = heap_pop(h);
	int64_t min = m.head;
	if (!recv_q(m.ch, &m.head))
		min = -1;
	heap_push(h, m);
	return min;
}

static int32_t
merger(void *arg, xchan_val *res)
{
	(void)arg;
	heap h = {.n = 0};
	int64_t min = 15, p, head;
	while (h.n < 60 && recv_q(primes_fb, &p)) {
		xchan_chan *m = counting(10, p * p, 2 * p);
		if (!recv_q(m, &head)) {
			xchan_chan_release(m);
			break;
		}
		while (min >= 0 && min < head)
			if (!send_q(composites, min) || (min = advance(&h)) < 0)
				break;
		while (min >= 0 && min == head)
			min = advance(&h);
		int64_t next;
		if (min < 0 || !send_q(composites, head) || !recv_q(m, &next)) {
			xchan_chan_release(m);
			break;
		}
		heap_push(&h, (peek) {next, m});
	}
	for (int i = 0; i < h.n; i++)
		xchan_chan_release(h.v[i].ch);
	*res = xchan_val_nil();
	return XCHAN_OK;
}

static int32_t
sieve(void *arg, xchan_val *res)
{
	(void)arg;
	xchan_chan *fb = sendproxy(primes_fb);
	xchan_chan *candidates = counting(50, 5, 2);
	int64_t p, c;
	int ok = recv_q(candidates, &p);
	while (ok && recv_q(composites, &c)) {
		while (ok && p < c)
			ok = send_q(fb, p) && send_q(out, p) &&
			     recv_q(candidates, &p);
		if (ok && p == c)
			ok = recv_q(candidates, &p);
	}
	xchan_chan_release(fb);
	xchan_chan_release(candidates);
	*res = xchan_val_nil();
	return XCHAN_OK;
}

static void
release_shared(void)
{
	xchan_chan_release(out);
	xchan_chan_release(composites);
	xchan_chan_release(primes_fb);
}

static int32_t
program(void *arg, xchan_val *res)
{
	(void)arg;
	static const int64_t want[25] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31,
	    37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97};
	out = chan_(10);
	send_(out, 2);
	send_(out, 3);
	composites = chan_(50);
	primes_fb = chan_(10);
	send_(primes_fb, 3);
	go_(merger, NULL);
	go_(sieve, NULL);
	for (int i = 0; i < 25; i++)
		XCHECK_EQ(recv_(out, NULL), want[i]);
	xchan_chan_close(gochan_quit);
	gochan_after = release_shared; /* once every task ended */
	*res = xchan_val_nil();
	return XCHAN_OK;
}

GOCHAN_TESTS(sieve2, program)

XTEST_MAIN()
