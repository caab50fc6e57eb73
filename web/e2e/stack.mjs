// Shared by the end-to-end test and the figures script: the real backend (`python -m devstack`, with embedded
// services and the Kie.ai simulator) and Debian's Chromium driven by playwright-core.
import { spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { after, afterEach } from "node:test";
import { chromium } from "playwright-core";

export const WEB = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const ROOT = resolve(WEB, "..");
export const ARTIFACTS = join(WEB, "artifacts");
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

/** Starts the whole backend and resolves with `{ url, stop }` once it prints `READY <url>`. */
export async function startStack({ name = "e2e", timeoutMs = 600_000 } = {}) {
  if (!existsSync(join(WEB, "out", "index.html"))) {
    throw new Error("web/out is missing: build the SPA first (npm run build)");
  }
  const python = process.env.PYTHON ?? join(ROOT, ".venv/bin/python");
  const dataDir = join(WEB, ".e2e-data", `${name}-${Date.now()}`);
  mkdirSync(ARTIFACTS, { recursive: true });
  mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const log = createWriteStream(join(ARTIFACTS, `${name}-devstack.log`));
  const child = spawn(python, ["-m", "devstack", "--data-dir", dataDir, "--api-port", String(port), "--free-ports"], {
    cwd: ROOT,
    env: { ...process.env, PYTHONPATH: ROOT, PYTHONUNBUFFERED: "1" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  child.stderr.pipe(log, { end: false });
  let exited = false;
  child.on("exit", () => (exited = true));

  const stop = async () => {
    if (!exited) {
      try {
        process.kill(-child.pid, "SIGINT");
      } catch {
        /* already gone */
      }
      const deadline = Date.now() + 60_000;
      while (!exited && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      if (!exited) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          /* already gone */
        }
      }
    }
    log.end();
    if (!process.env.KEEP_E2E_DATA) rmSync(dataDir, { recursive: true, force: true });
  };

  const url = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`devstack was not READY after ${timeoutMs / 1000} s`)), timeoutMs);
    let buffer = "";
    child.stdout.on("data", (chunk) => {
      log.write(chunk);
      buffer += chunk.toString();
      const match = /^READY (\S+)/m.exec(buffer);
      if (match) {
        clearTimeout(timer);
        ok(match[1].replace(/\/$/, ""));
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`devstack exited with code ${code} before READY; see web/artifacts/${name}-devstack.log`));
    });
  }).catch(async (error) => {
    await stop();
    throw error;
  });
  return { url, stop };
}

export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
      "--disable-dev-shm-usage",
    ],
  });
}

/** What React says when the exported HTML and the first client render differ, or a render throws. */
export const REACT_ERROR = /Minified React error|Hydration failed|did not match|error while hydrating|hydration/i;
/** What Chromium says when the Content-Security-Policy (api/security.py, docker/nginx.conf) blocks something. */
export const CSP_VIOLATION = /Content Security Policy|Refused to (load|execute|connect|apply|frame|evaluate)/i;

/**
 * Collects what a page must never emit: uncaught exceptions (`pageerror`), and React errors and CSP violations
 * written to the console. `take()` returns (and forgets) what was seen since the last call, so each step can assert it is empty.
 */
export function watchPageErrors(page, label) {
  const seen = [];
  page.on("pageerror", (error) => {
    console.error(`${label} page error:`, error.message);
    seen.push(`${label} page error at ${page.url()}: ${error.message}`);
  });
  page.on("console", (message) => {
    if (message.type() === "error" && (REACT_ERROR.test(message.text()) || CSP_VIOLATION.test(message.text()))) {
      console.error(`${label} console error:`, message.text());
      seen.push(`${label} console error at ${page.url()}: ${message.text()}`);
    }
  });
  return { take: () => seen.splice(0) };
}

/** Registers and logs in through the UI; leaves the page on the projects list. */
export async function registerInUi(page, base, who = "owner") {
  const email = `${who}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
  await page.goto(`${base}/register/`);
  await page.getByLabel("Name").fill("Olga Owner");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Register" }).click();
  await page.waitForURL(/\/projects\/$/);
  return email;
}

// A laptop screen and a phone, the two widths every page is checked at.
export const DESKTOP = { width: 1366, height: 900 };
export const PHONE = { width: 390, height: 844 };

/** The WCAG 2.1 A and AA rules of axe-core: what issue 14 holds every page to. */
export const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
const AXE_SOURCE = join(WEB, "node_modules", "axe-core", "axe.min.js");
let axeSource = null;

/**
 * Runs axe-core on the page as it is now, writes the whole result to `web/artifacts/axe-<label>.json`, and throws
 * listing every serious or critical violation (rule, what it asks, the first elements). The source is evaluated
 * through the DevTools protocol rather than added as a <script>, so no Content-Security-Policy can block it and it
 * never counts as a CSP violation of the page.
 */
export async function axeCheck(page, label) {
  axeSource ??= readFileSync(AXE_SOURCE, "utf8");
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(axeSource);
  const result = await page.evaluate((tags) => window.axe.run(document, { runOnly: { type: "tag", values: tags } }), AXE_TAGS);
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(join(ARTIFACTS, `axe-${label}.json`), JSON.stringify({ url: page.url(), ...result }, null, 1));
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  if (bad.length) {
    const lines = bad.map((v) => {
      const targets = v.nodes.slice(0, 3).map((n) => `${n.target.join(" ")} ${n.html.slice(0, 90)}`).join(" | ");
      return `  ${v.impact} ${v.id}: ${v.help} (${v.nodes.length}×: ${targets})`;
    });
    throw new Error(`axe ${label} (${page.url()}): ${bad.length} serious/critical violation(s)\n${lines.join("\n")}`);
  }
  return result;
}

/** Throws when the page is wider than its viewport (a phone would scroll sideways), naming the widest elements. */
export async function assertNoHorizontalScroll(page, label) {
  const { scrollWidth, clientWidth, widest } = await page.evaluate(() => {
    const root = document.documentElement;
    const width = root.clientWidth;
    const over = [...document.body.querySelectorAll("*")]
      .map((el) => ({ el, right: el.getBoundingClientRect().right }))
      .filter(({ right }) => right > width + 1)
      .sort((a, b) => b.right - a.right)
      .slice(0, 5)
      .map(({ el, right }) => {
        const id = el.getAttribute("data-testid");
        return `${el.tagName.toLowerCase()}${id ? `[data-testid=${id}]` : el.className && typeof el.className === "string" ? `.${el.className.split(" ").join(".")}` : ""} (right edge ${Math.round(right)} px)`;
      });
    return { scrollWidth: root.scrollWidth, clientWidth: width, widest: over };
  });
  if (scrollWidth > clientWidth + 1) {
    throw new Error(`${label}: the page is ${scrollWidth} px wide in a ${clientWidth} px viewport; widest: ${widest.join(", ")}`);
  }
}

/** The hooks every e2e file shares: after each test no page may have emitted an error (`watchers` from
 * `watchPageErrors`); at the end the browser closes and the stack stops (`resources()` reads them when it runs). */
export function sharedHooks(watchers, resources) {
  afterEach(() => {
    const errors = watchers.flatMap((w) => w.take());
    assert.deepEqual(errors, [], `the pages emitted errors:\n${errors.join("\n")}`);
  });
  after(async () => {
    const { browser, stack } = resources();
    await browser?.close().catch(() => {});
    await stack?.stop();
  });
}
