import { act, fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { usePrefs } from "@/stores/prefs";
import type { Asset } from "@/api/client";
import { asset, withClient } from "@/test/render";
import { AssetCard, type AssetActions, type AssetMarks } from "./AssetCard";
import { formatLeft } from "./Countdown";
import { Lightbox } from "./Lightbox";

function actions(): AssetActions {
  return {
    onOpen: vi.fn(),
    onFavorite: vi.fn(),
    onHeadliner: vi.fn(),
    onAnimate: vi.fn(),
    onReuse: vi.fn(),
    onToggleInput: vi.fn(),
    onRetry: vi.fn(),
    onDelete: vi.fn(),
    onCompare: vi.fn(),
    onFocus: vi.fn(),
  };
}

const plain: AssetMarks = { isHeadliner: false, selected: false, isInput: false };

function openMenu() {
  fireEvent.click(screen.getByRole("button", { name: "More actions" }));
  return screen.getByRole("menu");
}

const menuItems = () => screen.queryAllByRole("menuitem").map((item) => item.getAttribute("aria-label") ?? item.textContent);

describe("AssetCard", () => {
  it("shows a failed asset's error, and its retry in the menu with the estimated cost", () => {
    const acts = actions();
    const { rerender } = render(
      <AssetCard asset={asset({ status: "FAILED", error_message: "Kie.ai rejected the prompt: nsfw", estimated_cost_credits: 28 })} marks={plain} tabbable actions={acts} />,
    );
    expect(screen.getByTestId("error-message").textContent).toContain("Kie.ai rejected the prompt");
    expect(screen.getByTestId("status").textContent).toBe("FAILED");
    openMenu();
    expect(screen.getByTestId("retry-cost").textContent).toBe("Estimated cost: 28 credits");
    fireEvent.click(screen.getByRole("menuitem", { name: "Retry, estimated cost 28 credits" }));
    expect(acts.onRetry).toHaveBeenCalled();
    rerender(<AssetCard asset={asset({ status: "FAILED", estimated_cost_credits: null })} marks={plain} tabbable actions={acts} />);
    openMenu();
    expect(screen.getByRole("menuitem", { name: "Retry" })).toBeTruthy();
    expect(screen.queryByTestId("retry-cost")).toBeNull(); // an asset from before costs were recorded
  });

  it("offers headliner, animate and input only for a completed image, and a countdown unless kept", () => {
    const purgeAt = new Date(Date.now() + 3 * 86_400_000 + 3_600_000 * 2).toISOString();
    const acts = actions();
    const { rerender } = render(<AssetCard asset={asset({ status: "COMPLETED" })} marks={plain} tabbable purgeAt={purgeAt} actions={acts} />);
    expect(screen.queryByTestId("status")).toBeNull(); // no badge for the normal case
    openMenu();
    expect(menuItems()).toEqual(["Make headliner", "Animate", "Reuse prompt and settings", "Use as input", "Select for compare", "Delete"]);
    expect(screen.getByTestId("retention").textContent).toMatch(/purged in 3d/);
    rerender(<AssetCard asset={asset({ status: "COMPLETED", is_favorite: true })} marks={plain} tabbable purgeAt={purgeAt} actions={acts} />);
    expect(screen.queryByTestId("retention")).toBeNull();
    expect(screen.getByTestId("mark-favourite")).toBeTruthy();
    rerender(<AssetCard asset={asset({ status: "RUNNING" })} marks={plain} tabbable actions={acts} />);
    expect(menuItems()).toEqual(["Reuse prompt and settings", "Delete"]);
    expect(screen.getByTestId("progress").textContent).toMatch(/^\d+ s$/);
  });

  it("shows one marker each for headliner, compare and input, and the menu's words follow them", () => {
    render(<AssetCard asset={asset({ status: "COMPLETED" })} marks={{ isHeadliner: true, selected: true, isInput: true }} tabbable actions={actions()} />);
    expect(screen.getAllByText("Headliner")).toHaveLength(1);
    expect(screen.getByTestId("mark-compare")).toBeTruthy();
    expect(screen.getByTestId("mark-input")).toBeTruthy();
    openMenu();
    expect(menuItems()).toContain("Remove from inputs");
    expect(menuItems()).toContain("Remove from compare");
    expect(menuItems()).not.toContain("Make headliner");
  });

  it("estimates a running asset from the model's typical duration", () => {
    render(<AssetCard asset={asset({ status: "RUNNING", created_at: new Date().toISOString() })} marks={plain} tabbable typicalSeconds={40} actions={actions()} />);
    expect(screen.getByTestId("progress").textContent).toMatch(/~40 s/);
    expect(screen.getByRole("progressbar")).toBeTruthy();
  });

  it("keeps the picture's own ratio: requested 16:9 before it loads", () => {
    render(<AssetCard asset={asset({ status: "COMPLETED", file_url: "/f.png", params: { aspect_ratio: "16:9" } })} marks={plain} tabbable actions={actions()} />);
    const media = screen.getByRole("img").parentElement!;
    expect(media.style.aspectRatio).toBe(`${16 / 9} / 1`);
  });

  it("opens on click and Enter; is in the Tab order only when it holds the cursor", () => {
    const acts = actions();
    const { rerender } = render(<AssetCard asset={asset({ status: "COMPLETED" })} marks={plain} tabbable actions={acts} />);
    const card = screen.getByTestId("asset-card");
    expect(card.tabIndex).toBe(0);
    fireEvent.click(card);
    fireEvent.keyDown(card, { key: "Enter" });
    expect(acts.onOpen).toHaveBeenCalledTimes(2);
    rerender(<AssetCard asset={asset({ status: "COMPLETED" })} marks={plain} tabbable={false} actions={acts} />);
    expect(card.tabIndex).toBe(-1);
  });

  it("has a menu button that opens with the arrow key, moves with arrows and gives the focus back on Escape", () => {
    render(<AssetCard asset={asset({ status: "COMPLETED" })} marks={plain} tabbable actions={actions()} />);
    const button = screen.getByRole("button", { name: "More actions" });
    expect(button.getAttribute("aria-haspopup")).toBe("menu");
    fireEvent.keyDown(button, { key: "ArrowDown" });
    const items = screen.getAllByRole("menuitem");
    expect(document.activeElement).toBe(items[0]);
    fireEvent.keyDown(items[0]!, { key: "ArrowDown" });
    expect(document.activeElement).toBe(items[1]);
    fireEvent.keyDown(items[1]!, { key: "ArrowUp" });
    fireEvent.keyDown(items[0]!, { key: "ArrowUp" });
    expect(document.activeElement).toBe(items[items.length - 1]); // wraps
    fireEvent.keyDown(document.activeElement!, { key: "Escape" });
    expect(screen.queryByRole("menu")).toBeNull();
    expect(document.activeElement).toBe(button);
  });

  it("shows a viewer the states without the buttons that change them, and who requested it", () => {
    const viewer: AssetActions = { onOpen: vi.fn(), onCompare: vi.fn(), onFocus: vi.fn() };
    const done = asset({ status: "COMPLETED", is_favorite: true, file_url: "/a.png", ...({ requested_by_name: "Eddie Editor" } as Partial<Asset>) });
    render(<AssetCard asset={done} marks={{ ...plain, isHeadliner: true }} tabbable actions={viewer} />);
    expect(screen.queryByRole("button", { name: /favourite/i })).toBeNull();
    expect(screen.queryByRole("button", { name: "Make headliner" })).toBeNull();
    expect(screen.getByTestId("mark-favourite")).toBeTruthy();
    expect(screen.getByText("Headliner")).toBeTruthy();
    expect(screen.getByRole("img", { name: "Requested by Eddie Editor" }).textContent).toBe("EE");
    openMenu();
    expect(menuItems()).toEqual(["Select for compare", "Download original"]);
  });

  it("formats the time left", () => {
    expect(formatLeft(90 * 60_000)).toBe("purged in 1h 30m");
    expect(formatLeft(-1)).toBe("purge due");
  });
});

describe("Lightbox", () => {
  const shown = asset({ status: "COMPLETED", file_url: "/original.png", thumbnail_url: "/thumb.webp", seed: 42, params: { aspect_ratio: "1:1" } });

  it("shows the original at once, with how it was made and a download of the original", () => {
    // A placeholder id: no lineage request, the dialog needs nothing from the network to show.
    const who = { requested_by_name: "Ana Lima" } as Partial<Asset>;
    withClient(<Lightbox asset={{ ...shown, ...who, id: -1 }} marks={plain} position={{ index: 0, total: 2 }} actions={actions()} onMove={vi.fn()} onOpen={vi.fn()} onClose={vi.fn()} />);
    expect(screen.getByTestId("lightbox-image").getAttribute("src")).toBe("/original.png");
    expect(screen.getByTestId("lightbox-prompt").textContent).toBe("a red fox");
    expect(screen.getByText("42")).toBeTruthy();
    expect(screen.getByText(/^by Ana Lima, /)).toBeTruthy();
    // Through the API, which redirects to the file as an attachment (works with a bucket on another origin).
    expect(screen.getByTestId("download-original").getAttribute("href")).toBe("/api/assets/-1/download/");
  });

  it("moves with the arrows and triages with f/h/x only while shortcuts are on", () => {
    const acts = actions();
    const onMove = vi.fn();
    withClient(<Lightbox asset={{ ...shown, id: -1 }} marks={plain} position={{ index: 0, total: 2 }} actions={acts} onMove={onMove} onOpen={vi.fn()} onClose={vi.fn()} />);
    fireEvent.keyDown(window, { key: "ArrowRight" });
    expect(onMove).toHaveBeenCalledWith(1);
    fireEvent.keyDown(window, { key: "h" });
    fireEvent.keyDown(window, { key: "x" });
    expect(acts.onHeadliner).toHaveBeenCalledTimes(1);
    expect(acts.onCompare).toHaveBeenCalledTimes(1);
    act(() => usePrefs.getState().setShortcuts(false));
    try {
      fireEvent.keyDown(window, { key: "h" });
      expect(acts.onHeadliner).toHaveBeenCalledTimes(1);
    } finally {
      act(() => usePrefs.getState().setShortcuts(true));
    }
  });
});

describe("a menu inside a dialog", () => {
  it("closes on Escape before the dialog does", () => {
    const onClose = vi.fn();
    withClient(<Lightbox asset={{ ...asset({ status: "COMPLETED" }), id: -1 }} marks={plain} position={null} actions={actions()} onMove={vi.fn()} onOpen={vi.fn()} onClose={onClose} />);
    const button = screen.getByRole("button", { name: "More actions" });
    fireEvent.click(button);
    fireEvent.keyDown(screen.getAllByRole("menuitem")[0]!, { key: "Escape" });
    expect(screen.queryByRole("menu")).toBeNull();
    expect(onClose).not.toHaveBeenCalled();
    fireEvent.keyDown(button, { key: "Escape" });
    expect(onClose).toHaveBeenCalledTimes(1);
  });
});
