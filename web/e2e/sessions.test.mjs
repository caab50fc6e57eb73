// Browser sessions end to end (issue 14): a link opened in a new tab stays logged in, the session cookie is out of
// scripts' reach (HttpOnly), logging out in one tab sends the other tabs to the login page, and logging in again works.
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, test } from "node:test";
import { ARTIFACTS, launchBrowser, registerInUi, startStack, watchPageErrors, sharedHooks } from "./stack.mjs";

const LONG = 240_000;
const DESKTOP = { width: 1366, height: 900 };
const PHONE = { width: 390, height: 844 };
let stack;
let browser;
let context;
let first;
let email;
let projectUrl;
const watchers = [];

const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

before(async () => {
  stack = await startStack({ name: "sessions" });
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: DESKTOP });
  first = await context.newPage();
  watchers.push(watchPageErrors(first, "tab 1"));
}, { timeout: 660_000 });

sharedHooks(watchers, () => ({ browser, stack }));

test("a project link opened in a new tab stays logged in; scripts never see the session", { timeout: LONG }, async () => {
  email = await registerInUi(first, stack.url, "sessions");
  await first.getByLabel("New project name").fill("Night shoot");
  await first.getByRole("button", { name: "Create project" }).click();
  await first.getByRole("link", { name: "Night shoot" }).click();
  await first.waitForURL(/\/project\/\?id=\d+/);
  projectUrl = first.url();

  const second = await context.newPage();
  watchers.push(watchPageErrors(second, "tab 2"));
  await second.setViewportSize(PHONE);
  await second.goto(projectUrl);
  await second.getByRole("heading", { name: "Night shoot" }).waitFor();
  assert.equal(second.url(), projectUrl, "no detour through the login page");
  const width = await second.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= PHONE.width, `the page fits a phone's width (${width} px)`);
  await shot(second, "sessions-01-new-tab-phone");

  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === "aam_session");
  assert.ok(session, "the browser holds the session cookie");
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, "Strict");
  assert.equal(session.path, "/api");
  assert.equal(await second.evaluate(() => document.cookie.includes("aam_session")), false);
  const stored = await second.evaluate(() => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }));
  assert.ok(!stored.includes(session.value), "the session token is in no storage a script can read");
  await second.close();
});

test("logging out in one tab sends the other tab to login at once; logging in again works", { timeout: LONG }, async () => {
  const second = await context.newPage();
  watchers.push(watchPageErrors(second, "tab 2"));
  await second.goto(projectUrl);
  await second.getByRole("heading", { name: "Night shoot" }).waitFor();

  await first.getByRole("button", { name: "Log out", exact: true }).click();
  await first.waitForURL(/\/login\//);
  // No request from tab 2 is needed: the tabs of one browser tell each other.
  await second.waitForURL(/\/login\/\?next=/);
  await second.getByText("You logged out in another tab.").waitFor();
  await shot(second, "sessions-02-logged-out-elsewhere");
  // And the server agrees: the session is over, not just forgotten by the page.
  assert.equal(await second.evaluate(async () => (await fetch("/api/auth/me/")).status), 401);

  await second.getByLabel("Email").fill(email);
  await second.getByLabel("Password").fill("correct horse battery");
  await second.getByRole("button", { name: "Log in" }).click();
  await second.waitForURL(projectUrl);
  await second.getByRole("heading", { name: "Night shoot" }).waitFor();
  await first.goto(projectUrl);
  await first.getByRole("heading", { name: "Night shoot" }).waitFor(); // the new session serves every tab
  await shot(first, "sessions-03-logged-in-again");
  await second.close();
});
