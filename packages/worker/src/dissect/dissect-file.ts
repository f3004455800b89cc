// Offline dissection of a capture file or stream: reader -> Pipeline -> entries.
import type { EntryInit } from "@tapline/protocol";
import { CaptureFormatError, openCaptureSource, readCaptureFile, readCaptureStream, type ReaderStats } from "../capture/index.js";
import { selectDissectors } from "../dissectors/registry.js";
import type { Dissector, DissectLimits } from "../dissectors/types.js";
import { Pipeline, type FlowLimits, type PipelineStats } from "../flows/index.js";

export interface DissectOptions {
  /** Dissector names to use (default: every registered one). */
  dissectors?: readonly string[];
  /** Dissector values to use instead of names (tests). */
  dissectorList?: readonly Dissector[];
  workerId?: string;
  limits?: Partial<DissectLimits>;
  flowLimits?: Partial<FlowLimits>;
  onEntry(entry: EntryInit): void;
  /** Awaited between input chunks when it returns a promise (output backpressure). */
  afterChunk?: () => Promise<void> | void;
}

export interface DissectResult {
  reader: ReaderStats;
  pipeline: PipelineStats;
}

/** The input cannot be dissected at all: not a capture, or not readable. */
export class DissectInputError extends Error {
  override name = "DissectInputError";
}

/**
 * Dissects `path` ("-" = stdin, "unix:/path" = a socket). Resolves with the counters however
 * hostile the packets are; rejects with DissectInputError when the input is not a capture.
 */
export async function dissectFile(path: string, opts: DissectOptions): Promise<DissectResult> {
  const list = opts.dissectorList ?? selectDissectors(opts.dissectors);
  const pipeline = new Pipeline({
    workerId: opts.workerId ?? "local",
    dissectors: list,
    limits: opts.limits,
    flowLimits: opts.flowLimits,
    onEntry: opts.onEntry,
  });
  let reader: ReaderStats;
  try {
    const onPacket = { onRange: (lt: number, ts: number, data: Buffer, start: number, end: number) => pipeline.pushPacketAt(lt, ts, data, start, end) };
    reader =
      path === "-" || path.startsWith("unix:")
        ? await readCaptureStream(openCaptureSource(path), onPacket, opts.afterChunk)
        : await readCaptureFile(path, onPacket, opts.afterChunk);
  } catch (err) {
    if (err instanceof CaptureFormatError) throw new DissectInputError(`${path}: ${err.message}`);
    const code = (err as NodeJS.ErrnoException).code;
    if (code) throw new DissectInputError(`${path}: cannot read (${(err as Error).message})`);
    throw err;
  }
  pipeline.finish();
  return { reader, pipeline: pipeline.getStats() };
}
