#include "pcap_writer.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

int pw_init(struct pcap_writer *w, size_t bufsize, uint32_t snaplen)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->listen_fd = -1;
	if (bufsize < 65536)
		bufsize = 65536;
	w->buf = malloc(bufsize);
	if (!w->buf)
		return -1;
	w->cap = bufsize;
	w->snaplen = snaplen;
	return 0;
}

int pw_open_fd(struct pcap_writer *w, int fd)
{
	struct stat st;
	w->fd = fd;
	w->is_regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	return 0;
}

int pw_open_path(struct pcap_writer *w, const char *path, char *err, size_t errlen)
{
	if (strcmp(path, "-") == 0)
		return pw_open_fd(w, STDOUT_FILENO);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open output '%s': %s", path, strerror(errno));
		return -1;
	}
	pw_open_fd(w, fd);
	w->own_fd = 1;
	/* Only a regular file is removed on failure; /dev/null never is. */
	if (w->is_regular)
		w->path = strdup(path);
	return 0;
}

static int unix_addr(struct sockaddr_un *sa, const char *path, char *err, size_t errlen)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		snprintf(err, errlen, "unix socket path too long: '%s'", path);
		return -1;
	}
	strcpy(sa->sun_path, path);
	return 0;
}

int pw_open_unix_connect(struct pcap_writer *w, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	if (unix_addr(&sa, path, err, errlen) < 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errlen, "cannot connect to output socket '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	pw_open_fd(w, fd);
	w->own_fd = 1;
	return 0;
}

int unix_listen_socket(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;
	if (unix_addr(&sa, path, err, errlen) < 0)
		return -1;
	/* Replace a stale socket from an earlier run, but never another kind of file. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "cannot listen on '%s': exists and is not a socket", path);
			return -1;
		}
		unlink(path);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
		snprintf(err, errlen, "cannot listen on '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int pw_open_unix_listen(struct pcap_writer *w, const char *path, char *err, size_t errlen)
{
	int fd = unix_listen_socket(path, err, errlen);
	if (fd < 0)
		return -1;
	w->listen_fd = fd;
	w->sock_path = strdup(path);
	return 0;
}

int pw_accept(struct pcap_writer *w)
{
	if (w->listen_fd < 0 || w->fd >= 0)
		return 0;
	int fd = accept4(w->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return 0;
	w->fd = fd;
	w->own_fd = 1;
	w->len = 0;
	w->committed = 0;
	pw_begin(w);
	pw_flush(w);
	return 1;
}

int pw_begin(struct pcap_writer *w)
{
	uint8_t *h = w->buf + w->len;
	put32(h, PCAP_MAGIC_NSEC);
	put16(h + 4, 2);
	put16(h + 6, 4);
	put32(h + 8, 0);
	put32(h + 12, 0);
	put32(h + 16, w->snaplen);
	put32(h + 20, LINKTYPE_LINUX_SLL2);
	w->len += PCAP_FILE_HDR_LEN;
	return 0;
}

/* A reader that left is not an error: the stream just ends (or, when
 * listening, waits for the next reader). */
static enum pw_result reader_gone(struct pcap_writer *w)
{
	if (w->own_fd)
		close(w->fd);
	w->fd = -1;
	w->len = 0;
	return PW_CLOSED;
}

static enum pw_result write_fail(struct pcap_writer *w, int e)
{
	w->last_errno = e;
	if (e == EPIPE || e == ECONNRESET)
		return reader_gone(w);
	/* Leave a file that ends on a record boundary. */
	if (w->is_regular && ftruncate(w->fd, (off_t)w->committed) < 0)
		w->last_errno = e;
	return PW_ERROR;
}

/* committed moves only when the whole call succeeds, so it always sits on
 * a record boundary for write_fail()'s truncation. */
static enum pw_result write_all(struct pcap_writer *w, struct iovec *iov, int n)
{
	uint64_t done = 0;
	while (n > 0) {
		ssize_t r = writev(w->fd, iov, n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return write_fail(w, errno);
		}
		done += (uint64_t)r;
		while (n > 0 && (size_t)r >= iov->iov_len) {
			r -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + r;
			iov->iov_len -= (size_t)r;
		}
	}
	w->committed += done;
	return PW_OK;
}

enum pw_result pw_flush(struct pcap_writer *w)
{
	if (w->fd < 0) {
		w->len = 0;
		return w->listen_fd >= 0 ? PW_OK : PW_CLOSED;
	}
	if (w->len == 0)
		return PW_OK;
	struct iovec iov = {w->buf, w->len};
	enum pw_result r = write_all(w, &iov, 1);
	w->len = 0;
	w->first_pending_ns = 0;
	return r;
}

enum pw_result pw_packet(struct pcap_writer *w, uint32_t ts_sec, uint32_t ts_nsec,
			 const struct sll2_meta *m, const uint8_t *extra, uint32_t extralen,
			 const uint8_t *payload, uint32_t caplen, uint32_t origlen, uint64_t now_ns)
{
	if (w->fd < 0) {
		w->unwritten++;
		return w->listen_fd >= 0 ? PW_OK : PW_CLOSED;
	}
	uint32_t room = w->snaplen > SLL2_HDR_LEN ? w->snaplen - SLL2_HDR_LEN : 0;
	if (extralen > room)
		extralen = room;
	room -= extralen;
	if (caplen > room)
		caplen = room;
	if (origlen < caplen)
		origlen = caplen;
	uint32_t incl = SLL2_HDR_LEN + extralen + caplen;
	size_t need = PCAP_REC_HDR_LEN + (size_t)incl;

	uint8_t hdr[PCAP_REC_HDR_LEN + SLL2_HDR_LEN];
	put32(hdr, ts_sec);
	put32(hdr + 4, ts_nsec);
	put32(hdr + 8, incl);
	put32(hdr + 12, SLL2_HDR_LEN + extralen + origlen);
	sll2_encode(hdr + PCAP_REC_HDR_LEN, m);

	w->packets++;
	/* A large payload (TSO/GRO super-packets) goes out in one writev with
	 * whatever is buffered, straight from the ring: copying it into the
	 * batch buffer first costs more than the extra system call. */
	if (caplen >= PW_DIRECT_MIN || w->len + need > w->cap) {
		if (caplen >= PW_DIRECT_MIN || need > w->cap) {
			struct iovec iov[4] = {{w->buf, w->len},
					       {hdr, sizeof(hdr)},
					       {(void *)extra, extralen},
					       {(void *)payload, caplen}};
			enum pw_result r = write_all(w, iov, 4);
			w->len = 0;
			w->first_pending_ns = 0;
			return r;
		}
		enum pw_result r = pw_flush(w);
		if (r != PW_OK)
			return r;
	}
	if (w->len == 0 || w->first_pending_ns == 0)
		w->first_pending_ns = now_ns ? now_ns : 1;
	uint8_t *p = w->buf + w->len;
	memcpy(p, hdr, sizeof(hdr));
	p += sizeof(hdr);
	if (extralen) {
		memcpy(p, extra, extralen);
		p += extralen;
	}
	memcpy(p, payload, caplen);
	w->len += need;
	return PW_OK;
}

enum pw_result pw_close(struct pcap_writer *w)
{
	enum pw_result r = PW_OK;
	if (w->fd >= 0) {
		r = pw_flush(w);
		if (w->fd >= 0 && w->own_fd && close(w->fd) < 0 && r == PW_OK) {
			w->last_errno = errno;
			r = PW_ERROR;
		}
	}
	w->fd = -1;
	if (w->listen_fd >= 0) {
		close(w->listen_fd);
		w->listen_fd = -1;
		if (w->sock_path)
			unlink(w->sock_path);
	}
	return r;
}

void pw_abort(struct pcap_writer *w)
{
	if (w->fd >= 0 && w->own_fd)
		close(w->fd);
	w->fd = -1;
	if (w->path)
		unlink(w->path);
	if (w->listen_fd >= 0) {
		close(w->listen_fd);
		w->listen_fd = -1;
		if (w->sock_path)
			unlink(w->sock_path);
	}
}

void pw_free(struct pcap_writer *w)
{
	free(w->buf);
	free(w->path);
	free(w->sock_path);
	w->buf = NULL;
	w->path = NULL;
	w->sock_path = NULL;
}
