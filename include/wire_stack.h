/*
 * wire_stack.h - guarded wire stacks and a stack-overflow reporter.
 *
 * wire_stack_alloc() maps a stack of whole pages with one inaccessible
 * guard page directly below it: a wire that runs off the bottom of its
 * stack faults at once instead of silently corrupting the memory below.
 * wire_stack_fault_detector_install() turns that fault into one line on
 * stderr naming the wire, then lets the process die by SIGSEGV as usual.
 *
 * Cost: every guarded stack is one mmap() split by mprotect() into two
 * kernel mappings (guard and usable area). Linux limits a process to
 * vm.max_map_count mappings (65,530 by default), so about 32,000 guarded
 * stacks fit beside the rest of the process; past that wire_stack_alloc()
 * fails with ENOMEM. For larger wire counts give wire_init() stacks cut
 * from one block of caller memory (no guard pages, one mapping in all).
 * Pages of a stack cost memory only once touched.
 */
#ifndef WIRE_STACK_H
#define WIRE_STACK_H

#include "wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Map a stack of @stack_size bytes rounded up to a multiple of the page
 * size, with one PROT_NONE guard page below it. Returns the lowest usable
 * address (page aligned; the rounded size is usable from there up), to be
 * passed to wire_init() and later to wire_stack_free() with the same
 * @stack_size. The caller owns the stack. Never blocks.
 * Returns NULL with errno EINVAL if @stack_size is 0, or with the errno of
 * mmap()/mprotect(): ENOMEM when memory or the kernel's map-count limit
 * (vm.max_map_count, see above) is exhausted.
 */
void *wire_stack_alloc(unsigned stack_size);

/* Arguments "stack, size" for wire_init(): a new guarded stack of @size. */
#define WIRE_STACK_ALLOC(size) wire_stack_alloc(size), size

/*
 * Unmap a stack from wire_stack_alloc(), guard page included. @stack_size
 * must be the size it was allocated with. No wire may still use it.
 * Returns 0, or -1 with errno EINVAL (@stack NULL or not page aligned,
 * @stack_size 0) or the errno of munmap().
 */
int wire_stack_free(void *stack, unsigned stack_size);

/*
 * Install the stack-fault reporter: a SIGSEGV and SIGBUS handler that runs
 * on an alternate signal stack, so it works even when the faulting wire
 * has no stack left. A fault in the guard page of the running wire's stack
 * prints one line naming the wire, its stack bounds and the fault address;
 * any other fault prints one line with the running wire's name (or
 * "outside any wire"). The handler then restores the default action and
 * returns, so the process dies by the signal as usual (core dumps work).
 * The report is written with write(2) only (async-signal safe).
 *
 * Signal handlers are per process but alternate stacks are per thread:
 * call this on every OS thread that runs wires. An alternate stack the
 * thread already has (of at least 16 KiB) is kept; otherwise one of 64 KiB
 * is mapped and stays mapped for the life of the process. Calling it again
 * on the same thread is harmless. Replaces any SIGSEGV/SIGBUS handler
 * installed before.
 * Returns 0, or -1 with the errno of mmap(), sigaltstack() or sigaction(),
 * in which case nothing was changed.
 */
int wire_stack_fault_detector_install(void);

#ifdef __cplusplus
}
#endif
#endif
