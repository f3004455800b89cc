// Shared by the --tls end-to-end tests: the capture binary, waiting, one control-socket exchange,
// and `tapline dissect` of a capture.
import { execFileSync, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { expect } from "vitest";

export const ROOT = resolve(import.meta.dirname, "../..");
export const NATIVE = join(ROOT, "native");
export const BIN = join(NATIVE, "build/tapline-capture");

/** Why this machine cannot run a --tls test (null: it can), checking the given tools too. */
export function tlsSkipReason(tools: string[]): string | null {
  if (process.getuid?.() !== 0) return "not root (loading BPF programs needs CAP_BPF and CAP_PERFMON)";
  if (!existsSync("/sys/kernel/btf/vmlinux")) return "kernel has no BTF at /sys/kernel/btf/vmlinux (CO-RE cannot load)";
  for (const tool of tools) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  return null;
}

export function waitFor(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  return new Promise((res, rej) => {
    const tick = () => {
      if (check()) return res();
      if (Date.now() - start > timeoutMs) return rej(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 25);
    };
    tick();
  });
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((r) => child.once("exit", (code) => r(code)));
}

export function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): string {
  return execFileSync(cmd, args, { encoding: "utf8", timeout: 60_000, stdio: ["ignore", "pipe", "pipe"], env: env ?? process.env });
}

export { control } from "../helpers/sidecarControl.js";

export interface DissectEntry {
  protocol: string;
  tls?: boolean;
  dst?: { ip: string; port: number };
  httpRequest?: { method: string; path: string };
  httpResponse?: { status: number };
}

export function dissect(file: string): DissectEntry[] {
  const r = spawnSync(join(ROOT, "tapline"), ["dissect", file, "--format", "jsonl"], { encoding: "utf8", timeout: 180_000, maxBuffer: 64 << 20 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as DissectEntry);
}
