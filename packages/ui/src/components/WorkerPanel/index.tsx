import type { WorkerStatus } from "../../api/client.js";
import "./style.css";

/** Capture health per worker: a user sees at once whether packets are dropped. */
export function WorkerPanel({ workers }: { workers: WorkerStatus[] }) {
  if (!workers.length) return <div className="workers muted" aria-label="workers">no workers connected</div>;
  return (
    <div className="workers" aria-label="workers">
      {workers.map((w) => (
        <span key={w.workerId} className={`worker${w.connected ? "" : " gone"}${w.packetsDropped ? " dropping" : ""}`} title={`${w.workerId} ${w.captureState}`}>
          ● {w.node || w.workerId}: {w.packetsSeen.toLocaleString()} pkts, {w.packetsDropped.toLocaleString()} dropped, {w.flowsActive} flows
        </span>
      ))}
    </div>
  );
}
