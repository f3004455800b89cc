import { useEffect, useRef } from "react";
import { useVirtualizer } from "@tanstack/react-virtual";
import type { EntryRow } from "../../model/entryRow.js";
import type { RowView } from "../../model/liveBuffer.js";
import { formatBytes, formatElapsed, formatTime } from "../../model/format.js";
import "./style.css";

const ROW_HEIGHT = 26;

interface Props {
  rows: RowView;
  selectedId?: string;
  onSelect(row: EntryRow): void;
  /** Keep the newest row in view as entries arrive. */
  follow: boolean;
}

/** The live traffic table: only the visible rows are in the DOM. */
export function TrafficTable({ rows, selectedId, onSelect, follow }: Props) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    getItemKey: (i) => rows.at(i).id,
    initialRect: { width: 1200, height: 600 },
  });

  useEffect(() => {
    if (follow && scrollRef.current) scrollRef.current.scrollTop = 0;
  }, [rows, follow]);

  const selectedIndex = selectedId ? rows.indexOf(selectedId) : -1;
  const onKeyDown = (e: React.KeyboardEvent) => {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp" && e.key !== "Home" && e.key !== "End") return;
    e.preventDefault();
    if (!rows.length) return;
    let i = selectedIndex;
    if (e.key === "ArrowDown") i = Math.min(rows.length - 1, i + 1);
    else if (e.key === "ArrowUp") i = Math.max(0, i - 1);
    else if (e.key === "Home") i = 0;
    else i = rows.length - 1;
    onSelect(rows.at(i));
    virtualizer.scrollToIndex(i, { align: "auto" });
  };

  return (
    <div className="traffic" role="grid" aria-label="traffic" aria-rowcount={rows.length} tabIndex={0} onKeyDown={onKeyDown}>
      <div className="traffic-head row" role="row">
        <span className="c-time">Time</span>
        <span className="c-proto">Protocol</span>
        <span className="c-src">Source</span>
        <span className="c-dst">Destination</span>
        <span className="c-method">Method</span>
        <span className="c-target">Path / key / topic</span>
        <span className="c-status">Status</span>
        <span className="c-elapsed">Elapsed</span>
        <span className="c-size">Size</span>
      </div>
      <div className="traffic-body" ref={scrollRef}>
        {rows.length === 0 && <div className="traffic-empty">No entries yet. Traffic appears here as it is captured.</div>}
        <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
          {virtualizer.getVirtualItems().map((v) => {
            const r = rows.at(v.index);
            return (
              <div
                key={v.key}
                role="row"
                data-entry-id={r.id}
                aria-selected={r.id === selectedId}
                className={`row entry-row${r.id === selectedId ? " selected" : ""}${r.isError ? " error" : ""}`}
                style={{ transform: `translateY(${v.start}px)`, height: ROW_HEIGHT }}
                onClick={() => onSelect(r)}
              >
                <span className="c-time">{formatTime(r.timeMs)}</span>
                <span className="c-proto">
                  <span className={`badge proto-${r.protocol}`}>{r.protocol}</span>
                  {r.tls && <span className="badge tls">tls</span>}
                </span>
                <span className="c-src" title={r.srcNamespace ? `${r.src} (${r.srcNamespace})` : r.src}>
                  {r.src}
                  {r.srcNamespace && <span className="ns"> {r.srcNamespace}</span>}
                </span>
                <span className="c-dst" title={r.dstNamespace ? `${r.dst} (${r.dstNamespace})` : r.dst}>
                  {r.dst}
                  {r.dstNamespace && <span className="ns"> {r.dstNamespace}</span>}
                </span>
                <span className="c-method">{r.method}</span>
                <span className="c-target" title={r.target}>{r.target}</span>
                <span className={`c-status${r.isError ? " bad" : ""}`}>{r.status}</span>
                <span className="c-elapsed">{formatElapsed(r.elapsedMs)}</span>
                <span className="c-size">{r.size ? formatBytes(r.size) : ""}</span>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
