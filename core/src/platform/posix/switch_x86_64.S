/*
 * switch_x86_64.S — the context switch for go tasks on x86-64 (System V).
 *
 * void xchan__ctx_switch(void **save_sp, void *new_sp)
 *   Pushes the callee-saved registers (rbp, rbx, r12-r15) and the SSE/x87
 *   control words on the current stack, stores the stack pointer in
 *   *save_sp, loads new_sp and pops the same frame from there.  Everything
 *   else is caller-saved by the ABI, so this is the whole context.
 *
 * xchan__ctx_entry: where a fresh stack "returns" to on its first switch;
 *   calls r13(r12).  coro.c lays out that first frame; the two must agree:
 *   [sp+0] mxcsr | fpucw<<32, r15, r14, r13 (fn), r12 (arg), rbx, rbp,
 *   return address (xchan__ctx_entry), with the stack 16-byte aligned after
 *   the return.
 */
#if defined(__x86_64__) && !defined(XCHAN_FORCE_UCONTEXT)
	.text
	.globl	xchan__ctx_switch
	.hidden	xchan__ctx_switch
	.type	xchan__ctx_switch, @function
	.p2align 4
xchan__ctx_switch:
	.cfi_startproc
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	subq	$8, %rsp
	stmxcsr	(%rsp)
	fnstcw	4(%rsp)
	movq	%rsp, (%rdi)
	movq	%rsi, %rsp
	ldmxcsr	(%rsp)
	fldcw	4(%rsp)
	addq	$8, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
	.cfi_endproc
	.size	xchan__ctx_switch, .-xchan__ctx_switch

	.globl	xchan__ctx_entry
	.hidden	xchan__ctx_entry
	.type	xchan__ctx_entry, @function
	.p2align 4
xchan__ctx_entry:
	.cfi_startproc
	.cfi_undefined rip
	movq	%r12, %rdi
	callq	*%r13
	ud2
	.cfi_endproc
	.size	xchan__ctx_entry, .-xchan__ctx_entry
#endif
#if defined(__linux__) && defined(__ELF__)
	.section .note.GNU-stack, "", %progbits
#endif
