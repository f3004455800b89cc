/* Control socket: newline-delimited commands on a unix stream socket. */
#ifndef TAPLINE_CONTROL_H
#define TAPLINE_CONTROL_H

#include <poll.h>
#include <stddef.h>

#define TL_CONTROL_MAX_CLIENTS 16
#define TL_CONTROL_LINE_MAX 65536
#define TL_CONTROL_REPLY_MAX (1 << 20)

enum tl_command_kind {
	TL_CMD_FILTER,
	TL_CMD_STATS,
	TL_CMD_TLS,
	TL_CMD_MESH,	     /* mesh.h status */
	TL_CMD_MESH_FILTER, /* filter of the meshed pods' loopback captures */
	TL_CMD_MESH_SCOPE,  /* addresses whose namespaces are captured */
	TL_CMD_INVALID
};

struct tl_command {
	enum tl_command_kind kind;
	const char *filter; /* TL_CMD_FILTER, TL_CMD_MESH_*: the string, in the caller's buffer */
	char error[128];    /* TL_CMD_INVALID: why */
};

/*
 * Accepted forms (one per line):
 *   {"filter":"EXPR"}   or   filter EXPR
 *   {"stats":true}      or   stats
 *   {"tls":true}        or   tls      (per-process TLS hooking status)
 *   {"mesh":true}       or   mesh     (meshed namespaces found, mesh.h)
 *   {"mesh_filter":"EXPR"}            (filter of the mesh loopback captures)
 *   {"mesh_scope":"IP,IP"}            (only namespaces holding one of these; "" = all)
 * `line` is modified in place (JSON strings are unescaped there).
 */
void tl_command_parse(char *line, struct tl_command *cmd);

/* Writes s as a JSON string literal (with quotes); returns bytes written
 * excluding the NUL, truncating safely. */
size_t tl_json_string(char *out, size_t outlen, const char *s);

struct tl_control_client {
	int fd;
	size_t len;
	char *buf;
};

struct tl_control {
	int listen_fd;
	char *path;
	struct tl_control_client clients[TL_CONTROL_MAX_CLIENTS];
};

/* Answers one command: fills reply with a JSON object (no newline). */
typedef void (*tl_control_fn)(void *ctx, const struct tl_command *cmd, char *reply, size_t replylen);

int tl_control_open(struct tl_control *c, const char *path, char *err, size_t errlen);
/* Adds the listener and clients to pfds; returns how many were added. */
int tl_control_pollfds(struct tl_control *c, struct pollfd *pfds, int max);
/* Serves whatever poll reported on the entries tl_control_pollfds added. */
void tl_control_serve(struct tl_control *c, struct pollfd *pfds, int n, tl_control_fn fn, void *ctx);
void tl_control_close(struct tl_control *c);

#endif
