/*
 * Install check program: a wire on a 4 KiB guarded stack with a 1 KiB
 * buffer calls libc functions for the first time there. With lazy binding
 * the dynamic linker resolves each on the wire's stack, saving the whole
 * extended register state (over 3 KiB with AVX-512): the program must be
 * bound eagerly, which the link flags of libwire.pc and the CMake package
 * ask for.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "wire.h"
#include "wire_stack.h"

static wire_thread_t sched;
static wire_t w;
static int done;

static void small(void *arg)
{
	char buf[1024];
	int fds[2];

	(void)arg;
	if (pipe(fds) != 0)
		return;
	snprintf(buf, sizeof(buf), "pid %d", (int)getpid());
	if (write(fds[1], buf, strlen(buf) + 1) <= 0 || read(fds[0], buf, sizeof(buf)) <= 0)
		return;
	close(fds[0]);
	close(fds[1]);
	done = strncmp(buf, "pid ", 4) == 0;
}

int main(void)
{
	void *stack;

	wire_stack_fault_detector_install();
	stack = wire_stack_alloc(4096);
	if (!stack) {
		perror("wire_stack_alloc");
		return 1;
	}
	wire_thread_init(&sched);
	wire_init(&w, "small", small, NULL, stack, 4096);
	wire_thread_run();
	if (!done) {
		fprintf(stderr, "small_stack: the wire did not finish its calls\n");
		return 1;
	}
	printf("small_stack: libc calls on a 4 KiB stack passed\n");
	return 0;
}
