import { describe, expect, it } from "vitest";
import { can, roleLabel, type Action } from "./roles";

describe("can", () => {
  it("lets a viewer read and comment only", () => {
    expect(can("viewer", "view")).toBe(true);
    expect(can("viewer", "comment")).toBe(true);
    for (const action of ["generate", "curate", "deleteAssets", "editShots", "editProjects", "share", "deleteProject"] as Action[]) {
      expect(can("viewer", action), action).toBe(false);
    }
  });

  it("lets an editor make and curate, but not share, delete projects or manage the studio", () => {
    for (const action of ["view", "comment", "generate", "curate", "deleteAssets", "editShots", "editProjects"] as Action[]) {
      expect(can("editor", action), action).toBe(true);
    }
    for (const action of ["share", "deleteProject", "manageMembers", "manageStudio"] as Action[]) {
      expect(can("editor", action), action).toBe(false);
    }
  });

  it("lets an owner do everything", () => {
    for (const action of ["view", "generate", "deleteAssets", "share", "deleteProject", "manageMembers", "manageStudio"] as Action[]) {
      expect(can("owner", action), action).toBe(true);
    }
  });

  it("allows nothing while the role is unknown", () => {
    expect(can(undefined, "view")).toBe(false);
    expect(can(null, "comment")).toBe(false);
  });

  it("names the roles as people read them", () => {
    expect(roleLabel("editor")).toBe("Editor");
  });
});
