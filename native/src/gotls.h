/* Go crypto/tls: where to hook (*Conn).Read and (*Conn).Write in a Go binary. */
#ifndef TAPLINE_GOTLS_H
#define TAPLINE_GOTLS_H

#include <stddef.h>
#include <stdint.h>

/* Returns per function: crypto/tls's are small (7 and 8 with go1.19 on amd64). */
#define GOTLS_MAX_RETS 32

enum gotls_fn { GOTLS_READ = 0, GOTLS_WRITE = 1, GOTLS_NFN };

struct gotls_func {
	uint64_t entry;			/* file offset of the first instruction */
	uint64_t rets[GOTLS_MAX_RETS];	/* file offsets of its return instructions */
	int nrets;
};

struct gotls_probes {
	char version[32]; /* "go1.19.8", from .go.buildinfo */
	char source[16];  /* where the functions were found: ".symtab" or ".gopclntab" */
	struct gotls_func fn[GOTLS_NFN];
};

/*
 * Looks for crypto/tls.(*Conn).Read and .Write in the ELF at path: in
 * .symtab, else in .gopclntab (stripped binaries; found by its magic when
 * the section headers are gone too). Returns 1 with the probe offsets
 * filled, 0 when the file is not a Go program using crypto/tls, -1 with err
 * filled when it is one that cannot be hooked (Go before 1.18, an
 * unreadable table, an undecodable function).
 */
int gotls_find(const char *path, struct gotls_probes *out, char *err, size_t errlen);

/*
 * The return instructions of one function's machine code, found by decoding
 * it instruction by instruction from its first byte (a 0xC3 byte may sit
 * inside another instruction's operand). Stores offsets from code[0] in
 * rets; returns how many, or -1 with err filled when a byte sequence does
 * not decode or there are more than max.
 */
int gotls_find_rets(const uint8_t *code, size_t n, uint64_t *rets, int max, char *err, size_t errlen);

#endif
