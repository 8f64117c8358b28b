import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARTIFACTS, CHROMIUM, launchBrowser, type Platform, printedAdminPassword, startPlatform } from "./harness";

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.log(`[notice] ${CHROMIUM} not found: backtest e2e tests are skipped`);

describe.skipIf(!haveChromium)("backtests and the strategy builder end to end (npm start + Chromium)", () => {
  let platform: Platform;
  let browser: Browser;
  let admin: { email: string; password: string };

  beforeAll(async () => {
    platform = await startPlatform();
    admin = printedAdminPassword(platform.output());
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  async function signedIn(width: number, height: number): Promise<Page> {
    const context = await browser.newContext({ viewport: { width, height } });
    const page = await context.newPage();
    await page.goto(`${platform.baseUrl}/login`);
    await page.getByLabel("Email").fill(admin.email);
    await page.getByLabel("Password").fill(admin.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${platform.baseUrl}/`);
    return page;
  }

  async function noHorizontalOverflow(page: Page): Promise<void> {
    const [scroll, client] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    expect(scroll).toBeLessThanOrEqual(client + 1);
  }

  it("runs a backtest on the demo S&P 500 from the form, refuses a bad parameter, reads and exports the report (1440x900)", async () => {
    const page = await signedIn(1440, 900);
    await page.goto(`${platform.baseUrl}/backtests`);
    await page.getByTestId("backtest-form").waitFor();
    await page.locator("#bt-symbol").selectOption("SPX");
    await page.locator("#bt-timeframe").selectOption("1d");
    await page.locator("#bt-strategy").selectOption("sma-cross");
    await page.locator("#bt-param-fast").fill("30");
    await page.locator("#bt-param-slow").fill("10");
    await page.getByRole("button", { name: "Run backtest" }).click();
    await expect.poll(() => page.getByTestId("error-bt-param-fast").textContent(), { timeout: 15_000 }).toMatch(/must be less than slow/);
    await page.screenshot({ path: join(ARTIFACTS, "desktop-backtest-field-error.png") });

    await page.locator("#bt-param-fast").fill("10");
    await page.locator("#bt-param-slow").fill("30");
    await page.getByRole("button", { name: "Run backtest" }).click();
    await page.waitForURL(/\/backtests\/[0-9a-f-]{36}$/, { timeout: 60_000 });
    const id = page.url().split("/").pop()!;
    const report = page.getByTestId("backtest-report");
    await expect.poll(() => report.getAttribute("data-status"), { timeout: 30_000 }).toBe("done");
    for (const part of ["headline-metrics", "equity-chart", "trades-chart", "monthly-heatmap", "pnl-histogram", "trade-table", "metrics-table"]) {
      await page.getByTestId(part).waitFor();
    }
    expect(await page.getByTestId("metrics-table").textContent()).toMatch(/Sharpe/);
    await page.waitForTimeout(500);
    await page.screenshot({ path: join(ARTIFACTS, "desktop-backtest-report.png"), fullPage: true });

    // the run is in the history
    await page.goto(`${platform.baseUrl}/backtests`);
    await page.getByTestId(`run-row-${id}`).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "desktop-backtests.png"), fullPage: true });

    // exports: a standalone HTML file (no scripts) and the JSON of the run; none without a session
    const html = await page.request.get(`${platform.baseUrl}/api/backtests/${id}/export?format=html`);
    expect(html.status()).toBe(200);
    const body = await html.text();
    expect(body).toMatch(/<svg/);
    expect(body).not.toMatch(/<script/i);
    const json = await page.request.get(`${platform.baseUrl}/api/backtests/${id}/export?format=json`);
    expect(json.status()).toBe(200);
    const run = (await json.json()) as { status: string; fills: number; metrics: { sharpe: number } };
    expect(run.status).toBe("done");
    expect(run.fills).toBeGreaterThan(0);
    expect(typeof run.metrics.sharpe).toBe("number");
    const anon = await browser.newContext();
    expect((await anon.request.get(`${platform.baseUrl}/api/backtests/${id}/export?format=json`)).status()).toBe(401);
    await anon.close();
    await page.context().close();
  });

  it("builds a strategy on a phone: example, save as a version, backtest, report (390x844)", async () => {
    const page = await signedIn(390, 844);
    await page.goto(`${platform.baseUrl}/builder`);
    await page.getByRole("button", { name: "Example" }).click();
    await page.getByTestId("builder-save").click();
    await expect.poll(() => page.getByTestId("builder-notice").textContent(), { timeout: 15_000 }).toMatch(/Saved as .* v1/);
    await noHorizontalOverflow(page);
    await page.screenshot({ path: join(ARTIFACTS, "phone-builder.png"), fullPage: true });

    await page.getByLabel("Backtest symbol").selectOption("SPX");
    await page.getByLabel("Backtest timeframe").selectOption("1d");
    await page.getByTestId("backtest-run").click();
    await page.waitForURL(/\/backtests\/[0-9a-f-]{36}$/, { timeout: 60_000 });
    await expect.poll(() => page.getByTestId("backtest-report").getAttribute("data-status"), { timeout: 30_000 }).toBe("done");
    await page.getByTestId("metrics-table").waitFor();
    await noHorizontalOverflow(page);
    await page.waitForTimeout(500);
    await page.screenshot({ path: join(ARTIFACTS, "phone-backtest-report.png"), fullPage: true });
    await page.context().close();
  });
  it("optimises the SMA periods on the demo data: grid with a heatmap and overfitting statistics, then walk-forward out-of-sample (1440x900, 390x844)", async () => {
    const page = await signedIn(1440, 900);
    await page.goto(`${platform.baseUrl}/optimize`);
    await page.getByTestId("optimize-form").waitFor();
    await page.locator("#opt-symbol").selectOption("SPX");
    await page.locator("#opt-timeframe").selectOption("1d");
    await page.locator("#opt-strategy").selectOption("sma-cross");
    await page.getByTestId("opt-param-fast-mode").selectOption("range");
    await page.getByTestId("opt-param-fast-min").fill("5");
    await page.getByTestId("opt-param-fast-max").fill("15");
    await page.getByTestId("opt-param-fast-step").fill("5");
    await page.getByTestId("opt-param-slow-mode").selectOption("range");
    await page.getByTestId("opt-param-slow-min").fill("30");
    await page.getByTestId("opt-param-slow-max").fill("60");
    await page.getByTestId("opt-param-slow-step").fill("10");
    await expect.poll(() => page.getByTestId("grid-size").getAttribute("data-total")).toBe("12");
    await page.getByTestId("optimize-submit").click();
    await page.waitForURL(/\/optimize\/[0-9a-f-]{36}$/, { timeout: 90_000 });
    const result = page.getByTestId("optimize-result");
    await expect.poll(() => result.getAttribute("data-status"), { timeout: 30_000 }).toBe("done");
    for (const part of ["heatmap", "overfit-stats", "trials-table", "best-params"]) await page.getByTestId(part).waitFor();
    expect(await page.getByTestId("overfit-stats").textContent()).toMatch(/deflated sharpe/i);
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(ARTIFACTS, "desktop-optimize-grid.png"), fullPage: true });

    // walk-forward on the same data, looked at on a phone
    await page.goto(`${platform.baseUrl}/optimize`);
    await page.getByTestId("optimize-form").waitFor();
    await page.locator("#opt-symbol").selectOption("SPX");
    await page.locator("#opt-timeframe").selectOption("1d");
    await page.locator("#opt-strategy").selectOption("sma-cross");
    await page.getByTestId("opt-param-fast-mode").selectOption("range");
    await page.getByTestId("opt-param-fast-min").fill("5");
    await page.getByTestId("opt-param-fast-max").fill("15");
    await page.getByTestId("opt-param-fast-step").fill("5");
    await page.getByTestId("opt-kind-walk_forward").check({ force: true });
    await page.getByTestId("optimize-submit").click();
    await page.waitForURL(/\/optimize\/[0-9a-f-]{36}$/, { timeout: 90_000 });
    await expect.poll(() => page.getByTestId("optimize-result").getAttribute("data-status"), { timeout: 60_000 }).toBe("done");
    await page.getByTestId("walk-forward-folds").waitFor();
    await page.getByTestId("oos-equity").waitFor();
    expect(await page.getByTestId("walk-forward-folds").textContent()).toMatch(/out-of-sample/i);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    await noHorizontalOverflow(page);
    await page.screenshot({ path: join(ARTIFACTS, "phone-optimize-walk-forward.png"), fullPage: true });
    await page.context().close();
  });
  it("trains PPO on CartPole from the Training page: live run, curves, registered model with ONNX download and network view (1440x900, 390x844)", async () => {
    const page = await signedIn(1440, 900);
    await page.goto(`${platform.baseUrl}/training`);
    await page.getByTestId("training-form").waitFor();
    await page.getByTestId("tr-env").selectOption("cartpole");
    await page.getByTestId("tr-algo").selectOption("ppo");
    await page.getByTestId("tr-steps").fill("16384");
    await page.getByTestId("tr-seed").fill("3");
    // an impossible value is refused at its field before anything starts
    await page.getByTestId("tr-ppo-gamma").fill("2");
    await page.getByTestId("training-submit").click();
    await expect.poll(() => page.getByTestId("error-tr-ppo-gamma").textContent(), { timeout: 15_000 }).toMatch(/.+/);
    await page.getByTestId("tr-ppo-gamma").fill("0.99");
    await page.getByTestId("training-submit").click();
    await page.waitForURL(/\/training\/[0-9a-f-]{36}$/, { timeout: 30_000 });
    await expect.poll(() => page.getByTestId("training-run").getAttribute("data-status"), { timeout: 90_000 }).toBe("done");
    await page.getByTestId("curves").waitFor();
    await page.getByTestId("training-summary").waitFor();
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(ARTIFACTS, "desktop-training-run.png"), fullPage: true });

    await page.goto(`${platform.baseUrl}/training`);
    const model = page.locator('[data-testid^="model-row-"]').first();
    await model.waitFor({ timeout: 30_000 });
    const modelId = (await model.getAttribute("data-testid"))!.replace("model-row-", "");
    const onnx = await page.request.get(`${platform.baseUrl}/api/models/${modelId}/onnx`);
    expect(onnx.status()).toBe(200);
    expect((await onnx.body()).length).toBeGreaterThan(1000);
    await page.goto(`${platform.baseUrl}/training?model=${modelId}`);
    await page.getByTestId("network-view").waitFor();
    await expect.poll(() => page.getByTestId("network-action").getAttribute("data-action"), { timeout: 15_000 }).toMatch(/^[01]$/);
    await page.context().close();
    // the same page opened on a phone
    const phone = await signedIn(390, 844);
    await phone.goto(`${platform.baseUrl}/training`);
    await phone.getByTestId("network-view").waitFor();
    await phone.getByTestId("network-model").selectOption(modelId);
    await expect.poll(() => phone.getByTestId("network-action").getAttribute("data-action"), { timeout: 15_000 }).toMatch(/^[01]$/);
    // the page fits the phone: wide tables and the network scroll inside their own boxes, and nothing
    // absolutely positioned in them (the tables' screen-reader headers) widens the page
    await noHorizontalOverflow(phone);
    await phone.screenshot({ path: join(ARTIFACTS, "phone-training.png"), fullPage: true });
    await phone.context().close();
  });

  it("trains an attention policy on the demo S&P 500 with walk-forward folds: fold table, out-of-sample report, attention map in the network view (1440x900)", async () => {
    const page = await signedIn(1440, 900);
    await page.goto(`${platform.baseUrl}/training`);
    await page.getByTestId("training-form").waitFor();
    await expect.poll(() => page.getByTestId("training-compute").textContent(), { timeout: 15_000 }).toMatch(/Compute: (CPU|GPU)/);
    await page.getByTestId("tr-env").selectOption("trading");
    await expect.poll(() => page.getByTestId("tr-trading-symbol").inputValue(), { timeout: 15_000 }).toBe("SPX");
    await page.getByTestId("tr-steps").fill("2048");
    await page.getByTestId("tr-trading-window").fill("8");
    await page.getByTestId("tr-ppo-network").selectOption("attention");
    await page.getByTestId("tr-ppo-attention-dModel").fill("8");
    await page.getByTestId("tr-ppo-attention-heads").fill("3");
    await page.getByTestId("tr-trading-walkForward-folds").fill("2");
    // heads must divide the width: refused at its field before anything starts
    await page.getByTestId("training-submit").click();
    await expect.poll(() => page.getByTestId("error-tr-ppo-attention-heads").textContent(), { timeout: 15_000 }).toMatch(/divide/);
    await page.getByTestId("tr-ppo-attention-heads").fill("2");
    await page.getByTestId("training-submit").click();
    await page.waitForURL(/\/training\/[0-9a-f-]{36}$/, { timeout: 30_000 });
    await expect.poll(() => page.getByTestId("training-run").getAttribute("data-status"), { timeout: 120_000 }).toBe("done");
    await page.getByTestId("walk-forward").waitFor();
    expect(await page.locator('[data-testid^="fold-"]').count()).toBe(2);
    await expect.poll(() => page.getByTestId("out-of-sample").getAttribute("data-label")).toBe("out-of-sample");
    await page.screenshot({ path: join(ARTIFACTS, "desktop-training-attention-run.png"), fullPage: true });

    await page.goto(`${platform.baseUrl}/training`);
    const model = page.locator('[data-testid^="model-row-"]').first();
    await model.waitFor({ timeout: 30_000 });
    const modelId = (await model.getAttribute("data-testid"))!.replace("model-row-", "");
    await page.goto(`${platform.baseUrl}/training?model=${modelId}`);
    await page.getByTestId("network-view").waitFor();
    await page.getByTestId("attention-maps").waitFor({ timeout: 15_000 });
    expect(await page.locator('[data-testid^="attention-head-"]').count()).toBe(2);
    expect(await page.getByTestId("attention-head-0").locator("rect").count()).toBe(8 * 8);
    await expect.poll(() => page.getByTestId("network-action").getAttribute("data-action"), { timeout: 15_000 }).toMatch(/^[0-2]$/);
    await page.screenshot({ path: join(ARTIFACTS, "desktop-attention-network.png"), fullPage: true });
    await page.context().close();
  });
});
