/* Classic BPF filters compiled by libpcap and attached to packet sockets. */
#ifndef TAPLINE_FILTER_H
#define TAPLINE_FILTER_H

#include <linux/filter.h>
#include <pcap/pcap.h>
#include <stddef.h>
#include <stdint.h>

/* A program ready for SO_ATTACH_FILTER; owns insns. Sources that also
 * filter in userland keep libpcap's form in `user` (owned while has_user). */
struct tl_kfilter {
	struct sock_filter *insns;
	unsigned short len;
	struct bpf_program user;
	int has_user;
};

/*
 * Compiles expr for frames of linktype dlt with a dead handle. For a
 * cooked (SOCK_DGRAM) socket pass DLT_LINUX_SLL: the kernel hands such a
 * socket's filter the network header, so the program is rewritten with
 * tl_filter_from_bpf(..., DLT_LINUX_SLL, ...).
 */
int tl_filter_compile(int dlt, uint32_t snaplen, const char *expr, struct bpf_program *bp,
		      char *err, size_t errlen);

/*
 * Copies a libpcap program into a kernel program. For cooked linktypes
 * (DLT_LINUX_SLL, DLT_LINUX_SLL2) the pseudo-header loads are rewritten
 * the way libpcap does for its own cooked sockets: fields the kernel
 * knows become SKF_AD_* ancillary loads, later offsets drop the header
 * length. A filter on other pseudo-header bytes (e.g. `ether host`) is
 * refused, since the kernel cannot evaluate it.
 */
int tl_filter_from_bpf(const struct bpf_program *bp, int dlt, struct tl_kfilter *out, char *err,
		       size_t errlen);

/*
 * Prepends "drop PACKET_OUTGOING" to a kernel program. Loopback hands a
 * packet socket every packet twice (once outgoing, once incoming), so a
 * capture on `lo` keeps only the incoming copy, as libpcap does.
 */
int tl_filter_drop_outgoing(struct tl_kfilter *f, char *err, size_t errlen);

/* Replaces the socket's filter; the kernel swaps it atomically. */
int tl_filter_attach(int fd, const struct tl_kfilter *f, char *err, size_t errlen);

void tl_filter_free(struct tl_kfilter *f);

#endif
