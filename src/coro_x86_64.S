/*
 * Context switch for x86-64 (System V). See coro.h.
 *
 * int wire_coro_jump(void **save_sp, void *to_sp)
 *
 * Pushes the callee-saved registers on the current stack, stores the stack
 * pointer in *save_sp, loads to_sp and pops the same frame from there. The
 * resume address is popped into a scratch register and reached with an
 * indirect jump: a `ret` would consult the return stack buffer, which
 * predicts the caller of this switch and misses on every switch.
 *
 * It returns 0 in the context it resumes. A blocking call whose last step
 * is `return wire_coro_jump(...)` compiles to a jump here, so the resume
 * address is that call's own return address in the caller: the resumed
 * wire continues in its caller without a `ret`, which the return stack
 * buffer (filled by the other context's calls) would mispredict.
 *
 * Both stacks hold the same frame shape, so one set of CFI notes describes
 * the frame before and after the stack pointer changes and a debugger can
 * unwind through a switch.
 */
	.text
	.globl	wire_coro_jump
	.hidden	wire_coro_jump
	.type	wire_coro_jump, @function
	.p2align 4
wire_coro_jump:
	.cfi_startproc
	pushq	%rbp
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rbp, 0
	pushq	%rbx
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rbx, 0
	pushq	%r12
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r12, 0
	pushq	%r13
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r13, 0
	pushq	%r14
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r14, 0
	pushq	%r15
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r15, 0
	movq	%rsp, (%rdi)
	movq	%rsi, %rsp
	popq	%r15
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r15
	popq	%r14
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r14
	popq	%r13
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r13
	popq	%r12
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r12
	popq	%rbx
	.cfi_adjust_cfa_offset -8
	.cfi_restore %rbx
	popq	%rbp
	.cfi_adjust_cfa_offset -8
	.cfi_restore %rbp
	popq	%rcx
	.cfi_adjust_cfa_offset -8
	.cfi_register %rip, %rcx
	xorl	%eax, %eax
	jmpq	*%rcx
	.cfi_endproc
	.size	wire_coro_jump, .-wire_coro_jump

/*
 * First code run on a fresh stack: call fn(arg) from r12/r13. The return
 * address is marked undefined so backtraces of a wire end here.
 */
	.globl	wire_coro_trampoline
	.hidden	wire_coro_trampoline
	.type	wire_coro_trampoline, @function
	.p2align 4
wire_coro_trampoline:
	.cfi_startproc
	.cfi_undefined %rip
	movq	%r13, %rdi
	callq	*%r12
	ud2
	.cfi_endproc
	.size	wire_coro_trampoline, .-wire_coro_trampoline

	.section .note.GNU-stack, "", @progbits
