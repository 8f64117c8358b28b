import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARTIFACTS, CHROMIUM, launchBrowser, type Platform, printedAdminPassword, startPlatform } from "./harness";

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.log(`[notice] ${CHROMIUM} not found: e2e tests are skipped (install Debian's chromium; .ci/run does).`);

const VIEWPORTS = [
  { name: "phone", width: 390, height: 844 },
  { name: "desktop", width: 1440, height: 900 },
] as const;

describe.skipIf(!haveChromium)("platform end to end (npm start + Chromium)", () => {
  let platform: Platform;
  let browser: Browser;
  let admin: { email: string; password: string };
  let failuresFromThisAddress = 0;

  beforeAll(async () => {
    platform = await startPlatform();
    admin = printedAdminPassword(platform.output());
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  async function signIn(page: Page, email: string, password: string) {
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
  }

  async function uptimeSeconds(page: Page): Promise<number> {
    const text = (await page.getByTestId("engine-uptime").textContent()) ?? "";
    const m = /(\d+):(\d+):(\d+)$/.exec(text.trim());
    if (!m) return -1;
    return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
  }

  for (const vp of VIEWPORTS) {
    it(`signs in as a new user would, sees live engine figures and signs out (${vp.width}x${vp.height})`, async () => {
      const context = await browser.newContext({ viewport: { width: vp.width, height: vp.height } });
      const page = await context.newPage();
      await page.goto(`${platform.baseUrl}/`);
      await page.waitForURL(/\/login/);
      await page.screenshot({ path: join(ARTIFACTS, `${vp.name}-login.png`) });

      await signIn(page, admin.email, "definitely-wrong");
      failuresFromThisAddress++;
      await expect.poll(() => page.getByTestId("login-error").textContent(), { timeout: 10_000 }).toBe("Wrong email or password.");

      await signIn(page, admin.email, admin.password);
      await page.waitForURL(`${platform.baseUrl}/`);
      const status = page.getByTestId("engine-status");
      await expect.poll(() => status.textContent(), { timeout: 15_000 }).toBe("engine online");
      await expect.poll(() => uptimeSeconds(page), { timeout: 10_000 }).toBeGreaterThanOrEqual(0);
      const firstUptime = await uptimeSeconds(page);
      const firstEvent = await page.getByTestId("engine-last-event").textContent();
      await expect.poll(() => uptimeSeconds(page), { timeout: 10_000 }).toBeGreaterThan(firstUptime);
      expect(await page.getByTestId("engine-last-event").textContent()).not.toBe(firstEvent);
      expect(await page.getByTestId("engine-rss").textContent()).toMatch(/^\d+\.\d MB$/);
      expect(await page.getByTestId("engine-cpu").textContent()).toMatch(/^\d+\.\d %$/);
      await page.waitForTimeout(1500); // let the sparklines draw a few points
      await page.screenshot({ path: join(ARTIFACTS, `${vp.name}-dashboard.png`), fullPage: true });

      // Navigation reaches every page, including on a phone through the menu.
      if (vp.width < 768) {
        await page.getByRole("button", { name: "Open menu" }).click();
        await page.screenshot({ path: join(ARTIFACTS, `${vp.name}-menu.png`) });
      }
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Risk" }).click();
      await page.waitForURL(/\/risk$/);
      await page.getByText("Not built yet").waitFor();
      if (vp.width < 768) await page.getByRole("button", { name: "Open menu" }).click();
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
      await page.waitForURL(/\/settings$/);
      await page.getByTestId(`user-row-${admin.email}`).waitFor();
      await page.screenshot({ path: join(ARTIFACTS, `${vp.name}-settings.png`), fullPage: true });

      if (vp.width < 768) await page.getByRole("button", { name: "Open menu" }).click();
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.waitForURL(/\/login/);
      await page.goto(`${platform.baseUrl}/`);
      await page.waitForURL(/\/login/);
      await context.close();
    });
  }

  it("refuses the stream and the API without a session (401) and with too low a role (403)", async () => {
    expect((await fetch(`${platform.baseUrl}/api/stream`)).status).toBe(401);
    expect((await fetch(`${platform.baseUrl}/api/trpc/users.list`)).status).toBe(401);
    expect((await fetch(`${platform.baseUrl}/api/metrics`)).status).toBe(401);
    expect((await fetch(`${platform.baseUrl}/api/market/upload?symbol=NQ&timeframe=1m`, { method: "POST", body: "x" })).status).toBe(401);
    expect((await fetch(`${platform.baseUrl}/api/market/quarantine`)).status).toBe(401);
    // The engine's import route needs the shared secret, not just network access.
    expect((await fetch(`http://127.0.0.1:${platform.enginePort}/import?symbol=NQ&timeframe=1m`, { method: "POST", body: "x" })).status).toBe(401);
    expect((await fetch(`${platform.baseUrl}/api/health`)).status).toBe(200);

    // The admin creates a viewer on the Settings page; the viewer may read but not manage users.
    const adminCtx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await adminCtx.newPage();
    await page.goto(`${platform.baseUrl}/login`);
    await signIn(page, admin.email, admin.password);
    await page.waitForURL(`${platform.baseUrl}/`);
    await page.goto(`${platform.baseUrl}/settings`);
    await page.getByLabel("New user email").fill("viewer@example.com");
    await page.getByLabel("New user password").fill("viewer-pass-1");
    await page.getByLabel("New user role").selectOption("viewer");
    await page.getByRole("button", { name: "Create user" }).click();
    await page.getByTestId("user-row-viewer@example.com").waitFor();
    const metrics = await page.request.get(`${platform.baseUrl}/api/metrics`);
    expect(metrics.status()).toBe(200);
    expect(await metrics.text()).toContain("app_trpc_requests_total");
    await adminCtx.close();

    const viewerCtx = await browser.newContext();
    const vpage = await viewerCtx.newPage();
    await vpage.goto(`${platform.baseUrl}/login`);
    await signIn(vpage, "viewer@example.com", "viewer-pass-1");
    await vpage.waitForURL(`${platform.baseUrl}/`);
    expect((await vpage.request.get(`${platform.baseUrl}/api/trpc/users.list`)).status()).toBe(403);
    expect((await vpage.request.post(`${platform.baseUrl}/api/market/upload?symbol=NQ&timeframe=1m`, { data: "timestamp,open,high,low,close\n" })).status()).toBe(403);
    expect((await vpage.request.get(`${platform.baseUrl}/api/market/quarantine`)).status()).toBe(200);
    const me = await vpage.request.get(`${platform.baseUrl}/api/trpc/users.me`);
    expect(me.status()).toBe(200);
    expect(await me.text()).toContain("viewer@example.com");
    await vpage.goto(`${platform.baseUrl}/settings`);
    await vpage.getByText("User management needs the admin role.").waitFor();
    await vpage.getByLabel("Current password").fill("viewer-pass-1");
    await vpage.getByLabel("New password").fill("viewer-pass-2");
    await vpage.getByRole("button", { name: "Change password" }).click();
    await vpage.getByText("Password changed.").waitFor();
    await viewerCtx.close();
    const again = await (await browser.newContext()).newPage();
    await again.goto(`${platform.baseUrl}/login`);
    await signIn(again, "viewer@example.com", "viewer-pass-2");
    await again.waitForURL(`${platform.baseUrl}/`);
    await again.context().close();
  });

  it("shows the demo S&P 500 series on Markets, imports a file with a report, and browses its quarantine", async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${platform.baseUrl}/login`);
    await signIn(page, admin.email, admin.password);
    await page.waitForURL(`${platform.baseUrl}/`);
    await page.goto(`${platform.baseUrl}/markets`);
    // Real demo data, imported on first start from the vega-datasets package.
    await page.getByTestId("coverage-SPX-1d").waitFor();
    expect(await page.getByTestId("coverage-SPX-1d").textContent()).toContain("2000-01-03");
    await page.getByTestId("price-chart").locator("canvas").first().waitFor();
    expect(await page.getByTestId("ohlc-readout").textContent()).toMatch(/2020-04-17/);

    // Upload a small file with one bad row through the import panel.
    const csv = ["timestamp,open,high,low,close,volume"];
    for (let i = 0; i < 90; i++) csv.push(`${new Date(Date.UTC(2024, 2, 4, 15, 0) + i * 60_000).toISOString()},18000,18001.5,17999.75,18000.25,${10 + i}`);
    csv.push(`${new Date(Date.UTC(2024, 2, 4, 16, 30)).toISOString()},18000,17990,18010,18000,5`);
    await page.getByLabel("CSV file").setInputFiles({ name: "nq-sample.csv", mimeType: "text/csv", buffer: Buffer.from(csv.join("\n") + "\n") });
    await page.getByLabel("Import symbol").selectOption("NQ");
    await page.getByLabel("Import timeframe").selectOption("1m");
    await page.getByRole("button", { name: "Import", exact: true }).click();
    const report = page.getByTestId("import-report");
    await report.waitFor();
    const text = (await report.textContent()) ?? "";
    expect(text).toContain("Rows read91");
    expect(text).toContain("Stored90");
    expect(text).toContain("Quarantined1");
    expect(text).toContain("high_below_low 1");

    // The new series appears with coverage, charts at 1m and resampled to 15m.
    await page.getByTestId("coverage-NQ-1m").waitFor();
    await page.getByLabel("Symbol", { exact: true }).selectOption("NQ");
    await page.getByRole("button", { name: "15m" }).click();
    await expect.poll(async () => page.getByText(/resampled from stored 1m bars/).count(), { timeout: 10_000 }).toBe(1);

    // The quarantine browser shows the rejected row with its reason.
    await page.getByRole("cell", { name: "nq-sample.csv" }).click();
    await page.getByRole("cell", { name: "high_below_low" }).waitFor();
    const exported = await page.request.get(`${platform.baseUrl}/api/market/quarantine?symbol=NQ`);
    expect(exported.status()).toBe(200);
    expect(await exported.text()).toMatch(/high_below_low,high 17990 is below low 18010/);
    // Replay the demo series through the engine as fast as possible; every bar arrives on the stream.
    await page.getByLabel("Symbol", { exact: true }).selectOption("SPX");
    await page.getByRole("button", { name: "1d" }).click();
    await page.getByLabel("Replay speed").selectOption("max");
    await page.getByTestId("replay-panel").getByRole("button", { name: "Start" }).click();
    await expect.poll(() => page.getByTestId("replay-state").textContent(), { timeout: 30_000 }).toBe("finished · SPX 1d");
    await expect.poll(() => page.getByTestId("replay-received").textContent(), { timeout: 30_000 }).toBe("5,105 bars");
    await page.screenshot({ path: join(ARTIFACTS, "desktop-markets.png"), fullPage: true });
    await context.close();
  });

  it("shows 'engine offline' when the engine dies and recovers by itself when the launcher restarts it", async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${platform.baseUrl}/login`);
    await signIn(page, admin.email, admin.password);
    await page.waitForURL(`${platform.baseUrl}/`);
    const status = page.getByTestId("engine-status");
    await expect.poll(() => status.textContent(), { timeout: 15_000 }).toBe("engine online");
    const health = (await (await fetch(`http://127.0.0.1:${platform.enginePort}/health`)).json()) as { pid: number };
    process.kill(health.pid, "SIGKILL");
    await expect.poll(() => status.textContent(), { timeout: 15_000 }).toBe("engine offline");
    await page.screenshot({ path: join(ARTIFACTS, "desktop-engine-offline.png") });
    await expect.poll(() => status.textContent(), { timeout: 30_000 }).toBe("engine online");
    await expect.poll(async () => page.getByTestId("engine-pid").textContent(), { timeout: 10_000 }).not.toBe(String(health.pid));
    expect(platform.output()).toMatch(/engine exited \(SIGKILL\); restarting/);
    await context.close();
  });

  it("throttles sign-in after 5 failures from one address and says so; a forged X-Forwarded-For does not escape it", async () => {
    // Were the forged header believed, this address would start with no failures and need 5 more.
    const context = await browser.newContext({ extraHTTPHeaders: { "X-Forwarded-For": "198.51.100.7" } });
    const page = await context.newPage();
    await page.goto(`${platform.baseUrl}/login`);
    const attempt = async (password: string) => {
      const answered = page.waitForResponse((r) => r.request().method() === "POST" && r.url().includes("/login"));
      await signIn(page, "ghost@example.com", password);
      await answered;
      await page.getByRole("button", { name: "Sign in" }).waitFor();
      return page.getByTestId("login-error").textContent();
    };
    // Every sign-in here comes from one address, which already has `failuresFromThisAddress` failures.
    for (let i = failuresFromThisAddress; i < 5; i++) expect(await attempt(`wrong-${i}`)).toBe("Wrong email or password.");
    expect(await attempt("wrong-again")).toMatch(/Too many failed sign-in attempts.*try again in \d+ minutes?\./);
    await page.screenshot({ path: join(ARTIFACTS, "login-throttled.png") });
    await context.close();
  });
});
