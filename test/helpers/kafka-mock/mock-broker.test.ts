import { it, expect } from "vitest";
import { execFileSync } from "node:child_process";
import { startMockBroker } from "./index.js";
it("librdkafka mock broker starts, answers kcat -L, stops", async () => {
  const b = await startMockBroker("orders", 2);
  try {
    const out = execFileSync("kcat", ["-b", b.bootstrap, "-L"], { encoding: "utf8" });
    expect(out).toContain('topic "orders" with 2 partitions');
  } finally { await b.stop(); }
});
