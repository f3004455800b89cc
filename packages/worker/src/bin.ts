#!/usr/bin/env node
// `tapline-worker`: the worker process of a node (or of a local capture / a file).
// Exit status: 0 done or stopped by a signal; 2 bad flags or unusable input (a missing sidecar
// binary, a file that is not a capture); 1 a runtime failure.
import { entryToJson } from "@tapline/protocol";
import { parseWorkerArgs, startWorker, UsageError, USAGE, WorkerConfigError } from "./runtime/index.js";
import { selectDissectors } from "./dissectors/registry.js";

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseWorkerArgs(process.argv.slice(2));
    if (!parsed.help && parsed.options.dissectors) selectDissectors(parsed.options.dissectors);
  } catch (err) {
    console.error(`tapline-worker: ${(err as Error).message} (see tapline-worker --help)`);
    return 2;
  }
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  const { options, jsonl } = parsed;
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
  const s = await worker.stop();
  log(
    `${s.reader.packets} packets, ${s.entries} entries` +
      (s.hub ? `, ${s.hub.entriesSent} sent to the hub, ${s.hub.entriesDropped} dropped` : "") +
      (s.sampledOut ? `, ${s.sampledOut} packets sampled out` : ""),
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`tapline-worker: internal error: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
