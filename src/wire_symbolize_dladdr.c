/*
 * wire_symbolize_dladdr - names for code addresses with dladdr, where
 * libdw was not found: the dynamic symbols only (a program's own
 * functions when it is linked with -rdynamic), no file:line. Other
 * addresses are given as module+offset, for addr2line. See
 * wire_symbolize.h.
 */
#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "wire_symbolize.h"

struct wire_sym {
	int unused;
};

struct wire_sym *wire__sym_open(void)
{
	/* dladdr asks the dynamic linker each time: nothing to open. */
	static struct wire_sym none;

	return &none;
}

/* The last component of @path. */
static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

void wire__sym_describe(struct wire_sym *s, void *pc, int ret, char *buf, size_t size)
{
	uintptr_t addr = (uintptr_t)pc;
	/* A return address is past its call, maybe in the next function. */
	uintptr_t look = ret ? addr - 1 : addr;
	const ElfW(Sym) *sym = NULL;
	Dl_info info;

	buf[0] = '\0';
	if (!s || !dladdr1((void *)look, &info, (void **)&sym, RTLD_DL_SYMENT))
		return;
	/* dladdr gives the nearest symbol below: it must also cover @look,
	 * or the address is in a function it does not see (a static one). */
	if (info.dli_sname && info.dli_saddr && sym &&
	    (sym->st_size == 0 || look < (uintptr_t)info.dli_saddr + sym->st_size)) {
		snprintf(buf, size, "%s+%#lx", info.dli_sname,
			 (unsigned long)(addr - (uintptr_t)info.dli_saddr));
		return;
	}
	snprintf(buf, size, "(%s+%#lx)",
		 info.dli_fname && *info.dli_fname ? base_name(info.dli_fname) : "the program",
		 (unsigned long)(addr - (uintptr_t)info.dli_fbase));
}

void wire__sym_close(struct wire_sym *s)
{
	(void)s;
}
