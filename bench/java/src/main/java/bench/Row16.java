package bench;

import clojure.java.api.Clojure;
import clojure.lang.IFn;
import io.xchan.Chan;
import io.xchan.Xchan;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.SynchronousQueue;

/**
 * row 16 of bench/README.md: xchan's Java binding against the JDK's blocking queues
 * and real core.async, in one run, interleaved (A B C A B C ...), after a
 * warm-up round of each, reporting median and min ns per message.
 *
 * <pre>
 *   spsc       1 producer, 1 consumer, capacity 1024, N messages
 *   pingpong   2 threads, rendezvous, N round trips, one-way ns
 *              (on platform threads, and on virtual threads on 21+)
 * </pre>
 *
 * Usage: java -cp ... bench.Row16 [N] [repeats]   (defaults 1000000, 5)
 */
public final class Row16 {
    /** A blocking channel/queue as the workloads use it. */
    interface Q {
        void put(Object v) throws Exception;
        Object take() throws Exception;
    }

    interface Maker {
        Q make(int cap); // cap 0: rendezvous
    }

    static Q xchan(int cap) {
        Chan<Object> c = cap == 0 ? Chan.unbuffered() : Chan.fixed(cap);
        return new Q() {
            public void put(Object v) throws Exception { c.put(v); }
            public Object take() throws Exception { return c.take(); }
        };
    }

    static Q queue(BlockingQueue<Object> q) {
        return new Q() {
            public void put(Object v) throws Exception { q.put(v); }
            public Object take() throws Exception { return q.take(); }
        };
    }

    static IFn caChan, caPut, caTake;

    static void loadCoreAsync() {
        Clojure.var("clojure.core", "require").invoke(Clojure.read("clojure.core.async"));
        caChan = Clojure.var("clojure.core.async", "chan");
        caPut = Clojure.var("clojure.core.async", ">!!");
        caTake = Clojure.var("clojure.core.async", "<!!");
    }

    static Q coreAsync(int cap) {
        Object c = cap == 0 ? caChan.invoke() : caChan.invoke(cap);
        return new Q() {
            public void put(Object v) { caPut.invoke(c, v); }
            public Object take() { return caTake.invoke(c); }
        };
    }

    // ---- threads ----------------------------------------------------------------
    static Method startVirtual;

    static Thread start(boolean virtual, Runnable r) throws Exception {
        if (virtual) return (Thread) startVirtual.invoke(null, r);
        Thread t = new Thread(r);
        t.start();
        return t;
    }

    interface Body {
        void run() throws Exception;
    }

    static Runnable wrap(Body b) {
        return () -> {
            try {
                b.run();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        };
    }

    // ---- workloads: each returns ns per message -----------------------------------
    static Long[] boxes;

    static double spsc(Maker m, int n, boolean virtual) throws Exception {
        Q q = m.make(1024);
        long t0 = System.nanoTime();
        Thread p = start(virtual, wrap(() -> {
            for (int i = 0; i < n; i++) q.put(boxes[i & 1023]);
        }));
        Thread c = start(virtual, wrap(() -> {
            for (int i = 0; i < n; i++) q.take();
        }));
        p.join();
        c.join();
        return (System.nanoTime() - t0) / (double) n;
    }

    static double pingpong(Maker m, int n, boolean virtual) throws Exception {
        Q ping = m.make(0), pong = m.make(0);
        long t0 = System.nanoTime();
        Thread a = start(virtual, wrap(() -> {
            for (int i = 0; i < n; i++) {
                ping.put(boxes[i & 1023]);
                pong.take();
            }
        }));
        Thread b = start(virtual, wrap(() -> {
            for (int i = 0; i < n; i++) pong.put(ping.take());
        }));
        a.join();
        b.join();
        return (System.nanoTime() - t0) / (2.0 * n);
    }

    interface Workload {
        double run(Maker m, int n, boolean virtual) throws Exception;
    }

    record Row(String name, Workload w, int n, boolean virtual, Map<String, Maker> impls) {}

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        boxes = new Long[1024];
        for (int i = 0; i < 1024; i++) boxes[i] = (long) i + 1;
        try {
            startVirtual = Thread.class.getMethod("startVirtualThread", Runnable.class);
        } catch (NoSuchMethodException e) {
            startVirtual = null;
        }
        boolean ca = true;
        try {
            loadCoreAsync();
        } catch (Throwable t) {
            System.out.println("core.async unavailable: " + t);
            ca = false;
        }

        Map<String, Maker> spscImpls = new LinkedHashMap<>();
        spscImpls.put("xchan", Row16::xchan);
        spscImpls.put("ArrayBlockingQueue", cap -> queue(new ArrayBlockingQueue<>(cap)));
        spscImpls.put("LinkedTransferQueue", cap -> queue(new LinkedTransferQueue<>()));
        if (ca) spscImpls.put("core.async", Row16::coreAsync);
        Map<String, Maker> ppImpls = new LinkedHashMap<>();
        ppImpls.put("xchan", Row16::xchan);
        ppImpls.put("SynchronousQueue", cap -> queue(new SynchronousQueue<>()));
        if (ca) ppImpls.put("core.async", Row16::coreAsync);

        List<Row> rows = new ArrayList<>();
        rows.add(new Row("spsc cap 1024 (platform)", Row16::spsc, n, false, spscImpls));
        rows.add(new Row("pingpong cap 0 (platform), one-way", Row16::pingpong, n / 10, false, ppImpls));
        if (startVirtual != null) {
            rows.add(new Row("spsc cap 1024 (virtual)", Row16::spsc, n, true, spscImpls));
            rows.add(new Row("pingpong cap 0 (virtual), one-way", Row16::pingpong, n / 10, true, ppImpls));
        }

        System.out.printf("xchan %s (library %d), java %s, %d cpus, N=%d, repeats=%d, vthread parallelism=%s%n",
                Xchan.version(), Xchan.libraryVersion(), System.getProperty("java.version"),
                Runtime.getRuntime().availableProcessors(), n, repeats,
                System.getProperty("jdk.virtualThreadScheduler.parallelism", "default"));
        System.out.printf("%-36s %-20s %10s %10s %12s%n", "workload", "impl", "median ns", "min ns",
                "xchan/impl");
        for (Row row : rows) {
            Map<String, double[]> res = new LinkedHashMap<>();
            for (String impl : row.impls().keySet()) { // warm-up round
                row.w().run(row.impls().get(impl), Math.max(1000, row.n() / 5), row.virtual());
                res.put(impl, new double[repeats]);
            }
            for (int r = 0; r < repeats; r++) {
                for (String impl : row.impls().keySet()) {
                    res.get(impl)[r] = row.w().run(row.impls().get(impl), row.n(), row.virtual());
                }
            }
            double xMed = median(res.get("xchan"));
            for (Map.Entry<String, double[]> e : res.entrySet()) {
                double med = median(e.getValue());
                double min = Arrays.stream(e.getValue()).min().orElse(0);
                System.out.printf("%-36s %-20s %10.1f %10.1f %12s%n", row.name(), e.getKey(), med, min,
                        e.getKey().equals("xchan") ? "" : String.format("%.2fx", xMed / med));
            }
        }
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
