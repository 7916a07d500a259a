/*
 * wire_defer.h - code that runs when a scope is left, and when its wire
 * is cancelled.
 *
 *     int fd = open(path, O_RDONLY);
 *     if (fd < 0)
 *             return;
 *     DEFER(close(fd));
 *     ... blocking calls ...
 *
 * DEFER(code) runs @code when the enclosing block is left in any way a
 * C block can be left (falling off its end, return, break, goto out of
 * it) and also when the wire is cancelled (wire_cancel()) while the block
 * is in scope. Several DEFERs run innermost first, the most recent first
 * within a block. @code sees the variables of the enclosing function as
 * they are when it runs, not as they were at the DEFER. It may block;
 * while a cancelled wire runs its DEFERs it cannot be cancelled again.
 *
 * DEFER_CALL(fn, arg) is the same for a call of @fn(@arg), where @fn is a
 * void function of one void * (free(), or a wrapper); @arg is evaluated
 * at the DEFER_CALL.
 *
 * Requirements. Both forms use the cleanup attribute of GCC and Clang;
 * DEFER(code) also uses GCC's nested functions, so with Clang use
 * DEFER_CALL. Files that use them must be compiled with -fexceptions
 * (`pkg-config --cflags libwire` and the CMake package add it): the
 * cancellation runs them by unwinding the wire's stack, which needs
 * their cleanups in the unwind tables, so this header refuses to compile
 * without it. Every frame between the blocking point and the outermost
 * DEFER needs unwind tables, as gcc and clang emit by default on x86-64
 * and aarch64 Linux. Do not leave a DEFER's scope with longjmp(). The
 * unwinder runs on the wire's stack: a wire that may be cancelled with
 * DEFERs in scope needs about 5 KiB of stack beyond its own use.
 */
#ifndef WIRE_DEFER_H
#define WIRE_DEFER_H

#include "wire.h"

#if !defined(__GNUC__)
#error "wire_defer.h needs the cleanup attribute of GCC or Clang"
#endif
#if !defined(__EXCEPTIONS)
#error                                                                                             \
    "wire_defer.h: compile with -fexceptions, or DEFER blocks cannot run when a wire is cancelled"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Count a DEFER in scope of the running wire (private). */
static inline wire_t *wire__defer_enter(void)
{
	wire_t *w = wire_get_current();

	if (w)
		w->defers++;
	return w;
}

static inline void wire__defer_leave(wire_t *w)
{
	if (w)
		w->defers--;
}

/* The record of a DEFER_CALL (private). */
struct wire__defer_call {
	wire_t *wire;
	void (*fn)(void *);
	void *arg;
};

static inline void wire__defer_call_run(struct wire__defer_call *d)
{
	wire__defer_leave(d->wire);
	d->fn(d->arg);
}

#define DEFER_CALL(fn, arg)	      WIRE__DEFER_CALL_(__COUNTER__, fn, arg)
#define WIRE__DEFER_CALL_(n, fn, arg) WIRE__DEFER_CALL__(n, fn, arg)
#define WIRE__DEFER_CALL__(n, fn, arg)                                                             \
	struct wire__defer_call wire__defer_rec_##n                                                \
	    __attribute__((cleanup(wire__defer_call_run), unused)) = {wire__defer_enter(), (fn),   \
								      (void *)(arg)}

#if defined(__clang__)
#define DEFER(...)                                                                                 \
	_Static_assert(                                                                            \
	    0, "DEFER(code) needs GCC's nested functions: with Clang use DEFER_CALL(fn, arg)")
#else
/* A nested function called directly by the cleanup: no trampoline, no executable stack. */
#define DEFER(...)	     WIRE__DEFER_(__COUNTER__, __VA_ARGS__)
#define WIRE__DEFER_(n, ...) WIRE__DEFER__(n, __VA_ARGS__)
#define WIRE__DEFER__(n, ...)                                                                      \
	__extension__ void wire__defer_fn_##n(wire_t **wire__defer_w)                              \
	{                                                                                          \
		wire__defer_leave(*wire__defer_w);                                                 \
		__VA_ARGS__;                                                                       \
	}                                                                                          \
	wire_t *wire__defer_var_##n __attribute__((cleanup(wire__defer_fn_##n), unused)) =         \
	    wire__defer_enter()
#endif

#ifdef __cplusplus
}
#endif
#endif
