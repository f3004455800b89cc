// `tapline export pcap|har`: GET /api/pcap?filter=&since= or /api/har?filter= from the
// hub, directly (--hub) or through a short-lived port-forward.
import { unlink } from "node:fs/promises";
import { HUB_PORT } from "../defaults.js";
import { RuntimeFailure } from "../errors.js";
import { findHubPod } from "../tap/run.js";
import { download } from "./hub-api.js";
import { startPortForward, type ForwardCluster } from "./port-forward.js";
import type { V1Pod } from "@kubernetes/client-node";

export interface ExportParams {
  format: "pcap" | "har";
  file: string;
  filter?: string;
  since?: string;
  hub?: string;
}

export interface ExportCluster extends ForwardCluster {
  listPods(namespace: string | undefined, labelSelector?: string): Promise<V1Pod[]>;
}

export function exportPath(p: ExportParams): string {
  const q = new URLSearchParams();
  if (p.filter) q.set("filter", p.filter);
  if (p.since) q.set("since", p.since);
  const qs = q.toString();
  return `/api/${p.format}${qs ? `?${qs}` : ""}`;
}

export async function exportCapture(p: ExportParams, connectCluster: () => ExportCluster, namespace: string): Promise<number> {
  const fetchTo = async (hub: string) => {
    try {
      return await download(hub, exportPath(p), p.file);
    } catch (err) {
      await unlink(p.file).catch(() => undefined);
      throw err;
    }
  };
  if (p.hub) return fetchTo(p.hub);
  const cluster = connectCluster();
  const pod = await findHubPod(cluster, namespace);
  if (!pod) throw new RuntimeFailure(`no ready hub in namespace "${namespace}"; run 'tapline tap' or pass --hub URL`);
  const fwd = await startPortForward({ cluster, namespace, pod: async () => pod, remotePort: HUB_PORT, host: "127.0.0.1", port: 0 });
  try {
    return await fetchTo(fwd.url);
  } finally {
    await fwd.close();
  }
}
