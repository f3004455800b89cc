/* A packet source (one interface, one engine) and the sink it feeds. */
#ifndef TAPLINE_SOURCE_H
#define TAPLINE_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "args.h"
#include "filter.h"
#include "pcap_writer.h"

struct tl_counters {
	uint64_t received;	  /* packets handed to the writer */
	uint64_t bytes;		  /* their original (wire) length */
	uint64_t kernel_received; /* PACKET_STATISTICS tp_packets / pcap ps_recv */
	uint64_t kernel_dropped;  /* tp_drops / ps_drop: ring full */
	uint64_t if_dropped;	  /* pcap ps_ifdrop */
	uint64_t skipped;	  /* frames with no network protocol we can name */
};

/* Where sources put packets. stop is set when the output ends. */
struct tl_sink {
	struct pcap_writer *w;
	struct tl_counters c;
	uint64_t now_ns;
	int stop;     /* 1: reader gone, 2: write error */
};

void tl_sink_packet(struct tl_sink *s, uint32_t ts_sec, uint32_t ts_nsec, const struct sll2_meta *m,
		    const uint8_t *extra, uint32_t extralen, const uint8_t *payload, uint32_t caplen,
		    uint32_t origlen);

struct tl_source;

struct tl_source_ops {
	/* Moves ready packets to the sink; returns how many. */
	int (*drain)(struct tl_source *src, struct tl_sink *sink, int budget);
	/* Compiles expr for this source without touching the socket. */
	int (*prepare_filter)(struct tl_source *src, const char *expr, struct tl_kfilter *out,
			      char *err, size_t errlen);
	int (*commit_filter)(struct tl_source *src, struct tl_kfilter *f, char *err,
			     size_t errlen);
	/* Adds the kernel's counters since the last call. */
	void (*stats)(struct tl_source *src, struct tl_counters *c);
	void (*close)(struct tl_source *src);
};

/* Overrides of the SLL2 header for every packet of a source (mark.hatype 0: none).
 * Mesh loopback captures use it (sll2.h, TAPLINE_ARPHRD_MESH_LOOPBACK). */
struct tl_source_mark {
	uint16_t hatype;
	uint8_t halen;
	uint8_t addr[8];
};

struct tl_source {
	const struct tl_source_ops *ops;
	int fd; /* pollable; -1 for a file */
	char name[64];
	struct tl_source_mark mark; /* honoured by the afpacket engine */
	/* Optional, afpacket engine: may edit a packet (from the network header,
	 * caplen bytes, in the ring) before it is written. */
	void (*rewrite)(void *ctx, uint8_t *pkt, uint32_t caplen);
	void *rewrite_ctx;
};

/* Constructors return NULL and fill err on failure. */
struct tl_source *afpacket_open(const char *iface, const struct tl_args *a, char *err, size_t errlen);
struct tl_source *pcap_live_open(const char *iface, const struct tl_args *a, char *err, size_t errlen);
struct tl_source *pcap_file_open(const char *path, const struct tl_args *a, char *err, size_t errlen);

/* A file source reads to the end: returns 0 at EOF, -1 on a read error. */
int pcap_file_run(struct tl_source *src, struct tl_sink *sink, volatile int *stop, char *err,
		  size_t errlen);

#endif
