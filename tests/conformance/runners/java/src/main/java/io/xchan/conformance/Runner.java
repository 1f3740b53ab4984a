package io.xchan.conformance;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import io.xchan.Alts;
import io.xchan.Chan;
import io.xchan.Flow;
import io.xchan.OpFuture;
import io.xchan.Placement;
import io.xchan.Xchan;
import io.xchan.XchanException;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The Java runner of the conformance suite (tests/conformance/README.md, "The
 * runner contract"), over the public API of the io.xchan jar (the java stage's
 * mvn install), the way a Java user calls it.
 *
 * <p>Kinds: "thread" runs each proc on a platform Thread; "task" as a go
 * body (Xchan.go: a virtual thread, in go context). On a JDK without
 * virtual threads (17) every task result is "n/a", said in its diff. Both
 * use the blocking API. Async ops use the binding's callback and notify
 * forms; Boxes and foreign host values come from tests/cross/java's library
 * (CrossExt). Every op of the vocabulary is expressed through the public API.
 *
 * <p>Concurrency: one case at a time; its procs share a World whose maps are
 * concurrent and whose trace is a synchronized list.
 */
public final class Runner {
    static final String[] KINDS = {"thread", "task"};
    static final Gson GSON = new GsonBuilder().serializeNulls().setPrettyPrinting().create();

    static final class Gap extends RuntimeException {
        Gap(String m) { super(m); }
    }

    static final class RunnerError extends RuntimeException {
        RunnerError(String m) { super(m); }
    }

    static final class Host {
        final String tag;
        Host(String tag) { this.tag = tag; }
    }

    static JsonObject res(String err) {
        JsonObject o = new JsonObject();
        o.addProperty("err", err);
        return o;
    }

    static JsonObject exc(Throwable e) {
        if (e instanceof Gap) {
            JsonObject o = res("GAP");
            o.addProperty("msg", "binding gap: " + e.getMessage());
            return o;
        }
        if (e instanceof RunnerError) {
            JsonObject o = res("RUNNER");
            o.addProperty("msg", e.getMessage());
            return o;
        }
        if (e instanceof XchanException x) return res(x.code());
        if (e instanceof NullPointerException) {
            String m = String.valueOf(e.getMessage());
            // The binding's documented mapping of ENIL: a null put throws NullPointerException.
            if (m.startsWith("xchan:")) return res("ENIL");
            // A binding method called on a null Chan (or op handle): the JVM's
            // NullPointerException is Java's EINVAL for a NULL receiver.
            if (m.startsWith("Cannot invoke \"io.xchan.")) return res("EINVAL");
        }
        JsonObject o = res(e.getClass().getSimpleName());
        o.addProperty("msg", String.valueOf(e.getMessage()));
        return o;
    }

    // ---- the world of one case ----

    static final class World {
        final Map<String, Object> objs = new ConcurrentHashMap<>();
        final Map<String, Host> hosts = new ConcurrentHashMap<>();
        final List<JsonObject> trace = java.util.Collections.synchronizedList(new ArrayList<>());
        final Map<String, Long> marks = new ConcurrentHashMap<>();
        final AtomicInteger spawns = new AtomicInteger();
        final AtomicLong failedAt = new AtomicLong(0);
        final long deadline;

        World(long deadline) { this.deadline = deadline; }

        /** The named channel, or null where the case passes null (the NULL-pointer bad input). */
        Chan<Object> chan(JsonObject op, String key) {
            JsonElement n = op.get(key);
            if (n == null || n.isJsonNull()) return null;
            return chanNamed(n.getAsString());
        }

        @SuppressWarnings("unchecked")
        Chan<Object> chanNamed(String name) {
            Object o = objs.get(name);
            if (!(o instanceof Chan)) throw new RunnerError("unknown channel " + name);
            return (Chan<Object>) o;
        }

        String nameOf(Chan<?> ch) {
            for (Map.Entry<String, Object> e : objs.entrySet()) if (ch.equals(e.getValue())) return e.getKey();
            return "?";
        }

        Object toJava(JsonElement j) {
            if (j == null || j.isJsonNull()) return null;
            if (j.isJsonPrimitive()) {
                JsonPrimitive p = j.getAsJsonPrimitive();
                if (p.isBoolean()) return p.getAsBoolean();
                if (p.isString()) return p.getAsString();
                return p.getAsLong();
            }
            if (j.isJsonArray()) { // an ARRAY: Java's Object[] (a null item is the core's EINVAL)
                JsonArray a = j.getAsJsonArray();
                Object[] items = new Object[a.size()];
                for (int i = 0; i < items.length; i++) items[i] = toJava(a.get(i));
                return items;
            }
            JsonObject o = j.getAsJsonObject();
            if (o.size() == 1) {
                String k = o.keySet().iterator().next();
                JsonElement v = o.get(k);
                switch (k) {
                    case "int": return new BigInteger(v.getAsString()).longValue();
                    case "double":
                        if (v.getAsJsonPrimitive().isString()) {
                            switch (v.getAsString()) {
                                case "nan": return Double.NaN;
                                case "inf": return Double.POSITIVE_INFINITY;
                                default: return Double.NEGATIVE_INFINITY;
                            }
                        }
                        return v.getAsDouble();
                    case "bytes": return HexFormat.of().parseHex(v.getAsString());
                    case "chan": return chanNamed(v.getAsString());
                    case "host": return hosts.computeIfAbsent(v.getAsString(), Host::new);
                    case "foreign_host": return CrossExt.foreignHost();
                    case "box": return CrossExt.box(v.getAsString());
                    default: break;
                }
            }
            throw new RunnerError("bad value " + j);
        }

        JsonElement toJson(Object v) {
            if (v == null) return JsonNull.INSTANCE;
            if (v instanceof Boolean b) return new JsonPrimitive(b);
            if (v instanceof Long || v instanceof Integer) {
                long l = ((Number) v).longValue();
                if (Math.abs((double) l) > 9007199254740992.0) {
                    JsonObject o = new JsonObject();
                    o.addProperty("int", Long.toString(l));
                    return o;
                }
                return new JsonPrimitive(l);
            }
            if (v instanceof Double d) {
                JsonObject o = new JsonObject();
                if (d.isNaN()) o.addProperty("double", "nan");
                else if (d.isInfinite()) o.addProperty("double", d > 0 ? "inf" : "-inf");
                else o.addProperty("double", d);
                return o;
            }
            if (v instanceof String s) return new JsonPrimitive(s);
            if (v instanceof byte[] b) {
                JsonObject o = new JsonObject();
                o.addProperty("bytes", HexFormat.of().formatHex(b));
                return o;
            }
            if (v instanceof List<?> l) {
                JsonArray a = new JsonArray();
                for (Object x : l) a.add(toJson(x));
                return a;
            }
            if (v instanceof Object[] arr) return toJson(java.util.Arrays.asList(arr));
            if (v instanceof Chan<?> c) {
                JsonObject o = new JsonObject();
                o.addProperty("chan", nameOf(c));
                return o;
            }
            if (v instanceof Host h) {
                JsonObject o = new JsonObject();
                o.addProperty("host", h.tag);
                return o;
            }
            if (v instanceof io.xchan.Box b) {
                JsonObject o = new JsonObject();
                o.addProperty("box", CrossExt.tag(b));
                return o;
            }
            JsonObject o = new JsonObject();
            o.addProperty("unknown_kind", v.getClass().getName());
            return o;
        }
    }


    // ---- the vocabulary (README "Vocabulary") ----

    static final class StepFailure extends RuntimeException {
        StepFailure(String m) { super(m); }
    }

    static long ival(Object v) {
        return v instanceof Long l ? l : v instanceof Integer i ? i : 0;
    }

    static boolean isInt(Object v) { return v instanceof Long || v instanceof Integer; }

    static Function<Object, Object> mapFn(String n) {
        if (n == null) return null;
        switch (n) {
            case "inc": return v -> ival(v) + 1;
            case "double": return v -> ival(v) * 2;
            case "str": return v -> Long.toString(ival(v));
            case "parity": return v -> ival(v) % 2 != 0 ? "odd" : "even";
            case "identity": return v -> v;
            case "nil": return v -> null;
            default: return null;
        }
    }

    static java.util.function.Predicate<Object> pred(String n) {
        if ("even".equals(n)) return v -> isInt(v) && ival(v) % 2 == 0;
        if ("odd".equals(n)) return v -> isInt(v) && ival(v) % 2 != 0;
        return null;
    }

    static io.xchan.Xf oneXf(JsonElement spec) {
        JsonObject o = spec.getAsJsonObject();
        if (o.size() != 1) throw new RunnerError("bad transform " + spec);
        String k = o.keySet().iterator().next();
        JsonElement a = o.get(k);
        switch (k) {
            case "map": {
                Function<Object, Object> f = mapFn(a.getAsString());
                if (f == null) break;
                return io.xchan.Xf.map(f);
            }
            case "filter": {
                java.util.function.Predicate<Object> p = pred(a.getAsString());
                if (p == null) break;
                return io.xchan.Xf.filter(p);
            }
            case "mapcat":
                switch (a.getAsString()) {
                    case "dup": return io.xchan.Xf.mapcat(v -> List.of(v, v));
                    case "range": return io.xchan.Xf.mapcat(v -> {
                        List<Object> l = new ArrayList<>();
                        for (long i = 0; i < ival(v); i++) l.add(i);
                        return l;
                    });
                    case "none": return io.xchan.Xf.mapcat(v -> List.of());
                    default: break;
                }
                break;
            case "take": return io.xchan.Xf.take(a.getAsLong());
            case "partition_all": return io.xchan.Xf.partitionAll(a.getAsInt());
            case "repeat": {
                int n = a.getAsInt();
                return io.xchan.Xf.mapcat(v -> java.util.Collections.nCopies(n, v));
            }
            case "fail_on": {
                long kk = a.getAsLong();
                return io.xchan.Xf.map(v -> {
                    if (isInt(v) && ival(v) == kk) throw new StepFailure("boom");
                    return v;
                });
            }
            default: break;
        }
        throw new RunnerError("bad transform " + spec);
    }

    static io.xchan.Xf xf(JsonElement spec) {
        if (spec == null || spec.isJsonNull()) return null;
        if (spec.isJsonArray()) {
            List<io.xchan.Xf> l = new ArrayList<>();
            for (JsonElement e : spec.getAsJsonArray()) l.add(oneXf(e));
            return io.xchan.Xf.comp(l.toArray(new io.xchan.Xf[0]));
        }
        return oneXf(spec);
    }

    static Object errValue(Throwable e) {
        Throwable t = e;
        while (t != null && !(t instanceof StepFailure)) t = t.getCause();
        return t != null ? t.getMessage() : String.valueOf(e.getMessage());
    }

    static Function<Throwable, Object> handler(String n) {
        if (n == null) return null;
        switch (n) {
            case "inject": return e -> "err";
            case "drop": return e -> null;
            case "echo": return Runner::errValue;
            default: throw new RunnerError("bad on_error " + n);
        }
    }

    static java.util.function.BiFunction<Object, Object, Object> reducer(String n) {
        if (n == null) return null;
        switch (n) {
            case "sum": return (a, v) -> ival(a) + ival(v);
            case "count": return (a, v) -> ival(a) + 1;
            case "sum_to_10": return (a, v) -> {
                long s = ival(a) + ival(v);
                return s >= 10 ? Flow.reduced(s) : (Object) s;
            };
            case "fail": return (a, v) -> { throw new StepFailure("boom"); };
            default: return null;
        }
    }

    static Function<List<Object>, Object> mapN(String n) {
        if ("sum".equals(n)) return vs -> vs.stream().mapToLong(Runner::ival).sum();
        if ("vec".equals(n)) return vs -> new ArrayList<>(vs);
        return null;
    }

    static java.util.function.BiConsumer<Object, Chan<Object>> asyncFn(String n) {
        if ("dup".equals(n)) return (v, out) -> Xchan.thread(() -> { out.put(v); out.put(v); out.close(); return null; });
        if ("inc".equals(n)) return (v, out) -> Xchan.thread(() -> { out.put(ival(v) + 1); out.close(); return null; });
        return null;
    }

    static long outBuf(JsonObject op) {
        if (!op.has("out")) return 0;
        JsonObject s = op.getAsJsonObject("out");
        String k = str(s, "buf", "none");
        if (s.has("xform") || s.has("on_error") || s.has("max_pending") || !(k.equals("fixed") || k.equals("none")))
            throw new Gap("a combinator's output channel takes only a fixed buffer size");
        return num(s, "n", 0);
    }

    static List<Object> vals(World w, JsonObject op, String key) {
        List<Object> l = new ArrayList<>();
        for (JsonElement e : op.getAsJsonArray(key)) l.add(w.toJava(e));
        return l;
    }

    static final Map<String, java.util.concurrent.atomic.AtomicInteger> COUNTS = new ConcurrentHashMap<>();
    static final Map<String, java.util.concurrent.Executor> EXECUTORS = new ConcurrentHashMap<>();

    /** A spawned body's failure with an error name (spawn's "fail"), as the task error hook sees it. */
    static final class TaskFailure extends RuntimeException {
        final String code;

        TaskFailure(String code) {
            super("task fails with " + code);
            this.code = code;
        }
    }

    /** [task name, error name] of every failure the task error hook reported (this case's). */
    static final List<String[]> TASK_ERRORS = java.util.Collections.synchronizedList(new ArrayList<>());

    static void taskError(String name, Throwable t) {
        String code = t instanceof TaskFailure f ? f.code : t instanceof XchanException x ? x.code() : t.getClass().getSimpleName();
        TASK_ERRORS.add(new String[] {name, code});
    }

    @SuppressWarnings("unchecked")
    static <T> T obj(World w, JsonObject op, String key, Class<T> type, String what) {
        Object o = w.objs.get(str(op, key, "?"));
        if (!type.isInstance(o)) throw new RunnerError("unknown " + what + " " + str(op, key, "?"));
        return (T) o;
    }

    static JsonObject comb(World w, String name, JsonObject op) throws Exception {
        boolean close = bool(op, "close", true);
        switch (name) {
            case "pipeline": {
                String mode = str(op, "mode", "compute");
                int n = (int) num(op, "n", 1);
                Chan<Object> to = w.chan(op, "to"), from = w.chan(op, "from");
                Chan<Void> d;
                if (mode.equals("async")) {
                    if (op.has("on_error")) throw new Gap("pipelineAsync takes no exHandler");
                    var af = asyncFn(str(op, "af", null));
                    if (af == null) throw new RunnerError("bad af");
                    d = Flow.pipelineAsync(n, to, af, from, close);
                } else if (mode.equals("blocking")) {
                    d = Flow.pipelineBlocking(n, to, xf(op.get("xform")), from, close, handler(str(op, "on_error", null)));
                } else {
                    d = Flow.pipeline(n, to, xf(op.get("xform")), from, close, handler(str(op, "on_error", null)));
                }
                if (op.has("done")) w.objs.put(str(op, "done", "_"), d);
                return res("OK");
            }
            case "mult": {
                Flow.Mult<Object> m = Flow.mult(w.chan(op, "src"));
                w.objs.put(str(op, "as", "_"), m);
                if (op.has("done")) w.objs.put(str(op, "done", "_"), m.done());
                return res("OK");
            }
            case "tap":
            case "untap":
            case "untap_all": {
                Flow.Mult<Object> m = obj(w, op, "mult", Flow.Mult.class, "mult");
                if (name.equals("tap")) m.tap(w.chan(op, "ch"), close);
                else if (name.equals("untap")) m.untap(w.chan(op, "ch"));
                else m.untapAll();
                return res("OK");
            }
            case "pub": {
                Function<Object, Object> tf = mapFn(str(op, "topic", null));
                if (tf == null) throw new RunnerError("bad topic fn");
                Function<Object, io.xchan.Buffer> bf = null;
                if (op.has("topic_buf")) {
                    JsonObject tb = op.getAsJsonObject("topic_buf");
                    io.xchan.Buffer b = io.xchan.Buffer.of(str(tb, "buf", "none"), num(tb, "n", 0));
                    bf = topic -> b;
                }
                Flow.Pub<Object> p = Flow.pub(w.chan(op, "src"), tf, bf);
                w.objs.put(str(op, "as", "_"), p);
                if (op.has("done")) w.objs.put(str(op, "done", "_"), p.done());
                return res("OK");
            }
            case "sub":
            case "unsub":
            case "unsub_topic":
            case "unsub_all": {
                Flow.Pub<Object> p = obj(w, op, "pub", Flow.Pub.class, "pub");
                Object topic = op.has("topic") ? w.toJava(op.get("topic")) : null;
                if (name.equals("sub")) p.sub(topic, w.chan(op, "ch"), close);
                else if (name.equals("unsub")) p.unsub(topic, w.chan(op, "ch"));
                else if (name.equals("unsub_topic")) p.unsubAll(topic);
                else p.unsubAll();
                return res("OK");
            }
            case "mix": {
                Flow.Mix<Object> m = Flow.mix(w.chan(op, "out"));
                w.objs.put(str(op, "as", "_"), m);
                if (op.has("done")) w.objs.put(str(op, "done", "_"), m.done());
                return res("OK");
            }
            case "admix":
            case "unmix":
            case "unmix_all":
            case "toggle":
            case "solo_mode":
            case "mix_get": {
                Flow.Mix<Object> m = obj(w, op, "mix", Flow.Mix.class, "mix");
                switch (name) {
                    case "admix": m.admix(w.chan(op, "ch")); break;
                    case "unmix": m.unmix(w.chan(op, "ch")); break;
                    case "unmix_all": m.unmixAll(); break;
                    case "solo_mode":
                        m.soloMode(str(op, "mode", "mute"));
                        break;
                    case "mix_get": {
                        int f = m.get(w.chan(op, "ch"));
                        JsonArray a = new JsonArray();
                        if ((f & Flow.Mix.MUTE) != 0) a.add("mute");
                        if ((f & Flow.Mix.PAUSE) != 0) a.add("pause");
                        if ((f & Flow.Mix.SOLO) != 0) a.add("solo");
                        JsonObject r = res("OK");
                        r.add("val", a);
                        return r;
                    }
                    default: {
                        for (JsonElement ee : op.getAsJsonArray("entries")) {
                            JsonObject e = ee.getAsJsonObject();
                            int mask = 0, flags = 0;
                            String[] ks = {"mute", "pause", "solo"};
                            int[] bits = {Flow.Mix.MUTE, Flow.Mix.PAUSE, Flow.Mix.SOLO};
                            for (int i = 0; i < 3; i++) {
                                if (e.has(ks[i])) {
                                    mask |= bits[i];
                                    if (e.get(ks[i]).getAsBoolean()) flags |= bits[i];
                                }
                            }
                            m.toggle(w.chan(e, "ch"), mask, flags);
                        }
                    }
                }
                return res("OK");
            }
            case "merge":
            case "map": {
                List<Chan<Object>> cs = null;
                if (op.has("chans") && !op.get("chans").isJsonNull()) {
                    cs = new ArrayList<>();
                    for (JsonElement e : op.getAsJsonArray("chans")) cs.add(e.isJsonNull() ? null : w.chanNamed(e.getAsString()));
                }
                Chan<?> out;
                if (name.equals("merge")) {
                    Flow.WithDone<Chan<Object>> m = Flow.mergeWithDone(cs, outBuf(op));
                    out = m.result();
                    if (op.has("done")) w.objs.put(str(op, "done", "_"), m.done());
                } else {
                    if (op.has("done")) throw new Gap("map has no done channel");
                    var f = mapN(str(op, "fn", null));
                    if (f == null) throw new Gap("a map function outside the vocabulary cannot be passed");
                    if (op.has("out")) throw new Gap("Flow.map takes no output buffer");
                    out = Flow.map(f, cs);
                }
                w.objs.put(str(op, "as", "_"), out);
                return res("OK");
            }
            case "split": {
                var p = pred(str(op, "pred", null));
                JsonArray as = op.getAsJsonArray("as");
                if (p == null || as == null || as.size() != 2) throw new RunnerError("split needs pred and as: [t, f]");
                Flow.WithDone<Chan<Object>[]> sp = Flow.splitWithDone(p, w.chan(op, "src"));
                Chan<Object>[] tf = sp.result();
                if (op.has("done")) w.objs.put(str(op, "done", "_"), sp.done());
                w.objs.put(as.get(0).getAsString(), tf[0]);
                w.objs.put(as.get(1).getAsString(), tf[1]);
                return res("OK");
            }
            case "take_n": {
                if (op.has("done")) throw new Gap("take has no done channel");
                if (op.has("out")) throw new Gap("Flow.take takes no output buffer");
                w.objs.put(str(op, "as", "_"), Flow.take(num(op, "n", 0), w.chan(op, "src")));
                return res("OK");
            }
            case "reduce":
            case "transduce":
            case "into": {
                Object init = op.has("init") ? w.toJava(op.get("init")) : null;
                Chan<Object> src = w.chan(op, "src");
                Chan<?> out;
                if (name.equals("into")) {
                    out = Flow.into(init, src);
                } else {
                    var f = reducer(str(op, "fn", null));
                    if (f == null) throw new RunnerError("bad fn");
                    out = name.equals("reduce") ? Flow.reduce(f, init, src) : Flow.transduce(xf(op.get("xform")), f, init, src);
                }
                w.objs.put(str(op, "as", "_"), out);
                return res("OK");
            }
            default:
                return null;
        }
    }

    // ---- ops ----

    static String str(JsonObject op, String k, String d) {
        JsonElement e = op.get(k);
        return e == null || e.isJsonNull() ? d : e.getAsString();
    }

    static long num(JsonObject op, String k, long d) {
        JsonElement e = op.get(k);
        return e == null || e.isJsonNull() ? d : e.getAsLong();
    }

    static boolean bool(JsonObject op, String k, boolean d) {
        JsonElement e = op.get(k);
        return e == null || e.isJsonNull() ? d : e.getAsBoolean();
    }

    static Chan<Object> makeChan(JsonObject spec) {
        Chan.Builder<Object> b = Chan.builder();
        if (spec.has("xform")) b.xf(xf(spec.get("xform")));
        if (spec.has("on_error")) b.exHandler(handler(str(spec, "on_error", null)));
        b.buffer(io.xchan.Buffer.of(str(spec, "buf", "none"), num(spec, "n", 0)));
        if (spec.has("max_pending")) b.maxPending((int) num(spec, "max_pending", 0));
        return b.build();
    }

    static final String[] BUF_NAMES = {"none", "fixed", "dropping", "sliding", "promise"};

    static JsonObject info(Chan<?> ch) {
        Chan.Info i = ch.info();
        JsonObject o = new JsonObject();
        o.addProperty("buf", i.bufKind >= 0 && i.bufKind < 5 ? BUF_NAMES[i.bufKind] : "?");
        o.addProperty("capacity", i.capacity);
        o.addProperty("count", i.count);
        o.addProperty("closed", i.closed);
        o.addProperty("pending_puts", i.pendingPuts);
        o.addProperty("pending_takes", i.pendingTakes);
        o.addProperty("max_pending", i.maxPending);
        return o;
    }

    static JsonObject withVal(World w, JsonObject r, Object v) {
        r.add("val", w.toJson(v));
        return r;
    }

    static JsonObject put(Chan<Object> ch, Object v, JsonElement tms, io.xchan.CancelToken tok) throws InterruptedException {
        if (tms != null && tms.getAsLong() <= 0) {
            boolean closed = ch.isClosed();
            return ch.offer(v) ? res("OK") : res(closed ? "ECLOSED" : "EAGAIN");
        }
        boolean ok = tms == null ? ch.put(v, tok) : ch.put(v, Duration.ofMillis(tms.getAsLong()), tok);
        return res(ok ? "OK" : "ECLOSED");
    }

    static JsonObject take(World w, Chan<Object> ch, JsonElement tms, io.xchan.CancelToken tok) throws InterruptedException {
        if (tms != null && tms.getAsLong() <= 0) {
            boolean closed = ch.isClosed();
            Object v = ch.poll();
            return v == null ? res(closed ? "ECLOSED" : "EAGAIN") : withVal(w, res("OK"), v);
        }
        Object v = tms == null ? ch.take(tok) : ch.take(Duration.ofMillis(tms.getAsLong()), tok);
        return v == null ? res("ECLOSED") : withVal(w, res("OK"), v);
    }

    static io.xchan.CancelToken token(World w, JsonObject op) {
        if (!op.has("cancel")) return null;
        Object t = w.objs.get(str(op, "cancel", "?"));
        if (!(t instanceof io.xchan.CancelToken c)) throw new RunnerError("unknown token " + str(op, "cancel", "?"));
        return c;
    }

    /** The clauses of alts/alts_async, by name (an unknown kind is the binding's EINVAL). */
    static List<Boolean> clauses(World w, JsonObject op, Alts a) {
        List<Boolean> isPut = new ArrayList<>();
        for (JsonElement ce : op.getAsJsonArray("clauses")) {
            JsonObject c = ce.getAsJsonObject();
            String kind = null;
            for (String k : c.keySet()) if (!k.equals("val")) kind = k;
            a.clause(kind, w.chan(c, kind), c.has("val") ? w.toJava(c.get("val")) : null);
            isPut.add("put".equals(kind));
        }
        return isPut;
    }

    static final Object DEFAULT = new Object();

    static JsonObject alts(World w, JsonObject op, JsonElement tms) throws InterruptedException {
        Alts a = new Alts();
        List<Boolean> isPut = clauses(w, op, a);
        io.xchan.CancelToken tok = token(w, op);
        if (bool(op, "priority", false)) a.priority();
        Alts.Result r;
        try {
            if (tms != null && tms.getAsLong() <= 0) {
                a.orElse(DEFAULT);
                r = a.select(tok);
            } else r = tms == null ? a.select(tok) : a.select(Duration.ofMillis(tms.getAsLong()), tok);
        } catch (XchanException | NullPointerException e) {
            JsonObject o = exc(e);
            o.addProperty("index", -1);
            return o;
        }
        return altsResult(w, r, isPut);
    }

    static JsonObject altsResult(World w, Alts.Result r, List<Boolean> isPut) {
        JsonObject o;
        if (r.isDefault()) {
            o = res("EAGAIN");
            o.addProperty("index", -1);
            return o;
        }
        o = res(r.ok() ? "OK" : "ECLOSED");
        o.addProperty("index", r.index());
        if (!isPut.get(r.index()) && r.ok()) o.add("val", w.toJson(r.value()));
        return o;
    }

    /**
     * An asynchronous op started by put_async/take_async/alts_async: the
     * binding's OpFuture (null when the op completed during the start call,
     * or when the case keeps no handle) and what its callback or notifier
     * recorded.
     */
    static final class AsyncOp {
        final World w;
        final String kind; // put_async, take_async, alts_async
        final boolean notify;
        final JsonElement putVal;
        List<Boolean> altsPuts;
        final Thread starter = Thread.currentThread();
        OpFuture<?> handle;
        final CompletableFuture<JsonObject> delivered = new CompletableFuture<>();
        final java.util.concurrent.CountDownLatch notified = new java.util.concurrent.CountDownLatch(1);
        volatile boolean ranOnCaller, inGo;
        /** Notify mode: the result taken by collect or cancel_ex. */
        volatile JsonObject result;

        AsyncOp(World w, String kind, boolean notify, JsonElement putVal) {
            this.w = w;
            this.kind = kind;
            this.notify = notify;
            this.putVal = putVal;
        }

        void where() {
            ranOnCaller = Thread.currentThread() == starter;
            inGo = Xchan.inGo();
        }

        /** The callback form's callback: records the completion as the core reports it. */
        <V> java.util.function.BiConsumer<V, Throwable> callback() {
            return (v, e) -> {
                where();
                delivered.complete(completion(v, e));
            };
        }

        JsonObject completion(Object v, Throwable e) {
            boolean alts = kind.equals("alts_async");
            if (e != null) {
                JsonObject o = e instanceof java.util.concurrent.CancellationException ? res("ECANCELED") : exc(e);
                if (kind.equals("put_async")) o.add("val", putVal); // the put's value stays ours
                if (alts) o.addProperty("index", -1);
                return o;
            }
            if (kind.equals("put_async")) {
                if ((Boolean) v) return res("OK");
                JsonObject o = res("ECLOSED");
                o.add("val", putVal);
                return o;
            }
            if (alts) return altsResult(w, (Alts.Result) v, altsPuts);
            return v == null ? res("ECLOSED") : withVal(w, res("OK"), v);
        }

        /** An OpResult (collect, cancel_ex) as the case writes results. */
        JsonObject of(io.xchan.OpResult r) {
            JsonObject o = res(r.err());
            if (kind.equals("alts_async")) o.addProperty("index", r.index());
            if (r.value() != null) o.add("val", kind.equals("put_async") ? putVal : w.toJson(r.value()));
            return o;
        }

        JsonObject await(long withinMs) throws InterruptedException {
            if (!notify) {
                try {
                    return delivered.get(withinMs, java.util.concurrent.TimeUnit.MILLISECONDS).deepCopy();
                } catch (java.util.concurrent.TimeoutException e) {
                    return res("ETIMEDOUT");
                } catch (java.util.concurrent.ExecutionException e) {
                    return exc(e.getCause());
                }
            }
            if (result == null && !notified.await(withinMs, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                return res("ETIMEDOUT");
            }
            if (result == null) {
                try {
                    result = of(handle.collect());
                } catch (XchanException e) {
                    JsonObject o = exc(e);
                    o.addProperty("while", "collect");
                    return o;
                }
            }
            return result.deepCopy();
        }

        boolean completed() {
            return notify ? result != null || notified.getCount() == 0 : delivered.isDone();
        }
    }

    static AsyncOp asyncOp(World w, JsonObject op) {
        Object o = w.objs.get(str(op, "of", "?"));
        if (!(o instanceof AsyncOp a)) throw new RunnerError("no async op named " + str(op, "of", "?"));
        return a;
    }

    /**
     * put_async/take_async/alts_async through the binding's callback form
     * (placement COMPLETER, or DISPATCH with "dispatch") or its notify form
     * ("notify"); "handle": false drops the returned handle. A start error
     * is the op's result; the completion is await's.
     */
    static JsonObject startAsync(World w, JsonObject op, String name) {
        boolean notify = bool(op, "notify", false);
        Placement pl = bool(op, "dispatch", false) ? Placement.DISPATCH : Placement.COMPLETER;
        AsyncOp a = new AsyncOp(w, name, notify, op.get("val"));
        Runnable notifier = () -> {
            a.where();
            a.notified.countDown();
        };
        OpFuture<?> h;
        try {
            if (name.equals("put_async")) {
                Chan<Object> ch = w.chan(op, "ch");
                Object v = w.toJava(op.get("val"));
                h = notify ? ch.putAsyncNotify(v, notifier) : ch.putAsync(v, pl, a.callback());
            } else if (name.equals("take_async")) {
                Chan<Object> ch = w.chan(op, "ch");
                h = notify ? ch.takeAsyncNotify(notifier) : ch.takeAsync(pl, a.callback());
            } else {
                Alts alts = new Alts();
                a.altsPuts = clauses(w, op, alts);
                if (bool(op, "priority", false)) alts.priority();
                long tms = num(op, "timeout_ms", -1);
                if (op.has("timeout_ms") && tms <= 0) alts.orElse(DEFAULT);
                if (notify) h = alts.selectAsyncNotify(notifier);
                else if (tms > 0) h = alts.selectAsync(Duration.ofMillis(tms), pl, a.callback());
                else h = alts.selectAsync(pl, a.callback());
            }
        } catch (XchanException | NullPointerException e) {
            return exc(e); // the start call's error, as in C (no callback, so no index)
        }
        if (bool(op, "handle", true)) a.handle = h;
        w.objs.put(str(op, "as", "_"), a);
        return res("OK");
    }

    static JsonObject exec(World w, String path, JsonObject op, boolean virtual) throws Exception {
        String name = str(op, "op", "?");
        switch (name) {
            case "chan":
                w.objs.put(str(op, "as", "?"), makeChan(op));
                return res("OK");
            case "put":
            case "offer": {
                Chan<Object> ch = w.chan(op, "ch");
                Object v = w.toJava(op.get("val"));
                return put(ch, v, name.equals("offer") ? new JsonPrimitive(0) : op.get("timeout_ms"), token(w, op));
            }
            case "take":
            case "poll": {
                return take(w, w.chan(op, "ch"), name.equals("poll") ? new JsonPrimitive(0) : op.get("timeout_ms"),
                        token(w, op));
            }
            case "close":
                w.chan(op, "ch").close();
                return res("OK");
            case "info": {
                JsonObject i = info(w.chan(op, "ch"));
                JsonObject r = res("OK");
                if (op.has("fields")) {
                    JsonObject some = new JsonObject();
                    for (JsonElement f : op.getAsJsonArray("fields")) {
                        JsonElement x = i.get(f.getAsString());
                        some.add(f.getAsString(), x == null ? JsonNull.INSTANCE : x);
                    }
                    r.add("val", some);
                } else r.add("val", i);
                return r;
            }
            case "wait": {
                Chan<Object> ch = w.chan(op, "ch");
                long end = System.nanoTime() + num(op, "within_ms", 5000) * 1_000_000L;
                JsonObject until = op.getAsJsonObject("until");
                for (;;) {
                    JsonObject now = info(ch);
                    boolean ok = true;
                    for (String k : until.keySet()) if (!until.get(k).equals(now.get(k))) ok = false;
                    if (ok) return res("OK");
                    if (System.nanoTime() > end) return res("ETIMEDOUT");
                    Thread.sleep(1);
                }
            }
            case "drain": {
                Chan<Object> ch = w.chan(op, "ch");
                long end = System.nanoTime() + num(op, "within_ms", 5000) * 1_000_000L;
                JsonArray vals = new JsonArray();
                for (;;) {
                    long left = end - System.nanoTime();
                    JsonObject r;
                    try {
                        r = left <= 0 ? res("ETIMEDOUT") : take(w, ch, new JsonPrimitive(Math.max(1, left / 1_000_000L)), null);
                    } catch (XchanException e) {
                        r = res(e.code());
                    }
                    if (!r.get("err").getAsString().equals("OK")) {
                        String err = r.get("err").getAsString();
                        JsonObject o = res(err.equals("ECLOSED") ? "OK" : err);
                        o.add("val", vals);
                        return o;
                    }
                    vals.add(r.get("val"));
                }
            }
            case "timeout":
                w.objs.put(str(op, "as", "?"), Chan.timeout(Duration.ofMillis(num(op, "ms", 0))));
                return res("OK");
            case "alts":
                try {
                    return alts(w, op, op.get("timeout_ms"));
                } catch (XchanException | NullPointerException e) {
                    JsonObject o = exc(e);
                    o.addProperty("index", -1);
                    return o;
                }
            case "repeat": {
                JsonObject counts = new JsonObject();
                long n = num(op, "n", 1);
                for (long i = 0; i < n; i++) {
                    JsonObject r;
                    try {
                        r = exec(w, path, op.getAsJsonObject("do"), virtual);
                    } catch (Gap g) {
                        throw g;
                    } catch (Exception e) {
                        r = exc(e);
                    }
                    String e = r.get("err").getAsString();
                    counts.addProperty(e, (counts.has(e) ? counts.get(e).getAsLong() : 0) + 1);
                }
                JsonObject o = res("OK");
                o.add("val", counts);
                return o;
            }
            case "spawn": {
                String kind = str(op, "kind", "go");
                String as = str(op, "as", "task");
                String tname = str(op, "name", as);
                JsonArray ops = op.has("ops") ? op.getAsJsonArray("ops") : new JsonArray();
                String sub = path + "/" + as;
                w.spawns.incrementAndGet();
                java.util.concurrent.Callable<Object> body = () -> {
                    try {
                        runOps(w, sub, ops, kind.equals("go") || virtual);
                        if (op.has("fail")) throw new TaskFailure(str(op, "fail", "?"));
                        return op.has("result") ? w.toJava(op.get("result")) : null;
                    } finally {
                        w.spawns.decrementAndGet();
                    }
                };
                Chan<Object> ch;
                try {
                    switch (kind) {
                        case "go": ch = Xchan.go(tname, body); break;
                        case "thread": ch = Xchan.thread(tname, body); break;
                        case "io_thread": ch = Xchan.ioThread(tname, body); break;
                        default: throw new RunnerError("spawn kind " + kind);
                    }
                } catch (RuntimeException e) {
                    w.spawns.decrementAndGet();
                    throw e;
                }
                w.objs.put(as, ch);
                return res("OK");
            }
            case "onto_chan": {
                List<Object> vals = new ArrayList<>();
                for (JsonElement e : op.getAsJsonArray("vals")) vals.add(w.toJava(e));
                Chan<Void> d = Flow.ontoChan(w.chan(op, "ch"), vals, bool(op, "close", true));
                if (op.has("done")) w.objs.put(str(op, "done", "_"), d);
                return res("OK");
            }
            case "to_chan": {
                List<Object> vals = new ArrayList<>();
                for (JsonElement e : op.getAsJsonArray("vals")) vals.add(w.toJava(e));
                w.objs.put(str(op, "as", "_"), Flow.toChan(vals));
                return res("OK");
            }
            case "pipe": {
                Chan<Void> d = Flow.pipe(w.chan(op, "from"), w.chan(op, "to"), bool(op, "close", true));
                if (op.has("done")) w.objs.put(str(op, "done", "_"), d);
                return res("OK");
            }
            case "put_async":
            case "take_async":
            case "alts_async":
                return startAsync(w, op, name);
            case "await": {
                AsyncOp a = asyncOp(w, op);
                JsonObject r = a.await(num(op, "within_ms", 5000));
                if (bool(op, "placement", false)) r.addProperty("ran_on", a.ranOnCaller ? "caller" : "other");
                if (bool(op, "in_go", false)) r.addProperty("in_go", a.inGo);
                return r;
            }
            case "completed": {
                JsonObject r = res("OK");
                r.addProperty("val", asyncOp(w, op).completed());
                return r;
            }
            case "cancel": {
                AsyncOp a = asyncOp(w, op);
                // xchan_op_cancel: OK when this cancel won; EDONE when the op had
                // finished (a future's cancel(false) answers true again once cancelled).
                if (a.handle.isDone()) return res("EDONE");
                return res(a.handle.cancel(false) ? "OK" : "EDONE");
            }
            case "cancel_ex": {
                AsyncOp a = asyncOp(w, op);
                JsonObject res = a.of(a.handle.cancelEx());
                if (a.notify) a.result = res;
                JsonObject r = res("OK");
                r.add("res", res);
                return r;
            }
            case "collect": {
                AsyncOp a = asyncOp(w, op);
                JsonObject res = a.of(a.handle.collect());
                a.result = res;
                JsonObject r = res("OK");
                r.add("res", res);
                return r;
            }
            case "op_state": {
                JsonObject r = res("OK");
                r.addProperty("val", asyncOp(w, op).handle.state().name());
                return r;
            }
            case "token":
                w.objs.put(str(op, "as", "?"), new io.xchan.CancelToken());
                return res("OK");
            case "fire":
            case "reset": {
                Object t = w.objs.get(str(op, "token", "?"));
                if (!(t instanceof io.xchan.CancelToken c)) throw new RunnerError("unknown token " + str(op, "token", "?"));
                if (name.equals("fire")) c.fire();
                else c.reset();
                return res("OK");
            }
            case "shutdown":
                Xchan.shutdown();
                return res("OK");
            case "seed":
                Xchan.randomSeed(num(op, "seed", 0));
                return res("OK");
            case "alts_repeat": {
                List<Chan<Object>> cs = new ArrayList<>();
                for (JsonElement ce : op.getAsJsonArray("clauses")) cs.add(w.chan(ce.getAsJsonObject(), "take"));
                long n = num(op, "n", 1000);
                long[] counts = new long[cs.size()];
                for (long k = 0; k < n; k++) {
                    for (int i = 0; i < cs.size(); i++) cs.get(i).offer((long) i);
                    Alts a = new Alts();
                    for (Chan<Object> c2 : cs) a.take(c2);
                    if (bool(op, "priority", false)) a.priority();
                    Alts.Result r = a.orElse(DEFAULT).select();
                    if (!r.isDefault()) counts[r.index()]++;
                    for (Chan<Object> c2 : cs) while (c2.poll() != null) { }
                }
                JsonObject o = res("OK");
                boolean fair = op.has("min_share");
                for (long k : counts) if (fair && k < op.get("min_share").getAsDouble() * n) fair = false;
                if (fair) o.addProperty("val", "fair");
                else {
                    JsonArray a = new JsonArray();
                    for (long k : counts) a.add(k);
                    o.add("val", a);
                }
                return o;
            }
            case "in_go": {
                JsonObject o = res("OK");
                o.addProperty("val", Xchan.inGo());
                return o;
            }
            case "executor_factory": {
                for (JsonElement e : op.getAsJsonArray("counting")) {
                    String wl = e.getAsString();
                    COUNTS.putIfAbsent(wl, new AtomicInteger());
                    EXECUTORS.putIfAbsent(wl, r -> {
                        COUNTS.get(wl).incrementAndGet();
                        Thread t = new Thread(r);
                        t.setDaemon(true);
                        t.start();
                    });
                }
                Xchan.setExecutorFactory(wl -> EXECUTORS.get(wl.name().toLowerCase()));
                return res("OK");
            }
            case "executor_count": {
                JsonObject o = res("OK");
                AtomicInteger c2 = COUNTS.get(str(op, "workload", "?"));
                o.addProperty("val", c2 == null ? 0 : c2.get());
                return o;
            }
            case "execute": {
                io.xchan.Workload wl = io.xchan.Workload.named(str(op, "workload", null));
                if (!op.has("ch")) {
                    Xchan.executorFor(wl);
                } else {
                    Chan<Object> ch = w.chan(op, "ch");
                    Object v = w.toJava(op.get("val"));
                    Xchan.execute(wl, () -> {
                        try {
                            ch.put(v);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    });
                }
                return res("OK");
            }
            case "task_errors": {
                long n = num(op, "n", 1);
                long end = System.nanoTime() + num(op, "within_ms", 5000) * 1_000_000L;
                while (TASK_ERRORS.size() < n && System.nanoTime() < end) Thread.sleep(1);
                JsonObject r = res(TASK_ERRORS.size() < n ? "ETIMEDOUT" : "OK");
                JsonArray a = new JsonArray();
                synchronized (TASK_ERRORS) {
                    for (String[] e : TASK_ERRORS) {
                        JsonArray x = new JsonArray();
                        x.add(e[0]);
                        x.add(e[1]);
                        a.add(x);
                    }
                }
                r.add("val", a);
                return r;
            }
            case "check_version":
                if (op.has("number")) Xchan.checkVersion((int) num(op, "number", 0));
                else Xchan.checkVersion();
                return res("OK");
            default: {
                JsonObject r = comb(w, name, op);
                if (r != null) return r;
                throw new RunnerError("unknown op " + name);
            }
        }
    }

    static boolean sameJson(JsonElement a, JsonElement b) {
        return canon(a).equals(canon(b));
    }

    static JsonElement canon(JsonElement e) {
        if (e == null) return JsonNull.INSTANCE;
        if (e.isJsonObject()) {
            JsonObject o = new JsonObject();
            e.getAsJsonObject().keySet().stream().sorted().forEach(k -> o.add(k, canon(e.getAsJsonObject().get(k))));
            return o;
        }
        if (e.isJsonArray()) {
            JsonArray a = new JsonArray();
            for (JsonElement x : e.getAsJsonArray()) a.add(canon(x));
            return a;
        }
        if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) {
            double d = e.getAsDouble();
            return d == Math.rint(d) && Math.abs(d) < 9e15 ? new JsonPrimitive((long) d) : new JsonPrimitive(d);
        }
        return e;
    }

    static void sortVals(JsonObject r) {
        JsonElement v = r.get("val");
        if (v == null || !v.isJsonArray()) return;
        List<JsonElement> l = new ArrayList<>();
        v.getAsJsonArray().forEach(x -> l.add(canon(x)));
        l.sort((x, y) -> x.toString().compareTo(y.toString()));
        JsonArray a = new JsonArray();
        l.forEach(a::add);
        r.add("val", a);
    }

    static JsonObject normalize(JsonObject op, JsonElement e) {
        JsonObject x;
        if (e == null) x = res("OK");
        else if (e.isJsonPrimitive()) x = res(e.getAsString());
        else {
            x = e.getAsJsonObject().deepCopy();
            if (!x.has("err")) x.addProperty("err", "OK");
        }
        if (op.has("elapsed_ms")) x.addProperty("time", "ok");
        if (bool(op, "unordered", false)) sortVals(x);
        return x;
    }

    static void runOps(World w, String path, JsonArray ops, boolean virtual) {
        for (int i = 0; i < ops.size(); i++) {
            JsonObject op = ops.get(i).getAsJsonObject();
            long t0 = System.nanoTime();
            if (op.has("mark")) w.marks.put(str(op, "mark", "?"), t0);
            JsonObject actual;
            try {
                actual = exec(w, path, op, virtual);
            } catch (Throwable e) {
                actual = exc(e);
            }
            if (op.has("elapsed_ms")) {
                long start = op.has("since") ? w.marks.getOrDefault(str(op, "since", "?"), t0) : t0;
                double got = (System.nanoTime() - start) / 1e6;
                JsonArray win = op.getAsJsonArray("elapsed_ms");
                double lo = win.get(0).getAsDouble(), hi = win.get(1).getAsDouble();
                actual.addProperty("time", got >= lo && got <= hi ? "ok" : String.format("%.1f ms, outside [%s, %s]", got, lo, hi));
            }
            JsonElement e = op.get("expect");
            JsonObject expect = normalize(op, e);
            if (bool(op, "unordered", false)) sortVals(actual);
            boolean ok = (e != null && e.isJsonPrimitive() && e.getAsString().equals("any"))
                    || ((e != null || !op.has("expect_one_of")) && sameJson(expect, actual));
            if (op.has("expect_one_of"))
                for (JsonElement alt : op.getAsJsonArray("expect_one_of")) if (sameJson(normalize(op, alt), actual)) ok = true;
            if (actual.get("err").getAsString().equals("GAP")) ok = false;
            JsonObject entry = new JsonObject();
            entry.addProperty("proc", path);
            entry.addProperty("i", i);
            entry.addProperty("op", str(op, "op", "?"));
            entry.add("expect", expect);
            entry.add("actual", actual);
            entry.addProperty("ok", ok);
            w.trace.add(entry);
            if (!ok) {
                w.failedAt.compareAndSet(0, System.nanoTime());
                break;
            }
        }
    }

    // ---- one case ----

    static boolean stuck;

    /**
     * Starts a proc: kind thread on a platform Thread, kind task as a go
     * body (Xchan.go: a virtual thread, in go context). Counts it in
     * {@code running} until it returns.
     */
    static void startProc(boolean task, String name, AtomicInteger running, Runnable r) {
        running.incrementAndGet();
        Runnable counted = () -> {
            try {
                r.run();
            } finally {
                running.decrementAndGet();
            }
        };
        if (task) {
            Xchan.go(name, () -> {
                counted.run();
                return null;
            });
            return;
        }
        Thread t = new Thread(counted, name);
        t.setDaemon(true);
        t.start();
    }

    static void rescue(World w) throws InterruptedException {
        List<Chan<?>> chans = new ArrayList<>();
        for (Object o : w.objs.values()) if (o instanceof Chan<?> c) chans.add(c);
        for (Chan<?> c : chans) c.close();
        long end = System.nanoTime() + 1_000_000_000L;
        while (System.nanoTime() < end) {
            for (Chan<?> c : chans) while (c.poll() != null) { }
            Thread.sleep(2);
        }
    }

    static JsonObject runCase(String file, JsonObject c, String kind) throws InterruptedException {
        long t0 = System.nanoTime();
        World w = new World(t0 + num(c, "timeout_ms", 20000) * 1_000_000L);
        JsonArray diff = new JsonArray();
        boolean virtual = kind.equals("task");
        if (virtual && !Xchan.hasVirtualThreads()) {
            // The task kind is Java's own concurrency: go bodies on virtual
            // threads (Java 21+). This JDK has none, so the kind cannot run.
            JsonObject r = new JsonObject();
            r.addProperty("case", str(c, "name", "?"));
            r.addProperty("file", file);
            r.addProperty("lang", "java");
            r.addProperty("kind", kind);
            r.addProperty("status", "n/a");
            diff.add("Java " + Runtime.version().feature() + " has no virtual threads: the task kind needs Java 21+");
            r.add("diff", diff);
            r.addProperty("ms", 0);
            return r;
        }
        TASK_ERRORS.clear();
        boolean setupOk = true;
        if (c.has("chans")) {
            for (String n : c.getAsJsonObject("chans").keySet()) {
                try {
                    w.objs.put(n, makeChan(c.getAsJsonObject("chans").getAsJsonObject(n)));
                } catch (RuntimeException e) {
                    JsonObject r = exc(e);
                    diff.add("channel " + n + ": " + (r.has("msg") ? r.get("msg").getAsString() : r.get("err").getAsString()));
                    setupOk = false;
                    break;
                }
            }
        }
        boolean timedOut = false;
        if (setupOk) {
            AtomicInteger running = new AtomicInteger();
            for (JsonElement pe : c.getAsJsonArray("procs")) {
                JsonObject p = pe.getAsJsonObject();
                String pname = str(p, "name", "main");
                JsonArray ops = p.has("ops") ? p.getAsJsonArray("ops") : new JsonArray();
                try {
                    startProc(virtual, pname, running, () -> runOps(w, pname, ops, virtual));
                } catch (RuntimeException e) {
                    diff.add("proc " + pname + " did not start: " + e);
                    setupOk = false;
                    break;
                }
            }
            for (;;) {
                boolean alive = running.get() > 0 || w.spawns.get() > 0;
                if (!alive) break;
                long f = w.failedAt.get();
                long dl = f == 0 ? w.deadline : Math.min(w.deadline, f + 1_000_000_000L);
                if (System.nanoTime() > dl) {
                    timedOut = true;
                    break;
                }
                Thread.sleep(1);
            }
            if (timedOut) {
                rescue(w);
                long end = System.nanoTime() + 2_000_000_000L;
                while (running.get() > 0 && System.nanoTime() < end) Thread.sleep(1);
                stuck = running.get() > 0;
            }
        }
        boolean failed = !setupOk || timedOut;
        boolean mismatch = false;
        synchronized (w.trace) {
            for (JsonObject e : w.trace) {
                if (!e.get("ok").getAsBoolean()) mismatch = true;
                if (timedOut || !e.get("ok").getAsBoolean()) {
                    failed = true;
                    diff.add(e);
                }
            }
        }
        if (timedOut)
            diff.add(mismatch ? "after the first mismatch, procs still blocked were " + (stuck ? "not freed" : "freed by closing and draining the case's channels")
                    : "a proc or task did not finish before the case's deadline");
        JsonObject r = new JsonObject();
        r.addProperty("case", str(c, "name", "?"));
        r.addProperty("file", file);
        r.addProperty("lang", "java");
        r.addProperty("kind", kind);
        r.addProperty("status", timedOut ? (mismatch ? "fail" : "hang") : failed ? "fail" : "pass");
        r.add("diff", diff);
        r.addProperty("ms", (System.nanoTime() - t0) / 1_000_000L);
        return r;
    }

    /** An isolated case: this program again, in a fresh JVM, with the case's env. */
    static JsonObject runIsolated(String dir, String file, JsonObject c, String kind) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java));
        if (Runtime.version().feature() >= 22) cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-Dxchan.cross.lib=" + System.getProperty("xchan.cross.lib", ""));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Runner.class.getName(), "--cases", dir, "--case", str(c, "name", "?"), "--kind", kind, "--json", "--in-process"));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        if (c.has("env")) for (String k : c.getAsJsonObject("env").keySet()) pb.environment().put(k, str(c.getAsJsonObject("env"), k, ""));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        try {
            return JsonParser.parseString(out).getAsJsonArray().get(0).getAsJsonObject();
        } catch (RuntimeException e) {
            JsonObject r = new JsonObject();
            r.addProperty("case", str(c, "name", "?"));
            r.addProperty("file", file);
            r.addProperty("lang", "java");
            r.addProperty("kind", kind);
            r.addProperty("status", "error");
            JsonArray d = new JsonArray();
            d.add("isolated run gave no result (exit " + p.exitValue() + ")");
            r.add("diff", d);
            r.addProperty("ms", 0);
            return r;
        }
    }

    public static void main(String[] args) throws Exception {
        String dir = null, only = null, kindOnly = null;
        boolean json = false, inProcess = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--cases": dir = args[++i]; break;
                case "--case": only = args[++i]; break;
                case "--kind": kindOnly = args[++i]; break;
                case "--json": json = true; break;
                case "--in-process": inProcess = true; break;
                default:
                    System.err.println("usage: runner --cases DIR [--json] [--case NAME] [--kind thread|task]");
                    System.exit(2);
            }
        }
        List<Path> files = new ArrayList<>();
        try (var s = Files.list(Path.of(dir))) {
            s.filter(p -> p.toString().endsWith(".json")).sorted().forEach(files::add);
        }
        Xchan.setTaskErrorHook(Runner::taskError);
        JsonArray results = new JsonArray();
        boolean allOk = true;
        outer:
        for (Path f : files) {
            JsonElement root = JsonParser.parseString(Files.readString(f));
            JsonArray cases = root.isJsonArray() ? root.getAsJsonArray() : root.getAsJsonObject().getAsJsonArray("cases");
            for (JsonElement ce : cases) {
                JsonObject c = ce.getAsJsonObject();
                if (only != null && !only.equals(str(c, "name", ""))) continue;
                for (String kind : KINDS) {
                    boolean allowed = !c.has("kinds");
                    if (c.has("kinds")) for (JsonElement k : c.getAsJsonArray("kinds")) if (k.getAsString().equals(kind)) allowed = true;
                    if (!allowed || (kindOnly != null && !kindOnly.equals(kind))) continue;
                    JsonObject r;
                    if (bool(c, "isolated", false) && !inProcess) {
                        r = runIsolated(dir, f.getFileName().toString(), c, kind);
                    } else if (false) {
                        r = new JsonObject();
                        r.addProperty("case", str(c, "name", "?"));
                        r.addProperty("file", f.getFileName().toString());
                        r.addProperty("lang", "java");
                        r.addProperty("kind", kind);
                        r.addProperty("status", "error");
                        JsonArray d = new JsonArray();
                        d.add("isolated cases (a fresh process each) are not implemented by the Java runner yet");
                        r.add("diff", d);
                        r.addProperty("ms", 0);
                    } else r = runCase(f.getFileName().toString(), c, kind);
                    String st = r.get("status").getAsString();
                    if (!st.equals("pass") && !st.equals("n/a")) allOk = false;
                    if (!json) {
                        System.out.printf("%-12s %-6s %s (%d ms)%n", r.get("status").getAsString(), kind, str(c, "name", "?"), r.get("ms").getAsLong());
                        if (!r.get("status").getAsString().equals("pass"))
                            for (JsonElement d : r.getAsJsonArray("diff")) System.out.println("    " + d);
                    }
                    results.add(r);
                    if (stuck) break outer;
                }
            }
        }
        if (json) System.out.println(GSON.toJson(results));
        System.out.flush();
        Runtime.getRuntime().halt(stuck || !allOk ? 1 : 0);
    }
}

/**
 * Boxes and another runtime's host values, made by C code as users get them:
 * through the binding's cross-test library (tests/cross/java, loaded from
 * the path in the system property xchan.cross.lib), wrapped with the
 * binding's public Box.fromNativeValue.
 */
final class CrossExt {
    private static final String LIB = System.getProperty("xchan.cross.lib", "");
    private static volatile boolean loaded;

    private static synchronized void load() {
        if (loaded) return;
        if (LIB.isEmpty() || !new java.io.File(LIB).isFile()) {
            throw new Runner.Gap("the cross-test library of tests/cross/java is not built (" + LIB + ")");
        }
        System.load(LIB);
        loaded = true;
    }

    static native long boxNew(long api, String tag);
    static native long foreignHostNew(long api);
    static native void valueFree(long api, long value);
    static native String boxTag(long ptr);

    private static io.xchan.Box wrap(long value) {
        if (value == 0) throw new Runner.RunnerError("the cross-test library could not make the value");
        try {
            return io.xchan.Box.fromNativeValue(value);
        } finally {
            valueFree(io.xchan.Xchan.apiHandle(), value);
        }
    }

    /** A BOX holding a native string {@code tag}. */
    static io.xchan.Box box(String tag) {
        load();
        return wrap(boxNew(io.xchan.Xchan.apiHandle(), tag));
    }

    /** A HOST value of a runtime other than the JVM's. */
    static io.xchan.Box foreignHost() {
        load();
        return wrap(foreignHostNew(io.xchan.Xchan.apiHandle()));
    }

    /** The tag of a box made by {@link #box}, or "?". */
    static String tag(io.xchan.Box b) {
        load();
        String t = boxTag(b.nativePointer());
        return t == null ? "?" : t;
    }
}
