/*
 * comb_pub.c — pub, sub, unsub, unsub_topic, unsub_all (core.async pub).
 *
 * Design notes.
 *  - A pub is a table of topics; each topic owns a channel (buffered as
 *    buf_fn says) feeding an xchan_mult whose taps are the subscribers.
 *    One go task takes from the source, asks topic_fn for the topic, and
 *    puts the value on that topic's channel (or releases it).
 *  - Topics are compared with xchan_val_equal by a linear scan: pubs have
 *    few topics in practice; a hash table can replace it without changing
 *    the API.
 *  - Removing a topic (unsub_topic, unsub_all) first untaps every
 *    subscriber, then closes the topic's channel: its mult task ends without
 *    closing subscribers (core.async just forgets the mult and leaks its
 *    go-loop).  When the source closes, the task closes every topic's
 *    channel, so each mult closes the subscribers tapped with `close`.
 *  - Lock: `mu` guards the table and `ended`.  Lock order: pub.mu, then a
 *    topic mult's own mutex (xchan_pub_sub taps under pub.mu so that a topic
 *    cannot be removed between lookup and tap; a mult in the table has not
 *    ended, so that tap performs no channel operation).  User code (topic_fn,
 *    buf_fn) and channel operations run without `mu`.
 *  - Lifetime: `refs` counts handles and the task.
 */
#include <string.h>

#include "comb_common.h"
#include "comb_user.h"
#include "val.h"

typedef struct pub_topic {
	xchan_val key;
	xchan_chan *ch;
	xchan_mult *mult;
} pub_topic;

struct xchan_pub {
	_Atomic uint32_t refs;
	comb_mutex mu;
	pub_topic *topics; /* guarded by mu */
	size_t n;          /* guarded by mu */
	size_t cap;        /* guarded by mu */
	int ended;         /* guarded by mu */
	xchan_chan *src;
	xchan_map_fn topic_fn;
	void *topic_user;
	xchan_pub_buf_fn buf_fn;
	void *buf_user;
};

/* Ends a topic taken out of the table (see the design notes). */
static void
pub_topic_drop(pub_topic *t, int untap)
{
	if (untap)
		xchan_mult_untap_all(t->mult);
	xchan_chan_close(t->ch);
	xchan_chan_release(t->ch);
	xchan_mult_release(t->mult);
	xchan_val_release(t->key);
}

static void
pub_free(xchan_pub *p)
{
	for (size_t i = 0; i < p->n; i++)
		pub_topic_drop(&p->topics[i], 1);
	if (p->topics != NULL)
		xchan__free(p->topics, p->cap * sizeof(pub_topic));
	xchan_chan_release(p->src);
	xchan__free(p, sizeof(*p));
}

xchan_pub *
xchan_pub_retain(xchan_pub *p)
{
	if (p != NULL)
		atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
	return p;
}

void
xchan_pub_release(xchan_pub *p)
{
	if (p != NULL &&
	    atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1)
		pub_free(p);
}

static pub_topic *
pub_find_locked(xchan_pub *p, xchan_val key)
{
	for (size_t i = 0; i < p->n; i++)
		if (xchan_val_equal(p->topics[i].key, key))
			return &p->topics[i];
	return NULL;
}

/* Moves all topics out of the table (caller drops them after unlocking). */
static pub_topic *
pub_take_all_locked(xchan_pub *p, size_t *n, size_t *cap)
{
	pub_topic *t = p->topics;
	*n = p->n;
	*cap = p->cap;
	p->topics = NULL;
	p->n = p->cap = 0;
	return t;
}

static void
pub_drop_all(pub_topic *t, size_t n, size_t cap, int untap)
{
	for (size_t i = 0; i < n; i++)
		pub_topic_drop(&t[i], untap);
	if (t != NULL)
		xchan__free(t, cap * sizeof(pub_topic));
}

static int32_t
pub_run(void *arg, xchan_val *result)
{
	xchan_pub *p = arg;
	*result = xchan_val_nil();
	xchan_val v;
	while (xchan_take(&v, p->src, XCHAN_DEADLINE_NEVER) == XCHAN_OK) {
		xchan_val key =
		    xchan__comb_call_map(p->topic_fn, p->topic_user, v);
		comb_mutex_lock(&p->mu);
		pub_topic *t = pub_find_locked(p, key);
		xchan_chan *ch = t != NULL ? xchan_chan_retain(t->ch) : NULL;
		comb_mutex_unlock(&p->mu);
		xchan_val_release(key);
		/* A topic dropped meanwhile has a closed channel: put fails. */
		if (ch == NULL ||
		    xchan_put(ch, v, XCHAN_DEADLINE_NEVER) != XCHAN_OK)
			xchan_val_release(v);
		xchan_chan_release(ch);
	}
	comb_mutex_lock(&p->mu);
	p->ended = 1;
	size_t n, cap;
	pub_topic *all = pub_take_all_locked(p, &n, &cap);
	comb_mutex_unlock(&p->mu);
	pub_drop_all(all, n, cap, 0);
	xchan_pub_release(p);
	return XCHAN_OK;
}

int32_t
xchan_pub_new(xchan_pub **out, xchan_chan **out_done, xchan_chan *src,
    xchan_map_fn topic_fn, void *topic_user, xchan_pub_buf_fn buf_fn,
    void *buf_user)
{
	if (out != NULL)
		*out = NULL;
	if (out_done != NULL)
		*out_done = NULL;
	if (out == NULL || src == NULL || topic_fn == NULL)
		return XCHAN_EINVAL;
	xchan_pub *p = xchan__zalloc(sizeof(*p));
	if (p == NULL)
		return XCHAN_ENOMEM;
	p->src = xchan_chan_retain(src);
	p->topic_fn = topic_fn;
	p->topic_user = topic_user;
	p->buf_fn = buf_fn;
	p->buf_user = buf_user;
	atomic_init(&p->refs, 2); /* the handle and the task */
	int32_t err = xchan__comb_go(out_done, pub_run, p, "xchan-pub");
	if (err != XCHAN_OK) {
		pub_free(p);
		return err;
	}
	*out = p;
	return XCHAN_OK;
}

/* A new topic: its channel (buffered by buf_fn) and its mult. */
static int32_t
pub_topic_make(pub_topic *t, xchan_pub *p, xchan_val topic)
{
	uint32_t kind = XCHAN_BUF_NONE;
	uint64_t capacity = 0;
	int32_t err;
	memset(t, 0, sizeof(*t));
	if (p->buf_fn != NULL &&
	    (err = xchan__comb_call_pub_buf(p->buf_fn, p->buf_user, &kind,
	         &capacity, topic)) != XCHAN_OK)
		return err;
	if ((err = xchan_chan_make(&t->ch, kind, capacity)) != XCHAN_OK)
		return err;
	if ((err = xchan_mult_new(&t->mult, NULL, t->ch)) != XCHAN_OK) {
		xchan_chan_release(t->ch);
		return err;
	}
	t->key = xchan_val_retain(topic);
	return XCHAN_OK;
}

static int32_t
pub_insert_locked(xchan_pub *p, const pub_topic *t)
{
	if (p->n == p->cap) {
		size_t cap = p->cap < 4 ? 4 : p->cap * 2;
		pub_topic *a = xchan__alloc(cap * sizeof(pub_topic));
		if (a == NULL)
			return XCHAN_ENOMEM;
		if (p->topics != NULL) {
			memcpy(a, p->topics, p->n * sizeof(pub_topic));
			xchan__free(p->topics, p->cap * sizeof(pub_topic));
		}
		p->topics = a;
		p->cap = cap;
	}
	p->topics[p->n++] = *t;
	return XCHAN_OK;
}

int32_t
xchan_pub_sub(xchan_pub *p, xchan_val topic, xchan_chan *ch, int32_t close)
{
	if (p == NULL || ch == NULL || !xchan__val_kind_valid(topic))
		return XCHAN_EINVAL;
	pub_topic fresh;
	int have_fresh = 0;
	int32_t err = XCHAN_OK;
	for (;;) {
		comb_mutex_lock(&p->mu);
		if (p->ended)
			break;
		pub_topic *t = pub_find_locked(p, topic);
		if (t == NULL && have_fresh) {
			if ((err = pub_insert_locked(p, &fresh)) != XCHAN_OK)
				break;
			have_fresh = 0;
			t = &p->topics[p->n - 1];
		}
		if (t != NULL) {
			err = xchan_mult_tap(t->mult, ch, close);
			break;
		}
		/* Create the topic outside the lock (buf_fn is user code),
		 * then look again: another sub may have created it. */
		comb_mutex_unlock(&p->mu);
		if ((err = pub_topic_make(&fresh, p, topic)) != XCHAN_OK)
			return err;
		have_fresh = 1;
	}
	int ended = p->ended;
	comb_mutex_unlock(&p->mu);
	if (have_fresh)
		pub_topic_drop(&fresh, 0);
	if (ended && close)
		xchan_chan_close(ch);
	return err;
}

int32_t
xchan_pub_unsub(xchan_pub *p, xchan_val topic, xchan_chan *ch)
{
	if (p == NULL || ch == NULL || !xchan__val_kind_valid(topic))
		return XCHAN_EINVAL;
	comb_mutex_lock(&p->mu);
	pub_topic *t = pub_find_locked(p, topic);
	xchan_mult *m = t != NULL ? xchan_mult_retain(t->mult) : NULL;
	comb_mutex_unlock(&p->mu);
	if (m != NULL) {
		xchan_mult_untap(m, ch);
		xchan_mult_release(m);
	}
	return XCHAN_OK;
}

int32_t
xchan_pub_unsub_topic(xchan_pub *p, xchan_val topic)
{
	if (p == NULL || !xchan__val_kind_valid(topic))
		return XCHAN_EINVAL;
	comb_mutex_lock(&p->mu);
	pub_topic *t = pub_find_locked(p, topic);
	pub_topic gone = {0};
	if (t != NULL) {
		gone = *t;
		*t = p->topics[--p->n];
	}
	comb_mutex_unlock(&p->mu);
	if (gone.ch != NULL)
		pub_topic_drop(&gone, 1);
	return XCHAN_OK;
}

int32_t
xchan_pub_unsub_all(xchan_pub *p)
{
	if (p == NULL)
		return XCHAN_EINVAL;
	comb_mutex_lock(&p->mu);
	size_t n, cap;
	pub_topic *all = pub_take_all_locked(p, &n, &cap);
	comb_mutex_unlock(&p->mu);
	pub_drop_all(all, n, cap, 1);
	return XCHAN_OK;
}
