// `tapline tap [POD_REGEX]` (SPEC §2): flags → TaplineConfig → src/tap/run.ts.
import type { Command } from "commander";
import { checkValuePattern } from "@tapline/hub/redact-pattern";
import { isDnsLabel, compilePodRegex, parseByteQuantity, parseKeyValues, parseNamespaces, parsePort, parseTolerations } from "../flags.js";
import { UsageError } from "../errors.js";
import { addKubeFlags, collect, connect, io, settings, untilInterrupted, type KubeFlags } from "./common.js";
import { announceTarget, deploy, forwardHub, newToken, renderDryRun } from "../tap/run.js";
import { openBrowser } from "../ops/browser.js";
import type { TaplineConfig } from "../config/schema.js";
import { addLocalFlags, runLocalTap, type LocalFlags } from "./local.js";

interface TapFlags extends KubeFlags, LocalFlags {
  namespaces?: string[];
  allNamespaces?: boolean;
  tls?: boolean;
  mesh?: boolean;
  storageLimit?: string;
  pcapLimit?: string;
  port?: string;
  proxyHost?: string;
  redact?: string[];
  defaultRedact?: boolean;
  imageRegistry?: string;
  imageTag?: string;
  nodeSelector?: string[];
  tolerations?: string[];
  open?: boolean;
  dryRun?: boolean;
  timeout?: string;
}

export function registerTap(program: Command): void {
  const cmd = program
    .command("tap")
    .argument("[POD_REGEX]", "regular expression matched against pod names (default: every pod)")
    .description("deploy Tapline and capture the traffic of the pods whose names match POD_REGEX")
    .option("-n, --namespaces <ns>", "namespaces to tap (repeatable, or a comma list; default: the context's namespace)", collect)
    .option("-A, --all-namespaces", "tap every namespace")
    .option("--tls", "also capture TLS plaintext with eBPF (needs hostPID and BPF capabilities)")
    .option("--mesh", "also capture the plaintext loopback of Envoy/Istio-meshed pods (needs hostPID, SYS_ADMIN and SYS_PTRACE)")
    .option("--storage-limit <size>", "hub storage bound, oldest entries go first (default 500Mi)")
    .option("--pcap-limit <size>", "per-node PCAP ring size for export (default 200Mi)")
    .option("-p, --port <port>", "local port of the UI (default 8899)")
    .option("--proxy-host <host>", "local address the UI listens on (default 127.0.0.1)")
    .option("--redact <key>", "also redact this key or /regex/ (repeatable)", collect)
    .option("--no-default-redact", "do not redact the default sensitive keys (SPEC §3)")
    .option("--image-registry <registry>", "registry of the tapline-hub and tapline-worker images (air-gapped mirrors)")
    .option("--image-tag <tag>", "image tag (default: this CLI's version)")
    .option("--node-selector <k=v>", "run workers only on matching nodes (repeatable)", collect)
    .option("--tolerations <spec>", "worker tolerations: key[=value][:Effect] or '*' (repeatable)", collect)
    .option("--no-open", "do not open the browser")
    .option("--dry-run", "print the manifests as YAML and change nothing")
    .option("--timeout <seconds>", "how long to wait for hub and workers (default 300)");
  addLocalFlags(cmd);
  addKubeFlags(cmd).action(async (regex: string | undefined, flags: TapFlags, command: Command) => {
    const given = (name: string) => command.getOptionValueSource(name) === "cli";
    const config = settings(flags, (c) => applyTapFlags(c, regex, flags, given));
    const compiled = validate(config);
    const timeoutMs = flags.timeout === undefined ? 300_000 : Number(flags.timeout) * 1000;
    if (!(timeoutMs > 0)) throw new UsageError(`invalid --timeout '${flags.timeout}': expected seconds > 0`);
    if (flags.local) return runLocalTap(config, flags);

    if (flags.dryRun) {
      // No cluster needed; the context's namespace is used when a kubeconfig is at hand.
      let ns = "default";
      try {
        ns = connect(config).defaultNamespace;
      } catch {
        /* dry run without a kubeconfig */
      }
      io.out(renderDryRun(config, ns, newToken()));
      return;
    }

    const cluster = connect(config);
    const { hubPod, target } = await deploy(cluster, { config, regex: compiled, dryRun: false, timeoutMs }, io);
    const forward = await forwardHub(cluster, config, hubPod, io);
    await announceTarget(forward.url, target, config.tap.tls, io);
    io.out(`Tapline is ready: ${forward.url}`);
    io.info("Ctrl-C stops the port-forward; Tapline keeps running until `tapline clean`");
    if (config.proxy.open && !(await openBrowser(forward.url))) io.info("no browser opener found; open the URL yourself");
    await untilInterrupted();
    await forward.close();
    io.info("port-forward stopped");
  });
}

function applyTapFlags(c: TaplineConfig, regex: string | undefined, f: TapFlags, given: (n: string) => boolean): void {
  if (regex !== undefined) c.tap.podRegex = regex;
  if (f.namespaces) c.tap.namespaces = parseNamespaces(f.namespaces);
  if (f.allNamespaces) c.allNamespaces = true;
  if (f.tls) c.tap.tls = true;
  if (f.mesh) c.tap.mesh = true;
  if (f.storageLimit !== undefined) c.tap.storageLimit = f.storageLimit;
  if (f.pcapLimit !== undefined) c.tap.pcapLimit = f.pcapLimit;
  if (f.port !== undefined) c.proxy.port = parsePort("--port", f.port);
  if (f.proxyHost !== undefined) c.proxy.host = f.proxyHost;
  if (f.redact) c.tap.redact = [...c.tap.redact, ...f.redact];
  if (given("defaultRedact")) c.tap.defaultRedact = f.defaultRedact !== false;
  if (f.imageRegistry !== undefined) c.image.registry = f.imageRegistry.replace(/\/+$/, "");
  if (f.imageTag !== undefined) c.image.tag = f.imageTag;
  if (f.nodeSelector) c.worker.nodeSelector = parseKeyValues("--node-selector", f.nodeSelector);
  if (f.tolerations) c.worker.tolerations = parseTolerations(f.tolerations);
  if (given("open")) c.proxy.open = f.open !== false;
}

/** Checks the merged settings (flags, file and --set alike) before touching the cluster. */
function validate(c: TaplineConfig): RegExp {
  const regex = compilePodRegex(c.tap.podRegex);
  parseByteQuantity("--storage-limit", c.tap.storageLimit);
  parseByteQuantity("--pcap-limit", c.tap.pcapLimit);
  parseNamespaces(c.tap.namespaces);
  if (!isDnsLabel(c.releaseNamespace)) throw new UsageError(`invalid --release-namespace '${c.releaseNamespace}': expected a DNS-1123 label`);
  if (c.allNamespaces && c.tap.namespaces.length) throw new UsageError("give either -A/--all-namespaces or -n/--namespaces, not both");
  if (!/^[a-zA-Z0-9][-a-zA-Z0-9_.:/]*$/.test(c.image.registry)) throw new UsageError(`invalid --image-registry '${c.image.registry}'`);
  if (!/^[\w][\w.-]{0,127}$/.test(c.image.tag)) throw new UsageError(`invalid --image-tag '${c.image.tag}'`);
  for (const r of c.tap.redact) {
    const m = /^\/(.*)\/$/.exec(r);
    if (m) {
      // the hub's own check: value patterns run in linear time there, so a backreference or
      // lookaround would stop the hub from starting after the deployment
      try {
        checkValuePattern(m[1]);
      } catch (err) {
        throw new UsageError(`invalid --redact '${r}': ${(err as Error).message.replace(/^redact: /, "")}`);
      }
    }
  }
  return regex;
}
