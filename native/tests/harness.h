/* Minimal test harness: each CHECK counts as one assertion. */
#ifndef TAPLINE_TEST_HARNESS_H
#define TAPLINE_TEST_HARNESS_H

#include <stdio.h>
#include <string.h>

extern int t_passed, t_failed;

#define CHECK(cond)                                                                 \
	do {                                                                        \
		if (cond) {                                                         \
			t_passed++;                                                 \
		} else {                                                            \
			t_failed++;                                                 \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                   \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                                  \
	do {                                                                                \
		long long _a = (long long)(a), _b = (long long)(b);                         \
		if (_a == _b) {                                                             \
			t_passed++;                                                         \
		} else {                                                                    \
			t_failed++;                                                         \
			fprintf(stderr, "FAIL %s:%d: %s == %s (%lld != %lld)\n", __FILE__,   \
				__LINE__, #a, #b, _a, _b);                                  \
		}                                                                           \
	} while (0)

#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)
#define CHECK_STR(a, b) CHECK(strcmp((a), (b)) == 0)

void test_args(void);
void test_pcap_writer(void);
void test_sll2(void);
void test_control(void);
void test_filter(void);
void test_tls_emit(void);
void test_gotls(void);
void test_gopclntab(void);
void test_mesh(void);

#endif
