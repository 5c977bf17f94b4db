/* SPDX-License-Identifier: MIT */
/*
 * stub/program/dwarf.h - what the target's DWARF says about a pc: the function, its
 * parameters and locals with their locations at that pc, and their types.
 *
 * One module on libdw, for everything in bpfstub that reads debug info:
 * deep collection at tstart (stub/trace/deep.c) today, tracepoints by function
 * name or FILE:LINE and typed printing of values later.
 *
 * Files are those the target maps (executable, shared objects), opened
 * through /proc/PID/map_files (or the target's root), loaded on first use
 * and kept in a small cache (at most DW_MAX_FILES files; the least recently
 * used one is closed for a new one).  The DWARF may be in the file or in a
 * separate debug file found by build-id (/usr/lib/debug/.build-id/xx/yyyy.debug)
 * or by .gnu_debuglink; compressed sections (SHF_COMPRESSED, as Go emits,
 * and the older .zdebug_*) are decompressed by libelf/libdw.  Split DWARF
 * (.dwo files, FILE.dwp) is read inside the target's root
 * (stub/program/dwarf_split.c); the files' ELF symbols (stub/program/symtab.h)
 * answer what DWARF does not describe.
 *
 * Addresses: the cache speaks runtime addresses (the target's), a struct
 * dw_file speaks file addresses (the ELF's p_vaddr); a mapping's load bias
 * converts.  Locations in a struct dw_loc are runtime (DW_OP_addr is biased).
 *
 * Nothing here is fatal: bad, missing or corrupt DWARF gives -errno and a
 * one-line message naming the file.  Types are copied out of libdw into the
 * scope (bounded: DW_TYPE_DEPTH levels, DW_MAX_MEMBERS members), so a scope
 * outlives the cache entry it came from.
 */
#ifndef STUB_DWARF_H
#define STUB_DWARF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct tgt;
struct tgt_map;
struct dw_file;

#define DW_MAX_FILES   8  /* files cached at once */
#define DW_MAX_VARS    32 /* parameters and locals in a scope */
#define DW_MAX_PIECES  4  /* DW_OP_piece parts of one location */
#define DW_MAX_MEMBERS 32 /* members (or enumerators) copied per type */
#define DW_TYPE_DEPTH  6  /* pointer/member levels copied below a variable */
#define DW_NAME_MAX    128

enum dw_type_kind {
	DWT_UNKNOWN,
	DWT_VOID,
	DWT_BASE, /* encoding: DW_ATE_* */
	DWT_PTR,  /* target */
	DWT_STRUCT,
	DWT_UNION,
	DWT_CLASS,
	DWT_ARRAY,   /* target, count (-1 unknown) */
	DWT_TYPEDEF, /* target */
	DWT_ENUM,    /* enums */
	DWT_FUNC,
	/* Go, as the Go toolchain describes them (struct-shaped in DWARF) */
	DWT_GO_STRING, /* {str *uint8, len int} */
	DWT_GO_SLICE,  /* {array *T, len, cap}: target is T */
	DWT_GO_IFACE,  /* runtime.iface {tab, data} */
	DWT_GO_EFACE,  /* runtime.eface {_type, data} */
	DWT_GO_MAP,    /* map[K]V: a pointer to runtime.hmap */
	DWT_GO_CHAN,   /* chan T: a pointer to runtime.hchan */
	/* Rust, as rustc describes them (struct-shaped in DWARF) */
	DWT_RUST_STR,  /* &str, String: bytes at the word at ptr_off, length at len_off */
	DWT_RUST_VEC,  /* Vec<T>, &[T]: target is T; ptr_off, len_off as a string's */
	DWT_RUST_ENUM, /* a DW_TAG_variant_part: members are the variants */
};

struct dw_type;

struct dw_member {
	char *name;
	uint64_t offset;
	struct dw_type *type;
	/* A variant of a DWT_RUST_ENUM (name, offset and type are its struct's):
	 * chosen when the discriminant equals discr, the default one when dflt. */
	uint64_t discr;
	bool dflt;
};

struct dw_enumerator {
	char *name;
	int64_t value;
};

struct dw_type {
	enum dw_type_kind kind;
	char *name; /* NULL when anonymous */
	uint64_t size;
	int encoding;		/* DW_ATE_* of a base type */
	struct dw_type *target; /* pointer, typedef, array element, slice element */
	int64_t count;		/* array elements, -1 unknown */
	struct dw_member *members;
	size_t nmembers;
	struct dw_enumerator *enums;
	size_t nenums;
	uint64_t ptr_off, len_off;  /* string, slice, Vec: where its pointer and length are */
	uint64_t discr_off;	    /* DWT_RUST_ENUM: the discriminant's offset and size */
	uint32_t discr_size;	    /* (0: one variant, no discriminant) */
	bool rust;		    /* from a Rust unit (printed in Rust's syntax) */
	bool cut;		    /* DW_TYPE_DEPTH reached: target/members not copied */
	struct dw_type *next_alloc; /* the scope's list, for freeing */
};

enum dw_piece_kind {
	DWP_UNAVAIL, /* optimized out, or an expression this layer does not follow */
	DWP_REG,     /* the value is in register reg */
	DWP_MEM,     /* the value is in memory at reg + off (reg -1: at off) */
	DWP_VALUE,   /* the value is reg + off itself (reg -1: the constant off) */
};

struct dw_piece {
	enum dw_piece_kind kind;
	int reg;       /* DWARF x86-64 register number, -1 none */
	int64_t off;   /* runtime address when reg is -1 */
	uint32_t size; /* bytes; 0: the whole value (a single piece) */
};

struct dw_loc {
	size_t npieces;
	struct dw_piece pieces[DW_MAX_PIECES];
	char why[96]; /* for a DWP_UNAVAIL piece: why */
};

struct dw_var {
	char name[64];
	bool param;
	struct dw_type *type;
	struct dw_loc loc; /* at the scope's pc */
};

struct dw_scope {
	char func[DW_NAME_MAX]; /* the innermost function (inlined or not) holding pc */
	char path[512];		/* the file the function is in (as the target maps it) */
	uint64_t pc;		/* runtime */
	uint64_t entry;		/* runtime entry of func (its low pc) */
	bool inlined;		/* func is an inlined instance */
	bool go;		/* the CU is Go (DW_LANG_Go) */
	bool rust;		/* the CU is Rust (DW_LANG_Rust) */
	bool symbols;		/* no DWARF: func from the ELF symbols or, with go, from
				   Go's function table; at its entry the vars are the
				   argument registers, untyped (Go's: ~a0 in rax...) */
	size_t nvars;
	struct dw_var vars[DW_MAX_VARS];
	size_t nvars_dropped; /* beyond DW_MAX_VARS */
	struct dw_type *alloc;
};

void dw_scope__free(struct dw_scope *s);

/* DWARF x86-64 register number -> GDB's amd64 number (rax 0 rbx 1 ...), or -1. */
int dw__gdb_reg(int dwarf_reg);
/* l becomes one DWP_UNAVAIL piece, with why. */
void dw_loc__unavail(struct dw_loc *l, const char *why);
/* Strip typedefs and cv-qualifiers (NULL stays NULL). */
const struct dw_type *dw_type__strip(const struct dw_type *t);
/* The member called name of a struct-like type (not stripped), or NULL. */
const struct dw_member *dw_type__member(const struct dw_type *t, const char *name);
/* "char *", "struct item *", "string", "[]string" ... into buf. */
const char *dw_type__name(const struct dw_type *t, char *buf, size_t len);

/* ---- one ELF file (file addresses) ---- */

/*
 * Open an ELF image for DWARF.  dw_file__open_fd takes over fd (closed by
 * dw_file__close) and looks for a separate debug file under root_fd
 * (-1: the host's /), path is the file's name as the target sees it.
 * dw_file__open_mem reads len bytes at buf (kept by the caller until close),
 * with no separate debug file.  0, or -ENOENT (no DWARF: a stripped file),
 * -EINVAL (DWARF libdw refuses: corrupt), -errno; msg says which.
 */
int dw_file__open_fd(struct dw_file **out, int fd, const char *path, int root_fd, char *msg,
		     size_t mlen);
int dw_file__open_mem(struct dw_file **out, const void *buf, size_t len, char *msg, size_t mlen);
/*
 * fd (the target's file, path as the target sees it) with its DWARF from the
 * debug file open at dbg_fd (found elsewhere: a debuginfod download,
 * stub/program/debuginfo.h).  Takes over both fds; returns as dw_file__open_fd.
 */
int dw_file__open_debug(struct dw_file **out, int fd, int dbg_fd, const char *path,
			const char *dbg_path, char *msg, size_t mlen);
void dw_file__close(struct dw_file *f);
/* Where the DWARF came from: the file itself or the debug file's path. */
const char *dw_file__debug_path(const struct dw_file *f);
/*
 * Load bias of f mapped at m (runtime = file vaddr + bias); -ENOENT if no
 * PT_LOAD segment with m's permissions holds m's file offset, -EAGAIN when
 * m alone cannot say and maps[n] (the target's mappings, or NULL) did not
 * (layout__file_bias, stub/program/layout.h: lld's and gold's layouts too).
 */
int dw_file__map_bias(const struct dw_file *f, const struct tgt_map *maps, size_t n,
		      const struct tgt_map *m, uint64_t *bias);
/* The separate debug file's fd (f's), or -1 when the DWARF is the file's own. */
int dw_file__debug_fd(const struct dw_file *f);
/*
 * Split DWARF (gcc -gsplit-dwarf): skeleton units whose .dwo (or FILE.dwp)
 * was not found or was refused: their count, and the first one's message.
 */
size_t dw_file__split_missing(const struct dw_file *f, const char **msg);

/*
 * The scope at file address pc: bias is added to every address reported
 * (0 for file addresses).  0, -ENOENT (no function with DWARF holds pc),
 * -EINVAL (DWARF libdw refuses) with msg.
 */
int dw_file__scope(struct dw_file *f, uint64_t pc, uint64_t bias, struct dw_scope *out, char *msg,
		   size_t mlen);
/* Entry pcs (file addresses) of functions named name: count found (<= max), or -errno. */
int dw_file__func_pcs(struct dw_file *f, const char *name, uint64_t *pcs, size_t max);
/* Statement pcs of FILE:LINE (file is a path or its tail): count (<= max), or -errno. */
int dw_file__line_pcs(struct dw_file *f, const char *file, int line, uint64_t *pcs, size_t max);
/*
 * Go: the type whose runtime._type is at file address addr (an interface's
 * dynamic type, by DW_AT_go_runtime_type), converted into s's types (freed
 * with s), its DWARF name ("*main.Point", "int64") into name.  0, or
 * -ENOENT / -ENOMEM with the reason in name.
 */
int dw_file__go_rtype(struct dw_file *f, uint64_t addr, struct dw_scope *s,
		      const struct dw_type **out, char *name, size_t nlen);
/* Where GDB's `trace FUNC` puts a tracepoint for the function entering at entry. */
int dw_file__after_prologue(struct dw_file *f, uint64_t entry, uint64_t *pc);
/* Byte offset of member in the top-level struct type named type: 0 or -ENOENT. */
int dw_file__member_offset(struct dw_file *f, const char *type, const char *member, int64_t *off);
/* Number of functions with a pc (walks every CU: the indexing cost). */
int dw_file__count_funcs(struct dw_file *f);

/*
 * What a return probe needs of the function whose entry (file address) is
 * entry: its pc ranges, its results and, in a Go file, where runtime.g
 * keeps goid.  Go: s.vars are the results (formal parameters with
 * DW_AT_variable_parameter: ~r0, ~r1 or named), typed, locations left
 * empty (the caller assigns registers by the Go ABI).  C: ret_type is the
 * subprogram's DW_AT_type (NULL: void).  Addresses are runtime (+ bias).
 * 0, -ENOENT (no function starts at entry), -ENOMEM; free with
 * dw_scope__free(&out->s).
 */
#define DW_FUNC_RANGES 8
struct dw_func {
	struct dw_scope s; /* func, entry, go; vars: Go results */
	uint64_t ranges[DW_FUNC_RANGES][2];
	size_t nranges;
	struct dw_type *ret_type; /* C */
	int64_t goid_off;	  /* offset of goid in runtime.g, -1 unknown */
	int64_t stack_hi_off;	  /* offset of stack.hi in runtime.g, -1 unknown */
};
int dw_file__func_results(struct dw_file *f, uint64_t entry, uint64_t bias, struct dw_func *out,
			  char *msg, size_t mlen);

/*
 * What a pc is, to name a frame of a call stack: the function and its
 * source line.  Where it came from says how much to trust (and print).
 */
enum dw_name_src {
	DWN_DWARF,     /* DWARF: the innermost function (inlined or not), FILE:LINE */
	DWN_GOPCLNTAB, /* Go's function table (.gopclntab): the same, without DWARF */
	DWN_SYMBOLS,   /* the ELF symbol holding pc: a name, no line */
};

struct dw_pcname {
	char func[DW_NAME_MAX];	 /* the innermost function holding pc (an inlined one too) */
	char outer[DW_NAME_MAX]; /* func inlined: the function whose code holds pc; else "" */
	char file[256];		 /* the source file's name (no directory); "" unknown */
	int line;		 /* 0: unknown */
	uint64_t entry;		 /* runtime entry of the function whose code holds pc */
	enum dw_name_src src;
	bool go; /* Go code (its frames: Go's prologue, Go's names) */
};

/*
 * What DWARF says of file address pc (bias added to entry): 0, or -ENOENT
 * (no function with DWARF holds it), -ENOMEM.
 */
int dw_file__name_at(struct dw_file *f, uint64_t pc, uint64_t bias, struct dw_pcname *out);

/* ---- the target's files (runtime addresses), cached ---- */

struct dw_cache;

struct dw_cache *dw_cache__new(void);
void dw_cache__free(struct dw_cache *c);
/* Forget every file (the target exec'd, or a new run). */
void dw_cache__flush(struct dw_cache *c);
/* Ask debuginfod (stub/program/debuginfo.h) for the debug files of stripped files. */
struct dbgi;
void dw_cache__set_debuginfo(struct dw_cache *c, struct dbgi *d);

/*
 * The scope at runtime pc of the target t: finds the mapping, opens (or
 * reuses) its file and DWARF.  Same returns as dw_file__scope; -ENOENT with
 * "no DWARF for PATH: ..." for a stripped file.
 */
int dw_cache__scope(struct dw_cache *c, struct tgt *t, uint64_t pc, struct dw_scope *out, char *msg,
		    size_t mlen);
/*
 * Runtime entry pcs of function name in every file the target maps (e.g.
 * "process", "main.handle", "shop::Cart::total"): the DWARF's functions
 * (split units included), then those of the ELF symbols (stub/program/symtab.h:
 * a file without DWARF, a function the DWARF lacks, an alias such as libc's
 * clock_nanosleep of DWARF's __clock_nanosleep), then, for a file where
 * neither has it, Go's function table (.gopclntab: a Go binary built with
 * -ldflags "-s -w"; stub/program/gosym.h), each address once.  FILE:LINE
 * likewise (DWARF, else Go's table).  Count, or -errno.
 */
int dw_cache__func_pcs(struct dw_cache *c, struct tgt *t, const char *name, uint64_t *pcs,
		       size_t max);
/*
 * dw_file__func_results for the function at runtime entry; out->s.path is
 * its file.  Without DWARF for it, what Go's function table says
 * (out->s.symbols and out->s.go: its name, its range [entry, end), results
 * as GO_RESULT_WORDS untyped words ~r0.. for the Go ABI to place, goid's
 * offset for the Go version), else what its ELF symbol says:
 * out->s.symbols, its name, its one range [entry, entry + st_size) and an
 * untyped 8-byte ret_type (rax as a word).
 */
#define GO_RESULT_WORDS 4 /* ~r0..~r3: rax, rbx, rcx, rdi */
int dw_cache__func_results(struct dw_cache *c, struct tgt *t, uint64_t entry, struct dw_func *out,
			   char *msg, size_t mlen);
/*
 * dw_cache__scope, else (no DWARF for pc) what Go's function table says
 * (out->symbols and out->go: the function holding pc and, at its entry or
 * just past its stack check, its argument words ~a0.. in Go's registers
 * rax, rbx, rcx, rdi, rsi, r8..r11, as many as the table's argument size,
 * untyped), else what the ELF symbols say: the function holding pc
 * (out->symbols) and, at its entry, the six argument registers rdi, rsi,
 * rdx, rcx, r8, r9 as untyped words.  msg keeps why there is no DWARF.
 * 0, or dw_cache__scope's error.
 */
int dw_cache__scope_sym(struct dw_cache *c, struct tgt *t, uint64_t pc, struct dw_scope *out,
			char *msg, size_t mlen);
/* What the open files' split DWARF lacks ("" if nothing): for a lookup's message. */
void dw_cache__split_note(struct dw_cache *c, char *buf, size_t len);
int dw_cache__line_pcs(struct dw_cache *c, struct tgt *t, const char *file, int line, uint64_t *pcs,
		       size_t max);
/* dw_file__go_rtype() at runtime address addr of the target t. */
int dw_cache__go_rtype(struct dw_cache *c, struct tgt *t, uint64_t addr, struct dw_scope *s,
		       const struct dw_type **out, char *name, size_t nlen);
/* dw_file__after_prologue for a runtime entry pc. */
int dw_cache__after_prologue(struct dw_cache *c, struct tgt *t, uint64_t entry, uint64_t *pc);
/*
 * The function holding runtime pc of the target t and its FILE:LINE, for a
 * call stack: DWARF first, else Go's function table, else the ELF symbol
 * holding pc (its name, no line).  To name a caller, ask for its return
 * address - 1 (the call's line, as GDB's `bt`).  0, or -ENOENT (nothing
 * names pc: not in a file the target maps, or no function there), -ESRCH
 * (no live process).
 */
int dw_cache__name_at(struct dw_cache *c, struct tgt *t, uint64_t pc, struct dw_pcname *out);
/*
 * For the Go program mapped at runtime pc: the byte offset of runtime.g's
 * goid (Go keeps the current g in r14 on amd64, so a frame can show the
 * goroutine id): DWARF's, else the offset for the Go version of the build
 * (stub/program/gosym.h).  0, or -ENOENT with msg (not Go, or a version
 * not known).
 */
int dw_cache__go_goid(struct dw_cache *c, struct tgt *t, uint64_t pc, int64_t *off, char *msg,
		      size_t mlen);
/*
 * Go's function table (.gopclntab) at runtime pc of the target t: the
 * innermost function (inlined or not) into name[nlen], its FILE and LINE
 * at pc (file[flen] as the table has it, *line -1 when unknown) and the
 * runtime entry of the function holding pc (each output may be 0 / NULL).
 * Works whether or not the file has DWARF or symbols.  0, or -ENOENT (not
 * a Go file, or no function at pc), -ENOMEM.
 */
int dw_cache__go_at(struct dw_cache *c, struct tgt *t, uint64_t pc, char *name, size_t nlen,
		    char *file, size_t flen, int *line, uint64_t *entry);

#endif
