/*
 * switch_aarch64.S — the context switch for go tasks on aarch64 (AAPCS64).
 *
 * void xchan__ctx_switch(void **save_sp, void *new_sp)
 *   Saves the callee-saved registers x19-x28, fp (x29), lr (x30) and the low
 *   halves of v8-v15 (d8-d15) in a 160-byte frame on the current stack,
 *   stores sp in *save_sp, switches to new_sp and restores the same frame,
 *   returning through the restored lr.
 *
 * xchan__ctx_entry: where a fresh stack first "returns" to; calls x20(x19).
 *   coro.c lays out that first frame: [sp+0] x19 (arg), [sp+8] x20 (fn),
 *   [sp+80] x29 = 0, [sp+88] x30 = xchan__ctx_entry; sp + 160 is 16-aligned.
 */
#if defined(__aarch64__) && !defined(XCHAN_FORCE_UCONTEXT)
	.text
	.globl	xchan__ctx_switch
	.hidden	xchan__ctx_switch
	.type	xchan__ctx_switch, %function
	.p2align 4
xchan__ctx_switch:
	.cfi_startproc
	sub	sp, sp, #160
	stp	x19, x20, [sp, #0]
	stp	x21, x22, [sp, #16]
	stp	x23, x24, [sp, #32]
	stp	x25, x26, [sp, #48]
	stp	x27, x28, [sp, #64]
	stp	x29, x30, [sp, #80]
	stp	d8, d9, [sp, #96]
	stp	d10, d11, [sp, #112]
	stp	d12, d13, [sp, #128]
	stp	d14, d15, [sp, #144]
	mov	x2, sp
	str	x2, [x0]
	mov	sp, x1
	ldp	x19, x20, [sp, #0]
	ldp	x21, x22, [sp, #16]
	ldp	x23, x24, [sp, #32]
	ldp	x25, x26, [sp, #48]
	ldp	x27, x28, [sp, #64]
	ldp	x29, x30, [sp, #80]
	ldp	d8, d9, [sp, #96]
	ldp	d10, d11, [sp, #112]
	ldp	d12, d13, [sp, #128]
	ldp	d14, d15, [sp, #144]
	add	sp, sp, #160
	ret
	.cfi_endproc
	.size	xchan__ctx_switch, .-xchan__ctx_switch

	.globl	xchan__ctx_entry
	.hidden	xchan__ctx_entry
	.type	xchan__ctx_entry, %function
	.p2align 4
xchan__ctx_entry:
	.cfi_startproc
	.cfi_undefined x30
	mov	x0, x19
	blr	x20
	brk	#0
	.cfi_endproc
	.size	xchan__ctx_entry, .-xchan__ctx_entry
#endif
#if defined(__linux__) && defined(__ELF__)
	.section .note.GNU-stack, "", %progbits
#endif
