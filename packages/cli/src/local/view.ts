// `tapline view FILE`: a capture file in the UI, read-only. The file is dissected exactly as
// `tapline dissect` does (dissectFile), the entries go through the hub's ingest pipeline (so
// redaction applies), and PCAP export reads the file's packets from a PcapRing loaded once.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EntryInit } from "@tapline/protocol";
import type { PcapSource } from "@tapline/hub";
import type { PcapRing } from "@tapline/worker";
import { UsageError } from "../errors.js";
import { displayUrl, startLocalHub } from "./hub.js";

export interface ViewParams {
  file: string;
  host: string;
  port: number;
  redact: string[];
  defaultRedact: boolean;
  log(line: string): void;
}

export interface RunningView {
  url: string;
  apiUrl: string;
  entries: number;
  packets: number;
  stop(): Promise<void>;
}

/** Entries handed to the hub per transaction. */
const BATCH = 500;

export async function startView(p: ViewParams): Promise<RunningView> {
  const { dissectFile, DissectInputError, PcapRing, readCaptureStream, openCaptureSource } = await import("@tapline/worker");
  let size: number;
  try {
    const st = statSync(p.file);
    if (!st.isFile()) throw new UsageError(`${p.file}: not a file`);
    size = st.size;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${p.file}: cannot read (${(err as Error).message})`);
  }
  const dir = mkdtempSync(join(tmpdir(), "tapline-view-"));
  let ring: PcapRing | undefined;
  let close: (() => Promise<void>) | undefined;
  const stop = async () => {
    await close?.();
    ring?.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // A pcapng record is at most a little larger than its classic pcap one; eight ring files of
    // a quarter of the input each leave room, so nothing of the file is evicted.
    ring = new PcapRing({ dir, limitBytes: Math.max(1 << 20, size * 2 + (1 << 20)) });
    const r = ring;
    const source: PcapSource = {
      read: async (q) => Buffer.concat([...r.export(q.sinceNs, q.untilNs, q.flows)]),
    };
    const { hub } = await startLocalHub({
      host: p.host, port: p.port, storagePath: ":memory:", storageLimitBytes: 4 * 2 ** 30,
      redact: p.redact, defaultRedact: p.defaultRedact, pcapSource: source, log: p.log,
    });
    close = () => hub.close();
    // The hub's one ingest path (decorated by its store plugin): redaction, storage, live stream.
    const { pipeline } = hub.app as unknown as { pipeline: { ingest(workerId: string, inits: EntryInit[]): number } };
    let pending: EntryInit[] = [];
    let entries = 0;
    const flush = () => {
      if (pending.length) entries += pipeline.ingest("file", pending);
      pending = [];
    };
    try {
      await dissectFile(p.file, {
        workerId: "file",
        onEntry: (e) => {
          pending.push(e);
          if (pending.length >= BATCH) flush();
        },
      });
      flush();
      const read = await readCaptureStream(openCaptureSource(p.file), (lt, ts, data, orig) => r.append(lt, ts, data, orig));
      r.flush();
      return { url: displayUrl(p.host, p.port), apiUrl: hub.url, entries, packets: read.packets, stop };
    } catch (err) {
      if (err instanceof DissectInputError) throw new UsageError(err.message);
      throw err;
    }
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
