// Runs the real `tapline` CLI as a process (node packages/cli/dist/bin.js) for e2e tests.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = `${root}/packages/cli/dist/bin.js`;

/** Builds the CLI and the workspace packages its dist imports (not the UI). */
export function buildCli(): void {
  const started = Date.now();
  const r = spawnSync("pnpm", ["--filter", "@tapline/cli...", "run", "build"], { cwd: root, encoding: "utf8", timeout: 300_000 });
  if (r.status === 0) return;
  // tsc emits JavaScript despite type errors; a type error elsewhere in the workspace should
  // not hide what these tests check, but a missing or stale bin.js must fail them.
  const emitted = existsSync(bin) && statSync(bin).mtimeMs >= started - 1000;
  const output = `${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`;
  if (!emitted) throw new Error(`building the CLI failed:\n${output}`);
  process.stderr.write(`warning: the CLI build reported errors, testing the emitted dist:\n${output}\n`);
}

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function tapline(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn("node", [bin, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** A long-running CLI process (tap, view) whose output is watched while it runs. */
export class Running {
  stdout = "";
  stderr = "";
  readonly exited: Promise<number | null>;
  readonly child: ChildProcess;
  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = spawn("node", [bin, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout!.on("data", (d) => (this.stdout += d));
    this.child.stderr!.on("data", (d) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.child.on("close", (code) => resolve(code)));
  }
  async waitFor(re: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(this.stdout + this.stderr);
      if (m) return m;
      if (this.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`did not see ${re} (exit ${this.child.exitCode}):\n${this.stdout}\n${this.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill("SIGINT");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}
