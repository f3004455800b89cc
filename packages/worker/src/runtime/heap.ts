// The V8 heap limit of a worker in a container. Node 20 sizes its heap from the machine's memory,
// not the container's limit: on a 64 GiB node a worker limited to 1 GiB may grow its heap to
// 4 GiB, and V8 collects garbage lazily while far from its limit (a SYN flood past maxFlows left
// ~800 MB of evicted flows uncollected, test/robustness), so the kernel kills the pod first. The
// DaemonSet passes the container's memory limit (downward API, TAPLINE_MEMORY_LIMIT_MIB) and the
// worker restarts itself once with --max-old-space-size at half of it; threads share the flag.
import { getHeapStatistics } from "node:v8";

/** The heap share of the container limit: the rest is buffers, code, the threads' young space. */
export const HEAP_SHARE = 0.5;

/**
 * The --max-old-space-size (MiB) to restart with, or undefined: no limit given, one already set
 * (flag or NODE_OPTIONS), or the current heap limit already fits.
 */
export function heapRelaunchMiB(env: NodeJS.ProcessEnv, execArgv: readonly string[], currentLimitBytes: number): number | undefined {
  const raw = env.TAPLINE_MEMORY_LIMIT_MIB;
  if (!raw || !/^\d+$/.test(raw)) return undefined;
  const limit = Number(raw);
  if (limit < 64) return undefined;
  const set = (s: string) => /--max-old-space-size/.test(s);
  if (execArgv.some(set) || set(env.NODE_OPTIONS ?? "")) return undefined;
  const mib = Math.floor(limit * HEAP_SHARE);
  return currentLimitBytes > mib * 1024 * 1024 * 1.1 ? mib : undefined;
}

/** The heap limit in MiB now, for the start-up log line. */
export function heapLimitMiB(): number {
  return Math.round(getHeapStatistics().heap_size_limit / 2 ** 20);
}
