/* sys - fault injection behind the syscall seam. See sys.h. */
#include <errno.h>
#include "sys.h"

unsigned wire__fault_armed;

static struct {
	unsigned countdown;
	int err;
} faults[WIRE_SYS_COUNT];

int wire__fault_hit(enum wire_sys call)
{
	if (faults[call].countdown == 0 || --faults[call].countdown != 0)
		return 0;
	wire__fault_armed--;
	errno = faults[call].err;
	return 1;
}

void wire__fault_set(enum wire_sys call, unsigned nth, int err)
{
	if (faults[call].countdown)
		wire__fault_armed--;
	faults[call].countdown = nth;
	faults[call].err = err;
	if (nth)
		wire__fault_armed++;
}

void wire__fault_clear(void)
{
	for (unsigned i = 0; i < WIRE_SYS_COUNT; i++)
		faults[i].countdown = 0;
	wire__fault_armed = 0;
}
