import { describe, expect, it } from "vitest";
import { allPages } from "./hooks";

function server(rows: number[], pageSize = 200) {
  const offsets: number[] = [];
  const fetchPage = async (offset: number) => {
    offsets.push(offset);
    return { items: rows.slice(offset, offset + pageSize), total: rows.length, limit: pageSize, offset };
  };
  return { offsets, fetchPage };
}

describe("allPages", () => {
  it("reads every page of a 450-shot board, in order", async () => {
    const rows = Array.from({ length: 450 }, (_, i) => i);
    const { offsets, fetchPage } = server(rows);
    const page = await allPages(fetchPage);
    expect(page.items).toEqual(rows);
    expect(page.total).toBe(450);
    expect(offsets).toEqual([0, 200, 400]);
  });

  it("stops after maxPages: a shot view shows its newest variants, more on request", async () => {
    const rows = Array.from({ length: 450 }, (_, i) => i);
    const { offsets, fetchPage } = server(rows);
    const page = await allPages(fetchPage, 2);
    expect(page.items).toEqual(rows.slice(0, 400));
    expect(page.total).toBe(450);
    expect(offsets).toEqual([0, 200]);
  });

  it("stops when rows vanish between pages instead of asking forever", async () => {
    const rows = Array.from({ length: 250 }, (_, i) => i);
    const { offsets, fetchPage } = server(rows);
    const shrinking = async (offset: number) => {
      const page = await fetchPage(offset);
      rows.splice(0, rows.length, ...rows.slice(0, 200)); // 50 shots deleted after the first page
      return page;
    };
    const page = await allPages(shrinking);
    expect(page.items).toHaveLength(200);
    expect(offsets).toEqual([0, 200]);
  });
});
