/*
 * Context switch for aarch64 (AAPCS64). See coro.h.
 *
 * int wire_coro_jump(void **save_sp, void *to_sp)
 *
 * Saves x19-x30 and d8-d15 in a 160-byte frame on the current stack,
 * stores sp in *save_sp, loads to_sp, restores the same frame and
 * branches to the restored x30. `br` rather than `ret` keeps the return
 * predictor from guessing the caller of this switch. Returns 0 in the
 * context it resumes (see coro_x86_64.S for why blocking calls end with
 * `return wire_coro_jump(...)`).
 */
	.text
	.globl	wire_coro_jump
	.hidden	wire_coro_jump
	.type	wire_coro_jump, %function
	.p2align 4
wire_coro_jump:
	.cfi_startproc
	sub	sp, sp, #160
	.cfi_adjust_cfa_offset 160
	stp	x19, x20, [sp, #0]
	stp	x21, x22, [sp, #16]
	stp	x23, x24, [sp, #32]
	stp	x25, x26, [sp, #48]
	stp	x27, x28, [sp, #64]
	stp	x29, x30, [sp, #80]
	.cfi_rel_offset x19, 0
	.cfi_rel_offset x20, 8
	.cfi_rel_offset x21, 16
	.cfi_rel_offset x22, 24
	.cfi_rel_offset x23, 32
	.cfi_rel_offset x24, 40
	.cfi_rel_offset x25, 48
	.cfi_rel_offset x26, 56
	.cfi_rel_offset x27, 64
	.cfi_rel_offset x28, 72
	.cfi_rel_offset x29, 80
	.cfi_rel_offset x30, 88
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
	.cfi_adjust_cfa_offset -160
	mov	w0, wzr
	br	x30
	.cfi_endproc
	.size	wire_coro_jump, .-wire_coro_jump

/* First code on a fresh stack: fn(arg) from x19/x20; backtraces end here. */
	.globl	wire_coro_trampoline
	.hidden	wire_coro_trampoline
	.type	wire_coro_trampoline, %function
	.p2align 4
wire_coro_trampoline:
	.cfi_startproc
	.cfi_undefined x30
	mov	x0, x20
	blr	x19
	brk	#0
	.cfi_endproc
	.size	wire_coro_trampoline, .-wire_coro_trampoline

/*
 * Resume point of a context redirected by coro_redirect() (coro.h): pop the
 * original resume address into x30 and the function to call into x16,
 * leaving sp as the resume point had it, and branch, so the function runs
 * as if called from the resume point.
 */
	.globl	wire_coro_redirect_stub
	.hidden	wire_coro_redirect_stub
	.type	wire_coro_redirect_stub, %function
	.p2align 4
wire_coro_redirect_stub:
	ldp	x30, x16, [sp], #16
	br	x16
	.size	wire_coro_redirect_stub, .-wire_coro_redirect_stub

	.section .note.GNU-stack, "", %progbits
