#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "pcap_writer.h"

static size_t slurp(const char *path, uint8_t *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, cap);
	close(fd);
	return n < 0 ? 0 : (size_t)n;
}

static void tmpname(char *out, const char *tag)
{
	snprintf(out, 64, "/tmp/tl-unit-%d-%s.pcap", (int)getpid(), tag);
}

static const struct sll2_meta meta = {
	.protocol = 0x0800,
	.ifindex = 7,
	.hatype = 1,
	.pkttype = 4,
	.halen = 6,
	.addr = {0x02, 0x42, 0xac, 0x11, 0x00, 0x02, 0, 0},
};

static void header_and_record(void)
{
	char path[64];
	uint8_t buf[4096];
	struct pcap_writer w;
	tmpname(path, "basic");
	CHECK_EQ_INT(pw_init(&w, 65536, 262144), 0);
	CHECK_EQ_INT(pw_open_path(&w, path, (char[128]){0}, 128), 0);
	pw_begin(&w);
	const uint8_t payload[] = {0x45, 0x00, 0x00, 0x14, 0xde, 0xad};
	CHECK_EQ_INT(pw_packet(&w, 1700000000, 123456789, &meta, NULL, 0, payload, 6, 20, 1), PW_OK);
	/* Nothing reaches the file before a flush: output is batched. */
	CHECK_EQ_INT(slurp(path, buf, sizeof(buf)), 0);
	CHECK_EQ_INT(pw_close(&w), PW_OK);
	pw_free(&w);

	size_t n = slurp(path, buf, sizeof(buf));
	CHECK_EQ_INT(n, 24 + 16 + 20 + 6);
	/* Little-endian host: the nanosecond magic as written by libpcap. */
	const uint8_t ghdr[24] = {0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0,
				  0,    0,    0,    0,    0, 0, 4, 0, 0x14, 1, 0, 0};
	CHECK_MEM(buf, ghdr, 24);
	const uint8_t rec[16] = {0x00, 0xf1, 0x53, 0x65, 0x15, 0xcd, 0x5b, 0x07,
				 26,   0,    0,    0,    40,   0,    0,    0};
	CHECK_MEM(buf + 24, rec, 16);
	const uint8_t sll2[20] = {0x08, 0x00, 0, 0, 0, 0, 0, 7, 0, 1, 4, 6,
				  0x02, 0x42, 0xac, 0x11, 0x00, 0x02, 0, 0};
	CHECK_MEM(buf + 40, sll2, 20);
	CHECK_MEM(buf + 60, payload, 6);
	unlink(path);
}

static void snaplen_and_extra(void)
{
	char path[64];
	static uint8_t buf[1 << 18], big[200000];
	struct pcap_writer w;
	tmpname(path, "snap");
	CHECK_EQ_INT(pw_init(&w, 65536, 100), 0);
	CHECK_EQ_INT(pw_open_path(&w, path, (char[128]){0}, 128), 0);
	pw_begin(&w);
	const uint8_t vlan[4] = {0x00, 0x64, 0x08, 0x00};
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	CHECK_EQ_INT(pw_packet(&w, 1, 2, &meta, vlan, 4, big, 1000, 1000, 1), PW_OK);
	CHECK_EQ_INT(pw_close(&w), PW_OK);
	pw_free(&w);
	size_t n = slurp(path, buf, sizeof(buf));
	/* 100 = SLL2 header + VLAN tag + 76 payload bytes; wire length kept. */
	CHECK_EQ_INT(n, 24 + 16 + 100);
	uint32_t incl, orig;
	memcpy(&incl, buf + 24 + 8, 4);
	memcpy(&orig, buf + 24 + 12, 4);
	CHECK_EQ_INT(incl, 100);
	CHECK_EQ_INT(orig, 20 + 4 + 1000);
	CHECK_MEM(buf + 24 + 16 + 20, vlan, 4);
	CHECK_MEM(buf + 24 + 16 + 24, big, 76);
	unlink(path);

	/* Records bigger than the batch buffer go out directly, in order. */
	tmpname(path, "big");
	CHECK_EQ_INT(pw_init(&w, 65536, 262144), 0);
	CHECK_EQ_INT(pw_open_path(&w, path, (char[128]){0}, 128), 0);
	pw_begin(&w);
	CHECK_EQ_INT(pw_packet(&w, 1, 0, &meta, NULL, 0, big, 10, 10, 1), PW_OK);
	CHECK_EQ_INT(pw_packet(&w, 2, 0, &meta, NULL, 0, big, sizeof(big), sizeof(big), 1), PW_OK);
	CHECK_EQ_INT(pw_packet(&w, 3, 0, &meta, NULL, 0, big, 10, 10, 1), PW_OK);
	CHECK_EQ_INT(pw_close(&w), PW_OK);
	pw_free(&w);
	n = slurp(path, buf, sizeof(buf));
	CHECK_EQ_INT(n, 24 + 3 * 36 + 20 + sizeof(big));
	uint32_t sec;
	memcpy(&sec, buf + 24 + 36 + 10, 4);
	CHECK_EQ_INT(sec, 2);
	memcpy(&sec, buf + 24 + 36 + 10 + 36 + sizeof(big), 4);
	CHECK_EQ_INT(sec, 3);
	CHECK_MEM(buf + 24 + 36 + 10 + 36, big, sizeof(big));
	unlink(path);

	/* A payload over PW_DIRECT_MIN but within the buffer keeps its place too. */
	tmpname(path, "direct");
	CHECK_EQ_INT(pw_init(&w, 65536, 262144), 0);
	CHECK_EQ_INT(pw_open_path(&w, path, (char[128]){0}, 128), 0);
	pw_begin(&w);
	CHECK_EQ_INT(pw_packet(&w, 1, 0, &meta, NULL, 0, big, 10, 10, 1), PW_OK);
	CHECK_EQ_INT(pw_packet(&w, 2, 0, &meta, NULL, 0, big + 1, PW_DIRECT_MIN, PW_DIRECT_MIN, 1), PW_OK);
	CHECK_EQ_INT(w.len, 0);
	CHECK_EQ_INT(pw_packet(&w, 3, 0, &meta, NULL, 0, big, 10, 10, 1), PW_OK);
	CHECK_EQ_INT(pw_close(&w), PW_OK);
	pw_free(&w);
	n = slurp(path, buf, sizeof(buf));
	CHECK_EQ_INT(n, 24 + 3 * 36 + 20 + PW_DIRECT_MIN);
	CHECK_MEM(buf + 24 + 36 + 10 + 36, big + 1, PW_DIRECT_MIN);
	memcpy(&sec, buf + 24 + 36 + 10 + 36 + PW_DIRECT_MIN, 4);
	CHECK_EQ_INT(sec, 3);
	unlink(path);
}

static void closed_reader_and_abort(void)
{
	int p[2];
	struct pcap_writer w;
	signal(SIGPIPE, SIG_IGN);
	CHECK_EQ_INT(pipe(p), 0);
	close(p[0]);
	CHECK_EQ_INT(pw_init(&w, 65536, 262144), 0);
	pw_open_fd(&w, p[1]);
	w.own_fd = 1;
	pw_begin(&w);
	CHECK_EQ_INT(pw_flush(&w), PW_CLOSED);
	CHECK_EQ_INT(w.fd, -1);
	CHECK_EQ_INT(pw_packet(&w, 1, 0, &meta, NULL, 0, (const uint8_t *)"x", 1, 1, 1), PW_CLOSED);
	pw_free(&w);

	char path[64], err[128];
	struct stat st;
	tmpname(path, "abort");
	CHECK_EQ_INT(pw_init(&w, 65536, 262144), 0);
	CHECK_EQ_INT(pw_open_path(&w, path, err, sizeof(err)), 0);
	CHECK_EQ_INT(stat(path, &st), 0);
	pw_abort(&w);
	pw_free(&w);
	CHECK(stat(path, &st) < 0);

	/* /dev/null is written but never removed. */
	CHECK_EQ_INT(pw_init(&w, 65536, 262144), 0);
	CHECK_EQ_INT(pw_open_path(&w, "/dev/null", err, sizeof(err)), 0);
	pw_abort(&w);
	pw_free(&w);
	CHECK_EQ_INT(stat("/dev/null", &st), 0);

	CHECK_EQ_INT(pw_init(&w, 65536, 262144), 0);
	CHECK_EQ_INT(pw_open_path(&w, "/nonexistent-dir/x.pcap", err, sizeof(err)), -1);
	CHECK(strstr(err, "/nonexistent-dir/x.pcap") != NULL);
	pw_free(&w);
}

void test_pcap_writer(void)
{
	header_and_record();
	snaplen_and_extra();
	closed_reader_and_abort();
}
