import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import type { TlsTargetStatus, WorkerStatus } from "../../api/client.js";
import { WorkerPanel } from "./index.js";

afterEach(cleanup);

function worker(id: string, tlsTargets: Partial<TlsTargetStatus>[], more: Partial<WorkerStatus> = {}): WorkerStatus {
  return {
    workerId: id, node: id, connected: true, packetsSeen: 10, packetsDropped: 0, flowsActive: 1, entriesSent: 2, captureState: "running",
    tlsTargets: tlsTargets.map((t) => ({ pid: 0, process: "", library: "", state: "hooked", bytes: 0, pod: "", namespace: "", ...t })),
    sidecarRestarts: 0, captureGapMs: 0, threadRestarts: 0, threadFlowsLost: 0, threadPacketsLost: 0, dissectorsEnabled: [], warnings: [],
    ...more,
  };
}

describe("WorkerPanel", () => {
  it("has no TLS section when no worker reports TLS targets", () => {
    render(<WorkerPanel workers={[worker("node-a", [])]} />);
    expect(screen.getByLabelText("workers").textContent).toContain("node-a: 10 pkts");
    expect(screen.queryByText(/TLS:/)).toBeNull();
  });

  it("lists TLS processes, the unreadable ones first (a whole worker before a process), with state, pod and bytes", () => {
    render(
      <WorkerPanel
        workers={[
          worker("node-a", [
            { pid: 41, process: "gotls", library: "/srv/gotls", bytes: 3765, pod: "checkout-7d9f", namespace: "shop" },
            { pid: 42, process: "old-go", library: "/srv/old-go", state: "error: Go before 1.18: its calling convention is not supported" },
          ]),
          worker("node-b", [{ state: "unavailable: permission denied loading BPF programs" }]),
        ]}
      />,
    );
    const summary = screen.getByText(/TLS:/);
    expect(summary.textContent).toBe("TLS: 1 readable, 2 not");
    fireEvent.click(summary);
    const rows = within(screen.getByRole("table", { name: "TLS processes" })).getAllByRole("row").slice(1);
    const cells = rows.map((r) => within(r).getAllByRole("cell").map((c) => c.textContent));
    expect(cells).toEqual([
      ["all processes", "node-b", "", "unavailable: permission denied loading BPF programs", "0 B"],
      ["old-go (42)", "node-a", "old-go", "error: Go before 1.18: its calling convention is not supported", "0 B"],
      ["gotls (41)", "shop/checkout-7d9f", "gotls", "hooked", "3.7 KiB"],
    ]);
    expect(rows[0]!.className).toBe("tls-bad");
    expect(rows[2]!.className).toBe("");
  });

  it("shows restarts, the capture gap and losses in the bar, warnings in view, and every field in the details table", () => {
    render(
      <WorkerPanel
        workers={[
          worker("node-a", [], { sidecarRestarts: 2, captureGapMs: 1500, threadRestarts: 1, threadFlowsLost: 3, threadPacketsLost: 70, dissectorsEnabled: ["http", "redis"], warnings: ["unknown dissector 'smtp'"] }),
          worker("node-b", [], { dissectorsEnabled: ["http"] }),
        ]}
      />,
    );
    const bar = screen.getByLabelText("workers");
    expect(bar.textContent).toContain("node-a: 10 pkts, 0 dropped, 1 flows; capture restarted 2×, capture gap 1.50 s, 1 thread restart, lost 70 packets, 3 flows");
    const nodeB = screen.getByText(/node-b: 10 pkts/);
    expect(nodeB.textContent).toBe("● node-b: 10 pkts, 0 dropped, 1 flows");
    expect(nodeB.className).toBe("worker");
    expect(screen.getByText(/node-a: 10 pkts/).className).toBe("worker dropping");
    const warning = screen.getByRole("status");
    expect(warning.className).toBe("worker-warning");
    expect(warning.textContent).toBe("⚠ node-a: unknown dissector 'smtp'");
    fireEvent.click(screen.getByText("workers"));
    const table = screen.getByRole("table", { name: "worker status" });
    const cells = within(table).getAllByRole("row").map((r) => within(r).getAllByRole(r.parentElement?.tagName === "THEAD" ? "columnheader" : "cell").map((c) => c.textContent));
    expect(cells).toEqual([
      ["worker", "capture", "capture restarts", "capture gap", "thread restarts", "lost packets", "lost flows", "dissectors", "warnings"],
      ["node-a", "running", "2", "1.50 s", "1", "70", "3", "http, redis", "unknown dissector 'smtp'"],
      ["node-b", "running", "0", "none", "0", "0", "0", "http", "none"],
    ]);
  });
});
