/* wire_stall - stall detector (placeholder until written). */
#include <errno.h>
#include "wire_debug.h"
#include "wire_debug_internal.h"
void wire__stall_env(void) {}
int wire_stall_detect(int64_t threshold_ns) { (void)threshold_ns; errno = ENOSYS; return -1; }
