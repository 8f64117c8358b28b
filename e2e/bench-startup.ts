/**
 * npm run bench:startup
 * Measures, on a fresh DATA_DIR with the existing production build:
 *   - time from `npm start` to the login page answering 200
 *   - time from `npm start` to the engine's first heartbeat shown in the browser
 *     (includes signing in, as a user would)
 *   - first-load JavaScript of the dashboard page, gzip
 * Anchors measured in the same run: a bare `node -e 0` start, and React +
 * ReactDOM production builds gzipped (the floor for any React page).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { launchBrowser, printedAdminPassword, startPlatform } from "./harness";

const require = createRequire(import.meta.url);
const kb = (b: number) => `${(b / 1024).toFixed(1)} kB`;

function nodeStartMs(): number {
  const t = performance.now();
  execFileSync(process.execPath, ["-e", "0"]);
  return performance.now() - t;
}

function reactFloorGzip(): number {
  const reactDir = dirname(require.resolve("react/package.json"));
  const domDir = dirname(require.resolve("react-dom/package.json"));
  const files = [join(reactDir, "cjs", "react.production.js"), join(domDir, "cjs", "react-dom-client.production.js"), join(domDir, "cjs", "react-dom.production.js")];
  return files.reduce((sum, f) => sum + gzipSync(readFileSync(f), { level: 9 }).length, 0);
}

const t0 = Date.now();
const platform = await startPlatform();
const loginMs = platform.loginReadyMs;
const admin = printedAdminPassword(platform.output());
const browser = await launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const scripts = new Map<string, number>();
  page.on("response", async (res) => {
    if (res.request().resourceType() === "script" && res.ok()) {
      try {
        scripts.set(res.url(), gzipSync(await res.body(), { level: 9 }).length);
      } catch {
        // navigation raced the body; it is fetched again below
      }
    }
  });
  await page.goto(`${platform.baseUrl}/login`);
  await page.getByLabel("Email").fill(admin.email);
  await page.getByLabel("Password").fill(admin.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${platform.baseUrl}/`);
  scripts.clear(); // count only what the dashboard itself loads on a fresh load
  await page.reload();
  await page.getByTestId("engine-uptime").filter({ hasText: /\d\d:\d\d:\d\d/ }).waitFor({ timeout: 60_000 });
  const heartbeatMs = Date.now() - t0;
  await page.waitForLoadState("networkidle").catch(() => undefined);
  const firstLoadJs = [...scripts.values()].reduce((a, b) => a + b, 0);

  const node = Math.min(nodeStartMs(), nodeStartMs(), nodeStartMs());
  const react = reactFloorGzip();
  console.log(`npm start -> login page 200:               ${(loginMs / 1000).toFixed(2)} s   (target < 15 s; anchor: bare node start ${node.toFixed(0)} ms)`);
  console.log(`npm start -> first heartbeat in browser:   ${(heartbeatMs / 1000).toFixed(2)} s   (includes signing in)`);
  console.log(`dashboard first-load JS (gzip, ${scripts.size} files): ${kb(firstLoadJs)}   (target < 300 kB; anchor: React+ReactDOM alone ${kb(react)})`);
  console.log(JSON.stringify({ loginMs, heartbeatMs, firstLoadJsGzipBytes: firstLoadJs, scriptFiles: scripts.size, anchorNodeStartMs: Math.round(node), anchorReactGzipBytes: react }));
} finally {
  await browser.close();
  await platform.stop();
}
