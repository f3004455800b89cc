#include "sll2.h"

#include <pcap/dlt.h>
#include <string.h>

#define ETH_HDR_LEN 14
#define SLL_HDR_LEN 16
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86DD
/* Linux cooked pseudo protocols for 802.3 frames without an EtherType. */
#define LINUX_SLL_P_802_3 0x0001
#define LINUX_SLL_P_802_2 0x0004

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void sll2_encode(uint8_t out[SLL2_HDR_LEN], const struct sll2_meta *m)
{
	out[0] = m->protocol >> 8;
	out[1] = m->protocol & 0xff;
	out[2] = 0;
	out[3] = 0;
	out[4] = m->ifindex >> 24;
	out[5] = (m->ifindex >> 16) & 0xff;
	out[6] = (m->ifindex >> 8) & 0xff;
	out[7] = m->ifindex & 0xff;
	out[8] = m->hatype >> 8;
	out[9] = m->hatype & 0xff;
	out[10] = m->pkttype;
	out[11] = m->halen;
	memcpy(out + 12, m->addr, 8);
}

void sll2_decode(const uint8_t in[SLL2_HDR_LEN], struct sll2_meta *m)
{
	m->protocol = be16(in);
	m->ifindex = be32(in + 4);
	m->hatype = be16(in + 8);
	m->pkttype = in[10];
	m->halen = in[11] > 8 ? 8 : in[11];
	memcpy(m->addr, in + 12, 8);
}

int sll2_dlt_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_NULL:
	case DLT_LOOP:
		return 1;
	default:
		return 0;
	}
}

static int ip_version_protocol(const uint8_t *p, uint32_t caplen, uint16_t *proto)
{
	if (caplen < 1)
		return -1;
	switch (p[0] >> 4) {
	case 4:
		*proto = ETHERTYPE_IPV4;
		return 0;
	case 6:
		*proto = ETHERTYPE_IPV6;
		return 0;
	default:
		return -1;
	}
}

static int is_broadcast(const uint8_t *mac)
{
	static const uint8_t bc[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	return memcmp(mac, bc, 6) == 0;
}

/* Ethernet has no direction; infer it the way the kernel labels it. */
static uint8_t ether_pkttype(const uint8_t *dst, const uint8_t *src, const struct sll2_link *link)
{
	if (link && link->has_mac && memcmp(src, link->mac, 6) == 0)
		return SLL2_PKT_OUTGOING;
	if (is_broadcast(dst))
		return SLL2_PKT_BROADCAST;
	if (dst[0] & 1)
		return SLL2_PKT_MULTICAST;
	if (link && link->has_mac && memcmp(dst, link->mac, 6) != 0)
		return SLL2_PKT_OTHERHOST;
	return SLL2_PKT_HOST;
}

int sll2_from_frame(int dlt, const uint8_t *f, uint32_t caplen,
		    const struct sll2_link *link, struct sll2_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->ifindex = link ? link->ifindex : 0;
	m->pkttype = SLL2_PKT_HOST;

	switch (dlt) {
	case DLT_EN10MB: {
		if (caplen < ETH_HDR_LEN)
			return -1;
		uint16_t type = be16(f + 12);
		if (type < 0x0600) /* IEEE 802.3 length field: LLC or raw 802.3 */
			type = caplen >= ETH_HDR_LEN + 2 && be16(f + ETH_HDR_LEN) == 0xFFFF
				       ? LINUX_SLL_P_802_3
				       : LINUX_SLL_P_802_2;
		m->protocol = type;
		m->hatype = SLL2_ARPHRD_ETHER;
		m->pkttype = ether_pkttype(f, f + 6, link);
		m->halen = 6;
		memcpy(m->addr, f + 6, 6);
		return ETH_HDR_LEN;
	}
	case DLT_LINUX_SLL: {
		if (caplen < SLL_HDR_LEN)
			return -1;
		uint16_t halen = be16(f + 4);
		m->pkttype = (uint8_t)be16(f);
		m->hatype = be16(f + 2);
		m->halen = halen > 8 ? 8 : (uint8_t)halen;
		memcpy(m->addr, f + 6, 8);
		m->protocol = be16(f + 14);
		return SLL_HDR_LEN;
	}
	case DLT_LINUX_SLL2:
		if (caplen < SLL2_HDR_LEN)
			return -1;
		sll2_decode(f, m);
		return SLL2_HDR_LEN;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		if (ip_version_protocol(f, caplen, &m->protocol) < 0)
			return -1;
		m->hatype = SLL2_ARPHRD_NONE;
		return 0;
	case DLT_NULL:
	case DLT_LOOP: {
		if (caplen < 4)
			return -1;
		/* DLT_NULL stores the BSD address family in the writer's byte order. */
		uint32_t fam = dlt == DLT_LOOP ? be32(f) : (uint32_t)f[0] | (uint32_t)f[1] << 8 |
									(uint32_t)f[2] << 16 | (uint32_t)f[3] << 24;
		if (dlt == DLT_NULL && fam > 0xFFFF)
			fam = be32(f);
		if (fam == 2)
			m->protocol = ETHERTYPE_IPV4;
		else if (fam == 10 || fam == 24 || fam == 28 || fam == 30)
			m->protocol = ETHERTYPE_IPV6;
		else
			return -1;
		m->hatype = SLL2_ARPHRD_LOOPBACK;
		return 4;
	}
	default:
		return -1;
	}
}
