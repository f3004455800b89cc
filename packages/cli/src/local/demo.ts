// `tapline demo`: starts the demo system (demo/system.mjs: network namespaces, or loopback
// addresses when it cannot make them) and watches it with `tap --local`, naming its addresses
// through the names file it writes. Stopping stops both; the system removes its namespaces.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { RuntimeFailure } from "../errors.js";
import { NameMap } from "./names.js";
import { startLocalTap, type LocalTap, type LocalTapParams } from "./tap.js";

/** The checkout's demo/ folder, seen from src/local or dist/local. */
export const DEMO_SYSTEM = fileURLToPath(new URL("../../../../demo/system.mjs", import.meta.url));

interface SystemReady {
  mode: "netns" | "loopback";
  netns: string;
  interfaces: string[];
  filter: string;
  names: string;
  why: string;
}

export interface DemoParams extends Omit<LocalTapParams, "interfaces" | "netns" | "filter" | "names"> {
  loopback: boolean;
}

export interface RunningDemo {
  tap: LocalTap;
  mode: string;
  /** Resolves when the system ended by itself (a service crashed). */
  ended: Promise<void>;
  stop(): Promise<void>;
}

function startSystem(loopback: boolean, log: (l: string) => void): Promise<{ child: ChildProcess; ready: SystemReady }> {
  if (!existsSync(DEMO_SYSTEM)) throw new RuntimeFailure(`the demo needs a checkout of Tapline (${DEMO_SYSTEM} is missing)`);
  const child = spawn(process.execPath, [DEMO_SYSTEM, ...(loopback ? ["--loopback"] : [])], { stdio: ["pipe", "pipe", "pipe"] });
  child.stderr!.setEncoding("utf8").on("data", (d: string) => d.split("\n").filter(Boolean).forEach(log));
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGTERM");
      reject(new RuntimeFailure("the demo system did not start within 60 s"));
    }, 60_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new RuntimeFailure(`the demo system exited during setup (${code}); see the lines above`));
    });
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      const nl = out.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(timer);
      child.removeAllListeners("exit");
      resolve({ child, ready: JSON.parse(out.slice(0, nl)) as SystemReady });
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

export async function startDemo(p: DemoParams): Promise<RunningDemo> {
  const { child, ready } = await startSystem(p.loopback, p.log);
  const ended = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let tap: LocalTap;
  try {
    tap = await startLocalTap({
      ...p,
      interfaces: ready.interfaces,
      netns: ready.netns || undefined,
      filter: ready.filter || undefined,
      names: NameMap.load(ready.names),
    });
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  child.stdin!.write("start\n");
  p.log(ready.mode === "netns"
    ? `demo system in network namespaces ${ready.netns.replace(/-shop$/, "-{users,shop}")}, captured inside ${ready.netns} on ${ready.interfaces.join(",")}`
    : `demo system on 127.77.0.x, captured on lo`);
  return {
    tap,
    mode: ready.mode,
    ended,
    async stop() {
      await tap.stop();
      await stopChild(child);
    },
  };
}
