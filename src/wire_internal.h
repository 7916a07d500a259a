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

/* The running wire, or NULL outside any wire (same as wire_get_current). */
static inline wire_t *wire__current(void)
{
	wire_thread_t *t = wire__self;
	return t ? t->current : NULL;
}

#endif
