import type { WorkerStatus } from "../../api/client.js";
import { formatBytes } from "../../model/format.js";
import { tlsSummary } from "../../model/tlsStatus.js";
import { workerHealth } from "../../model/workerHealth.js";
import "./style.css";

/** Capture health per worker: a user sees at once whether packets are dropped, and whose TLS is readable. */
export function WorkerPanel({ workers }: { workers: WorkerStatus[] }) {
  if (!workers.length) return <div className="workers muted" aria-label="workers">no workers connected</div>;
  const tls = tlsSummary(workers);
  const health = workers.map((w) => ({ w, name: w.node || w.workerId, ...workerHealth(w) }));
  return (
    <div className="workers" aria-label="workers">
      {/* First: the status bar clips at its right edge; the table's toggle and any warning must stay in view. */}
      <details className="worker-details">
        <summary>workers</summary>
        <table aria-label="worker status">
          <thead>
            <tr><th>worker</th>{health[0]!.fields.map(([label]) => <th key={label}>{label}</th>)}<th>warnings</th></tr>
          </thead>
          <tbody>
            {health.map(({ w, name, fields, problems }) => (
              <tr key={w.workerId} className={problems.length || w.warnings.length ? "worker-bad" : ""}>
                <td>{name}</td>
                {fields.map(([label, value]) => <td key={label}>{value}</td>)}
                <td className={w.warnings.length ? "worker-warning-cell" : ""}>{w.warnings.join("; ") || "none"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
      {health.flatMap(({ w, name }) =>
        w.warnings.map((text, i) => (
          <span key={`${w.workerId}/warning/${i}`} className="worker-warning" role="status" title={`${w.workerId}: ${text}`}>
            ⚠ {name}: {text}
          </span>
        )),
      )}
      {health.map(({ w, name, problems }) => (
        <span key={w.workerId} className={`worker${w.connected ? "" : " gone"}${w.packetsDropped || problems.length ? " dropping" : ""}`} title={`${w.workerId} ${w.captureState}`}>
          ● {name}: {w.packetsSeen.toLocaleString()} pkts, {w.packetsDropped.toLocaleString()} dropped, {w.flowsActive} flows
          {problems.length > 0 && `; ${problems.join(", ")}`}
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
