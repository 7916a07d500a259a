/*
 * sys - fault injection behind the syscall seam. See sys.h.
 *
 * Worker threads of wire_io make calls through the seam while a test arms
 * a fault on its own thread, so the table is atomic: the check on every
 * call stays one relaxed load, and a fault fires exactly once.
 */
#include <errno.h>
#include <stdatomic.h>

#include "sys.h"

_Atomic unsigned wire__fault_armed;

static struct {
	_Atomic unsigned countdown;
	_Atomic int err;
} faults[WIRE_SYS_COUNT];

int wire__fault_hit(enum wire_sys call)
{
	unsigned c = atomic_load_explicit(&faults[call].countdown, memory_order_acquire);

	while (c) {
		if (!atomic_compare_exchange_weak_explicit(&faults[call].countdown, &c, c - 1,
							   memory_order_acq_rel,
							   memory_order_acquire))
			continue;
		if (c != 1)
			return 0;
		atomic_fetch_sub(&wire__fault_armed, 1);
		errno = atomic_load_explicit(&faults[call].err, memory_order_relaxed);
		return 1;
	}
	return 0;
}

void wire__fault_set(enum wire_sys call, unsigned nth, int err)
{
	atomic_store_explicit(&faults[call].err, err, memory_order_relaxed);
	if (atomic_exchange(&faults[call].countdown, nth))
		atomic_fetch_sub(&wire__fault_armed, 1);
	if (nth)
		atomic_fetch_add(&wire__fault_armed, 1);
}

void wire__fault_clear(void)
{
	for (unsigned i = 0; i < WIRE_SYS_COUNT; i++)
		if (atomic_exchange(&faults[i].countdown, 0))
			atomic_fetch_sub(&wire__fault_armed, 1);
}
