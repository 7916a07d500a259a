/*
 * wire_symbolize_dw - names for code addresses with libdw (elfutils):
 * the symbol tables of every module mapped (static functions included)
 * file:line from their DWARF line tables, and the function inlined at
 * the address from the DWARF scopes. See wire_symbolize.h.
 */
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wire_symbolize.h"

struct wire_sym {
	Dwfl *dwfl;
};

/* Separate debug files in the standard places (NULL: libdw's default path). */
static char *debuginfo_path;

static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};

struct wire_sym *wire__sym_open(void)
{
	struct wire_sym *s = malloc(sizeof(*s));

	if (!s)
		return NULL;
	s->dwfl = dwfl_begin(&callbacks);
	if (!s->dwfl) {
		free(s);
		return NULL;
	}
	/* The modules mapped now, from /proc/PID/maps. */
	dwfl_report_begin(s->dwfl);
	if (dwfl_linux_proc_report(s->dwfl, getpid()) != 0 ||
	    dwfl_report_end(s->dwfl, NULL, NULL) != 0) {
		wire__sym_close(s);
		return NULL;
	}
	return s;
}

/* The last component of @path. */
static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/*
 * The compile unit of @m that holds @addr, maybe in @buf; its bias in
 * @bias. libdwfl looks it up in .debug_aranges, which clang does not
 * write, and takes an address past the last range it knows for the unit
 * before it: when the unit it gives does not hold @addr, go through the
 * units (slow, but this is a report).
 */
static Dwarf_Die *unit_of(Dwfl_Module *m, Dwarf_Addr addr, Dwarf_Die *buf, Dwarf_Addr *bias)
{
	Dwarf_Die *cu = dwfl_module_addrdie(m, addr, bias);
	Dwarf_CU *unit = NULL;
	Dwarf *dw;

	if (cu && dwarf_haspc(cu, addr - *bias) > 0)
		return cu;
	dw = dwfl_module_getdwarf(m, bias);
	if (!dw)
		return NULL;
	while (dwarf_get_units(dw, unit, &unit, NULL, NULL, buf, NULL) == 0)
		if (dwarf_haspc(buf, addr - *bias) > 0)
			return buf;
	return NULL;
}

/* The innermost function inlined at @pc (unit-relative) of @cu, or NULL. */
static const char *inlined_at(Dwarf_Die *cu, Dwarf_Addr pc)
{
	Dwarf_Die *scopes = NULL;
	const char *name = NULL;
	int n = dwarf_getscopes(cu, pc, &scopes);

	for (int i = 0; i < n && !name; i++)
		if (dwarf_tag(&scopes[i]) == DW_TAG_inlined_subroutine)
			name = dwarf_diename(&scopes[i]); /* the DIE's name lives in the module */
	free(scopes);
	return name;
}

void wire__sym_describe(struct wire_sym *s, void *pc, int ret, char *buf, size_t size)
{
	Dwarf_Addr addr = (Dwarf_Addr)(uintptr_t)pc;
	/* A return address is past its call, maybe in the next line or function. */
	Dwarf_Addr look = ret ? addr - 1 : addr;
	const char *fn, *file = NULL, *mod, *inl = NULL;
	Dwarf_Addr start = 0, bias = 0;
	Dwarf_Die unit, *cu;
	Dwfl_Module *m;
	Dwarf_Line *line;
	GElf_Off off = 0;
	GElf_Sym sym;
	int lineno = 0, n;

	buf[0] = '\0';
	if (!s || !(m = dwfl_addrmodule(s->dwfl, look)))
		return;
	fn = dwfl_module_addrinfo(m, look, &off, &sym, NULL, NULL, NULL);
	cu = unit_of(m, look, &unit, &bias);
	if (cu) {
		line = dwarf_getsrc_die(cu, look - bias);
		if (line && dwarf_lineno(line, &lineno) == 0)
			file = dwarf_linesrc(line, NULL, NULL);
		inl = inlined_at(cu, look - bias);
	}
	if (fn && inl) {
		n = snprintf(buf, size, "%s (inlined into %s+%#llx)", inl, fn,
			     (unsigned long long)(off + (addr - look)));
	} else if (fn) {
		n = snprintf(buf, size, "%s+%#llx", fn, (unsigned long long)(off + (addr - look)));
	} else {
		mod = dwfl_module_info(m, NULL, &start, NULL, NULL, NULL, NULL, NULL);
		n = snprintf(buf, size, "(%s+%#llx)", mod ? base_name(mod) : "?",
			     (unsigned long long)(addr - start));
	}
	if (file && n >= 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, " (%s:%d)", file, lineno);
}

void wire__sym_close(struct wire_sym *s)
{
	if (!s)
		return;
	dwfl_end(s->dwfl);
	free(s);
}
