package io.xchan;

import java.lang.ref.Cleaner;

/**
 * An opaque native value that Java cannot represent (a C BOX: a native
 * pointer with its destructor). Taking one gives a Box; putting the Box
 * again passes the same native value on. Its reference is dropped when the
 * Box becomes unreachable.
 */
public final class Box {
    private final long ptr;

    Box(long ptr) {
        this.ptr = ptr;
        Chan.CLEANER.register(this, new Free(ptr));
    }

    long ptr() { return ptr; }

    private static final class Free implements Runnable {
        private final long ptr;
        Free(long ptr) { this.ptr = ptr; }
        @Override public void run() { Native.boxFree(ptr); }
    }

    @Override public String toString() { return "Box@" + Long.toHexString(ptr); }
}
