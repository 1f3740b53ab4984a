package io.xchan;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A transducer: a recipe that wraps a downstream {@link Rf} (reducing step)
 * into a new one, as in Clojure. Built from {@code java.util.function}
 * types: {@code Xf.map(f).andThen(Xf.filter(p)).andThen(Xf.take(3))}.
 * A recipe holds no state; each channel (or pipeline element) gets a fresh
 * instance of the steps, so stateful transducers (take, partitionAll, dedupe)
 * work per channel.
 *
 * <p>Where it runs: on the thread that adds a value to the channel's buffer
 * (the putter, a taker pulling in a pending put, or the closer running the
 * completion). The JNI library attaches C threads to the JVM for it; steps
 * reached from a go task of the C core (combinators) run on an xchan service
 * thread while that task waits. A step must not block.
 */
@FunctionalInterface
public interface Xf {
    /** Wraps {@code down} into the step of this transducer. */
    Rf apply(Rf down);

    /** This transducer, then {@code next} (Clojure's comp order). */
    default Xf andThen(Xf next) {
        Xf self = this;
        return down -> self.apply(next.apply(down));
    }

    /** A reducing step. {@link #step} returns false once no more input is wanted. */
    abstract class Rf {
        protected final Rf down;

        protected Rf(Rf down) { this.down = down; }

        /** Processes one input; false: stop (reduced). */
        public abstract boolean step(Object v);

        /** Flushes state at the end, then completes downstream. */
        public void complete() {
            if (down != null) down.complete();
        }
    }

    // ---- the usual transducers ----------------------------------------------------

    static Xf comp(Xf... xfs) {
        Xf r = d -> d;
        for (Xf x : xfs) r = r.andThen(x);
        return r;
    }

    static <A, B> Xf map(Function<? super A, ? extends B> f) {
        Objects.requireNonNull(f);
        return d -> new Rf(d) {
            @SuppressWarnings("unchecked")
            @Override public boolean step(Object v) { return down.step(f.apply((A) v)); }
        };
    }

    static <A, B> Xf mapIndexed(BiFunction<Long, ? super A, ? extends B> f) {
        return d -> new Rf(d) {
            long i;
            @SuppressWarnings("unchecked")
            @Override public boolean step(Object v) { return down.step(f.apply(i++, (A) v)); }
        };
    }

    static <A> Xf filter(Predicate<? super A> p) {
        Objects.requireNonNull(p);
        return d -> new Rf(d) {
            @SuppressWarnings("unchecked")
            @Override public boolean step(Object v) { return !p.test((A) v) || down.step(v); }
        };
    }

    static <A> Xf remove(Predicate<? super A> p) {
        return filter(p.negate());
    }

    /** map, dropping null results (Clojure keep). */
    static <A, B> Xf keep(Function<? super A, ? extends B> f) {
        return d -> new Rf(d) {
            @SuppressWarnings("unchecked")
            @Override public boolean step(Object v) {
                Object r = f.apply((A) v);
                return r == null || down.step(r);
            }
        };
    }

    static <A, B> Xf mapcat(Function<? super A, ? extends Iterable<? extends B>> f) {
        return d -> new Rf(d) {
            @SuppressWarnings("unchecked")
            @Override public boolean step(Object v) {
                for (Object o : f.apply((A) v)) if (!down.step(o)) return false;
                return true;
            }
        };
    }

    /** Each input is an Iterable whose items go downstream. */
    static Xf cat() {
        return mapcat(v -> (Iterable<?>) v);
    }

    /** The first {@code n} inputs, then stop; {@code n} must be &gt; 0 (EINVAL otherwise, as the core's take). */
    static Xf take(long n) {
        if (n <= 0) throw XchanException.of(Native.EINVAL, "take needs n > 0");
        return d -> new Rf(d) {
            long left = n;
            @Override public boolean step(Object v) {
                if (left <= 0) return false;
                left--;
                boolean more = down.step(v);
                return more && left > 0;
            }
        };
    }

    static Xf drop(long n) {
        return d -> new Rf(d) {
            long left = n;
            @Override public boolean step(Object v) {
                if (left > 0) {
                    left--;
                    return true;
                }
                return down.step(v);
            }
        };
    }

    static <A> Xf takeWhile(Predicate<? super A> p) {
        return d -> new Rf(d) {
            @SuppressWarnings("unchecked")
            @Override public boolean step(Object v) { return p.test((A) v) && down.step(v); }
        };
    }

    static <A> Xf dropWhile(Predicate<? super A> p) {
        return d -> new Rf(d) {
            boolean dropping = true;
            @SuppressWarnings("unchecked")
            @Override public boolean step(Object v) {
                if (dropping && p.test((A) v)) return true;
                dropping = false;
                return down.step(v);
            }
        };
    }

    /** Lists of n inputs; the completion emits the rest. */
    static Xf partitionAll(int n) {
        if (n <= 0) throw XchanException.of(Native.EINVAL, "partitionAll needs n > 0");
        return d -> new Rf(d) {
            List<Object> batch = new ArrayList<>(n);
            @Override public boolean step(Object v) {
                batch.add(v);
                if (batch.size() < n) return true;
                List<Object> out = List.copyOf(batch);
                batch = new ArrayList<>(n);
                return down.step(out);
            }
            @Override public void complete() {
                if (!batch.isEmpty()) {
                    List<Object> out = List.copyOf(batch);
                    batch.clear();
                    down.step(out);
                }
                super.complete();
            }
        };
    }

    /** Lists of consecutive inputs with the same f(input). */
    static <A> Xf partitionBy(Function<? super A, ?> f) {
        return d -> new Rf(d) {
            List<Object> batch = new ArrayList<>();
            Object key;
            @SuppressWarnings("unchecked")
            @Override public boolean step(Object v) {
                Object k = f.apply((A) v);
                if (!batch.isEmpty() && !Objects.equals(k, key)) {
                    List<Object> out = List.copyOf(batch);
                    batch.clear();
                    batch.add(v);
                    key = k;
                    return down.step(out);
                }
                key = k;
                batch.add(v);
                return true;
            }
            @Override public void complete() {
                if (!batch.isEmpty()) {
                    List<Object> out = List.copyOf(batch);
                    batch.clear();
                    down.step(out);
                }
                super.complete();
            }
        };
    }

    /** Drops consecutive duplicates. */
    static Xf dedupe() {
        return d -> new Rf(d) {
            Object last = new Object();
            @Override public boolean step(Object v) {
                if (Objects.equals(v, last)) return true;
                last = v;
                return down.step(v);
            }
        };
    }

    /** Drops every input seen before. */
    static Xf distinct() {
        return d -> new Rf(d) {
            final Set<Object> seen = new HashSet<>();
            @Override public boolean step(Object v) { return !seen.add(v) || down.step(v); }
        };
    }

    /** Puts {@code sep} between inputs. */
    static Xf interpose(Object sep) {
        return d -> new Rf(d) {
            boolean started;
            @Override public boolean step(Object v) {
                if (started && !down.step(sep)) return false;
                started = true;
                return down.step(v);
            }
        };
    }
}
