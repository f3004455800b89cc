/* Go's .gopclntab (see gopclntab.h).
 *
 * Layout (Go's src/runtime/symtab.go pcHeader, src/debug/gosym/pclntab.go),
 * little-endian targets only, every offset relative to the magic:
 *
 *   magic u32 | 0 u8 | 0 u8 | minLC u8 | ptrsize u8 | then ptrsize-wide words:
 *   1.18+: nfunc, nfiles, textStart, funcnameOffset, cuOffset, filetabOffset,
 *          pctabOffset, pclnOffset
 *   1.16:  nfunc, nfiles,            funcnameOffset, cuOffset, filetabOffset,
 *          pctabOffset, pclnOffset
 *
 * At pclnOffset the functab: nfunc pairs (entry, funcoff) and one closing
 * entry (the end of the last function); fields are u32 with the entry an
 * offset from textStart in 1.18+, ptrsize-wide absolute addresses in 1.16.
 * funcoff locates the function's _func record from the same pclnOffset; its
 * first field repeats the entry and the next, an i32, is the name's offset in
 * funcnametab. Go 1.2-1.15 (magic 0xfffffffb) used another layout and is not
 * read: those releases predate the register ABI the probes rely on anyway.
 */
#include "gopclntab.h"

#include <stdio.h>
#include <string.h>

#define MAGIC_116 0xfffffffau
#define MAGIC_118 0xfffffff0u
#define MAGIC_120 0xfffffff1u
#define MAGIC_12 0xfffffffbu

/* Reads a little-endian field of size bytes at off; -1 when it does not fit in the table. */
static int rd(const struct gopcln *t, uint64_t off, unsigned size, uint64_t *v)
{
	if (off > t->n || t->n - off < size)
		return -1;
	uint64_t x = 0;
	for (unsigned i = 0; i < size; i++)
		x |= (uint64_t)t->p[off + i] << (8 * i);
	*v = x;
	return 0;
}

int gopcln_parse(struct gopcln *t, const uint8_t *p, size_t n, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	t->p = p;
	t->n = n;
	uint64_t magic;
	if (rd(t, 0, 4, &magic) || n < 8) {
		snprintf(err, errlen, "pclntab: truncated header");
		return -1;
	}
	switch (magic) {
	case MAGIC_116: t->version = 116; break;
	case MAGIC_118: t->version = 118; break;
	case MAGIC_120: t->version = 120; break;
	case MAGIC_12:
		snprintf(err, errlen, "pclntab: Go 1.2-1.15 layout is not supported");
		return -1;
	default:
		snprintf(err, errlen, "pclntab: unknown magic 0x%08llx", (unsigned long long)magic);
		return -1;
	}
	t->ptrsize = p[7];
	if (p[4] || p[5] || (p[6] != 1 && p[6] != 2 && p[6] != 4) || (t->ptrsize != 4 && t->ptrsize != 8)) {
		snprintf(err, errlen, "pclntab: bad header (quantum %u, pointer size %u)", p[6], p[7]);
		return -1;
	}
	const unsigned ps = t->ptrsize;
	const int v118 = t->version >= 118;
	/* Word k of the header: nfunc is word 0; the offsets start after textStart in 1.18+. */
	uint64_t nfunc, hdr_text = 0, nameoff, pclnoff;
	const unsigned first_off = v118 ? 3 : 2;
	if (rd(t, 8, ps, &nfunc) || (v118 && rd(t, 8 + 2 * ps, ps, &hdr_text)) ||
	    rd(t, 8 + first_off * ps, ps, &nameoff) || rd(t, 8 + (first_off + 4) * ps, ps, &pclnoff)) {
		snprintf(err, errlen, "pclntab: truncated header");
		return -1;
	}
	if (nameoff >= n || pclnoff >= n) {
		snprintf(err, errlen, "pclntab: table offsets beyond its %zu bytes", n);
		return -1;
	}
	t->fieldsize = v118 ? 4 : ps;
	/* (2 * nfunc + 1) fields must fit after pclnOffset; compared by division, no overflow. */
	const uint64_t fields = (n - pclnoff) / t->fieldsize;
	if (nfunc == 0 || fields < 3 || nfunc > (fields - 1) / 2) {
		snprintf(err, errlen, "pclntab: %llu functions do not fit", (unsigned long long)nfunc);
		return -1;
	}
	t->nfunc = nfunc;
	t->nametab = (size_t)nameoff;
	t->functab = (size_t)pclnoff;
	t->text_start = hdr_text;
	return 0;
}

int gopcln_func(const struct gopcln *t, uint64_t i, struct gopcln_fn *out)
{
	memset(out, 0, sizeof(*out));
	if (i >= t->nfunc)
		return -1;
	const unsigned fs = t->fieldsize;
	const uint64_t at = t->functab + 2 * i * fs; /* fits: parse bounded nfunc by n */
	uint64_t entry, funcoff, end, fentry, nameoff;
	if (rd(t, at, fs, &entry) || rd(t, at + fs, fs, &funcoff) || rd(t, at + 2 * fs, fs, &end))
		return -1;
	/* The _func record: its entry field (u32 offset or a pointer) then the i32 name offset. */
	const unsigned ef = t->version >= 118 ? 4 : t->ptrsize;
	const uint64_t rec = t->functab + funcoff;
	if (rec < funcoff || rd(t, rec, ef, &fentry) || rd(t, rec + ef, 4, &nameoff))
		return -1;
	if (fentry != entry || end < entry || (nameoff & 0x80000000u))
		return -1;
	if (t->version >= 118) {
		/* entry and end are u32 offsets; text_start + them cannot wrap unless hostile. */
		if (t->text_start > UINT64_MAX - end)
			return -1;
		entry += t->text_start;
		end += t->text_start;
	}
	const uint64_t name = t->nametab + nameoff;
	if (name >= t->n || !memchr(t->p + name, '\0', t->n - name))
		return -1;
	out->entry = entry;
	out->end = end;
	out->name = (const char *)t->p + name;
	return 0;
}

int gopcln_lookup(const struct gopcln *t, const char *const *names, int n, struct gopcln_fn *out)
{
	int found = 0;
	for (int k = 0; k < n; k++)
		out[k].name = NULL;
	for (uint64_t i = 0; i < t->nfunc && found < n; i++) {
		struct gopcln_fn f;
		if (gopcln_func(t, i, &f))
			continue;
		for (int k = 0; k < n; k++)
			if (!out[k].name && strcmp(f.name, names[k]) == 0) {
				out[k] = f;
				found++;
			}
	}
	return found;
}

long gopcln_scan(const uint8_t *p, size_t n)
{
	for (size_t off = 0; off + 8 <= n; off += 4) {
		/* The fixed bytes after the magic: ff ff ff then f0/f1/fa, 0, 0. */
		if (p[off + 1] != 0xff || p[off + 2] != 0xff || p[off + 3] != 0xff || p[off + 4] || p[off + 5])
			continue;
		struct gopcln t;
		struct gopcln_fn f;
		char err[96];
		if (gopcln_parse(&t, p + off, n - off, err, sizeof(err)) == 0 && gopcln_func(&t, 0, &f) == 0 &&
		    gopcln_func(&t, t.nfunc - 1, &f) == 0 && gopcln_func(&t, t.nfunc / 2, &f) == 0)
			return (long)off;
	}
	return -1;
}
