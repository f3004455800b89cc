#include "filter.h"

#include <errno.h>
#include <pcap/dlt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define SLL_HDR_LEN 16
#define SLL2_HDR_BYTES 20

int tl_filter_compile(int dlt, uint32_t snaplen, const char *expr, struct bpf_program *bp,
		      char *err, size_t errlen)
{
	pcap_t *dead = pcap_open_dead_with_tstamp_precision(dlt, (int)snaplen,
							    PCAP_TSTAMP_PRECISION_NANO);
	if (!dead) {
		snprintf(err, errlen, "cannot compile filter: out of memory");
		return -1;
	}
	int rc = pcap_compile(dead, bp, expr, 1, PCAP_NETMASK_UNKNOWN);
	if (rc < 0)
		snprintf(err, errlen, "bad filter '%s': %s", expr, pcap_geterr(dead));
	pcap_close(dead);
	return rc < 0 ? -1 : 0;
}

/* Pseudo-header offset -> ancillary load, or -1 when the kernel lacks it. */
static int64_t cooked_ancillary(int dlt, uint32_t k)
{
	if (dlt == DLT_LINUX_SLL) {
		if (k == 0)
			return SKF_AD_OFF + SKF_AD_PKTTYPE;
		if (k == 14)
			return SKF_AD_OFF + SKF_AD_PROTOCOL;
	} else {
		if (k == 0)
			return SKF_AD_OFF + SKF_AD_PROTOCOL;
		if (k == 4)
			return SKF_AD_OFF + SKF_AD_IFINDEX;
		if (k == 10)
			return SKF_AD_OFF + SKF_AD_PKTTYPE;
	}
	return -1;
}

int tl_filter_from_bpf(const struct bpf_program *bp, int dlt, struct tl_kfilter *out, char *err,
		       size_t errlen)
{
	int cooked = dlt == DLT_LINUX_SLL || dlt == DLT_LINUX_SLL2;
	uint32_t hdr = dlt == DLT_LINUX_SLL ? SLL_HDR_LEN : SLL2_HDR_BYTES;
	if (bp->bf_len == 0 || bp->bf_len > BPF_MAXINSNS) {
		snprintf(err, errlen, "filter program has %u instructions (1..%d)", bp->bf_len,
			 BPF_MAXINSNS);
		return -1;
	}
	struct sock_filter *f = calloc(bp->bf_len, sizeof(*f));
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (unsigned i = 0; i < bp->bf_len; i++) {
		const struct bpf_insn *in = &bp->bf_insns[i];
		f[i].code = in->code;
		f[i].jt = in->jt;
		f[i].jf = in->jf;
		f[i].k = in->k;
		if (!cooked)
			continue;
		unsigned cls = BPF_CLASS(in->code), mode = BPF_MODE(in->code);
		if (!(cls == BPF_LD || cls == BPF_LDX) ||
		    !(mode == BPF_ABS || mode == BPF_IND || mode == BPF_MSH))
			continue;
		if ((int32_t)in->k < 0) /* already an ancillary load */
			continue;
		if (in->k >= hdr) {
			f[i].k = in->k - hdr;
			continue;
		}
		int64_t anc = mode == BPF_ABS ? cooked_ancillary(dlt, in->k) : -1;
		if (anc == -1) {
			free(f);
			snprintf(err, errlen,
				 "filter reads link-layer bytes a cooked socket cannot filter on");
			return -1;
		}
		f[i].k = (uint32_t)anc;
	}
	out->insns = f;
	out->len = (unsigned short)bp->bf_len;
	return 0;
}

int tl_filter_drop_outgoing(struct tl_kfilter *f, char *err, size_t errlen)
{
	static const struct sock_filter prefix[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 4 /* PACKET_OUTGOING */, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	const unsigned np = sizeof(prefix) / sizeof(prefix[0]);
	if ((unsigned)f->len + np > BPF_MAXINSNS) {
		snprintf(err, errlen, "filter program too long for a loopback capture");
		return -1;
	}
	struct sock_filter *n = calloc((size_t)f->len + np, sizeof(*n));
	if (!n) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* The original's jumps are relative, so it runs unchanged after the prefix. */
	memcpy(n, prefix, sizeof(prefix));
	memcpy(n + np, f->insns, (size_t)f->len * sizeof(*n));
	free(f->insns);
	f->insns = n;
	f->len = (unsigned short)(f->len + np);
	return 0;
}

int tl_filter_attach(int fd, const struct tl_kfilter *f, char *err, size_t errlen)
{
	struct sock_fprog prog = {.len = f->len, .filter = f->insns};
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0) {
		snprintf(err, errlen, "cannot attach filter: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void tl_filter_free(struct tl_kfilter *f)
{
	free(f->insns);
	f->insns = NULL;
	f->len = 0;
	if (f->has_user)
		pcap_freecode(&f->user);
	f->has_user = 0;
}
