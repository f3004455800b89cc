// `tapline logs`: one zip with every hub/worker container log, the namespace's events,
// the objects' status and the versions, for bug reports.
import { writeFile } from "node:fs/promises";
import JSZip from "jszip";
import type { CoreV1Event, V1Pod } from "@kubernetes/client-node";
import { PART_OF_SELECTOR } from "../defaults.js";
import { errorMessage } from "../errors.js";
import type { VersionInfo } from "../version.js";

export interface LogsCluster {
  readonly server: string;
  readonly context: string;
  serverVersion(): Promise<string>;
  listPods(namespace: string | undefined, labelSelector?: string): Promise<V1Pod[]>;
  podLog(namespace: string, pod: string, container: string): Promise<string>;
  listEvents(namespace: string): Promise<CoreV1Event[]>;
}

/** Writes the zip; returns the file names inside it. Failures become `errors.txt` lines. */
export async function collectLogs(cluster: LogsCluster, namespace: string, versions: VersionInfo, file: string): Promise<string[]> {
  const zip = new JSZip();
  const errors: string[] = [];
  const pods = await cluster.listPods(namespace, PART_OF_SELECTOR);
  for (const pod of pods) {
    const name = pod.metadata?.name ?? "?";
    for (const c of pod.spec?.containers ?? []) {
      try {
        zip.file(`logs/${name}/${c.name}.log`, await cluster.podLog(namespace, name, c.name));
      } catch (err) {
        errors.push(`${name}/${c.name}: ${errorMessage(err)}`);
      }
    }
    zip.file(`pods/${name}.json`, JSON.stringify({ spec: { nodeName: pod.spec?.nodeName }, status: pod.status }, null, 2));
  }
  try {
    const events = await cluster.listEvents(namespace);
    zip.file(
      "events.txt",
      events
        .map((e) => `${e.lastTimestamp ?? e.eventTime ?? ""} ${e.type} ${e.reason} ${e.involvedObject?.kind}/${e.involvedObject?.name}: ${e.message}`)
        .join("\n") + "\n",
    );
  } catch (err) {
    errors.push(`events: ${errorMessage(err)}`);
  }
  let server = "unknown";
  try {
    server = await cluster.serverVersion();
  } catch (err) {
    errors.push(`server version: ${errorMessage(err)}`);
  }
  const images = [...new Set(pods.flatMap((p) => (p.spec?.containers ?? []).map((c) => c.image)))];
  zip.file("versions.json", JSON.stringify({ ...versions, kubernetes: server, context: cluster.context, apiServer: cluster.server, images }, null, 2));
  if (errors.length) zip.file("errors.txt", errors.join("\n") + "\n");
  await writeFile(file, await zip.generateAsync({ type: "nodebuffer", compression: "DEFLATE" }));
  return Object.keys(zip.files).filter((f) => !zip.files[f].dir);
}
