// Per-process TLS status for WorkerStats.tls_targets: the capture sidecar answers {"tls":true} on
// its control socket (native/README.md "TLS plaintext", Status) with the processes it hooked,
// their library and the plaintext bytes seen; this polls it every few seconds and names each
// process's pod from its cgroup, so a user learns why a TLS flow is or is not readable.
import { readFile } from "node:fs/promises";
import type { WorkerStatsInit } from "@tapline/protocol";

export type TlsTargetInit = NonNullable<WorkerStatsInit["tlsTargets"]>[number];

/** What the sidecar's control socket answers to {"tls":true}. */
interface TlsReply {
  ok?: boolean;
  error?: string;
  tls?: { enabled?: boolean; reason?: string; targets?: { pid?: number; comm?: string; library?: string; state?: string; bytes?: number }[] };
}

/** The targets of one reply; a sidecar without TLS becomes one pid-0 row saying why. */
export function tlsTargetsFromReply(reply: TlsReply): TlsTargetInit[] {
  const tls = reply.tls;
  if (!reply.ok || !tls) return [{ pid: 0, process: "", library: "", state: `unavailable: ${reply.error ?? "the capture sidecar gave no TLS status"}`, bytes: 0 }];
  if (!tls.enabled) return [{ pid: 0, process: "", library: "", state: `unavailable: ${tls.reason ?? "--tls is off"}`, bytes: 0 }];
  return (tls.targets ?? []).map((t) => ({
    pid: Number(t.pid ?? 0),
    process: String(t.comm ?? ""),
    library: String(t.library ?? ""),
    state: String(t.state ?? ""),
    bytes: Number(t.bytes ?? 0),
  }));
}

// The kubelet names a pod's cgroup after its UID: ".../kubepods/burstable/pod<uid>/<container>"
// with the cgroupfs driver, ".../kubepods-burstable-pod<uid with _ for ->.slice/..." with systemd.
const POD_UID = /pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})/;

/** The pod UID in the text of /proc/PID/cgroup, if the process runs in a pod. */
export function podUidFromCgroup(text: string): string | undefined {
  return POD_UID.exec(text)?.[1]?.replaceAll("_", "-");
}

export interface TlsStatusOptions {
  /** One control-socket exchange (Sidecar.control). */
  control(cmd: object): Promise<TlsReply>;
  /** The pod with this UID, when pods are watched. */
  podByUid?(uid: string): { name: string; namespace: string } | undefined;
  intervalMs?: number;
  /** Where /proc is (tests). */
  procRoot?: string;
}

/** Keeps the latest per-process TLS status; targets() is what the next WorkerStats carries. */
export class TlsStatus {
  private latest: TlsTargetInit[] = [];
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;

  constructor(private readonly opts: TlsStatusOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.poll(), this.opts.intervalMs ?? 3000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  targets(): TlsTargetInit[] {
    return this.latest;
  }

  /** One exchange; a sidecar that is restarting keeps the last answer until the next one. */
  poll(): Promise<void> {
    this.polling ??= (async () => {
      try {
        const reply = await this.opts.control({ tls: true });
        this.latest = await this.withPods(tlsTargetsFromReply(reply));
      } catch {
        // the control socket is down while the sidecar restarts: the next tick asks again
      } finally {
        this.polling = undefined;
      }
    })();
    return this.polling;
  }

  private async withPods(targets: TlsTargetInit[]): Promise<TlsTargetInit[]> {
    const podByUid = this.opts.podByUid;
    if (!podByUid) return targets;
    const root = this.opts.procRoot ?? "/proc";
    await Promise.all(
      targets.map(async (t) => {
        if (!t.pid) return;
        const uid = podUidFromCgroup(await readFile(`${root}/${t.pid}/cgroup`, "utf8").catch(() => ""));
        const pod = uid ? podByUid(uid) : undefined;
        if (pod) Object.assign(t, { pod: pod.name, namespace: pod.namespace });
      }),
    );
    return targets;
  }
}
