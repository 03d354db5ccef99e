// The end user's pages, measured (BENCHMARKS.md): bytes transferred until the first step is
// drawn, and the time from navigation to that moment, on loopback in headless Chromium.
//
//   node tests/browser/bench.mjs [runs]      (IDFLOW_BIN picks the binary; default the debug one)
//
// Each run opens a demo-style token's link in a fresh browser context (cold: empty cache), then
// a second link in the same context (warm: the immutable assets come from the cache). "Bytes"
// are request and response headers and bodies as Chromium counts them, every request of the
// page included. The registration step has no QR code; the TOTP registration step's figure is
// shown with its QR SVG for comparison.

import { randomBytes } from 'node:crypto';

import { adminCall, launchBrowser, startServer, STORE, TENANT } from './lib/harness.mjs';

const runs = Number(process.argv[2]) || 20;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

/** When the first step was drawn, in ms since the navigation started. */
function recordFirstStep() {
  const observer = new MutationObserver(() => {
    const main = document.getElementById('main');
    if (main && main.dataset.state === 'step' && window.firstStepAt === undefined) {
      window.firstStepAt = performance.now();
      observer.disconnect();
    }
  });
  observer.observe(document, { subtree: true, attributes: true, attributeFilter: ['data-state'] });
}

async function measure(context, link) {
  const page = await context.newPage();
  const requests = [];
  page.on('requestfinished', (r) => requests.push(r));
  await page.goto(link);
  await page.waitForFunction(() => window.firstStepAt !== undefined);
  const ms = await page.evaluate(() => window.firstStepAt);
  let bytes = 0;
  for (const r of requests) {
    const s = await r.sizes();
    bytes += s.requestHeadersSize + s.requestBodySize + s.responseHeadersSize + s.responseBodySize;
  }
  await page.close();
  return { ms, bytes, requests: requests.length };
}

const server = await startServer();
const browser = await launchBrowser();
try {
  const externalId = `bench-${randomBytes(4).toString('hex')}`;
  await adminCall(server, 'POST', `/api/identity-store/tenants/${TENANT}/stores/${STORE}/users`, { externalId });
  const token = async (definition) =>
    (
      await adminCall(server, 'POST', `/api/process-manager/tenants/${TENANT}/process-tokens`, {
        name: `${definition}-${randomBytes(4).toString('hex')}`,
        processDefnName: definition,
        parameters: { storeName: STORE, externalId, passcodePolicy: 'default', totpPolicy: 'default' },
      })
    ).uiUrl;
  const flows = [
    ['passcode registration (no QR code)', await token('passcode-registration')],
    ['TOTP registration (with its QR SVG)', await token('totp-registration')],
  ];
  console.log(`${runs} runs per row; ${server.base}; Chromium headless on loopback`);
  console.log('| first step | cache | bytes transferred | requests | navigation → step drawn, median | p90 |');
  console.log('|---|---|---|---|---|---|');
  for (const [name, link] of flows) {
    const cold = [];
    const warm = [];
    for (let i = 0; i < runs; i++) {
      const context = await browser.newContext();
      await context.addInitScript(recordFirstStep);
      cold.push(await measure(context, link));
      warm.push(await measure(context, link));
      await context.close();
    }
    for (const [cache, list] of [['cold', cold], ['warm', warm]]) {
      const ms = list.map((r) => r.ms);
      console.log(
        `| ${name} | ${cache} | ${median(list.map((r) => r.bytes)).toLocaleString('en')} | ${median(list.map((r) => r.requests))} | ${median(ms).toFixed(1)} ms | ${percentile(ms, 90).toFixed(1)} ms |`,
      );
    }
  }
} finally {
  await browser.close();
  await server.stop();
}
