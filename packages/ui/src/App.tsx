import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { downloadUrl, fetchEntries, fetchEntry, fetchServiceMap, fetchWorkers, openStream } from "./api/client.js";
import type { WorkerStatus } from "./api/client.js";
import { EntryDetails } from "./components/EntryDetails/index.js";
import { FilterBar } from "./components/FilterBar/index.js";
import { ServiceMap } from "./components/ServiceMap/index.js";
import { TrafficTable } from "./components/TrafficTable/index.js";
import { WorkerPanel } from "./components/WorkerPanel/index.js";
import { LiveBuffer, emptyView } from "./model/liveBuffer.js";
import type { RowView } from "./model/liveBuffer.js";
import type { EntryRow } from "./model/entryRow.js";
import { buildGraph } from "./model/serviceMapGraph.js";
import type { Graph } from "./model/serviceMapGraph.js";
import { addClause, loadHistory, readViewState, rememberFilter, writeViewState } from "./model/urlState.js";
import type { ViewState } from "./model/urlState.js";

const PAGE = 500;

export function App() {
  const [view, setView] = useState<ViewState>(() => readViewState(location.search));
  const [history, setHistory] = useState<string[]>(() => loadHistory());
  const [dark, setDark] = useState(() => localStorage.getItem("tapline.theme") === "dark" || (!localStorage.getItem("tapline.theme") && matchMedia?.("(prefers-color-scheme: dark)").matches));
  const [paused, setPaused] = useState(false);
  const [follow, setFollow] = useState(true);
  const [rows, setRows] = useState<RowView>(emptyView);
  const [selected, setSelected] = useState<EntryRow | undefined>();
  const [older, setOlder] = useState<string | undefined>();
  const [connected, setConnected] = useState(false);
  const [streamError, setStreamError] = useState<string | undefined>();
  const [workers, setWorkers] = useState<WorkerStatus[]>([]);
  const [graph, setGraph] = useState<Graph>({ nodes: [], namespaces: [], edges: [] });
  const buffer = useRef(new LiveBuffer());
  const pausedRef = useRef(paused);
  pausedRef.current = paused;

  // The URL holds the view so it can be shared.
  useEffect(() => {
    window.history.replaceState(null, "", `${location.pathname}${writeViewState(view)}`);
  }, [view]);

  useEffect(() => {
    document.documentElement.dataset.theme = dark ? "dark" : "light";
    localStorage.setItem("tapline.theme", dark ? "dark" : "light");
  }, [dark]);

  // Live entries: seed with the newest page, then stream; batches applied once per frame.
  useEffect(() => {
    const buf = buffer.current;
    buf.clear();
    setRows(emptyView);
    setOlder(undefined);
    setStreamError(undefined);
    const ctrl = new AbortController();
    fetchEntries(view.filter, PAGE, undefined, ctrl.signal).then(
      (page) => {
        buf.appendOlder(page.rows);
        setOlder(page.before);
        setRows(buf.snapshot());
      },
      (e: unknown) => {
        if (!ctrl.signal.aborted) setStreamError(e instanceof Error ? e.message : String(e));
      },
    );
    const stream = openStream(view.filter, {
      onRows: (r) => buf.push(r),
      onGap: (n) => {
        buf.gaps += n;
      },
      onError: (m) => setStreamError(m),
      onState: setConnected,
    });
    let frame = 0;
    const tick = () => {
      if (!pausedRef.current && buf.flush()) setRows(buf.snapshot());
      frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    return () => {
      ctrl.abort();
      stream.close();
      cancelAnimationFrame(frame);
    };
  }, [view.filter]);

  // A shared URL may name an entry that is not in the live window.
  useEffect(() => {
    if (!view.selected || selected?.id === view.selected) return;
    const snap = buffer.current.snapshot();
    const at = snap.indexOf(view.selected);
    const inBuffer = at >= 0 ? snap.at(at) : undefined;
    if (inBuffer) setSelected(inBuffer);
    else void fetchEntry(view.selected).then((r) => r && setSelected(r), () => undefined);
  }, [view.selected, selected, rows]);

  useEffect(() => {
    const load = () => void fetchWorkers().then(setWorkers, () => undefined);
    load();
    const t = setInterval(load, 3000);
    return () => clearInterval(t);
  }, []);

  useEffect(() => {
    if (view.tab !== "map") return;
    const ctrl = new AbortController();
    const load = () => void fetchServiceMap(view.filter, ctrl.signal).then((m) => setGraph(buildGraph(m)), () => undefined);
    load();
    const t = setInterval(load, 5000);
    return () => {
      ctrl.abort();
      clearInterval(t);
    };
  }, [view.tab, view.filter]);

  const applyFilter = useCallback((filter: string) => {
    setHistory((h) => rememberFilter(filter, h));
    setView((v) => ({ ...v, filter, selected: undefined }));
    setSelected(undefined);
  }, []);

  const select = useCallback((r: EntryRow) => {
    setSelected(r);
    setFollow(false);
    setView((v) => ({ ...v, selected: r.id }));
  }, []);

  const loadOlder = async () => {
    if (!older) return;
    const page = await fetchEntries(view.filter, PAGE, older);
    buffer.current.appendOlder(page.rows);
    setOlder(page.before);
    setRows(buffer.current.snapshot());
  };

  const stats = useMemo(() => `${rows.length.toLocaleString()} entries${buffer.current.pendingCount ? `, ${buffer.current.pendingCount} waiting` : ""}${buffer.current.gaps ? `, ${buffer.current.gaps} not delivered (slow connection)` : ""}`, [rows, paused]);

  return (
    <div className="app">
      <header className="topbar">
        <span className="logo">Tapline</span>
        <nav className="tabs" role="tablist">
          <button role="tab" aria-selected={view.tab === "traffic"} onClick={() => setView((v) => ({ ...v, tab: "traffic" }))}>Traffic</button>
          <button role="tab" aria-selected={view.tab === "map"} onClick={() => setView((v) => ({ ...v, tab: "map" }))}>Service Map</button>
        </nav>
        <FilterBar value={view.filter} history={history} onApply={applyFilter} />
        <div className="toolbar">
          <button onClick={() => setPaused((p) => !p)} aria-pressed={paused}>{paused ? "Resume" : "Pause"}</button>
          <button onClick={() => setFollow((f) => !f)} aria-pressed={follow} title="keep the newest entry in view">Follow</button>
          <a href={downloadUrl("pcap", view.filter)} download="tapline.pcapng"><button tabIndex={-1}>PCAP</button></a>
          <a href={downloadUrl("har", view.filter)} download="tapline.har"><button tabIndex={-1}>HAR</button></a>
          <button onClick={() => setDark((d) => !d)} aria-label="toggle theme">{dark ? "☀" : "☾"}</button>
        </div>
      </header>
      <main className="main">
        {view.tab === "traffic" ? (
          <>
            <div className="pane-table">
              <TrafficTable rows={rows} selectedId={selected?.id} onSelect={select} follow={follow && !paused} />
              {older && <div className="more"><button onClick={() => void loadOlder()}>Load older entries</button></div>}
            </div>
            {selected && (
              <div className="pane-details">
                <EntryDetails row={selected} onAddFilter={(c) => applyFilter(addClause(view.filter, c))} onClose={() => { setSelected(undefined); setView((v) => ({ ...v, selected: undefined })); }} />
              </div>
            )}
          </>
        ) : (
          <ServiceMap graph={graph} dark={dark} onEdge={(e) => { applyFilter(e.filter); setView((v) => ({ ...v, tab: "traffic", filter: e.filter })); }} />
        )}
      </main>
      <footer className="statusbar">
        <span className={`stream-state${connected ? "" : " off"}`}>{connected ? "live" : "disconnected"}</span>
        <span>{stats}</span>
        {streamError && <span className="bad">{streamError}</span>}
        <WorkerPanel workers={workers} />
      </footer>
    </div>
  );
}
