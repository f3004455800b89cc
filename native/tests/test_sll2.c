#include <pcap/dlt.h>

#include "harness.h"
#include "sll2.h"

void test_sll2(void)
{
	struct sll2_meta m, back;
	uint8_t out[SLL2_HDR_LEN];

	CHECK_EQ_INT(TAPLINE_ARPHRD_TLS_PLAINTEXT, 0xFFFD);
	CHECK(TAPLINE_ARPHRD_TLS_PLAINTEXT != SLL2_ARPHRD_NONE);

	m = (struct sll2_meta){.protocol = 0x86DD, .ifindex = 0x01020304, .hatype = 0xFFFD,
			       .pkttype = 4, .halen = 4, .addr = {0, 0, 0x30, 0x39}};
	sll2_encode(out, &m);
	const uint8_t want[20] = {0x86, 0xdd, 0, 0, 1, 2, 3, 4, 0xff, 0xfd, 4, 4,
				  0, 0, 0x30, 0x39, 0, 0, 0, 0};
	CHECK_MEM(out, want, 20);
	sll2_decode(out, &back);
	CHECK(memcmp(&m, &back, sizeof(m)) == 0);

	/* Ethernet: direction from the interface's own MAC. */
	uint8_t eth[20] = {0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00, 0x45};
	struct sll2_link me = {.ifindex = 9, .has_mac = 1, .mac = {0x02, 0, 0, 0, 0, 0x02}};
	CHECK_EQ_INT(sll2_from_frame(DLT_EN10MB, eth, sizeof(eth), &me, &m), 14);
	CHECK_EQ_INT(m.protocol, 0x0800);
	CHECK_EQ_INT(m.ifindex, 9);
	CHECK_EQ_INT(m.hatype, 1);
	CHECK_EQ_INT(m.pkttype, SLL2_PKT_OUTGOING);
	CHECK_EQ_INT(m.halen, 6);
	CHECK_MEM(m.addr, eth + 6, 6);
	me.mac[5] = 0x01;
	sll2_from_frame(DLT_EN10MB, eth, sizeof(eth), &me, &m);
	CHECK_EQ_INT(m.pkttype, SLL2_PKT_HOST);
	me.mac[5] = 0x03;
	sll2_from_frame(DLT_EN10MB, eth, sizeof(eth), &me, &m);
	CHECK_EQ_INT(m.pkttype, SLL2_PKT_OTHERHOST);
	memset(eth, 0xff, 6);
	sll2_from_frame(DLT_EN10MB, eth, sizeof(eth), &me, &m);
	CHECK_EQ_INT(m.pkttype, SLL2_PKT_BROADCAST);
	eth[12] = 0x00; /* 802.3 length field: LLC */
	eth[13] = 0x20;
	sll2_from_frame(DLT_EN10MB, eth, sizeof(eth), NULL, &m);
	CHECK_EQ_INT(m.protocol, 0x0004);
	CHECK_EQ_INT(sll2_from_frame(DLT_EN10MB, eth, 13, NULL, &m), -1);

	/* Linux cooked v1 -> v2. */
	const uint8_t sll[17] = {0, 4, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x86, 0xdd, 0x60};
	CHECK_EQ_INT(sll2_from_frame(DLT_LINUX_SLL, sll, sizeof(sll), NULL, &m), 16);
	CHECK_EQ_INT(m.pkttype, 4);
	CHECK_EQ_INT(m.hatype, 1);
	CHECK_EQ_INT(m.halen, 6);
	CHECK_EQ_INT(m.protocol, 0x86DD);
	CHECK_EQ_INT(m.addr[5], 6);

	/* Cooked v2 passes through unchanged. */
	CHECK_EQ_INT(sll2_from_frame(DLT_LINUX_SLL2, want, 20, NULL, &m), 20);
	sll2_encode(out, &m);
	CHECK_MEM(out, want, 20);

	/* Raw IP: protocol from the version nibble. */
	const uint8_t v4 = 0x45, v6 = 0x60, junk = 0x10;
	CHECK_EQ_INT(sll2_from_frame(DLT_RAW, &v4, 1, NULL, &m), 0);
	CHECK_EQ_INT(m.protocol, 0x0800);
	CHECK_EQ_INT(m.hatype, SLL2_ARPHRD_NONE);
	CHECK_EQ_INT(sll2_from_frame(DLT_RAW, &v6, 1, NULL, &m), 0);
	CHECK_EQ_INT(m.protocol, 0x86DD);
	CHECK_EQ_INT(sll2_from_frame(DLT_RAW, &junk, 1, NULL, &m), -1);

	/* BSD loopback, either byte order. */
	const uint8_t null_le[5] = {2, 0, 0, 0, 0x45}, loop_be[5] = {0, 0, 0, 30, 0x60};
	CHECK_EQ_INT(sll2_from_frame(DLT_NULL, null_le, 5, NULL, &m), 4);
	CHECK_EQ_INT(m.protocol, 0x0800);
	CHECK_EQ_INT(sll2_from_frame(DLT_LOOP, loop_be, 5, NULL, &m), 4);
	CHECK_EQ_INT(m.protocol, 0x86DD);

	CHECK(sll2_dlt_supported(DLT_EN10MB));
	CHECK(!sll2_dlt_supported(DLT_IEEE802_11_RADIO));
}
