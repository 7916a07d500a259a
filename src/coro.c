/*
 * coro - the ucontext fallback for architectures without an assembly
 * switch, and the sanitizer bookkeeping. See coro.h.
 */
#include <stdint.h>
#include <string.h>
#include "coro.h"

#ifdef WIRE_VALGRIND
int wire_coro_on_valgrind;

static void __attribute__((constructor)) detect_valgrind(void)
{
	wire_coro_on_valgrind = RUNNING_ON_VALGRIND != 0;
}
#endif

#ifdef WIRE_ASAN
__thread wire_coro_t *wire_coro_asan_from;
#endif

#if defined(WIRE_CORO_UCONTEXT)

/*
 * Portable fallback: ucontext starts a fresh context once, _setjmp and
 * _longjmp do every later switch. swapcontext would be simpler but costs a
 * sigprocmask syscall per switch and a ucontext_t (about 1 KiB on x86-64)
 * per saved context, more than a 2 KiB stack can spare.
 *
 * A saved context is a jmp_buf in the frame of the wire_coro_jump call that
 * left it; a fresh one is a small start record at the top of its stack.
 * Both begin with @fn, so wire_coro_jump can tell them apart (NULL: saved).
 * The ucontext_t that starts a fresh context is needed only until
 * setcontext has loaded it, so one per OS thread serves every start (it
 * is about 1 KiB on x86-64 and 4.5 KiB on aarch64: too big for the stack
 * being left, which may be a small wire stack).
 */
#undef _FORTIFY_SOURCE /* __longjmp_chk refuses to jump to another stack */
#include <setjmp.h>
#include <ucontext.h>

struct coro_start {
	void (*fn)(void *); /* never NULL */
	void *arg;
	void *stack;
};

struct coro_saved {
	void (*fn)(void *);	/* always NULL */
	long (*redirect)(void); /* called on resumption (coro_redirect) */
	jmp_buf jb;
};

/* makecontext passes only ints, so the start record travels in halves. */
static void ucontext_entry(unsigned lo, unsigned hi)
{
	struct coro_start *st = (struct coro_start *)(uintptr_t)(((uint64_t)hi << 32) | lo);

	st->fn(st->arg);
	__builtin_trap();
}

void *wire_coro_prepare(void *stack, size_t size, void (*fn)(void *), void *arg)
{
	uintptr_t top = ((uintptr_t)stack + size - sizeof(struct coro_start)) & ~(uintptr_t)15;
	struct coro_start *st = (struct coro_start *)top;

	st->fn = fn;
	st->arg = arg;
	st->stack = stack;
	return st;
}

static __thread ucontext_t start_uc;

static void __attribute__((noreturn, noinline)) start_fresh(struct coro_start *st)
{
	uint64_t p = (uint64_t)(uintptr_t)st;

	getcontext(&start_uc);
	start_uc.uc_stack.ss_sp = st->stack;
	start_uc.uc_stack.ss_size = (size_t)((char *)st - (char *)st->stack);
	start_uc.uc_link = NULL;
	makecontext(&start_uc, (void (*)(void))ucontext_entry, 2, (unsigned)p, (unsigned)(p >> 32));
#ifdef WIRE_ASAN
	/* This frame never returns: drop whatever it poisoned, or later frames
	 * of the stack being left would run into it once it is resumed. */
	__asan_handle_no_return();
#endif
	setcontext(&start_uc);
	__builtin_trap();
}

#ifndef WIRE_ASAN
void coro_redirect(wire_coro_t *c, long (*fn)(void))
{
	((struct coro_saved *)c->sp)->redirect = fn;
}
#endif

int wire_coro_jump(void **save_sp, void *to_sp)
{
	struct coro_saved self;
	struct coro_start *to = to_sp;

	self.fn = NULL;
	self.redirect = NULL;
	*save_sp = &self;
	if (_setjmp(self.jb) != 0) {
		/* Written by another context meanwhile. */
		long (*fn)(void) = *(long (*volatile *)(void)) & self.redirect;

		return fn ? (int)fn() : 0;
	}
	if (to->fn)
		start_fresh(to);
	_longjmp(((struct coro_saved *)to_sp)->jb, 1);
}

#endif
