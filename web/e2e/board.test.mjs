// The board in a real browser against the real backend: paste a shot list, codes that stay, the actions menu,
// a phone's width (board and review page) and both colour themes.
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, test } from "node:test";
import { ARTIFACTS, launchBrowser, registerInUi, startStack, watchPageErrors, sharedHooks } from "./stack.mjs";

const LONG = 240_000;
const DESKTOP = { width: 1366, height: 900 };
const PHONE = { width: 390, height: 844 };
const CLICKABLE = { timeout: 10_000 };
let stack;
let browser;
let owner;
let base;
let reviewUrl;
let ownerEmail;
const watchers = [];

const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
const codes = (page) => page.getByTestId("box-card").evaluateAll((cards) => cards.map((c) => c.dataset.code));
const card = (page, code) => page.locator(`[data-testid="box-card"][data-code="${code}"]`);
/** Opens a shot's "⋯" menu and chooses an action, with the keyboard as a keyboard user would. */
async function choose(page, code, action) {
  await page.getByRole("button", { name: `Actions for ${code}` }).click(CLICKABLE);
  await page.getByRole("menu", { name: `Actions for ${code}` }).getByRole("menuitem", { name: action }).click(CLICKABLE);
}
/** The page is no wider than the screen: nothing scrolls sideways. */
async function assertNoSidewaysScroll(page, where) {
  const { scroll, inner } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
  assert.ok(scroll <= inner, `${where}: the page is ${scroll}px wide on a ${inner}px screen`);
}
const background = (page) => page.evaluate(() => getComputedStyle(document.body.parentElement).backgroundColor);

before(async () => {
  stack = await startStack({ name: "e2e-board" });
  base = stack.url;
  browser = await launchBrowser();
  owner = await (await browser.newContext({ viewport: DESKTOP })).newPage();
  watchers.push(watchPageErrors(owner, "owner"));
}, { timeout: 660_000 });

sharedHooks(watchers, () => ({ browser, stack }));

test("paste a shot list: the preview shows what will be created, Create makes them in order with codes", { timeout: LONG }, async () => {
  ownerEmail = await registerInUi(owner, base);
  await owner.getByLabel("New project name").fill("Harbour film");
  await owner.getByRole("button", { name: "Create project" }).click();
  await owner.getByRole("link", { name: "Harbour film" }).click();
  await owner.waitForURL(/\/project\/\?id=\d+/);
  await owner.getByTestId("empty").waitFor();

  // Cancel creates nothing.
  await owner.getByRole("button", { name: "Paste shots" }).click(CLICKABLE);
  let dialog = owner.getByRole("dialog", { name: "Paste shots" });
  await dialog.getByLabel("Script or shot list").fill("A shot never made");
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await dialog.waitFor({ state: "detached" });

  await owner.getByRole("button", { name: "Paste shots" }).click(CLICKABLE);
  dialog = owner.getByRole("dialog", { name: "Paste shots" });
  await dialog.getByLabel("Script or shot list").fill(
    ["1. Harbour at dawn", "2. INT. WHEELHOUSE - NIGHT", "- Gulls over the mast", "* The keeper waves", "Nets hauled in"].join("\n"),
  );
  await dialog.getByTestId("paste-count").filter({ hasText: "5 shots will be created." }).waitFor();
  assert.equal(await dialog.getByTestId("paste-preview").locator("tbody tr").count(), 5);
  assert.match(await dialog.getByTestId("paste-preview").locator("tbody tr").nth(1).textContent(), /autoINT\. WHEELHOUSE - NIGHT/);
  await shot(owner, "board-paste-preview");
  await dialog.getByRole("button", { name: "Create 5 shots" }).click(CLICKABLE);
  await dialog.waitFor({ state: "detached" });
  await owner.getByTestId("box-card").nth(4).waitFor();
  assert.deepEqual(await codes(owner), ["SH010", "SH020", "SH030", "SH040", "SH050"]);
  assert.match(await card(owner, "SH020").textContent(), /INT\. WHEELHOUSE - NIGHT/);
  assert.match(await card(owner, "SH030").textContent(), /Gulls over the mast/);
});

test("reordering keeps each shot's code; the menu moves, renames and deletes", { timeout: LONG }, async () => {
  await card(owner, "SH020").focus();
  await owner.keyboard.press("Alt+ArrowLeft");
  await owner.waitForFunction(() => document.querySelector('[data-testid="box-card"]')?.dataset.code === "SH020");
  await choose(owner, "SH050", "Move earlier");
  await owner.waitForFunction(() => document.querySelectorAll('[data-testid="box-card"]')[3]?.dataset.code === "SH050");
  await owner.reload();
  await owner.getByTestId("box-card").nth(4).waitFor();
  assert.deepEqual(await codes(owner), ["SH020", "SH010", "SH030", "SH050", "SH040"]);

  // The menu works from the keyboard: Enter opens it on its first item, ↓ moves, Escape closes it on its button.
  const menuButton = owner.getByRole("button", { name: "Actions for SH030" });
  await menuButton.focus();
  await owner.keyboard.press("Enter");
  const menu = owner.getByRole("menu", { name: "Actions for SH030" });
  assert.equal(await menu.getByRole("menuitem", { name: "Rename" }).evaluate((el) => el === document.activeElement), true);
  await shot(owner, "board-desktop-menu");
  await owner.keyboard.press("ArrowDown");
  assert.equal(await menu.getByRole("menuitem", { name: "Move earlier" }).evaluate((el) => el === document.activeElement), true);
  await owner.keyboard.press("Escape");
  await menu.waitFor({ state: "detached" });
  assert.equal(await menuButton.evaluate((el) => el === document.activeElement), true);

  // Rename: code and title, inline; a code already used is refused in a sentence.
  await choose(owner, "SH030", "Rename");
  await card(owner, "SH030").getByLabel("Shot code").fill("sh010");
  await card(owner, "SH030").getByRole("button", { name: "Save" }).click();
  await card(owner, "SH030").getByRole("alert").filter({ hasText: /already used in this project/ }).waitFor();
  await card(owner, "SH030").getByLabel("Shot code").fill("SH035");
  await card(owner, "SH030").getByLabel("Shot title").fill("Gulls, slow motion");
  await card(owner, "SH030").getByRole("button", { name: "Save" }).click();
  await card(owner, "SH035").getByTestId("box-link").filter({ hasText: "Gulls, slow motion" }).waitFor();
  assert.deepEqual(await codes(owner), ["SH020", "SH010", "SH035", "SH050", "SH040"]);
  // Saved: the form is gone and the focus is back on that shot's menu button (not lost to <body>).
  await owner.waitForFunction(() => document.activeElement?.getAttribute("aria-label") === "Actions for SH035", null, { timeout: 5_000 });
  await choose(owner, "SH035", "Rename");
  await owner.keyboard.press("Escape");
  await card(owner, "SH035").getByLabel("Shot code").waitFor({ state: "detached" });
  await owner.waitForFunction(() => document.activeElement?.getAttribute("aria-label") === "Actions for SH035", null, { timeout: 5_000 });

  owner.once("dialog", (d) => d.accept());
  await choose(owner, "SH040", "Delete");
  await card(owner, "SH040").waitFor({ state: "detached" });
  // A new shot is numbered after the highest code, not after the count.
  await owner.getByLabel("New shot title").fill("Closing");
  await owner.getByRole("button", { name: "Add shot" }).click();
  await card(owner, "SH060").waitFor();
  await shot(owner, "board-desktop-light");
});

test("the theme toggle switches data-theme and survives a reload", { timeout: LONG }, async () => {
  await owner.emulateMedia({ colorScheme: "light" });
  const light = await background(owner);
  await owner.getByLabel("Theme").selectOption("dark");
  assert.equal(await owner.evaluate(() => document.documentElement.dataset.theme), "dark");
  const dark = await background(owner);
  assert.notEqual(dark, light, "the page turned dark");
  await owner.reload();
  // Set before React renders (the inline script in layout.tsx), not after a flash of the light theme.
  assert.equal(await owner.evaluate(() => document.documentElement.dataset.theme), "dark");
  await owner.getByTestId("box-card").first().waitFor();
  assert.equal(await background(owner), dark);
  assert.equal(await owner.getByLabel("Theme").inputValue(), "dark");
  await shot(owner, "board-desktop-dark");
  // "System" follows the operating system.
  await owner.getByLabel("Theme").selectOption("system");
  assert.equal(await owner.evaluate(() => document.documentElement.dataset.theme), undefined);
  await owner.emulateMedia({ colorScheme: "dark" });
  assert.equal(await background(owner), dark);
  await owner.emulateMedia({ colorScheme: "light" });
  assert.equal(await background(owner), light);
});

test("the keyboard-shortcuts switch and the skip link", { timeout: LONG }, async () => {
  const shortcuts = owner.getByRole("switch", { name: "Keyboard shortcuts" });
  assert.equal(await shortcuts.isChecked(), true);
  await shortcuts.uncheck();
  assert.equal(await owner.evaluate(() => JSON.parse(localStorage.getItem("aam.prefs")).state.shortcuts), false);
  await shortcuts.check();
  await owner.reload();
  await owner.getByTestId("box-card").first().waitFor();
  await owner.keyboard.press("Tab");
  const skip = owner.getByRole("link", { name: "Skip to content" });
  assert.equal(await skip.evaluate((el) => el === document.activeElement), true, "the skip link comes first");
  await owner.keyboard.press("Enter");
  assert.equal(await owner.evaluate(() => document.activeElement?.id), "main");
});

test("390 px: the board in one column, no sideways scroll, the primary actions reachable; light and dark", { timeout: LONG }, async () => {
  await owner.getByRole("button", { name: "Create review link" }).click(CLICKABLE);
  reviewUrl = await owner.getByTestId("share-url").first().getAttribute("href");
  const url = owner.url();
  const phone = await (await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true })).newPage();
  watchers.push(watchPageErrors(phone, "phone"));
  await phone.goto(`${base}/login/`);
  await phone.getByLabel("Email").fill(ownerEmail);
  await phone.getByLabel("Password").fill("correct horse battery");
  await phone.getByRole("button", { name: "Log in" }).click();
  await phone.waitForURL(/\/projects\/$/);
  for (const scheme of ["light", "dark"]) {
    await phone.emulateMedia({ colorScheme: scheme });
    await phone.goto(url);
    await phone.getByTestId("box-card").nth(4).waitFor();
    await assertNoSidewaysScroll(phone, `board ${scheme}`);
    const cards = await phone.getByTestId("box-card").evaluateAll((els) => els.map((el) => el.getBoundingClientRect().left));
    assert.equal(new Set(cards.map(Math.round)).size, 1, "one column of shots");
    for (const name of ["Add shot", "Paste shots", "Create review link", ".docx (headliners)"]) {
      await phone.getByRole("button", { name }).click({ ...CLICKABLE, trial: true });
    }
    await shot(phone, `board-phone-${scheme}`);
  }
  // A shot's "⋯" menu is a sheet at the bottom of a phone's screen; the first shot cannot move earlier.
  await phone.getByRole("button", { name: "Actions for SH020" }).tap();
  const sheet = phone.getByRole("menu", { name: "Actions for SH020" });
  assert.equal(await sheet.getByRole("menuitem", { name: "Move earlier" }).isDisabled(), true);
  const box = await sheet.boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= PHONE.width && box.y + box.height <= PHONE.height, "the menu sheet is on the screen");
  await assertNoSidewaysScroll(phone, "board with a shot's menu open");
  await phone.screenshot({ path: join(ARTIFACTS, "board-phone-shot-menu.png") });
  await phone.keyboard.press("Escape");
  await sheet.waitFor({ state: "detached" });
  // The header's settings live behind "Menu" on a phone.
  await phone.getByRole("button", { name: "Menu" }).click(CLICKABLE);
  await phone.getByLabel("Theme").waitFor();
  await phone.getByRole("button", { name: "Log out", exact: true }).click({ ...CLICKABLE, trial: true });
  await assertNoSidewaysScroll(phone, "board with the menu open");
  await shot(phone, "board-phone-menu");
  await phone.context().close();
});

test("the review page names shots by code, fits 390 px with a usable comment form, in both themes", { timeout: LONG }, async () => {
  for (const [viewport, label] of [
    [DESKTOP, "desktop"],
    [PHONE, "phone"],
  ]) {
    const context = await browser.newContext({ viewport, isMobile: label === "phone", hasTouch: label === "phone" });
    const page = await context.newPage();
    watchers.push(watchPageErrors(page, `review ${label}`));
    for (const scheme of ["light", "dark"]) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.goto(`${base}${reviewUrl}`);
      await page.getByTestId("review-shot").nth(4).waitFor();
      const shown = await page.getByTestId("review-shot").getByTestId("shot-code").allTextContents();
      assert.deepEqual(shown, ["SH020", "SH010", "SH035", "SH050", "SH060"]);
      await assertNoSidewaysScroll(page, `review ${label} ${scheme}`);
      await shot(page, `review-${label}-${scheme}`);
    }
    const first = page.getByTestId("review-shot").first();
    await first.getByLabel("Your name").fill("Claire Client");
    await first.getByLabel("Comment").fill(`Looks right on the ${label}.`);
    await first.getByRole("button", { name: "Post comment" }).click(CLICKABLE);
    await first.getByTestId("comment").filter({ hasText: `on the ${label}` }).waitFor();
    await context.close();
  }
  // The studio's feed names the shot by its code.
  await owner.reload();
  await owner.getByTestId("live-comment").filter({ hasText: "on the phone" }).filter({ hasText: "on shot SH020" }).waitFor();
});
