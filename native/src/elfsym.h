/* Function symbols of an ELF file, as file offsets for uprobes. */
#ifndef TAPLINE_ELFSYM_H
#define TAPLINE_ELFSYM_H

#include <stddef.h>
#include <stdint.h>

#include <libelf.h>

/*
 * Looks up each of names[0..n) among the functions the file defines (in
 * .symtab, else .dynsym; undefined imports do not count) and stores the
 * file offset a uprobe needs in offs[i], or 0 when absent. Returns how many
 * were found, or -1 (with err filled) when the file is not a readable ELF.
 */
int elf_func_offsets(const char *path, const char *const *names, int n, uint64_t *offs,
		     char *err, size_t errlen);

/* The file offset of a virtual address inside an executable PT_LOAD segment, or 0. */
uint64_t elf_vaddr_offset(Elf *elf, uint64_t vaddr);

#endif
