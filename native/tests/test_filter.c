#include <linux/filter.h>
#include <pcap/dlt.h>
#include <sys/socket.h>
#include <unistd.h>

#include "filter.h"
#include "harness.h"

static int has_load(const struct tl_kfilter *f, uint32_t k)
{
	for (unsigned i = 0; i < f->len; i++)
		if (BPF_CLASS(f->insns[i].code) == BPF_LD && f->insns[i].k == k)
			return 1;
	return 0;
}

void test_filter(void)
{
	struct bpf_program bp;
	struct tl_kfilter kf = {0};
	char err[256];

	/* Ethernet: copied unchanged; `ip` is ldh [12]. */
	CHECK_EQ_INT(tl_filter_compile(DLT_EN10MB, 262144, "ip", &bp, err, sizeof(err)), 0);
	CHECK_EQ_INT(tl_filter_from_bpf(&bp, DLT_EN10MB, &kf, err, sizeof(err)), 0);
	CHECK(has_load(&kf, 12));
	pcap_freecode(&bp);
	tl_filter_free(&kf);

	/* Cooked: the SLL protocol field becomes SKF_AD_PROTOCOL, the IP
	 * source (16 + 12) becomes offset 12 of the network header. */
	CHECK_EQ_INT(tl_filter_compile(DLT_LINUX_SLL, 262144, "src host 10.1.2.3", &bp, err,
				       sizeof(err)),
		     0);
	CHECK_EQ_INT(tl_filter_from_bpf(&bp, DLT_LINUX_SLL, &kf, err, sizeof(err)), 0);
	CHECK(has_load(&kf, (uint32_t)(SKF_AD_OFF + SKF_AD_PROTOCOL)));
	CHECK(has_load(&kf, 12));
	CHECK(!has_load(&kf, 28));
	pcap_freecode(&bp);
	tl_filter_free(&kf);

	/* `inbound` reads the SLL packet type. */
	CHECK_EQ_INT(tl_filter_compile(DLT_LINUX_SLL, 262144, "inbound", &bp, err, sizeof(err)), 0);
	CHECK_EQ_INT(tl_filter_from_bpf(&bp, DLT_LINUX_SLL, &kf, err, sizeof(err)), 0);
	CHECK(has_load(&kf, (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE)));
	pcap_freecode(&bp);
	tl_filter_free(&kf);

	/* A cooked socket cannot see the link-layer address bytes. */
	CHECK_EQ_INT(tl_filter_compile(DLT_LINUX_SLL, 262144, "link[6] == 1", &bp, err, sizeof(err)), 0);
	CHECK_EQ_INT(tl_filter_from_bpf(&bp, DLT_LINUX_SLL, &kf, err, sizeof(err)), -1);
	CHECK(strstr(err, "cooked") != NULL);
	pcap_freecode(&bp);

	CHECK_EQ_INT(tl_filter_compile(DLT_EN10MB, 262144, "tcp port", &bp, err, sizeof(err)), -1);
	CHECK(strstr(err, "bad filter 'tcp port'") != NULL);

	/* The kernel accepts the rewritten program (needs CAP_NET_RAW). */
	int fd = socket(AF_PACKET, SOCK_DGRAM, 0);
	if (fd >= 0) {
		CHECK_EQ_INT(tl_filter_compile(DLT_LINUX_SLL, 262144, "tcp port 80 and inbound", &bp,
					       err, sizeof(err)),
			     0);
		CHECK_EQ_INT(tl_filter_from_bpf(&bp, DLT_LINUX_SLL, &kf, err, sizeof(err)), 0);
		CHECK_EQ_INT(tl_filter_attach(fd, &kf, err, sizeof(err)), 0);
		pcap_freecode(&bp);
		tl_filter_free(&kf);
		close(fd);
	}
}
