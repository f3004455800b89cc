#ifndef TAPLINE_UTIL_H
#define TAPLINE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

static inline uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Non-blocking listening unix stream socket; replaces a stale socket file. */
int unix_listen_socket(const char *path, char *err, size_t errlen);

#endif
