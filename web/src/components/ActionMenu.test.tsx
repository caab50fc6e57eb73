// The one "⋯" menu button, as the board uses it: its keyboard (WAI-ARIA menu button), disabled and danger items,
// and the keys it keeps from the page's shortcuts.
import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { ActionMenu, type MenuItem } from "./ActionMenu";

function renderMenu(onPageKey = vi.fn()) {
  const chosen = vi.fn();
  const items: MenuItem[] = [
    { label: "Rename", onSelect: () => chosen("Rename") },
    { label: "Move earlier", onSelect: () => chosen("Move earlier"), disabled: true },
    { label: "Move later", onSelect: () => chosen("Move later") },
    { label: "Delete", onSelect: () => chosen("Delete"), danger: true, testId: "delete-shot" },
  ];
  render(
    <div onKeyDown={onPageKey}>
      <ActionMenu label="Actions for SH010" items={items} />
      <p>elsewhere</p>
    </div>,
  );
  return { chosen, button: screen.getByRole("button", { name: "Actions for SH010" }) };
}
const item = (name: string) => screen.getByRole("menuitem", { name });
const open = (button: HTMLElement) => {
  fireEvent.click(button);
  return screen.getByRole("menu", { name: "Actions for SH010" });
};

describe("ActionMenu", () => {
  it("opens on its first item; the arrows skip a disabled item and wrap, Home and End jump", () => {
    const { button } = renderMenu();
    expect(button.getAttribute("aria-expanded")).toBe("false");
    open(button);
    expect(button.getAttribute("aria-expanded")).toBe("true");
    expect(document.activeElement).toBe(item("Rename"));
    fireEvent.keyDown(item("Rename"), { key: "ArrowDown" });
    expect(document.activeElement).toBe(item("Move later"));
    fireEvent.keyDown(item("Move later"), { key: "ArrowUp" });
    expect(document.activeElement).toBe(item("Rename"));
    fireEvent.keyDown(item("Rename"), { key: "ArrowUp" });
    expect(document.activeElement).toBe(item("Delete"));
    fireEvent.keyDown(item("Delete"), { key: "Home" });
    expect(document.activeElement).toBe(item("Rename"));
    fireEvent.keyDown(item("Rename"), { key: "End" });
    expect(document.activeElement).toBe(item("Delete"));
  });

  it("shows a disabled item as disabled and a danger item as danger, with its test id", () => {
    const { button } = renderMenu();
    open(button);
    expect((item("Move earlier") as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId("delete-shot")).toBe(item("Delete"));
    expect(item("Delete").className).toBe("danger");
  });

  it("runs the chosen item, closes and gives the focus back to the button", () => {
    const { button, chosen } = renderMenu();
    open(button);
    fireEvent.click(item("Move later"));
    expect(chosen).toHaveBeenCalledWith("Move later");
    expect(screen.queryByRole("menu")).toBeNull();
    expect(document.activeElement).toBe(button);
  });

  it("Escape closes it on its button; Tab and a click elsewhere close it", () => {
    const { button } = renderMenu();
    open(button);
    fireEvent.keyDown(item("Rename"), { key: "Escape" });
    expect(screen.queryByRole("menu")).toBeNull();
    expect(document.activeElement).toBe(button);
    open(button);
    fireEvent.keyDown(item("Rename"), { key: "Tab" });
    expect(screen.queryByRole("menu")).toBeNull();
    open(button);
    fireEvent.mouseDown(screen.getByText("elsewhere"));
    expect(screen.queryByRole("menu")).toBeNull();
  });

  it("keeps single-key presses and its own keys from the page's shortcuts", () => {
    const onPageKey = vi.fn();
    const { button } = renderMenu(onPageKey);
    fireEvent.keyDown(button, { key: "ArrowDown" });
    expect(document.activeElement).toBe(item("Rename"));
    for (const key of ["h", "x", "ArrowDown", "End"]) fireEvent.keyDown(document.activeElement!, { key });
    expect(onPageKey).not.toHaveBeenCalled();
    fireEvent.keyDown(document.activeElement!, { key: "Shift" });
    expect(onPageKey).toHaveBeenCalledTimes(1);
  });
});
