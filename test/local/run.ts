// Runs a serving CLI command (`tapline view FILE`, `tapline demo`) as a real process from the
// checkout and waits for its "Tapline is ready: URL" line.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("../../", import.meta.url));

/** ./tapline builds the workspace when sources changed: once, outside the tests' timeouts. */
export function buildCli(): void {
  spawnSync(`${root}tapline`, ["version"], { timeout: 300_000, stdio: "ignore" });
}

export interface Served {
  child: ChildProcess;
  url: string;
  output(): string;
  /** Sends SIGINT (Ctrl-C) and resolves with the exit code. */
  interrupt(timeoutMs?: number): Promise<number | null>;
}

export async function serve(args: string[], timeoutMs = 60_000): Promise<Served> {
  const child = spawn(process.execPath, [`${root}packages/cli/dist/bin.js`, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (out += d));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`not ready in ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const check = () => {
      const m = /Tapline is ready: (\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]);
      }
    };
    child.stdout!.on("data", check);
    void exited.then((code) => {
      clearTimeout(t);
      reject(new Error(`exited (${code}) before ready:\n${out}`));
    });
  });
  return {
    child,
    url,
    output: () => out,
    async interrupt(ms = 20_000) {
      if (child.exitCode !== null) return child.exitCode;
      child.kill("SIGINT");
      const t = setTimeout(() => child.kill("SIGKILL"), ms);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

export async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}
