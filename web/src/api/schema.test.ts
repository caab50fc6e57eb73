// @vitest-environment node
// The typed client must match the backend: regenerate it with `npm run gen:client` when this fails.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
// @ts-expect-error -- a plain .mjs script without type declarations
import { SCHEMA_FILE, dumpOpenapi, renderClient } from "../../scripts/gen-client.mjs";

describe("generated API client", () => {
  it("is up to date with the backend's OpenAPI schema", async () => {
    const fresh: string = await renderClient(dumpOpenapi());
    const committed = readFileSync(SCHEMA_FILE as string, "utf8");
    expect(committed === fresh, "web/src/api/schema.d.ts is stale: run `npm run gen:client` in web/").toBe(true);
  }, 120_000);
});
