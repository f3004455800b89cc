// Drives a PcapReader from a Node readable stream (a file, stdin, or the sidecar's unix socket).
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { createConnection } from "node:net";
import type { Readable } from "node:stream";
import { PcapReader, type PacketSink, type ReaderStats } from "./reader.js";

/** Reads a whole stream; rejects with CaptureFormatError when it is not a capture, or with the stream's error. */
export async function readCaptureStream(
  stream: Readable,
  onPacket: PacketSink,
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

/**
 * Reads a capture file through two reused 1 MiB buffers: the next read runs (in libuv's thread
 * pool) while the packets of the current one are dissected, and the reader lends packet views and
 * copies only a record split across reads. A file read into fresh stream chunks allocated as many
 * external bytes as the file holds (211 MB for the benchmark's HTTP file), and V8 answers
 * external-memory growth with full mark-compact collections.
 */
export async function readCaptureFile(
  path: string,
  onPacket: PacketSink,
  afterChunk?: () => Promise<void> | void,
): Promise<ReaderStats> {
  const reader = new PcapReader(onPacket);
  const file = await open(path, "r");
  const bufs = [Buffer.allocUnsafe(1024 * 1024), Buffer.allocUnsafe(1024 * 1024)];
  let cur = 0;
  let next = file.read(bufs[0], 0, bufs[0].length, null);
  try {
    for (;;) {
      const { bytesRead } = await next;
      if (bytesRead === 0) break;
      const buf = bufs[cur];
      cur ^= 1;
      // bufs[cur] was last lent to the reader a whole chunk ago: free to fill again
      next = file.read(bufs[cur], 0, bufs[cur].length, null);
      reader.push(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
      const wait = afterChunk?.();
      if (wait) await wait;
      if (reader.done) break;
    }
  } finally {
    await next.catch(() => undefined);
    await file.close();
  }
  return reader.end();
}
