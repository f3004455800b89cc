/* libpcap sources: live interfaces (--engine pcap) and files (-r). */
#include <errno.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "source.h"

struct pcap_source {
	struct tl_source base;
	pcap_t *p;
	int dlt;
	int live;
	uint32_t snaplen;
	struct sll2_link link;
	struct tl_sink *sink; /* valid during a dispatch */
	/* Live handles: the filter in force, also run in userland (see ps_commit_filter). */
	struct bpf_program bp;
	int has_bp;
	/* libpcap's counters are cumulative; we report deltas. */
	struct pcap_stat last;
};

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct pcap_source *s = (struct pcap_source *)user;
	struct sll2_meta m;
	if (s->has_bp && !pcap_offline_filter(&s->bp, h, bytes))
		return;
	int off = sll2_from_frame(s->dlt, bytes, h->caplen, &s->link, &m);
	if (off < 0 || (uint32_t)off > h->caplen) {
		s->sink->c.skipped++;
		return;
	}
	uint32_t len = h->len >= (uint32_t)off ? h->len - (uint32_t)off : 0;
	/* Opened with nanosecond precision: tv_usec holds nanoseconds. */
	tl_sink_packet(s->sink, (uint32_t)h->ts.tv_sec, (uint32_t)h->ts.tv_usec, &m, NULL, 0,
		       bytes + off, h->caplen - (uint32_t)off, len);
	if (s->sink->stop)
		pcap_breakloop(s->p);
}

static int ps_drain(struct tl_source *base, struct tl_sink *sink, int budget)
{
	struct pcap_source *s = (struct pcap_source *)base;
	s->sink = sink;
	int n = pcap_dispatch(s->p, budget, on_packet, (u_char *)s);
	s->sink = NULL;
	return n < 0 ? 0 : n;
}

/*
 * pcap_setfilter() on Linux first attaches a drop-everything program and
 * drains the socket, which loses packets during a swap, and then filters
 * the ring's older blocks in userland with whatever program it was last
 * given. So live handles never get pcap_setfilter(): the program is
 * attached with SO_ATTACH_FILTER, which the kernel swaps atomically, and
 * the same program runs again in userland on what the ring hands over.
 * That second pass drops packets queued before the socket had a filter
 * or accepted by the previous one; it costs one BPF run per packet.
 */
static int ps_prepare_filter(struct tl_source *base, const char *expr, struct tl_kfilter *out,
			     char *err, size_t errlen)
{
	struct pcap_source *s = (struct pcap_source *)base;
	struct bpf_program bp;
	if (pcap_compile(s->p, &bp, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "bad filter '%s': %s", expr, pcap_geterr(s->p));
		return -1;
	}
	if (tl_filter_from_bpf(&bp, s->dlt, out, err, errlen) < 0) {
		pcap_freecode(&bp);
		return -1;
	}
	out->user = bp;
	out->has_user = 1;
	return 0;
}

/* Takes the userland program out of f on success. */
static int ps_commit_filter(struct tl_source *base, struct tl_kfilter *f, char *err,
			    size_t errlen)
{
	struct pcap_source *s = (struct pcap_source *)base;
	struct tl_kfilter *kf = f;
	if (!s->live) {
		snprintf(err, errlen, "a file source cannot change its filter");
		return -1;
	}
	if (tl_filter_attach(pcap_fileno(s->p), kf, err, errlen) < 0)
		return -1;
	if (s->has_bp)
		pcap_freecode(&s->bp);
	s->bp = kf->user;
	s->has_bp = kf->has_user;
	kf->has_user = 0;
	return 0;
}

static void ps_stats(struct tl_source *base, struct tl_counters *c)
{
	struct pcap_source *s = (struct pcap_source *)base;
	struct pcap_stat st;
	if (!s->live || pcap_stats(s->p, &st) < 0)
		return;
	c->kernel_received += st.ps_recv - s->last.ps_recv;
	c->kernel_dropped += st.ps_drop - s->last.ps_drop;
	c->if_dropped += st.ps_ifdrop - s->last.ps_ifdrop;
	s->last = st;
}

static void ps_close(struct tl_source *base)
{
	struct pcap_source *s = (struct pcap_source *)base;
	if (s->has_bp)
		pcap_freecode(&s->bp);
	if (s->p)
		pcap_close(s->p);
	free(s);
}

static const struct tl_source_ops ps_ops = {
	.drain = ps_drain,
	.prepare_filter = ps_prepare_filter,
	.commit_filter = ps_commit_filter,
	.stats = ps_stats,
	.close = ps_close,
};

static void iface_link(const char *name, struct sll2_link *l)
{
	struct ifreq ifr;
	memset(l, 0, sizeof(*l));
	l->ifindex = if_nametoindex(name);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) == 0) {
		memcpy(l->mac, ifr.ifr_hwaddr.sa_data, 6);
		l->has_mac = 1;
	}
	close(fd);
}

static struct pcap_source *ps_new(const char *name)
{
	struct pcap_source *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->base.ops = &ps_ops;
	s->base.fd = -1;
	snprintf(s->base.name, sizeof(s->base.name), "%s", name);
	return s;
}

struct tl_source *pcap_live_open(const char *iface, const struct tl_args *a, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct tl_kfilter kf = {0};
	int any = strcmp(iface, "any") == 0;
	if (!any && if_nametoindex(iface) == 0) {
		snprintf(err, errlen, "unknown interface '%s'", iface);
		return NULL;
	}
	struct pcap_source *s = ps_new(iface);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->live = 1;
	s->snaplen = a->snaplen;
	if (!any)
		iface_link(iface, &s->link);
	s->p = pcap_create(iface, ebuf);
	if (!s->p) {
		snprintf(err, errlen, "cannot open interface '%s': %s", iface, ebuf);
		goto fail;
	}
	pcap_set_snaplen(s->p, (int)a->snaplen);
	pcap_set_promisc(s->p, 0);
	pcap_set_timeout(s->p, (int)a->block_timeout_ms);
	pcap_set_buffer_size(s->p, (int)((uint64_t)a->block_size * a->block_count > 0x7fffffff
						 ? 0x7fffffff
						 : a->block_size * a->block_count));
	pcap_set_tstamp_precision(s->p, PCAP_TSTAMP_PRECISION_NANO);
	int rc = pcap_activate(s->p);
	if (rc < 0) {
		snprintf(err, errlen, "cannot capture on interface '%s': %s", iface,
			 rc == PCAP_ERROR ? pcap_geterr(s->p) : pcap_statustostr(rc));
		goto fail;
	}
	if (any)
		pcap_set_datalink(s->p, DLT_LINUX_SLL2); /* keeps the ifindex; SLL otherwise */
	s->dlt = pcap_datalink(s->p);
	if (!sll2_dlt_supported(s->dlt)) {
		snprintf(err, errlen, "interface '%s' has unsupported link type %s", iface,
			 pcap_datalink_val_to_name(s->dlt));
		goto fail;
	}
	if (ps_prepare_filter(&s->base, a->filter, &kf, err, errlen) < 0 ||
	    ps_commit_filter(&s->base, &kf, err, errlen) < 0)
		goto fail;
	tl_filter_free(&kf);
	if (pcap_setnonblock(s->p, 1, ebuf) < 0) {
		snprintf(err, errlen, "cannot set '%s' non-blocking: %s", iface, ebuf);
		goto fail;
	}
	s->base.fd = pcap_get_selectable_fd(s->p);
	return &s->base;
fail:
	tl_filter_free(&kf);
	ps_close(&s->base);
	return NULL;
}

struct tl_source *pcap_file_open(const char *path, const struct tl_args *a, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program bp;
	struct pcap_source *s = ps_new(path);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->snaplen = a->snaplen;
	s->p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!s->p) {
		snprintf(err, errlen, "cannot read '%s': %s", path, ebuf);
		goto fail;
	}
	s->dlt = pcap_datalink(s->p);
	if (!sll2_dlt_supported(s->dlt)) {
		snprintf(err, errlen, "'%s' has unsupported link type %s", path,
			 pcap_datalink_val_to_name(s->dlt) ? pcap_datalink_val_to_name(s->dlt) : "?");
		goto fail;
	}
	if (pcap_compile(s->p, &bp, a->filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "bad filter '%s': %s", a->filter, pcap_geterr(s->p));
		goto fail;
	}
	int rc = pcap_setfilter(s->p, &bp);
	pcap_freecode(&bp);
	if (rc < 0) {
		snprintf(err, errlen, "cannot set filter: %s", pcap_geterr(s->p));
		goto fail;
	}
	return &s->base;
fail:
	ps_close(&s->base);
	return NULL;
}

int pcap_file_run(struct tl_source *base, struct tl_sink *sink, volatile int *stop, char *err,
		  size_t errlen)
{
	struct pcap_source *s = (struct pcap_source *)base;
	s->sink = sink;
	for (;;) {
		if (*stop || sink->stop)
			return 0;
		int n = pcap_dispatch(s->p, 4096, on_packet, (u_char *)s);
		if (n == 0 || n == PCAP_ERROR_BREAK)
			return 0;
		if (n < 0) {
			snprintf(err, errlen, "error reading '%s': %s", base->name, pcap_geterr(s->p));
			return -1;
		}
	}
}
