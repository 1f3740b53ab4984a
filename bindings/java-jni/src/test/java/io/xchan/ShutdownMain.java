package io.xchan;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** The body of ShutdownTest, in a fresh JVM: exits 0 and prints "shutdown ok" when all holds. */
final class ShutdownMain {
    private ShutdownMain() {}

    private static void check(boolean ok, String what) {
        if (!ok) {
            System.out.println("FAILED: " + what);
            System.exit(1);
        }
    }

    private static String errOf(java.util.concurrent.Future<?> f) throws InterruptedException {
        try {
            f.get(10, TimeUnit.SECONDS);
            return "OK";
        } catch (ExecutionException e) {
            return e.getCause() instanceof XchanException x ? x.code() : e.getCause().toString();
        } catch (java.util.concurrent.TimeoutException e) {
            return "hang";
        }
    }

    public static void main(String[] args) throws Exception {
        Chan<Long> c = Chan.unbuffered(), d = Chan.unbuffered();
        OpFuture<Long> t = c.takeAsync();
        OpFuture<Boolean> p = d.putAsync(1L);
        Chan<Object> late = Chan.timeout(Duration.ofMinutes(1));
        OpFuture<Alts.Result> x = new Alts().take(c).selectAsync(Duration.ofMinutes(1));
        java.util.concurrent.CompletableFuture<Throwable> dispatched = new java.util.concurrent.CompletableFuture<>();
        Chan<Long> quiet = Chan.unbuffered();
        quiet.takeAsync(Placement.DISPATCH, (v, err) -> dispatched.complete(err));
        Xchan.shutdown();
        Xchan.shutdown(); // again: fine
        check(errOf(t).equals("ESHUTDOWN"), "a pending take completes with ESHUTDOWN");
        check(errOf(p).equals("ESHUTDOWN"), "a pending put completes with ESHUTDOWN");
        check(errOf(x).equals("ESHUTDOWN"), "an alts deadline completes with ESHUTDOWN");
        check(late.isClosed(), "pending timers fire");
        check(errOf(dispatched).equals("OK") && dispatched.getNow(null) instanceof XchanException.ESHUTDOWN,
                "a DISPATCH callback still runs once the executors are shut down");
        check(!d.offer(2L), "nothing took the put's value");
        try {
            Chan.timeout(Duration.ofMillis(10));
            check(false, "a timeout after shutdown");
        } catch (XchanException.ESHUTDOWN e) {
            // expected
        }
        try {
            Xchan.go(() -> 1);
            check(false, "go after shutdown");
        } catch (XchanException.ESHUTDOWN e) {
            // expected
        }
        try {
            Xchan.thread(() -> 1);
            check(false, "thread after shutdown");
        } catch (XchanException.ESHUTDOWN e) {
            // expected
        }
        Chan<Long> b = Chan.fixed(1);
        check(b.put(1L) && b.take() == 1L, "channels stay usable from the caller's threads");
        System.out.println("shutdown ok");
        System.exit(0);
    }
}
