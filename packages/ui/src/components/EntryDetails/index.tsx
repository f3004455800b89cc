import type { ReactNode } from "react";
import { RedisKind } from "@tapline/protocol";
import type { BodyInit, HeaderInit, KafkaTopicInit, RedisValueInit } from "@tapline/protocol";
import type { EntryRow } from "../../model/entryRow.js";
import { viewBody } from "../../model/body.js";
import { formatBytes, formatElapsed, formatTime } from "../../model/format.js";
import { quote } from "../../model/serviceMapGraph.js";
import "./style.css";

interface Props {
  row: EntryRow;
  /** Adds a clause to the filter (clicking a value). */
  onAddFilter(clause: string): void;
  onClose(): void;
}

/** Request and response side by side, with timing and transport facts above them. */
export function EntryDetails({ row, onAddFilter, onClose }: Props) {
  const e = row.entry;
  return (
    <section className="details" aria-label="entry details">
      <header className="details-head">
        <span className={`badge proto-${row.protocol}`}>{row.protocol}</span>
        {e.tls && <span className="badge tls" title="plaintext captured from TLS library calls">TLS</span>}
        <strong className="details-title">
          {row.method} {row.target}
        </strong>
        <span className={row.isError ? "bad" : "good"}>{row.status}</span>
        <button className="details-close" aria-label="close details" onClick={onClose}>
          ×
        </button>
      </header>
      <dl className="facts">
        <Fact k="time" v={`${new Date(row.timeMs).toISOString()} (${formatTime(row.timeMs)})`} />
        <Fact k="elapsed" v={formatElapsed(e.elapsedMs) || "–"} />
        <Fact k="source" v={`${row.src}${row.srcNamespace ? ` (${row.srcNamespace})` : ""} ${e.src?.ip ?? ""}:${e.src?.port ?? ""}`} onClick={() => e.src?.pod ? onAddFilter(`src.pod == ${quote(e.src.pod)}`) : onAddFilter(`src.ip == ${quote(e.src?.ip ?? "")}`)} />
        <Fact k="destination" v={`${row.dst}${row.dstNamespace ? ` (${row.dstNamespace})` : ""} ${e.dst?.ip ?? ""}:${e.dst?.port ?? ""}`} onClick={() => e.dst?.pod ? onAddFilter(`dst.pod == ${quote(e.dst.pod)}`) : onAddFilter(`dst.ip == ${quote(e.dst?.ip ?? "")}`)} />
        <Fact k="sizes" v={`request ${formatBytes(e.requestSize)}, response ${formatBytes(e.responseSize)}`} />
        <Fact k="outcome" v={row.entryStatus} />
        {e.node && <Fact k="node" v={e.node} />}
        {e.warnings.length > 0 && <Fact k="warnings" v={e.warnings.join("; ")} />}
      </dl>
      <div className="sides">
        <div className="side">
          <h3>Request</h3>
          <RequestView row={row} onAddFilter={onAddFilter} />
        </div>
        <div className="side">
          <h3>Response</h3>
          <ResponseView row={row} onAddFilter={onAddFilter} />
        </div>
      </div>
    </section>
  );
}

function Fact({ k, v, onClick }: { k: string; v: string; onClick?: () => void }) {
  return (
    <>
      <dt>{k}</dt>
      <dd>{onClick ? <button className="value-link" title="add to filter" onClick={onClick}>{v}</button> : v}</dd>
    </>
  );
}

function Headers({ headers, side, onAddFilter }: { headers: HeaderInit[]; side: "request" | "response"; onAddFilter(c: string): void }) {
  if (!headers.length) return null;
  return (
    <table className="headers">
      <tbody>
        {headers.map((h, i) => (
          <tr key={i}>
            <th>{h.name}</th>
            <td>
              <button className={`value-link${h.value === "[REDACTED]" ? " redacted" : ""}`} title="add to filter" onClick={() => onAddFilter(`${side}.headers[${quote((h.name ?? "").toLowerCase())}] == ${quote(h.value ?? "")}`)}>
                {h.value}
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Body({ body }: { body: BodyInit | null | undefined }) {
  if (!body || (!body.data?.length && !body.size)) return null;
  const view = viewBody(body.data ?? undefined, body.contentType ?? "");
  const note = [
    `${formatBytes(Number(body.size ?? 0))} on the wire`,
    body.decoded && body.contentEncoding ? `decoded from ${body.contentEncoding}` : "",
    body.truncated ? "truncated" : "",
  ].filter(Boolean).join(", ");
  return (
    <div className="body">
      <div className="body-note">body: {note}</div>
      {view.kind === "form" ? (
        <table className="headers">
          <tbody>
            {view.fields.map(([k, v], i) => (
              <tr key={i}>
                <th>{k}</th>
                <td className={v === "[REDACTED]" ? "redacted" : undefined}>{v}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : view.kind === "empty" ? null : (
        <pre className={`body-${view.kind}`}>{highlightRedacted(view.text)}</pre>
      )}
    </div>
  );
}

function highlightRedacted(text: string): ReactNode {
  const parts = text.split("[REDACTED]");
  if (parts.length === 1) return text;
  return parts.flatMap((p, i) => (i === 0 ? [p] : [<mark key={i} className="redacted">[REDACTED]</mark>, p]));
}

function RequestView({ row, onAddFilter }: { row: EntryRow; onAddFilter(c: string): void }) {
  const e = row.entry;
  if (e.httpRequest) {
    const r = e.httpRequest;
    return (
      <>
        <div className="line">
          <button className="value-link" onClick={() => onAddFilter(`request.method == ${quote(r.method ?? "")}`)}>{r.method}</button>{" "}
          <button className="value-link" onClick={() => onAddFilter(`request.path == ${quote(r.path ?? "")}`)}>{r.path}</button> {r.version}
        </div>
        {e.grpc && (e.grpc.service || e.grpc.method) && <div className="line">gRPC {e.grpc.service}/{e.grpc.method}</div>}
        <Headers headers={r.headers ?? []} side="request" onAddFilter={onAddFilter} />
        <Body body={r.body} />
        {e.grpc?.requestMessages?.map((m, i) => <pre key={i} className="body-text">{m.decoded || `${m.length} bytes`}</pre>)}
        {(r.trailers ?? []).length > 0 && <Headers headers={r.trailers ?? []} side="request" onAddFilter={onAddFilter} />}
      </>
    );
  }
  if (e.redisRequest) {
    const r = e.redisRequest;
    return (
      <div className="line redis-cmd">
        <button className="value-link" onClick={() => onAddFilter(`request.command == ${quote(r.command ?? "")}`)}>{r.command}</button>{" "}
        {(r.args ?? []).map((a, i) => (
          <span key={i} className={`arg${a === "[REDACTED]" ? " redacted" : ""}`}>{a} </span>
        ))}
      </div>
    );
  }
  if (e.kafkaRequest) {
    const k = e.kafkaRequest;
    return (
      <>
        <dl className="facts">
          <Fact k="api" v={`${k.apiName} v${k.apiVersion} (key ${k.apiKey})`} />
          <Fact k="correlation id" v={String(k.correlationId)} />
          <Fact k="client id" v={k.clientId ?? ""} />
          {k.groupId && <Fact k="group" v={k.groupId} />}
          {k.summary && <Fact k="summary" v={k.summary} />}
        </dl>
        <KafkaTopics topics={k.topics ?? []} onAddFilter={onAddFilter} />
      </>
    );
  }
  if (e.dnsRequest) {
    return (
      <ul className="plain">
        {(e.dnsRequest.questions ?? []).map((q, i) => <li key={i}>{q.type} {q.name}</li>)}
      </ul>
    );
  }
  return <div className="muted">No request data ({row.entryStatus}).</div>;
}

function ResponseView({ row, onAddFilter }: { row: EntryRow; onAddFilter(c: string): void }) {
  const e = row.entry;
  if (e.httpResponse) {
    const r = e.httpResponse;
    return (
      <>
        <div className="line">
          {r.version}{" "}
          <button className={`value-link${(r.status ?? 0) >= 500 ? " bad" : ""}`} onClick={() => onAddFilter(`response.status == ${r.status}`)}>{r.status}</button> {r.reason}
        </div>
        {e.grpc && e.grpc.status != null && e.grpc.status >= 0 && <div className="line">grpc-status {e.grpc.status} {e.grpc.message}</div>}
        <Headers headers={r.headers ?? []} side="response" onAddFilter={onAddFilter} />
        <Body body={r.body} />
        {e.grpc?.responseMessages?.map((m, i) => <pre key={i} className="body-text">{m.decoded || `${m.length} bytes`}</pre>)}
        {(r.trailers ?? []).length > 0 && <Headers headers={r.trailers ?? []} side="response" onAddFilter={onAddFilter} />}
      </>
    );
  }
  if (e.redisResponse) return <RedisTree value={e.redisResponse.value} />;
  if (e.kafkaResponse) {
    const k = e.kafkaResponse;
    return (
      <>
        <dl className="facts">
          <Fact k="correlation id" v={String(k.correlationId)} />
          {k.errorName && <Fact k="error" v={`${k.errorName} (${k.errorCode})`} />}
          {k.throttleTimeMs ? <Fact k="throttle" v={`${k.throttleTimeMs} ms`} /> : null}
          {k.summary && <Fact k="summary" v={k.summary} />}
        </dl>
        <KafkaTopics topics={k.topics ?? []} onAddFilter={onAddFilter} />
        {(k.brokers ?? []).length > 0 && <ul className="plain">{(k.brokers ?? []).map((b, i) => <li key={i}>broker {b.nodeId} {b.host}:{b.port}</li>)}</ul>}
      </>
    );
  }
  if (e.dnsResponse) {
    const d = e.dnsResponse;
    return (
      <>
        <div className="line">{d.rcode}</div>
        <ul className="plain">{(d.answers ?? []).map((a, i) => <li key={i}>{a.name} {a.type} {a.data} (ttl {a.ttl})</li>)}</ul>
      </>
    );
  }
  return <div className="muted">No response ({row.entryStatus}).</div>;
}

function KafkaTopics({ topics, onAddFilter }: { topics: KafkaTopicInit[]; onAddFilter(c: string): void }) {
  if (!topics.length) return null;
  return (
    <ul className="plain kafka-topics">
      {topics.map((t, i) => (
        <li key={i}>
          topic <button className="value-link" onClick={() => onAddFilter(`request.topic == ${quote(t.name ?? "")}`)}>{t.name}</button>
          {t.errorName && <span className="bad"> {t.errorName}</span>}
          <ul>
            {(t.partitions ?? []).map((p, j) => (
              <li key={j}>
                partition {p.index} {p.errorName && <span className="bad">{p.errorName} </span>}
                {p.recordCount ? `${p.recordCount} records` : ""} {p.offset ? `offset ${p.offset}` : ""}
                {(p.records ?? []).map((r, k) => (
                  <pre key={k} className="body-text">{recordText(r.key)} → {recordText(r.value)}{r.truncated ? " …" : ""}</pre>
                ))}
              </li>
            ))}
          </ul>
        </li>
      ))}
    </ul>
  );
}

function recordText(b: Uint8Array | null | undefined): string {
  if (!b || !b.length) return "∅";
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(b);
  } catch {
    return `${b.length} bytes`;
  }
}

function RedisTree({ value }: { value: RedisValueInit | null | undefined }) {
  if (!value) return null;
  const kind = RedisKind[value.kind ?? 0] ?? "";
  let scalar: string;
  switch (value.kind) {
    case RedisKind.INTEGER: scalar = String(value.integer); break;
    case RedisKind.DOUBLE: scalar = String(value.double); break;
    case RedisKind.BOOLEAN: scalar = String(value.boolean); break;
    case RedisKind.NULL: scalar = "(nil)"; break;
    default: scalar = value.text ?? "";
  }
  const children = value.elements ?? [];
  return (
    <div className="redis-node">
      <span className="redis-kind">{kind.toLowerCase()}</span>{" "}
      {children.length === 0 || value.text ? <span className={kind.includes("ERROR") ? "bad" : undefined}>{scalar}</span> : null}
      {value.truncated && <span className="muted"> (truncated, {String(value.size)})</span>}
      {children.length > 0 && (
        <ol>
          {children.map((c, i) => <li key={i}><RedisTree value={c} /></li>)}
        </ol>
      )}
    </div>
  );
}
