import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseBytes, parseWorkerArgs, UsageError } from "./options.js";

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
  const r = parseWorkerArgs(argv, env);
  if (r.help) throw new Error("unexpected help");
  return r;
};

describe("tapline-worker flags", () => {
  it("maps flags and environment to worker options", () => {
    const dir = mkdtempSync(join(tmpdir(), "tl-opts-"));
    writeFileSync(join(dir, "token"), "s3cret\n");
    const r = parse(
      ["--hub", "ws://hub:8899/ws/worker", "--token-file", join(dir, "token"), "-i", "eth0,veth1", "-i", "lo", "--pcap-limit", "64Mi", "--threads", "2",
        "--sample-rate", "25", "--dissectors", "http, redis", "--max-flow-bytes", "1M", "--max-flows", "5000", "--no-kube", "--queue", "1000"],
      { NODE_NAME: "node-7", TAPLINE_CAPTURE: "/opt/tapline-capture" },
    );
    expect(r.jsonl).toBe(false);
    expect(r.options).toMatchObject({
      hubUrl: "ws://hub:8899/ws/worker", token: "s3cret", node: "node-7", interfaces: ["eth0", "veth1", "lo"], pcapLimitBytes: 64 << 20, threads: 2,
      sampleRate: 25, dissectors: ["http", "redis"], flowLimits: { maxFlowBytes: 1 << 20, maxFlows: 5000 }, kubeconfig: false,
      hub: { maxQueueEntries: 1000 }, sidecarPath: "/opt/tapline-capture",
    });
    expect(parse(["--hub", "wss://h/ws/worker"], { TAPLINE_TOKEN: "t" }).options.token).toBe("t");
    expect(parse(["--read", "-"]).jsonl).toBe(true);
    expect(parse(["--read", "x.pcap", "--output", "none"]).jsonl).toBe(false);
    expect(parseWorkerArgs(["-h"]).help).toBe(true);
  });

  it.each([
    [["--bogus"], /Unknown option '--bogus'/],
    [["--hub", "ws://h/ws/worker"], /needs a token/],
    [["--hub", "http://h", "--token", "t"], /ws:\/\/ or wss:\/\//],
    [["--hub", "not a url", "--token", "t"], /not a URL/],
    [["--read", "x", "-i", "eth0"], /exclude each other/],
    [["--sample-rate", "0"], /--sample-rate: expected a whole number 1..100/],
    [["--sample-rate", "50%"], /--sample-rate/],
    [["--threads", "0"], /--threads/],
    [["--pcap-limit", "lots"], /--pcap-limit: bad size "lots"/],
    [["--pcap-limit", "1K"], /at least 64Ki/],
    [["--kubeconfig", "k", "--no-kube"], /exclude each other/],
    [["--token-file", "/nonexistent/token"], /--token-file: cannot read/],
    [["--output", "xml"], /--output/],
    [["--main-thread", "both"], /--main-thread/],
    [["stray"], /positional/i],
  ])("rejects %j", (argv, message) => {
    expect(() => parseWorkerArgs(argv, {})).toThrow(UsageError);
    expect(() => parseWorkerArgs(argv, {})).toThrow(message);
  });

  it("reads sizes with binary suffixes", () => {
    expect(parseBytes("x", "200Mi")).toBe(200 * 2 ** 20);
    expect(parseBytes("x", "1G")).toBe(2 ** 30);
    expect(parseBytes("x", "65536")).toBe(65536);
    expect(parseBytes("x", "1.5k")).toBe(1536);
    expect(parseBytes("x", "0")).toBe(0);
  });
});
