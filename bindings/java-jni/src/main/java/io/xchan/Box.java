package io.xchan;


/**
 * An opaque native value that Java cannot represent (a C BOX: a native
 * pointer with its destructor). Taking one gives a Box; putting the Box
 * again passes the same native value on. Its reference is dropped when the
 * Box becomes unreachable, which releases the value (its destructor runs
 * when the last reference anywhere goes).
 */
public final class Box implements AutoCloseable {
    private final java.util.concurrent.atomic.AtomicLong ptr;
    private final java.lang.ref.Cleaner.Cleanable cleanable;

    Box(long ptr) {
        this.ptr = new java.util.concurrent.atomic.AtomicLong(ptr);
        this.cleanable = Chan.CLEANER.register(this, new Chan.Releaser(this.ptr, Native::boxFree));
    }

    long ptr() {
        long p = ptr.get();
        if (p == 0) throw XchanException.of(Native.ESTATE, "the Box was closed");
        return p;
    }

    /**
     * Drops this Box's reference now rather than when it becomes
     * unreachable (idempotent); the value's destructor runs when the last
     * reference anywhere goes. Using the Box afterwards is ESTATE.
     */
    @Override public void close() { cleanable.clean(); }

    /**
     * A Box holding a new reference to the native value at
     * {@code valueAddress} (an {@code xchan_val *} of this process's core,
     * made by C code loaded by the JVM, usually a BOX from
     * {@code api->val_box}); the caller keeps its own reference. Putting
     * the Box passes that very value on (any kind: C code may hand Java a
     * value it cannot otherwise express, such as another runtime's host
     * value, whose take then fails with ERUNTIME).
     *
     * @throws XchanException.EINVAL for address 0 or a nil value
     */
    public static Box fromNativeValue(long valueAddress) {
        if (valueAddress == 0) throw XchanException.of(Native.EINVAL, "null native value address");
        long p = Native.boxRetain(valueAddress);
        if (p == 0) throw XchanException.of(Native.EINVAL, "the native value is nil");
        return new Box(p);
    }

    /**
     * The boxed native pointer (xchan_get_box), valid while this Box is
     * reachable; 0 when the value is not a BOX.
     */
    public long nativePointer() { return Native.boxPointer(ptr()); }

    /** The address of the {@code xchan_val} this Box holds, valid while it is reachable. */
    public long nativeValue() { return ptr(); }

    @Override public String toString() { return "Box@" + Long.toHexString(ptr.get()); }
}
