/*
 * Scheduler internals shared with the layers built on it (internal).
 *
 * The layers above the scheduler ask "which wire is running?" on every
 * blocking operation; reading the thread-local scheduler pointer inline
 * saves a call on each of those paths.
 */
#ifndef WIRE_SRC_WIRE_INTERNAL_H
#define WIRE_SRC_WIRE_INTERNAL_H

#include "wire.h"
#include "sys.h"

extern WIRE_INTERNAL __thread wire_thread_t *wire__self __attribute__((tls_model("initial-exec")));

/*
 * Report misuse that cannot be returned as an error: print
 * "libwire: CALL: WHAT" on stderr and abort.
 */
WIRE_INTERNAL void wire__misuse(const char *call, const char *what) __attribute__((noreturn, cold));

/* The running wire, or NULL outside any wire (same as wire_get_current). */
static inline wire_t *wire__current(void)
{
	wire_thread_t *t = wire__self;
	return t ? t->current : NULL;
}

/* The running wire, for @call that is about to block; aborts outside a wire. */
static inline wire_t *wire__blocking_current(const char *call)
{
	wire_t *w = wire__current();

	if (__builtin_expect(w == NULL, 0))
		wire__misuse(call, "called outside a wire (only a running wire can block)");
	return w;
}

#endif
