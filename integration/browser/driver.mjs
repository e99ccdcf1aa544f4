// Drives Debian's chromium with playwright-core for integration/browser (no browser download, no network but loopback).
// Line-oriented JSON over stdio: one command per stdin line, one answer per stdout line,
// {"ok": true, "value": ...} or {"ok": false, "error": "..."}. The test (pytest) decides what to do next.
// Commands: goto {url}, fill {selector, value}, click {selector}, select {selector, value},
// waitText {selector, text, timeout}, waitCount {selector, count, timeout}, text {selector}, count {selector},
// attr {selector, name}, screenshot {path, fullPage}, timing {name}, events {}, close {}.
import { createInterface } from "node:readline";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const profile = mkdtempSync(join(tmpdir(), "chromium-profile-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  viewport: { width: 1400, height: 900 },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = context.pages()[0] || await context.newPage();
const seen = { requests: [], console: [], pageErrors: [] };
page.on("request", (r) => seen.requests.push({ method: r.method(), url: r.url(),
  authorization: r.headers()["authorization"] ? "present" : "absent" }));
page.on("console", (m) => seen.console.push(m.type() + ": " + m.text()));
page.on("pageerror", (e) => seen.pageErrors.push(String(e)));

const commands = {
  async goto({ url }) { const r = await page.goto(url, { waitUntil: "load" }); return { status: r.status(), headers: r.headers() }; },
  async fill({ selector, value }) { await page.fill(selector, value); },
  async click({ selector }) { await page.click(selector); },
  async select({ selector, value }) { await page.selectOption(selector, value); },
  async waitText({ selector, text, timeout }) {
    const started = Date.now();
    await page.waitForFunction(([s, t]) => { const e = document.querySelector(s); return !!e && e.innerText.includes(t); },
      [selector, text], { timeout: timeout || 30000, polling: 50 });
    return { ms: Date.now() - started };
  },
  async waitCount({ selector, count, timeout }) {
    const started = Date.now();
    await page.waitForFunction(([s, c]) => document.querySelectorAll(s).length === c, [selector, count],
      { timeout: timeout || 30000, polling: 50 });
    return { ms: Date.now() - started };
  },
  async text({ selector }) { return await page.innerText(selector); },
  async count({ selector }) { return await page.locator(selector).count(); },
  async attr({ selector, name }) { return await page.getAttribute(selector, name); },
  async screenshot({ path, fullPage }) { await page.screenshot({ path, fullPage: !!fullPage }); },
  async timing() {
    return await page.evaluate(() => {
      const nav = performance.getEntriesByType("navigation")[0];
      return { domContentLoaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
        renderMs: Number(document.body.dataset.renderMs || -1), version: document.body.dataset.version || null,
        resources: performance.getEntriesByType("resource").map((r) => ({ name: r.name, bytes: r.transferSize,
          encoded: r.encodedBodySize, ms: r.duration })) };
    });
  },
  async events() { return seen; },
  async close() { await context.close(); rmSync(profile, { recursive: true, force: true }); return "closed"; },
};

const reply = (o) => process.stdout.write(JSON.stringify(o) + "\n");
reply({ ok: true, value: "ready" });
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  let message;
  try { message = JSON.parse(line); } catch (e) { reply({ ok: false, error: "bad json: " + e }); continue; }
  const command = commands[message.cmd];
  if (!command) { reply({ ok: false, error: "unknown command " + message.cmd }); continue; }
  try {
    const value = await command(message);
    reply({ ok: true, value: value === undefined ? null : value });
  } catch (e) {
    reply({ ok: false, error: String(e && e.message || e).split("\n").slice(0, 6).join("\n") });
  }
  if (message.cmd === "close") break;
}
process.exit(0);
