/* TLS plaintext as synthesized TCP packets (see sll2.h, TAPLINE_ARPHRD_TLS_PLAINTEXT). */
#ifndef TAPLINE_TLS_EMIT_H
#define TAPLINE_TLS_EMIT_H

#include <linux/types.h>
#include <stddef.h>
#include <stdint.h>

#include "sll2.h"
#include "tls.h"

/* IPv4 total length is 16 bits; IPv6 payload length too. One packet holds
 * at most this many plaintext bytes, whatever the IP version. */
#define TLS_EMIT_MAX_PAYLOAD (65535 - 40 - 20)
#define TLS_EMIT_PKT_MAX (40 + 20 + TLS_EMIT_MAX_PAYLOAD)
#define TLS_EMIT_FLOWS 4096

/* Per flow: where each direction's stream has got to, for the ACK field. */
struct tls_flow {
	uint8_t used;
	uint8_t v6;
	uint16_t lport, rport;
	uint8_t laddr[16], raddr[16];
	uint64_t next[2]; /* indexed by enum tls_dir */
};

/* Called once per synthesized packet; pkt is only valid during the call. */
typedef void (*tls_packet_fn)(void *ctx, uint64_t ts_ns, const struct sll2_meta *m,
			      const uint8_t *pkt, uint32_t len);

struct tls_emitter {
	struct tls_flow flows[TLS_EMIT_FLOWS];
	uint8_t pkt[TLS_EMIT_PKT_MAX];
	uint64_t packets;
};

void tls_emitter_init(struct tls_emitter *em);

/*
 * Turns one event and its caplen plaintext bytes into packets: an IP and a
 * TCP header carrying the connection's real 4-tuple (source = the process's
 * end for SSL_write, the peer for SSL_read), sequence number = the byte's
 * offset in that socket direction (so each direction is its own sequence
 * space, starting mid-stream without a SYN), flags PSH|ACK. Payloads larger
 * than TLS_EMIT_MAX_PAYLOAD are split. Returns packets emitted, or -1 when
 * the event names no IPv4/IPv6 socket.
 */
int tls_emit(struct tls_emitter *em, const struct tls_event *e, const uint8_t *data,
	     tls_packet_fn fn, void *ctx);

#endif
