/*
 * Names for code addresses, for the stall reports of wire_stall.c
 * (internal). CMake builds one of two implementations:
 *
 *   wire_symbolize_dw.c      libdw (elfutils): every function of the
 *                            symbol tables, static ones included, and
 *                            file:line from the DWARF line tables;
 *   wire_symbolize_dladdr.c  dladdr: the symbols the dynamic linker
 *                            sees (a program's own functions only when
 *                            it is linked with -rdynamic), no lines.
 *
 * They read files and allocate: the watchdog thread calls them, never a
 * signal handler.
 */
#ifndef WIRE_SRC_WIRE_SYMBOLIZE_H
#define WIRE_SRC_WIRE_SYMBOLIZE_H

#include <stddef.h>

#include "sys.h"

struct wire_sym;

/* Start naming the addresses of the process as it is mapped now (NULL: addresses only). */
WIRE_INTERNAL struct wire_sym *wire__sym_open(void);

/*
 * Write what @pc is into @buf: "function+0xOFF (file:line)", as much of
 * it as is known, or "(module+0xOFF)", or "" when nothing is. @ret says
 * @pc is a return address, so the call before it is looked up (the
 * interrupted instruction of a signal frame is not one). @s may be NULL.
 */
WIRE_INTERNAL void wire__sym_describe(struct wire_sym *s, void *pc, int ret, char *buf,
				      size_t size);

/* Done with @s (NULL is fine). */
WIRE_INTERNAL void wire__sym_close(struct wire_sym *s);

#endif
