#!/usr/bin/env node
// `tapline-worker`: the worker process of a node (or of a local capture / a file).
// Exit status: 0 done or stopped by a signal; 2 bad flags or unusable input (a missing sidecar
// binary, a file that is not a capture); 1 a runtime failure.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { getHeapStatistics } from "node:v8";
import { heapLimitMiB, heapRelaunchMiB } from "./runtime/heap.js";
import { parseWorkerArgs, UsageError, USAGE } from "./runtime/options.js";

/** Runs this same command again under a heap limit (runtime/heap.ts); resolves with its exit code. */
function relaunchWithHeap(mib: number): Promise<number> {
  const child = spawn(process.execPath, [`--max-old-space-size=${mib}`, ...process.execArgv, process.argv[1], ...process.argv.slice(2)], {
    stdio: "inherit",
    env: { ...process.env, TAPLINE_HEAP_LIMITED: `${process.env.TAPLINE_MEMORY_LIMIT_MIB}` },
  });
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => child.kill(sig));
  return new Promise((resolve) => {
    child.on("error", (err) => {
      console.error(`tapline-worker: cannot restart with a heap limit (${err.message}); going on without`);
      resolve(-1);
    });
    child.on("exit", (code, signal) => resolve(code ?? (signal === "SIGINT" || signal === "SIGTERM" ? 0 : 1)));
  });
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseWorkerArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`tapline-worker: ${(err as Error).message} (see tapline-worker --help)`);
    return 2;
  }
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  const { options, jsonl } = parsed;
  // Loaded after the flags are checked: a usage error answers at once.
  const { startWorker, WorkerConfigError } = await import("./runtime/worker.js");
  const { selectDissectors } = await import("./dissectors/registry.js");
  const { entryToJson } = await import("@tapline/protocol");
  try {
    if (options.dissectors) selectDissectors(options.dissectors);
  } catch (err) {
    console.error(`tapline-worker: ${(err as Error).message} (see tapline-worker --help)`);
    return 2;
  }
  const log = (m: string) => console.error(`tapline-worker: ${m}`);
  let worker;
  try {
    worker = await startWorker({
      ...options,
      log,
      onEntry: jsonl ? (e) => process.stdout.write(`${JSON.stringify(entryToJson(e))}\n`) : undefined,
    });
  } catch (err) {
    console.error(`tapline-worker: error: ${(err as Error).message}`);
    return err instanceof WorkerConfigError || err instanceof UsageError ? 2 : 1;
  }
  const stopped = new Promise<void>((resolve) => {
    for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => resolve());
  });
  try {
    await Promise.race([worker.done, stopped]);
  } catch (err) {
    await worker.stop().catch(() => undefined);
    console.error(`tapline-worker: error: ${(err as Error).message}`);
    return err instanceof WorkerConfigError ? 2 : 1;
  }
  const cpu = process.env.TAPLINE_CPU_REPORT ? threadCpu() : "";
  const s = await worker.stop();
  if (cpu) log(`CPU seconds by thread (main first, then the busiest): ${cpu}`);
  log(
    `${s.reader.packets} packets, ${s.entries} entries` +
      (s.hub ? `, ${s.hub.entriesSent} sent to the hub, ${s.hub.entriesDropped} dropped` : "") +
      (s.sampledOut ? `, ${s.sampledOut} packets sampled out` : "") +
      (s.threads.threadRestarts || s.threads.threadsDown
        ? `, dissecting threads restarted ${s.threads.threadRestarts}x (${s.threads.threadFlowsLost} flows and ${s.threads.threadPacketsLost} packets lost)`
        : ""),
  );
  return 0;
}

/** Linux: user+system CPU of this process's threads from /proc (benchmarks: is one thread the bottleneck?). */
function threadCpu(): string {
  try {
    const tick = 100; // USER_HZ
    const rows = readdirSync("/proc/self/task").map((tid) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return { main: Number(tid) === process.pid, cpu: (Number(f[11]) + Number(f[12])) / tick };
    });
    rows.sort((a, b) => Number(b.main) - Number(a.main) || b.cpu - a.cpu);
    return rows.filter((r) => r.cpu >= 0.05).map((r) => r.cpu.toFixed(2)).join(", ");
  } catch {
    return "";
  }
}

async function run(): Promise<number> {
  const mib = heapRelaunchMiB(process.env, process.execArgv, getHeapStatistics().heap_size_limit);
  if (mib !== undefined && !process.env.TAPLINE_HEAP_LIMITED) {
    const code = await relaunchWithHeap(mib);
    if (code >= 0) return code;
  }
  if (process.env.TAPLINE_HEAP_LIMITED) {
    console.error(`tapline-worker: heap limit ${heapLimitMiB()} MiB (container memory limit ${process.env.TAPLINE_HEAP_LIMITED} MiB)`);
  }
  return main();
}

run().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`tapline-worker: internal error: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
