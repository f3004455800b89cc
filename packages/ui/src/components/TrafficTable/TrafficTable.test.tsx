import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { Entry, Protocol } from "@tapline/protocol";
import { toRow } from "../../model/entryRow.js";
import type { EntryRow } from "../../model/entryRow.js";
import type { RowView } from "../../model/liveBuffer.js";
import { TrafficTable } from "./index.js";

const list = Array.from({ length: 10_000 }, (_, i) =>
  toRow(Entry.fromObject({ id: `e${i}`, protocol: Protocol.REDIS, timestampNs: 1e18, redisRequest: { command: "GET", key: `k${i}` }, redisResponse: { value: { kind: 4, text: "v" } } })),
);

const rows: RowView = { length: list.length, at: (i) => list[i], indexOf: (id) => list.findIndex((r) => r.id === id) };

function Harness() {
  const [sel, setSel] = useState<EntryRow | undefined>();
  return (
    <>
      <TrafficTable rows={rows} selectedId={sel?.id} onSelect={setSel} follow={false} />
      <output data-testid="selected">{sel?.id ?? ""}</output>
    </>
  );
}

// happy-dom does no layout: give elements the size a 600px-high table would have.
beforeAll(() => {
  HTMLElement.prototype.getBoundingClientRect = function () {
    return { x: 0, y: 0, top: 0, left: 0, width: 1200, height: 600, right: 1200, bottom: 600, toJSON: () => ({}) } as DOMRect;
  };
  for (const p of ["offsetHeight", "clientHeight"]) Object.defineProperty(HTMLElement.prototype, p, { configurable: true, get: () => 600 });
  for (const p of ["offsetWidth", "clientWidth"]) Object.defineProperty(HTMLElement.prototype, p, { configurable: true, get: () => 1200 });
});
afterEach(cleanup);

describe("TrafficTable", () => {
  it("puts only the visible rows of a large list in the DOM", () => {
    render(<Harness />);
    const rendered = document.querySelectorAll(".entry-row");
    expect(rendered.length).toBeGreaterThan(5);
    expect(rendered.length).toBeLessThan(100);
    expect(screen.getByRole("grid").getAttribute("aria-rowcount")).toBe("10000");
    expect(screen.getByText("k0")).toBeTruthy();
  });

  it("selects with a click and moves with the arrow keys", () => {
    render(<Harness />);
    fireEvent.click(screen.getByText("k2"));
    expect(screen.getByTestId("selected").textContent).toBe("e2");
    const grid = screen.getByRole("grid");
    fireEvent.keyDown(grid, { key: "ArrowDown" });
    fireEvent.keyDown(grid, { key: "ArrowDown" });
    expect(screen.getByTestId("selected").textContent).toBe("e4");
    fireEvent.keyDown(grid, { key: "Home" });
    expect(screen.getByTestId("selected").textContent).toBe("e0");
  });
});
