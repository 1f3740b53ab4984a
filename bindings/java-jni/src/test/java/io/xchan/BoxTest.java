package io.xchan;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** Box.fromNativeValue: native values made by C (tests/cross/java) travel intact and are released once. */
class BoxTest {
    private static Box box(String tag) {
        long v = CrossNative.boxNew(Xchan.apiHandle(), tag);
        try {
            return Box.fromNativeValue(v);
        } finally {
            CrossNative.valueFree(Xchan.apiHandle(), v);
        }
    }

    @Test
    void aBoxRoundTripsToTheSameNativePointer() throws Exception {
        Box b = box("thing");
        Chan<Object> c = Chan.fixed(1);
        assertTrue(c.put(b));
        Box back = (Box) c.take();
        assertEquals(b.nativePointer(), back.nativePointer());
        assertEquals("thing", CrossNative.boxTag(back.nativePointer()));
        assertThrows(XchanException.EINVAL.class, () -> Box.fromNativeValue(0));
    }

    @Test
    void aDroppedBoxIsReleasedExactlyOnce() throws Exception {
        long before = CrossNative.boxesFreed();
        Chan<Object> s = Chan.sliding(1);
        long v = CrossNative.boxNew(Xchan.apiHandle(), "dropped");
        Box b = Box.fromNativeValue(v);
        CrossNative.valueFree(Xchan.apiHandle(), v);
        assertTrue(s.put(b));
        assertTrue(s.put(1L)); // the sliding buffer drops the box
        b.close();
        assertEquals(before + 1, CrossNative.boxesFreed(), "the destructor ran once the last reference went");
        b.close();
        assertEquals(before + 1, CrossNative.boxesFreed(), "and only once");
    }

    @Test
    void anotherRuntimesHostValueIsEruntimeAndTheChannelGoesOn() throws Exception {
        long before = CrossNative.foreignReleased();
        long v = CrossNative.foreignHostNew(Xchan.apiHandle());
        Box foreign = Box.fromNativeValue(v);
        CrossNative.valueFree(Xchan.apiHandle(), v);
        Chan<Object> c = Chan.fixed(2);
        assertTrue(c.put(foreign));
        assertThrows(XchanException.ERUNTIME.class, c::take);
        assertTrue(c.put(1L));
        assertEquals(1L, c.take());
        foreign.close();
        assertEquals(before + 1, CrossNative.foreignReleased(), "released, not leaked");
    }
}
