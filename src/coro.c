/*
 * coro - initial frames for the assembly switches, and the ucontext
 * fallback for other architectures. See coro.h.
 */
#include <stdint.h>
#include <string.h>
#include "coro.h"

#ifdef WIRE_ASAN
__thread wire_coro_t *wire_coro_asan_from;
#endif

#if defined(WIRE_CORO_X86_64)

void wire_coro_trampoline(void);

/*
 * The frame wire_coro_jump pops: r15 r14 r13 r12 rbx rbp, then the resume
 * address. r12 carries @fn and r13 @arg into wire_coro_trampoline. The
 * frame sits so that the trampoline starts with rsp 16-byte aligned, as
 * at a call site.
 */
void *wire_coro_prepare(void *stack, size_t size, void (*fn)(void *), void *arg)
{
	uintptr_t top = ((uintptr_t)stack + size) & ~(uintptr_t)15;
	uint64_t *sp = (uint64_t *)(top - 72);

	memset(sp, 0, 72);
	sp[3] = (uint64_t)(uintptr_t)fn;  /* r12 */
	sp[2] = (uint64_t)(uintptr_t)arg; /* r13 */
	sp[6] = (uint64_t)(uintptr_t)wire_coro_trampoline;
	return sp;
}

#elif defined(WIRE_CORO_AARCH64)

void wire_coro_trampoline(void);

/*
 * The frame wire_coro_jump pops (160 bytes): x19..x28, x29, x30, d8..d15.
 * x19 carries @fn, x20 @arg, x30 the trampoline; sp stays 16-byte aligned.
 */
void *wire_coro_prepare(void *stack, size_t size, void (*fn)(void *), void *arg)
{
	uintptr_t top = ((uintptr_t)stack + size) & ~(uintptr_t)15;
	uint64_t *sp = (uint64_t *)(top - 160);

	memset(sp, 0, 160);
	sp[0] = (uint64_t)(uintptr_t)fn;  /* x19 */
	sp[1] = (uint64_t)(uintptr_t)arg; /* x20 */
	sp[11] = (uint64_t)(uintptr_t)wire_coro_trampoline; /* x30 */
	return sp;
}

#else /* WIRE_CORO_UCONTEXT */

#include <ucontext.h>

/*
 * The saved context of a switched-out wire is a ucontext_t in the frame of
 * its own wire_coro_jump call; a fresh one sits at the top of its stack.
 * makecontext passes only ints, so pointers travel split in halves.
 */
static void ucontext_entry(unsigned fn_lo, unsigned fn_hi, unsigned arg_lo, unsigned arg_hi)
{
	void (*fn)(void *) =
		(void (*)(void *))(uintptr_t)(((uint64_t)fn_hi << 32) | (uint64_t)fn_lo);
	void *arg = (void *)(uintptr_t)(((uint64_t)arg_hi << 32) | (uint64_t)arg_lo);
	fn(arg);
	__builtin_trap();
}

void *wire_coro_prepare(void *stack, size_t size, void (*fn)(void *), void *arg)
{
	uintptr_t top = ((uintptr_t)stack + size - sizeof(ucontext_t)) & ~(uintptr_t)63;
	ucontext_t *uc = (ucontext_t *)top;
	uint64_t f = (uint64_t)(uintptr_t)fn, a = (uint64_t)(uintptr_t)arg;

	getcontext(uc);
	uc->uc_stack.ss_sp = stack;
	uc->uc_stack.ss_size = top - (uintptr_t)stack;
	uc->uc_link = NULL;
	makecontext(uc, (void (*)(void))ucontext_entry, 4, (unsigned)f, (unsigned)(f >> 32),
		    (unsigned)a, (unsigned)(a >> 32));
	return uc;
}

void wire_coro_jump(void **save_sp, void *to_sp)
{
	ucontext_t self;

	*save_sp = &self;
	swapcontext(&self, (ucontext_t *)to_sp);
}

#endif
