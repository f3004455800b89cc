import type { WorkerStatus } from "../../api/client.js";
import { formatBytes } from "../../model/format.js";
import { tlsSummary } from "../../model/tlsStatus.js";
import "./style.css";

/** Capture health per worker: a user sees at once whether packets are dropped, and whose TLS is readable. */
export function WorkerPanel({ workers }: { workers: WorkerStatus[] }) {
  if (!workers.length) return <div className="workers muted" aria-label="workers">no workers connected</div>;
  const tls = tlsSummary(workers);
  return (
    <div className="workers" aria-label="workers">
      {workers.map((w) => (
        <span key={w.workerId} className={`worker${w.connected ? "" : " gone"}${w.packetsDropped ? " dropping" : ""}`} title={`${w.workerId} ${w.captureState}`}>
          ● {w.node || w.workerId}: {w.packetsSeen.toLocaleString()} pkts, {w.packetsDropped.toLocaleString()} dropped, {w.flowsActive} flows
        </span>
      ))}
      {tls.rows.length > 0 && (
        <details className="tls-status">
          <summary className={tls.unreadable ? "tls-bad" : ""}>
            TLS: {tls.readable} readable{tls.unreadable ? `, ${tls.unreadable} not` : ""}
          </summary>
          <table aria-label="TLS processes">
            <thead>
              <tr><th>process</th><th>where</th><th>library</th><th>state</th><th>plaintext</th></tr>
            </thead>
            <tbody>
              {tls.rows.map((r) => (
                <tr key={r.key} className={r.readable ? "" : "tls-bad"}>
                  <td>{r.pid ? `${r.process} (${r.pid})` : "all processes"}</td>
                  <td>{r.pod ? `${r.namespace}/${r.pod}` : r.node}</td>
                  <td title={r.library}>{r.library.split("/").pop()}</td>
                  <td>{r.state}</td>
                  <td>{formatBytes(r.bytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
    </div>
  );
}
