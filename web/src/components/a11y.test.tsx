import { act, fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Announcer, announce } from "./Announcer";
import { pageKeysOff } from "@/lib/shortcuts";
import { Dialog, dialogOpen } from "./Dialog";

// jsdom lays nothing out, so every element has no client rects; the dialog skips invisible elements by them.
const realRects = HTMLElement.prototype.getClientRects;
beforeEach(() => {
  HTMLElement.prototype.getClientRects = function () {
    return [new DOMRect(0, 0, 10, 10)] as unknown as DOMRectList;
  };
});
afterEach(() => {
  HTMLElement.prototype.getClientRects = realRects;
});

function WithDialog({ autoFocusMiddle = false }: { autoFocusMiddle?: boolean }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button onClick={() => setOpen(true)}>Open</button>
      <button>Behind</button>
      {open && (
        <Dialog label="Animate" onClose={() => setOpen(false)}>
          <button>First</button>
          <input aria-label="Middle" autoFocus={autoFocusMiddle} />
          <button>Last</button>
        </Dialog>
      )}
    </>
  );
}

describe("Dialog", () => {
  it("takes the focus, keeps Tab inside, closes on Escape and gives the focus back", () => {
    render(<WithDialog />);
    const opener = screen.getByRole("button", { name: "Open" });
    opener.focus();
    fireEvent.click(opener);
    expect(screen.getByRole("dialog", { name: "Animate" })).toBeTruthy();
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "First" }));
    screen.getByRole("button", { name: "Last" }).focus();
    fireEvent.keyDown(document.activeElement!, { key: "Tab" });
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "First" }));
    fireEvent.keyDown(document.activeElement!, { key: "Tab", shiftKey: true });
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Last" }));
    fireEvent.keyDown(document.activeElement!, { key: "Escape" });
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(document.activeElement).toBe(opener);
  });

  it("gives the focus back even when a field inside took it with autoFocus", () => {
    // React focuses an autoFocus child during the commit, before any effect of the dialog runs: the animate
    // dialog's motion prompt did this, and the focus fell to <body> when it closed.
    render(<WithDialog autoFocusMiddle />);
    const opener = screen.getByRole("button", { name: "Open" });
    opener.focus();
    fireEvent.click(opener);
    expect(document.activeElement).toBe(screen.getByRole("textbox", { name: "Middle" }));
    fireEvent.keyDown(document.activeElement!, { key: "Escape" });
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(document.activeElement).toBe(opener);
  });
});

describe("Announcer", () => {
  it("puts each announcement in one polite status region", () => {
    render(<Announcer />);
    const region = screen.getByTestId("announcer");
    expect(region.getAttribute("aria-live")).toBe("polite");
    expect(region.getAttribute("role")).toBe("status");
    act(() => announce("Variant completed in SH010"));
    expect(region.textContent).toBe("Variant completed in SH010");
    // The same sentence again is a new node, so a screen reader reads it again.
    const first = region.firstElementChild;
    act(() => announce("Variant completed in SH010"));
    expect(region.textContent).toBe("Variant completed in SH010");
    expect(region.firstElementChild).not.toBe(first);
  });
});

describe("Dialog over a dialog", () => {
  function Stacked() {
    const [outer, setOuter] = useState(true);
    const [inner, setInner] = useState(true);
    return (
      <>
        {outer && (
          <Dialog label="Pick inputs" onClose={() => setOuter(false)}>
            <button>Use 2 images</button>
          </Dialog>
        )}
        {inner && (
          <Dialog label="Compare" onClose={() => setInner(false)}>
            <button>Pick this one</button>
          </Dialog>
        )}
      </>
    );
  }

  it("one Escape closes only the dialog on top, and dialogOpen() says whether any is open", () => {
    const j = () => new KeyboardEvent("keydown", { key: "j" });
    expect(pageKeysOff(j())).toBe(false);
    render(<Stacked />);
    expect(dialogOpen()).toBe(true);
    expect(pageKeysOff(j())).toBe(true); // the shot view's j/k/f/h/x/c stay quiet behind any dialog
    fireEvent.keyDown(document.activeElement!, { key: "Escape" });
    expect(screen.queryByRole("dialog", { name: "Compare" })).toBeNull();
    expect(screen.getByRole("dialog", { name: "Pick inputs" })).toBeTruthy();
    fireEvent.keyDown(document.body, { key: "Escape" });
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(dialogOpen()).toBe(false);
    expect(pageKeysOff(j())).toBe(false);
  });
});
