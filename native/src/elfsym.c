#include "elfsym.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A symbol's virtual address becomes a file offset through the loadable
 * segment holding it (System V gABI, "Program Header"): the kernel places
 * uprobes by offset into the file's inode. */
uint64_t elf_vaddr_offset(Elf *elf, uint64_t vaddr)
{
	size_t nph;
	if (elf_getphdrnum(elf, &nph))
		return 0;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		if (vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_memsz)
			return vaddr - ph.p_vaddr + ph.p_offset;
	}
	return 0;
}

static int scan_table(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, const char *const *names, int n,
		      uint64_t *offs)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	if (!data || sh->sh_entsize == 0)
		return 0;
	size_t count = sh->sh_size / sh->sh_entsize;
	int found = 0;
	for (size_t i = 0; i < count; i++) {
		GElf_Sym sym;
		if (!gelf_getsym(data, (int)i, &sym))
			break;
		if (GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF || !sym.st_value)
			continue;
		const char *name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!name)
			continue;
		for (int k = 0; k < n; k++) {
			if (offs[k] || strcmp(name, names[k]) != 0)
				continue;
			offs[k] = elf_vaddr_offset(elf, sym.st_value);
			found += offs[k] != 0;
		}
	}
	return found;
}

int elf_func_offsets(const char *path, const char *const *names, int n, uint64_t *offs,
		     char *err, size_t errlen)
{
	memset(offs, 0, sizeof(*offs) * (size_t)n);
	if (elf_version(EV_CURRENT) == EV_NONE) {
		snprintf(err, errlen, "libelf: %s", elf_errmsg(-1));
		return -1;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		snprintf(err, errlen, "'%s' is not an ELF file", path);
		if (elf)
			elf_end(elf);
		close(fd);
		return -1;
	}
	int found = 0;
	/* .symtab is complete when present; .dynsym covers stripped libraries. */
	for (int pass = 0; pass < 2 && found < n; pass++) {
		Elf_Scn *scn = NULL;
		while ((scn = elf_nextscn(elf, scn))) {
			GElf_Shdr sh;
			if (!gelf_getshdr(scn, &sh))
				continue;
			if (sh.sh_type == (pass == 0 ? SHT_SYMTAB : SHT_DYNSYM))
				found += scan_table(elf, scn, &sh, names, n, offs);
		}
	}
	elf_end(elf);
	close(fd);
	return found;
}
