// Starts and stops librdkafka's mock cluster (mock-broker.c), a real-protocol Kafka broker
// for tests and fixture captures. The cluster binds a free loopback port; we read it from
// the "BOOTSTRAP host:port" line the program prints.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const binary = join(here, "build", "mock-broker");

export interface MockBroker {
  host: string;
  port: number;
  /** "host:port", for kafkajs `brokers` or kcat `-b`. */
  bootstrap: string;
  stop(): Promise<void>;
}

/** Compiles mock-broker.c when the binary is missing or older than the source. */
export function buildMockBroker(): string {
  const src = join(here, "mock-broker.c");
  if (!existsSync(binary) || statSync(binary).mtimeMs < statSync(src).mtimeMs) {
    execFileSync("make", ["-s", "-C", here], { stdio: "inherit" });
  }
  return binary;
}

export async function startMockBroker(topic = "orders", partitions = 1, timeoutMs = 10_000): Promise<MockBroker> {
  const child = spawn(buildMockBroker(), [topic, String(partitions)], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => {
    if (stderr.length < 8192) stderr += d.toString();
  });
  const bootstrap = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => fail(new Error(`mock broker did not start in ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    const fail = (e: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(e);
    };
    child.once("exit", (code) => fail(new Error(`mock broker exited (${code}): ${stderr}`)));
    child.once("error", fail);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /BOOTSTRAP (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.removeAllListeners("exit");
        resolve(m[1]!.split(",")[0]!);
      }
    });
  });
  const colon = bootstrap.lastIndexOf(":");
  return {
    host: bootstrap.slice(0, colon),
    port: Number(bootstrap.slice(colon + 1)),
    bootstrap,
    stop: () => stopChild(child),
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 3000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
