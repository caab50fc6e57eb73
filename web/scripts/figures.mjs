// Prints the SPA's two figures (not asserted):
// 1. initial JS of the board page in the production build, gzipped (target <= 250 kB);
// 2. time from a click on "Generate" to the PENDING card on screen, against the local backend (target <= 200 ms).
// `node scripts/figures.mjs` (needs `npm run build` first); `--size-only` skips the browser measurement.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { WEB, launchBrowser, registerInUi, startStack } from "../e2e/stack.mjs";

function initialJs(route) {
  const html = readFileSync(join(WEB, "out", route, "index.html"), "utf8");
  // noModule scripts (legacy polyfills) are never loaded by the browsers we support.
  const tags = [...html.matchAll(/<script([^>]*)\bsrc="([^"]+\.js)"([^>]*)>/g)];
  const srcs = [...new Set(tags.filter((m) => !/nomodule/i.test(m[1] + m[3])).map((m) => m[2]))];
  let raw = 0;
  let gz = 0;
  for (const src of srcs) {
    const bytes = readFileSync(join(WEB, "out", decodeURIComponent(src.replace(/^\//, ""))));
    raw += bytes.length;
    gz += gzipSync(bytes, { level: 9 }).length;
  }
  return { files: srcs.length, raw, gz };
}

const kB = (n) => `${(n / 1024).toFixed(1)} kB`;

for (const route of ["project", "box", "review/_"]) {
  const { files, raw, gz } = initialJs(route);
  const label = route === "project" ? "board page" : route === "box" ? "box view" : "review page";
  console.log(`initial JS, ${label} (/${route}/): ${kB(gz)} gzipped (${kB(raw)} raw, ${files} files); target <= 250 kB`);
}

if (!process.argv.includes("--size-only")) {
  const stack = await startStack({ name: "figures" });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await registerInUi(page, stack.url, "figures");
    await page.getByLabel("New project name").fill("Figures");
    await page.getByRole("button", { name: "Create project" }).click();
    await page.getByRole("link", { name: "Figures" }).click();
    await page.getByLabel("New shot title").fill("Shot");
    await page.getByRole("button", { name: "Add shot" }).click();
    await page.getByTestId("box-link").first().click();
    await page.waitForURL(/\/box\//);
    await page.getByRole("option", { name: /Nano Banana/ }).first().waitFor({ state: "attached" });
    await page.getByLabel("Model").selectOption("google/nano-banana");
    await page.getByLabel("Prompt").fill("A lighthouse at dusk");
    const samples = [];
    for (let i = 0; i < 7; i++) {
      const ms = await page.evaluate(
        () =>
          new Promise((resolve) => {
            const count = () => document.querySelectorAll('[data-testid="asset-card"][data-status="PENDING"]').length;
            const before = document.querySelectorAll('[data-testid="asset-card"]').length;
            const button = document.querySelector('[data-testid="generate"]');
            const t0 = performance.now();
            const observer = new MutationObserver(() => {
              if (document.querySelectorAll('[data-testid="asset-card"]').length > before && count() > 0) {
                observer.disconnect();
                // the frame after the DOM change is when the card is painted
                requestAnimationFrame(() => resolve(performance.now() - t0));
              }
            });
            observer.observe(document.body, { subtree: true, childList: true, attributes: true });
            button.click();
          }),
      );
      samples.push(ms);
      await page.waitForTimeout(1500);
    }
    samples.sort((a, b) => a - b);
    const median = samples[Math.floor(samples.length / 2)];
    console.log(
      `click on Generate -> PENDING card on screen: median ${median.toFixed(1)} ms, max ${samples.at(-1).toFixed(1)} ms ` +
        `over ${samples.length} clicks (local backend); target <= 200 ms`,
    );
  } finally {
    await browser.close();
    await stack.stop();
  }
}
