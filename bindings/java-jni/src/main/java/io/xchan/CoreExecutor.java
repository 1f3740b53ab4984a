package io.xchan;

import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * One of the core's executors (xchan_executor_for) as an {@link Executor}:
 * what {@link Xchan#executorFor} gives when the environment variable
 * {@code XCHAN_EXECUTOR_FACTORY} names a C executor factory and no Java
 * factory answers for the workload. Then Java's go/thread/ioThread/execute
 * bodies run on the same executors as the core's own tasks and C code's.
 *
 * <p>{@link #execute} submits through JNI (xchan_execute); the task runs
 * on a thread of the core's executor, attached to the JVM as a daemon
 * thread named as the OS thread (for example "xtf-mixed", "xchan-mixed-3")
 * for the thread's life. A task that throws hands the Throwable to that
 * thread's uncaught-exception handler, as a thread of a JVM executor does.
 * These are platform threads: a go body that blocks on a channel holds its
 * executor thread while it waits. A task's interrupt does not outlive it
 * (the flag is cleared between tasks).
 *
 * <p>No state besides the borrowed executor (it lives until the process
 * ends), no locks.
 */
final class CoreExecutor implements Executor {
    private final Workload workload;
    private final long executor;

    private CoreExecutor(Workload workload, long executor) {
        this.workload = workload;
        this.executor = executor;
    }

    /**
     * The core's executor of {@code w}.
     *
     * @throws XchanException.ELOAD when XCHAN_EXECUTOR_FACTORY names a
     *     library or symbol that cannot be loaded (the message names the
     *     variable); ESHUTDOWN after shutdown
     */
    static CoreExecutor of(Workload w) {
        return new CoreExecutor(w, Native.coreExecutorFor(w.ordinal()));
    }

    /**
     * Runs {@code task} on the core's executor.
     *
     * @throws RejectedExecutionException when the executor refuses it (after
     *     shutdown, ESHUTDOWN), with the core's error as its cause
     */
    @Override
    public void execute(Runnable task) {
        Objects.requireNonNull(task, "task");
        int err = Native.coreExecute(executor, task);
        if (err != Native.OK) {
            throw (RejectedExecutionException) new RejectedExecutionException(
                    "the core's " + workload + " executor refused the task (" + Native.errName(err) + ")")
                    .initCause(XchanException.of(err, "xchan_execute on the core's " + workload + " executor"));
        }
    }

    /**
     * Called by the JNI trampoline (jx_exec.c) on the executor's thread.
     * The thread outlives the task and runs the next one (and the core's
     * callbacks into Java): as a JVM pool's worker does, each task starts
     * with the interrupt flag clear, and what a task left set is cleared.
     * The flag the thread had before comes back after the task (an executor
     * that runs the task inline, on the submitting Java thread, leaves that
     * thread's own interrupt alone).
     */
    static void run(Runnable task) {
        boolean wasInterrupted = Thread.interrupted();
        try {
            task.run();
        } catch (Throwable t) {
            Thread th = Thread.currentThread();
            th.getUncaughtExceptionHandler().uncaughtException(th, t);
        } finally {
            Thread.interrupted();
            if (wasInterrupted) Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() { return "CoreExecutor[" + workload + "]"; }
}
