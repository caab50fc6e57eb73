// Issue 15's walk in real browsers against the real backend: an owner invites an editor from the members page; the
// editor opens the link in a second browser, registers through it and lands in the studio; the editor generates
// and the owner's open board shows it live, the activity panel naming the editor; made a viewer, the same person
// sees no Generate and no Delete; removed, their open board says the project is gone. The new pages pass axe
// (light and dark, 1366 and 390 px).
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, test } from "node:test";
import {
  ARTIFACTS,
  DESKTOP,
  PHONE,
  assertNoHorizontalScroll,
  axeCheck,
  launchBrowser,
  registerInUi,
  sharedHooks,
  startStack,
  watchPageErrors,
} from "./stack.mjs";

const LONG = 240_000;
const STUDIO = "Olga Owner's studio";
const EDITOR = "Eddie Editor";
let stack;
let base;
let browser;
let owner;
let editor;
let boardUrl;
let inviteLink;
const watchers = [];

const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `studio-${name}.png`), fullPage: true });

/** axe on the page as it stands, light and dark at 1366 and 390 px (no sideways scroll at 390), then back to light 1366. */
async function checkEverywhere(page, label) {
  const failures = [];
  for (const scheme of ["light", "dark"]) {
    for (const viewport of [DESKTOP, PHONE]) {
      const name = `${label}-${scheme}-${viewport === PHONE ? "phone" : "desktop"}`;
      await page.emulateMedia({ colorScheme: scheme });
      await page.setViewportSize(viewport);
      await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => setTimeout(ok, 300))));
      await shot(page, name);
      await axeCheck(page, `studio-${name}`).catch((error) => failures.push(error.message));
      if (viewport === PHONE) await assertNoHorizontalScroll(page, name).catch((error) => failures.push(error.message));
    }
  }
  await page.emulateMedia({ colorScheme: "light" });
  await page.setViewportSize(DESKTOP);
  assert.deepEqual(failures, [], failures.join("\n"));
}

before(async () => {
  stack = await startStack({ name: "e2e-studio" });
  base = stack.url;
  browser = await launchBrowser();
  const ownerContext = await browser.newContext({ viewport: DESKTOP });
  await ownerContext.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  owner = await ownerContext.newPage();
  editor = await (await browser.newContext({ viewport: DESKTOP })).newPage();
  watchers.push(watchPageErrors(owner, "owner"), watchPageErrors(editor, "editor"));
}, { timeout: 660_000 });

sharedHooks(watchers, () => ({ browser, stack }));

test("the owner invites an editor, who registers through the link and lands in the studio", { timeout: LONG }, async () => {
  await registerInUi(owner, base, "studio-owner");
  await owner.getByTestId("projects-studio").filter({ hasText: STUDIO }).waitFor();
  await owner.getByLabel("New project name").fill("Harbour film");
  await owner.getByRole("button", { name: "Create project" }).click();
  await owner.getByRole("link", { name: "Harbour film" }).click();
  await owner.waitForURL(/\/project\/\?id=\d+/);
  boardUrl = owner.url();
  await owner.getByLabel("New shot title").fill("Opening: the harbour at dawn");
  await owner.getByRole("button", { name: "Add shot" }).click();
  await owner.getByTestId("box-card").first().waitFor();

  // The members page, from the header's studio.
  await owner.getByTestId("studio-switcher").getByRole("link", { name: "Members" }).click();
  await owner.waitForURL(/\/studio\/\?id=\d+/);
  await owner.getByRole("heading", { name: STUDIO }).waitFor();
  // The only owner cannot demote themselves or leave, and the page says why.
  assert.equal(await owner.getByLabel("Role of Olga Owner").isDisabled(), true);
  assert.equal(await owner.getByRole("button", { name: "Leave studio" }).isDisabled(), true);
  await owner.getByText(/the last owner cannot be made an editor or viewer/).waitFor();

  await owner.getByRole("region", { name: "Invite people" }).getByLabel("Role").selectOption("editor");
  await owner.getByRole("button", { name: "Create invite link" }).click();
  const fresh = owner.getByTestId("new-invite");
  inviteLink = (await fresh.getByTestId("invite-link").textContent()).trim();
  assert.ok(inviteLink.startsWith(`${base}/join/?token=`), inviteLink);
  await fresh.getByRole("button", { name: "Copy link" }).click();
  await fresh.getByRole("button", { name: "Copied" }).waitFor();
  assert.equal(await owner.evaluate(() => navigator.clipboard.readText()), inviteLink);
  await owner.getByTestId("invite").filter({ hasText: "open until" }).waitFor();
  await checkEverywhere(owner, "members");

  // A second browser, logged out: the link says who invites to what; "Create an account" registers and joins.
  await editor.goto(inviteLink);
  const offer = editor.getByTestId("join-offer");
  await offer.waitFor();
  assert.equal(await editor.title(), "Join a studio · AI Asset Manager");
  assert.equal(await editor.locator("main").count(), 1);
  assert.match(await offer.textContent(), /Olga Owner invites you to join Olga Owner's studio as editor\./);
  await editor.getByRole("link", { name: "Log in to join" }).waitFor();
  await checkEverywhere(editor, "join");
  await editor.getByRole("link", { name: "Create an account" }).click();
  await editor.waitForURL(/\/register\/\?studio_invite=/);
  await editor.getByTestId("registration-notice").filter({ hasText: "invites you to join" }).waitFor();
  await editor.getByLabel("Name").fill(EDITOR);
  await editor.getByLabel("Email").fill(`editor-${Date.now()}@example.com`);
  await editor.getByLabel("Password").fill("correct horse battery");
  await editor.getByRole("button", { name: "Register" }).click();
  await editor.waitForURL(/\/projects\/$/);
  await editor.getByTestId("projects-studio").filter({ hasText: STUDIO }).waitFor();
  await editor.getByRole("link", { name: "Harbour film" }).waitFor();
  // Two studios now (their own and the joined one): the header offers a choice, on the joined one.
  assert.match(await editor.getByLabel("Studio").locator("option:checked").textContent(), /Olga Owner's studio \(editor\)/);

  // The link was single use; the owner's list says who used it.
  await editor.goto(inviteLink);
  await editor.getByTestId("join-closed").filter({ hasText: "already been used" }).waitFor();
  await owner.reload();
  await owner.getByTestId("invite").filter({ hasText: `used by ${EDITOR}` }).waitFor();
  assert.equal(await owner.title(), "Studio · AI Asset Manager");
  await owner.getByTestId("member").filter({ hasText: EDITOR }).waitFor();
});

test("the editor generates; the owner's open board shows it live, with the editor's name", { timeout: LONG }, async () => {
  await owner.goto(boardUrl);
  await owner.getByTestId("live-state").and(owner.locator('[data-state="open"]')).waitFor({ timeout: 30_000 });
  await owner.getByRole("button", { name: "Activity" }).click();
  const panel = owner.getByTestId("activity-panel");
  await panel.waitFor();

  await editor.goto(boardUrl);
  await editor.getByTestId("box-card").first().waitFor();
  assert.equal(await editor.getByRole("region", { name: "Share" }).count(), 0, "an editor sees no share panel");
  await editor.getByTestId("box-link").first().click();
  await editor.waitForURL(/\/box\/\?id=\d+/);
  await editor.getByRole("option", { name: "Nano Banana", exact: true }).waitFor({ state: "attached" });
  await editor.getByLabel("Model").selectOption("google/nano-banana");
  await editor.getByLabel("Prompt").fill("A fishing harbour at dawn, mist over the water");
  await editor.getByTestId("generate").click();
  const card = editor.locator('[data-testid="asset-card"][data-status="COMPLETED"]').first();
  await card.waitFor({ timeout: 180_000 });
  await card.getByRole("img", { name: `Requested by ${EDITOR}` }).waitFor();

  // The owner did nothing: the board's shot counts the asset and the panel names the editor, live.
  await owner.getByTestId("box-card").first().getByText(/^1 asset/).waitFor({ timeout: 30_000 });
  const line = panel.getByTestId("activity-item").filter({ hasText: EDITOR }).first();
  await line.waitFor({ timeout: 30_000 });
  assert.match(await line.textContent(), /Eddie Editor generated/);
  // The summary names the editor; the initials beside it are only for the eye.
  assert.equal(await line.getByTestId("initials").textContent(), "EE");
  await checkEverywhere(owner, "board-activity");
});

test("made a viewer, the same person sees no Generate and no Delete", { timeout: LONG }, async () => {
  await owner.getByTestId("studio-switcher").getByRole("link", { name: "Members" }).click();
  await owner.waitForURL(/\/studio\/\?id=\d+/);
  const changed = owner.waitForResponse((r) => /\/members\/\d+\/$/.test(r.url()) && r.request().method() === "PATCH");
  await owner.getByLabel(`Role of ${EDITOR}`).selectOption("viewer");
  await owner.getByRole("button", { name: `Change role of ${EDITOR} to Viewer` }).click();
  assert.equal((await changed).status(), 200);

  await editor.reload();
  await editor.getByTestId("asset-card").first().waitFor();
  await editor.getByTestId("read-only").waitFor();
  assert.equal(await editor.getByRole("region", { name: "Generate" }).count(), 0);
  assert.equal(await editor.getByTestId("generate").count(), 0);
  const card = editor.getByTestId("asset-card").first();
  await card.hover();
  assert.equal(await card.getByRole("button", { name: /favourite/i }).count(), 0);
  await card.getByRole("button", { name: "More actions" }).click();
  await editor.getByRole("menuitem", { name: "Select for compare" }).waitFor();
  assert.equal(await editor.getByRole("menuitem", { name: "Delete" }).count(), 0);
  await editor.keyboard.press("Escape");
  await shot(editor, "viewer-shot");

  await editor.goto(boardUrl);
  await editor.getByTestId("box-card").first().waitFor();
  assert.equal(await editor.getByRole("button", { name: "Add shot" }).count(), 0);
  assert.equal(await editor.getByRole("button", { name: /^Actions for / }).count(), 0);
  await editor.setViewportSize(PHONE);
  await shot(editor, "viewer-board-phone");
  await assertNoHorizontalScroll(editor, "viewer board");
  await editor.setViewportSize(DESKTOP);
});

test("removed from the studio, the member's open board says the project is gone", { timeout: LONG }, async () => {
  // The editor's board (from the test before) is open on the owner's project; the owner is on the members page.
  await editor.getByTestId("box-card").first().waitFor();
  owner.once("dialog", (dialog) => dialog.accept());
  const removed = owner.waitForResponse((r) => /\/members\/\d+\/$/.test(r.url()) && r.request().method() === "DELETE");
  await owner.getByRole("button", { name: `Remove ${EDITOR}` }).click();
  assert.equal((await removed).status(), 204);

  await editor.getByRole("alert").filter({ hasText: /not found/i }).waitFor();
  assert.equal(await editor.getByTestId("box-card").count(), 0);
  assert.equal(await editor.getByTestId("activity-toggle").count(), 0);
  await shot(editor, "removed-board");
});
