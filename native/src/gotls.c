/* Go crypto/tls symbols and their return instructions (see gotls.h).
 *
 * Go's return probes cannot be uretprobes: a uretprobe replaces the return
 * address on the stack, and the Go runtime copies goroutine stacks to grow
 * them, after which the replaced address points nowhere (the program
 * crashes). Instead every RET of the function gets an ordinary uprobe. */
#include "gotls.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elfsym.h"
#include "gopclntab.h"

static const char *const fn_syms[GOTLS_NFN] = {"crypto/tls.(*Conn).Read", "crypto/tls.(*Conn).Write"};

#if defined(__x86_64__)
#define GO_EM EM_X86_64

int gotls_find_rets(const uint8_t *code, size_t n, uint64_t *rets, int max, char *err, size_t errlen)
{
	csh h;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) {
		snprintf(err, errlen, "capstone: cannot open an x86-64 decoder");
		return -1;
	}
	cs_insn *insn = cs_malloc(h);
	const uint8_t *p = code;
	size_t left = n;
	uint64_t addr = 0;
	int found = 0;
	while (insn && left > 0 && cs_disasm_iter(h, &p, &left, &addr, insn)) {
		/* RET and RET imm16 (C3, C2 iw; with a REP prefix too): Go emits plain C3. */
		if (insn->id != X86_INS_RET)
			continue;
		if (found == max) {
			snprintf(err, errlen, "more than %d return instructions", max);
			found = -1;
			break;
		}
		rets[found++] = insn->address;
	}
	if (found >= 0 && left > 0) {
		snprintf(err, errlen, "cannot decode the instruction at +0x%llx", (unsigned long long)(n - left));
		found = -1;
	}
	cs_free(insn, 1);
	cs_close(&h);
	return found;
}
#elif defined(__aarch64__)
#define GO_EM EM_AARCH64

/* A64 instructions are 4 aligned bytes; Go returns with RET (X30). */
int gotls_find_rets(const uint8_t *code, size_t n, uint64_t *rets, int max, char *err, size_t errlen)
{
	int found = 0;
	for (size_t i = 0; i + 4 <= n; i += 4) {
		uint32_t w = (uint32_t)code[i] | (uint32_t)code[i + 1] << 8 | (uint32_t)code[i + 2] << 16 |
			     (uint32_t)code[i + 3] << 24;
		if (w != 0xd65f03c0u)
			continue;
		if (found == max) {
			snprintf(err, errlen, "more than %d return instructions", max);
			return -1;
		}
		rets[found++] = i;
	}
	return found;
}
#else
#error "Go return-instruction scanning for this architecture is missing"
#endif

/* Go 1.18+ build info (src/debug/buildinfo): a 32-byte header, "\xff Go
 * buildinf:", pointer size, flags; flag 2 says the version string follows
 * inline as a uvarint length and bytes. Earlier releases pointed to it
 * instead, and used stack-based argument passing on arm64 (amd64 changed in
 * 1.17): only the inline form is accepted, so the registers read are right. */
/* Reads the inline version string after a buildinfo header b[0..n). */
static int buildinfo_version(const uint8_t *b, size_t n, char *out, size_t outlen)
{
	if (n < 34 || memcmp(b, "\xff Go buildinf:", 14) != 0)
		return -1;
	if (!(b[15] & 2))
		return 0;
	size_t len = b[32], o = 33;
	if (len & 0x80) /* two-byte uvarint: versions are short */
		len = (len & 0x7f) | (size_t)b[o++] << 7;
	if (o + len > n || len >= outlen)
		return -1;
	memcpy(out, b + o, len);
	out[len] = '\0';
	return 1;
}

/* The .go.buildinfo section, or, with the section headers stripped, its
 * magic at a 16-byte boundary of the file (the section's alignment; file
 * offsets and addresses agree modulo the page size). */
static int go_version(Elf *elf, size_t shstrndx, char *out, size_t outlen)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;
		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)) ||
		    strcmp(name, ".go.buildinfo") != 0)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		return d && d->d_buf ? buildinfo_version(d->d_buf, d->d_size, out, outlen) : -1;
	}
	size_t size;
	const uint8_t *raw = (const uint8_t *)elf_rawfile(elf, &size);
	if (!raw || elf_nextscn(elf, NULL))
		return -1;
	for (size_t o = 0; o + 34 <= size; o += 16)
		if (raw[o] == 0xff && memcmp(raw + o, "\xff Go buildinf:", 14) == 0)
			return buildinfo_version(raw + o, size - o, out, outlen);
	return -1;
}

/* Where a function's code is: its address and byte count. */
struct fnloc {
	uint64_t addr, size;
};

static int find_syms(Elf *elf, struct fnloc *locs)
{
	int found = 0;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize)
			continue;
		Elf_Data *data = elf_getdata(scn, NULL);
		size_t count = data ? sh.sh_size / sh.sh_entsize : 0;
		for (size_t i = 0; i < count && found < GOTLS_NFN; i++) {
			GElf_Sym s;
			if (!gelf_getsym(data, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC || !s.st_value)
				continue;
			const char *name = elf_strptr(elf, sh.sh_link, s.st_name);
			for (int k = 0; name && k < GOTLS_NFN; k++)
				if (!locs[k].addr && strcmp(name, fn_syms[k]) == 0) {
					locs[k] = (struct fnloc){s.st_value, s.st_size};
					found++;
				}
		}
	}
	return found;
}

/*
 * The same functions from .gopclntab, which `-ldflags=-s` keeps (the runtime
 * needs it for tracebacks): the section by name, else, when the section
 * headers are stripped too, the table found by its magic. A function's size
 * is the distance to the next function's entry (alignment padding included,
 * which decodes as INT3 on x86-64). Returns 1 with both found, 0 when the
 * file has no table or lacks them, -1 with err filled when a table is there
 * but unreadable.
 */
static int find_pclntab(Elf *elf, size_t shstrndx, struct fnloc *locs, char *err, size_t errlen)
{
	const uint8_t *p = NULL;
	size_t n = 0;
	uint64_t text = 0;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;
		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)))
			continue;
		if (strcmp(name, ".text") == 0) {
			text = sh.sh_addr;
		} else if ((strcmp(name, ".gopclntab") == 0 || strcmp(name, ".data.rel.ro.gopclntab") == 0) &&
			   sh.sh_type != SHT_NOBITS) {
			/* The second name: a PIE, where the table holds relocated words. */
			Elf_Data *d = elf_getdata(scn, NULL);
			if (d && d->d_buf)
				p = d->d_buf, n = d->d_size;
		}
	}
	if (!p) {
		size_t size;
		const uint8_t *raw = (const uint8_t *)elf_rawfile(elf, &size);
		long off = raw && !elf_nextscn(elf, NULL) ? gopcln_scan(raw, size) : -1;
		if (off < 0)
			return 0;
		p = raw + off, n = size - (size_t)off;
	}
	struct gopcln t;
	if (gopcln_parse(&t, p, n, err, errlen))
		return -1;
	/* 1.18+: the header's runtime.text (written by the linker, and right even
	 * when C start-up code precedes Go's in .text), unless the file leaves it
	 * to a relocation (0) or it is not in the code: then the .text section's
	 * address, as debug/gosym takes it. */
	if (t.version >= 118 && !elf_vaddr_offset(elf, t.text_start)) {
		if (!text) {
			snprintf(err, errlen, ".gopclntab: no usable text start");
			return -1;
		}
		t.text_start = text;
	}
	struct gopcln_fn f[GOTLS_NFN];
	if (gopcln_lookup(&t, fn_syms, GOTLS_NFN, f) < GOTLS_NFN)
		return 0;
	for (int k = 0; k < GOTLS_NFN; k++)
		locs[k] = (struct fnloc){f[k].entry, f[k].end - f[k].entry};
	return 1;
}

static int probe_fn(int fd, Elf *elf, const struct fnloc *s, struct gotls_func *f, char *err, size_t errlen)
{
	f->entry = elf_vaddr_offset(elf, s->addr);
	if (!f->entry || !s->size || s->size > (1u << 20)) {
		snprintf(err, errlen, "symbol outside the executable segments");
		return -1;
	}
	uint8_t *code = malloc(s->size);
	if (!code || pread(fd, code, s->size, (off_t)f->entry) != (ssize_t)s->size) {
		snprintf(err, errlen, "reading the function: %s", code ? strerror(errno) : "out of memory");
		free(code);
		return -1;
	}
	f->nrets = gotls_find_rets(code, s->size, f->rets, GOTLS_MAX_RETS, err, errlen);
	free(code);
	if (f->nrets <= 0) {
		if (f->nrets == 0)
			snprintf(err, errlen, "no return instruction found");
		return -1;
	}
	for (int i = 0; i < f->nrets; i++)
		f->rets[i] += f->entry;
	return 0;
}

int gotls_find(const char *path, struct gotls_probes *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (errlen)
		err[0] = '\0';
	if (elf_version(EV_CURRENT) == EV_NONE)
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	int r = 0;
	GElf_Ehdr eh;
	size_t shstrndx;
	struct fnloc locs[GOTLS_NFN] = {0};
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh) || eh.e_machine != GO_EM ||
	    elf_getshdrstrndx(elf, &shstrndx))
		goto out;
	if (find_syms(elf, locs) == GOTLS_NFN) {
		snprintf(out->source, sizeof(out->source), ".symtab");
	} else {
		memset(locs, 0, sizeof(locs));
		if ((r = find_pclntab(elf, shstrndx, locs, err, errlen)) <= 0)
			goto out;
		r = 0;
		snprintf(out->source, sizeof(out->source), ".gopclntab");
	}
	int v = go_version(elf, shstrndx, out->version, sizeof(out->version));
	if (v <= 0) {
		snprintf(err, errlen, v == 0 ? "Go before 1.18: its calling convention is not supported"
					     : "unreadable .go.buildinfo");
		r = -1;
		goto out;
	}
	char ferr[160];
	for (int k = 0; k < GOTLS_NFN; k++)
		if (probe_fn(fd, elf, &locs[k], &out->fn[k], ferr, sizeof(ferr))) {
			snprintf(err, errlen, "%s: %s", fn_syms[k], ferr);
			r = -1;
			goto out;
		}
	r = 1;
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return r;
}
