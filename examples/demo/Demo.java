// The Java part of `make demo` (run by examples/demo/run.sh; or by hand:
// javac -cp xchan.jar -d out Demo.java && java -cp xchan.jar:out Demo).
//
// C threads produce sensor readings into a channel Java made; a mult fans it
// out to a go task and an io-thread task, both blocking in take().  On JDK
// 21+ both run on virtual threads (they park, no carrier is held); on 17 on
// platform threads.  Meanwhile an alts with a timeout keeps watch on the C
// producer.  Prints what happened and the throughput.
import io.xchan.Alts;
import io.xchan.Chan;
import io.xchan.Flow;
import io.xchan.NativeWorkers;
import io.xchan.Xchan;
import java.time.Duration;
import java.util.Locale;

public class Demo {
    static final String LIB = System.getenv().getOrDefault("XCHAN_DEMO_LIB",
            "build/examples/demo/libxchan_demo_sensors.so");
    static final int SENSORS = 4;
    static final long PER_SENSOR = Long.parseLong(System.getenv().getOrDefault("XCHAN_DEMO_PER_SENSOR", "30000"));

    record Stats(long temps, double mean, double max, long counts, long statuses) {}
    record Watch(long warm, String first) {}

    /** A go task: what the readings say, by type. */
    static Stats summarise(Chan<Object> readings) throws InterruptedException {
        long temps = 0, counts = 0, statuses = 0;
        double sum = 0, max = Double.NEGATIVE_INFINITY;
        for (Object v; (v = readings.take()) != null; ) {
            if (v instanceof Double d) {
                temps++;
                sum += d;
                max = Math.max(max, d);
            } else if (v instanceof Long) {
                counts++;
            } else {
                statuses++;
            }
        }
        return new Stats(temps, sum / temps, max, counts, statuses);
    }

    /** An io-thread task, the mult's second consumer: the "warm" status lines. */
    static Watch watch(Chan<Object> readings) throws InterruptedException {
        long warm = 0;
        String first = null;
        for (Object v; (v = readings.take()) != null; ) {
            if (v instanceof String s && s.endsWith("warm")) {
                warm++;
                if (first == null) first = s;
            }
        }
        return new Watch(warm, first);
    }

    static String fmt(double n) { return String.format(Locale.US, "%,d", Math.round(n)); }

    public static void main(String[] args) throws Exception {
        String threads = Xchan.hasVirtualThreads() ? "virtual threads" : "platform threads (virtual threads need 21+)";
        System.out.printf("  Java %s, %s, xchan %s%n", Runtime.version().feature(), threads, Xchan.version());
        Chan<Object> readings = Chan.fixed(1024);
        Flow.Mult<Object> fan = Flow.mult(readings);
        Chan<Object> toStats = Chan.fixed(1024);
        Chan<Object> toWatch = Chan.fixed(1024);
        fan.tap(toStats).tap(toWatch);

        long t0 = System.nanoTime();
        Chan<Long> producer = NativeWorkers.ioThread(LIB, "run_sensors", "i(cii)", readings, SENSORS, PER_SENSOR);
        Chan<Stats> stats = Xchan.go(() -> summarise(toStats));
        Chan<Watch> watched = Xchan.ioThread(() -> watch(toWatch));

        // Keep watch on the C producer: whichever is ready first wins.
        int ticks = 0;
        long total;
        for (;;) {
            Alts.Result r = new Alts().take(producer).take(Chan.timeout(Duration.ofMillis(50))).select();
            if (r.chan() == producer) {
                total = (Long) r.value();
                break;
            }
            ticks++;
        }
        Stats s = stats.take();
        Watch w = watched.take();
        double seconds = (System.nanoTime() - t0) / 1e9;

        System.out.printf("  C    run_sensors: %d pthreads put %s readings into a Chan(1024),"
                + " started with NativeWorkers.ioThread%n", SENSORS, fmt(total));
        System.out.println("  mult fans the channel out to a go task and an io-thread task:");
        System.out.printf(Locale.US, "         stats   (Xchan.go)       %s temperatures (mean %.1f °C, max %.1f),"
                + " %s counts, %s status lines%n", fmt(s.temps()), s.mean(), s.max(), fmt(s.counts()),
                fmt(s.statuses()));
        System.out.printf("         watch   (Xchan.ioThread) %s \"warm\" statuses, the first: '%s'%n",
                fmt(w.warm()), w.first());
        System.out.printf("  alts   [producer, timeout(50 ms)]: the timeout won %d×, then the producer answered %s%n",
                ticks, fmt(total));
        if (total != SENSORS * PER_SENSOR || s.temps() + s.counts() + s.statuses() != total) {
            throw new AssertionError("readings lost: " + total + " put, "
                    + (s.temps() + s.counts() + s.statuses()) + " taken");
        }
        System.out.printf(Locale.US, "  rate   %s readings in %.2f s = %s msg/s (C threads → mult → 2 %s)%n",
                fmt(total), seconds, fmt(total / seconds),
                Xchan.hasVirtualThreads() ? "virtual threads" : "platform threads");
        System.out.printf(Locale.US, "@@result %d %.6f%n", total, seconds);
    }
}
