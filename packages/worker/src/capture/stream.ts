// Drives a PcapReader from a Node readable stream (a file, stdin, or the sidecar's unix socket).
import { createReadStream } from "node:fs";
import { createConnection } from "node:net";
import type { Readable } from "node:stream";
import { PcapReader, type PacketHandler, type ReaderStats } from "./reader.js";

/** Reads a whole stream; rejects with CaptureFormatError when it is not a capture, or with the stream's error. */
export async function readCaptureStream(
  stream: Readable,
  onPacket: PacketHandler,
  /** Awaited after each chunk when it returns a promise (lets a slow consumer apply backpressure). */
  afterChunk?: () => Promise<void> | void,
): Promise<ReaderStats> {
  const reader = new PcapReader(onPacket);
  try {
    for await (const chunk of stream) {
      reader.push(chunk as Buffer);
      const wait = afterChunk?.();
      if (wait) await wait;
      // A corrupt record ends reading; stop pulling (and let the source close) instead of draining it.
      if (reader.done) break;
    }
  } finally {
    stream.destroy();
  }
  return reader.end();
}

/** Opens `path` ("-" for stdin, "unix:/path" for a unix socket, else a file). */
export function openCaptureSource(path: string): Readable {
  if (path === "-") return process.stdin;
  if (path.startsWith("unix:")) return createConnection(path.slice(5));
  return createReadStream(path, { highWaterMark: 1024 * 1024 });
}
