// A small coverage-guided mutation fuzzer for byte-input targets (dissectors, reassembly, the pcap
// reader, the hub's filter parser and redactor).
//
// Why not jazzer.js: @jazzer.js/fuzzer 4.0.0 installs from npm with prebuilt addons, but the
// linux-x64 one needs GLIBC 2.38 (Debian 12 has 2.36) and building it from source fetches
// libFuzzer outside the npm registry. So this is a libFuzzer-shaped loop in TypeScript:
//   pick a corpus input -> stack 1..4 mutations -> run -> keep the input if it reached a feature
//   never seen before.
// Coverage proxy: instead of edge counters, each target reports "features", short strings that
// describe what the code under test did (feed result kinds and their transitions, bad-input
// reasons with digits stripped, dissector counters, the shape of emitted exchanges). Distinct
// (state, result.kind, counter) tuples grow with the branches reached, which is all the loop needs
// to climb towards deeper states.
//
// Findings: an exception out of `run` (a crash or a violated contract), one input taking longer
// than `hangMs` twice in a row (a hang), or the heap passing `heapCapBytes` (unbounded memory).
// Each is written to the corpus directory as `crash-<hash>` so it becomes a regression input.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface FuzzTarget {
  readonly name: string;
  /** Runs one input; adds what it did to `features`. Throws on a finding. Must not keep `input`. */
  run(input: Buffer, features: Set<string>): void;
  /** Tokens the mutator splices in (protocol keywords, delimiters). */
  readonly dictionary?: readonly Buffer[];
  /** Inputs are cut to this length (default 64 KiB). */
  readonly maxLen?: number;
}

export interface Finding {
  kind: "crash" | "hang" | "memory";
  message: string;
  file: string;
}

export interface CampaignOptions {
  seconds: number;
  /** Stop after this many inputs even if time is left. */
  maxInputs?: number;
  /** fuzz/corpus/<target>: seeds and kept inputs are read from and written to it (not written when absent). */
  corpusDir?: string;
  /** Inputs to start from besides the corpus directory's (e.g. streams of the fixture pcaps). */
  seeds?: readonly Buffer[];
  /** Kept inputs written to corpusDir at most (default 0: a CI run leaves the corpus as it was). */
  maxSaved?: number;
  seed?: number;
  hangMs?: number;
  heapCapBytes?: number;
}

export interface CampaignResult {
  target: string;
  inputs: number;
  seconds: number;
  inputsPerSec: number;
  corpus: number;
  saved: number;
  features: number;
  slowestMs: number;
  peakHeapMb: number;
  findings: Finding[];
}

/** xorshift32: deterministic for a given seed, cheap enough for the inner loop. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  below(n: number): number {
    return n <= 1 ? 0 : this.next() % n;
  }
}

const INTERESTING_8 = [0, 1, 0x7f, 0x80, 0xff, 0x0a, 0x0d, 0x20, 0x30, 0x39];
const INTERESTING_32 = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x10000, 0xffff, 0x100, 64, 1 << 20, 2 ** 31 - 1];

/** One to four stacked mutations of `input` (a new buffer; `input` is not changed). */
export function mutate(input: Buffer, rng: Rng, corpus: readonly Buffer[], dict: readonly Buffer[], maxLen: number): Buffer {
  let b = Buffer.from(input);
  const rounds = 1 + rng.below(4);
  for (let r = 0; r < rounds; r++) {
    const len = b.length;
    const at = rng.below(len + 1);
    switch (rng.below(11)) {
      case 0: // flip one bit
        if (len) b[rng.below(len)] ^= 1 << rng.below(8);
        break;
      case 1: // random byte
        if (len) b[rng.below(len)] = rng.below(256);
        break;
      case 2: // interesting byte
        if (len) b[rng.below(len)] = INTERESTING_8[rng.below(INTERESTING_8.length)];
        break;
      case 3: {
        // interesting 16/32-bit value, either byte order (length prefixes, counts)
        if (len < 4) break;
        const v = INTERESTING_32[rng.below(INTERESTING_32.length)];
        const o = rng.below(len - 3);
        if (rng.below(2)) b.writeUInt32BE(v >>> 0, o);
        else b.writeUInt16BE(v & 0xffff, o);
        break;
      }
      case 4: // delete a range
        if (len) b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(len, at + 1 + rng.below(64)))]);
        break;
      case 5: {
        // duplicate a range (repeated headers, pipelined messages)
        if (!len) break;
        const from = rng.below(len);
        const piece = b.subarray(from, from + 1 + rng.below(256));
        b = Buffer.concat([b.subarray(0, at), piece, b.subarray(at)]);
        break;
      }
      case 6: {
        // random bytes inserted
        const n = 1 + rng.below(16);
        const piece = Buffer.allocUnsafe(n);
        for (let i = 0; i < n; i++) piece[i] = rng.below(256);
        b = Buffer.concat([b.subarray(0, at), piece, b.subarray(at)]);
        break;
      }
      case 7:
      case 8: {
        // dictionary token, inserted or overwriting
        if (!dict.length) break;
        const tok = dict[rng.below(dict.length)];
        if (rng.below(2)) b = Buffer.concat([b.subarray(0, at), tok, b.subarray(at)]);
        else if (len >= tok.length) tok.copy(b, rng.below(len - tok.length + 1));
        break;
      }
      case 9: {
        // splice with another corpus input
        const other = corpus[rng.below(corpus.length)];
        if (!other?.length) break;
        const from = rng.below(other.length);
        b = Buffer.concat([b.subarray(0, at), other.subarray(from, from + 1 + rng.below(1024))]);
        break;
      }
      default: // truncate
        if (len) b = b.subarray(0, rng.below(len));
    }
  }
  return b.length > maxLen ? b.subarray(0, maxLen) : b;
}

function hash(b: Buffer): string {
  return createHash("sha1").update(b).digest("hex").slice(0, 16);
}

function loadCorpus(dir: string | undefined): Buffer[] {
  if (!dir || !existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .map((f) => readFileSync(join(dir, f)));
}

/** Runs the saved crash inputs of a corpus directory (regression check); returns the failures. */
export function replayCorpus(target: FuzzTarget, dir: string): { file: string; error: string }[] {
  const out: { file: string; error: string }[] = [];
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir).sort()) {
    try {
      target.run(readFileSync(join(dir, f)), new Set());
    } catch (err) {
      out.push({ file: f, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return out;
}

/** Fuzzes one target for `seconds` (or `maxInputs`); never throws for a finding, it reports it. */
export function runCampaign(target: FuzzTarget, opts: CampaignOptions): CampaignResult {
  const rng = new Rng(opts.seed ?? Date.now());
  const maxLen = target.maxLen ?? 64 * 1024;
  const hangMs = opts.hangMs ?? 100;
  const heapCap = opts.heapCapBytes ?? 1024 * 1024 * 1024;
  const maxSaved = opts.maxSaved ?? 0;
  const dict = target.dictionary ?? [];
  const seen = new Set<string>();
  const findings: Finding[] = [];
  const findingKeys = new Set<string>();
  let saved = 0;
  let slowestMs = 0;
  let peakHeap = 0;

  const save = (input: Buffer, prefix: string): string => {
    if (!opts.corpusDir) return "";
    mkdirSync(opts.corpusDir, { recursive: true });
    const file = join(opts.corpusDir, `${prefix}${hash(input)}`);
    writeFileSync(file, input);
    return file;
  };
  const report = (kind: Finding["kind"], message: string, input: Buffer): void => {
    const key = `${kind}:${message.split("\n")[0].replace(/\d+/g, "N")}`;
    if (findingKeys.has(key)) return;
    findingKeys.add(key);
    findings.push({ kind, message, file: save(input, "crash-") });
  };
  /** Runs one input; returns the features it reached that were new, or -1 on a finding. */
  const once = (input: Buffer): number => {
    const features = new Set<string>();
    const t0 = performance.now();
    try {
      target.run(input, features);
    } catch (err) {
      report("crash", err instanceof Error ? (err.stack ?? err.message) : String(err), input);
      return -1;
    }
    const ms = performance.now() - t0;
    if (ms > slowestMs) slowestMs = ms;
    if (ms > hangMs) {
      // A GC pause or a neighbour's load on a shared machine can stall a run: a hang must repeat,
      // so the fastest of three more runs decides.
      let best = ms;
      for (let k = 0; k < 3 && best > hangMs; k++) {
        const t1 = performance.now();
        try {
          target.run(input, new Set());
        } catch {
          /* reported above if it throws */
        }
        best = Math.min(best, performance.now() - t1);
      }
      if (best > hangMs) {
        report("hang", `${Math.round(best)} ms for one input of ${input.length} bytes (fastest of 4 runs)`, input);
        return -1;
      }
    }
    let fresh = 0;
    for (const f of features) {
      if (!seen.has(f)) {
        seen.add(f);
        fresh++;
      }
    }
    return fresh;
  };

  // The seeds (regenerated from the fixtures each run) plus what earlier runs kept on disk.
  const corpus = [...(opts.seeds ?? []), ...loadCorpus(opts.corpusDir)].map((b) => (b.length > maxLen ? b.subarray(0, maxLen) : b));
  if (!corpus.length) corpus.push(Buffer.alloc(0));
  for (const c of corpus) once(c);

  const start = performance.now();
  const deadline = start + opts.seconds * 1000;
  const maxInputs = opts.maxInputs ?? Number.POSITIVE_INFINITY;
  let inputs = 0;
  while (inputs < maxInputs) {
    // Check the clock and the heap every 256 inputs: cheap enough, fine-grained enough.
    if ((inputs & 255) === 0) {
      if (performance.now() >= deadline) break;
      const heap = process.memoryUsage().heapUsed;
      if (heap > peakHeap) peakHeap = heap;
      if (heap > heapCap) {
        report("memory", `heap ${Math.round(heap / 2 ** 20)} MiB over the ${Math.round(heapCap / 2 ** 20)} MiB cap`, corpus[corpus.length - 1]);
        break;
      }
    }
    // Newer corpus entries are picked more often: they are the frontier.
    const pick = rng.below(2) ? corpus[corpus.length - 1 - rng.below(Math.min(corpus.length, 16))] : corpus[rng.below(corpus.length)];
    const input = mutate(pick, rng, corpus, dict, maxLen);
    inputs++;
    const fresh = once(input);
    if (fresh > 0) {
      corpus.push(input);
      if (saved < maxSaved && input.length <= 32 * 1024) (save(input, ""), saved++);
    }
  }
  const seconds = (performance.now() - start) / 1000;
  return {
    target: target.name,
    inputs,
    seconds: Math.round(seconds * 10) / 10,
    inputsPerSec: Math.round(inputs / Math.max(seconds, 1e-3)),
    corpus: corpus.length,
    saved,
    features: seen.size,
    slowestMs: Math.round(slowestMs * 10) / 10,
    peakHeapMb: Math.round(peakHeap / 2 ** 20),
    findings,
  };
}

/** Merges one target's result into a results file (fuzz/results/<package>.json) and prints it. */
export function recordResult(file: string, r: CampaignResult): void {
  let targets: Record<string, CampaignResult> = {};
  try {
    targets = (JSON.parse(readFileSync(file, "utf8")) as { targets: Record<string, CampaignResult> }).targets ?? {};
  } catch {
    /* first run */
  }
  targets[r.target] = r;
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, targets }, null, 2) + "\n");
  console.log(
    `fuzz ${r.target}: ${r.inputs} inputs in ${r.seconds} s (${r.inputsPerSec}/s), corpus ${r.corpus}, features ${r.features}, ` +
      `slowest ${r.slowestMs} ms, peak heap ${r.peakHeapMb} MiB, findings ${r.findings.length}`,
  );
  for (const f of r.findings) console.log(`  ${f.kind}: ${f.file}\n    ${f.message.split("\n").slice(0, 6).join("\n    ")}`);
}

/**
 * The campaign settings from the environment: FUZZ_SECONDS (time limit per target), FUZZ_INPUTS
 * (stop a target after this many inputs, e.g. 10000000), FUZZ_SAVE, FUZZ_SEED, FUZZ_TARGETS.
 */
export function campaignEnv(): { seconds: number; maxInputs?: number; maxSaved: number; seed?: number; only?: string[] } {
  return {
    seconds: Number(process.env.FUZZ_SECONDS ?? 0),
    maxInputs: Number(process.env.FUZZ_INPUTS ?? 0) || undefined,
    maxSaved: Number(process.env.FUZZ_SAVE ?? 0),
    seed: Number(process.env.FUZZ_SEED ?? 0) || undefined,
    only: process.env.FUZZ_TARGETS?.split(",").filter(Boolean),
  };
}

/**
 * A message reduced to its fixed words for a coverage feature: the first two words before any
 * quoted/parenthesised detail, letters only, so `invalid Content-Length "12x"` and
 * `upgraded to websocket` / `upgraded to h2c` are one path each (hex codes go too: `GOAWAY 0xdc`). (Features must count code paths,
 * not input bytes echoed into messages, or the corpus grows without bound.)
 */
export function shape(text: string): string {
  const cut = text.search(/["'(;:\[]/);
  return (cut >= 0 ? text.slice(0, cut) : text).replace(/0x[0-9a-f]+/gi, "").replace(/[^A-Za-z -]+/g, "").trim().split(/\s+/, 2).join(" ");
}
