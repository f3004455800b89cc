/* AF_PACKET capture through a TPACKET_V3 mmap ring (one socket per interface). */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pcap/dlt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "source.h"

struct afp_source {
	struct tl_source base;
	int ifindex;
	int dlt; /* what the kernel filter sees: DLT_EN10MB, DLT_RAW or DLT_LINUX_SLL (cooked) */
	int loopback; /* every packet shows up twice: keep only the incoming copy */
	uint32_t snaplen;
	uint8_t *ring;
	size_t ring_len;
	uint32_t block_size, block_count, next_block;
};

/*
 * A SOCK_RAW socket on one interface filters the frame as the interface
 * frames it, so the program is compiled for that link type. Interfaces
 * without a link type libpcap can name, and `any` (whose interfaces
 * differ), get a SOCK_DGRAM cooked socket and a DLT_LINUX_SLL program
 * rewritten for it, as libpcap itself does.
 */
static int raw_dlt_for_arphrd(int hatype)
{
	switch (hatype) {
	case ARPHRD_ETHER:
	case ARPHRD_LOOPBACK: /* Linux loopback frames carry a zeroed Ethernet header */
		return DLT_EN10MB;
	case ARPHRD_NONE: /* tun, wireguard: the frame is the IP packet */
		return DLT_RAW;
	default:
		return -1;
	}
}

static int iface_hatype(const char *name, int *hatype)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	int rc = ioctl(fd, SIOCGIFHWADDR, &ifr);
	close(fd);
	if (rc < 0)
		return -1;
	*hatype = ifr.ifr_hwaddr.sa_family;
	return 0;
}

static int afp_prepare_filter(struct tl_source *base, const char *expr, struct tl_kfilter *out,
			      char *err, size_t errlen)
{
	struct afp_source *s = (struct afp_source *)base;
	struct bpf_program bp;
	if (tl_filter_compile(s->dlt, s->snaplen, expr, &bp, err, errlen) < 0)
		return -1;
	int rc = tl_filter_from_bpf(&bp, s->dlt, out, err, errlen);
	pcap_freecode(&bp);
	if (rc == 0 && s->loopback)
		rc = tl_filter_drop_outgoing(out, err, errlen);
	return rc;
}

static int afp_commit_filter(struct tl_source *base, struct tl_kfilter *f, char *err,
			     size_t errlen)
{
	return tl_filter_attach(base->fd, f, err, errlen);
}

static void afp_stats(struct tl_source *base, struct tl_counters *c)
{
	struct tpacket_stats_v3 st;
	socklen_t len = sizeof(st);
	/* The kernel resets these counters on every read. tp_packets includes drops. */
	if (getsockopt(base->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) {
		c->kernel_received += st.tp_packets;
		c->kernel_dropped += st.tp_drops;
	}
}

static int afp_drain(struct tl_source *base, struct tl_sink *sink, int budget)
{
	struct afp_source *s = (struct afp_source *)base;
	int n = 0;
	for (uint32_t blocks = 0; blocks < s->block_count && n < budget && !sink->stop; blocks++) {
		struct tpacket_block_desc *bd =
			(struct tpacket_block_desc *)(s->ring + (size_t)s->next_block * s->block_size);
		if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
			break;
		uint32_t num = bd->hdr.bh1.num_pkts;
		uint8_t *p = (uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt;
		for (uint32_t i = 0; i < num; i++) {
			struct tpacket3_hdr *h = (struct tpacket3_hdr *)p;
			const struct sockaddr_ll *sll =
				(const struct sockaddr_ll *)(p + TPACKET_ALIGN(sizeof(*h)));
			uint32_t link = h->tp_net - h->tp_mac;
			if (h->tp_snaplen >= link) {
				struct sll2_meta m;
				uint8_t vlan[4];
				uint32_t vlen = 0;
				m.protocol = ntohs(sll->sll_protocol);
				m.ifindex = (uint32_t)sll->sll_ifindex;
				m.hatype = sll->sll_hatype;
				m.pkttype = sll->sll_pkttype;
				m.halen = sll->sll_halen > 8 ? 8 : sll->sll_halen;
				memcpy(m.addr, sll->sll_addr, 8);
				if (base->mark.hatype) {
					m.hatype = base->mark.hatype;
					m.halen = base->mark.halen;
					memcpy(m.addr, base->mark.addr, 8);
				}
				/* The kernel strips the VLAN tag into the ring header;
				 * put it back in front of the payload as libpcap does. */
				if ((h->tp_status & TP_STATUS_VLAN_VALID) && h->hv1.tp_vlan_tci) {
					uint16_t tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID)
								? h->hv1.tp_vlan_tpid
								: ETH_P_8021Q;
					vlan[0] = h->hv1.tp_vlan_tci >> 8;
					vlan[1] = h->hv1.tp_vlan_tci & 0xff;
					vlan[2] = m.protocol >> 8;
					vlan[3] = m.protocol & 0xff;
					m.protocol = tpid;
					vlen = 4;
				}
				if (base->rewrite)
					base->rewrite(base->rewrite_ctx, p + h->tp_net, h->tp_snaplen - link);
				tl_sink_packet(sink, h->tp_sec, h->tp_nsec, &m, vlan, vlen,
					       p + h->tp_net, h->tp_snaplen - link, h->tp_len - link);
				n++;
			} else {
				sink->c.skipped++;
			}
			p += h->tp_next_offset;
		}
		__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		s->next_block = (s->next_block + 1) % s->block_count;
	}
	return n;
}

static void afp_close(struct tl_source *base)
{
	struct afp_source *s = (struct afp_source *)base;
	if (s->ring && s->ring != MAP_FAILED)
		munmap(s->ring, s->ring_len);
	if (base->fd >= 0)
		close(base->fd);
	free(s);
}

static const struct tl_source_ops afp_ops = {
	.drain = afp_drain,
	.prepare_filter = afp_prepare_filter,
	.commit_filter = afp_commit_filter,
	.stats = afp_stats,
	.close = afp_close,
};

struct tl_source *afpacket_open(const char *iface, const struct tl_args *a, char *err, size_t errlen)
{
	struct afp_source *s = calloc(1, sizeof(*s));
	struct tl_kfilter kf = {0};
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->base.ops = &afp_ops;
	s->base.fd = -1;
	snprintf(s->base.name, sizeof(s->base.name), "%s", iface);
	s->snaplen = a->snaplen;
	s->block_size = a->block_size;
	s->block_count = a->block_count;

	int cooked = 1;
	if (strcmp(iface, "any") != 0) {
		int hatype;
		s->ifindex = (int)if_nametoindex(iface);
		if (s->ifindex == 0 || iface_hatype(iface, &hatype) < 0) {
			snprintf(err, errlen, "unknown interface '%s'", iface);
			goto fail;
		}
		s->dlt = raw_dlt_for_arphrd(hatype);
		s->loopback = hatype == ARPHRD_LOOPBACK;
		cooked = s->dlt < 0;
	}
	if (cooked)
		s->dlt = DLT_LINUX_SLL;

	/* Protocol 0: nothing is queued until bind(), which comes after the
	 * filter, so no unfiltered packet ever reaches the ring. */
	s->base.fd = socket(AF_PACKET, (cooked ? SOCK_DGRAM : SOCK_RAW) | SOCK_CLOEXEC, 0);
	if (s->base.fd < 0) {
		snprintf(err, errlen, "cannot open packet socket for '%s': %s", iface, strerror(errno));
		goto fail;
	}
	if (afp_prepare_filter(&s->base, a->filter, &kf, err, errlen) < 0 ||
	    afp_commit_filter(&s->base, &kf, err, errlen) < 0)
		goto fail;
	tl_filter_free(&kf);

	int v = TPACKET_V3;
	if (setsockopt(s->base.fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) < 0) {
		snprintf(err, errlen, "TPACKET_V3 unsupported on '%s': %s", iface, strerror(errno));
		goto fail;
	}
	struct tpacket_req3 req = {
		.tp_block_size = a->block_size,
		.tp_block_nr = a->block_count,
		.tp_frame_size = a->frame_size,
		.tp_frame_nr = (a->block_size / a->frame_size) * a->block_count,
		.tp_retire_blk_tov = a->block_timeout_ms,
	};
	if (setsockopt(s->base.fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0) {
		snprintf(err, errlen, "cannot set up a %u x %u ring on '%s': %s", a->block_count,
			 a->block_size, iface, strerror(errno));
		goto fail;
	}
	s->ring_len = (size_t)a->block_size * a->block_count;
	s->ring = mmap(NULL, s->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       s->base.fd, 0);
	if (s->ring == MAP_FAILED) {
		snprintf(err, errlen, "cannot map the ring of '%s': %s", iface, strerror(errno));
		goto fail;
	}
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = s->ifindex,
	};
	if (bind(s->base.fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		snprintf(err, errlen, "cannot bind to '%s': %s", iface, strerror(errno));
		goto fail;
	}
	return &s->base;
fail:
	tl_filter_free(&kf);
	afp_close(&s->base);
	return NULL;
}
