// The end user's pages in a real headless Chromium against a real `idflow serve`: every shipped
// flow walked from its token's link to its final page, the policy checked before anything is
// sent, reload, stale steps, retries, errors, language, branding, headers; axe-core on every
// page; and no request (nor the server's log) ever carries a passcode.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  adminCall,
  axeViolations,
  createToken,
  currentTotp,
  decodeQr,
  instanceHistory,
  launchBrowser,
  newExternalId,
  openContext,
  screenshots,
  settled,
  startServer,
  STORE,
  TENANT,
  totpCode,
  userByExternalId,
} from '../lib/harness.mjs';

const PASSCODE = 'Corr3ct-horse';
const NEW_PASSCODE = 'N3w-staple-Battery';
const WRONG_PASSCODE = 'Wr0ng-passcode';
/** Every passcode typed in any page: none may appear in a request or in the server's log. */
const TYPED = [PASSCODE, NEW_PASSCODE, WRONG_PASSCODE, 'short', 'Mism4tch-passcode'];

let server;
let browser;
const contexts = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  for (const c of contexts) await c.context.close().catch(() => {});
  if (browser) await browser.close();
  if (server) {
    await server.stop();
    const log = server.log();
    for (const secret of TYPED) assert.ok(!log.includes(secret), `the server log shows a passcode`);
  }
});

async function open(options) {
  const opened = await openContext(browser, options);
  contexts.push(opened);
  return opened;
}

/** The page is accessible (no serious or critical axe violation) and raised no CSP or script error. */
async function checkPage(opened, name) {
  const violations = await axeViolations(opened.page);
  assert.deepEqual(violations, [], `${name}: accessibility`);
  // A handled API error (404, 409, a reset connection) is still logged by Chromium as a failed
  // resource; anything else (a script error, a CSP violation) fails the page.
  const problems = opened.problems.filter((p) => !p.startsWith('Failed to load resource'));
  assert.deepEqual(problems, [], `${name}: console errors or CSP violations`);
  await screenshots(opened.page, name);
}

/** No request the pages made carries a passcode, in its URL, headers or body, nor a Referer. */
function assertNothingLeaked(requests, token) {
  const encodings = (s) => [s, encodeURIComponent(s), Buffer.from(s).toString('base64'), Buffer.from(s).toString('hex')];
  for (const request of requests) {
    const text = `${request.url}\n${JSON.stringify(request.headers)}\n${request.body}`;
    for (const secret of TYPED) {
      for (const form of encodings(secret)) assert.ok(!text.includes(form), `a request carries a passcode: ${request.method} ${request.url}`);
    }
    assert.ok(!request.headers.referer, `no Referer: ${request.url}`);
    if (token) assert.ok(!request.url.includes(token), `the token is in no URL sent: ${request.url}`);
  }
}

const stepPosts = (requests) => requests.filter((r) => r.method === 'POST' && r.url.includes('/steps/'));

async function submit(page) {
  await page.click('form.step-form button[type=submit]');
  return settled(page);
}

/** A token of `definition` acting for `externalId`, with a unique name. */
async function tokenFor(definition, externalId) {
  return adminCall(server, 'POST', `/api/process-manager/tenants/${TENANT}/process-tokens`, {
    name: newExternalId(definition),
    processDefnName: definition,
    parameters: { storeName: STORE, externalId, passcodePolicy: 'default', totpPolicy: 'default' },
  });
}

/** Walks the registration flow for `externalId` through the pages. */
async function registerThroughPages(externalId, passcode = PASSCODE) {
  const token = await tokenFor('passcode-registration', externalId);
  const opened = await open();
  await opened.page.goto(token.uiUrl);
  const step = await settled(opened.page);
  assert.equal(step.activity, 'passcodeRegistrationForm', JSON.stringify(step));
  await opened.page.fill('input[data-element-id=passcode]', passcode);
  await opened.page.fill('input[data-element-id=passcodeConfirmation]', passcode);
  const end = await submit(opened.page);
  assert.equal(end.heading, 'Passcode registered', JSON.stringify(end));
  assertNothingLeaked(opened.requests, token.id);
  return opened;
}

test('registration: from the link to "Passcode registered"; the user then has a passcode', async () => {
  const externalId = newExternalId('reg');
  const token = await createToken(server, 'passcode-registration', externalId);
  assert.equal(token.uiUrl, `${server.base}/flow/#token=${token.id}`, 'uiUrl defaults to the page');
  const opened = await open();
  const { page } = opened;
  await page.goto(token.uiUrl);
  const step = await settled(page);
  assert.deepEqual([step.state, step.activity, step.heading], ['step', 'passcodeRegistrationForm', 'Choose your passcode']);
  assert.ok(!page.url().includes('#'), `the token is dropped from the address bar: ${page.url()}`);
  await checkPage(opened, 'registration-form');
  await page.fill('input[data-element-id=passcode]', PASSCODE);
  await page.fill('input[data-element-id=passcodeConfirmation]', PASSCODE);
  assert.equal(await page.locator('.requirements li.unmet').count(), 0, 'every requirement is ticked');
  await checkPage(opened, 'registration-filled');
  const end = await submit(page);
  assert.deepEqual([end.state, end.status, end.heading], ['end', 'COMPLETED_ENDED_SUCCESS', 'Passcode registered']);
  await checkPage(opened, 'registration-done');

  const user = await userByExternalId(server, externalId);
  assert.deepEqual(user.registeredPasscodes.map((p) => p.policyName), ['default']);
  assertNothingLeaked(opened.requests, token.id);

  // The tab keeps the instance ID in its session only; a reload shows the outcome again.
  const storage = await page.evaluate(() => ({ session: Object.keys(sessionStorage), local: localStorage.length }));
  assert.deepEqual(storage, { session: ['idflow.instanceId'], local: 0 });
  await page.reload();
  const again = await settled(page);
  assert.deepEqual([again.state, again.heading], ['end', 'Passcode registered']);
  assert.equal(opened.requests.filter((r) => r.method === 'POST' && r.url.endsWith('/process-instances')).length, 1, 'one instance started');
});

test('authentication: the right passcode authenticates, a wrong one does not', async () => {
  const externalId = newExternalId('auth');
  await registerThroughPages(externalId);
  const cases = [
    { passcode: PASSCODE, heading: 'Authenticated', status: 'COMPLETED_ENDED_SUCCESS', name: 'authentication-right' },
    { passcode: WRONG_PASSCODE, heading: 'Not authenticated', status: 'COMPLETED_ENDED_ERROR', name: 'authentication-wrong' },
  ];
  for (const c of cases) {
    const own = await tokenFor('passcode-authentication', externalId);
    const opened = await open();
    await opened.page.goto(own.uiUrl);
    const step = await settled(opened.page);
    assert.equal(step.activity, 'passcodeAuthenticationForm');
    if (c.passcode === PASSCODE) await checkPage(opened, 'authentication-form');
    await opened.page.fill('input[data-element-id=passcode]', c.passcode);
    const end = await submit(opened.page);
    assert.deepEqual([end.state, end.status, end.heading], ['end', c.status, c.heading], c.name);
    await checkPage(opened, c.name);
    assertNothingLeaked(opened.requests, own.id);
  }
});

async function authenticate(externalId, passcode) {
  const token = await tokenFor('passcode-authentication', externalId);
  const opened = await open();
  await opened.page.goto(token.uiUrl);
  await settled(opened.page);
  await opened.page.fill('input[data-element-id=passcode]', passcode);
  const end = await submit(opened.page);
  assertNothingLeaked(opened.requests, token.id);
  return end;
}

test('renewal: the old passcode then fails and the new one authenticates', async () => {
  const externalId = newExternalId('renew');
  await registerThroughPages(externalId);
  const token = await tokenFor('passcode-renewal', externalId);
  const opened = await open();
  const { page } = opened;
  await page.goto(token.uiUrl);
  const step = await settled(page);
  assert.deepEqual([step.activity, step.heading], ['passcodeRenewalForm', 'Renew your passcode']);
  await checkPage(opened, 'renewal-form');
  await page.fill('input[data-element-id=currentPasscode]', PASSCODE);
  await page.fill('input[data-element-id=newPasscode]', NEW_PASSCODE);
  await page.fill('input[data-element-id=newPasscodeConfirmation]', NEW_PASSCODE);
  const end = await submit(page);
  assert.deepEqual([end.status, end.heading], ['COMPLETED_ENDED_SUCCESS', 'Passcode renewed']);
  await checkPage(opened, 'renewal-done');
  assertNothingLeaked(opened.requests, token.id);
  const answer = JSON.parse(stepPosts(opened.requests)[0].body);
  assert.deepEqual(Object.keys(answer.browserResponse).sort(), ['srpRegistrationData', 'srpVerificationData']);

  const old = await authenticate(externalId, PASSCODE);
  assert.deepEqual([old.status, old.heading], ['COMPLETED_ENDED_ERROR', 'Not authenticated']);
  const renewed = await authenticate(externalId, NEW_PASSCODE);
  assert.deepEqual([renewed.status, renewed.heading], ['COMPLETED_ENDED_SUCCESS', 'Authenticated']);
});

test('a server proof M2 that does not match is not shown as success', async () => {
  const externalId = newExternalId('m2');
  await registerThroughPages(externalId);
  const token = await tokenFor('passcode-authentication', externalId);
  const opened = await open();
  const { page } = opened;
  await page.route('**/steps/**', async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    assert.equal(body.passcodeProofs.length, 1, 'the server answers its proof');
    body.passcodeProofs[0].m2 = Buffer.alloc(32, 7).toString('base64');
    await route.fulfill({ response, json: body });
  });
  await page.goto(token.uiUrl);
  await settled(page);
  await page.fill('input[data-element-id=passcode]', PASSCODE);
  const end = await submit(page);
  assert.deepEqual([end.state, end.error], ['error', 'error.proof']);
  await checkPage(opened, 'proof-mismatch');
});

test('deregistration: the passcode is gone', async () => {
  const externalId = newExternalId('dereg');
  await registerThroughPages(externalId);
  const token = await tokenFor('passcode-deregistration', externalId);
  const opened = await open();
  await opened.page.goto(token.uiUrl);
  const end = await settled(opened.page);
  assert.deepEqual([end.state, end.status, end.heading], ['end', 'COMPLETED_ENDED_SUCCESS', 'Passcode deregistered']);
  await checkPage(opened, 'deregistration-done');
  const user = await userByExternalId(server, externalId);
  assert.deepEqual(user.registeredPasscodes, []);
});

async function addUser(externalId) {
  return adminCall(server, 'POST', `/api/identity-store/tenants/${TENANT}/stores/${STORE}/users`, { externalId });
}

test('TOTP registration: QR code, link and secret shown; the first code registers it', async () => {
  const externalId = newExternalId('totp');
  await addUser(externalId);
  const token = await tokenFor('totp-registration', externalId);
  const opened = await open();
  const { page } = opened;
  await page.goto(token.uiUrl);
  const step = await settled(page);
  assert.deepEqual([step.activity, step.heading], ['totpRegistrationForm', 'Set up your authenticator app']);
  await checkPage(opened, 'totp-registration-form');
  const link = await page.getAttribute('a[data-element-id=totpLink]', 'href');
  assert.match(link, /^otpauth:\/\/totp\//);
  assert.equal(await decodeQr(page, 'img.qr'), link, 'the QR code holds the otpauth link');
  const secret = await page.textContent('code.copy-value');
  assert.equal(new URL(link).searchParams.get('secret'), secret);

  // A code of the wrong shape is refused on the page, with nothing sent.
  await page.fill('input[data-element-id=code]', '12');
  const refused = await submit(page);
  assert.equal(refused.state, 'step');
  assert.match(await page.textContent('.field-error'), /6-digit code/);
  assert.equal(await page.evaluate(() => document.activeElement.dataset.elementId), 'code', 'focus moves to the field in error');
  assert.equal(stepPosts(opened.requests).length, 0);
  await checkPage(opened, 'totp-code-error');

  await page.fill('input[data-element-id=code]', totpCode(secret));
  const end = await submit(page);
  assert.deepEqual([end.status, end.heading], ['COMPLETED_ENDED_SUCCESS', 'TOTP registered']);
  await checkPage(opened, 'totp-registration-done');
  const user = await userByExternalId(server, externalId);
  assert.deepEqual(user.totpRegistrations.map((r) => r.policyName), ['default']);
});

test("current TOTP: the page's QR code is Get TOTP's", async () => {
  const externalId = newExternalId('current');
  await addUser(externalId);
  const userId = (await userByExternalId(server, externalId)).id;
  const started = await adminCall(server, 'POST', `/api/identity-store/tenants/${TENANT}/stores/${STORE}/users/${userId}/totps/registrations/default`, {});
  await adminCall(server, 'POST', `/api/identity-store/tenants/${TENANT}/stores/${STORE}/totps/registrations/sessions/${started.sessionId}`, {
    code: totpCode(started.secret),
  });
  const expected = await currentTotp(server, userId);
  const token = await tokenFor('current-totp', externalId);
  const opened = await open();
  await opened.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base });
  const { page } = opened;
  await page.goto(token.uiUrl);
  const step = await settled(page);
  assert.deepEqual([step.activity, step.heading], ['customDataForm', 'Your authenticator registration']);
  await checkPage(opened, 'current-totp');
  assert.equal(await decodeQr(page, 'img.qr'), expected.qrCodeString);
  assert.equal(await page.getAttribute('a[data-element-id=currentTotpLink]', 'href'), expected.qrCodeString);
  assert.equal(await page.textContent('code.copy-value'), expected.secret);
  await page.click('.copy button');
  await page.locator('.step-form .status').filter({ hasText: 'Copied to the clipboard.' }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), expected.secret);
  const end = await submit(page);
  assert.deepEqual([end.status, end.heading], ['COMPLETED_ENDED_SUCCESS', 'QR code shown']);
  await checkPage(opened, 'current-totp-done');
});

test('a policy violation is shown before submit and nothing is sent', async () => {
  const externalId = newExternalId('policy');
  const token = await tokenFor('passcode-registration', externalId);
  const opened = await open();
  const { page } = opened;
  await page.goto(token.uiUrl);
  await settled(page);
  await page.fill('input[data-element-id=passcode]', 'short');
  // Live, as the user types: the unmet requirements are marked with the policy's own terms.
  const unmet = await page.locator('.requirements li.unmet').allTextContents();
  assert.ok(unmet.some((text) => /8 to 64 characters/.test(text)), unmet.join(' | '));
  assert.ok(unmet.some((text) => /upper-case/.test(text)), unmet.join(' | '));
  await page.fill('input[data-element-id=passcodeConfirmation]', 'short');
  const refused = await submit(page);
  assert.equal(refused.state, 'step');
  assert.match(await page.textContent('.field-error'), /8 to 64 characters/);
  assert.equal(await page.evaluate(() => document.activeElement.dataset.elementId), 'passcode');
  await checkPage(opened, 'policy-violation');

  await page.fill('input[data-element-id=passcode]', PASSCODE);
  await page.fill('input[data-element-id=passcodeConfirmation]', 'Mism4tch-passcode');
  const mismatch = await submit(page);
  assert.equal(mismatch.state, 'step');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.elementId), 'passcodeConfirmation');
  assert.equal(stepPosts(opened.requests).length, 0, 'nothing was sent');

  await page.fill('input[data-element-id=passcodeConfirmation]', PASSCODE);
  const end = await submit(page);
  assert.equal(end.heading, 'Passcode registered');
  assertNothingLeaked(opened.requests, token.id);
});

test('reloading mid-flow returns to the same step of the same instance', async () => {
  const externalId = newExternalId('reload');
  const token = await tokenFor('passcode-registration', externalId);
  const opened = await open();
  const { page } = opened;
  await page.goto(token.uiUrl);
  const before = await settled(page);
  const instanceId = await page.evaluate(() => sessionStorage.getItem('idflow.instanceId'));
  await page.reload();
  const after = await settled(page);
  assert.deepEqual([after.state, after.activity, after.heading], [before.state, before.activity, before.heading]);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('idflow.instanceId')), instanceId);
  const starts = opened.requests.filter((r) => r.method === 'POST' && r.url.endsWith('/process-instances'));
  assert.equal(starts.length, 1, 'the reload started no second instance');
  assert.ok(opened.requests.some((r) => r.method === 'GET' && r.url.endsWith(`/process-instances/${instanceId}`)));
  await page.fill('input[data-element-id=passcode]', PASSCODE);
  await page.fill('input[data-element-id=passcodeConfirmation]', PASSCODE);
  assert.equal((await submit(page)).heading, 'Passcode registered');
});

const TWO_STEPS_BPMN = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:idflow="https://idflow.dev/schema/bpmn/1.0"
                  id="browser-two-steps-definitions" targetNamespace="https://idflow.dev/tests">
  <bpmn:process id="browser-two-steps" name="Two steps" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="first" name="First">
      <bpmn:extensionElements>
        <idflow:activity type="customDataForm">
          <idflow:param name="Data form name">browser-note</idflow:param>
          <idflow:param name="Form data Key">firstNote</idflow:param>
        </idflow:activity>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:userTask id="second" name="Second">
      <bpmn:extensionElements>
        <idflow:activity type="customDataForm">
          <idflow:param name="Data form name">browser-note</idflow:param>
          <idflow:param name="Form data Key">secondNote</idflow:param>
        </idflow:activity>
      </bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end" name="Notes taken"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="first" />
    <bpmn:sequenceFlow id="f2" sourceRef="first" targetRef="second" />
    <bpmn:sequenceFlow id="f3" sourceRef="second" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
`;

let twoStepsDeployed = false;

/** A token of a two-step custom-form flow (deployed on first use). */
async function twoStepsToken() {
  if (!twoStepsDeployed) {
    await adminCall(server, 'POST', `/api/process-manager/tenants/${TENANT}/process-definitions`, TWO_STEPS_BPMN);
    await adminCall(server, 'POST', `/api/process-manager/tenants/${TENANT}/custom-forms`, {
      name: 'browser-note',
      title: { text: 'Leave a note', subtitle: 'Any text will do.' },
      components: [
        { type: 'paragraph', elementId: 'intro', text: 'This note goes to the flow.' },
        { type: 'text', elementId: 'note', uiLabel: 'Note', required: true, placeholder: 'A few words' },
      ],
      submitButton: { uiLabel: 'Send' },
    });
    twoStepsDeployed = true;
  }
  return adminCall(server, 'POST', `/api/process-manager/tenants/${TENANT}/process-tokens`, {
    name: newExternalId('notes'),
    processDefnName: 'browser-two-steps',
  });
}

test('a step answered elsewhere (409) brings the page to the current step', async () => {
  const token = await twoStepsToken();
  const opened = await open();
  const { page } = opened;
  await page.goto(token.uiUrl);
  const first = await settled(page);
  assert.deepEqual([first.activity, first.heading], ['customDataForm', 'Leave a note']);
  await checkPage(opened, 'custom-form');

  // A required field left empty is named, and nothing is sent.
  const empty = await submit(page);
  assert.equal(empty.state, 'step');
  assert.match(await page.textContent('.field-error'), /Note/);
  assert.equal(stepPosts(opened.requests).length, 0);

  // Answer the same step from elsewhere (another tab, a back-end) with the end-user API.
  const instanceId = await page.evaluate(() => sessionStorage.getItem('idflow.instanceId'));
  const base = `${server.base}/api/process-manager/process-instances/${instanceId}`;
  const now = await (await fetch(base)).json();
  const answered = await fetch(`${base}/steps/${now.currentStep.stepId}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ note: 'from elsewhere' }),
  });
  assert.equal(answered.status, 200);

  await page.fill('input[data-element-id=note]', 'from the page');
  const second = await submit(page);
  assert.equal(second.state, 'step');
  assert.match(await page.textContent('.notice'), /already answered elsewhere/);
  assert.ok(stepPosts(opened.requests).length === 1);
  await checkPage(opened, 'stale-step-recovered');
  await page.fill('input[data-element-id=note]', 'second');
  const end = await submit(page);
  assert.deepEqual([end.status, end.heading], ['COMPLETED_ENDED_SUCCESS', 'Notes taken']);
});

test('a network failure is retried with the same answer, applied once', async () => {
  const token = await twoStepsToken();
  const opened = await open();
  const { page } = opened;
  let failed = 0;
  await page.route('**/steps/**', async (route) => {
    if (failed === 0) {
      failed++;
      await route.fetch(); // The server gets and applies the answer; the page never hears back.
      await route.abort('connectionreset');
    } else {
      await route.continue();
    }
  });
  await page.goto(token.uiUrl);
  await settled(page);
  await page.fill('input[data-element-id=note]', 'once');
  await page.click('form.step-form button[type=submit]');
  await page.waitForSelector('.form-alert:not([hidden]) button');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'form-alert', 'focus moves to the error');
  await checkPage(opened, 'network-retry');
  await page.click('.form-alert button');
  const second = await settled(page);
  assert.deepEqual([second.state, second.heading], ['step', 'Leave a note']);
  const posts = stepPosts(opened.requests);
  assert.equal(posts.length, 2);
  assert.equal(posts[0].body, posts[1].body, 'the retry sends the same bytes');
  assert.equal(posts[0].url, posts[1].url);
  const instanceId = await page.evaluate(() => sessionStorage.getItem('idflow.instanceId'));
  const history = await instanceHistory(server, instanceId);
  const kinds = history.events.map((e) => e.k);
  assert.equal(kinds.filter((k) => k === 'answered').length, 1, `one answer applied: ${kinds.join(' ')}`);
});

test('an unknown link, no link and a used-up link each have their page', async () => {
  const cases = [
    { url: `${server.base}/flow/#token=AAAAAAAAAAAAAAAAAAAAAAAAAA`, error: 'error.tokenUnknown', heading: 'This link is not valid' },
    { url: `${server.base}/flow/`, error: 'error.noToken', heading: 'Open your link' },
  ];
  const limited = await adminCall(server, 'POST', `/api/process-manager/tenants/${TENANT}/process-tokens`, {
    name: newExternalId('once'),
    processDefnName: 'browser-two-steps',
    type: 'MULTI_USE_COUNT_LIMITED',
    maxUses: 1,
  }).catch(async () => {
    await twoStepsToken();
    return adminCall(server, 'POST', `/api/process-manager/tenants/${TENANT}/process-tokens`, {
      name: newExternalId('once'),
      processDefnName: 'browser-two-steps',
      type: 'MULTI_USE_COUNT_LIMITED',
      maxUses: 1,
    });
  });
  await fetch(`${server.base}/api/process-manager/process-instances`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ processToken: limited.id }),
  });
  cases.push({ url: limited.uiUrl, error: 'error.TOKEN_USED_UP', heading: 'This link has been used up' });
  for (const c of cases) {
    const opened = await open();
    await opened.page.goto(c.url);
    const shown = await settled(opened.page);
    assert.deepEqual([shown.state, shown.error, shown.heading], ['error', c.error, c.heading], c.url);
    await checkPage(opened, c.error.replace('error.', 'error-'));
  }
});

test('Accept-Language: de shows the German message file', async () => {
  const externalId = newExternalId('de');
  const token = await tokenFor('passcode-registration', externalId);
  const opened = await open({ locale: 'de-DE' });
  const { page } = opened;
  await page.goto(token.uiUrl);
  await settled(page);
  assert.equal(await page.getAttribute('html', 'lang'), 'de');
  assert.equal(await page.textContent('.requirements-title'), 'Ihr Passcode braucht:');
  await page.fill('input[data-element-id=passcode]', 'short');
  await page.fill('input[data-element-id=passcodeConfirmation]', 'short');
  await submit(page);
  assert.match(await page.textContent('.field-error'), /8 bis 64 Zeichen/);
  await checkPage(opened, 'german');
});

test('branding set through the API shows on the pages', async () => {
  const route = `/api/process-manager/tenants/${TENANT}/branding`;
  const refused = await fetch(server.base + route, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${server.admin}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ primaryColor: '#eeeeee' }),
  });
  assert.equal(refused.status, 400);
  assert.equal((await refused.json()).code, 'INVALID_BRANDING');
  const logo =
    'data:image/svg+xml;base64,' +
    Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><circle cx="20" cy="20" r="18" fill="#0b5394"/></svg>').toString('base64');
  await adminCall(server, 'PUT', route, { displayName: 'Acme Bank', logo, primaryColor: '#0b5394', backgroundColor: '#fffdf5' });
  try {
    const token = await twoStepsToken();
    const opened = await open();
    const { page } = opened;
    await page.goto(token.uiUrl);
    await settled(page);
    assert.equal(await page.textContent('.brand-name'), 'Acme Bank');
    assert.equal(await page.getAttribute('.brand-logo', 'src'), logo);
    const colour = await page.evaluate(() => getComputedStyle(document.querySelector('button.primary')).backgroundColor);
    assert.equal(colour, 'rgb(11, 83, 148)');
    assert.match(await page.title(), /Acme Bank/);
    await checkPage(opened, 'branded');
  } finally {
    await adminCall(server, 'PUT', route, {});
  }
});

test('the pages are served with a strict CSP, no referrer and the right caching', async () => {
  const page = await fetch(`${server.base}/flow/`, { headers: { 'Accept-Language': 'de;q=0.9, en;q=0.8' } });
  assert.equal(page.status, 200);
  const csp = page.headers.get('content-security-policy');
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /default-src 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(page.headers.get('cache-control'), 'no-cache');
  assert.equal(page.headers.get('content-language'), 'de');
  const html = await page.text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)/, 'no inline script');
  assert.doesNotMatch(html, /\sstyle=/, 'no inline style');
  const script = html.match(/src="(\/flow\/[^"]+\/app\.js)"/)[1];
  const js = await fetch(server.base + script);
  assert.match(js.headers.get('content-type'), /^text\/javascript/);
  assert.match(js.headers.get('cache-control'), /immutable/);
  const stale = await fetch(`${server.base}${script.replace(/\/flow\/[^/]+\//, '/flow/0000/')}`);
  assert.equal(stale.status, 404);
  const started = await fetch(`${server.base}/api/process-manager/process-instances/AAAAAAAAAAAAAAAAAAAAAAAAAA`);
  assert.equal(started.status, 404);
  assert.equal(started.headers.get('cache-control'), 'no-store');
});

test('the demo links printed at start: demo-user registers, renews, authenticates and adds TOTP', async () => {
  const links = new Map();
  for (const line of server.banner) {
    const match = line.match(/^\s+([a-z-]+)\s+(http:\/\/\S+\/flow\/#token=\S+)$/);
    if (match) links.set(match[1], match[2]);
  }
  assert.deepEqual([...links.keys()].sort(), [
    'current-totp',
    'passcode-authentication',
    'passcode-deregistration',
    'passcode-registration',
    'passcode-renewal',
    'totp-registration',
  ]);
  const walk = async (flow, fill) => {
    const opened = await open();
    await opened.page.goto(links.get(flow));
    const step = await settled(opened.page);
    assert.equal(step.state, 'step', `${flow}: ${JSON.stringify(step)}`);
    await fill(opened.page);
    const end = await submit(opened.page);
    assertNothingLeaked(opened.requests);
    return end.heading;
  };
  const registered = await walk('passcode-registration', async (page) => {
    await page.fill('input[data-element-id=passcode]', PASSCODE);
    await page.fill('input[data-element-id=passcodeConfirmation]', PASSCODE);
  });
  assert.equal(registered, 'Passcode registered');
  const renewed = await walk('passcode-renewal', async (page) => {
    await page.fill('input[data-element-id=currentPasscode]', PASSCODE);
    await page.fill('input[data-element-id=newPasscode]', NEW_PASSCODE);
    await page.fill('input[data-element-id=newPasscodeConfirmation]', NEW_PASSCODE);
  });
  assert.equal(renewed, 'Passcode renewed');
  const authenticated = await walk('passcode-authentication', (page) => page.fill('input[data-element-id=passcode]', NEW_PASSCODE));
  assert.equal(authenticated, 'Authenticated');
  const totp = await walk('totp-registration', async (page) => {
    await page.fill('input[data-element-id=code]', totpCode(await page.textContent('code.copy-value')));
  });
  assert.equal(totp, 'TOTP registered');
  const user = await userByExternalId(server, 'demo-user');
  assert.equal(user.registeredPasscodes.length, 1);
  assert.equal(user.totpRegistrations.length, 1);
});
