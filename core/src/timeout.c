/*
 * timeout.c — timeout channels: an unbuffered channel whose timer entry
 * (allocated with it) closes it at the deadline.
 *
 * The timer holds no reference: when the last user reference goes, release
 * cancels the entry (chan.c), so an abandoned timeout does not keep its
 * channel and the alts parked on it alive until expiry (the retention
 * complaint against core.async).  A fire racing the last release takes a
 * reference only if the channel is still alive (try_retain); release waits
 * for a fire in flight before freeing (timer cancel is synchronous).
 */
#include "chan.h"
#include "timer.h"

static void
timeout_fire(xchan__timer *t)
{
	xchan_chan *ch = (xchan_chan *)((char *)t - sizeof(xchan_chan));
	if (!xchan__chan_try_retain(ch))
		return; /* being freed: nobody can observe it */
	xchan_chan_close(ch);
	xchan_chan_release(ch);
}

int32_t
xchan_timeout_at(xchan_chan **out, xchan_deadline deadline)
{
	if (out == NULL)
		return XCHAN_EINVAL;
	xchan_chan *ch;
	int32_t err = xchan__chan_alloc(&ch, NULL, sizeof(xchan__timer));
	if (err != XCHAN_OK)
		return err;
	xchan__timer *t = (xchan__timer *)((char *)ch + sizeof(xchan_chan));
	t->deadline = deadline;
	t->fire = timeout_fire;
	t->fire_at_shutdown = 1;
	ch->timeout = t;
	err = xchan__timer_add(t);
	if (err != XCHAN_OK) {
		ch->timeout = NULL;
		xchan__free(ch->ring, ch->slots * sizeof(xchan_val));
		xchan__free(ch, sizeof(*ch) + sizeof(xchan__timer));
		*out = NULL;
		return err;
	}
	*out = ch;
	return XCHAN_OK;
}

int32_t
xchan_timeout(xchan_chan **out, int64_t ms)
{
	return xchan_timeout_at(out, xchan_now() + (ms > 0 ? ms * 1000000 : 0));
}

/* ---- the clock (public helpers) ------------------------------------------ */

int64_t
xchan_now(void)
{
	return xchan__clock_ns();
}

xchan_deadline
xchan_deadline_in_ns(int64_t ns)
{
	if (ns < 0)
		return XCHAN_DEADLINE_NEVER;
	return xchan__clock_ns() + ns;
}

xchan_deadline
xchan_deadline_in_ms(int64_t ms)
{
	if (ms < 0)
		return XCHAN_DEADLINE_NEVER;
	return xchan__clock_ns() + ms * 1000000;
}
