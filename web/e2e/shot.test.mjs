// The shot view in a real browser against the real backend: pictures at their own aspect ratio, batches newest
// first with the prompt once, the lightbox (click, Enter, arrows, triage keys, Escape, download), shortcuts off,
// and a 390 px phone.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, afterEach, before, test } from "node:test";
import { ARTIFACTS, launchBrowser, registerInUi, startStack, watchPageErrors } from "./stack.mjs";

const LONG = 240_000;
const DESKTOP = { width: 1366, height: 900 };
const PHONE = { width: 390, height: 844 };
let stack;
let browser;
let page;
let watcher;

const shot = (name) => page.screenshot({ path: join(ARTIFACTS, `shot-${name}.png`), fullPage: true });
const cards = () => page.getByTestId("asset-card");
const lightbox = () => page.getByTestId("lightbox");
const activeAssetId = () => page.evaluate(() => document.activeElement?.getAttribute("data-asset-id") ?? null);

/** The owner's API (reads) with the page's own session cookie. */
async function api(path) {
  return page.evaluate(async (url) => {
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    return response.json();
  }, path);
}

async function generate(aspect, prompt, count) {
  await page.getByLabel("Model").selectOption("google/nano-banana");
  await page.getByLabel("Aspect ratio").selectOption(aspect);
  await page.getByLabel("Prompt").fill(prompt);
  await page.getByLabel("Variants").fill(String(count));
  const accepted = page.waitForResponse((r) => r.url().includes("/generate/") && r.request().method() === "POST");
  await page.getByTestId("generate").click();
  assert.equal((await accepted).status(), 202);
}

before(async () => {
  stack = await startStack({ name: "shot" });
  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: DESKTOP, acceptDownloads: true })).newPage();
  watcher = watchPageErrors(page, "owner");
}, { timeout: 660_000 });

afterEach(() => {
  const errors = watcher.take();
  assert.deepEqual(errors, [], `the page emitted errors:\n${errors.join("\n")}`);
});

after(async () => {
  await browser?.close().catch(() => {});
  await stack?.stop();
});

test("a square and a 16:9 batch: each picture keeps its ratio, batches newest first with the prompt once", { timeout: LONG }, async () => {
  await registerInUi(page, stack.url);
  await page.getByLabel("New project name").fill("Ratios");
  await page.getByRole("button", { name: "Create project" }).click();
  await page.getByRole("link", { name: "Ratios" }).click();
  await page.getByLabel("New shot title").fill("The lighthouse");
  await page.getByRole("button", { name: "Add shot" }).click();
  await page.getByTestId("box-link").first().click();
  await page.waitForURL(/\/box\/\?id=\d+/);
  // The shot's code, not its position, names it in the header.
  await page.getByRole("heading", { level: 1 }).filter({ hasText: /SH\d{3}/ }).waitFor();
  await page.getByRole("option", { name: "Nano Banana", exact: true }).waitFor({ state: "attached" });

  await generate("1:1", "A red lighthouse on a rock", 1);
  await page.locator('[data-testid="asset-card"][data-status="COMPLETED"]').first().waitFor({ timeout: 180_000 });
  await generate("16:9", "A red lighthouse on a rock at night", 2);
  await page.locator('[data-testid="asset-card"][data-status="COMPLETED"]').nth(2).waitFor({ timeout: 180_000 });

  const drawn = await page.evaluate(async () =>
    Promise.all(
      [...document.querySelectorAll('[data-testid="asset-card"] img')].map(async (img) => {
        if (!img.complete) await new Promise((ok) => img.addEventListener("load", ok, { once: true }));
        const box = img.getBoundingClientRect();
        return { natural: img.naturalWidth / img.naturalHeight, shown: box.width / box.height };
      }),
    ),
  );
  assert.equal(drawn.length, 3);
  for (const { natural, shown } of drawn) assert.ok(Math.abs(shown / natural - 1) < 0.02, `drawn at ${shown.toFixed(3)}:1, the file is ${natural.toFixed(3)}:1`);
  assert.deepEqual(drawn.map((d) => Math.round(d.natural * 100) / 100).sort(), [1, 1.78, 1.78]);

  const batches = page.getByTestId("batch");
  assert.equal(await batches.count(), 2);
  assert.equal(await page.getByTestId("batch-prompt").count(), 2, "each batch's prompt is shown once");
  // Newest first: the 16:9 night batch, its two variants, what changed from the square one.
  assert.equal(await batches.first().getByTestId("asset-card").count(), 2);
  assert.equal(await batches.first().locator('[data-testid="batch-prompt"] ins').textContent(), " at night");
  assert.match(await batches.first().getByTestId("param-change").textContent(), /Aspect ratio: 1:1 → 16:9/);
  // The model by its name, as in the generate panel, not its provider id.
  assert.match(await batches.first().locator(".batch-meta").textContent(), /^Nano Banana · 2 variants · /);
  assert.equal(await batches.nth(1).getByTestId("batch-prompt").textContent(), "A red lighthouse on a rock");
  await shot("desktop");
});

test("the lightbox: opens on click with the original, arrows move, f and h work inside, Escape gives the focus back", { timeout: LONG }, async () => {
  const first = cards().first();
  const id = await first.getAttribute("data-asset-id");
  const startedAt = Date.now();
  await first.locator("img").click();
  await lightbox().waitFor();
  console.log(`click → lightbox visible in ${Date.now() - startedAt} ms (through the driver)`);
  const boxId = new URL(page.url()).searchParams.get("id");
  const listed = (await api(`/api/boxes/${boxId}/assets/?limit=200&offset=0`)).items;
  const asset = listed.find((a) => String(a.id) === id);
  // Presigned URLs: the same object, signed at a different second, so the paths are compared.
  const path = (url) => url.split("?")[0];
  assert.equal(path(await lightbox().getByTestId("lightbox-image").getAttribute("src")), path(asset.file_url), "the image at full resolution");
  assert.match(path(asset.file_url), /original\.\w+$/);
  // A real save: the API redirects to the file with Content-Disposition: attachment (the bucket may be another origin).
  const [download] = await Promise.all([page.waitForEvent("download"), lightbox().getByTestId("download-original").click()]);
  const code = (await page.locator("h1").first().textContent()).match(/SH\d+/)?.[0] ?? "SH";
  assert.match(download.suggestedFilename(), new RegExp(`^${code}-image-${id}\\.\\w+$`));
  assert.equal(await download.failure(), null);
  assert.match(await lightbox().textContent(), /ModelNano Banana/, "the model by its name, as in the generate panel");
  assert.equal(await lightbox().getByTestId("lightbox-position").textContent(), "1 of 3");
  await shot("lightbox");

  await page.keyboard.press("ArrowRight");
  await lightbox().getByTestId("lightbox-position").filter({ hasText: "2 of 3" }).waitFor();
  const secondId = await cards().nth(1).getAttribute("data-asset-id");
  await page.keyboard.press("f");
  await lightbox().getByRole("button", { name: "Unfavourite" }).waitFor();
  await page.keyboard.press("h");
  await lightbox().locator(".badge.head").waitFor();
  await page.keyboard.press("Escape");
  await lightbox().waitFor({ state: "detached" });
  // The headliner moved to the strip on top; the focus is on the card that was shown last.
  await page.getByTestId("headliner-strip").getByTestId("asset-card").and(page.locator(`[data-asset-id="${secondId}"]`)).waitFor();
  assert.equal(await activeAssetId(), secondId);
  assert.equal(await cards().first().getAttribute("data-asset-id"), secondId, "the headliner is pinned first");
  const favourites = (await api(`/api/boxes/${boxId}/assets/?limit=200&offset=0`)).items.filter((a) => a.is_favorite);
  assert.deepEqual(favourites.map((a) => String(a.id)), [secondId]);
});

test("Enter opens the focused card; the arrows move the focus, which is the one cursor", { timeout: LONG }, async () => {
  await cards().first().focus();
  await page.keyboard.press("ArrowRight");
  const second = await cards().nth(1).getAttribute("data-asset-id");
  assert.equal(await activeAssetId(), second);
  // The grid is one Tab stop: only the focused card is tabbable.
  assert.deepEqual(await page.locator('[data-testid="asset-card"][tabindex="0"]').evaluateAll((els) => els.map((e) => e.dataset.assetId)), [second]);
  await page.keyboard.press("Enter");
  await lightbox().getByTestId("lightbox-position").filter({ hasText: "2 of 3" }).waitFor();
  await page.keyboard.press("Escape");
  await lightbox().waitFor({ state: "detached" });
  assert.equal(await activeAssetId(), second);
});

test("the card's ⋯ menu is a menu button; Escape closes it and returns the focus", { timeout: LONG }, async () => {
  const card = cards().nth(2);
  await card.hover();
  const button = card.getByRole("button", { name: "More actions" });
  assert.equal(await button.getAttribute("aria-haspopup"), "menu");
  await button.click();
  const menu = page.getByRole("menu");
  await menu.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("role")), "menuitem");
  await page.keyboard.press("ArrowDown");
  await shot("menu");
  await page.keyboard.press("Escape");
  await menu.waitFor({ state: "detached" });
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("aria-label")), "More actions");
});

test("with single-key shortcuts off, 'f' does nothing", { timeout: LONG }, async () => {
  await page.evaluate(() => localStorage.setItem("aam.prefs", JSON.stringify({ state: { theme: "system", shortcuts: false }, version: 1 })));
  await page.reload();
  await page.getByTestId("keys-help").filter({ hasText: "shortcuts are off" }).waitFor();
  const card = cards().nth(2);
  await card.waitFor();
  const id = await card.getAttribute("data-asset-id");
  await card.focus();
  await page.keyboard.press("f");
  // Enter still opens it (not a single-character shortcut); there 'f' does nothing either.
  await page.keyboard.press("Enter");
  await lightbox().waitFor();
  await page.keyboard.press("f");
  await page.keyboard.press("Escape");
  await lightbox().waitFor({ state: "detached" });
  const boxId = new URL(page.url()).searchParams.get("id");
  const asset = (await api(`/api/boxes/${boxId}/assets/?limit=200&offset=0`)).items.find((a) => String(a.id) === id);
  assert.equal(asset.is_favorite, false);
  assert.equal(await card.getByRole("button", { name: "Favourite", exact: true }).count(), 1);
  await page.evaluate(() => localStorage.removeItem("aam.prefs"));
  await page.reload();
  await cards().first().waitFor();
});

test("390 px wide: no horizontal scroll, the panel and grid stack, the menu is reachable without hover", { timeout: LONG }, async () => {
  const phone = await (await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, storageState: await page.context().storageState() })).newPage();
  const phoneWatch = watchPageErrors(phone, "phone");
  try {
    await phone.goto(page.url());
    await phone.getByTestId("asset-card").nth(2).waitFor();
    assert.ok(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), "no horizontal scroll");
    const panel = await phone.locator(".shot-view > aside").boundingBox();
    const grid = await phone.getByTestId("asset-grid").boundingBox();
    assert.ok(grid.y >= panel.y + panel.height, "the grid is below the generate panel");
    const menu = phone.getByTestId("asset-card").nth(2).getByRole("button", { name: "More actions" });
    assert.equal(await menu.evaluate((el) => getComputedStyle(el).opacity), "1");
    await menu.tap();
    await phone.getByRole("menu").waitFor();
    assert.ok(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), "no horizontal scroll with the menu open");
    await phone.screenshot({ path: join(ARTIFACTS, "shot-phone-menu.png") });
    await phone.keyboard.press("Escape");
    await phone.screenshot({ path: join(ARTIFACTS, "shot-phone.png"), fullPage: true });
    await phone.getByTestId("asset-card").first().locator("img").tap();
    await phone.getByTestId("lightbox").waitFor();
    assert.ok(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), "no horizontal scroll in the lightbox");
    await phone.screenshot({ path: join(ARTIFACTS, "shot-phone-lightbox.png") });
    assert.deepEqual(phoneWatch.take(), []);
  } finally {
    await phone.context().close();
  }
});

test("a shot with more than 200 variants shows the newest 200, then the older ones on request", { timeout: LONG }, async () => {
  const boxId = new URL(page.url()).searchParams.get("id");
  const { project_id: projectId } = await api(`/api/boxes/${boxId}/`);
  const big = await page.evaluate(
    async ({ projectId, n }) => {
      // The session cookie goes along by itself; a cookie-authenticated write carries the app's CSRF header.
      const headers = { "X-AAM-CSRF": "1" };
      const created = await fetch(`/api/projects/${projectId}/boxes/`, {
        method: "POST",
        headers: { ...headers, "Content-Type": "application/json" },
        body: JSON.stringify({ title: "A long day of variants" }),
      });
      const box = await created.json();
      const canvas = Object.assign(document.createElement("canvas"), { width: 32, height: 18 });
      const g = canvas.getContext("2d");
      for (let i = 0; i < n; i++) {
        g.fillStyle = `hsl(${(i * 37) % 360} 60% 50%)`;
        g.fillRect(0, 0, 32, 18);
        const blob = await new Promise((ok) => canvas.toBlob(ok, "image/png"));
        const form = new FormData();
        form.append("file", blob, `v-${i + 1}.png`);
        form.append("prompt", `Variant ${i + 1}`);
        const response = await fetch(`/api/boxes/${box.id}/upload/`, { method: "POST", headers, body: form });
        if (!response.ok) throw new Error(`upload ${i + 1}: ${response.status} ${await response.text()}`);
      }
      return box.id;
    },
    { projectId, n: 203 },
  );
  await page.goto(new URL(`/box/?id=${big}`, page.url()).href);
  const older = page.getByTestId("older");
  await older.filter({ hasText: "Showing the newest 200 of 203." }).waitFor();
  assert.equal(await cards().count(), 200);
  await older.getByRole("button", { name: "Show 3 older" }).click();
  await older.waitFor({ state: "detached" });
  assert.equal(await cards().count(), 203);
  // The oldest upload is there now, last.
  assert.equal(await page.getByTestId("batch-prompt").last().textContent(), "Variant 1");
});
