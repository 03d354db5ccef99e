// The browser suite's harness: a real `idflow serve` on a loopback port and a temporary data
// directory, Debian's Chromium driven by playwright-core, the admin API, TOTP codes, axe-core,
// QR decoding, and screenshots when IDFLOW_SCREENSHOTS names a folder.

import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

import { chromium } from 'playwright-core';
import jsQR from 'jsqr';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');
const require = createRequire(import.meta.url);

/** The debug binary `cargo test --workspace` (or `cargo build -p idflow-cli`) builds. */
export const BINARY = process.env.IDFLOW_BIN || path.join(repo, 'target/debug/idflow');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
/** The guide's flags: without the networking ones Chromium hangs on an offline machine. */
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export const TENANT = 'demo';
export const STORE = 'demo';
export const POLICY = 'default';

/** A running `idflow serve`: its base URL, admin token and log. */
export async function startServer() {
  if (!existsSync(BINARY)) {
    throw new Error(`${BINARY} is missing: run \`cargo build -p idflow-cli\` (or set IDFLOW_BIN)`);
  }
  const data = mkdtempSync(path.join(tmpdir(), 'idflow-browser-'));
  const child = spawn(BINARY, ['serve', '--listen', '127.0.0.1:0', '--data', path.join(data, 'data')], {
    env: { ...process.env, RUST_LOG: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (chunk) => {
    log += chunk;
  });
  const banner = [];
  const lines = createInterface({ input: child.stdout });
  const ready = new Promise((resolve, reject) => {
    let adminNext = false;
    lines.on('line', (line) => {
      if (adminNext) {
        adminNext = false;
        resolve(line.trim());
        return;
      }
      banner.push(line);
      if (line.startsWith('Admin token for tenant')) adminNext = true;
    });
    child.on('exit', (code) => reject(new Error(`idflow serve exited (${code}) before it was ready:\n${log}`)));
  });
  const admin = await ready;
  const base = banner[0].replace('idflow listening on ', '').trim();
  return {
    base,
    admin,
    banner,
    /** The data directory (its signing key mints tokens with `idflow token --data`). */
    dataDir: path.join(data, 'data'),
    log: () => log,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(data, { recursive: true, force: true });
    },
  };
}

/** Calls the API with the admin token; answers the parsed body, throws on an unexpected status. */
export async function adminCall(server, method, route, body, expected = [200, 201]) {
  const headers = { Authorization: `Bearer ${server.admin}` };
  let payload;
  if (typeof body === 'string') {
    headers['Content-Type'] = 'application/xml';
    payload = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const response = await fetch(server.base + route, { method, headers, body: payload });
  const text = await response.text();
  if (!expected.includes(response.status)) throw new Error(`${method} ${route}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** A fresh external ID, so every case has its own user. */
export function newExternalId(prefix) {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

/** A process token of the demo tenant for `definition`, acting for `externalId`. */
export async function createToken(server, definition, externalId) {
  return adminCall(server, 'POST', `/api/process-manager/tenants/${TENANT}/process-tokens`, {
    name: `${definition}-${externalId}`,
    processDefnName: definition,
    parameters: { storeName: STORE, externalId, passcodePolicy: POLICY, totpPolicy: POLICY },
  });
}

/** The user as the API shows it (`id`, `registeredPasscodes`, `totpRegistrations`, ...). */
export async function userByExternalId(server, externalId) {
  const body = await adminCall(server, 'GET', `/api/identity-store/tenants/${TENANT}/stores/${STORE}/users/${encodeURIComponent(externalId)}/ext`);
  return body.user;
}

export async function currentTotp(server, userId) {
  return adminCall(server, 'GET', `/api/identity-store/tenants/${TENANT}/stores/${STORE}/users/${userId}/totps/registrations/${POLICY}`);
}

export async function instanceHistory(server, instanceId) {
  return adminCall(server, 'GET', `/api/process-manager/tenants/${TENANT}/process-instances/${instanceId}/history`);
}

function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/=+$/, '').toUpperCase()) {
    const index = alphabet.indexOf(c);
    if (index < 0) throw new Error(`not base32: ${c}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 6238 with HMAC-SHA1, 6 digits, 30 s: the demo policy. */
export function totpCode(secret, at = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const number = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(number).padStart(6, '0');
}

export async function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
}

/**
 * A fresh browser context (its own sessionStorage) and page, with the network log of every
 * request the page makes and the CSP violations and script errors it reports.
 */
export async function openContext(browser, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1024, height: 800 }, ...options });
  const dist = process.env.IDFLOW_BACKOFFICE_DIST;
  if (dist) {
    // While iterating on the backoffice: its bundle from this folder rather than the binary's.
    await context.route(/\/backoffice\/[^/]+\/designer\.(js|css)$/, (route) => {
      const file = path.join(dist, path.basename(new URL(route.request().url()).pathname));
      route.fulfill({ body: readFileSync(file), contentType: file.endsWith('.js') ? 'text/javascript' : 'text/css' });
    });
  }
  const requests = [];
  const problems = [];
  context.on('request', (request) => {
    requests.push({ method: request.method(), url: request.url(), headers: request.headers(), body: request.postData() || '' });
  });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(String(error)));
  return { context, page, requests, problems };
}

/** Waits until the page shows a step, a final page or an error, and answers which. */
export async function settled(page) {
  await page.waitForFunction(() => {
    const main = document.getElementById('main');
    return main && ['step', 'end', 'error'].includes(main.dataset.state) && main.getAttribute('aria-busy') !== 'true';
  });
  return page.evaluate(() => {
    const main = document.getElementById('main');
    return {
      state: main.dataset.state,
      status: main.dataset.status || null,
      error: main.dataset.error || null,
      activity: main.dataset.activity || null,
      heading: document.querySelector('h1')?.textContent || '',
    };
  });
}

const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical violations on the page as it is (WCAG 2.1 A and AA). */
export async function axeViolations(page) {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(`${axeSource}\n;true`);
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } }),
  );
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** The QR code an <img> draws, decoded (the page's pixels, read through a canvas). */
export async function decodeQr(page, selector) {
  const image = await page.evaluate(async (sel) => {
    const img = document.querySelector(sel);
    await img.decode();
    const size = 320;
    const canvas = document.createElement('canvas');
    canvas.width = size;
    canvas.height = size;
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, size, size);
    ctx.drawImage(img, 0, 0, size, size);
    // Raw RGBA as base64: far quicker across the DevTools protocol than an array of numbers.
    const bytes = ctx.getImageData(0, 0, size, size).data;
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return { size, data: btoa(binary) };
  }, selector);
  const found = jsQR(new Uint8ClampedArray(Buffer.from(image.data, 'base64')), image.size, image.size);
  return found ? found.data : null;
}

let shot = 0;

/** Screenshots at desktop width and at 320 px when IDFLOW_SCREENSHOTS names a folder. */
export async function screenshots(page, name) {
  const dir = process.env.IDFLOW_SCREENSHOTS;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const n = String(++shot).padStart(2, '0');
  const viewport = page.viewportSize();
  await page.screenshot({ path: path.join(dir, `${n}-${name}-desktop.png`), fullPage: true });
  await page.setViewportSize({ width: 320, height: 640 });
  await page.screenshot({ path: path.join(dir, `${n}-${name}-320.png`), fullPage: true });
  await page.setViewportSize(viewport);
}
