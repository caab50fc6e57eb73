import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { RoleGate, ViewerNote } from "./RoleGate";

const gate = (role: "owner" | "editor" | "viewer" | undefined) =>
  render(
    <RoleGate role={role} action="generate" otherwise={<ViewerNote studio="Ana's studio">you can look.</ViewerNote>}>
      <button>Generate</button>
    </RoleGate>,
  );

describe("RoleGate", () => {
  it("shows a neutral placeholder, not the viewer's note, while the role is unknown", () => {
    gate(undefined);
    expect(screen.getByRole("status").textContent).toBe("Loading your controls…");
    expect(screen.queryByTestId("read-only")).toBeNull();
    expect(screen.queryByRole("button")).toBeNull();
  });

  it("gives an editor the controls and a viewer the note", () => {
    gate("editor");
    expect(screen.getByRole("button", { name: "Generate" })).toBeTruthy();
    expect(screen.queryByTestId("read-only")).toBeNull();
    gate("viewer");
    expect(screen.getByTestId("read-only").textContent).toBe("You are a viewer in Ana's studio: you can look.");
  });
});
