// The backoffice's operations pages (issue 14) in headless Chromium against a real idflow serve:
// a process token created on the page whose link (and QR code) an end user walks to the end,
// then the instance found with its path drawn on the diagram; cancel; replay against a deployed
// version and against the designer's draft with a flipped gateway; unlock a locked user; stores
// and policies; live numbers; and a token lacking a permission sees the refusal named where it
// acted. axe-core on every page; no script error or CSP violation.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

import * as srp from '../../../crates/server/web/srp.js';
import { BINARY, POLICY, adminCall, axeViolations, decodeQr, launchBrowser, newExternalId, openContext, screenshots, settled, startServer, STORE, TENANT, totpCode } from '../lib/harness.mjs';

const PASSCODE = 'Corr3ct-horse';
const PM = `/api/process-manager/tenants/${TENANT}`;
const IS = `/api/identity-store/tenants/${TENANT}/stores/${STORE}`;

let server;
let browser;
const contexts = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  for (const c of contexts) await c.context.close().catch(() => {});
  await browser?.close();
  await server?.stop();
});

/** A token of the demo tenant with just `permissions`, minted by `idflow token`. */
function mintToken(permissions) {
  const args = ['token', '--tenant', TENANT, '--data', server.dataDir, '--ttl', '1h', ...permissions.flatMap((p) => ['--permission', p])];
  return execFileSync(BINARY, args, { encoding: 'utf8' }).trim().split('\n').pop();
}

/** A backoffice tab signed in with `token` (the admin's by default), at `hash`. */
async function backoffice(hash, token = server.admin) {
  const opened = await openContext(browser, { viewport: { width: 1280, height: 900 } });
  contexts.push(opened);
  const { page } = opened;
  await page.goto(`${server.base}/backoffice/`);
  await page.fill('#token-input', token);
  await page.click('#sign-in button[type=submit]');
  await page.waitForFunction(() => document.getElementById('app')?.dataset.state === 'ready');
  await go(page, hash);
  return opened;
}

/** Navigates the backoffice to `hash` and waits until the page has opened. */
async function go(page, hash) {
  await page.evaluate((h) => {
    document.getElementById('page')?.removeAttribute('data-ready');
    location.hash = h;
  }, hash);
  await page.waitForFunction((h) => {
    const main = document.getElementById('page');
    return main && main.dataset.ready === 'true' && location.hash === `#${h}`;
  }, hash);
}

/** No serious accessibility violation, no script error or CSP violation; a screenshot when asked. */
async function checkPage(opened, name) {
  assert.deepEqual(await axeViolations(opened.page), [], `${name}: accessibility`);
  const problems = opened.problems.filter((p) => !p.startsWith('Failed to load resource'));
  assert.deepEqual(problems, [], `${name}: console errors or CSP violations`);
  await screenshots(opened.page, name);
}

/** The element IDs that carry `marker` on the diagram inside `container`. */
async function marked(page, container, marker) {
  return page.evaluate(
    ([c, m]) => [...document.querySelectorAll(`${c} .djs-element.${m}`)].map((e) => e.dataset.elementId).sort(),
    [container, marker],
  );
}

async function instanceRowFor(page, tokenName) {
  return page.waitForFunction((name) => {
    const row = [...document.querySelectorAll('#instance-table tbody tr')].find((tr) => tr.textContent.includes(name));
    return row ? row.dataset.instance : null;
  }, tokenName);
}

test('a token created in the backoffice: its link and QR code, walked by an end user, and the path on the diagram', async () => {
  const opened = await backoffice('tokens');
  const { page } = opened;
  const externalId = newExternalId('ops-reg');
  const name = newExternalId('ops-token');
  await page.waitForSelector('#token-definition option[value="passcode-registration"]', { state: 'attached' });
  await page.fill('#token-name', name);
  await page.fill('#token-description', 'Registration for one user');
  await page.selectOption('#token-definition', 'passcode-registration');
  await page.selectOption('#token-version', '1');
  await page.selectOption('#token-type', 'MULTI_USE_COUNT_LIMITED');
  await page.fill('#token-max-uses', '2');
  // The two rows offered, then two more parameters.
  await page.fill('#param-value-1', STORE);
  await page.fill('#param-value-2', externalId);
  await page.click('text=Add a parameter');
  await page.fill('#param-key-3', 'passcodePolicy');
  await page.fill('#param-value-3', 'default');
  await page.click('#create-token');
  await page.waitForSelector(`article[data-token="${name}"]`);
  assert.match(await page.locator('#create-token-message').innerText(), new RegExp(`Created token ${name}`));
  await checkPage(opened, 'ops-tokens');

  const stored = await adminCall(server, 'GET', `${PM}/process-tokens/${name}`);
  assert.deepEqual(
    [stored.processDefnName, stored.processDefnVersion, stored.type, stored.maxUses, stored.parameters, stored.description],
    ['passcode-registration', 1, 'MULTI_USE_COUNT_LIMITED', 2, { storeName: STORE, externalId, passcodePolicy: 'default' }, 'Registration for one user'],
  );
  const card = page.locator(`article[data-token="${name}"]`);
  const link = await card.locator('input.link').inputValue();
  assert.equal(link, stored.uiUrl);
  // The server draws the QR code; the page shows it.
  await page.waitForSelector(`article[data-token="${name}"] img.qr[src^="data:image/svg+xml"]`);
  assert.equal(await decodeQr(page, `article[data-token="${name}"] img.qr`), stored.uiUrl, 'the QR code is the link');

  // The end user opens the link in another tab and registers a passcode.
  const user = await openContext(browser);
  contexts.push(user);
  await user.page.goto(link);
  const step = await settled(user.page);
  assert.equal(step.activity, 'passcodeRegistrationForm', JSON.stringify(step));
  await user.page.fill('input[data-element-id=passcode]', PASSCODE);
  await user.page.fill('input[data-element-id=passcodeConfirmation]', PASSCODE);
  await user.page.click('form.step-form button[type=submit]');
  const end = await settled(user.page);
  assert.deepEqual([end.status, end.heading], ['COMPLETED_ENDED_SUCCESS', 'Passcode registered']);

  // The operator finds the completed instance by definition, status and start time.
  await go(page, 'instances');
  await page.selectOption('#filter-definition', 'passcode-registration');
  await page.selectOption('#filter-status', 'COMPLETED_ENDED_SUCCESS');
  await page.fill('#filter-before', '2001-01-01T00:00');
  await page.click('#apply-filters');
  await page.waitForSelector('#no-instances');
  await page.fill('#filter-before', '');
  await page.fill('#filter-after', '2001-01-01T00:00');
  await page.click('#apply-filters');
  const instanceId = await (await instanceRowFor(page, name)).jsonValue();
  const listed = await page.locator('#instance-table tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.status));
  assert.ok(listed.every((s) => s === 'COMPLETED_ENDED_SUCCESS'), JSON.stringify(listed));
  await checkPage(opened, 'ops-instances');
  await page.click(`#instance-table tr[data-instance="${instanceId}"] a`);
  await page.waitForSelector('#instance-diagram[data-drawn=true]');
  assert.equal(await page.locator('#page').getAttribute('data-status'), 'COMPLETED_ENDED_SUCCESS');

  assert.deepEqual(await marked(page, '#instance-diagram', 'idflow-entered'), ['addUser', 'completeRegistration', 'decide', 'decision', 'endRegistered', 'registrationForm', 'start', 'startRegistration']);
  assert.deepEqual(await marked(page, '#instance-diagram', 'idflow-taken'), ['passed', 'registrationToDecider', 'toAddUser', 'toCompleteRegistration', 'toDecision', 'toRegistrationForm', 'toStartRegistration']);
  assert.deepEqual(await marked(page, '#instance-diagram', 'idflow-ended'), ['endRegistered']);
  assert.deepEqual(await marked(page, '#instance-diagram', 'idflow-end-success'), ['endRegistered']);
  assert.deepEqual(await marked(page, '#instance-diagram', 'idflow-rest'), []);
  assert.deepEqual(await marked(page, '#instance-diagram', 'idflow-fired'), []);
  // Not taken: the error paths.
  assert.ok(!(await marked(page, '#instance-diagram', 'idflow-entered')).includes('getUser'));

  // Variables: the user and the registration; the verifier only as the server's marker.
  const variables = await page.locator('#variable-tree').innerText();
  assert.match(variables, new RegExp(externalId));
  const secrets = await page.locator('#variable-tree .secret').evaluateAll((nodes) => nodes.map((n) => n.title));
  assert.ok(secrets.every((s) => /^secret:/.test(s)), JSON.stringify(secrets));
  // The timeline: every history event, ending with the end.
  const history = await adminCall(server, 'GET', `${PM}/process-instances/${instanceId}/history`);
  assert.equal(await page.locator('#timeline-list li').count(), history.events.length);
  assert.match(await page.locator('#timeline-list li').last().innerText(), /Ended.*COMPLETED_ENDED_SUCCESS/s);
  // Nothing but the bearer token in the tab's storage.
  const storage = await page.evaluate(() => ({ session: Object.keys(sessionStorage), local: localStorage.length }));
  assert.equal(storage.local, 0);
  assert.ok(storage.session.includes('idflow.backoffice.token'));
  assert.deepEqual(storage.session.filter((k) => !['idflow.backoffice.token', 'idflow.backoffice.tenant'].includes(k)), []);
  await checkPage(opened, 'ops-instance-completed');

  // Deactivate: the token starts no more instances.
  await go(page, 'tokens');
  await page.click(`article[data-token="${name}"] button[data-action=deactivate]`);
  await page.waitForSelector(`article[data-token="${name}"].state-inactive`);
  assert.equal((await adminCall(server, 'GET', `${PM}/process-tokens/${name}`)).status, 'INACTIVE');
});

/** Starts an instance of `token` with the end-user API; answers its ID. */
async function startInstance(token) {
  const started = await fetch(`${server.base}/api/process-manager/process-instances`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ processToken: token.id }) }).then((r) => r.json());
  assert.ok(started.instanceId, JSON.stringify(started));
  return started.instanceId;
}

async function registrationToken(externalId = newExternalId('ops-active')) {
  return adminCall(server, 'POST', `${PM}/process-tokens`, {
    name: newExternalId('ops-active'),
    processDefnName: 'passcode-registration',
    parameters: { storeName: STORE, externalId, passcodePolicy: 'default' },
  });
}

test('an active instance rests at its step on the diagram, past a fired boundary; cancelled after confirming, it is COMPLETED_TERMINATED', async () => {
  // The user exists already: Add User's "External ID taken" boundary leads to Get User.
  const externalId = newExternalId('ops-existing');
  await adminCall(server, 'POST', `${IS}/users`, { externalId });
  const instanceId = await startInstance(await registrationToken(externalId));
  const opened = await backoffice(`instances/${instanceId}`);
  const { page } = opened;
  await page.waitForSelector('#instance-diagram[data-drawn=true]');
  assert.deepEqual(await marked(page, '#instance-diagram', 'idflow-rest'), ['registrationForm']);
  assert.deepEqual(await marked(page, '#instance-diagram', 'idflow-fired'), ['externalIdTaken']);
  assert.deepEqual(await marked(page, '#instance-diagram', 'idflow-taken'), ['existingUser', 'toAddUser', 'toGetUser', 'toRegistrationForm']);
  assert.deepEqual(await marked(page, '#instance-diagram', 'idflow-entered'), ['addUser', 'getUser', 'registrationForm', 'start', 'startRegistration']);
  await checkPage(opened, 'ops-instance-active');

  // Keeping it: nothing happens.
  await page.click('#cancel-instance');
  await page.waitForSelector('dialog.confirm[open]');
  await page.click('#confirm-no');
  assert.equal((await adminCall(server, 'GET', `${PM}/process-instances/${instanceId}`)).status, 'ACTIVE');

  await page.click('#cancel-instance');
  await page.waitForSelector('dialog.confirm[open]');
  await checkPage(opened, 'ops-cancel-confirm');
  await page.click('#confirm-yes');
  await page.waitForFunction(() => document.getElementById('page').dataset.status === 'COMPLETED_TERMINATED');
  assert.match(await page.locator('#instance-facts').innerText(), /terminated/);
  assert.equal(await page.locator('#cancel-instance').count(), 0, 'no cancel for an ended instance');
  assert.equal((await adminCall(server, 'GET', `${PM}/process-instances/${instanceId}`)).status, 'COMPLETED_TERMINATED');
  await page.waitForSelector('#timeline-list li[data-kind=cancelled]');
  assert.deepEqual(await marked(page, '#instance-diagram', 'idflow-rest'), []);
  assert.deepEqual(await marked(page, '#instance-diagram', 'idflow-end-terminated'), ['registrationForm']);
  await checkPage(opened, 'ops-instance-cancelled');
});

/** A flow with one gateway on a token parameter: `route` "a" ends at endA, anything else at endB. */
function gatewayBpmn(condition) {
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:idflow="https://idflow.dev/schema/bpmn/1.0" id="ops-gateway-definitions" targetNamespace="https://idflow.dev/tests">
  <bpmn:process id="ops-gateway" name="Route by token" isExecutable="true">
    <bpmn:startEvent id="start" name="Start"><bpmn:outgoing>toGateway</bpmn:outgoing></bpmn:startEvent>
    <bpmn:exclusiveGateway id="route" name="Route?" default="toB"><bpmn:incoming>toGateway</bpmn:incoming><bpmn:outgoing>toA</bpmn:outgoing><bpmn:outgoing>toB</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="endA" name="Went A"><bpmn:incoming>toA</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="endB" name="Went B"><bpmn:incoming>toB</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="toGateway" sourceRef="start" targetRef="route" />
    <bpmn:sequenceFlow id="toA" sourceRef="route" targetRef="endA"><bpmn:conditionExpression><![CDATA[${condition}]]></bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="toB" sourceRef="route" targetRef="endB" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="diagram">
    <bpmndi:BPMNPlane id="plane" bpmnElement="ops-gateway">
      <bpmndi:BPMNShape id="start_di" bpmnElement="start"><dc:Bounds x="152" y="182" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="route_di" bpmnElement="route" isMarkerVisible="true"><dc:Bounds x="245" y="175" width="50" height="50" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="endA_di" bpmnElement="endA"><dc:Bounds x="362" y="112" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="endB_di" bpmnElement="endB"><dc:Bounds x="362" y="252" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="toGateway_di" bpmnElement="toGateway"><di:waypoint x="188" y="200" /><di:waypoint x="245" y="200" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="toA_di" bpmnElement="toA"><di:waypoint x="270" y="175" /><di:waypoint x="270" y="130" /><di:waypoint x="362" y="130" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="toB_di" bpmnElement="toB"><di:waypoint x="270" y="225" /><di:waypoint x="270" y="270" /><di:waypoint x="362" y="270" /></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
`;
}

test('replay against a deployed version with a flipped gateway, and against the designer\'s draft: the divergence is marked', async () => {
  const v1 = await adminCall(server, 'POST', `${PM}/process-definitions?fileName=ops-gateway.bpmn`, gatewayBpmn('<<processvar.token.route>> == "a"'));
  const token = await adminCall(server, 'POST', `${PM}/process-tokens`, { name: newExternalId('ops-gw'), processDefnName: 'ops-gateway', processDefnVersion: v1.version, parameters: { route: 'a' } });
  const instanceId = await startInstance(token);
  const v2 = await adminCall(server, 'POST', `${PM}/process-definitions?fileName=ops-gateway.bpmn`, gatewayBpmn('<<processvar.token.route>> == "b"'));
  assert.equal(v2.version, v1.version + 1);

  const opened = await backoffice(`instances/${instanceId}`);
  const { page } = opened;
  await page.waitForSelector('#instance-diagram[data-drawn=true]');
  assert.deepEqual(await marked(page, '#instance-diagram', 'idflow-taken'), ['toA', 'toGateway']);
  assert.deepEqual(await marked(page, '#instance-diagram', 'idflow-ended'), ['endA']);

  // Against the version it ran: the same path, nothing marked as diverging.
  await page.selectOption('#replay-against', `v${v1.version}`);
  await page.click('#replay-run');
  await page.waitForFunction(() => document.getElementById('replay').dataset.outcome);
  assert.equal(await page.locator('#replay').getAttribute('data-outcome'), 'SAME_PATH');
  assert.match(await page.locator('#replay-message').innerText(), /Same path/);
  assert.deepEqual(await marked(page, '#instance-diagram', 'idflow-diverged'), []);

  // Against version 2, whose gateway is flipped.
  await page.evaluate(() => delete document.getElementById('replay').dataset.outcome);
  await page.selectOption('#replay-against', `v${v2.version}`);
  await page.click('#replay-run');
  await page.waitForFunction(() => document.getElementById('replay').dataset.outcome);
  assert.equal(await page.locator('#replay').getAttribute('data-outcome'), 'DIVERGED');
  assert.match(await page.locator('#replay-message').innerText(), /Diverged against ops-gateway version 2/);
  const diverged = await marked(page, '#instance-diagram', 'idflow-diverged');
  assert.ok(diverged.length > 0 && diverged.every((id) => ['route', 'toA', 'toB', 'endA', 'endB'].includes(id)), JSON.stringify(diverged));
  await page.waitForSelector('#replay-diagram[data-drawn=true]');
  const replayed = await marked(page, '#replay-diagram', 'idflow-diverged');
  assert.ok(replayed.some((id) => ['route', 'toA', 'toB', 'endA', 'endB'].includes(id)), JSON.stringify(replayed));
  assert.equal(await page.locator('#timeline-list li.diverged').count(), 1, 'the timeline marks where it diverged');
  await checkPage(opened, 'ops-replay-diverged');

  // The designer's draft: the same flip, not deployed.
  await go(page, 'designer');
  await page.waitForFunction(() => window.idflowDesigner);
  await page.evaluate((xml) => window.idflowDesigner.modeler.importXML(xml), gatewayBpmn('<<processvar.token.route>> != "a"'));
  await go(page, `instances/${instanceId}`);
  await page.waitForSelector('#instance-diagram[data-drawn=true]');
  await page.waitForSelector('#replay-against option[value=draft]:not([disabled])', { state: 'attached' });
  await page.selectOption('#replay-against', 'draft');
  await page.click('#replay-run');
  await page.waitForFunction(() => document.getElementById('replay').dataset.outcome);
  assert.equal(await page.locator('#replay').getAttribute('data-outcome'), 'DIVERGED');
  assert.match(await page.locator('#replay-message').innerText(), /Diverged against the designer's draft of ops-gateway/);
  assert.ok((await marked(page, '#instance-diagram', 'idflow-diverged')).length > 0);
  const definitions = await adminCall(server, 'GET', `${PM}/process-definitions/ops-gateway`);
  assert.equal(definitions.versions.length, 2, 'the draft was not deployed');
});

test('stores and policies; a user locked by a failed passcode is found by external ID and unlocked', async () => {
  const opened = await backoffice(`stores/${STORE}`);
  const { page } = opened;
  const policy = newExternalId('lock-once');
  await page.waitForSelector('#passcode-policy-list article[data-policy=default]');
  await page.fill('#pp-name', policy);
  await page.fill('#pp-maxFailedAttempts', '1');
  await page.click('#create-passcode-policy button[type=submit]');
  await page.waitForSelector(`#passcode-policy-list article[data-policy="${policy}"]`);
  const policies = await adminCall(server, 'GET', `${IS}/passcode-policies`);
  const created = policies.policies.find((p) => p.name === policy);
  assert.equal(created.maxFailedAttempts, 1);
  assert.equal(created.passcodeRequirements.minimumLength, 8);
  const totpPolicy = newExternalId('totp');
  await page.fill('#tp-name', totpPolicy);
  await page.selectOption('#tp-algorithm', 'SHA256');
  await page.click('#create-totp-policy button[type=submit]');
  await page.waitForSelector(`#totp-policy-list article[data-policy="${totpPolicy}"]`);
  assert.equal((await adminCall(server, 'GET', `${IS}/totp-policies`)).policies.find((p) => p.name === totpPolicy).algorithm, 'SHA256');
  await checkPage(opened, 'ops-store');

  // A user with a passcode under that policy, then one wrong passcode: locked.
  const externalId = newExternalId('ops-lock');
  const { user } = await adminCall(server, 'POST', `${IS}/users`, { externalId });
  const start = await adminCall(server, 'POST', `${IS}/users/${user.id}/passcodes/registrations/${policy}`, {});
  const reg = await srp.registrationData(srp.readParameters(start.algorithmInfo), PASSCODE);
  await adminCall(server, 'POST', `${IS}/passcodes/registrations/sessions/${start.sessionId}`, { srpRegistrationData: reg });
  const auth = await adminCall(server, 'POST', `${IS}/users/${user.id}/passcodes/authentications/${policy}`, {});
  const wrong = await srp.verificationData(srp.readParameters(auth.algorithmInfo), 'Wr0ng-passcode');
  await adminCall(server, 'POST', `${IS}/passcodes/authentications/sessions/${auth.sessionId}`, { srpVerificationData: wrong.request }, [400, 401, 403, 409, 423]);
  // And a TOTP, to deregister below.
  const totp = await adminCall(server, 'POST', `${IS}/users/${user.id}/totps/registrations/${POLICY}`, {});
  await adminCall(server, 'POST', `${IS}/totps/registrations/sessions/${totp.sessionId}`, { code: totpCode(totp.secret) });
  const lockedUser = (await adminCall(server, 'GET', `${IS}/users/${user.id}`)).user;
  assert.equal(lockedUser.status, 'LOCKED', JSON.stringify(lockedUser));

  await go(page, 'users');
  await page.selectOption('#user-store', STORE);
  await page.fill('#user-external-id', externalId);
  await page.click('#user-search-submit');
  await page.waitForSelector(`#user-table tr[data-user="${user.id}"]`);
  await checkPage(opened, 'ops-users');
  await page.click(`#user-table tr[data-user="${user.id}"] a`);
  await page.waitForSelector('#user-facts');
  assert.equal(await page.locator('#page').getAttribute('data-status'), 'LOCKED');
  assert.match(await page.locator('#passcode-table').innerText(), new RegExp(policy));
  const text = await page.locator('#user-page').innerText();
  assert.ok(!/verifier|salt|seed/i.test(text), 'no secret on the page');
  await checkPage(opened, 'ops-user-locked');
  await page.click('#unlock-user');
  await page.waitForFunction(() => document.getElementById('page').dataset.status === 'ACTIVE');
  assert.match(await page.locator('#unlock-message').innerText(), /Unlocked/);
  assert.equal((await adminCall(server, 'GET', `${IS}/users/${user.id}`)).user.status, 'ACTIVE');

  // Deregister the passcode (confirmed).
  await page.click('button[data-action=deregister-passcode]');
  await page.click('#confirm-yes');
  await page.waitForFunction(() => /Deregistered/.test(document.getElementById('passcode-message')?.textContent || ''));
  assert.deepEqual((await adminCall(server, 'GET', `${IS}/users/${user.id}`)).user.registeredPasscodes, []);
  assert.match(await page.locator('#totp-table').innerText(), new RegExp(POLICY));
  assert.ok(!(await page.locator('#user-page').innerText()).includes(totp.secret), 'the TOTP secret is not shown');
  await page.click('button[data-action=deregister-totp]');
  await page.click('#confirm-yes');
  await page.waitForFunction(() => /Deregistered the TOTP/.test(document.getElementById('totp-message')?.textContent || ''));
  assert.deepEqual((await adminCall(server, 'GET', `${IS}/users/${user.id}`)).user.totpRegistrations, []);
  // An unknown external ID is said so.
  await go(page, 'users');
  await page.fill('#user-external-id', 'nobody-by-that-name');
  await page.click('#user-search-submit');
  await page.waitForSelector('#no-user');
});

test('live numbers: counts per definition version, refreshed while visible and paused while hidden', async () => {
  const token = await adminCall(server, 'POST', `${PM}/process-tokens`, { name: newExternalId('ops-live'), processDefnName: 'ops-gateway', parameters: { route: 'b' } });
  await startInstance(token);
  const opened = await backoffice('live');
  const { page } = opened;
  await page.waitForSelector('#live-table');
  const stats = await adminCall(server, 'GET', `${PM}/process-statistics`);
  const mine = stats.definitions.find((d) => d.name === 'ops-gateway' && d.version === 2);
  const row = page.locator('#live-table tr[data-definition="ops-gateway/2"]');
  assert.equal(await row.locator('[data-count=started]').innerText(), String(mine.started));
  await checkPage(opened, 'ops-live');
  // One more instance shows on a later poll, without reloading.
  await startInstance(token);
  await page.waitForFunction((n) => document.querySelector('#live-table tr[data-definition="ops-gateway/2"] [data-count=started]')?.textContent === String(n), mine.started + 1, { timeout: 20000 });
  // Hidden: the page stops polling.
  await page.evaluate(() => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  assert.equal(await page.locator('#page').getAttribute('data-paused'), 'true');
});

test('a token without a permission sees the action refused, naming the permission, and nothing changes', async () => {
  const token = await registrationToken();
  const instanceId = await startInstance(token);
  const limited = mintToken(['listProcessTokens', 'listProcessDefinitions', 'getProcessDefinition', 'listProcessInstances', 'getProcessInstance', 'getProcessInstanceHistory']);
  const opened = await backoffice('tokens', limited);
  const { page } = opened;
  const card = `article[data-token="${token.name}"]`;
  await page.waitForSelector(card);
  assert.match(await page.locator('.lacks[data-permission=createProcessToken]').innerText(), /createProcessToken/);
  await page.click(`${card} button[data-action=deactivate]`);
  const refusal = page.locator(`#token-${token.name}-message`);
  await page.waitForFunction((id) => document.getElementById(id)?.dataset.kind === 'error', `token-${token.name}-message`);
  assert.match(await refusal.innerText(), /may not deactivate process tokens: it lacks deactivateProcessToken/);
  assert.equal(await refusal.getAttribute('data-permission'), 'deactivateProcessToken');
  assert.equal(await refusal.getAttribute('role'), 'alert');
  assert.equal((await adminCall(server, 'GET', `${PM}/process-tokens/${token.name}`)).status, 'ACTIVE');
  await checkPage(opened, 'ops-refused-deactivate');

  await go(page, `instances/${instanceId}`);
  await page.waitForSelector('#instance-diagram[data-drawn=true]');
  await page.click('#cancel-instance');
  await page.click('#confirm-yes');
  await page.waitForFunction(() => document.querySelector('#cancel-message[data-kind=error]'));
  assert.match(await page.locator('#cancel-message').innerText(), /may not cancel instances: it lacks cancelProcessInstance/);
  assert.equal((await adminCall(server, 'GET', `${PM}/process-instances/${instanceId}`)).status, 'ACTIVE');
  await checkPage(opened, 'ops-refused-cancel');

  await go(page, 'users');
  assert.match(await page.locator('#page').innerText(), /listStores/);
});
