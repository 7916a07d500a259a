/* wire_trace - timeline (placeholder until written). */
#include <errno.h>
#include "wire_debug.h"
#include "wire_debug_internal.h"
void wire__trace_switch(wire_thread_t *t, wire_t *to) { (void)t; (void)to; }
void wire__trace_thread_init(wire_thread_t *t) { (void)t; }
int wire_trace_start(const char *path, size_t max_events) { (void)path; (void)max_events; errno = ENOSYS; return -1; }
int wire_trace_flush(void) { errno = ENOENT; return -1; }
int wire_trace_stop(void) { errno = ENOENT; return -1; }
