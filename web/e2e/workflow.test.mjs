// End to end in a real browser against the real backend: the studio's whole loop and the client's review.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, test } from "node:test";
import { ARTIFACTS, launchBrowser, registerInUi, startStack, watchPageErrors, sharedHooks } from "./stack.mjs";

const LONG = 240_000;
let stack;
let browser;
let owner; // the studio's page
let client; // the client's page, in a second browser context
let base;
let reviewUrl;
const projectSockets = [];
let ownerEmail;
// Uncaught errors and React errors (a hydration mismatch is "Minified React error #418/#423" in a production
// build) seen on any page; each step fails if its pages emitted one.
const watchers = [];

const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
// A laptop screen, as the reviewer used; and a phone.
const DESKTOP = { width: 1366, height: 900 };
const PHONE = { width: 390, height: 844 };
// Clicks go through Playwright's actionability checks (visible, stable, enabled, and the point it clicks is not
// covered by another element): never `force`, never a dispatched event. A covered button fails within this time.
const CLICKABLE = { timeout: 10_000 };

/** The owner's API, called with the page's own session cookie (to count what really exists on the server). */
async function ownerApi(path) {
  return owner.evaluate(async (url) => {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    return response.json();
  }, path);
}

before(async () => {
  stack = await startStack({ name: "e2e" });
  base = stack.url;
  browser = await launchBrowser();
  owner = await (await browser.newContext({ acceptDownloads: true, viewport: DESKTOP })).newPage();
  watchers.push(watchPageErrors(owner, "owner"));
  // Every project socket passes through here (to the real server), so a test can cut it like a bad network.
  await owner.routeWebSocket(/\/ws\/projects\//, (ws) => {
    ws.connectToServer();
    projectSockets.push(ws);
  });
}, { timeout: 660_000 });

sharedHooks(watchers, () => ({ browser, stack }));

test("register, create a project and a shot", { timeout: LONG }, async () => {
  ownerEmail = await registerInUi(owner, base);
  await owner.getByTestId("empty").waitFor();
  await shot(owner, "01-projects-empty");
  // Create, rename and delete a throwaway project.
  await owner.getByLabel("New project name").fill("Scratch");
  await owner.getByRole("button", { name: "Create project" }).click();
  const row = owner.getByTestId("project-row").first(); // the only project
  await row.getByRole("button", { name: "Rename" }).click();
  await row.getByLabel("Project name").fill("Scratch renamed");
  await row.getByRole("button", { name: "Save" }).click();
  await owner.getByRole("link", { name: "Scratch renamed" }).waitFor();
  owner.once("dialog", (dialog) => dialog.accept());
  await owner.getByTestId("project-row").filter({ hasText: "Scratch renamed" }).getByRole("button", { name: "Delete" }).click();
  await owner.getByTestId("empty").waitFor();
  await owner.getByLabel("New project name").fill("Lighthouse spot");
  await owner.getByRole("button", { name: "Create project" }).click();
  await owner.getByRole("link", { name: "Lighthouse spot" }).click();
  await owner.waitForURL(/\/project\/\?id=\d+/);
  await owner.getByLabel("New shot title").fill("Opening: the lighthouse at dusk");
  await owner.getByRole("button", { name: "Add shot" }).click();
  await owner.getByTestId("box-card").first().waitFor();
  await owner.getByLabel("New shot title").fill("Closing: the beam");
  await owner.getByRole("button", { name: "Add shot" }).click();
  await owner.getByTestId("box-card").nth(1).waitFor();
  // Reorder with the keyboard: the second shot becomes the first.
  await owner.getByTestId("box-card").nth(1).focus();
  await owner.keyboard.press("Alt+ArrowLeft");
  await owner.getByTestId("box-link").first().filter({ hasText: "Closing" }).waitFor();
  // The codes stay with their shots: "Closing" (SH020) is first now.
  assert.deepEqual(await owner.getByTestId("shot-code").allTextContents(), ["SH020", "SH010"]);
  // A throwaway shot renamed, moved and deleted through its "⋯" menu.
  await owner.getByLabel("New shot title").fill("Scratch");
  await owner.getByRole("button", { name: "Add shot" }).click();
  await owner.getByTestId("box-card").nth(2).waitFor();
  const menu = async (code, action) => {
    await owner.getByRole("button", { name: `Actions for ${code}` }).click(CLICKABLE);
    await owner.getByRole("menuitem", { name: action }).click(CLICKABLE);
  };
  await menu("SH030", "Rename");
  await owner.getByLabel("Shot code", { exact: true }).fill("SH900");
  await owner.getByLabel("Shot title", { exact: true }).fill("Scratch renamed");
  await owner.getByRole("button", { name: "Save" }).click();
  await owner.getByTestId("box-link").filter({ hasText: "Scratch renamed" }).waitFor();
  await menu("SH900", "Move earlier");
  await owner.getByTestId("box-link").nth(1).filter({ hasText: "Scratch renamed" }).waitFor();
  owner.once("dialog", (dialog) => dialog.accept());
  await menu("SH900", "Delete");
  await owner.getByTestId("box-link").filter({ hasText: "Scratch renamed" }).waitFor({ state: "detached" });
  await owner.reload();
  await owner.getByTestId("box-link").first().filter({ hasText: "Closing" }).waitFor();
  assert.deepEqual(await owner.getByTestId("shot-code").allTextContents(), ["SH020", "SH010"]);
  await owner.getByTestId("live-state").and(owner.locator('[data-state="open"]')).waitFor({ timeout: 30_000 });
  await shot(owner, "02-board");
});

test("generate two variants and see them complete live", { timeout: LONG }, async () => {
  await owner.getByTestId("box-link").filter({ hasText: "Opening" }).click();
  await owner.waitForURL(/\/box\/\?id=\d+/);
  await owner.getByRole("option", { name: "Nano Banana", exact: true }).waitFor({ state: "attached" });
  await owner.getByLabel("Model").selectOption("google/nano-banana");
  await owner.getByLabel("Aspect ratio").selectOption("16:9");
  await owner.getByLabel("Prompt").fill("A lighthouse on a cliff at dusk, waves crashing, cinematic");
  await owner.getByLabel("Variants").fill("2");
  // A marker that a reload would wipe: everything below must happen on this same document.
  await owner.evaluate(() => (window.__sameDocument = true));
  // The estimate shown before sending is the one the API charges.
  const shown = Number(await owner.getByTestId("estimate").getAttribute("data-credits"));
  assert.equal(await owner.getByTestId("estimate").textContent(), "Estimated cost: 2 × 4 = 8 credits");
  const accepted = owner.waitForResponse((r) => r.url().includes("/generate/") && r.request().method() === "POST");
  await owner.getByTestId("generate").click();
  assert.equal((await (await accepted).json()).estimated_cost, shown);
  await owner.getByTestId("usage").filter({ hasText: /^8 of 2000 credits today · \d of 8 running/ }).waitFor({ timeout: 10_000 });
  const cards = owner.getByTestId("asset-card");
  await assert.doesNotReject(cards.nth(1).waitFor({ timeout: 5_000 }));
  assert.equal(await cards.count(), 2);
  await owner.locator('[data-testid="asset-card"][data-status="COMPLETED"]').nth(1).waitFor({ timeout: 180_000 });
  assert.equal(await owner.evaluate(() => window.__sameDocument), true, "the page was reloaded");
  assert.equal(await owner.locator('[data-testid="asset-card"] img').count(), 2);
});

test("favourite one variant and make it the headliner", { timeout: LONG }, async () => {
  const first = owner.getByTestId("asset-card").first();
  // Unkept variants show when retention will purge them; starring one removes its countdown.
  await first.getByTestId("retention").waitFor({ timeout: 30_000 });
  await first.getByRole("button", { name: "Favourite" }).click();
  await first.getByRole("button", { name: "Unfavourite" }).waitFor();
  assert.equal(await first.getByTestId("retention").count(), 0);
  await first.getByRole("button", { name: "Make headliner" }).click();
  await first.getByText("Headliner", { exact: true }).waitFor();
  // Keyboard triage: focus the second card, star it with "f".
  await owner.locator("body").click({ position: { x: 5, y: 5 } });
  await owner.keyboard.press("j");
  await owner.keyboard.press("j");
  await owner.keyboard.press("f");
  await owner.getByTestId("asset-card").nth(1).getByRole("button", { name: "Unfavourite" }).waitFor();
  await shot(owner, "03-box-view");
  // Compare the two variants side by side.
  for (const i of [0, 1]) {
    const card = owner.getByTestId("asset-card").nth(i);
    await card.getByRole("button", { name: "More actions" }).click();
    await owner.getByRole("menuitem", { name: "Select for compare" }).click();
    await card.getByTestId("mark-compare").waitFor();
  }
  await owner.getByTestId("compare-open").click();
  await owner.getByTestId("compare").waitFor();
  await shot(owner, "04-compare");
  await owner.keyboard.press("Escape");
});

test("smart edit: preview the rewritten prompt with the difference, then generate with it", { timeout: LONG }, async () => {
  const before = await owner.getByTestId("asset-card").count();
  const original = await owner.getByLabel("Prompt").inputValue();
  // It sits under the prompt it rewrites; its cost is shown before the rewrite is asked for (usage.smart_edit_cost).
  assert.match(await owner.getByTestId("smart-edit-estimate").textContent(), /^Estimated cost: [\d.]+ credits?$/);
  await owner.getByLabel("Instruction").fill("make it a stormy night");
  await owner.getByRole("button", { name: "Rewrite prompt" }).click();
  const diff = owner.getByTestId("prompt-diff");
  await diff.waitFor({ timeout: 60_000 });
  assert.ok((await diff.locator("ins, del").count()) > 0, "the rewrite is highlighted");
  await shot(owner, "03b-smart-edit-preview");
  await owner.getByTestId("smart-edit-preview").getByRole("button", { name: "Use", exact: true }).click();
  const rewritten = await owner.getByLabel("Prompt").inputValue();
  assert.notEqual(rewritten, original, "the prompt is the rewrite");
  const sent = owner.waitForRequest((r) => r.url().includes("/generate/") && r.method() === "POST");
  await owner.getByTestId("generate").click();
  assert.equal(JSON.parse((await sent).postData()).prompt, rewritten);
  await owner.getByTestId("asset-card").nth(before + 1).waitFor({ timeout: 5_000 });
  await owner.locator('[data-testid="asset-card"][data-status="COMPLETED"]').nth(before + 1).waitFor({ timeout: 180_000 });
});

test("a failed generation says why and offers a retry", { timeout: LONG }, async () => {
  await owner.getByLabel("Variants").fill("1");
  await owner.getByLabel("Prompt").fill("[sim:policy] a lighthouse");
  // An impatient double-click starts (and pays for) exactly one batch: one request, one new asset on the server.
  const boxId = new URL(owner.url()).searchParams.get("id");
  const countAssets = async () => (await ownerApi(`/api/boxes/${boxId}/assets/?limit=200&offset=0`)).total;
  const before = await countAssets();
  const sent = [];
  const onRequest = (request) => {
    if (request.method() === "POST" && request.url().includes("/generate/")) sent.push(request);
  };
  owner.on("request", onRequest);
  const answered = owner.waitForResponse((r) => r.url().includes(`/api/boxes/${boxId}/generate/`));
  await owner.getByTestId("generate").dblclick(CLICKABLE);
  assert.equal((await answered).status(), 202);
  await owner.getByTestId("generate").and(owner.locator(":enabled")).waitFor();
  await Promise.all(sent.map((request) => request.response()));
  owner.off("request", onRequest);
  assert.equal(sent.length, 1, "a double-click sent one generate request");
  assert.equal(await countAssets(), before + 1, "a double-click created one asset");
  const failed = owner.locator('[data-testid="asset-card"][data-status="FAILED"]');
  await failed.first().waitFor({ timeout: 180_000 });
  const message = await failed.first().getByTestId("error-message").textContent();
  assert.ok(message && message.length > 5 && !/Traceback/.test(message), `a readable error: ${message}`);
  const id = await failed.first().getAttribute("data-asset-id");
  // A retry's cost (the asset's estimate) is shown before it is sent, in the card's "⋯" menu.
  await failed.first().getByRole("button", { name: "More actions" }).click();
  const retry = failed.first().getByRole("menuitem", { name: /^Retry/ });
  assert.match(await retry.getByTestId("retry-cost").textContent(), /^Estimated cost: [\d.]+ credits?$/);
  const [retried] = await Promise.all([owner.waitForResponse((r) => r.url().includes(`/api/assets/${id}/retry/`)), retry.click()]);
  assert.equal(retried.status(), 202);
  // The same card goes back to work, then (the simulator refuses this prompt every time) fails again.
  await owner.locator(`[data-asset-id="${id}"]:not([data-status="FAILED"])`).waitFor({ timeout: 10_000 });
  await owner.locator('[data-testid="asset-card"][data-status="FAILED"]').first().waitFor({ timeout: 180_000 });
  await shot(owner, "05-failed-and-retried");
});

test("animate the headliner into a video that plays inline", { timeout: LONG }, async () => {
  const headliner = owner.locator('[data-testid="asset-card"]:has(.badge.head)');
  await headliner.getByRole("button", { name: "More actions" }).click();
  await headliner.getByRole("menuitem", { name: "Animate" }).click();
  const dialog = owner.getByRole("dialog", { name: "Animate" });
  await dialog.getByLabel("Duration").selectOption("4");
  await dialog.getByLabel("Motion prompt").fill("Slow push in, the beam sweeps across the sea");
  await owner.evaluate(() => (window.__sameDocument = true));
  const estimate = dialog.getByTestId("animate-estimate");
  assert.equal(await estimate.textContent(), "Estimated cost: 4 s × 3.5 credits/s (720p) = 14 credits");
  const shown = Number(await estimate.getAttribute("data-credits"));
  await shot(owner, "06a-animate-estimate");
  const accepted = owner.waitForResponse((r) => r.url().includes("/animate/") && r.request().method() === "POST");
  await dialog.getByTestId("animate-submit").click();
  assert.equal((await (await accepted).json()).estimated_cost, shown);
  const video = owner.locator('[data-testid="asset-card"][data-kind="video"]');
  await video.first().waitFor({ timeout: 5_000 });
  // The connection drops while the video is being made: the page reconnects, resumes, and still sees it finish.
  const opened = projectSockets.length;
  await Promise.all(projectSockets.splice(0).map((ws) => ws.close({ code: 1001, reason: "network drop" })));
  await owner.getByTestId("live-state").and(owner.locator('[data-state="reconnecting"]')).waitFor({ timeout: 10_000 });
  await owner.getByTestId("live-state").and(owner.locator('[data-state="open"]')).waitFor({ timeout: 30_000 });
  assert.ok(projectSockets.length >= 1 && opened >= 1, "a new socket was opened");
  await owner.locator('[data-testid="asset-card"][data-kind="video"][data-status="COMPLETED"]').waitFor({ timeout: 200_000 });
  await video.first().locator("video").waitFor();
  assert.equal(await owner.evaluate(() => window.__sameDocument), true, "the page was reloaded");
  await shot(owner, "06-video");
});

test("share a review link; the client comments and the studio sees it live", { timeout: LONG }, async () => {
  await owner.getByRole("link", { name: "Lighthouse spot" }).click();
  await owner.waitForURL(/\/project\/\?id=\d+/);
  await owner.getByRole("button", { name: "Create review link" }).click();
  const link = owner.getByTestId("share-url").first();
  await link.waitFor();
  reviewUrl = await link.getAttribute("href");
  assert.match(reviewUrl, /^\/review\/[0-9a-f-]{36}\/$/);
  await owner.getByTestId("live-state").and(owner.locator('[data-state="open"]')).waitFor({ timeout: 30_000 });
  await owner.evaluate(() => (window.__sameDocument = true));

  client = await (await browser.newContext({ viewport: DESKTOP })).newPage();
  watchers.push(watchPageErrors(client, "client"));
  await client.goto(`${base}${reviewUrl}`);
  const shotCard = client.getByTestId("review-shot").filter({ hasText: "Opening" });
  await shotCard.waitFor();
  // Shots in shot order: "Closing" was moved first on the board.
  assert.equal(await client.getByTestId("review-shot").count(), 2);
  assert.match(await client.getByTestId("review-shot").first().textContent(), /Closing/);
  assert.deepEqual(await client.getByTestId("shot-code").allTextContents(), ["SH020", "SH010"], "named by their codes");
  await shotCard.locator("img").first().waitFor();
  await shotCard.locator("video").first().waitFor();
  await client.getByTestId("live-state").and(client.locator('[data-state="open"]')).waitFor({ timeout: 30_000 });
  await shotCard.getByLabel("Your name").fill("Claire Client");
  await shotCard.getByLabel("Comment").fill("Love the light. Can the waves be bigger?");
  await shotCard.getByRole("button", { name: "Post comment" }).click();
  await shotCard.getByTestId("comment").filter({ hasText: "waves be bigger" }).waitFor();
  await shot(client, "07-review");

  await owner.getByTestId("live-comment").filter({ hasText: "waves be bigger" }).filter({ hasText: "on shot SH010" }).waitFor({ timeout: 30_000 });
  assert.equal(await owner.evaluate(() => window.__sameDocument), true, "the board was reloaded");
  await shot(owner, "08-board-with-comment");
});

/**
 * Every picture on the review page, with the pixels its file really has (a fresh decode of `currentSrc`: an
 * <img> with `srcset` reports a density-corrected naturalWidth) and the size it is drawn at.
 */
async function reviewImages(page) {
  const images = page.getByTestId("review-shot").locator("img");
  await images.first().waitFor();
  return page.evaluate(async () => {
    const shown = [...document.querySelectorAll('[data-testid="review-shot"] img')];
    return Promise.all(
      shown.map(async (img) => {
        img.scrollIntoView(); // lazy images load once near the viewport
        if (!img.complete) await new Promise((ok) => img.addEventListener("load", ok, { once: true }));
        const probe = new Image();
        probe.src = img.currentSrc;
        await probe.decode();
        const box = img.getBoundingClientRect();
        return {
          src: img.currentSrc.split("?")[0],
          fileWidth: probe.naturalWidth,
          fileHeight: probe.naturalHeight,
          width: box.width,
          height: box.height,
          dpr: window.devicePixelRatio,
        };
      }),
    );
  });
}

function assertSharp(images, where) {
  assert.ok(images.length > 0, `${where}: no image shown`);
  for (const image of images) {
    assert.ok(
      image.fileWidth >= image.width * image.dpr,
      `${where}: ${image.src} has ${image.fileWidth} px but is drawn ${Math.round(image.width)} CSS px wide at ${image.dpr}x (upscaled, blurry)`,
    );
    const drawn = image.width / image.height;
    const real = image.fileWidth / image.fileHeight;
    assert.ok(Math.abs(drawn / real - 1) < 0.02, `${where}: ${image.src} is drawn at ${drawn.toFixed(3)}:1, the file is ${real.toFixed(3)}:1`);
  }
}

test("the review page shows each headliner at full resolution, never an upscaled thumbnail", { timeout: LONG }, async () => {
  assertSharp(await reviewImages(client), "1366×900");
  const phone = await (await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true })).newPage();
  watchers.push(watchPageErrors(phone, "phone client"));
  await phone.goto(`${base}${reviewUrl}`);
  assertSharp(await reviewImages(phone), "phone");
  await shot(phone, "07b-review-phone");
  await phone.context().close();
});

test("the share-link row fits the sidebar: Copy and Revoke are clickable at 1366×900 and on a phone", { timeout: LONG }, async () => {
  assert.deepEqual(owner.viewportSize(), DESKTOP);
  await owner.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  // A board with a second row of shot tiles, level with the share links (as a real storyboard has).
  for (const n of [3, 4, 5, 6, 7, 8]) {
    await owner.getByLabel("New shot title").fill(`Shot ${n}`);
    await owner.getByRole("button", { name: "Add shot" }).click(CLICKABLE);
    await owner.getByTestId("box-card").nth(n - 1).waitFor();
  }
  // A second link to revoke here; the first stays for the client until the last step.
  await owner.getByRole("button", { name: "Create review link" }).click(CLICKABLE);
  const rows = owner.getByTestId("share-link");
  await rows.nth(1).waitFor();
  const panel = owner.getByRole("region", { name: "Share" });
  // Everything in a link row (the URL, the expiry, the buttons) is drawn inside the Share panel.
  const inside = async (row) => {
    const outer = await panel.boundingBox();
    for (const part of await row.locator("a, span, button").all()) {
      const box = await part.boundingBox();
      if (box.x < outer.x || box.x + box.width > outer.x + outer.width + 0.5) return false;
    }
    return true;
  };

  const newest = rows.first(); // newest first
  const url = await newest.getByTestId("share-url").getAttribute("href");
  await newest.getByRole("button", { name: "Copy" }).click(CLICKABLE);
  await newest.getByRole("button", { name: "Copied" }).waitFor();
  assert.equal(await owner.evaluate(() => navigator.clipboard.readText()), `${base}${url}`);
  await shot(owner, "08b-board-share-links");
  await newest.getByRole("button", { name: "Revoke" }).click(CLICKABLE);
  await owner.getByTestId("share-link").nth(1).waitFor({ state: "detached" });
  assert.equal(await owner.getByTestId("share-url").getAttribute("href"), reviewUrl, "the other link is kept");
  assert.ok(await inside(rows.first()), "the link row stays inside the Share panel");

  await owner.setViewportSize(PHONE);
  try {
    const row = owner.getByTestId("share-link").first();
    await row.scrollIntoViewIfNeeded();
    assert.ok(await inside(row), "the link row stays inside the Share panel on a phone");
    await row.getByRole("button", { name: "Copy" }).click(CLICKABLE);
    await row.getByRole("button", { name: "Copied" }).waitFor();
    // A trial click runs every actionability check (including "nothing covers it") without revoking.
    await row.getByRole("button", { name: "Revoke" }).click({ ...CLICKABLE, trial: true });
    await shot(owner, "08c-board-phone");
  } finally {
    await owner.setViewportSize(DESKTOP);
  }
});

test("export the storyboard as .docx", { timeout: LONG }, async () => {
  const [download] = await Promise.all([
    owner.waitForEvent("download", { timeout: 60_000 }),
    owner.getByRole("button", { name: ".docx (headliners)" }).click(),
  ]);
  const path = join(ARTIFACTS, "storyboard.docx");
  await download.saveAs(path);
  const bytes = readFileSync(path);
  assert.equal(bytes.subarray(0, 2).toString(), "PK", "a .docx is a zip file");
  assert.ok(bytes.length > 1000);
});

test("a revoked link shows a clear page", { timeout: LONG }, async () => {
  await owner.getByTestId("share-link").first().getByRole("button", { name: "Revoke" }).click(CLICKABLE);
  await owner.getByText("No review links yet.").waitFor();
  await client.reload();
  await client.getByTestId("review-unavailable").waitFor();
  await shot(client, "09-review-revoked");
});

test("an expired or rejected session goes back to login, and returns after it", { timeout: LONG }, async () => {
  const project = owner.url();
  const logBackIn = async () => {
    await owner.getByLabel("Email").fill(ownerEmail);
    await owner.getByLabel("Password").fill("correct horse battery");
    await owner.getByRole("button", { name: "Log in" }).click();
    await owner.waitForURL(project);
    await owner.getByTestId("box-card").first().waitFor();
  };
  // A session cookie the server does not know (e.g. its row was purged): the first 401 ends the session.
  const context = owner.context();
  const [cookie] = (await context.cookies()).filter((c) => c.name === "aam_session");
  assert.ok(cookie?.httpOnly, "the session cookie is HttpOnly");
  await context.addCookies([{ ...cookie, value: `${cookie.value}x` }]);
  await owner.reload();
  await owner.waitForURL(/\/login\/\?next=/);
  await owner.getByText("Your session has expired").waitFor();
  await logBackIn();
  // Ended on the server while the page is open: "Log out everywhere" from another browser.
  const elsewhere = await (await browser.newContext()).newPage();
  await elsewhere.goto(`${base}/login/`);
  const status = await elsewhere.evaluate(async (email) => {
    const body = JSON.stringify({ email, password: "correct horse battery" });
    const headers = { "Content-Type": "application/json" };
    await fetch("/api/auth/session/", { method: "POST", headers, body });
    return (await fetch("/api/auth/logout-everywhere/", { method: "POST", headers: { "X-AAM-CSRF": "1" } })).status;
  }, ownerEmail);
  assert.equal(status, 204);
  await elsewhere.context().close();
  await owner.goto(project);
  await owner.waitForURL(/\/login\/\?next=/);
  await owner.getByText("Your session has expired").waitFor();
  await shot(owner, "10-login-after-expiry");
  await logBackIn();
});

test("every page loads from its exported HTML without a React error", { timeout: LONG }, async () => {
  // Full page loads (not client navigation), so each page hydrates its prerendered HTML with a live session
  // and the retention countdown on screen (the session-expired notice is only ever set in the page itself).
  const box = await owner.getByTestId("box-link").filter({ hasText: "Opening" }).getAttribute("href");
  const pages = [
    ["/projects/", () => owner.getByTestId("project-row").first().waitFor()],
    [owner.url().replace(base, ""), () => owner.getByTestId("box-card").first().waitFor()],
    [box, () => owner.getByTestId("retention").first().waitFor({ timeout: 30_000 })],
    ["/", () => owner.waitForURL(/\/projects\/$/)],
    ["/register/", () => owner.getByRole("button", { name: "Register" }).waitFor()],
  ];
  for (const [path, ready] of pages) {
    await owner.goto(`${base}${path}`);
    await ready();
    await owner.waitForLoadState("networkidle").catch(() => {});
  }
  await owner.goto(`${base}/login/`);
  await owner.getByRole("button", { name: "Log in" }).waitFor();
  await owner.waitForLoadState("networkidle").catch(() => {});
});
