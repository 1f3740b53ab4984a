package io.xchan;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;

/**
 * Stops blocking puts, takes and alts from another thread, as the core's
 * cancel tokens (xchan_cancel): once {@link #fire()}d, every call waiting
 * with the token, and every later one until {@link #reset()}, throws
 * {@link XchanException.ECANCELED} with nothing transferred. One token may
 * serve many waiters. ({@link Thread#interrupt()} stops one thread's wait
 * the same way, with an InterruptedException.)
 *
 * <p>How: a waiter parks in Java ({@link Chan#take()}); the token records
 * the parked waiters and unparks them when fired; the waiter then cancels
 * its op with the core's cancel-or-collect, so an op that completed just
 * before the cancel returns its result instead. Thread-safety: any thread;
 * no locks (a concurrent set and a volatile flag).
 */
public final class CancelToken {
    private volatile boolean fired;
    private final Set<Thread> waiters = ConcurrentHashMap.newKeySet();

    /** Fires the token (idempotent) and wakes its waiters. */
    public void fire() {
        fired = true;
        for (Thread t : waiters) LockSupport.unpark(t);
    }

    /** Unfires it, for reuse; waiters already woken stay woken. */
    public void reset() { fired = false; }

    public boolean isFired() { return fired; }

    /** ECANCELED when {@code c} is fired (a call starting with a fired token). */
    static void check(CancelToken c) {
        if (c != null && c.fired) throw XchanException.of(Native.ECANCELED, "the cancel token was fired");
    }

    void enter(Thread t) { waiters.add(t); }

    void leave(Thread t) { waiters.remove(t); }
}
