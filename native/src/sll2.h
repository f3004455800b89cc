/* LINUX_SLL2 (linktype 276) record header: the one linktype Tapline writes.
 *
 * Layout, all fields big-endian (https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html):
 *   0  protocol type (EtherType)        2
 *   2  reserved, must be zero            2
 *   4  interface index                   4
 *   8  ARPHRD_ type                      2
 *  10  packet type (PACKET_HOST, ...)    1
 *  11  link-layer address length         1
 *  12  link-layer address (padded)       8
 */
#ifndef TAPLINE_SLL2_H
#define TAPLINE_SLL2_H

#include <stddef.h>
#include <stdint.h>

#define SLL2_HDR_LEN 20
#define LINKTYPE_LINUX_SLL2 276

/* Packet types, as in <linux/if_packet.h>. */
#define SLL2_PKT_HOST 0
#define SLL2_PKT_BROADCAST 1
#define SLL2_PKT_MULTICAST 2
#define SLL2_PKT_OTHERHOST 3
#define SLL2_PKT_OUTGOING 4

/* ARPHRD_ values we synthesize when the source did not give one. */
#define SLL2_ARPHRD_ETHER 1
#define SLL2_ARPHRD_LOOPBACK 772
#define SLL2_ARPHRD_NONE 0xFFFE /* raw IP (tun, wireguard): taken, not ours */

/*
 * Tapline TLS plaintext marking (reserved for issue 9, eBPF TLS uprobes).
 *
 * A packet synthesized from SSL_read/SSL_write plaintext carries
 * ARPHRD type TAPLINE_ARPHRD_TLS_PLAINTEXT (0xFFFD). Linux assigns no
 * ARPHRD_ value there (0xFFFE is ARPHRD_NONE, which tun devices really
 * produce, and 0xFFFF is ARPHRD_VOID), so a real capture never shows it.
 * The rest of the header keeps its usual meaning so that Wireshark still
 * dissects the payload by protocol type:
 *   protocol  0x0800 or 0x86DD; the payload is an IPv4/IPv6 header, a TCP
 *             header with the connection's real 4-tuple, then the
 *             decrypted application bytes (never ciphertext);
 *   pkttype   SLL2_PKT_HOST for bytes the process read (SSL_read),
 *             SLL2_PKT_OUTGOING for bytes it wrote (SSL_write);
 *   ifindex   0 (not seen on an interface);
 *   address   length 4, the process id, big-endian.
 */
#define TAPLINE_ARPHRD_TLS_PLAINTEXT 0xFFFD

/*
 * Tapline mesh loopback marking (SPEC §2: Envoy/Istio sidecars).
 *
 * A packet captured on `lo` inside a meshed pod's network namespace (the
 * plaintext hop between the app and its Envoy sidecar) carries ARPHRD type
 * TAPLINE_ARPHRD_MESH_LOOPBACK (0xFFFC, unassigned by Linux). They are real
 * wire packets (IP + TCP as sent on that loopback), so unlike TLS plaintext
 * they have SYN/FIN and true sequence numbers; the mark exists because
 * loopback 4-tuples (127.0.0.1:x -> 127.0.0.1:15001) repeat across pods and
 * because the same exchange is also seen as mTLS ciphertext on the pod's
 * veth (and, when Envoy's BoringSSL is hooked, as TLS plaintext):
 *   protocol  0x0800 or 0x86DD, payload = the IP packet;
 *   pkttype   SLL2_PKT_HOST (loopback's outgoing copy is dropped);
 *   ifindex   lo's index in that namespace (1);
 *   address   length 8: pid of the proxy process found there (big-endian),
 *             then the namespace's inode number (low 32 bits, big-endian).
 */
#define TAPLINE_ARPHRD_MESH_LOOPBACK 0xFFFC

struct sll2_meta {
	uint16_t protocol; /* host order */
	uint32_t ifindex;
	uint16_t hatype;
	uint8_t pkttype;
	uint8_t halen;
	uint8_t addr[8];
};

/* What the libpcap conversion needs to know about the capturing interface. */
struct sll2_link {
	uint32_t ifindex;
	int has_mac;
	uint8_t mac[6];
};

void sll2_encode(uint8_t out[SLL2_HDR_LEN], const struct sll2_meta *m);
void sll2_decode(const uint8_t in[SLL2_HDR_LEN], struct sll2_meta *m);

/* Whether sll2_from_frame() converts frames of this libpcap DLT_ value. */
int sll2_dlt_supported(int dlt);

/*
 * Converts the link-layer header of a libpcap frame into SLL2 fields.
 * Returns the link-layer header length (the payload starts there), or -1
 * when the frame is too short or has no network protocol we can name.
 * Reads only frame[0 .. caplen).
 */
int sll2_from_frame(int dlt, const uint8_t *frame, uint32_t caplen,
		    const struct sll2_link *link, struct sll2_meta *m);

#endif
