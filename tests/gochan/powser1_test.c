/*
 * powser1_test.c — after Go's test/chan/powser1.go (Doug McIlroy's power
 * series, "Squinting at Power Series"): a power series is a demand channel,
 * a pair (req, dat): the consumer sends a request, the producer answers with
 * the next rational coefficient.  Every operator is a task: Rep, Add, Cmul,
 * Sub, Diff, Integ, Mul (recursive, through Split, which copies one series
 * to two consumers reading at different rates with one task per item and a
 * hand-over chain between generations), Exp (a feedback loop: Z = Integ(1,
 * Z * U')), MonSubst.  The checks are Go's: Ones, Add, Sub, Diff, Integ,
 * Cmul, Mul, Exp and atan's series, N = 10 terms each.
 *
 * A rational travels as one int: numerator and denominator in 32 bits each
 * (denominator 0 ends a series).  The tasks run for ever, as in Go; they
 * stop on gochan.h's quit channel: every operation of theirs watches it, and
 * a task that sees it longjmps out of its body (all within its own stack).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdlib.h>

#include "gochan.h"

#define N 10

/* ---- rationals -------------------------------------------------------- */

typedef struct rat {
	int64_t num, den;
} rat;

static int64_t
gcd(int64_t u, int64_t v)
{
	if (u < 0)
		return gcd(-u, v);
	if (u == 0)
		return v;
	return gcd(v % u, u);
}

static rat
i2tor(int64_t u, int64_t v)
{
	int64_t g = gcd(u, v);
	if (g == 0)
		g = 1;
	if (v > 0)
		return (rat) {u / g, v / g};
	return (rat) {-u / g, -v / g};
}

static rat
itor(int64_t u)
{
	return i2tor(u, 1);
}

static const rat zero = {0, 1}, one = {1, 1}, finis = {1, 0};

static int
end(rat u)
{
	return u.den == 0;
}

static rat
add(rat u, rat v)
{
	int64_t g = gcd(u.den, v.den);
	return i2tor(u.num * (v.den / g) + v.num * (u.den / g),
	    u.den * (v.den / g));
}

static rat
mul(rat u, rat v)
{
	int64_t g1 = gcd(u.num, v.den), g2 = gcd(u.den, v.num);
	if (g1 == 0)
		g1 = 1;
	if (g2 == 0)
		g2 = 1;
	return (rat) {(u.num / g1) * (v.num / g2), (u.den / g2) * (v.den / g1)};
}

static rat
neg(rat u)
{
	return i2tor(-u.num, u.den);
}

static int64_t
pack(rat r)
{
	return (int64_t)(((uint64_t)(uint32_t)(int32_t)r.num << 32) |
	                 (uint32_t)(int32_t)r.den);
}

static rat
unpack(int64_t v)
{
	return (rat) {(int32_t)((uint64_t)v >> 32), (int32_t)(v & 0xffffffff)};
}

/* ---- demand channels, and every channel made, for the end ------------ */

typedef struct dch {
	xchan_chan *req, *dat;
} dch;

typedef struct dch2 {
	dch *d[2];
} dch2;

static pthread_mutex_t g_made_mu = PTHREAD_MUTEX_INITIALIZER;
static void **g_made;
static size_t g_nmade, g_capmade;

/* Remembers p (a channel or a block) to free after every task ended. */
static void *
remember(void *p, int is_chan)
{
	pthread_mutex_lock(&g_made_mu);
	if (g_nmade == g_capmade) {
		g_capmade = g_capmade ? 2 * g_capmade : 256;
		g_made = realloc(g_made, g_capmade * sizeof(*g_made));
	}
	/* Channels are tagged in the low bit (they are aligned). */
	g_made[g_nmade++] = (void *)((uintptr_t)p | (uintptr_t)is_chan);
	pthread_mutex_unlock(&g_made_mu);
	return p;
}

static void
free_made(void)
{
	for (size_t i = 0; i < g_nmade; i++) {
		uintptr_t p = (uintptr_t)g_made[i];
		if (p & 1)
			xchan_chan_release((xchan_chan *)(p & ~(uintptr_t)1));
		else
			free((void *)p);
	}
	free(g_made);
	g_made = NULL;
	g_nmade = g_capmade = 0;
}

static xchan_chan *
mkchan(void)
{
	return remember(chan_(0), 1);
}

static dch *
mkdch(void)
{
	dch *d = remember(malloc(sizeof(*d)), 0);
	d->req = mkchan();
	d->dat = mkchan();
	return d;
}

static dch2 *
mkdch2(void)
{
	dch2 *d = remember(malloc(sizeof(*d)), 0);
	d->d[0] = mkdch();
	d->d[1] = mkdch();
	return d;
}

/* ---- processes --------------------------------------------------------- */

/* A process's argument block; `quit` is where it goes when quit closes. */
typedef struct proc {
	jmp_buf quit;
	dch *u, *v, *z;
	dch2 *out;
	xchan_chan *wait;
	rat c;
	int n;
} proc;

static _Atomic int64_t seqno;

static void
sendp(proc *p, xchan_chan *c, int64_t v)
{
	if (!send_q(c, v))
		longjmp(p->quit, 1);
}

static int64_t
recvp(proc *p, xchan_chan *c)
{
	int64_t v;
	if (!recv_q(c, &v))
		longjmp(p->quit, 1);
	return v;
}

static rat
get(proc *p, dch *in)
{
	sendp(p, in->req, atomic_fetch_add(&seqno, 1) + 1);
	return unpack(recvp(p, in->dat));
}

static void
put(proc *p, rat r, dch *out)
{
	recvp(p, out->req);
	sendp(p, out->dat, pack(r));
}

static void
copy(proc *p, dch *in, dch *out)
{
	for (;;) {
		recvp(p, out->req);
		sendp(p, out->dat, pack(get(p, in)));
	}
}

/* One item from each of two series, requests and answers in any order. */
static void
get2(proc *p, dch *in0, dch *in1, rat out[2])
{
	xchan_chan *req[2] = {in0->req, in1->req}, *dat[2] = {NULL, NULL};
	dch *in[2] = {in0, in1};
	for (int n = 4; n > 0; n--) {
		xchan_clause cl[5];
		int which[5];
		size_t k = 0;
		int64_t s = atomic_fetch_add(&seqno, 1) + 1;
		for (int i = 0; i < 2; i++) {
			if (req[i]) {
				which[k] = i;
				cl[k++] = put_clause_(req[i], s);
			}
			if (dat[i]) {
				which[k] = 2 + i;
				cl[k++] = take_clause_(dat[i]);
			}
		}
		which[k] = -1;
		cl[k++] = take_clause_(gochan_quit);
		xchan_result r;
		xchan_alts(&r, cl, k, 0, XCHAN_DEADLINE_NEVER);
		if (r.index < 0 || which[r.index] < 0 || r.err != XCHAN_OK)
			longjmp(p->quit, 1);
		int w = which[r.index];
		if (w < 2) {
			dat[w] = in[w]->dat;
			req[w] = NULL;
		} else {
			int64_t v = 0;
			xchan_get_int(r.val, &v);
			out[w - 2] = unpack(v);
			dat[w - 2] = NULL;
		}
	}
}

/* Starts body(p) as a task; p is freed when it ends. */
typedef struct start {
	proc p;
	void (*body)(proc *p);
} start;

static int32_t
start_main(void *arg, xchan_val *res)
{
	start *s = arg;
	if (setjmp(s->p.quit) == 0)
		s->body(&s->p);
	free(s);
	*res = xchan_val_nil();
	return XCHAN_OK;
}

static void
spawn(void (*body)(proc *p), proc args)
{
	start *s = malloc(sizeof(*s));
	s->p = args;
	s->body = body;
	go_(start_main, s);
}

/* ---- split -------------------------------------------------------------- */

static void
dosplit(proc *p)
{
	dch *in = p->u;
	dch2 *out = p->out;
	int both = 0;
	xchan_clause cl[3] = {take_clause_(out->d[0]->req),
	    take_clause_(p->wait), take_clause_(gochan_quit)};
	xchan_result r;
	xchan_alts(&r, cl, 3, 0, XCHAN_DEADLINE_NEVER);
	if (r.index == 2 || r.err != XCHAN_OK)
		longjmp(p->quit, 1);
	if (r.index == 1) {
		both = 1;
		xchan_clause c2[3] = {take_clause_(out->d[0]->req),
		    take_clause_(out->d[1]->req), take_clause_(gochan_quit)};
		xchan_alts(&r, c2, 3, 0, XCHAN_DEADLINE_NEVER);
		if (r.index == 2 || r.err != XCHAN_OK)
			longjmp(p->quit, 1);
		if (r.index == 1) {
			dch *t = out->d[0];
			out->d[0] = out->d[1];
			out->d[1] = t;
		}
	}
	sendp(p, in->req, atomic_fetch_add(&seqno, 1) + 1);
	xchan_chan *release = mkchan();
	spawn(dosplit, (proc) {.u = in, .out = out, .wait = release});
	int64_t dat = recvp(p, in->dat);
	sendp(p, out->d[0]->dat, dat);
	if (!both)
		recvp(p, p->wait);
	recvp(p, out->d[1]->req);
	sendp(p, out->d[1]->dat, dat);
	sendp(p, release, 0);
}

static void
split_body(proc *p)
{
	xchan_chan *release = mkchan();
	spawn(dosplit, (proc) {.u = p->u, .out = p->out, .wait = release});
	sendp(p, release, 0);
}

static void
split(dch *in, dch2 *out)
{
	spawn(split_body, (proc) {.u = in, .out = out});
}

static dch2 *
Split(dch *u)
{
	dch2 *uu = mkdch2();
	split(u, uu);
	return uu;
}

/* ---- operators ----------------------------------------------------------- */

static void
rep_body(proc *p)
{
	for (;;)
		put(p, p->c, p->z);
}

static dch *
Rep(rat c)
{
	dch *z = mkdch();
	spawn(rep_body, (proc) {.c = c, .z = z});
	return z;
}

static void
add_body(proc *p)
{
	for (;;) {
		recvp(p, p->z->req);
		rat uv[2];
		get2(p, p->u, p->v, uv);
		switch (end(uv[0]) + 2 * end(uv[1])) {
		case 0:
			sendp(p, p->z->dat, pack(add(uv[0], uv[1])));
			break;
		case 1:
			sendp(p, p->z->dat, pack(uv[1]));
			copy(p, p->v, p->z);
			break;
		case 2:
			sendp(p, p->z->dat, pack(uv[0]));
			copy(p, p->u, p->z);
			break;
		default:
			sendp(p, p->z->dat, pack(finis));
		}
	}
}

static dch *
Add(dch *u, dch *v)
{
	dch *z = mkdch();
	spawn(add_body, (proc) {.u = u, .v = v, .z = z});
	return z;
}

static void
cmul_body(proc *p)
{
	for (;;) {
		recvp(p, p->z->req);
		rat u = get(p, p->u);
		if (end(u))
			break;
		sendp(p, p->z->dat, pack(mul(p->c, u)));
	}
	sendp(p, p->z->dat, pack(finis));
}

static dch *
Cmul(rat c, dch *u)
{
	dch *z = mkdch();
	spawn(cmul_body, (proc) {.c = c, .u = u, .z = z});
	return z;
}

static dch *
Sub(dch *u, dch *v)
{
	return Add(u, Cmul(neg(one), v));
}

static dch *Mul(dch *u, dch *v);

static void
mul_body(proc *p)
{
	recvp(p, p->z->req);
	rat uv[2];
	get2(p, p->u, p->v, uv);
	if (end(uv[0]) || end(uv[1])) {
		sendp(p, p->z->dat, pack(finis));
		return;
	}
	sendp(p, p->z->dat, pack(mul(uv[0], uv[1])));
	dch2 *uu = Split(p->u), *vv = Split(p->v);
	dch *w = Add(Cmul(uv[0], vv->d[0]), Cmul(uv[1], uu->d[0]));
	recvp(p, p->z->req);
	sendp(p, p->z->dat, pack(get(p, w)));
	copy(p, Add(w, Mul(uu->d[1], vv->d[1])), p->z);
}

static dch *
Mul(dch *u, dch *v)
{
	dch *z = mkdch();
	spawn(mul_body, (proc) {.u = u, .v = v, .z = z});
	return z;
}

static void
diff_body(proc *p)
{
	recvp(p, p->z->req);
	rat u = get(p, p->u);
	if (!end(u)) {
		for (int64_t i = 1;; i++) {
			u = get(p, p->u);
			if (end(u))
				break;
			sendp(p, p->z->dat, pack(mul(itor(i), u)));
			recvp(p, p->z->req);
		}
	}
	sendp(p, p->z->dat, pack(finis));
}

static dch *
Diff(dch *u)
{
	dch *z = mkdch();
	spawn(diff_body, (proc) {.u = u, .z = z});
	return z;
}

static void
integ_body(proc *p)
{
	put(p, p->c, p->z);
	for (int64_t i = 1;; i++) {
		recvp(p, p->z->req);
		rat u = get(p, p->u);
		if (end(u))
			break;
		sendp(p, p->z->dat, pack(mul(i2tor(1, i), u)));
	}
	sendp(p, p->z->dat, pack(finis));
}

static dch *
Integ(rat c, dch *u)
{
	dch *z = mkdch();
	spawn(integ_body, (proc) {.c = c, .u = u, .z = z});
	return z;
}

/* exp(U): Z' = Z U', so Z = Integ(1, Z * U'), fed back through Split. */
static dch *
Exp(dch *u)
{
	dch2 *zz = mkdch2();
	split(Integ(one, Mul(zz->d[0], Diff(u))), zz);
	return zz->d[1];
}

static void
monsubst_body(proc *p)
{
	rat c = one;
	for (;;) {
		recvp(p, p->z->req);
		rat u = get(p, p->u);
		sendp(p, p->z->dat, pack(mul(u, c)));
		c = mul(c, p->c);
		if (end(u)) {
			sendp(p, p->z->dat, pack(finis));
			return;
		}
		for (int i = 1; i < p->n; i++) {
			recvp(p, p->z->req);
			sendp(p, p->z->dat, pack(zero));
		}
	}
}

/* U(c x^n). */
static dch *
MonSubst(dch *u, rat c0, int n)
{
	dch *z = mkdch();
	spawn(monsubst_body, (proc) {.u = u, .z = z, .c = c0, .n = n});
	return z;
}

/* ---- the checks ------------------------------------------------------------- */

/* The body's own operations: `get` needs a proc to jump out of. */
static proc g_main;

static void
check(dch *u, rat c, int count, const char *what)
{
	for (int i = 0; i < count; i++) {
		rat r = get(&g_main, u);
		if (r.num != c.num || r.den != c.den)
			fprintf(stderr,
			    "  powser1 %s: got %lld/%lld, want "
			    "%lld/%lld\n",
			    what, (long long)r.num, (long long)r.den,
			    (long long)c.num, (long long)c.den);
		XCHECK(r.num == c.num && r.den == c.den);
	}
}

static void
checka(dch *u, const rat *a, const char *what)
{
	for (int i = 0; i < N; i++)
		check(u, a[i], 1, what);
}

static void
checks(void)
{
	rat a[N];
	dch *ones = Rep(one), *twos = Rep(itor(2));
	check(ones, one, 5, "Ones");
	check(Add(ones, twos), itor(3), 5, "Add Ones Twos");
	check(Sub(ones, twos), itor(-1), 5, "Sub Ones Twos");
	for (int i = 0; i < N; i++)
		a[i] = itor(i + 1);
	checka(Diff(ones), a, "Diff"); /* 1 2 3 4 5 */
	a[0] = zero;
	for (int i = 1; i < N; i++)
		a[i] = i2tor(1, i);
	checka(Integ(zero, ones), a, "Integ"); /* 0 1 1/2 1/3 */
	check(Cmul(neg(one), twos), itor(-2), 10, "Cmul");
	for (int i = 0; i < N; i++)
		a[i] = itor(i + 1);
	checka(Mul(ones, ones), a, "Mul"); /* 1 2 3 4 5 */
	static const rat e[N] = {{1, 1}, {1, 1}, {3, 2}, {13, 6}, {73, 24},
	    {167, 40}, {4051, 720}, {37633, 5040}, {43817, 4480},
	    {4596553, 362880}};
	checka(Exp(ones), e, "Exp"); /* 1 1 3/2 13/6 73/24 */
	for (int c = 1, i = 0; i < N; i++) {
		if (i % 2 == 0) {
			a[i] = zero;
		} else {
			a[i] = i2tor(c, i);
			c = -c;
		}
	}
	checka(Integ(zero, MonSubst(ones, neg(one), 2)), a, "ATan");
}

static int32_t
program(void *arg, xchan_val *res)
{
	(void)arg;
	if (setjmp(g_main.quit) == 0)
		checks();
	else
		XCHECK(!"the body's quit fired");
	fprintf(stderr, "  powser1: %d tasks\n", atomic_load(&gochan_ntasks));
	xchan_chan_close(gochan_quit);
	gochan_after = free_made; /* once every task ended */
	*res = xchan_val_nil();
	return XCHAN_OK;
}

GOCHAN_TESTS(powser1, program)

XTEST_MAIN()
