/*
 * Install check program: built against an installed libwire (pkg-config
 * and CMake find_package). Two wires yield to each other; the scheduler
 * must run them strictly in turn.
 */
#include <stdio.h>
#include <string.h>

#include "wire.h"

static wire_thread_t sched;
static wire_t wires[2];
static char stacks[2][64 * 1024];
static char trace[16];
static int len;

static void step(void *arg)
{
	for (int i = 0; i < 3; i++) {
		trace[len++] = *(const char *)arg;
		wire_yield();
	}
}

int main(void)
{
	wire_thread_init(&sched);
	if (!wire_init(&wires[0], "a", step, "a", stacks[0], sizeof(stacks[0])) ||
	    !wire_init(&wires[1], "b", step, "b", stacks[1], sizeof(stacks[1]))) {
		perror("wire_init");
		return 1;
	}
	wire_thread_run();
	if (strcmp(trace, "ababab") != 0 || wire_thread_suspended() != 0) {
		fprintf(stderr, "order: got \"%s\", want \"ababab\"\n", trace);
		return 1;
	}
	printf("order: ababab\n");
	return 0;
}
