/* gotls_find_rets: returns found by decoding, not by byte value. */
#include <stdint.h>

#include "gotls.h"
#include "harness.h"

void test_gotls(void)
{
	char err[160] = "";
	uint64_t rets[GOTLS_MAX_RETS];
#if defined(__x86_64__)
	/* A Go-like body where 0xC3 also appears inside other instructions. */
	static const uint8_t code[] = {
		0x49, 0x3b, 0x66, 0x10,		    /* 0: cmp rsp, [r14+0x10] */
		0xb8, 0xc3, 0xc3, 0xc3, 0xc3,	    /* 4: mov eax, 0xc3c3c3c3 */
		0x48, 0x83, 0xc3, 0x08,		    /* 9: add rbx, 8 (ModRM 0xC3) */
		0x48, 0x8b, 0x5c, 0x24, 0xc3,	    /* 13: mov rbx, [rsp-0x3d] */
		0xc3,				    /* 18: ret */
		0x48, 0x8d, 0x05, 0xc3, 0, 0, 0,    /* 19: lea rax, [rip+0xc3] */
		0xc3,				    /* 26: ret */
		0xcc, 0xcc,			    /* 27: int3 padding */
	};
	int n = gotls_find_rets(code, sizeof(code), rets, GOTLS_MAX_RETS, err, sizeof(err));
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(rets[0], 18);
	CHECK_EQ_INT(rets[1], 26);

	/* Over the limit, and a truncated instruction, are errors, not partial answers. */
	CHECK_EQ_INT(gotls_find_rets(code, sizeof(code), rets, 1, err, sizeof(err)), -1);
	CHECK(strstr(err, "more than 1") != NULL);
	CHECK_EQ_INT(gotls_find_rets(code, 7, rets, GOTLS_MAX_RETS, err, sizeof(err)), -1);
	CHECK(strstr(err, "+0x4") != NULL);
#elif defined(__aarch64__)
	static const uint8_t code[] = {0xc0, 0x03, 0x5f, 0xd6, 0x1f, 0x20, 0x03, 0xd5, 0xc0, 0x03, 0x5f, 0xd6};
	int n = gotls_find_rets(code, sizeof(code), rets, GOTLS_MAX_RETS, err, sizeof(err));
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(rets[1], 8);
#endif

	/* Not a Go program (this file is not even ELF): 0, nothing to hook. */
	struct gotls_probes p;
	CHECK_EQ_INT(gotls_find("/proc/self/cmdline", &p, err, sizeof(err)), 0);
	CHECK_EQ_INT(gotls_find("/nonexistent", &p, err, sizeof(err)), 0);
}
