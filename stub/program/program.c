/* SPDX-License-Identifier: MIT */
/*
 * stub/program/program.c - one context per target (see program.h).
 *
 * Only the making and freeing of the context, and the lookups that need
 * both the process and a cache: the caches themselves stay with their
 * layers (dwarf_cache.c, sdt.c), which know how to read a file.
 */
#include <stdlib.h>

#include "stub/program/debuginfo.h"
#include "stub/program/dwarf.h"
#include "stub/program/program.h"
#include "stub/program/sdt.h"

struct program *program__new(struct tgt *t)
{
	struct program *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->tgt = t;
	p->dwarf = dw_cache__new();
	p->dbgi = dbgi__new();
	p->sdt = sdt_cache__new();
	if (!p->dwarf || !p->dbgi || !p->sdt) {
		program__free(p);
		return NULL;
	}
	dw_cache__set_debuginfo(p->dwarf, p->dbgi);
	return p;
}

void program__free(struct program *p)
{
	if (!p)
		return;
	dw_cache__free(p->dwarf);
	dbgi__free(p->dbgi);
	sdt_cache__free(p->sdt);
	free(p);
}

int program__sdt_site(struct program *p, uint64_t addr, struct sdt_site *site)
{
	return sdt_cache__site(p->sdt, p->tgt, addr, site);
}
