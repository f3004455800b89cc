/* Go's runtime function table (.gopclntab): function names and entry
 * addresses, present in every Go executable, stripped or not. */
#ifndef TAPLINE_GOPCLNTAB_H
#define TAPLINE_GOPCLNTAB_H

#include <stddef.h>
#include <stdint.h>

/*
 * A parsed table header. Borrows the bytes it was parsed from: they must
 * outlive it. Every later read is checked against n, so a truncated or
 * corrupted table yields errors, never a read outside [p, p + n).
 */
struct gopcln {
	const uint8_t *p; /* the table, from its magic */
	size_t n;	  /* bytes available from p */
	int version;	  /* 116 (Go 1.16-1.17), 118 (1.18-1.19) or 120 (1.20+) */
	unsigned ptrsize; /* 4 or 8 */
	uint64_t nfunc;
	uint64_t text_start; /* 1.18+: runtime.text, the base of function entries */
	size_t nametab;	     /* offset of funcnametab */
	size_t functab;	     /* offset of functab, also the base of the _func records */
	unsigned fieldsize;  /* bytes per functab field: 4 (1.18+) or ptrsize */
};

/* One function: [entry, end) in virtual addresses; end is the next function's entry. */
struct gopcln_fn {
	uint64_t entry, end;
	const char *name; /* NUL-terminated inside the table */
};

/*
 * Parses the header at p (n bytes available). Returns 0, or -1 with err
 * filled (not a table, a layout this code does not know, offsets outside the
 * n bytes). text_start is the header's, which a position-independent binary
 * may leave 0 in the file (its relocation carries the value): the caller may
 * replace it before reading functions.
 */
int gopcln_parse(struct gopcln *t, const uint8_t *p, size_t n, char *err, size_t errlen);

/* Function i (< nfunc). Returns 0, or -1 when its records are inconsistent or out of bounds. */
int gopcln_func(const struct gopcln *t, uint64_t i, struct gopcln_fn *out);

/*
 * Looks up names[0..n) and fills out[k] for each one found (out[k].name is
 * NULL for the others). Returns how many were found.
 */
int gopcln_lookup(const struct gopcln *t, const char *const *names, int n, struct gopcln_fn *out);

/*
 * Finds a table by its magic when no section header names it: the first
 * 4-aligned offset in p[0..n) where a header parses and its first and last
 * functions read back consistently. Returns the offset, or -1.
 */
long gopcln_scan(const uint8_t *p, size_t n);

#endif
