/* Buffered classic pcap writer: nanosecond magic, LINUX_SLL2 records. */
#ifndef TAPLINE_PCAP_WRITER_H
#define TAPLINE_PCAP_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "sll2.h"

#define PCAP_MAGIC_NSEC 0xa1b23c4du
#define PCAP_FILE_HDR_LEN 24
#define PCAP_REC_HDR_LEN 16
#define PW_DIRECT_MIN 8192 /* payloads this large skip the batch buffer */

enum pw_result {
	PW_OK = 0,
	PW_CLOSED = 1, /* the reader went away (EPIPE/ECONNRESET) */
	PW_ERROR = -1,
};

struct pcap_writer {
	int fd;		/* -1 while a listening writer has no reader */
	int listen_fd;	/* --unix-listen, else -1 */
	int own_fd;	/* close fd on pw_close */
	char *path;	/* regular file we created; unlinked by pw_abort */
	char *sock_path; /* listening socket path, unlinked on close */
	int is_regular;
	uint8_t *buf;
	size_t cap, len;
	uint32_t snaplen;
	uint64_t first_pending_ns; /* monotonic time the oldest buffered byte arrived */
	uint64_t committed;	    /* bytes of whole records known written */
	uint64_t packets;	    /* records accepted */
	uint64_t unwritten;	    /* records dropped for want of a reader */
	int last_errno;
};

/* Allocates the batch buffer; snaplen caps each record's included length. */
int pw_init(struct pcap_writer *w, size_t bufsize, uint32_t snaplen);

/* "-" is stdout. A regular file is created (or truncated) only here. */
int pw_open_path(struct pcap_writer *w, const char *path, char *err, size_t errlen);
int pw_open_fd(struct pcap_writer *w, int fd);
int pw_open_unix_connect(struct pcap_writer *w, const char *path, char *err, size_t errlen);
int pw_open_unix_listen(struct pcap_writer *w, const char *path, char *err, size_t errlen);

/* For --unix-listen: accepts a waiting reader and starts a new stream for it. */
int pw_accept(struct pcap_writer *w);

/* Buffers the 24-byte global header. */
int pw_begin(struct pcap_writer *w);

/*
 * Buffers one record: SLL2 header, then `extra` (e.g. a re-inserted VLAN
 * tag), then the payload. caplen/origlen count the payload only. The
 * record's included length is clipped to the snaplen. Nothing is
 * referenced after the call returns.
 */
enum pw_result pw_packet(struct pcap_writer *w, uint32_t ts_sec, uint32_t ts_nsec,
			 const struct sll2_meta *m, const uint8_t *extra, uint32_t extralen,
			 const uint8_t *payload, uint32_t caplen, uint32_t origlen, uint64_t now_ns);

enum pw_result pw_flush(struct pcap_writer *w);

/* Flushes and closes. */
enum pw_result pw_close(struct pcap_writer *w);

/* Closes without flushing and removes a file this writer created. */
void pw_abort(struct pcap_writer *w);

void pw_free(struct pcap_writer *w);

#endif
