// `tapline-worker` flags -> WorkerOptions. Pure (argv and env in), so tests check every error.
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import type { WorkerOptions } from "./worker.js";

export const USAGE = `usage: tapline-worker [--hub ws://HOST:8899/ws/worker] [--token T | --token-file F]
       [-i IFACE]... | --read FILE|-
  --hub URL            hub ingest (env TAPLINE_HUB); without it entries are printed as JSON lines
  --token T            worker token (env TAPLINE_TOKEN), or --token-file FILE
  -i, --interface IF   capture interface, repeatable or comma list (default any)
  --read FILE|-        read a pcap/pcapng file or stdin instead of capturing
  --node NAME          this node (env NODE_NAME; default the host name)
  --worker-id ID       default the node name
  --pcap-limit SIZE    on-disk PCAP ring (default 200Mi; 0 = none)
  --state-dir DIR      ring and control socket (default a temp dir)
  --dissectors LIST    comma list (default all)
  --sample-rate PCT    percent of flows dissected, 1..100 (default 100)
  --threads N          1 = inline; N = N shards: N-1 dissecting threads + this one (default: cores)
  --main-thread MODE   dissect (default) or read: the reading thread only reads, N-1 shards
  --max-flow-bytes SIZE, --max-total-bytes SIZE, --max-flows N   reassembly memory caps
  --queue N            entries held for the hub at most (default 50000)
  --kubeconfig FILE    resolve pods through this cluster; --no-kube to never try
  --filter EXPR        capture filter when no cluster gives a tap target
  --tls                capture TLS plaintext (eBPF, see native/README.md)
  --mesh               also capture the loopback of Envoy/Istio-meshed pods (plaintext app<->proxy hop;
                       needs hostPID and CAP_SYS_ADMIN to enter pod network namespaces)
  --sidecar PATH       tapline-capture binary (env TAPLINE_CAPTURE)
  --stats-interval SEC WorkerStats to the hub every SEC (default 5)
  --output jsonl|none  without --hub: print entries as JSON lines (default) or only count them`;

export class UsageError extends Error {
  override name = "UsageError";
}

const UNITS: Record<string, number> = { "": 1, K: 1024, Ki: 1024, M: 1 << 20, Mi: 1 << 20, G: 1 << 30, Gi: 1 << 30 };

/** "200Mi", "1G", "65536" -> bytes (K/M/G are binary here, as for the sidecar's flags). */
export function parseBytes(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMG]i?|)B?$/i.exec(text.trim());
  const unit = m ? Object.keys(UNITS).find((u) => u.toLowerCase() === m[2].toLowerCase()) : undefined;
  if (!m || unit === undefined) throw new UsageError(`--${flag}: bad size "${text}" (bytes, or e.g. 200Mi, 1G)`);
  return Math.floor(Number(m[1]) * UNITS[unit]);
}

function parseIntFlag(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < min || n > max) throw new UsageError(`--${flag}: expected a whole number ${min}..${max}, got "${text}"`);
  return n;
}

export type ParsedArgs = { help: true } | { help: false; options: WorkerOptions; jsonl: boolean };

export function parseWorkerArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ParsedArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        hub: { type: "string" }, token: { type: "string" }, "token-file": { type: "string" },
        interface: { type: "string", short: "i", multiple: true }, read: { type: "string" },
        node: { type: "string" }, "worker-id": { type: "string" }, "pcap-limit": { type: "string" }, "state-dir": { type: "string" },
        dissectors: { type: "string" }, "sample-rate": { type: "string" }, threads: { type: "string" },
        "max-flow-bytes": { type: "string" }, "max-total-bytes": { type: "string" }, "max-flows": { type: "string" },
        queue: { type: "string" }, kubeconfig: { type: "string" }, "no-kube": { type: "boolean" }, filter: { type: "string" },
        tls: { type: "boolean" }, mesh: { type: "boolean" }, "main-thread": { type: "string" }, output: { type: "string" }, sidecar: { type: "string" }, "stats-interval": { type: "string" }, help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return { help: true };
  const interfaces = (values.interface ?? []).flatMap((i) => i.split(",")).map((i) => i.trim()).filter(Boolean);
  if (values.read !== undefined && interfaces.length) throw new UsageError("--read and --interface exclude each other");
  if (values.output !== undefined && values.output !== "jsonl" && values.output !== "none") throw new UsageError(`--output: expected jsonl or none, got "${values.output}"`);
  const mainThread = values["main-thread"];
  if (mainThread !== undefined && mainThread !== "dissect" && mainThread !== "read") throw new UsageError(`--main-thread: expected dissect or read, got "${mainThread}"`);
  if (values.read === "") throw new UsageError("--read needs a file name or - for stdin");
  if (values["no-kube"] && values.kubeconfig) throw new UsageError("--kubeconfig and --no-kube exclude each other");
  if (values.token && values["token-file"]) throw new UsageError("--token and --token-file exclude each other");
  let token = values.token ?? env.TAPLINE_TOKEN;
  if (values["token-file"]) {
    try {
      token = readFileSync(values["token-file"], "utf8").trim();
    } catch (err) {
      throw new UsageError(`--token-file: cannot read ${values["token-file"]}: ${(err as Error).message}`);
    }
  }
  const hubUrl = values.hub ?? env.TAPLINE_HUB;
  if (hubUrl) {
    let u: URL;
    try {
      u = new URL(hubUrl);
    } catch {
      throw new UsageError(`--hub: not a URL: "${hubUrl}" (e.g. ws://127.0.0.1:8899/ws/worker)`);
    }
    if (u.protocol !== "ws:" && u.protocol !== "wss:") throw new UsageError(`--hub: expected a ws:// or wss:// URL, got "${hubUrl}"`);
    if (!token) throw new UsageError("--hub needs a token: --token, --token-file or TAPLINE_TOKEN");
  }
  const flowLimits: WorkerOptions["flowLimits"] = {};
  if (values["max-flow-bytes"]) flowLimits.maxFlowBytes = parseBytes("max-flow-bytes", values["max-flow-bytes"]);
  if (values["max-total-bytes"]) flowLimits.maxTotalBytes = parseBytes("max-total-bytes", values["max-total-bytes"]);
  if (values["max-flows"]) flowLimits.maxFlows = parseIntFlag("max-flows", values["max-flows"], 1, 10_000_000);
  const options: WorkerOptions = {
    hubUrl,
    token,
    node: values.node ?? env.NODE_NAME,
    workerId: values["worker-id"],
    read: values.read,
    interfaces,
    pcapLimitBytes: values["pcap-limit"] !== undefined ? parseBytes("pcap-limit", values["pcap-limit"]) : undefined,
    stateDir: values["state-dir"],
    dissectors: values.dissectors ? values.dissectors.split(",").map((d) => d.trim()).filter(Boolean) : undefined,
    sampleRate: values["sample-rate"] !== undefined ? parseIntFlag("sample-rate", values["sample-rate"], 1, 100) : undefined,
    threads: values.threads !== undefined ? parseIntFlag("threads", values.threads, 1, 64) : availableParallelism(),
    mainThread,
    flowLimits,
    hub: values.queue ? { maxQueueEntries: parseIntFlag("queue", values.queue, 1, 10_000_000) } : undefined,
    kubeconfig: values["no-kube"] ? false : values.kubeconfig,
    filter: values.filter,
    tls: values.tls,
    mesh: values.mesh,
    sidecarPath: values.sidecar ?? env.TAPLINE_CAPTURE,
    statsIntervalMs: values["stats-interval"] ? parseIntFlag("stats-interval", values["stats-interval"], 1, 3600) * 1000 : undefined,
  };
  if (options.pcapLimitBytes && options.pcapLimitBytes < 64 * 1024) throw new UsageError("--pcap-limit: at least 64Ki (or 0 for no ring)");
  return { help: false, options, jsonl: !hubUrl && values.output !== "none" };
}
