/*
 * stackguard.h — naming the go task that overflowed its stack (stackguard.c).
 */
#ifndef XCHAN_STACKGUARD_H
#define XCHAN_STACKGUARD_H

/* Called by a thread before it first runs a go task: installs the
 * process-wide SIGSEGV/SIGBUS handler that recognises guard-page hits (once)
 * and gives this thread an alternate signal stack for it.  Does nothing
 * under sanitizers or with XCHAN_STACK_GUARD_HANDLER=0. */
void xchan__stackguard_thread_init(void);

#endif
