/*
 * wire_stack - guarded stacks and the stack-fault reporter.
 *
 * A stack is one anonymous mapping: the lowest page is made PROT_NONE
 * (the guard), the rest is the usable stack. The reporter is a SIGSEGV /
 * SIGBUS handler on an alternate signal stack that compares the fault
 * address with the running wire's stack bounds.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "wire_stack.h"
#include "sys.h"
#include "wire_internal.h"
#include "wire_debug_internal.h"

static size_t page_size;

static size_t get_page_size(void)
{
	size_t ps = __atomic_load_n(&page_size, __ATOMIC_RELAXED);

	if (__builtin_expect(ps == 0, 0)) {
		ps = (size_t)sysconf(_SC_PAGESIZE);
		__atomic_store_n(&page_size, ps, __ATOMIC_RELAXED);
	}
	return ps;
}

static inline size_t round_to_pages(unsigned size, size_t ps)
{
	return ((size_t)size + ps - 1) & ~(ps - 1);
}

void *wire_stack_alloc(unsigned stack_size)
{
	size_t ps = get_page_size(), len;
	char *base;
	int err;

	if (stack_size == 0) {
		errno = EINVAL;
		return NULL;
	}
	len = round_to_pages(stack_size, ps) + ps;
	/* MAP_NORESERVE: a stack is mostly untouched, do not charge it all. */
	base = sys_mmap(len, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK);
	if (base == MAP_FAILED)
		return NULL;
	if (sys_mprotect(base, ps, PROT_NONE) != 0) {
		/* Splitting the mapping failed: at the map-count limit this is
		 * ENOMEM, which is what the caller should see. */
		err = errno;
		munmap(base, len); /* undo only; cannot fail on our own mapping */
		errno = err;
		return NULL;
	}
	return base + ps;
}

int wire_stack_free(void *stack, unsigned stack_size)
{
	size_t ps = get_page_size();

	if (!stack || stack_size == 0 || ((uintptr_t)stack & (ps - 1)) != 0) {
		errno = EINVAL;
		return -1;
	}
	return sys_munmap((char *)stack - ps, round_to_pages(stack_size, ps) + ps);
}

/* ------------------------------------------------------------------ */
/* Fault reporter. Everything below runs in a signal handler: no stdio,
 * no allocation, only write(2) on a buffer of the handler's frame.     */

struct line {
	char buf[320];
	size_t len;
};

static void put_str(struct line *l, const char *s, size_t max)
{
	for (size_t i = 0; s[i] && i < max && l->len < sizeof(l->buf) - 1; i++)
		l->buf[l->len++] = s[i];
}

static void put_hex(struct line *l, uintptr_t v)
{
	char tmp[2 + 2 * sizeof(v)];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	put_str(l, "0x", 2);
	while (n && l->len < sizeof(l->buf) - 1)
		l->buf[l->len++] = tmp[--n];
}

static void put_wire_name(struct line *l, const wire_t *w)
{
	put_str(l, "wire '", 6);
	/* The name is caller memory; cap it so a bad one cannot run on. */
	put_str(l, w->name[0] ? w->name : "(unnamed)", 64);
	put_str(l, "'", 1);
}

static void put_bounds(struct line *l, const wire_t *w)
{
	put_str(l, "[", 1);
	put_hex(l, (uintptr_t)w->coro.stack);
	put_str(l, ", ", 2);
	put_hex(l, (uintptr_t)w->coro.stack + w->coro.stack_size);
	put_str(l, ")", 1);
}

static void fault_handler(int sig, siginfo_t *si, void *uctx)
{
	int saved_errno = errno;
	const char *signame = sig == SIGBUS ? "SIGBUS" : "SIGSEGV";
	uintptr_t addr = (uintptr_t)si->si_addr;
	wire_t *w = wire__current();
	struct line l = {.len = 0};

	(void)uctx;
	put_str(&l, "libwire: ", 9);
	if (w && addr < (uintptr_t)w->coro.stack && addr >= (uintptr_t)w->coro.stack - page_size) {
		put_str(&l, "stack overflow: ", 16);
		put_wire_name(&l, w);
		put_str(&l, " ran off its stack ", 19);
		put_bounds(&l, w);
		put_str(&l, " into the guard page: ", 22);
		put_str(&l, signame, 8);
		put_str(&l, " at ", 4);
		put_hex(&l, addr);
	} else {
		put_str(&l, signame, 8);
		put_str(&l, " at ", 4);
		put_hex(&l, addr);
		if (w) {
			put_str(&l, " in ", 4);
			put_wire_name(&l, w);
			put_str(&l, " (stack ", 8);
			put_bounds(&l, w);
			put_str(&l, ")", 1);
		} else {
			put_str(&l, " outside any wire", 17);
		}
	}
	l.buf[l.len++] = '\n';
	while (sys_write(STDERR_FILENO, l.buf, l.len) < 0 && errno == EINTR)
		;
	/*
	 * SA_RESETHAND already restored the default action. A fault raised by
	 * the hardware repeats when we return and kills the process with the
	 * usual signal and core dump. A signal sent by kill() would not repeat:
	 * send it again (it stays blocked until we return).
	 */
	if (si->si_code <= 0)
		raise(sig);
	errno = saved_errno;
}

int wire_stack_fault_detector_install(void)
{
	struct sigaction sa, old_segv;
	stack_t old_ss;
	void *mine;
	int err;

	get_page_size();
	if (wire__altstack_set(&mine, &old_ss) != 0)
		return -1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fault_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	if (sys_sigaction(SIGSEGV, &sa, &old_segv) != 0)
		goto undo_altstack;
	if (sys_sigaction(SIGBUS, &sa, NULL) != 0) {
		err = errno;
		sigaction(SIGSEGV, &old_segv, NULL); /* undo only */
		errno = err;
		goto undo_altstack;
	}
	wire__altstack_keep(mine);
	return 0;

undo_altstack:
	err = errno;
	if (mine) {
		old_ss.ss_flags &= ~SS_ONSTACK;
		sigaltstack(&old_ss, NULL); /* undo only */
		munmap(mine, WIRE__ALTSTACK_SIZE);
	}
	errno = err;
	return -1;
}
