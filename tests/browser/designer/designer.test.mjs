// The backoffice designer in headless Chromium: sign-in with the link idflow serve prints, build
// the passcode registration flow from an empty diagram with the palette, the catalogue chooser
// and the properties panel, see and fix a diagnostic, deploy and run it; open every shipped
// definition and round-trip it; a token without the deploy permission is refused.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { startServer, launchBrowser, openContext, adminCall, screenshots, TENANT, STORE, POLICY, newExternalId } from '../lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const definitionsDir = path.resolve(here, '../../../definitions');
const SHIPPED = readdirSync(definitionsDir).filter((f) => f.endsWith('.bpmn')).sort();

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Every `<idflow:activity>` of a file as "type{name=value;...}", sorted: the idflow semantics of its activities. */
export function activitiesOf(xml) {
  const out = [];
  const re = /<(?:\w+:)?activity\s+type="([^"]+)"\s*(?:\/>|>([\s\S]*?)<\/(?:\w+:)?activity>)/g;
  for (const m of xml.matchAll(re)) {
    const params = [...(m[2] || '').matchAll(/<(?:\w+:)?param\s+name="([^"]+)"\s*>([\s\S]*?)<\/(?:\w+:)?param>/g)]
      .map((p) => `${p[1]}=${p[2].replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, (w, t) => t.replace(/</g, '&lt;').replace(/>/g, '&gt;')).trim()}`)
      .sort();
    out.push(`${m[1]}{${params.join(';')}}`);
  }
  return out.sort();
}

async function signedIn(token) {
  const opened = await openContext(browser, { viewport: { width: 1280, height: 900 } });
  const { page } = opened;
  if (token) {
    await page.goto(`${server.base}/backoffice/`);
    await page.fill('#token-input', token);
    await page.click('#sign-in button[type=submit]');
  } else {
    const link = server.banner.find((l) => l.includes('/backoffice/#code='));
    assert.ok(link, `idflow serve prints a sign-in link:\n${server.banner.join('\n')}`);
    await page.goto(link.trim());
  }
  await page.waitForFunction(() => document.getElementById('app')?.dataset.state === 'ready');
  await validated(page);
  return opened;
}

/** Waits for the diagnostics of the diagram as it is now. */
async function validated(page) {
  await page.waitForFunction(() => window.idflowDesigner && document.getElementById('status')?.textContent);
  await page.evaluate(() => window.idflowDesigner.validateNow());
  await page.waitForFunction(() => !document.querySelector('#problems li.note') && document.querySelector('#problems li'));
  return page.evaluate(() => [...document.querySelectorAll('#problems li')].map((li) => ({ code: li.dataset.code, element: li.dataset.element, text: li.textContent })));
}

async function select(page, id) {
  await page.evaluate((elementId) => {
    const m = window.idflowDesigner.modeler;
    m.get('selection').select(m.get('elementRegistry').get(elementId));
  }, id);
}

/** Appends an activity of `key` after `after` through the palette and the catalogue chooser; answers its ID. */
async function appendActivity(page, after, key, search) {
  await select(page, after);
  await page.click('.djs-palette [data-action="create.idflow-activity"]');
  await page.fill('#activity-search', search);
  await page.click(`#activity-list li[data-key="${key}"]`);
  return page.evaluate(() => window.idflowDesigner.modeler.get('selection').get()[0].id);
}

async function fillParams(page, id, params) {
  await select(page, id);
  for (const [name, value] of Object.entries(params)) {
    await page.fill(`#properties input[data-param="${name}"]`, value);
  }
}

/** Modeling API calls the test makes for drag and drop (shapes and connections). */
async function model(page, fn, arg) {
  return page.evaluate(
    ([source, a]) => {
      const m = window.idflowDesigner.modeler;
      const get = (n) => m.get(n);
      const el = (id) => get('elementRegistry').get(id);
      // eslint-disable-next-line no-new-func
      return new Function('get', 'el', 'arg', source)(get, el, a);
    },
    [fn, arg],
  );
}

const BOUNDARY = `
  const host = el(arg.host);
  const shape = get('elementFactory').createShape({ type: 'bpmn:BoundaryEvent', eventDefinitionType: arg.def });
  const created = get('modeling').createShape(shape, { x: host.x + arg.dx, y: host.y + host.height }, host, { attach: true });
  get('modeling').updateLabel(created, arg.name);
  return created.id;`;
const END = `
  const source = el(arg.source);
  const shape = get('elementFactory').createShape({ type: 'bpmn:EndEvent', eventDefinitionType: arg.error ? 'bpmn:ErrorEventDefinition' : undefined });
  const created = get('modeling').createShape(shape, { x: source.x + arg.dx, y: source.y + arg.dy }, source.parent);
  get('modeling').connect(source, created);
  get('modeling').updateLabel(created, arg.name);
  return created.id;`;
const CONNECT = `
  const c = get('modeling').connect(el(arg.from), el(arg.to));
  if (arg.name) get('modeling').updateLabel(c, arg.name);
  return c.id;`;

test('a designer builds the passcode registration flow, sees and fixes its problems, deploys and runs it', async () => {
  const { page, problems, context } = await signedIn();
  try {
    // The process's name.
    await page.evaluate(() => window.idflowDesigner.modeler.get('selection').select([]));
    await page.fill('#prop-process-id', 'designed-registration');
    await page.press('#prop-process-id', 'Tab');

    const addUser = await appendActivity(page, 'start', 'addUser', 'add user');
    // Only one parameter for now: the missing one shows on the shape.
    await fillParams(page, addUser, { 'Store Name': '<<processvar.token.storeName>>' });
    let found = await validated(page);
    const missing = found.find((p) => p.code === 'MISSING_PARAMETER' && p.element === addUser);
    assert.ok(missing, `MISSING_PARAMETER on ${addUser}: ${JSON.stringify(found)}`);
    assert.match(missing.text, /User External ID/);
    assert.equal(await page.locator(`.djs-overlay-container [data-element="${addUser}"].idflow-badge`).count(), 1, 'a marker on the shape');
    assert.match(await page.locator('#element-problems').innerText(), /MISSING_PARAMETER/);
    await screenshots(page, 'designer-missing-parameter');
    await fillParams(page, addUser, { 'User External ID': '<<processvar.token.externalId>>' });
    found = await validated(page);
    assert.ok(!found.some((p) => p.code === 'MISSING_PARAMETER'), JSON.stringify(found));

    const startReg = await appendActivity(page, addUser, 'startPasscodeRegistration', 'start passcode reg');
    await fillParams(page, startReg, { 'Passcode Key': '<<processvar.token.passcodePolicy>>', 'Store Name': '<<processvar.token.storeName>>' });
    const form = await appendActivity(page, startReg, 'passcodeRegistrationForm', 'registration form');
    await fillParams(page, form, { 'Data form name': 'passcode-registration', 'Data form version': '1' });
    const complete = await appendActivity(page, form, 'completePasscodeRegistration', 'complete passcode registration');
    await fillParams(page, complete, { 'Passcode Registration Browser Response': '<<processvar.passcodeRegForm1.browserResponse>>' });
    const decide = await appendActivity(page, complete, 'simpleDecider', 'decider');
    await fillParams(page, decide, { 'Decision on Any Failure': 'FAIL' });

    // Error paths: boundaries (drag and drop through the modeling API), codes through the panel.
    const taken = await model(page, BOUNDARY, { host: addUser, def: 'bpmn:ErrorEventDefinition', dx: 20, name: 'External ID taken' });
    await select(page, taken);
    await page.selectOption('#prop-error-code', 'EXT_ID_NOT_UNIQUE');
    const failed = await model(page, BOUNDARY, { host: addUser, def: 'bpmn:ErrorEventDefinition', dx: 70, name: 'Failed to add user' });
    await select(page, failed);
    await page.selectOption('#prop-error-code', 'FAILED_TO_ADD_USER');
    const getUser = await appendActivity(page, taken, 'getUser', 'get user');
    await fillParams(page, getUser, { 'Store Name': '<<processvar.token.storeName>>', 'User External ID': '<<processvar.token.externalId>>' });
    await model(page, CONNECT, { from: getUser, to: startReg });
    await model(page, END, { source: failed, dx: 0, dy: 120, name: 'User not added', error: true });

    const already = await model(page, BOUNDARY, { host: startReg, def: 'bpmn:ErrorEventDefinition', dx: 40, name: 'Passcode already registered' });
    await select(page, already);
    await page.selectOption('#prop-error-code', 'PASSCODE_ALREADY_REGISTERED');
    const startRen = await appendActivity(page, already, 'startPasscodeRenewal', 'start passcode renewal');
    await fillParams(page, startRen, { 'Passcode Policy': '<<processvar.token.passcodePolicy>>', 'Store Name': '<<processvar.token.storeName>>' });
    const locked = await model(page, BOUNDARY, { host: startRen, def: 'bpmn:ErrorEventDefinition', dx: 40, name: 'User locked' });
    await select(page, locked);
    await page.selectOption('#prop-error-code', 'USER_LOCKED');
    await model(page, END, { source: locked, dx: 0, dy: 120, name: 'User locked', error: true });
    const renForm = await appendActivity(page, startRen, 'passcodeRenewalForm', 'renewal form');
    await fillParams(page, renForm, { 'Data form name': 'passcode-renewal', 'Data form version': '1' });
    const completeRen = await appendActivity(page, renForm, 'completePasscodeRenewal', 'complete passcode renewal');
    await fillParams(page, completeRen, { 'Passcode Renewal Browser Response': '<<processvar.passcodeRenewalForm1.browserResponse>>' });
    await model(page, CONNECT, { from: completeRen, to: decide });

    // Timers on both forms, to one end.
    const timeout = await model(page, BOUNDARY, { host: form, def: 'bpmn:TimerEventDefinition', dx: 40, name: '15 minutes' });
    await select(page, timeout);
    await page.fill('#prop-duration', 'PT15M');
    const timedOut = await model(page, END, { source: timeout, dx: 0, dy: 120, name: 'Timed out' });
    const renTimeout = await model(page, BOUNDARY, { host: renForm, def: 'bpmn:TimerEventDefinition', dx: 40, name: '15 minutes' });
    await select(page, renTimeout);
    await page.fill('#prop-duration', 'PT15M');
    await model(page, CONNECT, { from: renTimeout, to: timedOut });

    // The decision: a gateway, a condition and a default through the panel.
    const gateway = await model(page, `
      const source = el(arg);
      const shape = get('elementFactory').createShape({ type: 'bpmn:ExclusiveGateway' });
      const created = get('autoPlace').append(source, shape);
      get('modeling').updateLabel(created, 'Decision?');
      return created.id;`, decide);
    const registered = await model(page, END, { source: gateway, dx: 120, dy: -60, name: 'Passcode registered' });
    const failedEnd = await model(page, END, { source: gateway, dx: 120, dy: 90, name: 'Registration failed', error: true });
    const flows = await model(page, `return el(arg).outgoing.map((c) => [c.id, c.target.id]);`, gateway);
    const toRegistered = flows.find(([, target]) => target === registered)[0];
    const toFailed = flows.find(([, target]) => target === failedEnd)[0];
    await select(page, toRegistered);
    await page.fill('#prop-condition', '<<processvar._decision>> == "PASS"');
    await select(page, toFailed);
    await page.check('#prop-default');

    found = await validated(page);
    assert.deepEqual(found.map((p) => p.code), [undefined], `no problems left: ${JSON.stringify(found)}`);
    assert.match(await page.locator('#problems').innerText(), /No problems/);
    await screenshots(page, 'designer-built');

    await page.click('#deploy');
    await page.waitForFunction(() => /Deployed/.test(document.getElementById('status').textContent));
    assert.match(await page.locator('#status').innerText(), /Deployed designed-registration version 1/);

    // Deployed: the activities and parameters equal the shipped flow's, and it runs.
    const designed = await fetch(`${server.base}/api/process-manager/tenants/${TENANT}/process-definitions/designed-registration/versions/1/bpmn`, { headers: { Authorization: `Bearer ${server.admin}` } }).then((r) => r.text());
    const shipped = readFileSync(path.join(definitionsDir, 'passcode-registration.bpmn'), 'utf8');
    assert.deepEqual(activitiesOf(designed), activitiesOf(shipped));
    assert.match(designed, /bpmndi:BPMNShape/, 'the layout is kept');
    const externalId = newExternalId('designed');
    const token = await adminCall(server, 'POST', `/api/process-manager/tenants/${TENANT}/process-tokens`, {
      name: `designed-${externalId}`,
      processDefnName: 'designed-registration',
      parameters: { storeName: STORE, externalId, passcodePolicy: POLICY },
    });
    const started = await fetch(`${server.base}/api/process-manager/process-instances`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ processToken: token.id }) }).then((r) => r.json());
    assert.equal(started.status, 'ACTIVE', JSON.stringify(started));
    assert.equal(started.currentStep.activity, 'passcodeRegistrationForm');

    // Deploying the same content again keeps the version.
    await page.click('#deploy');
    await page.waitForFunction(() => /Unchanged/.test(document.getElementById('status').textContent));
    assert.match(await page.locator('#version-list').innerText(), /version 1/);
    assert.deepEqual(problems.filter((p) => !/404/.test(p)), []);
  } finally {
    await context.close();
  }
});

test('every shipped definition opens without import warnings, shows its parameters, and round-trips', async () => {
  // The sign-in link worked once (the first case); a pasted token signs in here.
  const { page, problems, context } = await signedIn(server.admin);
  try {
    for (const file of SHIPPED) {
      const name = file.replace(/\.bpmn$/, '');
      await page.selectOption('#draft-from', name);
      await page.waitForFunction((n) => document.getElementById('status')?.textContent.includes(n), name);
      assert.match(await page.locator('#status').innerText(), new RegExp(`Opened draft of the shipped flow ${name}\\.$`), 'no import warning');
      const shippedXml = readFileSync(path.join(definitionsDir, file), 'utf8');
      // Every parameter of every activity is shown in the panel with its value.
      const tasks = await model(page, `return get('elementRegistry').filter((e) => e.businessObject.$instanceOf('bpmn:Task')).map((e) => e.id);`);
      assert.ok(tasks.length > 0, name);
      for (const id of tasks) {
        await select(page, id);
        const shown = await page.evaluate(() => [...document.querySelectorAll('#properties input[data-param]')].filter((i) => i.value).map((i) => `${i.dataset.param}=${i.value}`));
        const expected = await model(page, `
          const a = (el(arg).businessObject.extensionElements.values || []).find((v) => v.$instanceOf('idflow:Activity'));
          return (a.params || []).map((p) => p.name + '=' + p.value);`, id);
        assert.deepEqual(shown.sort(), expected.map((e) => e.replace(/^Passcode Renewal Key=/, 'Passcode Authentication Key=')).sort(), `${name}/${id}`);
        assert.ok(expected.length > 0 || name === 'none', `${name}/${id} has parameters`);
      }
      // A round trip keeps the idflow semantics; the server finds no problem.
      const saved = await page.evaluate(async () => (await window.idflowDesigner.modeler.saveXML({ format: true })).xml);
      assert.deepEqual(activitiesOf(saved), activitiesOf(shippedXml), name);
      const found = await validated(page);
      assert.ok(found.every((p) => p.code === undefined), `${name}: ${JSON.stringify(found)}`);
    }
    // A parameter edited in the panel is in the saved XML.
    const task = await model(page, `return get('elementRegistry').filter((e) => e.businessObject.$instanceOf('bpmn:Task'))[0].id;`);
    await select(page, task);
    const input = page.locator('#properties input[data-param]').first();
    const param = await input.getAttribute('data-param');
    await input.fill('edited-value');
    const saved = await page.evaluate(async () => (await window.idflowDesigner.modeler.saveXML({ format: true })).xml);
    assert.ok(saved.includes(`name="${param}">edited-value</idflow:param>`), saved);
    await screenshots(page, 'designer-shipped');
    assert.deepEqual(problems.filter((p) => !/404/.test(p)), []);
  } finally {
    await context.close();
  }
});

test('a token without the deploy permission is refused with a clear message and nothing is deployed', async () => {
  // Minted with the data directory's key by the API's own rules: list, read, validate only.
  const limited = await mintToken(['listProcessDefinitions', 'getProcessDefinition', 'validateProcessDefinition']);
  const { page, context } = await signedIn(limited);
  try {
    const before = await adminCall(server, 'GET', `/api/process-manager/tenants/${TENANT}/process-definitions`);
    assert.match(await page.locator('#deploy-note').innerText(), /deployProcessDefinition/);
    await page.selectOption('#draft-from', 'current-totp');
    await page.waitForFunction(() => document.getElementById('status')?.textContent.includes('current-totp'));
    await page.evaluate(() => window.idflowDesigner.modeler.get('selection').select([]));
    await page.fill('#prop-process-id', 'not-deployed');
    await page.press('#prop-process-id', 'Tab');
    await page.click('#deploy');
    await page.waitForFunction(() => document.getElementById('status').dataset.kind === 'error');
    assert.match(await page.locator('#status').innerText(), /may not deploy definitions: it lacks TNT#demo#deployProcessDefinition/);
    await screenshots(page, 'designer-no-deploy');
    const afterList = await adminCall(server, 'GET', `/api/process-manager/tenants/${TENANT}/process-definitions`);
    assert.deepEqual(afterList, before, 'nothing deployed');
    // The server refuses it too.
    const xml = readFileSync(path.join(definitionsDir, 'current-totp.bpmn'), 'utf8');
    const direct = await fetch(`${server.base}/api/process-manager/tenants/${TENANT}/process-definitions`, { method: 'POST', headers: { Authorization: `Bearer ${limited}`, 'Content-Type': 'application/xml' }, body: xml });
    assert.equal(direct.status, 403);
  } finally {
    await context.close();
  }
});

/** A token of the demo tenant with just `permissions`, minted by `idflow token`. */
async function mintToken(permissions) {
  const { execFileSync } = await import('node:child_process');
  const { BINARY } = await import('../lib/harness.mjs');
  const args = ['token', '--tenant', TENANT, '--data', server.dataDir, '--ttl', '1h', ...permissions.flatMap((p) => ['--permission', p])];
  return execFileSync(BINARY, args, { encoding: 'utf8' }).trim().split('\n').pop();
}
