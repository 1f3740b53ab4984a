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
	ch->timed = 1;
	xchan__timer *t = xchan__chan_timer(ch);
	/* XCHAN_DEADLINE_NEVER (any negative deadline): never fires. */
	t->deadline = deadline < 0 ? INT64_MAX : deadline;
	t->fire = timeout_fire;
	t->fire_at_shutdown = 1;
	err = xchan__timer_add(t);
	if (err != XCHAN_OK) {
		ch->timed = 0;
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
	if (ms < 0)
		ms = 0;
	/* Saturating: a huge duration is "never", not a wrap into the past. */
	xchan_deadline d = xchan_deadline_in_ms(ms);
	return xchan_timeout_at(out, d == XCHAN_DEADLINE_NEVER ? INT64_MAX : d);
}

/* now + ns, saturating to XCHAN_DEADLINE_NEVER when it would overflow. */
static xchan_deadline
deadline_after(int64_t ns)
{
	int64_t now = xchan__clock_ns();
	if (ns > INT64_MAX - now)
		return XCHAN_DEADLINE_NEVER;
	return now + ns;
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
	return deadline_after(ns);
}

xchan_deadline
xchan_deadline_in_ms(int64_t ms)
{
	if (ms < 0 || ms > INT64_MAX / 1000000)
		return XCHAN_DEADLINE_NEVER;
	return deadline_after(ms * 1000000);
}
