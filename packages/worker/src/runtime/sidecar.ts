// Supervises the capture sidecar (native/tapline-capture): spawns it writing a pcap stream to
// stdout, hands each run's stream to the reader, restarts it with backoff when it dies (the
// time without capture is counted as a gap), tracks its kernel counters from the
// `--stats-interval` lines on stderr, and swaps its kernel filter through the control socket.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createConnection } from "node:net";
import type { Readable } from "node:stream";
import { Backoff } from "./backoff.js";

export interface SidecarOptions {
  /** The tapline-capture binary. */
  path: string;
  interfaces: string[];
  /** Unix socket path for the control channel. */
  controlPath: string;
  statsIntervalS?: number;
  tls?: boolean;
  /** A command the sidecar runs under, e.g. ["ip", "netns", "exec", "ns1"] (it must exec, keeping the pid). */
  wrap?: string[];
  /** Extra arguments (e.g. --engine pcap). */
  extraArgs?: string[];
  /** The filter to start each run with (the current tap target's). */
  filter(): string;
  /** Reads one run's pcap stream to its end; calls `streaming` at its first bytes. */
  consume(stream: Readable, streaming: () => void): Promise<void>;
  restartMinMs?: number;
  restartMaxMs?: number;
  log?(message: string): void;
}

/** The sidecar's counters line (native/README.md "Counters"). */
export interface SidecarCounters {
  received: number;
  bytes: number;
  kernel_received: number;
  kernel_dropped: number;
  if_dropped: number;
  written: number;
}

export interface SidecarStats {
  state: string;
  /** Runs that ended unexpectedly and were restarted. */
  restarts: number;
  /** Total time without a running sidecar after a failure, in ms (a gap still going on included). */
  gapMs: number;
  /** Kernel drops over all runs (PACKET_STATISTICS). */
  kernelDropped: number;
  kernelReceived: number;
  lastError: string;
}

/** The sidecar rejected its input (bad flag, interface or filter): restarting would not help. */
const EXIT_BAD_INPUT = 2;

export class SidecarError extends Error {
  override name = "SidecarError";
}

export class Sidecar {
  private child: ChildProcess | null = null;
  private stopped = false;
  private readonly backoff: Backoff;
  /** When the sidecar died, while it is being restarted (0 otherwise). */
  private downSince = 0;
  private state = "starting";
  private restarts = 0;
  private gapMs = 0;
  /** Counters of finished runs, plus the latest line of the current one. */
  private past = { kernel_dropped: 0, kernel_received: 0 };
  private current = { kernel_dropped: 0, kernel_received: 0 };
  private lastError = "";
  private timer: NodeJS.Timeout | undefined;
  private exited: Promise<void> = Promise.resolve();
  /** The filter asked for last (null: opts.filter()), and the one the running sidecar applies. */
  private desired: string | null = null;
  private runFilter = "";
  private streamingNow = false;

  constructor(private readonly opts: SidecarOptions) {
    if (!existsSync(opts.path)) {
      throw new SidecarError(`capture sidecar not found at ${opts.path}; build it with: make -C native`);
    }
    this.backoff = new Backoff(opts.restartMinMs ?? 250, opts.restartMaxMs ?? 10_000);
  }

  /** Starts the first run; resolves once it streams, rejects when it exits before (with its error line). */
  start(): Promise<void> {
    return new Promise((resolve, reject) => this.run(resolve, reject));
  }

  stats(): SidecarStats {
    return {
      state: this.state,
      restarts: this.restarts,
      gapMs: this.gapMs + (this.downSince ? Date.now() - this.downSince : 0),
      kernelDropped: this.past.kernel_dropped + this.current.kernel_dropped,
      kernelReceived: this.past.kernel_received + this.current.kernel_received,
      lastError: this.lastError,
    };
  }

  /** The running child's pid (tests kill it to check the restart). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * Sets the kernel filter: at once through the control socket when a run is streaming (resolves
   * when the sidecar accepted it, rejects with its error), else when the next run starts.
   */
  async setFilter(filter: string): Promise<void> {
    this.desired = filter;
    if (!this.child || !this.streamingNow || filter === this.runFilter) return;
    const reply = await this.control({ filter });
    if (!reply.ok) throw new SidecarError(`sidecar refused the filter: ${String(reply.error ?? "unknown error")}`);
    this.runFilter = filter;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.downSince) this.gapMs += Date.now() - this.downSince; // the gap ends with the capture
    this.downSince = 0;
    clearTimeout(this.timer);
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 2000);
      await this.exited;
      clearTimeout(killer);
    }
    this.state = "stopped";
  }

  private run(onStreaming?: () => void, onFailedStart?: (err: Error) => void): void {
    const o = this.opts;
    const filter = this.desired ?? o.filter();
    this.runFilter = filter;
    const args = [
      ...o.interfaces.flatMap((i) => ["-i", i]),
      "-w", "-",
      "--control", o.controlPath,
      "--stats-interval", String(o.statsIntervalS ?? 2),
      ...(filter ? ["-f", filter] : []),
      ...(o.tls ? ["--tls"] : []),
      ...(o.extraArgs ?? []),
    ];
    const started = Date.now();
    const [cmd, ...pre] = o.wrap?.length ? [...o.wrap, o.path] : [o.path];
    const child = spawn(cmd, [...pre, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    this.current = { kernel_dropped: 0, kernel_received: 0 };
    let streaming = false;
    let stderrTail = "";
    child.stderr!.setEncoding("utf8").on("data", (d: string) => {
      stderrTail += d;
      let nl;
      while ((nl = stderrTail.indexOf("\n")) >= 0) {
        this.onStderrLine(stderrTail.slice(0, nl));
        stderrTail = stderrTail.slice(nl + 1);
      }
    });
    const onFirstBytes = () => {
      if (streaming) return;
      streaming = true;
      this.streamingNow = true;
      this.state = "running";
      onStreaming?.();
      // A filter asked for while this run was starting (its control socket was not up yet).
      if (this.desired !== null && this.desired !== this.runFilter) {
        this.setFilter(this.desired).catch((err: Error) => o.log?.(err.message));
      }
    };
    const consumed = o.consume(child.stdout!, onFirstBytes).catch((err: Error) => {
      this.lastError = `reading the capture stream: ${err.message}`;
      o.log?.(this.lastError);
      child.kill("SIGKILL");
    });
    this.exited = new Promise((resolve) => {
      child.on("error", (err) => {
        this.lastError = err.message;
      });
      child.on("close", (code, signal) => {
        void consumed.then(() => {
          this.child = null;
          this.streamingNow = false;
          this.past.kernel_dropped += this.current.kernel_dropped;
          this.past.kernel_received += this.current.kernel_received;
          this.current = { kernel_dropped: 0, kernel_received: 0 };
          resolve();
          if (this.stopped) return;
          const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
          if (!streaming || code === EXIT_BAD_INPUT) {
            // It never started, or rejected its input: restarting would fail the same way.
            this.state = `failed: ${this.lastError || how}`;
            o.log?.(`capture sidecar ${how}: ${this.lastError}`);
            onFailedStart?.(new SidecarError(`capture sidecar ${how}: ${this.lastError || "no output"}`));
            return;
          }
          const delay = this.backoff.next(started);
          this.restarts++;
          this.state = "restarting";
          const down = (this.downSince = Date.now());
          o.log?.(`capture sidecar ${how}; restarting in ${delay} ms (restart ${this.restarts})`);
          this.timer = setTimeout(() => {
            if (this.stopped) return;
            this.run(() => {
              this.gapMs += Date.now() - down;
              this.downSince = 0;
            });
          }, delay);
        });
      });
    });
  }

  private onStderrLine(line: string): void {
    if (line.startsWith("{")) {
      try {
        const j = JSON.parse(line) as Partial<SidecarCounters> & { type?: string };
        if (j.type === "stats") {
          this.current.kernel_dropped = Number(j.kernel_dropped ?? 0);
          this.current.kernel_received = Number(j.kernel_received ?? 0);
        }
        return;
      } catch {
        // not a counters line after all: keep it as a message
      }
    }
    if (!line.trim()) return;
    if (/error|warning/.test(line)) this.lastError = line.replace(/^tapline-capture: (error: )?/, "");
    this.opts.log?.(`sidecar: ${line}`);
  }

  /** One request/reply on the control socket (native/README.md "Control socket"); rejects when it is down or silent for 5 s. */
  control(cmd: object): Promise<{ ok: boolean; error?: string; [k: string]: unknown }> {
    return new Promise((resolve, reject) => {
      const sock = createConnection(this.opts.controlPath);
      let buf = "";
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new SidecarError("control socket: no reply within 5 s"));
      }, 5000);
      sock.setEncoding("utf8");
      sock.on("connect", () => sock.write(`${JSON.stringify(cmd)}\n`));
      sock.on("data", (d: string) => {
        buf += d;
        const nl = buf.indexOf("\n");
        if (nl < 0) return;
        clearTimeout(timer);
        sock.end();
        try {
          resolve(JSON.parse(buf.slice(0, nl)));
        } catch {
          reject(new SidecarError(`control socket: unreadable reply ${JSON.stringify(buf.slice(0, 200))}`));
        }
      });
      sock.on("error", (err) => {
        clearTimeout(timer);
        reject(new SidecarError(`control socket ${this.opts.controlPath}: ${err.message}`));
      });
    });
  }
}
