#include <stdlib.h>

#include "elfsym.h"
#include "harness.h"
#include "tls_emit.h"

struct got {
	int n;
	uint32_t lens[8];
	uint32_t seqs[8];
	uint8_t first[128];
	struct sll2_meta m;
	uint64_t payload_sum;
};

static void collect(void *ctx, uint64_t ts, const struct sll2_meta *m, const uint8_t *pkt, uint32_t len)
{
	(void)ts;
	struct got *g = ctx;
	uint32_t ip = (pkt[0] >> 4) == 6 ? 40 : 20;
	if (g->n == 0)
		memcpy(g->first, pkt, len < sizeof(g->first) ? len : sizeof(g->first));
	if (g->n < 8) {
		g->lens[g->n] = len;
		g->seqs[g->n] = (uint32_t)pkt[ip + 4] << 24 | (uint32_t)pkt[ip + 5] << 16 |
				(uint32_t)pkt[ip + 6] << 8 | pkt[ip + 7];
	}
	g->m = *m;
	g->payload_sum += len - ip - 20;
	g->n++;
}

int elfsym_probe_function(void);
int elfsym_probe_function(void) { return 42; }

void test_tls_emit(void)
{
	static struct tls_emitter em;
	static uint8_t data[100000];
	struct got g;
	tls_emitter_init(&em);
	memcpy(data, "GET / HTTP/1.1\r\n", 16);

	/* SSL_write of 16 bytes on 10.0.0.1:40000 -> 10.0.0.2:443 */
	struct tls_event e = {.pid = 0x01020304, .len = 16, .caplen = 16, .family = 2, .lport = 40000,
			      .rport = 443, .dir = TLS_DIR_WRITE, .stream_off = 1000,
			      .laddr = {10, 0, 0, 1}, .raddr = {10, 0, 0, 2}};
	memset(&g, 0, sizeof(g));
	CHECK_EQ_INT(tls_emit(&em, &e, data, collect, &g), 1);
	CHECK_EQ_INT(g.lens[0], 20 + 20 + 16);
	CHECK_EQ_INT(g.m.hatype, TAPLINE_ARPHRD_TLS_PLAINTEXT);
	CHECK_EQ_INT(g.m.protocol, 0x0800);
	CHECK_EQ_INT(g.m.pkttype, SLL2_PKT_OUTGOING);
	CHECK_EQ_INT(g.m.ifindex, 0);
	CHECK_EQ_INT(g.m.halen, 4);
	const uint8_t pid[4] = {1, 2, 3, 4};
	CHECK_MEM(g.m.addr, pid, 4);
	const uint8_t src[4] = {10, 0, 0, 1}, dst[4] = {10, 0, 0, 2};
	CHECK_MEM(g.first + 12, src, 4);
	CHECK_MEM(g.first + 16, dst, 4);
	CHECK_EQ_INT(g.first[20] << 8 | g.first[21], 40000);
	CHECK_EQ_INT(g.first[22] << 8 | g.first[23], 443);
	CHECK_EQ_INT(g.seqs[0], 1000);
	CHECK_EQ_INT(g.first[33], 0x18);
	CHECK_MEM(g.first + 40, "GET / HTTP/1.1\r\n", 16);
	/* The IPv4 header checksum verifies to 0xffff (RFC 1071). */
	uint32_t sum = 0;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)g.first[i] << 8 | g.first[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	CHECK_EQ_INT(sum, 0xffff);

	/* SSL_read on the same socket: peer -> us, pkttype HOST, ACK = what we wrote. */
	e.dir = TLS_DIR_READ;
	e.stream_off = 0;
	memset(&g, 0, sizeof(g));
	tls_emit(&em, &e, data, collect, &g);
	CHECK_EQ_INT(g.m.pkttype, SLL2_PKT_HOST);
	CHECK_MEM(g.first + 12, dst, 4);
	CHECK_EQ_INT(g.first[20] << 8 | g.first[21], 443);
	uint32_t ack = (uint32_t)g.first[28] << 24 | (uint32_t)g.first[29] << 16 | (uint32_t)g.first[30] << 8 | g.first[31];
	CHECK_EQ_INT(ack, 1016);

	/* 100000 bytes split under the 16-bit IP length, sequence continuous. */
	e.caplen = e.len = sizeof(data);
	e.stream_off = 5;
	memset(&g, 0, sizeof(g));
	CHECK_EQ_INT(tls_emit(&em, &e, data, collect, &g), 2);
	CHECK_EQ_INT(g.lens[0], 40 + TLS_EMIT_MAX_PAYLOAD);
	CHECK(g.lens[0] <= 65535);
	CHECK_EQ_INT(g.seqs[1], 5 + TLS_EMIT_MAX_PAYLOAD);
	CHECK_EQ_INT(g.payload_sum, sizeof(data));

	/* A v4-mapped dual-stack socket becomes IPv4, as on the wire; real v6 stays v6. */
	struct tls_event m6 = {.len = 4, .caplen = 4, .family = 10, .lport = 1, .rport = 2,
			       .laddr = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1},
			       .raddr = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 2}};
	memset(&g, 0, sizeof(g));
	tls_emit(&em, &m6, data, collect, &g);
	CHECK_EQ_INT(g.m.protocol, 0x0800);
	CHECK_EQ_INT(g.first[15], 2);
	m6.laddr[10] = 0;
	memset(&g, 0, sizeof(g));
	tls_emit(&em, &m6, data, collect, &g);
	CHECK_EQ_INT(g.m.protocol, 0x86DD);
	CHECK_EQ_INT(g.lens[0], 40 + 20 + 4);

	struct tls_event none = {.len = 4, .caplen = 4, .family = 0};
	CHECK_EQ_INT(tls_emit(&em, &none, data, collect, &g), -1);

	/* ELF lookup on this very test binary: a defined function is found,
	 * an undefined import (from libc) and a missing name are not. */
	const char *names[] = {"elfsym_probe_function", "memcpy", "no_such_function_here"};
	uint64_t offs[3];
	char err[256];
	CHECK_EQ_INT(elf_func_offsets("/proc/self/exe", names, 3, offs, err, sizeof(err)), 1);
	CHECK(offs[0] != 0);
	CHECK_EQ_INT(offs[1], 0);
	CHECK_EQ_INT(offs[2], 0);
	CHECK_EQ_INT(elf_func_offsets("/etc/hostname", names, 3, offs, err, sizeof(err)), -1);
	CHECK(strstr(err, "not an ELF") != NULL);
	CHECK_EQ_INT(elf_func_offsets("/no/such/file", names, 1, offs, err, sizeof(err)), -1);
}
