package io.xchan;

/** The natives of tests/cross/java/xchan_cross_java.c (see there). */
final class CrossNative {
    static {
        System.load(System.getProperty("xchan.test.native") + "/libxchan_cross_java.so");
    }

    static native long produceStart(long api, long ch, int threads, long perThread);
    static native long consumeStart(long api, long ch);
    static native int join(long handle, long[] out);
    static native void putEveryType(long api, long ch);
    static native String describe(long api, long ch, int n);
    static native int putForeignHost(long api, long ch);
    static native long foreignReleased();
    static native long boxNew(long api, String tag);
    static native long foreignHostNew(long api);
    static native void valueFree(long api, long value);
    static native String boxTag(long ptr);
    static native long boxesFreed();
}
