import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { podUidFromCgroup, TlsStatus, tlsTargetsFromReply } from "./tlsStatus.js";

// A reply of tapline-capture --tls on the 6.18 test kernel (two Go processes, one node).
const REPLY = {
  ok: true,
  tls: {
    enabled: true,
    counters: { calls: 29, events: 29, lost: 0 },
    targets: [
      { pid: 8983, comm: "gotls", library: "/tmp/gotls-b/gotls", state: "hooked", bytes: 3765 },
      { pid: 8770, comm: "node", library: "/usr/bin/node", state: "hooked", bytes: 0 },
      { pid: 9100, comm: "old-go", library: "/srv/old-go", state: "error: Go before 1.18: its calling convention is not supported", bytes: 0 },
    ],
  },
};

describe("tlsTargetsFromReply", () => {
  it("maps the sidecar's targets onto TlsTarget", () => {
    expect(tlsTargetsFromReply(REPLY)).toEqual([
      { pid: 8983, process: "gotls", library: "/tmp/gotls-b/gotls", state: "hooked", bytes: 3765 },
      { pid: 8770, process: "node", library: "/usr/bin/node", state: "hooked", bytes: 0 },
      { pid: 9100, process: "old-go", library: "/srv/old-go", state: "error: Go before 1.18: its calling convention is not supported", bytes: 0 },
    ]);
  });

  it("turns a sidecar without BPF into one row that says why", () => {
    const reason = "permission denied loading BPF programs (needs root, or CAP_BPF and CAP_PERFMON)";
    expect(tlsTargetsFromReply({ ok: true, tls: { enabled: false, reason } })).toEqual([{ pid: 0, process: "", library: "", state: `unavailable: ${reason}`, bytes: 0 }]);
    expect(tlsTargetsFromReply({ ok: false, error: "unknown command" })[0]!.state).toBe("unavailable: unknown command");
  });
});

describe("podUidFromCgroup", () => {
  it("reads the pod UID under both kubelet cgroup drivers", () => {
    expect(podUidFromCgroup("0::/kubepods/burstable/pod3c1a47f2-9c4e-4f55-8d2e-6b0f7a1e2d90/4f2d0a9b8c7e\n")).toBe("3c1a47f2-9c4e-4f55-8d2e-6b0f7a1e2d90");
    expect(
      podUidFromCgroup("0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod3c1a47f2_9c4e_4f55_8d2e_6b0f7a1e2d90.slice/cri-containerd-4f2d.scope\n"),
    ).toBe("3c1a47f2-9c4e-4f55-8d2e-6b0f7a1e2d90");
    expect(podUidFromCgroup("0::/user.slice/user-0.slice/session-3.scope\n")).toBeUndefined();
  });
});

describe("TlsStatus", () => {
  let dir = "";
  afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

  it("polls the control socket and names pods from the processes' cgroups", async () => {
    dir = mkdtempSync(join(tmpdir(), "tl-tlsstatus-"));
    mkdirSync(join(dir, "8983"));
    writeFileSync(join(dir, "8983/cgroup"), "0::/kubepods/besteffort/pod11111111-2222-3333-4444-555555555555/abc\n");
    // 8770 has no /proc entry (gone): it keeps no pod; 9100 runs outside any pod.
    mkdirSync(join(dir, "9100"));
    writeFileSync(join(dir, "9100/cgroup"), "0::/system.slice/old-go.service\n");
    let asked = 0;
    const status = new TlsStatus({
      control: async (cmd) => {
        expect(cmd).toEqual({ tls: true });
        if (asked++ === 1) throw new Error("control socket down");
        return REPLY;
      },
      podByUid: (uid) => (uid === "11111111-2222-3333-4444-555555555555" ? { name: "checkout-7d9f", namespace: "shop" } : undefined),
      procRoot: dir,
    });
    expect(status.targets()).toEqual([]);
    await status.poll();
    const t = status.targets();
    expect(t.find((x) => x.pid === 8983)).toMatchObject({ pod: "checkout-7d9f", namespace: "shop" });
    expect(t.find((x) => x.pid === 8770)!.pod).toBeUndefined();
    expect(t.find((x) => x.pid === 9100)!.pod).toBeUndefined();
    // A failed exchange (sidecar restarting) keeps the last answer.
    await status.poll();
    expect(status.targets()).toBe(t);
  });
});
