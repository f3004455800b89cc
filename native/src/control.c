#include "control.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

static char *skip_ws(char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Parses a JSON string at *pp (on the opening quote), unescaping in place.
 * Returns the start of the NUL-terminated result, or NULL. */
static char *json_str(char **pp)
{
	char *p = *pp, *out, *start;
	if (*p != '"')
		return NULL;
	start = out = ++p;
	while (*p && *p != '"') {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20)
			return NULL;
		if (c != '\\') {
			*out++ = *p++;
			continue;
		}
		p++;
		switch (*p) {
		case '"': case '\\': case '/': *out++ = *p; break;
		case 'b': *out++ = '\b'; break;
		case 'f': *out++ = '\f'; break;
		case 'n': *out++ = '\n'; break;
		case 'r': *out++ = '\r'; break;
		case 't': *out++ = '\t'; break;
		case 'u': {
			unsigned v = 0;
			for (int i = 1; i <= 4; i++) {
				int h = hexval(p[i]);
				if (h < 0)
					return NULL;
				v = v << 4 | (unsigned)h;
			}
			p += 4;
			if (v == 0 || (v >= 0xD800 && v <= 0xDFFF))
				return NULL; /* filter text needs neither NUL nor surrogates */
			if (v < 0x80) {
				*out++ = (char)v;
			} else if (v < 0x800) {
				*out++ = (char)(0xC0 | v >> 6);
				*out++ = (char)(0x80 | (v & 0x3F));
			} else {
				*out++ = (char)(0xE0 | v >> 12);
				*out++ = (char)(0x80 | ((v >> 6) & 0x3F));
				*out++ = (char)(0x80 | (v & 0x3F));
			}
			break;
		}
		default:
			return NULL;
		}
		p++;
	}
	if (*p != '"')
		return NULL;
	*out = '\0'; /* out <= p, so this never overwrites unread input */
	*pp = p + 1;
	return start;
}

static void invalid(struct tl_command *cmd, const char *why)
{
	cmd->kind = TL_CMD_INVALID;
	snprintf(cmd->error, sizeof(cmd->error), "%s", why);
}

static void parse_json(char *p, struct tl_command *cmd)
{
	/* string keys fill cmd->filter; boolean keys ask for a report */
	static const struct {
		const char *key;
		enum tl_command_kind kind;
		int is_string;
	} keys[] = {
		{"filter", TL_CMD_FILTER, 1},	   {"stats", TL_CMD_STATS, 0},
		{"tls", TL_CMD_TLS, 0},		   {"mesh", TL_CMD_MESH, 0},
		{"mesh_filter", TL_CMD_MESH_FILTER, 1}, {"mesh_scope", TL_CMD_MESH_SCOPE, 1},
	};
	int given = 0;
	enum tl_command_kind kind = TL_CMD_INVALID;
	const char *value = NULL;
	p = skip_ws(p + 1);
	if (*p == '}') {
		invalid(cmd, "empty command");
		return;
	}
	for (;;) {
		char *key = json_str(&p);
		if (!key) {
			invalid(cmd, "invalid JSON: expected a string key");
			return;
		}
		p = skip_ws(p);
		if (*p != ':') {
			invalid(cmd, "invalid JSON: expected ':'");
			return;
		}
		p = skip_ws(p + 1);
		size_t k = 0;
		while (k < sizeof(keys) / sizeof(keys[0]) && strcmp(key, keys[k].key) != 0)
			k++;
		if (k == sizeof(keys) / sizeof(keys[0])) {
			snprintf(cmd->error, sizeof(cmd->error), "unknown key '%.64s'", key);
			cmd->kind = TL_CMD_INVALID;
			return;
		}
		if (keys[k].is_string) {
			const char *v = json_str(&p);
			if (!v) {
				snprintf(cmd->error, sizeof(cmd->error), "\"%s\" must be a string", keys[k].key);
				cmd->kind = TL_CMD_INVALID;
				return;
			}
			value = v;
			kind = keys[k].kind;
			given++;
		} else if (strncmp(p, "true", 4) == 0) {
			p += 4;
			kind = keys[k].kind;
			given++;
		} else if (strncmp(p, "false", 5) == 0) {
			p += 5;
		} else {
			snprintf(cmd->error, sizeof(cmd->error), "\"%s\" must be true or false", keys[k].key);
			cmd->kind = TL_CMD_INVALID;
			return;
		}
		p = skip_ws(p);
		if (*p == ',') {
			p = skip_ws(p + 1);
			continue;
		}
		if (*p != '}') {
			invalid(cmd, "invalid JSON: expected ',' or '}'");
			return;
		}
		p = skip_ws(p + 1);
		if (*p) {
			invalid(cmd, "invalid JSON: trailing characters");
			return;
		}
		break;
	}
	if (given > 1) {
		invalid(cmd, "give one command per line");
	} else if (given == 0) {
		invalid(cmd, "nothing to do");
	} else {
		cmd->kind = kind;
		cmd->filter = value;
	}
}

void tl_command_parse(char *line, struct tl_command *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	char *p = skip_ws(line);
	size_t n = strlen(p);
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
		p[--n] = '\0';
	if (*p == '{') {
		parse_json(p, cmd);
	} else if (strcmp(p, "stats") == 0) {
		cmd->kind = TL_CMD_STATS;
	} else if (strcmp(p, "tls") == 0) {
		cmd->kind = TL_CMD_TLS;
	} else if (strcmp(p, "mesh") == 0) {
		cmd->kind = TL_CMD_MESH;
	} else if (strncmp(p, "filter", 6) == 0 && (p[6] == '\0' || p[6] == ' ' || p[6] == '\t')) {
		cmd->kind = TL_CMD_FILTER;
		cmd->filter = skip_ws(p + 6);
	} else {
		invalid(cmd, "unknown command (use {\"filter\":\"...\"}, {\"stats\":true}, {\"tls\":true} or {\"mesh\":true})");
	}
}

size_t tl_json_string(char *out, size_t outlen, const char *s)
{
	size_t o = 0;
	if (outlen < 3) {
		if (outlen)
			out[0] = '\0';
		return 0;
	}
	out[o++] = '"';
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];
		size_t el;
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			el = 2;
		} else if (c < 0x20) {
			el = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", c);
		} else {
			esc[0] = (char)c;
			el = 1;
		}
		if (o + el + 2 > outlen)
			break;
		memcpy(out + o, esc, el);
		o += el;
	}
	out[o++] = '"';
	out[o] = '\0';
	return o;
}

int tl_control_open(struct tl_control *c, const char *path, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < TL_CONTROL_MAX_CLIENTS; i++)
		c->clients[i].fd = -1;
	c->listen_fd = unix_listen_socket(path, err, errlen);
	if (c->listen_fd < 0) {
		/* say which socket failed */
		char tmp[256];
		snprintf(tmp, sizeof(tmp), "control socket: %s", err);
		snprintf(err, errlen, "%s", tmp);
		return -1;
	}
	c->path = strdup(path);
	return 0;
}

int tl_control_pollfds(struct tl_control *c, struct pollfd *pfds, int max)
{
	int n = 0;
	if (c->listen_fd < 0 || max < 1)
		return 0;
	pfds[n++] = (struct pollfd){.fd = c->listen_fd, .events = POLLIN};
	for (int i = 0; i < TL_CONTROL_MAX_CLIENTS && n < max; i++)
		pfds[n++] = (struct pollfd){.fd = c->clients[i].fd, .events = POLLIN};
	return n;
}

static void drop_client(struct tl_control_client *cl)
{
	close(cl->fd);
	free(cl->buf);
	cl->fd = -1;
	cl->buf = NULL;
	cl->len = 0;
}

static void reply(int fd, const char *s)
{
	size_t len = strlen(s), off = 0;
	while (off < len) {
		ssize_t r = send(fd, s + off, len - off, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		off += (size_t)r;
	}
}

static void serve_client(struct tl_control_client *cl, tl_control_fn fn, void *ctx)
{
	if (!cl->buf && !(cl->buf = malloc(TL_CONTROL_LINE_MAX + 1))) {
		drop_client(cl);
		return;
	}
	ssize_t r = recv(cl->fd, cl->buf + cl->len, TL_CONTROL_LINE_MAX - cl->len, MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		drop_client(cl);
		return;
	}
	cl->len += (size_t)r;
	char *start = cl->buf, *nl;
	while ((nl = memchr(start, '\n', cl->len - (size_t)(start - cl->buf)))) {
		*nl = '\0';
		static char out[TL_CONTROL_REPLY_MAX]; /* the TLS status lists every process */
		struct tl_command cmd;
		tl_command_parse(start, &cmd);
		if (*start || cmd.kind != TL_CMD_INVALID) {
			if (cmd.kind == TL_CMD_INVALID) {
				char msg[256];
				tl_json_string(msg, sizeof(msg), cmd.error);
				snprintf(out, sizeof(out), "{\"ok\":false,\"error\":%s}", msg);
			} else {
				fn(ctx, &cmd, out, sizeof(out));
			}
			size_t ol = strlen(out);
			if (ol + 1 < sizeof(out)) {
				out[ol] = '\n';
				out[ol + 1] = '\0';
			}
			reply(cl->fd, out);
		}
		start = nl + 1;
	}
	size_t rest = cl->len - (size_t)(start - cl->buf);
	memmove(cl->buf, start, rest);
	cl->len = rest;
	if (cl->len == TL_CONTROL_LINE_MAX) {
		reply(cl->fd, "{\"ok\":false,\"error\":\"line too long\"}\n");
		drop_client(cl);
	}
}

void tl_control_serve(struct tl_control *c, struct pollfd *pfds, int n, tl_control_fn fn, void *ctx)
{
	if (n < 1)
		return;
	for (int i = 1; i < n; i++) {
		struct tl_control_client *cl = &c->clients[i - 1];
		if (cl->fd >= 0 && pfds[i].fd == cl->fd && pfds[i].revents)
			serve_client(cl, fn, ctx);
	}
	if (pfds[0].revents & POLLIN) {
		int fd;
		while ((fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
			int placed = 0;
			for (int i = 0; i < TL_CONTROL_MAX_CLIENTS && !placed; i++) {
				if (c->clients[i].fd < 0) {
					c->clients[i].fd = fd;
					placed = 1;
				}
			}
			if (!placed) {
				reply(fd, "{\"ok\":false,\"error\":\"too many control clients\"}\n");
				close(fd);
			}
		}
	}
}

void tl_control_close(struct tl_control *c)
{
	for (int i = 0; i < TL_CONTROL_MAX_CLIENTS; i++)
		if (c->clients[i].fd >= 0)
			drop_client(&c->clients[i]);
	if (c->listen_fd >= 0) {
		close(c->listen_fd);
		c->listen_fd = -1;
	}
	if (c->path) {
		unlink(c->path);
		free(c->path);
		c->path = NULL;
	}
}
