// What the hub's plugins decorate the fastify instance with.
import type { Redactor } from "../redact/index.js";
import type { EntryStore } from "../store/index.js";
import type { IngestPipeline } from "../ingest/index.js";
import type { WorkerRegistry } from "../workers/index.js";
import type { LiveStream } from "../stream/index.js";
import type { HubMetrics } from "../metrics/index.js";
import type { FilterCompiler } from "../query/filter.js";
import type { PcapSource } from "../pcap/index.js";

export interface HubInfo {
  version: string;
  startedAt: number;
  compileFilter: FilterCompiler;
  pcapSource: PcapSource | undefined;
}

declare module "fastify" {
  interface FastifyInstance {
    redactor: Redactor;
    store: EntryStore;
    pipeline: IngestPipeline;
    workers: WorkerRegistry;
    live: LiveStream;
    hubMetrics: HubMetrics;
    hubInfo: HubInfo;
  }
}
