/*
 * coro - the context-switch layer (internal).
 *
 * A context is a saved stack pointer; everything else a switch must keep
 * (the callee-saved registers and the resume address) is pushed on the
 * stack being left. wire_coro_jump() is written in assembly per
 * architecture (coro_<arch>.S) with a ucontext fallback (coro.c).
 *
 * The floating-point control words (MXCSR, x87 CW, FPCR) are not saved:
 * saving them costs a few ns per switch, and a wire that changes the
 * rounding mode must restore it before it yields.
 *
 * Sanitizers and valgrind must be told about every switch or they report
 * errors on the new stack; the hooks are compiled in when the build uses
 * them, and the fields they need exist in every build (wire_coro_t).
 */
#ifndef WIRE_SRC_CORO_H
#define WIRE_SRC_CORO_H

#include <stddef.h>
#include <stdint.h>
#include "wire.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WIRE_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define WIRE_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(WIRE_ASAN)
#define WIRE_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__) && !defined(WIRE_TSAN)
#define WIRE_TSAN 1
#endif

#ifdef WIRE_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef WIRE_TSAN
#include <sanitizer/tsan_interface.h>
#endif
#ifdef WIRE_VALGRIND
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>
#endif

/*
 * Save the current context into *save_sp and continue the one at @to_sp.
 * Returns 0 when the saved context is resumed.
 */
int wire_coro_jump(void **save_sp, void *to_sp);

/*
 * Lay out a fresh context on @stack so that the first jump to the returned
 * stack pointer calls @fn(@arg). @fn must never return. Inline for the
 * assembly switches: spawning a wire is a handful of stores.
 */
#if defined(WIRE_CORO_X86_64) || defined(WIRE_CORO_AARCH64)
void wire_coro_trampoline(void);
#endif

#if defined(WIRE_CORO_X86_64)
/*
 * The frame wire_coro_jump pops: r15 r14 r13 r12 rbx rbp, then the resume
 * address. r12 carries @fn and r13 @arg into wire_coro_trampoline; rbp is
 * zeroed so frame-pointer walks stop there; r14, r15 and rbx start with
 * whatever the stack held. The trampoline starts with rsp 16-byte aligned,
 * as at a call site.
 */
static inline void *wire_coro_prepare(void *stack, size_t size, void (*fn)(void *), void *arg)
{
	uintptr_t top = ((uintptr_t)stack + size) & ~(uintptr_t)15;
	uint64_t *sp = (uint64_t *)(top - 72);

	sp[2] = (uint64_t)(uintptr_t)arg; /* r13 */
	sp[3] = (uint64_t)(uintptr_t)fn;  /* r12 */
	sp[5] = 0;			  /* rbp */
	sp[6] = (uint64_t)(uintptr_t)wire_coro_trampoline;
	return sp;
}
#elif defined(WIRE_CORO_AARCH64)
/*
 * The frame wire_coro_jump pops (160 bytes): x19..x28, x29, x30, d8..d15.
 * x19 carries @fn, x20 @arg, x30 the trampoline, x29 (frame pointer) is
 * zeroed; sp stays 16-byte aligned.
 */
static inline void *wire_coro_prepare(void *stack, size_t size, void (*fn)(void *), void *arg)
{
	uintptr_t top = ((uintptr_t)stack + size) & ~(uintptr_t)15;
	uint64_t *sp = (uint64_t *)(top - 160);

	sp[0] = (uint64_t)(uintptr_t)fn;		    /* x19 */
	sp[1] = (uint64_t)(uintptr_t)arg;		    /* x20 */
	sp[10] = 0;					    /* x29 */
	sp[11] = (uint64_t)(uintptr_t)wire_coro_trampoline; /* x30 */
	return sp;
}
#else
void *wire_coro_prepare(void *stack, size_t size, void (*fn)(void *), void *arg);
#endif

/*
 * Make the suspended context @c, when next resumed, call @fn as if the
 * code at its resume point had called it: the registers are those of the
 * resume point and @fn's return address is the resume address. So what
 * @fn returns is what the switch returns there (a blocked call that ends
 * with `return wire__suspend(...)` returns it to its caller: a receive
 * woken by the channel's close returns -1), and an unwinder started in
 * @fn walks the suspended frames as they are (cancellation).
 *
 * The assembly switches rewrite the saved frame. x86-64 moves the six
 * saved registers down one slot and puts @fn where they popped the resume
 * address, which then sits where @fn expects its return address. aarch64
 * moves the 160-byte frame down 16 bytes and resumes in
 * wire_coro_redirect_stub, which pops the original resume address (into
 * x30) and @fn from above the frame and branches to @fn. Sanitizer builds keep
 * bookkeeping after the switch (coro_switch), and the ucontext switch
 * resumes through _longjmp: both call @fn themselves on resumption.
 */
#if defined(WIRE_ASAN)
static inline void coro_redirect(wire_coro_t *c, long (*fn)(void))
{
	c->redirect = fn;
}
#elif defined(WIRE_CORO_X86_64)
static inline void coro_redirect(wire_coro_t *c, long (*fn)(void))
{
	uint64_t *sp = c->sp, *nsp = sp - 1; /* r15 r14 r13 r12 rbx rbp resume */

	for (int i = 0; i < 6; i++)
		nsp[i] = sp[i];
	nsp[6] = (uint64_t)(uintptr_t)fn;
	c->sp = nsp;
}
#elif defined(WIRE_CORO_AARCH64)
void wire_coro_redirect_stub(void);

static inline void coro_redirect(wire_coro_t *c, long (*fn)(void))
{
	uint64_t *sp = c->sp, *nsp = sp - 2; /* 20 words, x30 at [11] */
	uint64_t resume = sp[11];

	for (int i = 0; i < 20; i++)
		nsp[i] = sp[i];
	nsp[11] = (uint64_t)(uintptr_t)wire_coro_redirect_stub;
	nsp[20] = resume; /* the stub pops these two */
	nsp[21] = (uint64_t)(uintptr_t)fn;
	c->sp = nsp;
}
#else
void coro_redirect(wire_coro_t *c, long (*fn)(void));
#endif

#ifdef WIRE_VALGRIND
/*
 * Nonzero when running under valgrind, set once when the library loads:
 * the stack registration is skipped otherwise, so a build with the hooks
 * costs nothing on the spawn path outside valgrind.
 */
extern int wire_coro_on_valgrind;
#endif

#ifdef WIRE_ASAN
/* The context being left, so the arriving side can learn its stack bounds. */
extern __thread wire_coro_t *wire_coro_asan_from;
#endif

static inline void coro_make(wire_coro_t *c, void *stack, size_t size, void (*fn)(void *),
			     void *arg)
{
	c->stack = stack;
	c->stack_size = size;
	c->asan_fake_stack = NULL;
	c->redirect = NULL;
#ifdef WIRE_ASAN
	/* A reused stack still carries the poison of its last wire's frames. */
	__asan_unpoison_memory_region(stack, size);
#endif
	c->sp = wire_coro_prepare(stack, size, fn, arg);
#ifdef WIRE_VALGRIND
	if (wire_coro_on_valgrind)
		c->valgrind_id = VALGRIND_STACK_REGISTER(stack, (char *)stack + size);
#endif
#ifdef WIRE_TSAN
	c->tsan_fiber = __tsan_create_fiber(0);
#endif
}

/* Called first thing on a fresh context's own stack. */
static inline void coro_started(void)
{
#ifdef WIRE_ASAN
	__sanitizer_finish_switch_fiber(NULL, (const void **)&wire_coro_asan_from->stack,
					&wire_coro_asan_from->stack_size);
#endif
}

/*
 * Switch from @from (the running context) to @to; returns 0 once @from is
 * resumed. `return coro_switch(...)` as a blocking call's last step is a
 * tail jump in builds without sanitizer hooks (see coro_x86_64.S).
 */
static inline int coro_switch(wire_coro_t *from, wire_coro_t *to)
{
#ifdef WIRE_ASAN
	wire_coro_asan_from = from;
	__sanitizer_start_switch_fiber(&from->asan_fake_stack, to->stack, to->stack_size);
#endif
#ifdef WIRE_TSAN
	__tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
#ifdef WIRE_ASAN
	wire_coro_jump(&from->sp, to->sp);
	__sanitizer_finish_switch_fiber(from->asan_fake_stack,
					(const void **)&wire_coro_asan_from->stack,
					&wire_coro_asan_from->stack_size);
	if (__builtin_expect(from->redirect != NULL, 0)) {
		long (*fn)(void) = from->redirect;

		from->redirect = NULL;
		return (int)fn();
	}
	return 0;
#else
	return wire_coro_jump(&from->sp, to->sp);
#endif
}

/*
 * Leave the context @dying for good and continue @to. @scratch receives the
 * register save that nobody will read, so @dying's memory may be reused by
 * @to as soon as it runs.
 */
static inline __attribute__((noreturn)) void coro_exit(wire_coro_t *dying, wire_coro_t *scratch,
						       wire_coro_t *to)
{
#ifdef WIRE_VALGRIND
	if (wire_coro_on_valgrind)
		VALGRIND_STACK_DEREGISTER(dying->valgrind_id);
#endif
#ifdef WIRE_TSAN
	/* A fiber cannot destroy itself: the scratch slot carries it to the
	 * next context, which destroys it after the switch (coro_reap). */
	if (scratch->tsan_fiber)
		__tsan_destroy_fiber(scratch->tsan_fiber);
	scratch->tsan_fiber = dying->tsan_fiber;
	__tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
#ifdef WIRE_ASAN
	/* Frames left for good (a cancelled wire's, mid-stack) keep their
	 * poison: the memory may be reused for anything once this returns. */
	__asan_unpoison_memory_region(dying->stack, dying->stack_size);
	wire_coro_asan_from = scratch;
	__sanitizer_start_switch_fiber(NULL, to->stack, to->stack_size);
#endif
	(void)dying;
	wire_coro_jump(&scratch->sp, to->sp);
	__builtin_unreachable();
}

/*
 * Forget the suspended context @c for good without running it again (a
 * wire cancelled while suspended with nothing to unwind): its stack may
 * be reused at once.
 */
static inline void coro_discard(wire_coro_t *c)
{
#ifdef WIRE_ASAN
	__asan_unpoison_memory_region(c->stack, c->stack_size);
#endif
#ifdef WIRE_VALGRIND
	if (wire_coro_on_valgrind)
		VALGRIND_STACK_DEREGISTER(c->valgrind_id);
#endif
#ifdef WIRE_TSAN
	__tsan_destroy_fiber(c->tsan_fiber);
	c->tsan_fiber = NULL;
#endif
	(void)c;
}

/*
 * The frames of @c's stack above address @live will never run again (a
 * forced unwind ends the wire from deep inside the unwinder). The
 * unwinder moved the stack pointer up and down behind valgrind's back,
 * which leaves parts of that range marked inaccessible: make it plain
 * undefined memory again, so that whoever reuses the stack may write it.
 */
static inline void coro_abandon_above(wire_coro_t *c, uintptr_t live)
{
#ifdef WIRE_VALGRIND
	uintptr_t top = (uintptr_t)c->stack + c->stack_size;

	if (wire_coro_on_valgrind && live < top)
		VALGRIND_MAKE_MEM_UNDEFINED((void *)live, top - live);
#endif
	(void)c;
	(void)live;
}

/* Called by the scheduler when it regains control, to free what coro_exit left. */
static inline void coro_reap(wire_coro_t *scratch)
{
#ifdef WIRE_TSAN
	if (scratch->tsan_fiber) {
		__tsan_destroy_fiber(scratch->tsan_fiber);
		scratch->tsan_fiber = NULL;
	}
#else
	(void)scratch;
#endif
}

/* Describe the calling OS thread's own context (the scheduler's). */
static inline void coro_init_self(wire_coro_t *c)
{
	c->sp = NULL;
	c->stack = NULL;
	c->stack_size = 0;
	c->asan_fake_stack = NULL;
	c->redirect = NULL;
	c->valgrind_id = 0;
#ifdef WIRE_TSAN
	c->tsan_fiber = __tsan_get_current_fiber();
#else
	c->tsan_fiber = NULL;
#endif
}

#endif
