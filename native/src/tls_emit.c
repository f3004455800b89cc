#include "tls_emit.h"

#include <string.h>

#define AF_INET_ 2
#define AF_INET6_ 10

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

void tls_emitter_init(struct tls_emitter *em)
{
	memset(em->flows, 0, sizeof(em->flows));
	em->packets = 0;
}

/* ::ffff:a.b.c.d (RFC 4291 §2.5.5.2): an IPv4 peer of a dual-stack socket,
 * whose real packets are IPv4. */
static int v4_mapped(const uint8_t *a)
{
	static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return memcmp(a, prefix, 12) == 0;
}

static uint32_t fnv(const uint8_t *p, size_t n, uint32_t h)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* Open addressing with a short probe; a full neighbourhood overwrites its
 * first slot (only the ACK value of an old flow is lost). */
static struct tls_flow *flow_for(struct tls_emitter *em, int v6, const uint8_t *l, uint16_t lp,
				 const uint8_t *r, uint16_t rp)
{
	uint32_t h = fnv(l, 16, fnv(r, 16, 2166136261u)) ^ ((uint32_t)lp << 16 | rp);
	for (int i = 0; i < 8; i++) {
		struct tls_flow *f = &em->flows[(h + (uint32_t)i) % TLS_EMIT_FLOWS];
		if (!f->used)
			break;
		if (f->v6 == v6 && f->lport == lp && f->rport == rp && !memcmp(f->laddr, l, 16) &&
		    !memcmp(f->raddr, r, 16))
			return f;
	}
	struct tls_flow *f = &em->flows[h % TLS_EMIT_FLOWS];
	for (int i = 0; i < 8; i++) {
		struct tls_flow *c = &em->flows[(h + (uint32_t)i) % TLS_EMIT_FLOWS];
		if (!c->used) {
			f = c;
			break;
		}
	}
	memset(f, 0, sizeof(*f));
	f->used = 1;
	f->v6 = (uint8_t)v6;
	f->lport = lp;
	f->rport = rp;
	memcpy(f->laddr, l, 16);
	memcpy(f->raddr, r, 16);
	return f;
}

int tls_emit(struct tls_emitter *em, const struct tls_event *e, const uint8_t *data,
	     tls_packet_fn fn, void *ctx)
{
	uint8_t laddr[16] = {0}, raddr[16] = {0};
	int v6;
	if (e->family == AF_INET_) {
		v6 = 0;
		memcpy(laddr, e->laddr, 4);
		memcpy(raddr, e->raddr, 4);
	} else if (e->family == AF_INET6_) {
		v6 = !(v4_mapped(e->laddr) && v4_mapped(e->raddr));
		if (v6) {
			memcpy(laddr, e->laddr, 16);
			memcpy(raddr, e->raddr, 16);
		} else {
			memcpy(laddr, e->laddr + 12, 4);
			memcpy(raddr, e->raddr + 12, 4);
		}
	} else {
		return -1;
	}
	int dir = e->dir == TLS_DIR_WRITE ? TLS_DIR_WRITE : TLS_DIR_READ;
	struct tls_flow *f = flow_for(em, v6, laddr, e->lport, raddr, e->rport);
	const uint8_t *src = dir == TLS_DIR_WRITE ? laddr : raddr;
	const uint8_t *dst = dir == TLS_DIR_WRITE ? raddr : laddr;
	uint16_t sport = dir == TLS_DIR_WRITE ? e->lport : e->rport;
	uint16_t dport = dir == TLS_DIR_WRITE ? e->rport : e->lport;

	struct sll2_meta m = {
		.protocol = v6 ? 0x86DD : 0x0800,
		.ifindex = 0,
		.hatype = TAPLINE_ARPHRD_TLS_PLAINTEXT,
		.pkttype = dir == TLS_DIR_WRITE ? SLL2_PKT_OUTGOING : SLL2_PKT_HOST,
		.halen = 4,
	};
	put32(m.addr, e->pid);

	uint32_t iplen = v6 ? 40 : 20;
	uint32_t done = 0;
	int n = 0;
	do {
		uint32_t chunk = e->caplen - done;
		if (chunk > TLS_EMIT_MAX_PAYLOAD)
			chunk = TLS_EMIT_MAX_PAYLOAD;
		uint8_t *p = em->pkt;
		if (v6) {
			/* RFC 8200 §3 */
			memset(p, 0, 40);
			p[0] = 0x60;
			put16(p + 4, (uint16_t)(20 + chunk));
			p[6] = 6; /* next header: TCP */
			p[7] = 64;
			memcpy(p + 8, src, 16);
			memcpy(p + 24, dst, 16);
		} else {
			/* RFC 791 §3.1; DF set, so the id may stay 0 (RFC 6864 §4.1) */
			memset(p, 0, 20);
			p[0] = 0x45;
			put16(p + 2, (uint16_t)(20 + 20 + chunk));
			p[6] = 0x40;
			p[8] = 64;
			p[9] = 6;
			memcpy(p + 12, src, 4);
			memcpy(p + 16, dst, 4);
			uint32_t sum = 0;
			for (int i = 0; i < 20; i += 2)
				sum += (uint32_t)p[i] << 8 | p[i + 1];
			while (sum >> 16)
				sum = (sum & 0xffff) + (sum >> 16);
			put16(p + 10, (uint16_t)~sum);
		}
		/* RFC 9293 §3.1. The checksum is left 0: the bytes were never on
		 * a wire, like offloaded packets a capture shows unchecksummed. */
		uint8_t *t = p + iplen;
		memset(t, 0, 20);
		put16(t, sport);
		put16(t + 2, dport);
		put32(t + 4, (uint32_t)(e->stream_off + done));
		put32(t + 8, (uint32_t)f->next[1 - dir]);
		t[12] = 5 << 4;
		t[13] = 0x18; /* PSH|ACK */
		put16(t + 14, 65535);
		memcpy(t + 20, data + done, chunk);
		fn(ctx, e->ts_ns, &m, p, iplen + 20 + chunk);
		n++;
		em->packets++;
		done += chunk;
	} while (done < e->caplen);

	uint64_t end = e->stream_off + e->caplen;
	/* A truncated call's tail never arrives: the stream still ends at its
	 * true length, so the receiver sees a hole rather than shifted bytes. */
	if (e->off + e->caplen >= e->len || e->off + e->caplen >= (uint64_t)TLS_CHUNK * TLS_MAX_CHUNKS)
		end = e->stream_off - e->off + e->len;
	if (end > f->next[dir])
		f->next[dir] = end;
	return n;
}
