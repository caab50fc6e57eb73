// WCAG 2.1 AA in a real browser (issue 14): axe-core on every page, in the light and the dark theme, at laptop
// and phone width, plus the keyboard paths axe cannot see (the skip link, a dialog's focus trap).
// Pieces other parts build (the lightbox, the skip link) are skipped with a log line while they do not exist.
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
  startStack,
  watchPageErrors,
  sharedHooks
} from "./stack.mjs";

const LONG = 240_000;
let stack;
let browser;
let base;
let owner;
let guest;
let boardUrl;
let shotUrl;
const watchers = [];

before(async () => {
  stack = await startStack({ name: "a11y" });
  base = stack.url;
  browser = await launchBrowser();
  owner = await (await browser.newContext({ viewport: DESKTOP })).newPage();
  guest = await (await browser.newContext({ viewport: DESKTOP })).newPage();
  watchers.push(watchPageErrors(owner, "owner"), watchPageErrors(guest, "guest"));
}, { timeout: 660_000 });

sharedHooks(watchers, () => ({ browser, stack }));

const VARIANTS = [
  { scheme: "light", viewport: DESKTOP, name: "light-desktop" },
  { scheme: "dark", viewport: DESKTOP, name: "dark-desktop" },
  { scheme: "light", viewport: PHONE, name: "light-phone" },
  { scheme: "dark", viewport: PHONE, name: "dark-phone" },
];

/**
 * Runs axe on `page` as it stands, in each theme and width, then puts it back to the light laptop view. Every
 * variant is checked even after one fails, so one run lists everything; the phone variants also check that
 * nothing scrolls sideways.
 */
async function checkEverywhere(page, label) {
  const failures = [];
  for (const { scheme, viewport, name } of VARIANTS) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.setViewportSize(viewport);
    // Let layout and colour transitions settle before contrast is measured.
    await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => setTimeout(ok, 300))));
    await page.screenshot({ path: join(ARTIFACTS, `a11y-${label}-${name}.png`), fullPage: true });
    try {
      await axeCheck(page, `${label}-${name}`);
    } catch (error) {
      failures.push(error.message);
    }
    if (viewport === PHONE) {
      try {
        await assertNoHorizontalScroll(page, `${label}-${name}`);
      } catch (error) {
        failures.push(error.message);
      }
    }
  }
  await page.emulateMedia({ colorScheme: "light" });
  await page.setViewportSize(DESKTOP);
  assert.deepEqual(failures, [], failures.join("\n"));
}

test("the login and register pages", { timeout: LONG }, async () => {
  await guest.goto(`${base}/login/`);
  await guest.getByRole("button", { name: "Log in" }).waitFor();
  assert.match(await guest.title(), /^Log in/);
  await checkEverywhere(guest, "login");
  await guest.goto(`${base}/register/`);
  await guest.getByRole("button", { name: "Register" }).waitFor();
  await checkEverywhere(guest, "register");
});

test("the not-found page", { timeout: LONG }, async () => {
  await guest.goto(`${base}/no-such-page/`);
  await guest.getByRole("heading", { name: "Page not found" }).waitFor();
  await checkEverywhere(guest, "not-found");
});

test("the projects list", { timeout: LONG }, async () => {
  await registerInUi(owner, base, "a11y");
  await owner.getByLabel("New project name").fill("Harbour spot");
  await owner.getByRole("button", { name: "Create project" }).click();
  await owner.getByTestId("project-row").first().waitFor();
  await checkEverywhere(owner, "projects");
});

test("the skip link is the first Tab stop and moves the focus to the main content", { timeout: LONG }, async () => {
  await owner.goto(`${base}/projects/`);
  await owner.getByTestId("project-row").first().waitFor();
  const skip = owner.locator("a[href^='#']").filter({ hasText: /skip/i });
  if ((await skip.count()) === 0) {
    console.log("# a11y: no skip link on the projects page yet (the board part adds it in Shell): skipped");
    return;
  }
  await owner.keyboard.press("Tab");
  const first = await owner.evaluate(() => ({ tag: document.activeElement?.tagName, text: document.activeElement?.textContent }));
  assert.match(first.text ?? "", /skip/i, `the first Tab stop is ${first.tag} "${first.text}", not the skip link`);
  await owner.keyboard.press("Enter");
  const inMain = await owner.evaluate(() => document.activeElement?.closest("main") !== null);
  assert.ok(inMain, "after the skip link the focus is in <main>");
});

test("the board", { timeout: LONG }, async () => {
  await owner.getByRole("link", { name: "Harbour spot" }).click();
  await owner.waitForURL(/\/project\/\?id=\d+/);
  boardUrl = owner.url();
  await owner.getByLabel("New shot title").fill("Opening: the harbour at dawn");
  await owner.getByRole("button", { name: "Add shot" }).click();
  await owner.getByTestId("box-card").first().waitFor();
  await owner.getByTestId("live-state").and(owner.locator('[data-state="open"]')).waitFor({ timeout: 30_000 });
  await checkEverywhere(owner, "board");
  // The shot's "⋯" menu open: a popup at laptop width, a sheet at the bottom of a phone's screen.
  await owner.getByRole("button", { name: /^Actions for / }).first().click();
  await owner.getByRole("menu").waitFor();
  await checkEverywhere(owner, "board-menu");
  await owner.keyboard.press("Escape");
  await owner.getByRole("menu").waitFor({ state: "detached" });
});

test("the shot view with a generated variant", { timeout: LONG }, async () => {
  await owner.getByTestId("box-link").first().click();
  await owner.waitForURL(/\/box\/\?id=\d+/);
  shotUrl = owner.url();
  await owner.getByRole("option", { name: "Nano Banana", exact: true }).waitFor({ state: "attached" });
  await owner.getByLabel("Model").selectOption("google/nano-banana");
  await owner.getByLabel("Prompt").fill("A harbour at dawn, fishing boats, soft light");
  await owner.getByTestId("generate").click();
  await owner.locator('[data-testid="asset-card"][data-status="COMPLETED"]').first().waitFor({ timeout: 180_000 });
  // The finished variant was said aloud by the live region.
  await owner.getByTestId("announcer").filter({ hasText: /completed/ }).waitFor({ state: "attached", timeout: 10_000 });
  await checkEverywhere(owner, "shot");
});

test("the lightbox", { timeout: LONG }, async () => {
  await owner.locator('[data-testid="asset-card"][data-status="COMPLETED"] img').first().click();
  const lightbox = owner.getByTestId("lightbox");
  if (!(await lightbox.waitFor({ timeout: 3_000 }).then(() => true, () => false))) {
    console.log("# a11y: no lightbox opens from a variant yet (the grid part builds it): skipped");
    return;
  }
  await checkEverywhere(owner, "lightbox");
  await owner.keyboard.press("Escape");
  await lightbox.waitFor({ state: "detached" });
});

// Animate lives in the card's "⋯" menu; choosing it gives the focus back to the menu button, which opens the dialog.
const animateOpener = () => owner.getByTestId("asset-card").first().getByRole("button", { name: "More actions" });
async function openAnimate() {
  await animateOpener().click();
  await owner.getByRole("menuitem", { name: "Animate" }).click();
}
const animateDialog = () => owner.getByRole("dialog", { name: "Animate" });
async function closeAnimate() {
  if (await animateDialog().count()) await owner.keyboard.press("Escape");
  await animateDialog().waitFor({ state: "detached" });
}

test("the animate dialog", { timeout: LONG }, async () => {
  await openAnimate();
  await animateDialog().waitFor();
  try {
    await checkEverywhere(owner, "animate-dialog");
  } finally {
    await closeAnimate();
  }
});

test("the animate dialog traps the focus and gives it back", { timeout: LONG }, async () => {
  const opener = animateOpener();
  await openAnimate();
  await animateDialog().waitFor();
  const inside = () => owner.evaluate(() => Boolean(document.activeElement?.closest('[role="dialog"]')));
  try {
    assert.ok(await inside(), "the dialog took the focus when it opened");
    for (let i = 0; i < 12; i++) {
      await owner.keyboard.press("Tab");
      assert.ok(await inside(), `Tab ${i + 1} left the dialog`);
    }
    for (let i = 0; i < 4; i++) {
      await owner.keyboard.press("Shift+Tab");
      assert.ok(await inside(), `Shift+Tab ${i + 1} left the dialog`);
    }
  } finally {
    await closeAnimate();
  }
  // Back on the card the dialog was opened from (the menu button, or the card itself: the grid's one cursor).
  assert.ok(
    await opener.evaluate((el) => el.closest('[data-testid="asset-card"]').contains(document.activeElement)),
    "the focus went back to the card that opened it",
  );
});

test("animate opened from the lightbox's menu gives the focus back to that card", { timeout: LONG }, async () => {
  const card = owner.locator('[data-testid="asset-card"][data-status="COMPLETED"]').first();
  const id = await card.getAttribute("data-asset-id");
  await card.locator("img").first().click();
  const lightbox = owner.getByTestId("lightbox");
  await lightbox.waitFor();
  await lightbox.getByRole("button", { name: "More actions" }).click();
  await owner.getByRole("menuitem", { name: "Animate" }).click();
  await animateDialog().waitFor();
  await lightbox.waitFor({ state: "detached" }); // the lightbox (and the menu that opened the dialog) is gone
  await closeAnimate();
  await owner.waitForFunction(
    (assetId) => document.activeElement?.closest('[data-testid="asset-card"]')?.getAttribute("data-asset-id") === assetId,
    id,
    { timeout: 5_000 },
  );
});

test("the guest review page, and a revoked link", { timeout: LONG }, async () => {
  // The review page shows each shot's headliner: make the variant one, so the page has its pictures.
  const card = owner.getByTestId("asset-card").first();
  await card.getByRole("button", { name: "More actions" }).click();
  await owner.getByRole("menu").first().waitFor();
  const makeHeadliner = owner.getByRole("menuitem", { name: "Make headliner" });
  if (await makeHeadliner.count()) await makeHeadliner.click();
  else await owner.keyboard.press("Escape"); // it is the headliner already
  await owner.locator('[data-testid="asset-card"]:has(.badge.head)').first().waitFor();
  await owner.goto(boardUrl);
  await owner.getByRole("button", { name: "Create review link" }).click();
  const link = owner.getByTestId("share-url").first();
  await link.waitFor();
  const reviewUrl = await link.getAttribute("href");
  await guest.goto(`${base}${reviewUrl}`);
  await guest.getByTestId("review-shot").first().waitFor();
  await guest.getByTestId("review-shot").first().locator("img").first().waitFor();
  await checkEverywhere(guest, "review");
  await owner.getByTestId("share-link").first().getByRole("button", { name: "Revoke" }).click();
  await owner.getByTestId("share-link").first().waitFor({ state: "detached" });
  await guest.reload();
  await guest.getByTestId("review-unavailable").waitFor();
  await checkEverywhere(guest, "review-revoked");
});

test("every page has one main landmark and its own title", { timeout: LONG }, async () => {
  const pages = [
    [`${base}/projects/`, () => owner.getByTestId("project-row").first().waitFor()],
    [boardUrl, () => owner.getByTestId("box-card").first().waitFor()],
    [shotUrl, () => owner.getByTestId("asset-card").first().waitFor()],
  ];
  for (const [url, ready] of pages) {
    await owner.goto(url);
    await ready();
    assert.equal(await owner.locator("main").count(), 1, `${url}: one <main>`);
    // "<what this page is> · AI Asset Manager", never the bare product name.
    assert.match(await owner.title(), /^.+ · AI Asset Manager$/, `${url}: its own title`);
    assert.equal(await owner.locator("html").getAttribute("lang"), "en");
  }
});

test("the skeleton shimmer stops for people who asked for less motion", { timeout: LONG }, async () => {
  const animation = () =>
    owner.evaluate(() => {
      const probe = Object.assign(document.createElement("div"), { className: "skeleton" });
      document.body.append(probe);
      const name = getComputedStyle(probe).animationName;
      probe.remove();
      return name;
    });
  assert.equal(await animation(), "shimmer", "the skeleton shimmers by default");
  await owner.emulateMedia({ reducedMotion: "reduce" });
  try {
    assert.equal(await animation(), "none");
  } finally {
    await owner.emulateMedia({ reducedMotion: "no-preference" });
  }
});
