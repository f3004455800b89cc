/* tapline-capture: capture packets and write one LINUX_SLL2 pcap stream. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "control.h"
#include "mesh.h"
#include "pcap_writer.h"
#include "source.h"
#include "tls_capture.h"
#include "util.h"

#define EXIT_BAD_INPUT 2
#define EXIT_RUNTIME 1
#define DRAIN_BUDGET 65536
#define MAX_POLL (TL_MAX_IFACES + TL_MESH_MAX + TL_CONTROL_MAX_CLIENTS + 3)

static volatile sig_atomic_t g_stop;
static volatile int g_stop_int; /* g_stop as an int for pcap_file_run */

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
	g_stop_int = 1;
}

struct app {
	struct tl_args a;
	struct tl_source *src[TL_MAX_IFACES];
	int nsrc;
	struct pcap_writer w;
	struct tl_sink sink;
	struct tl_control ctl;
	int has_ctl;
	struct tl_tls *tls;   /* NULL without --tls or when BPF is unavailable */
	char tls_reason[512]; /* why --tls is off */
	struct tl_mesh mesh;
	int has_mesh;
	uint64_t start_ns;
	char filter[TL_CONTROL_LINE_MAX];
};

static void format_stats(struct app *app, char *out, size_t n)
{
	for (int i = 0; i < app->nsrc; i++)
		app->src[i]->ops->stats(app->src[i], &app->sink.c);
	if (app->has_mesh)
		tl_mesh_stats(&app->mesh, &app->sink.c);
	const struct tl_counters *c = &app->sink.c;
	char tls[512] = "", mesh[128] = "";
	if (app->has_mesh) {
		char counters[100];
		tl_mesh_counters_json(&app->mesh, counters, sizeof(counters));
		snprintf(mesh, sizeof(mesh), ",\"mesh\":%s", counters);
	}
	if (app->tls) {
		char counters[480];
		tl_tls_counters_json(app->tls, counters, sizeof(counters));
		snprintf(tls, sizeof(tls), ",\"tls\":%s", counters);
	}
	snprintf(out, n,
		 "{\"type\":\"stats\",\"engine\":\"%s\",\"elapsed_s\":%.3f,\"received\":%llu,"
		 "\"bytes\":%llu,\"kernel_received\":%llu,\"kernel_dropped\":%llu,"
		 "\"if_dropped\":%llu,\"skipped\":%llu,\"written\":%llu,\"unwritten\":%llu%s%s}",
		 app->a.read_path ? "file" : app->a.engine == TL_ENGINE_PCAP ? "pcap" : "afpacket",
		 (double)(mono_ns() - app->start_ns) / 1e9, (unsigned long long)c->received,
		 (unsigned long long)c->bytes, (unsigned long long)c->kernel_received,
		 (unsigned long long)c->kernel_dropped, (unsigned long long)c->if_dropped,
		 (unsigned long long)c->skipped, (unsigned long long)app->w.packets,
		 (unsigned long long)app->w.unwritten, tls, mesh);
}

static void print_stats(struct app *app)
{
	char line[2048];
	format_stats(app, line, sizeof(line));
	fprintf(stderr, "%s\n", line);
}

/* All sources compile first; only then does any socket change, so a bad
 * filter leaves every interface on the old one. */
static int swap_filter(struct app *app, const char *expr, char *err, size_t errlen)
{
	struct tl_kfilter kf[TL_MAX_IFACES];
	int ok = 0, rc = 0;
	memset(kf, 0, sizeof(kf));
	if (app->a.read_path) {
		snprintf(err, errlen, "the filter of a file being read cannot change");
		return -1;
	}
	for (; ok < app->nsrc; ok++)
		if (app->src[ok]->ops->prepare_filter(app->src[ok], expr, &kf[ok], err, errlen) < 0)
			break;
	if (ok == app->nsrc) {
		for (int i = 0; i < app->nsrc && rc == 0; i++)
			rc = app->src[i]->ops->commit_filter(app->src[i], &kf[i], err, errlen);
	} else {
		rc = -1;
	}
	for (int i = 0; i < app->nsrc; i++)
		tl_filter_free(&kf[i]);
	if (rc == 0)
		snprintf(app->filter, sizeof(app->filter), "%s", expr);
	return rc;
}

/* {"ok":true,"tls":{"enabled":…,"reason"|"counters"+"targets":…}} */
static void tls_reply(struct app *app, char *reply, size_t n)
{
	if (!app->tls) {
		char why[600];
		tl_json_string(why, sizeof(why), app->a.tls ? app->tls_reason : "--tls not given");
		snprintf(reply, n, "{\"ok\":true,\"tls\":{\"enabled\":false,\"reason\":%s}}", why);
		return;
	}
	char counters[512];
	tl_tls_counters_json(app->tls, counters, sizeof(counters));
	int o = snprintf(reply, n, "{\"ok\":true,\"tls\":{\"enabled\":true,\"counters\":%s,\"targets\":", counters);
	if (o < 0 || (size_t)o + 4 >= n)
		return;
	o += (int)tl_tls_targets_json(app->tls, reply + o, n - (size_t)o - 2);
	snprintf(reply + o, n - (size_t)o, "}}");
}

static void on_tls_packet(void *ctx, uint64_t ts_ns, const struct sll2_meta *m, const uint8_t *pkt, uint32_t len)
{
	struct tl_sink *sink = ctx;
	if (sink->stop)
		return;
	tl_sink_packet(sink, (uint32_t)(ts_ns / 1000000000ull), (uint32_t)(ts_ns % 1000000000ull), m, NULL, 0,
		       pkt, len, len);
}

/* The mesh commands; returns 0 when cmd is none of them. */
static int mesh_command(struct app *app, const struct tl_command *cmd, char *reply, size_t n)
{
	if (cmd->kind != TL_CMD_MESH && cmd->kind != TL_CMD_MESH_FILTER && cmd->kind != TL_CMD_MESH_SCOPE)
		return 0;
	char err[512], msg[600];
	if (!app->has_mesh) {
		snprintf(reply, n, cmd->kind == TL_CMD_MESH ? "{\"ok\":true,\"mesh\":{\"enabled\":false}}"
							 : "{\"ok\":false,\"error\":\"--mesh not given\"}");
		return 1;
	}
	int rc = 0;
	if (cmd->kind == TL_CMD_MESH_FILTER)
		rc = tl_mesh_set_filter(&app->mesh, cmd->filter, err, sizeof(err));
	else if (cmd->kind == TL_CMD_MESH_SCOPE)
		rc = tl_mesh_set_scope(&app->mesh, cmd->filter, err, sizeof(err));
	if (rc < 0) {
		tl_json_string(msg, sizeof(msg), err);
		snprintf(reply, n, "{\"ok\":false,\"error\":%s}", msg);
	} else if (cmd->kind == TL_CMD_MESH) {
		int o = snprintf(reply, n, "{\"ok\":true,\"mesh\":");
		if (o > 0 && (size_t)o + 2 < n) {
			o += (int)tl_mesh_status_json(&app->mesh, reply + o, n - (size_t)o - 1);
			snprintf(reply + o, n - (size_t)o, "}");
		}
	} else {
		snprintf(reply, n, "{\"ok\":true}");
	}
	return 1;
}

static void on_command(void *ctx, const struct tl_command *cmd, char *reply, size_t n)
{
	struct app *app = ctx;
	if (cmd->kind == TL_CMD_TLS) {
		tls_reply(app, reply, n);
		return;
	}
	if (mesh_command(app, cmd, reply, n))
		return;
	if (cmd->kind == TL_CMD_STATS) {
		char stats[2048];
		format_stats(app, stats, sizeof(stats));
		snprintf(reply, n, "{\"ok\":true,\"stats\":%s}", stats);
		return;
	}
	char err[512], msg[600];
	if (swap_filter(app, cmd->filter, err, sizeof(err)) < 0) {
		tl_json_string(msg, sizeof(msg), err);
		snprintf(reply, n, "{\"ok\":false,\"error\":%s}", msg);
		return;
	}
	snprintf(reply, n, "{\"ok\":true}");
}

static int ms_until(uint64_t deadline, uint64_t now)
{
	if (deadline <= now)
		return 0;
	uint64_t ms = (deadline - now + 999999) / 1000000;
	return ms > 1000 ? 1000 : (int)ms;
}

/* A source whose interface went away is dropped; the others carry on. */
static void check_source_error(struct app *app, int i)
{
	int e = 0;
	socklen_t len = sizeof(e);
	getsockopt(app->src[i]->fd, SOL_SOCKET, SO_ERROR, &e, &len);
	if (e == 0 || e == ENETDOWN)
		return;
	fprintf(stderr, "tapline-capture: warning: interface '%s': %s; no longer captured\n",
		app->src[i]->name, strerror(e));
	app->src[i]->ops->close(app->src[i]);
	memmove(&app->src[i], &app->src[i + 1], (size_t)(app->nsrc - i - 1) * sizeof(app->src[0]));
	app->nsrc--;
}

static int drain_all(struct app *app, struct pollfd *pfds, int polled)
{
	int n = 0;
	for (int i = 0; i < app->nsrc && !app->sink.stop; i++) {
		if (pfds && i < polled && (pfds[i].revents & POLLERR)) {
			check_source_error(app, i);
			if (i >= app->nsrc || pfds[i].fd != app->src[i]->fd)
				return n; /* the set changed: poll again */
		}
		n += app->src[i]->ops->drain(app->src[i], &app->sink, DRAIN_BUDGET);
	}
	return n;
}

/* Mesh sockets sit in pfds after the interfaces; this runs before they are listed. */
static int mesh_tick(struct app *app, uint64_t now, int timeout)
{
	if (!app->has_mesh)
		return timeout;
	int t = tl_mesh_tick(&app->mesh, now);
	return t < timeout ? t : timeout;
}

static int run_live(struct app *app)
{
	struct pollfd pfds[MAX_POLL];
	uint64_t flush_ns = (uint64_t)app->a.flush_ms * 1000000ull;
	uint64_t stats_ns = (uint64_t)app->a.stats_interval * 1000000000ull;
	uint64_t next_stats = app->start_ns + stats_ns;

	while (!g_stop && !app->sink.stop) {
		if (app->nsrc == 0) {
			fprintf(stderr, "tapline-capture: error: no interface left to capture on\n");
			return EXIT_RUNTIME;
		}
		int n = 0, polled = app->nsrc;
		for (int i = 0; i < app->nsrc; i++)
			pfds[n++] = (struct pollfd){.fd = app->src[i]->fd, .events = POLLIN};
		int timeout = mesh_tick(app, mono_ns(), 1000);
		int mesh_at = n, nmesh = 0;
		if (app->has_mesh)
			n += nmesh = tl_mesh_pollfds(&app->mesh, pfds + n, TL_MESH_MAX);
		int ctl_at = n, nctl = 0;
		if (app->has_ctl)
			n += nctl = tl_control_pollfds(&app->ctl, pfds + n, MAX_POLL - n - 1);
		int tls_at = -1;
		if (app->tls) {
			tls_at = n;
			pfds[n++] = (struct pollfd){.fd = tl_tls_fd(app->tls), .events = POLLIN};
		}
		int wl_at = -1;
		if (app->w.listen_fd >= 0 && app->w.fd < 0) {
			wl_at = n;
			pfds[n++] = (struct pollfd){.fd = app->w.listen_fd, .events = POLLIN};
		}
		uint64_t now = mono_ns();
		if (app->w.len && app->w.first_pending_ns) {
			int t = ms_until(app->w.first_pending_ns + flush_ns, now);
			timeout = t < timeout ? t : timeout;
		}
		if (stats_ns) {
			int t = ms_until(next_stats, now);
			timeout = t < timeout ? t : timeout;
		}
		if (app->tls) {
			int t = tl_tls_tick(app->tls, now);
			timeout = t < timeout ? t : timeout;
		}
		if (poll(pfds, (nfds_t)n, timeout) < 0 && errno != EINTR) {
			fprintf(stderr, "tapline-capture: error: poll: %s\n", strerror(errno));
			return EXIT_RUNTIME;
		}
		app->sink.now_ns = mono_ns();
		drain_all(app, pfds, polled);
		if (nmesh)
			tl_mesh_drain(&app->mesh, pfds + mesh_at, nmesh, &app->sink, DRAIN_BUDGET);
		if (tls_at >= 0 && (pfds[tls_at].revents & POLLIN))
			tl_tls_drain(app->tls, on_tls_packet, &app->sink);
		if (nctl)
			tl_control_serve(&app->ctl, pfds + ctl_at, nctl, on_command, app);
		if (wl_at >= 0 && (pfds[wl_at].revents & POLLIN))
			pw_accept(&app->w);

		now = mono_ns();
		if (app->w.len && app->w.first_pending_ns && now - app->w.first_pending_ns >= flush_ns) {
			enum pw_result r = pw_flush(&app->w);
			if (r == PW_CLOSED && app->w.listen_fd < 0)
				app->sink.stop = 1;
			else if (r == PW_ERROR)
				app->sink.stop = 2;
		}
		if (stats_ns && now >= next_stats) {
			print_stats(app);
			next_stats += stats_ns;
			if (next_stats <= now)
				next_stats = now + stats_ns;
		}
	}
	if (g_stop && !app->sink.stop) {
		/* Partly filled ring blocks reach us after the block timeout; wait
		 * that long once so the last packets before the signal are kept. */
		struct timespec ts = {0, (long)(app->a.block_timeout_ms + 5) * 1000000L};
		nanosleep(&ts, NULL);
		app->sink.now_ns = mono_ns();
		drain_all(app, NULL, 0);
		if (app->has_mesh)
			tl_mesh_drain(&app->mesh, NULL, 0, &app->sink, DRAIN_BUDGET);
		if (app->tls)
			tl_tls_drain(app->tls, on_tls_packet, &app->sink);
	}
	return 0;
}

static void close_sources(struct app *app)
{
	for (int i = 0; i < app->nsrc; i++)
		app->src[i]->ops->close(app->src[i]);
	app->nsrc = 0;
}

int main(int argc, char **argv)
{
	static struct app app;
	char err[1024] = "";
	int rc = 0, output_open = 0;

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: poll() must return */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* a gone reader shows up as EPIPE */

	switch (tl_args_parse(argc, argv, &app.a, err, sizeof(err))) {
	case TL_ARGS_EXIT:
		return 0;
	case TL_ARGS_ERROR:
		fprintf(stderr, "tapline-capture: error: %s (see --help)\n", err);
		return EXIT_BAD_INPUT;
	case TL_ARGS_OK:
		break;
	}
	struct tl_args *a = &app.a;
	app.start_ns = mono_ns();
	snprintf(app.filter, sizeof(app.filter), "%s", a->filter);

	if (a->write_path && strcmp(a->write_path, "-") == 0 && isatty(STDOUT_FILENO)) {
		snprintf(err, sizeof(err), "refusing to write a pcap stream to a terminal; use -w FILE");
		rc = EXIT_BAD_INPUT;
		goto cleanup;
	}
	/* Everything that can reject the input runs before the output exists. */
	if (a->read_path) {
		if (!(app.src[app.nsrc++] = pcap_file_open(a->read_path, a, err, sizeof(err)))) {
			app.nsrc--;
			rc = EXIT_BAD_INPUT;
			goto cleanup;
		}
	}
	for (int i = 0; i < a->n_ifaces; i++) {
		struct tl_source *s = a->engine == TL_ENGINE_PCAP
					      ? pcap_live_open(a->ifaces[i], a, err, sizeof(err))
					      : afpacket_open(a->ifaces[i], a, err, sizeof(err));
		if (!s) {
			rc = EXIT_BAD_INPUT;
			goto cleanup;
		}
		app.src[app.nsrc++] = s;
	}
	if (a->control_path) {
		if (tl_control_open(&app.ctl, a->control_path, err, sizeof(err)) < 0) {
			rc = EXIT_BAD_INPUT;
			goto cleanup;
		}
		app.has_ctl = 1;
	}
	if (a->mesh) {
		if (tl_mesh_open(&app.mesh, a, a->mesh_filter, a->mesh_scope, err, sizeof(err)) < 0) {
			rc = EXIT_BAD_INPUT;
			goto cleanup;
		}
		app.has_mesh = 1;
	}
	if (a->tls_lib && access(a->tls_lib, R_OK) < 0) {
		snprintf(err, sizeof(err), "--tls-lib '%s': %s", a->tls_lib, strerror(errno));
		rc = EXIT_BAD_INPUT;
		goto cleanup;
	}
	/* Without BPF the capture goes on: TLS is an extra, not the input. */
	if (a->tls) {
		struct tl_tls_opts to = {.pid = a->tls_pid, .lib = a->tls_lib, .verbose = a->verbose};
		app.tls = tl_tls_open(&to, app.tls_reason, sizeof(app.tls_reason));
		if (!app.tls)
			fprintf(stderr, "tapline-capture: warning: --tls unavailable: %s; capturing without TLS\n",
				app.tls_reason);
	}
	if (pw_init(&app.w, a->buffer_size, a->snaplen) < 0) {
		snprintf(err, sizeof(err), "out of memory");
		rc = EXIT_RUNTIME;
		goto cleanup;
	}
	int orc = a->unix_connect  ? pw_open_unix_connect(&app.w, a->unix_connect, err, sizeof(err))
		  : a->unix_listen ? pw_open_unix_listen(&app.w, a->unix_listen, err, sizeof(err))
				   : pw_open_path(&app.w, a->write_path, err, sizeof(err));
	if (orc < 0) {
		rc = EXIT_BAD_INPUT;
		goto cleanup;
	}
	output_open = 1;
	/* The header goes out at once so a reader learns the linktype before
	 * the first packet; an unwritable output fails here, still empty. */
	if (!a->unix_listen) {
		pw_begin(&app.w);
		if (pw_flush(&app.w) == PW_ERROR) {
			snprintf(err, sizeof(err), "cannot write output: %s", strerror(app.w.last_errno));
			rc = EXIT_BAD_INPUT;
			goto cleanup;
		}
	}
	app.sink.w = &app.w;
	app.sink.now_ns = mono_ns();

	if (a->read_path) {
		if (pcap_file_run(app.src[0], &app.sink, &g_stop_int, err, sizeof(err)) < 0)
			rc = EXIT_RUNTIME;
	} else {
		rc = run_live(&app);
	}

	enum pw_result wr = pw_close(&app.w);
	if (app.sink.stop == 2 || (wr == PW_ERROR && rc == 0)) {
		snprintf(err, sizeof(err), "cannot write output: %s", strerror(app.w.last_errno));
		rc = EXIT_RUNTIME;
	}
	if (!a->quiet)
		print_stats(&app);
cleanup:
	if (rc == EXIT_BAD_INPUT && output_open)
		pw_abort(&app.w);
	if (rc && *err)
		fprintf(stderr, "tapline-capture: error: %s\n", err);
	if (app.has_ctl)
		tl_control_close(&app.ctl);
	close_sources(&app);
	if (app.has_mesh)
		tl_mesh_close(&app.mesh);
	tl_tls_close(app.tls);
	pw_free(&app.w);
	return rc;
}
