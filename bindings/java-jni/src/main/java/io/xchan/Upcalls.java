package io.xchan;

/**
 * The service threads that run Java code on behalf of the core's go tasks
 * (jx_upcall.c): combinator callbacks and transducer steps reached from a
 * go task's stack, where the JVM must not run. They are platform daemon
 * threads that wait inside native code, which only virtual threads must
 * avoid. Four of them, so one slow callback does not hold up the others.
 */
final class Upcalls {
    private Upcalls() {}

    static final int THREADS = 4;

    static void start() {
        for (int i = 0; i < THREADS; i++) {
            Thread t = new Thread(Native::upcallServe, "xchan-upcall-" + i);
            t.setDaemon(true);
            t.start();
        }
    }
}
