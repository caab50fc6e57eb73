// Issue 14's "done when": a first-time user does the day-one walk (register → project → paste shots → generate →
// pick → animate → share) through the UI only, without a dead end, once on a laptop and once on a 390 px phone.
// Each step asserts what the person sees, that nothing scrolls sideways, and keeps a screenshot
// (web/artifacts/dayone-<desktop|phone>-<nn>-<step>.png).
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, test } from "node:test";
import { ARTIFACTS, DESKTOP, PHONE, assertNoHorizontalScroll, launchBrowser, startStack, watchPageErrors, sharedHooks } from "./stack.mjs";

const LONG = 300_000;
const CLICKABLE = { timeout: 10_000 };
// The simulator finishes an image or a clip in seconds; the margin is for a busy machine.
const FINISHED = { timeout: 120_000 };
const SCRIPT = [
  "1. EXT. HARBOUR - DAWN. Fishing boats leave the quay",
  "2. The keeper climbs the lighthouse stairs",
  "3. The beam sweeps across the night sea",
].join("\n");

let stack;
let browser;
const watchers = [];

before(async () => {
  stack = await startStack({ name: "dayone" });
  browser = await launchBrowser();
}, { timeout: 660_000 });

sharedHooks(watchers, () => ({ browser, stack }));

/** One person's walk: the page, how they press things (a tap on a phone), and the screenshots, numbered on
 * `counter` (the owner's and the guest's steps share it). */
function walker(page, label, touch, counter) {
  return {
    /** Presses what a person presses: scrolled into view, it must lie inside the screen (no sideways scroll). */
    async press(locator) {
      await locator.scrollIntoViewIfNeeded(CLICKABLE);
      const box = await locator.boundingBox();
      const width = await page.evaluate(() => document.documentElement.clientWidth);
      assert.ok(box && box.x >= 0 && box.x + box.width <= width + 1, `${label}: ${locator} lies outside the ${width} px screen: ${JSON.stringify(box)}`);
      assert.equal(await page.evaluate(() => window.scrollX), 0, `${label}: reaching ${locator} scrolled the page sideways`);
      await (touch ? locator.tap(CLICKABLE) : locator.click(CLICKABLE));
    },
    /** What every step ends with: nothing wider than the screen, the skip link out of sight (nobody pressed Tab),
     * and a screenshot of the whole page. */
    async step(name) {
      counter.n += 1;
      const id = `${String(counter.n).padStart(2, "0")}-${name}`;
      await assertNoHorizontalScroll(page, `dayone ${label} ${id}`);
      const skip = page.getByRole("link", { name: "Skip to content" });
      if (await skip.count()) assert.ok((await skip.boundingBox()).y < 0, `${label} ${id}: the skip link shows over the header`);
      await page.screenshot({ path: join(ARTIFACTS, `dayone-${label}-${id}.png`), fullPage: true });
    },
  };
}

async function walk(label, contextOptions) {
  const touch = Boolean(contextOptions.hasTouch);
  const context = await browser.newContext(contextOptions);
  const page = await context.newPage();
  watchers.push(watchPageErrors(page, `${label} owner`));
  const counter = { n: 0 };
  const { press, step } = walker(page, label, touch, counter);

  // A stranger at the app's address lands on the login page, which points to registration.
  await page.goto(`${stack.url}/`);
  await page.getByRole("heading", { name: "Log in" }).waitFor();
  await step("login");
  await press(page.getByRole("link", { name: "Register" }));
  await page.getByRole("heading", { name: "Create an account" }).waitFor();
  await page.getByLabel("Name").fill("Dana Director");
  await page.getByLabel("Email").fill(`dayone-${label}-${Date.now()}@example.com`);
  await page.getByLabel("Password").fill("correct horse battery");
  await step("register");
  await press(page.getByRole("button", { name: "Register" }));
  await page.waitForURL(/\/projects\/$/);
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  await page.getByText("No projects yet. Create one to start breaking your script into shots.").waitFor();
  await step("projects-empty");

  // A project, then its (empty) board.
  const projectName = `Harbour film (${label})`;
  await page.getByLabel("New project name").fill(projectName);
  await press(page.getByRole("button", { name: "Create project" }));
  await press(page.getByRole("link", { name: projectName }));
  await page.waitForURL(/\/project\/\?id=\d+/);
  const boardUrl = page.url();
  await page.getByRole("heading", { level: 1, name: projectName }).waitFor();
  await page.getByText(/No shots yet\. Add the first shot of your storyboard, or paste a script or a shot list\./).waitFor();
  await step("board-empty");

  // Paste a three-shot script: the preview says what will be made before anything is.
  await press(page.getByRole("button", { name: "Paste shots" }));
  const paste = page.getByRole("dialog", { name: "Paste shots" });
  await paste.getByLabel("Script or shot list").fill(SCRIPT);
  await paste.getByTestId("paste-count").filter({ hasText: "3 shots will be created." }).waitFor();
  const rows = paste.getByTestId("paste-preview").locator("tbody tr");
  assert.equal(await rows.count(), 3);
  assert.match(await rows.nth(2).textContent(), /The beam sweeps across the night sea/);
  // One line per shot, no notes: no empty Notes column taking the titles' room.
  assert.deepEqual(await paste.getByTestId("paste-preview").locator("th").allTextContents(), ["Code", "Title"]);
  await step("paste-preview");
  await press(paste.getByRole("button", { name: "Create 3 shots" }));
  await paste.waitFor({ state: "detached" });
  const cards = page.getByTestId("box-card");
  await cards.nth(2).waitFor();
  assert.deepEqual(await cards.evaluateAll((els) => els.map((el) => el.dataset.code)), ["SH010", "SH020", "SH030"]);
  await step("board-shots");

  // The first shot: nothing generated yet, and the panel says what to do.
  await press(page.getByTestId("box-link").filter({ hasText: "SH010" }));
  await page.waitForURL(/\/box\/\?id=\d+/);
  await page.getByRole("heading", { level: 1 }).filter({ hasText: "SH010" }).waitFor();
  await page.getByText("No assets yet: generate the first variants.").waitFor();
  const panel = page.getByRole("region", { name: "Generate" });
  await panel.getByRole("option", { name: "Nano Banana", exact: true }).waitFor({ state: "attached" });
  assert.equal(await panel.getByTestId("generate-why").textContent(), "Write a prompt to generate.");
  await step("shot-empty");

  // Generate with the model and settings a newcomer finds there.
  await panel.getByLabel("Prompt").fill("Fishing boats leaving a stone quay at dawn, mist, wide shot");
  await press(panel.getByRole("button", { name: "Generate" }));
  // The new batch comes into sight, also on a phone where the grid is below the panel.
  await page.waitForFunction(() => {
    const box = document.querySelector('[data-testid="batch"]')?.getBoundingClientRect();
    return Boolean(box && box.top < window.innerHeight && box.bottom > 0);
  }, null, CLICKABLE);
  const image = page.locator('[data-testid="asset-card"][data-kind="image"]').first();
  await image.and(page.locator('[data-status="COMPLETED"]')).waitFor(FINISHED);
  await image.locator("img").waitFor();
  await page.getByTestId("announcer").filter({ hasText: /completed/ }).waitFor({ state: "attached", timeout: 10_000 });
  await step("generated");

  // Pick: favourite, then headliner; the variant moves to the headliner strip on top.
  await press(image.getByRole("button", { name: "Favourite", exact: true }));
  await image.getByRole("button", { name: "Unfavourite" }).waitFor();
  await image.getByTestId("mark-favourite").waitFor();
  await press(image.getByRole("button", { name: "Make headliner" }));
  const headliner = page.getByTestId("headliner-strip").getByTestId("asset-card");
  await headliner.getByText("Headliner", { exact: true }).waitFor();
  await step("picked");

  // Animate the headliner: the dialog asks for the motion, the clip runs and finishes in the grid.
  await press(headliner.getByRole("button", { name: "More actions" }));
  await press(page.getByRole("menuitem", { name: "Animate" }));
  const animate = page.getByRole("dialog", { name: "Animate" });
  await animate.getByRole("heading", { name: "Animate into video" }).waitFor();
  assert.equal(await animate.getByTestId("animate-why").textContent(), "Describe the motion to animate.");
  await animate.getByLabel("Motion prompt (required)").fill("Slow push in as the boats drift out of the harbour");
  await step("animate-dialog");
  await press(animate.getByRole("button", { name: "Animate", exact: true }));
  await animate.waitFor({ state: "detached" });
  const clip = page.locator('[data-testid="asset-card"][data-kind="video"]').first();
  await clip.waitFor(CLICKABLE);
  await clip.and(page.locator('[data-status="COMPLETED"]')).waitFor(FINISHED);
  await clip.locator("video").waitFor({ state: "attached" });
  assert.equal(await clip.getByTestId("mark-video").textContent(), "▶ Video", "the clip says it is one");
  await step("animated");

  // Back to the board by the breadcrumb: the shot shows its headliner.
  await press(page.getByRole("navigation", { name: "Breadcrumb" }).getByRole("link", { name: projectName }));
  await page.waitForURL(boardUrl);
  const first = page.locator('[data-testid="box-card"][data-code="SH010"]');
  await first.getByText(/2 assets · headliner set/).waitFor();
  await first.locator(".box-card-media img").waitFor();
  await step("board-headliner");

  // Share: a review link, opened by a client who has no account.
  await press(page.getByRole("button", { name: "Create review link" }));
  const link = page.getByTestId("share-url").first();
  await link.waitFor();
  await step("shared");
  const reviewPath = await link.getAttribute("href");
  assert.match(reviewPath, /^\/review\/[^/]+\/$/);

  const guestContext = await browser.newContext({ ...contextOptions, storageState: undefined });
  const guest = await guestContext.newPage();
  watchers.push(watchPageErrors(guest, `${label} guest`));
  const guestWalk = walker(guest, label, touch, counter);
  await guest.goto(`${stack.url}${reviewPath}`);
  const shots = guest.getByTestId("review-shot");
  await shots.nth(2).waitFor();
  assert.deepEqual(await shots.getByTestId("shot-code").allTextContents(), ["SH010", "SH020", "SH030"]);
  await shots.first().locator("img.review-media").waitFor();
  await shots.first().getByTestId("video").waitFor();
  await shots.nth(1).getByText("No image selected yet").waitFor();
  assert.equal(await guest.getByRole("button", { name: "Log out" }).count(), 0, "the guest is not logged in");
  await guestWalk.step("review");
  await guestContext.close();
  await context.close();
}

test("day one on a laptop: register, project, paste shots, generate, pick, animate, share", { timeout: LONG }, async () => {
  await walk("desktop", { viewport: DESKTOP });
});

test("day one on a 390 px phone, by touch", { timeout: LONG }, async () => {
  await walk("phone", { viewport: PHONE, isMobile: true, hasTouch: true });
});
