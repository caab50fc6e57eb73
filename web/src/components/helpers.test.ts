import { describe, expect, it } from "vitest";
import { safeNext } from "./AuthForm";
import { mergeComments, tokenFromPath } from "./ReviewPage";
import { expiryToIso } from "./SharePanel";

describe("login redirect", () => {
  it("follows only same-site paths", () => {
    expect(safeNext("/project/?id=3")).toBe("/project/?id=3");
    expect(safeNext("//evil.example/")).toBe("/projects/");
    expect(safeNext("https://evil.example/")).toBe("/projects/");
    expect(safeNext("/\\evil.example")).toBe("/projects/");
    expect(safeNext(null)).toBe("/projects/");
  });
});

describe("review page", () => {
  it("reads the token from the address, not from the exported placeholder", () => {
    expect(tokenFromPath("/review/3f1c2d0e-1111-4222-8333-444455556666/")).toBe("3f1c2d0e-1111-4222-8333-444455556666");
    expect(tokenFromPath("/review/abc")).toBe("abc");
    expect(tokenFromPath("/review/_/")).toBeNull();
    expect(tokenFromPath("/review/")).toBeNull();
  });

  it("shows a comment once when it comes both from the POST answer and the socket", () => {
    const c = { ref: "c1", box_ref: "b1", asset_ref: null, author_name: "Ann", from_studio: false, text: "hi", created_at: "2026-01-01T00:00:00Z" };
    expect(mergeComments([c], [c, { ...c, ref: "c2" }]).map((x) => x.ref)).toEqual(["c1", "c2"]);
  });
});

describe("share link expiry", () => {
  it("turns the picker's local time into an ISO instant, empty into never", () => {
    expect(expiryToIso("")).toBeNull();
    expect(expiryToIso("2030-01-02T03:04")).toBe(new Date("2030-01-02T03:04").toISOString());
  });
});
