import { useEffect, useRef, useState } from "react";
import { checkFilter } from "../../api/client.js";
import type { FilterError } from "../../api/client.js";
import "./style.css";

export const FILTER_EXAMPLES = [
  "http and response.status >= 500",
  "redis",
  'kafka and request.topic == "orders"',
  "elapsedMs > 100",
  "tls",
];

interface Props {
  value: string;
  history: string[];
  onApply(filter: string): void;
}

/** The filter input: validated by the hub as you type, the error position underlined. */
export function FilterBar({ value, history, onApply }: Props) {
  const [text, setText] = useState(value);
  const [error, setError] = useState<FilterError | undefined>();
  const seq = useRef(0);

  useEffect(() => setText(value), [value]);

  useEffect(() => {
    const mine = ++seq.current;
    const ctrl = new AbortController();
    const t = setTimeout(() => {
      void checkFilter(text, ctrl.signal).then((e) => {
        if (mine === seq.current) setError(e);
      });
    }, 200);
    return () => {
      clearTimeout(t);
      ctrl.abort();
    };
  }, [text]);

  const pos = error?.position;
  const apply = (f: string) => {
    setText(f);
    onApply(f);
  };
  return (
    <div className="filter-bar">
      <form
        className={`filter-form${error ? " invalid" : ""}`}
        onSubmit={(e) => {
          e.preventDefault();
          if (!error) onApply(text);
        }}
      >
        <div className="filter-input-wrap">
          <input
            aria-label="filter"
            className="filter-input"
            list="filter-history"
            placeholder='filter, e.g. http and response.status >= 500 and dst.namespace == "shop"'
            spellCheck={false}
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
          {error && pos !== undefined && (
            <div className="filter-underlay" aria-hidden>
              <span className="filter-ok">{text.slice(0, pos)}</span>
              <span className="filter-bad">{text.slice(pos) || " "}</span>
            </div>
          )}
        </div>
        <datalist id="filter-history">
          {history.map((h) => (
            <option key={h} value={h} />
          ))}
        </datalist>
        <button type="submit" disabled={!!error}>
          Apply
        </button>
        {value && (
          <button type="button" onClick={() => apply("")}>
            Clear
          </button>
        )}
      </form>
      {error ? (
        <div className="filter-error" role="alert">
          {error.message}
        </div>
      ) : (
        <div className="filter-chips">
          {FILTER_EXAMPLES.map((ex) => (
            <button key={ex} type="button" className="chip" onClick={() => apply(ex)}>
              {ex}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
