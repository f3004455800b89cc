/* --tls: plaintext of SSL_read/SSL_write through eBPF uprobes, written into
 * the capture stream as synthesized packets (tls_emit.h). */
#ifndef TAPLINE_TLS_CAPTURE_H
#define TAPLINE_TLS_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "tls_emit.h"

struct tl_tls;

struct tl_tls_opts {
	int pid;	   /* --tls-pid: only this process; 0 = every process */
	const char *lib;   /* --tls-lib: also hook this library or binary */
	int verbose;	   /* libbpf messages on stderr */
	uint32_t rescan_ms; /* /proc scan period for new libraries and binaries */
};

/*
 * Loads and attaches the BPF side and hooks what a first /proc scan finds.
 * Returns NULL with a one-line reason in err when the kernel or the
 * permissions do not allow it; the caller goes on without TLS.
 */
struct tl_tls *tl_tls_open(const struct tl_tls_opts *o, char *err, size_t errlen);

/* Pollable when events are waiting. */
int tl_tls_fd(const struct tl_tls *t);

/* Turns waiting events into packets, handed to fn with CLOCK_REALTIME
 * timestamps. (A callback: libbpf's <linux/bpf.h> and libpcap's
 * <pcap/bpf.h> cannot share a translation unit.) */
void tl_tls_drain(struct tl_tls *t, tls_packet_fn fn, void *ctx);

/* Rescans /proc when the period has passed; returns ms until the next scan. */
int tl_tls_tick(struct tl_tls *t, uint64_t now_ns);

/* {"events":…,"lost":…,…} counters, and the per-process status as a JSON array. */
void tl_tls_counters_json(struct tl_tls *t, char *out, size_t n);
size_t tl_tls_targets_json(struct tl_tls *t, char *out, size_t n);

void tl_tls_close(struct tl_tls *t);

#endif
