/**
 * The console in a real browser: Debian's chromium driven by playwright-core. Log in by keyboard,
 * create, edit (value write-only), copy the expression (read back from the clipboard), delete with
 * a confirmation, the read-only lock, the inherited view; then a screenshot for the README.
 */
import { existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Running, start, TOKEN } from "./helpers.js";

const CHROMIUM = process.env.KEYWAY_CHROMIUM ?? "/usr/bin/chromium";
const available = existsSync(CHROMIUM);
if (!available) {
  if (process.env.CI === "true")
    throw new Error(`[keyway] chromium not found at ${CHROMIUM}: run npm run emulators`);
  console.warn(
    `[keyway] SKIPPING the console browser test: no chromium at ${CHROMIUM} (npm run emulators installs it)`,
  );
}
/** The README's picture is rewritten only on request (KEYWAY_UPDATE_SCREENSHOT=1), so a test run leaves the tree clean. */
const SCREENSHOT =
  process.env.KEYWAY_UPDATE_SCREENSHOT === "1"
    ? fileURLToPath(new URL("../../../docs/console.png", import.meta.url))
    : path.join(tmpdir(), `keyway-console-${process.pid}.png`);

let running: Running;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const errors: string[] = [];

beforeAll(async () => {
  running = await start();
  await running.router.put({ namespace: "company.team", key: "SLACK_WEBHOOK" }, "https://hooks.example/x", {
    description: "Alerts channel",
    tags: { team: "payments" },
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  context = await browser.newContext({ viewport: { width: 1200, height: 720 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: running.url });
  page = await context.newPage();
  // A CSP violation (an inline script or style) or a script error shows up here.
  page.on("console", (message) => {
    // (Failed loads are expected: the 401 of a wrong login, the browser's own /favicon.ico.)
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource"))
      errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
});

afterAll(async () => {
  await browser?.close();
  await running?.close();
});

const value = async (key: string, namespace = "company.team") =>
  (await running.router.resolve({ namespace, key }, { inherit: false })).reveal();

describe.skipIf(!available)("the console in chromium", () => {
  it("logs in by keyboard into an HttpOnly, SameSite=Strict cookie, with a CSP and no inline script", async () => {
    const response = await page.goto(`${running.url}/console`);
    expect(page.url()).toBe(`${running.url}/console/login`);
    expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'");
    await page.keyboard.type("wrong-token-wrong-token");
    await page.keyboard.press("Enter");
    await expect(page.getByRole("alert").textContent()).resolves.toContain("not the server's token");
    await page.getByLabel("Access token").fill(TOKEN);
    await page.keyboard.press("Enter");
    await page.waitForURL(`${running.url}/console`);
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: "keyway_session", httpOnly: true, sameSite: "Strict" });
    expect(cookie?.value).not.toContain(TOKEN);
    expect(await page.getByRole("list", { name: "Namespaces" }).getByRole("link").allTextContents()).toEqual([
      "company",
      "company.ro",
      "company.team",
    ]);
    const html = await page.content();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/); // every script is a file
  });

  it("shows the namespace's secrets with the inherited ones marked, and which backend serves it", async () => {
    await page.getByRole("list", { name: "Namespaces" }).getByRole("link", { name: "company.team" }).focus();
    await page.keyboard.press("Enter");
    await page.waitForURL(/ns=company\.team/);
    await expect(page.locator(".served").textContent()).resolves.toBe("Served by team (memory)");
    const shared = page.locator('tr[data-key="SHARED"]');
    await expect(shared.textContent()).resolves.toMatch(/inherited\s*from company/);
    expect(await shared.getByRole("link", { name: "Edit SHARED" }).count()).toBe(0);
    const webhook = page.locator('tr[data-key="SLACK_WEBHOOK"]');
    await expect(webhook.textContent()).resolves.toMatch(
      /Alerts channel[\s\S]*team=payments[\s\S]*this namespace/,
    );
    expect(await page.content()).not.toContain("hooks.example");
    expect(await page.content()).not.toContain("t0ken-value");
  });

  it("creates a secret whose value is never sent back", async () => {
    const secret = 'multi\nline "quoted" <b>ünï</b> {{ x }}';
    await page.getByLabel("Key", { exact: true }).fill("DB_PASSWORD");
    await page.getByLabel(/^Value/).fill(secret);
    await page.getByLabel("Description").fill("Orders <database>");
    await page.getByLabel(/^Tags/).fill("env=prod\nowner=db");
    await page.getByRole("button", { name: "Create" }).click();
    await page.waitForURL(/done=/);
    await expect(page.getByRole("status").first().textContent()).resolves.toBe("Saved DB_PASSWORD.");
    expect(await value("DB_PASSWORD")).toBe(secret.replace(/\n/g, "\r\n")); // a textarea submits CRLF
    const row = page.locator('tr[data-key="DB_PASSWORD"]');
    await expect(row.textContent()).resolves.toContain("Orders <database>");
    expect(await page.content()).not.toContain("quoted");
  });

  it("refuses to create a key that exists, saying so and offering Edit, with the value untouched", async () => {
    await page.getByLabel("Key", { exact: true }).fill("DB_PASSWORD");
    await page.getByLabel(/^Value/).fill("overwrite-attempt");
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByRole("heading", { name: "Not created" }).waitFor();
    await expect(page.getByRole("alert").textContent()).resolves.toMatch(
      /DB_PASSWORD already exists in namespace company\.team: nothing was written/,
    );
    expect(await value("DB_PASSWORD")).toContain("quoted");
    expect(await page.content()).not.toContain("overwrite-attempt");
    await page.getByRole("link", { name: "Edit DB_PASSWORD" }).click();
    await page.waitForURL(/\/console\/edit\?/);
    await expect(page.getByRole("heading", { level: 1 }).textContent()).resolves.toBe("Edit DB_PASSWORD");
    await page.getByRole("link", { name: "Cancel" }).click();
    await page.waitForURL(/ns=company\.team/);
  });

  it("edits metadata with the value kept, then the value", async () => {
    await page.getByRole("link", { name: "Edit DB_PASSWORD" }).click();
    await expect(page.getByLabel(/^New value/).inputValue()).resolves.toBe("");
    await page.getByLabel("Description").fill("Renamed");
    await page.getByRole("button", { name: "Save" }).click();
    await page.waitForURL(/done=/);
    expect(await value("DB_PASSWORD")).toContain("quoted");
    await expect(page.locator('tr[data-key="DB_PASSWORD"]').textContent()).resolves.toContain("Renamed");
    await page.getByRole("link", { name: "Edit DB_PASSWORD" }).click();
    await page.getByLabel(/^New value/).fill("rotated-value");
    await page.getByRole("button", { name: "Save" }).click();
    await page.waitForURL(/done=/);
    expect(await value("DB_PASSWORD")).toBe("rotated-value");
  });

  it("copies {{ secret('KEY') }} to the clipboard", async () => {
    await page.getByRole("button", { name: "Copy {{ secret('DB_PASSWORD') }}" }).click();
    await page.locator("#status", { hasText: "Copied" }).waitFor();
    expect(
      await page.evaluate(() =>
        (
          globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }
        ).navigator.clipboard.readText(),
      ),
    ).toBe("{{ secret('DB_PASSWORD') }}");
  });

  it("refuses a write without the CSRF token", async () => {
    const response = await page.request.post(`${running.url}/console/delete`, {
      form: { ns: "company.team", key: "DB_PASSWORD" },
    });
    expect(response.status()).toBe(403);
    expect(await value("DB_PASSWORD")).toBe("rotated-value");
  });

  it("deletes after a confirmation", async () => {
    await page.getByRole("link", { name: "Delete DB_PASSWORD" }).click();
    await expect(page.getByRole("alertdialog").textContent()).resolves.toContain(
      "Delete the secret DB_PASSWORD",
    );
    expect(await value("DB_PASSWORD")).toBe("rotated-value"); // nothing deleted yet
    await page.getByRole("button", { name: "Delete DB_PASSWORD" }).click();
    await page.waitForURL(/done=/);
    await expect(page.getByRole("status").first().textContent()).resolves.toBe("Deleted DB_PASSWORD.");
    expect(await page.locator('tr[data-key="DB_PASSWORD"]').count()).toBe(0);
    await expect(value("DB_PASSWORD")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("shows a lock and no Create button on a read-only namespace", async () => {
    await page.getByRole("list", { name: "Namespaces" }).getByRole("link", { name: "company.ro" }).click();
    await page.waitForURL(/ns=company\.ro/);
    expect(await page.getByRole("img", { name: "Read-only" }).count()).toBe(1);
    expect(await page.getByRole("button", { name: "Create" }).count()).toBe(0);
    expect(await page.getByRole("link", { name: /^(Edit|Delete) / }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Copy {{ secret('SHARED') }}" }).count()).toBe(1);
  });

  it("renders the README's screenshot, with no script or CSP error on any page", async () => {
    await running.router.put({ namespace: "company.team", key: "DB_PASSWORD" }, "x".repeat(20), {
      description: "Orders database",
      tags: { env: "prod" },
    });
    await page.goto(`${running.url}/console?ns=company.team`);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    if (process.env.KEYWAY_UPDATE_SCREENSHOT !== "1") rmSync(SCREENSHOT);
    expect(errors).toEqual([]);
  });
});
