/* SPDX-License-Identifier: MIT */
/*
 * stub/program/gopclntab.h - the Go runtime's own function table, parsed purely.
 *
 * A Go binary built with -ldflags "-s -w" has no DWARF and no symbol table,
 * but it always carries the table the runtime itself uses for panics,
 * profiles and stack traces: the pc-line table (.gopclntab, the symbol
 * runtime.pclntab, starting with a struct pcHeader).  It names every
 * function, gives its entry and end, and maps every pc to a file and line
 * (and, through pc-value tables, to the inlined calls at that pc).  This is
 * what lets bpfstub trace a stripped Go service by name.
 *
 * Layouts known (told apart by the header's magic number, little-endian
 * and big-endian alike):
 *
 *     0xfffffffb  Go 1.2 - 1.15   refused with a message (docs/GO.md)
 *     0xfffffffa  Go 1.16 - 1.17  _func.entry is a uintptr; funcdata are
 *                                 absolute pointers
 *     0xfffffff0  Go 1.18 - 1.19  header has textStart; _func.entryoff is a
 *                                 uint32 from it; funcdata are uint32
 *                                 offsets from moduledata.gofunc
 *     0xfffffff1  Go 1.20 -       as 1.18, plus _func.startLine; inline
 *                                 tree entries of 16 bytes instead of 20
 *
 * The header: magic (4), two zero pads, minLC (pc quantum 1, 2 or 4),
 * ptrSize (4 or 8), then ptrSize-wide words: nfunc, nfiles, [textStart,
 * 1.18+], and the offsets from the header of funcnametab, cutab, filetab,
 * pctab and pclntab (functab followed by the _func records).  The functab
 * is nfunc + 1 pairs (entry, _func offset), of 4 bytes each since 1.18,
 * ptrSize before; the last pair's entry is the end of the last function.
 *
 * Pure: gopcln__open() reads only the bytes it is given (kept as pointers
 * into them: the caller keeps them mapped while the table is used), checks
 * every offset, count and length against them, validates every function
 * record once (entries sorted, names NUL-terminated inside funcnametab,
 * records inside pclntab), and allocates one index: the functions sorted
 * by name (8 bytes per function).  Pc-value tables are decoded on demand,
 * every varint bounded (5 bytes) and every step inside pctab, so a hostile
 * table costs at most one pass over its own bytes.  Errors are -EINVAL (or
 * -ENOTSUP for a known but unsupported layout) with a message in t->err.
 * Unit-tested against DWARF and the symbol table of the same program
 * (tests/unit/test_gopclntab.c), fuzzed (tests/fuzz/fuzz_gopclntab.c).
 * Finding the table in an ELF file: stub/program/gopclntab_elf.h.
 */
#ifndef STUB_PROGRAM_GOPCLNTAB_H
#define STUB_PROGRAM_GOPCLNTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Layout versions (the first Go release of each). */
enum gopcln_ver {
	GOPCLN_GO116 = 116,
	GOPCLN_GO118 = 118,
	GOPCLN_GO120 = 120,
};

#define GOPCLN_MAGIC_112 0xfffffffbu
#define GOPCLN_MAGIC_116 0xfffffffau
#define GOPCLN_MAGIC_118 0xfffffff0u
#define GOPCLN_MAGIC_120 0xfffffff1u

#define GOPCLN_PCDATA_INLTREEINDEX 2
#define GOPCLN_FUNCDATA_INLTREE	   3

/* Most files matched by one FILE of gopcln__line_ranges() ("main.go"). */
#define GOPCLN_MAX_FILE_MATCH 256
/* Most inlined frames followed at one pc. */
#define GOPCLN_MAX_INLINE 64
/* Bytes of text a table may span: Go addresses it by 32-bit offsets (1.18+). */
#define GOPCLN_TEXT_MAX (1ull << 32)

/*
 * Bytes of the program at link-time addresses [vaddr, vaddr + size): what
 * the file holds of one loadable segment.  Inline trees (in go:func.*,
 * outside the table) and the pre-1.18 build info are read through these.
 */
struct gopcln_seg {
	const unsigned char *data;
	uint64_t vaddr, size;
};

/* Bytes at [vaddr, vaddr + len) when one segment holds them all, else NULL. */
const unsigned char *gopcln_seg__at(const struct gopcln_seg *segs, size_t nsegs, uint64_t vaddr,
				    uint64_t len);

struct gopcln_name; /* the by-name index (gopclntab.c) */

struct gopcln {
	enum gopcln_ver ver;
	bool big_endian;
	unsigned ptrsize, quantum;
	uint32_t nfunc, nfiles;
	uint64_t text;		  /* runtime.text: entries are offsets from it (1.18+) */
	uint64_t min_pc, max_pc;  /* first function's entry, last one's end */
	const unsigned char *tab; /* the whole table, as given */
	size_t len;
	/* sub-tables, each bounded by the next one's start */
	const unsigned char *funcnames, *cutab, *filetab, *pctab, *pcln;
	size_t funcnames_len, cutab_len, filetab_len, pctab_len, pcln_len;
	unsigned fieldsz;	     /* a functab field: 4 (1.18+) or ptrsize */
	struct gopcln_name *by_name; /* nfunc entries, sorted by name */
	/* optional (gopcln__set_data): where funcdata point */
	const struct gopcln_seg *segs;
	size_t nsegs;
	uint64_t gofunc; /* moduledata.gofunc (1.18+), 0 unknown */
	char err[160];
};

/* One function, as its _func record says (validated by gopcln__open). */
struct gopcln_func {
	uint32_t idx;	     /* in entry order */
	const char *name;    /* NUL-terminated, inside funcnametab */
	uint64_t entry, end; /* [entry, end): up to the next function */
	int32_t args;
	uint32_t deferreturn, pcsp, pcfile, pcln, npcdata, cu_offset;
	int32_t start_line; /* the func line (1.20+), else 0 */
	uint8_t funcid, flag, nfuncdata;
	const unsigned char *rec; /* the record: fixed part, pcdata[], funcdata[] */
	size_t rec_len;
};

/* A position: file is NUL-terminated inside filetab, or NULL when unknown. */
struct gopcln_pos {
	const char *file;
	int32_t line; /* -1 unknown */
};

/* One frame at a pc, innermost first (gopcln__frames). */
struct gopcln_frame {
	const char *name;      /* the function (inlined or not) */
	struct gopcln_pos pos; /* where that function is at the pc */
	bool inlined;	       /* an inlined call: the next frame is its caller */
};

/* A range of one function's code where FILE:LINE holds (gopcln__line_ranges). */
struct gopcln_range {
	uint32_t func;	 /* index (gopcln__func) */
	uint64_t lo, hi; /* [lo, hi) */
};

/*
 * Parse the table at (p, len).  text is runtime.text's address: required
 * for 1.18+ tables whose header field is 0, otherwise 0 takes the header's
 * (a non-zero text overrides it, e.g. for a table read out of a relocated
 * image); ignored before 1.18, whose entries are absolute.  0 or
 * -EINVAL / -ENOTSUP / -ENOMEM with t->err set.  Either way
 * gopcln__close() may be called; after an error only it.
 */
int gopcln__open(struct gopcln *t, const void *p, size_t len, uint64_t text);
void gopcln__close(struct gopcln *t);

/*
 * Where funcdata point: the loadable segments of the file and, for 1.18+,
 * moduledata.gofunc.  Without them gopcln__frames() cannot see inlined
 * calls (it says so).  segs must outlive t.
 */
void gopcln__set_data(struct gopcln *t, const struct gopcln_seg *segs, size_t nsegs,
		      uint64_t gofunc);

/* Function i in entry order (i < t->nfunc): 0, or -ENOENT. */
int gopcln__func(const struct gopcln *t, uint32_t i, struct gopcln_func *f);
/* The function whose [entry, end) holds pc: 0, or -ENOENT. */
int gopcln__func_at(const struct gopcln *t, uint64_t pc, struct gopcln_func *f);
/* The function of this exact Go name ("main.main", "net/http.(*conn).serve"). */
int gopcln__func_by_name(const struct gopcln *t, const char *name, struct gopcln_func *f);

/*
 * The value of the pc-value table at pctab offset off of f at pc: 0 and
 * *val (-1 where the table says nothing, or off is 0), -ENOENT for a pc
 * outside f, -EINVAL for a corrupt table.
 */
int gopcln__pcvalue(const struct gopcln *t, const struct gopcln_func *f, uint32_t off, uint64_t pc,
		    int32_t *val);

/*
 * The source position of pc (the innermost one, where code is inlined), and
 * its function (f may be NULL): 0, -ENOENT for a pc in no function, -EINVAL.
 */
int gopcln__pos(const struct gopcln *t, uint64_t pc, struct gopcln_pos *pos, struct gopcln_func *f);

/*
 * The frames at pc, innermost first, into frames[max]: the inlined calls
 * at pc (when the inline tree is reachable: gopcln__set_data), then the
 * function itself at its call site of the outermost inlined call.
 * Returns the number of frames (>= 1), -ENOENT, -EINVAL.  *partial (may
 * be NULL) is set when inlined frames were left out: inline tree not
 * reachable, or more than max.
 */
int gopcln__frames(const struct gopcln *t, uint64_t pc, struct gopcln_frame *frames, size_t max,
		   bool *partial);

/*
 * Every range of code where FILE:LINE holds, in function order: fn is
 * called for each, non-zero from fn stops the walk and is returned.  FILE
 * is a file's full path as the table has it, or its end after a '/'
 * ("main.go", "net/http/server.go").  Returns the number of ranges, 0
 * when none, -E2BIG when FILE matches more than GOPCLN_MAX_FILE_MATCH
 * files, -EINVAL for a corrupt table.
 */
int gopcln__line_ranges(const struct gopcln *t, const char *file, int32_t line,
			int (*fn)(void *arg, const struct gopcln_range *r), void *arg);

/*
 * For a tracepoint on FILE:LINE: the lowest pc of the line in each
 * function where it holds (a line inlined in three callers is three pcs),
 * into pcs[max] in function order.  The count found (may exceed max: only
 * max are stored), or as gopcln__line_ranges.
 */
int gopcln__line_pcs(const struct gopcln *t, const char *file, int32_t line, uint64_t *pcs,
		     size_t max);

/* The file table in order: the first file (prev NULL) or the one after prev; NULL at the end. */
const char *gopcln__file_next(const struct gopcln *t, const char *prev);

#endif
