package io.xchan;

import java.util.concurrent.Executor;

/**
 * Chooses the executor of a workload, as core.async's executor factory.
 * Install one with {@link Xchan#setExecutorFactory} or name a class with a
 * public no-argument constructor in the system property
 * {@code xchan.executor-factory}. Asked at most once per workload, at first
 * use; the answers are cached. Returning null keeps the default; a null for
 * {@link Workload#DISPATCH} uses what {@link Workload#MIXED} resolves to
 * when the factory gives one for MIXED. The default is the core's executor
 * when the environment variable {@code XCHAN_EXECUTOR_FACTORY} names a C
 * factory, else this binding's (see {@link Xchan#executorFor}).
 */
@FunctionalInterface
public interface ExecutorFactory {
    Executor executorFor(Workload workload);
}
