// The generate panel in a real browser against the real backend: prompts that stay (per shot, across navigation,
// reloads and tabs), reuse from a card, the input-image step of an edit model, animate's defaults; desktop and phone.
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, test } from "node:test";
import { ARTIFACTS, launchBrowser, registerInUi, startStack, watchPageErrors, sharedHooks } from "./stack.mjs";

const LONG = 240_000;
const DESKTOP = { width: 1366, height: 900 };
const PHONE = { width: 390, height: 844 };
const CLICKABLE = { timeout: 10_000 };
const PROMPT = "A lighthouse on a cliff at dusk, portrait framing";

let stack;
let browser;
let context;
let page;
let shotA; // URLs of the two shots
let shotB;
let firstImageId;
const watchers = [];

const shot = (p, name) => p.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
const prompt = (p = page) => p.locator('textarea[name="prompt"]');
const panel = (p = page) => p.getByRole("region", { name: "Generate" });

/** Waits (up to 10 s) until the field shows `expected`: a stored draft appears right after hydration. */
async function showsValue(field, expected) {
  const deadline = Date.now() + 10_000;
  while ((await field.inputValue()) !== expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await field.inputValue(), expected);
}

/** A card's action, wherever the card puts it: a button on the card, or an item of its "⋯" menu. False if absent. */
async function cardAction(card, name) {
  const direct = card.getByRole("button", { name });
  if (await direct.count()) {
    await direct.first().click(CLICKABLE);
    return true;
  }
  const menu = card.locator('[aria-haspopup="menu"]');
  if (!(await menu.count())) return false;
  await menu.first().click(CLICKABLE);
  const item = card.getByRole("menuitem", { name });
  if (!(await item.count())) {
    await page.keyboard.press("Escape");
    return false;
  }
  await item.first().click(CLICKABLE);
  return true;
}

async function openShot(title) {
  await page.getByTestId("box-link").filter({ hasText: title }).click();
  await page.waitForURL(/\/box\/\?id=\d+/);
  await page.getByRole("option", { name: "Nano Banana", exact: true }).waitFor({ state: "attached" });
}

before(async () => {
  stack = await startStack({ name: "e2e-generate" });
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: DESKTOP });
  page = await context.newPage();
  watchers.push(watchPageErrors(page, "owner"));
}, { timeout: 660_000 });

sharedHooks(watchers, () => ({ browser, stack }));

test("a shot's prompt and count stay across navigation, a reload and a second tab", { timeout: LONG }, async () => {
  await registerInUi(page, stack.url);
  await page.getByLabel("New project name").fill("Generate walk");
  await page.getByRole("button", { name: "Create project" }).click();
  await page.getByRole("link", { name: "Generate walk" }).click();
  await page.waitForURL(/\/project\/\?id=\d+/);
  const board = page.url();
  await page.getByRole("heading", { name: "Generate walk" }).waitFor();
  for (const title of ["Shot A: the lighthouse", "Shot B: the beam"]) {
    const field = page.getByLabel("New shot title");
    await field.fill(title);
    await showsValue(field, title);
    const created = page.waitForResponse((r) => r.url().includes("/boxes/") && r.request().method() === "POST");
    await page.getByRole("button", { name: "Add shot" }).click();
    assert.equal((await created).status(), 201);
    await page.getByTestId("box-link").filter({ hasText: title }).waitFor().catch(async (error) => {
      await shot(page, "generate-debug-board");
      throw error;
    });
  }
  await openShot("Shot A");
  shotA = page.url();
  await page.getByLabel("Model").selectOption("google/nano-banana");
  await page.getByLabel("Aspect ratio").selectOption("9:16");
  await prompt().fill(PROMPT);
  await page.getByLabel("Variants").fill("3");

  // Another shot has its own (empty) draft.
  await page.getByRole("link", { name: "Generate walk" }).first().click();
  await page.waitForURL(board);
  await openShot("Shot B");
  shotB = page.url();
  assert.equal(await prompt().inputValue(), "");
  assert.equal(await page.getByLabel("Variants").inputValue(), "1");
  await prompt().fill("Shot B's own prompt");

  // Back to A (client-side navigation), then a reload: everything is still there.
  await page.goBack();
  await openShot("Shot A");
  await showsValue(prompt(), PROMPT);
  assert.equal(await page.getByLabel("Variants").inputValue(), "3");
  assert.equal(await page.getByLabel("Aspect ratio").inputValue(), "9:16");
  await page.reload();
  await page.getByRole("option", { name: "Nano Banana", exact: true }).waitFor({ state: "attached" });
  await showsValue(prompt(), PROMPT);
  assert.equal(await page.getByLabel("Variants").inputValue(), "3");
  assert.equal(await page.getByLabel("Aspect ratio").inputValue(), "9:16");

  // A second tab of the same browser shows the draft, and follows what the first tab types.
  const [tab] = await Promise.all([context.waitForEvent("page"), page.evaluate((url) => window.open(url), shotA)]);
  watchers.push(watchPageErrors(tab, "second tab"));
  await tab.getByRole("option", { name: "Nano Banana", exact: true }).waitFor({ state: "attached" });
  await showsValue(prompt(tab), PROMPT);
  assert.equal(await tab.getByLabel("Variants").inputValue(), "3");
  await page.getByLabel("Variants").fill("1");
  await showsValue(tab.getByLabel("Variants"), "1");
  await tab.close();
  await shot(page, "generate-draft-desktop");
});

test("generate keeps the prompt; a card's 'Reuse prompt and settings' refills the panel, with Undo", { timeout: LONG }, async (t) => {
  await page.goto(shotA);
  await page.getByRole("option", { name: "Nano Banana", exact: true }).waitFor({ state: "attached" });
  const accepted = page.waitForResponse((r) => r.url().includes("/generate/") && r.request().method() === "POST");
  await page.getByTestId("generate").click();
  const answer = await (await accepted).json();
  firstImageId = answer.asset_ids[0];
  assert.equal(await prompt().inputValue(), PROMPT, "the prompt is kept after a generate");
  const card = page.locator(`[data-testid="asset-card"][data-asset-id="${firstImageId}"]`);
  await card.and(page.locator('[data-status="COMPLETED"]')).waitFor({ timeout: 180_000 });

  // Something else in the panel, then reuse the card's settings.
  await page.getByLabel("Model").selectOption("google/nano-banana-edit");
  await prompt().fill("Something else entirely");
  if (!(await cardAction(card, "Reuse prompt and settings"))) {
    t.skip("the card has no 'Reuse prompt and settings' action on this branch (the shot view's menu comes with fix/grid)");
    return;
  }
  await page.getByTestId("reused-note").filter({ hasText: `Reused from variant #${firstImageId}.` }).waitFor();
  assert.equal(await prompt().inputValue(), PROMPT);
  assert.equal(await page.getByLabel("Model").inputValue(), "google/nano-banana");
  assert.equal(await page.getByLabel("Aspect ratio").inputValue(), "9:16");
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("name")), "prompt", "the focus is in the prompt");
  await shot(page, "generate-reused");
  await page.getByTestId("reused-note").getByRole("button", { name: "Undo" }).click();
  assert.equal(await prompt().inputValue(), "Something else entirely");
  assert.equal(await page.getByLabel("Model").inputValue(), "google/nano-banana-edit");
});

test("an edit model's input images are their own step", { timeout: LONG }, async () => {
  await page.goto(shotA);
  await page.getByRole("option", { name: "Nano Banana", exact: true }).waitFor({ state: "attached" });
  await page.getByLabel("Model").selectOption("google/nano-banana-edit");
  await prompt().fill("Add a small red boat near the rocks");
  const rule = page.getByTestId("input-rule");
  assert.equal(await rule.textContent(), "Nano Banana Edit needs 1–10 input images; 0 chosen.");
  assert.equal(await page.getByTestId("generate").isDisabled(), true);
  assert.equal(await page.getByTestId("generate-why").textContent(), "Choose the input images first.");
  await page.getByRole("button", { name: "Choose images…" }).click();
  const picker = page.getByRole("dialog", { name: "Choose input images" });
  await picker.getByLabel(`Use variant #${firstImageId} as input`).check();
  await shot(page, "generate-input-picker");
  await picker.getByRole("button", { name: "Use 1 image" }).click();
  await picker.waitFor({ state: "detached" });
  assert.equal(await page.getByTestId("input-image").count(), 1);
  assert.equal(await rule.textContent(), "Nano Banana Edit needs 1–10 input images; 1 chosen.");
  await shot(page, "generate-inputs-desktop");
  const sent = page.waitForRequest((r) => r.url().includes("/generate/") && r.method() === "POST");
  await page.getByTestId("generate").click();
  const body = JSON.parse((await sent).postData());
  assert.deepEqual(body.input_asset_ids, [firstImageId]);
  assert.equal(body.model, "google/nano-banana-edit");
  // The chosen input stays for the next try; removing it is one click.
  await page.getByRole("button", { name: `Remove input image #${firstImageId}` }).click();
  assert.equal(await rule.textContent(), "Nano Banana Edit needs 1–10 input images; 0 chosen.");
});

test("animate: the source image's aspect ratio, and a motion prompt that is asked for", { timeout: LONG }, async (t) => {
  await page.goto(shotA);
  const card = page.locator(`[data-testid="asset-card"][data-asset-id="${firstImageId}"]`);
  await card.waitFor();
  if (!(await cardAction(card, /^Animate/))) {
    t.skip("no animate action found on the card");
    return;
  }
  const dialog = page.getByRole("dialog", { name: "Animate" });
  await dialog.getByLabel("Aspect ratio").waitFor();
  assert.equal(await dialog.getByLabel("Aspect ratio").inputValue(), "9:16", "the portrait image gives a portrait video");
  const motion = dialog.getByLabel("Motion prompt (required)");
  assert.equal(await motion.inputValue(), "");
  assert.equal(await motion.getAttribute("placeholder"), "Describe the motion: camera, subject, pace…");
  assert.equal(await dialog.getByTestId("animate-submit").isDisabled(), true);
  assert.equal(await dialog.getByTestId("animate-why").textContent(), "Describe the motion to animate.");
  await motion.fill("Slow push in, the beam sweeps across the sea");
  assert.equal(await dialog.getByTestId("animate-submit").isDisabled(), false);
  await shot(page, "generate-animate-desktop");
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
});

test("the panel fits a 390 px phone", { timeout: LONG }, async () => {
  await page.setViewportSize(PHONE);
  await page.goto(shotB);
  await page.getByRole("option", { name: "Nano Banana", exact: true }).waitFor({ state: "attached" });
  await page.getByLabel("Model").selectOption("google/nano-banana-edit");
  await prompt().fill("");
  assert.equal(await page.getByTestId("smart-edit-why").textContent(), "Write a prompt first: smart edit rewrites it.");
  await prompt().fill("Shot B's own prompt");
  const box = await panel().boundingBox();
  assert.ok(box && box.x >= 0 && box.x + box.width <= PHONE.width, `the panel is inside the screen: ${JSON.stringify(box)}`);
  const overflowing = await panel().evaluate((el) =>
    [el, ...el.querySelectorAll("*")].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5).map((e) => e.outerHTML.slice(0, 80)),
  );
  assert.deepEqual(overflowing, [], "nothing in the panel reaches past the screen's right edge");
  await panel().screenshot({ path: join(ARTIFACTS, "generate-panel-phone.png") });
  await shot(page, "generate-phone");
  await page.setViewportSize(DESKTOP);
});
