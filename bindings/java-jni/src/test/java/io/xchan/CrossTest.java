package io.xchan;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** C code shares Java-created channels through the function table. */
class CrossTest {
    @Test
    void theFunctionTableIsThere() {
        assertNotEquals(0L, Xchan.apiHandle());
    }

    @Test
    void pthreadsProduceIntoAJavaChannel() throws Exception {
        Chan<Long> ch = Chan.fixed(64);
        long h = CrossNative.produceStart(Xchan.apiHandle(), ch.nativeHandle(), 4, 25_000);
        long count = 0, sum = 0;
        for (Long v; (v = ch.take()) != null; ) {
            count++;
            sum += v;
        }
        long[] out = new long[2];
        assertEquals(0, CrossNative.join(h, out));
        assertEquals(100_000, count);
        assertEquals(out[1], sum, "every value C put arrived once");
    }

    @Test
    void aPthreadConsumesFromAJavaChannel() throws Exception {
        Chan<Long> ch = Chan.unbuffered();
        long h = CrossNative.consumeStart(Xchan.apiHandle(), ch.nativeHandle());
        long sum = 0;
        for (long i = 0; i < 50_000; i++) {
            assertTrue(ch.put(i));
            sum += i;
        }
        ch.close();
        long[] out = new long[2];
        assertEquals(0, CrossNative.join(h, out));
        assertEquals(50_000, out[0]);
        assertEquals(sum, out[1]);
    }

    @Test
    void valuesPutByCArriveAsJavaTypes() throws Exception {
        Chan<Object> ch = Chan.fixed(16);
        CrossNative.putEveryType(Xchan.apiHandle(), ch.nativeHandle());
        List<Object> got = new ArrayList<>();
        for (Object v; (v = ch.take()) != null; ) got.add(v);
        assertEquals(7, got.size(), got.toString());
        assertEquals(Boolean.TRUE, got.get(0));
        assertEquals(-42L, got.get(1));
        assertEquals(2.5, got.get(2));
        assertEquals("h\u00e9llo \uD83D\uDE00", got.get(3));
        assertArrayEquals(new byte[] {0, 1, (byte) 0xff}, (byte[]) got.get(4));
        @SuppressWarnings("unchecked")
        Chan<Object> inner = (Chan<Object>) got.get(5);
        assertEquals("inner", inner.take());
        assertEquals(List.of(1L, "two"), got.get(6));
    }

    @Test
    void valuesPutByJavaAreReadableByC() throws Exception {
        Chan<Object> ch = Chan.fixed(16);
        ch.put(true);
        ch.put(7);
        ch.put(1.5);
        ch.put("h\u00e9");
        ch.put(new byte[] {1, 2});
        ch.put(Chan.fixed(1));
        ch.put(new Object());
        assertEquals("bool:1,int:7,double:1.5,string:h\u00e9,bytes:2,chan,host,",
                CrossNative.describe(Xchan.apiHandle(), ch.nativeHandle(), 7));
    }

    @Test
    void aHostValueOfAnotherRuntimeIsERUNTIMEAndReleased() throws Exception {
        Chan<Object> ch = Chan.fixed(4);
        long before = CrossNative.foreignReleased();
        assertEquals(0, CrossNative.putForeignHost(Xchan.apiHandle(), ch.nativeHandle()));
        ch.put("after");
        XchanException e = assertThrows(XchanException.ERUNTIME.class, ch::take);
        assertEquals("ERUNTIME", e.code());
        assertEquals(before + 1, CrossNative.foreignReleased(), "the refused value was released, not leaked");
        assertEquals("after", ch.take(), "the channel goes on");
    }
}
