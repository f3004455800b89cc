/* .gopclntab: synthetic tables of each layout, the real table of a Go binary
 * checked against its .symtab, stripped binaries hooked like their unstripped
 * twins, and truncated/corrupted copies that must only ever yield errors. */
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gopclntab.h"
#include "gotls.h"
#include "harness.h"

static void put(uint8_t *b, size_t off, unsigned size, uint64_t v)
{
	for (unsigned i = 0; i < size; i++)
		b[off + i] = (uint8_t)(v >> (8 * i));
}

static const char *const syn_names[3] = {"main.main", "crypto/tls.(*Conn).Read", "main.last"};
static const uint64_t syn_offs[4] = {0x0, 0x40, 0x90, 0xa0}; /* three functions and the end */
#define SYN_TEXT 0x401000u

/* A table of the given layout (116, 118 or 120), 64-bit, three functions. Returns its size. */
static size_t build_table(uint8_t *b, size_t cap, int version)
{
	memset(b, 0, cap);
	const int v118 = version >= 118;
	put(b, 0, 4, version == 116 ? 0xfffffffa : version == 118 ? 0xfffffff0 : 0xfffffff1);
	b[6] = 1, b[7] = 8;
	const size_t hdr = v118 ? 72 : 64, first = v118 ? 3 : 2;
	put(b, 8, 8, 3);
	if (v118)
		put(b, 8 + 16, 8, SYN_TEXT);
	/* funcnametab right after the header */
	size_t o = hdr, nameoff[3];
	for (int i = 0; i < 3; i++) {
		nameoff[i] = o - hdr;
		memcpy(b + o, syn_names[i], strlen(syn_names[i]) + 1);
		o += strlen(syn_names[i]) + 1;
	}
	put(b, 8 + first * 8, 8, hdr);
	o = (o + 7) & ~(size_t)7;
	const size_t functab = o;
	put(b, 8 + (first + 4) * 8, 8, functab);
	const unsigned fs = v118 ? 4 : 8, ef = v118 ? 4 : 8;
	const size_t recs = functab + 7 * fs + 4; /* _func records after the 2n+1 fields */
	for (int i = 0; i < 4; i++) {
		const uint64_t e = v118 ? syn_offs[i] : SYN_TEXT + syn_offs[i];
		put(b, functab + 2 * i * fs, fs, e);
		if (i == 3)
			break;
		const size_t rec = recs + (size_t)i * 16;
		put(b, functab + (2 * i + 1) * fs, fs, rec - functab);
		put(b, rec, ef, e);
		put(b, rec + ef, 4, nameoff[i]);
	}
	return recs + 3 * 16;
}

/* Everything the parser offers, on bytes that may be garbage; counts names that would escape p[0..n). */
static int exercise(const uint8_t *p, size_t n, uint64_t max_funcs)
{
	int bad = 0;
	struct gopcln t;
	char err[128];
	if (gopcln_parse(&t, p, n, err, sizeof(err)) == 0) {
		struct gopcln_fn f;
		for (uint64_t i = 0; i < t.nfunc && i < max_funcs; i++)
			if (gopcln_func(&t, i, &f) == 0) {
				const uint8_t *s = (const uint8_t *)f.name;
				bad += s < p || s >= p + n || !memchr(s, '\0', (size_t)(p + n - s)) || f.end < f.entry;
			}
		struct gopcln_fn found[2];
		static const char *const want[2] = {"crypto/tls.(*Conn).Read", "crypto/tls.(*Conn).Write"};
		gopcln_lookup(&t, want, 2, found);
	}
	return bad;
}

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint64_t next_rand(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17; /* xorshift64: reproducible runs */
	return rng;
}

/* Truncated copies (each its own allocation, so a sanitizer sees any overread) and flipped bytes. */
static int fuzz_table(const uint8_t *tab, size_t n, size_t ntrunc, int rounds, uint64_t max_funcs)
{
	int bad = 0;
	for (size_t k = 0; k <= ntrunc; k++) {
		size_t len = ntrunc >= n ? k : (k < 200 ? k : (size_t)(next_rand() % n));
		if (len > n)
			break;
		uint8_t *c = malloc(len ? len : 1);
		memcpy(c, tab, len);
		bad += exercise(c, len, max_funcs);
		if (k % 16 == 0)
			gopcln_scan(c, len);
		free(c);
	}
	uint8_t *c = malloc(n);
	memcpy(c, tab, n);
	for (int r = 0; r < rounds; r++) {
		size_t at[4];
		uint8_t old[4];
		int flips = 1 + (int)(next_rand() % 4);
		for (int i = 0; i < flips; i++) {
			/* Half the hits in the header and the first functab fields, where offsets live. */
			at[i] = (size_t)(next_rand() % (next_rand() % 2 && n > 256 ? 256 : n));
			old[i] = c[at[i]];
			c[at[i]] ^= (uint8_t)(1 + next_rand() % 255);
		}
		bad += exercise(c, n, max_funcs);
		if (r % 32 == 0)
			gopcln_scan(c, n);
		for (int i = flips - 1; i >= 0; i--)
			c[at[i]] = old[i];
	}
	free(c);
	return bad;
}

static void synthetic(void)
{
	uint8_t b[512];
	char err[128];
	static const int versions[3] = {116, 118, 120};
	for (int v = 0; v < 3; v++) {
		size_t n = build_table(b, sizeof(b), versions[v]);
		struct gopcln t;
		CHECK_EQ_INT(gopcln_parse(&t, b, n, err, sizeof(err)), 0);
		CHECK_EQ_INT(t.version, versions[v]);
		CHECK_EQ_INT(t.nfunc, 3);
		struct gopcln_fn f;
		CHECK_EQ_INT(gopcln_func(&t, 2, &f), 0);
		CHECK_STR(f.name, "main.last");
		CHECK_EQ_INT(f.entry, SYN_TEXT + 0x90);
		CHECK_EQ_INT(f.end, SYN_TEXT + 0xa0);
		CHECK_EQ_INT(gopcln_func(&t, 3, &f), -1);
		static const char *const want[2] = {"crypto/tls.(*Conn).Read", "absent"};
		struct gopcln_fn found[2];
		CHECK_EQ_INT(gopcln_lookup(&t, want, 2, found), 1);
		CHECK_EQ_INT(found[0].entry, SYN_TEXT + 0x40);
		CHECK_EQ_INT(found[0].end, SYN_TEXT + 0x90);
		CHECK(found[1].name == NULL);

		/* Found by its magic inside other bytes (the 0xff runs are decoys). */
		uint8_t big[1024];
		memset(big, 0xff, 300);
		memcpy(big + 300, b, n);
		CHECK_EQ_INT(gopcln_scan(big, 300 + n), 300);
		CHECK_EQ_INT(gopcln_scan(big, 300 + 40), -1);

		CHECK_EQ_INT(fuzz_table(b, n, n, 4000, 16), 0);
	}
	/* Layouts refused with a reason. */
	build_table(b, sizeof(b), 118);
	put(b, 0, 4, 0xfffffffb);
	CHECK_EQ_INT(gopcln_parse(&(struct gopcln){0}, b, 200, err, sizeof(err)), -1);
	CHECK(strstr(err, "1.2-1.15") != NULL);
	build_table(b, sizeof(b), 118);
	put(b, 8, 8, 1u << 30); /* more functions than bytes */
	CHECK_EQ_INT(gopcln_parse(&(struct gopcln){0}, b, 200, err, sizeof(err)), -1);
	CHECK(strstr(err, "do not fit") != NULL);
	build_table(b, sizeof(b), 118);
	put(b, 8 + 7 * 8, 8, UINT64_MAX - 3); /* functab offset near the top of the address space */
	CHECK_EQ_INT(gopcln_parse(&(struct gopcln){0}, b, 200, err, sizeof(err)), -1);
}

/* ---- real Go binaries (TAPLINE_GO_FIXTURES, built by the Makefile) ---- */

struct fsym {
	uint64_t addr, size;
	const char *name;
};

static int by_addr(const void *a, const void *b)
{
	const struct fsym *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int read_file(const char *path, uint8_t **buf, size_t *n)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*n = (size_t)st.st_size;
	*buf = malloc(*n);
	int ok = *buf && pread(fd, *buf, *n, 0) == (ssize_t)*n;
	close(fd);
	return ok ? 0 : -1;
}

static int write_file(const char *path, const uint8_t *buf, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int ok = fd >= 0 && write(fd, buf, n) == (ssize_t)n;
	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

/*
 * The linker names functions a little differently in the two tables:
 * .symtab gives assembly functions their ABI suffix (".abi0"), spells out
 * type arguments and array lengths that .gopclntab shortens to "[...]", and
 * writes '.' where .gopclntab keeps Go's middle dot (`go tool nm` shows the
 * .symtab names).
 */
static int names_agree(const char *pcln, const char *sym)
{
	while (*pcln && *sym) {
		if (*sym == '[' && strncmp(pcln, "[...]", 5) == 0) {
			int depth = 0;
			do
				depth += (*sym == '[') - (*sym == ']');
			while (*++sym && depth > 0);
			pcln += 5;
			continue;
		}
		if (strncmp(pcln, "\xc2\xb7", 2) == 0 && *sym == '.') { /* U+00B7 middle dot */
			pcln += 2, sym++;
			continue;
		}
		if (*pcln++ != *sym++)
			return 0;
	}
	return !*pcln && (!*sym || strcmp(sym, ".abi0") == 0);
}

/* Every function of the binary's .gopclntab against its .symtab: same names at the same addresses. */
static void against_symtab(const char *path)
{
	int fd = open(path, O_RDONLY);
	Elf *elf = fd >= 0 ? elf_begin(fd, ELF_C_READ_MMAP, NULL) : NULL;
	size_t shstrndx = 0;
	CHECK(elf && elf_getshdrstrndx(elf, &shstrndx) == 0);
	if (!elf)
		return;
	struct fsym *syms = NULL;
	size_t nsyms = 0;
	const uint8_t *tab = NULL;
	size_t tabn = 0;
	uint64_t text = 0;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		gelf_getshdr(scn, &sh);
		const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
		Elf_Data *d = elf_getdata(scn, NULL);
		if (name && (strcmp(name, ".gopclntab") == 0 || strcmp(name, ".data.rel.ro.gopclntab") == 0))
			tab = d->d_buf, tabn = d->d_size;
		if (name && strcmp(name, ".text") == 0)
			text = sh.sh_addr;
		if (sh.sh_type != SHT_SYMTAB)
			continue;
		size_t count = sh.sh_size / sh.sh_entsize;
		syms = calloc(count, sizeof(*syms));
		for (size_t i = 0; i < count; i++) {
			GElf_Sym s;
			if (gelf_getsym(d, (int)i, &s) && GELF_ST_TYPE(s.st_info) == STT_FUNC && s.st_value)
				syms[nsyms++] = (struct fsym){s.st_value, s.st_size, elf_strptr(elf, sh.sh_link, s.st_name)};
		}
	}
	qsort(syms, nsyms, sizeof(*syms), by_addr);
	struct gopcln t;
	char err[128];
	CHECK(tab && gopcln_parse(&t, tab, tabn, err, sizeof(err)) == 0);
	CHECK_EQ_INT(t.text_start, text); /* runtime.text opens .text in an internally linked binary */
	uint64_t matched = 0, wrong = 0, unreadable = 0, bad_size = 0;
	for (uint64_t i = 0; tab && i < t.nfunc; i++) {
		struct gopcln_fn f;
		if (gopcln_func(&t, i, &f)) {
			unreadable++;
			continue;
		}
		struct fsym key = {f.entry, 0, NULL};
		struct fsym *s = bsearch(&key, syms, nsyms, sizeof(*syms), by_addr);
		if (!s) {
			wrong++;
			continue;
		}
		/* Several symbols may share an address: walk to the first, then look for the name. */
		while (s > syms && s[-1].addr == f.entry)
			s--;
		int same = 0;
		for (; s < syms + nsyms && s->addr == f.entry && !same; s++)
			if (names_agree(f.name, s->name)) {
				same = 1;
				/* The next entry lies past the symbol's bytes by at most the 32-byte alignment padding. */
				bad_size += f.end - f.entry < s->size || f.end - f.entry - s->size >= 32;
			}
		matched += same;
		wrong += !same;
	}
	fprintf(stderr, "  %s: %llu functions in .gopclntab, %llu agree with .symtab\n", path,
		(unsigned long long)t.nfunc, (unsigned long long)matched);
	CHECK(matched > 1000);
	CHECK_EQ_INT(matched, t.nfunc);
	CHECK_EQ_INT(wrong, 0);
	CHECK_EQ_INT(unreadable, 0);
	CHECK_EQ_INT(bad_size, 0);
	/* The real table, truncated and corrupted (names checked on the first functions only). */
	if (tab)
		CHECK_EQ_INT(fuzz_table(tab, tabn, 60, 400, 64), 0);
	free(syms);
	elf_end(elf);
	close(fd);
}

static int same_probes(const struct gotls_probes *a, const struct gotls_probes *b)
{
	for (int k = 0; k < GOTLS_NFN; k++) {
		if (a->fn[k].entry != b->fn[k].entry || a->fn[k].nrets != b->fn[k].nrets)
			return 0;
		for (int i = 0; i < a->fn[k].nrets; i++)
			if (a->fn[k].rets[i] != b->fn[k].rets[i])
				return 0;
	}
	return 1;
}

/* The stripped twin gives the unstripped binary's probes; so does a copy without section headers. */
static void twins(const char *dir, const char *full, const char *stripped)
{
	char a[512], b[512], c[512], err[160];
	snprintf(a, sizeof(a), "%s/%s", dir, full);
	snprintf(b, sizeof(b), "%s/%s", dir, stripped);
	snprintf(c, sizeof(c), "%s/%s-nosections", dir, stripped);
	struct gotls_probes pa, pb, pc;
	CHECK_EQ_INT(gotls_find(a, &pa, err, sizeof(err)), 1);
	CHECK_STR(pa.source, ".symtab");
	int r = gotls_find(b, &pb, err, sizeof(err));
	CHECK_EQ_INT(r, 1);
	if (r != 1)
		fprintf(stderr, "  %s: %s\n", b, err);
	CHECK_STR(pb.source, ".gopclntab");
	CHECK_STR(pa.version, pb.version);
	CHECK(pa.fn[GOTLS_READ].nrets > 1 && pa.fn[GOTLS_WRITE].nrets > 1);
	CHECK(same_probes(&pa, &pb));

	/* sstrip-like: no section headers at all (e_shoff, e_shnum, e_shstrndx zeroed). */
	uint8_t *img;
	size_t n;
	CHECK_EQ_INT(read_file(b, &img, &n), 0);
	put(img, 0x28, 8, 0);
	put(img, 0x3c, 2, 0);
	put(img, 0x3e, 2, 0);
	CHECK_EQ_INT(write_file(c, img, n), 0);
	r = gotls_find(c, &pc, err, sizeof(err));
	CHECK_EQ_INT(r, 1);
	if (r != 1)
		fprintf(stderr, "  %s: %s\n", c, err);
	CHECK_STR(pc.version, pa.version);
	CHECK(same_probes(&pa, &pc));

	/* Truncated and corrupted files: an answer or an error, never a crash or a wrong hook. */
	char t[560];
	snprintf(t, sizeof(t), "%s.fuzz", c);
	int hooked_wrong = 0;
	for (int k = 0; k < 24; k++) {
		size_t len = (size_t)(next_rand() % n);
		write_file(t, img, len);
		if (gotls_find(t, &pc, err, sizeof(err)) == 1)
			hooked_wrong += !same_probes(&pa, &pc);
	}
	for (int k = 0; k < 24; k++) {
		uint8_t *m = malloc(n);
		memcpy(m, img, n);
		for (int i = 0; i < 64; i++)
			m[next_rand() % n] ^= (uint8_t)(1 + next_rand() % 255);
		write_file(t, m, n);
		gotls_find(t, &pc, err, sizeof(err)); /* any answer; it must only return */
		free(m);
	}
	CHECK_EQ_INT(hooked_wrong, 0);
	unlink(t);
	unlink(c);
	free(img);
}

void test_gopclntab(void)
{
	synthetic();
	const char *dir = getenv("TAPLINE_GO_FIXTURES");
	char probe[512];
	snprintf(probe, sizeof(probe), "%s/.built", dir ? dir : "");
	if (!dir || access(probe, F_OK) != 0) {
		fprintf(stderr, "test_gopclntab: SKIPPED the Go binary checks: no fixtures (go not installed?)\n");
		return;
	}
	elf_version(EV_CURRENT);
	snprintf(probe, sizeof(probe), "%s/gotls", dir);
	against_symtab(probe);
	snprintf(probe, sizeof(probe), "%s/gotls-pie", dir);
	against_symtab(probe);
	twins(dir, "gotls", "gotls-stripped");
	twins(dir, "gotls-pie", "gotls-pie-stripped");
}
