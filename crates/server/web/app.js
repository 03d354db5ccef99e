// The end user's page: opens with a process token in the URL fragment (`/flow/#token=...`),
// starts the instance, and walks it step by step until its final page.
//
// What the page may know and keep: the token only until the instance has started (then it is
// dropped from the address bar); the instance ID in this tab's sessionStorage (so a reload
// returns to the current step, and nothing outlives the tab); the current step in memory. A
// passcode lives only in its input until the SRP values are derived, then the input is cleared;
// it is never sent, stored or logged. An answer is kept (in memory) until the server confirms it,
// so a retry after a network failure sends the very same bytes, which the server applies once.

import * as api from './api.js';
import * as srp from './srp.js';
import { loadMessages, t } from './i18n.js';
import { el, renderForm, setFieldError, clearFieldError, requirementList } from './render.js';
import { requirementsFor, unmetRequirements } from './policy.js';

const STORAGE_KEY = 'idflow.instanceId';
const main = document.getElementById('main');
let brandName = '';

// -- the tab's session ------------------------------------------------------------------------

function storedInstance() {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

function remember(instanceId) {
  try {
    sessionStorage.setItem(STORAGE_KEY, instanceId);
  } catch {
    // Storage disabled: the flow still works, a reload just cannot resume it.
  }
}

function forget() {
  try {
    sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // Nothing stored.
  }
}

/** The process token in the URL fragment (`#token=...`), which no server or Referer sees. */
function tokenFromFragment() {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  return token && /^[A-Za-z0-9_-]{1,128}$/.test(token) ? token : null;
}

function dropFragment() {
  history.replaceState(null, '', location.pathname + location.search);
}

// -- pages ------------------------------------------------------------------------------------

/** Replaces the page's content; moves focus to the heading when the page changed under the user. */
function page(state, heading, content, { focus = true, subtitle } = {}) {
  const h1 = el('h1', { tabindex: '-1', id: 'page-title' }, heading);
  const parts = [h1];
  if (subtitle) parts.push(el('p', { class: 'subtitle' }, subtitle));
  main.replaceChildren(...parts, ...content);
  for (const key of ['status', 'error', 'activity', 'uiComponent']) delete main.dataset[key];
  main.dataset.state = state;
  main.removeAttribute('aria-busy');
  document.title = brandName ? `${heading} – ${brandName}` : heading;
  if (focus) h1.focus();
}

function errorPage(key, { retry, focus = true, detail } = {}) {
  const content = [el('p', { class: 'message' }, t(`${key}.body`))];
  if (detail) content.push(el('p', { class: 'detail' }, detail));
  if (retry) {
    const button = el('button', { type: 'button', class: 'primary' }, t('action.retry'));
    button.addEventListener('click', () => {
      button.disabled = true;
      retry();
    });
    content.push(el('div', { class: 'actions' }, button));
  }
  page('error', t(`${key}.title`), content, { focus });
  main.dataset.error = key;
}

function endPage(instance, { focus = true } = {}) {
  const status = instance.status;
  const ok = status === 'COMPLETED_ENDED_SUCCESS';
  const heading = instance.outcome || t(`status.${status}.title`);
  const content = [
    el('p', { class: `end-status ${ok ? 'ok' : 'bad'}` }, el('span', { class: 'mark', 'aria-hidden': 'true' }, ok ? '✓' : '!'), ' ', t(`status.${status}`)),
    el('p', { class: 'message' }, t('end.close')),
  ];
  page('end', heading, content, { focus });
  main.dataset.status = status;
}

function show(instance, options = {}) {
  if (instance.status === 'ACTIVE' && instance.currentStep) stepPage(instance, options);
  else endPage(instance, options);
}

// -- steps ------------------------------------------------------------------------------------

const KIND_BY_ACTIVITY = {
  passcodeRegistrationForm: 'registration',
  passcodeRenewalForm: 'renewal',
  passcodeAuthenticationForm: 'authentication',
  totpRegistrationForm: 'totp',
};

/** The passcode fields of each SRP step, in the form's order. */
const ROLES = {
  registration: ['new', 'confirm'],
  renewal: ['current', 'new', 'confirm'],
  authentication: ['current'],
};
const NEEDED = { registration: 1, renewal: 2, authentication: 1 };

function stepPage(instance, { focus = true, notice } = {}) {
  const step = instance.currentStep;
  const kind = KIND_BY_ACTIVITY[step.activity] || 'custom';
  const form = step.form || {};
  const data = step.data || {};
  let params = null;
  if (ROLES[kind]) {
    if (!globalThis.crypto || !globalThis.crypto.subtle) return errorPage('error.insecure', { focus });
    try {
      params = srp.readParameters(data.algorithmInfo);
    } catch (e) {
      return errorPage('error.unsupported', { focus, detail: e.message });
    }
  }
  const requirements = data.passcodeRequirements;
  let checklist = null;
  const drawn = renderForm(form, {
    onInput(field) {
      if (checklist && roles.get(field) === 'new') checklist.update(requirementsFor(requirements, field.input.value, t));
    },
  });
  const roles = new Map();
  const passcodes = drawn.fields.filter((f) => f.component.type === 'passcode');
  if (ROLES[kind]) {
    if (passcodes.length < NEEDED[kind]) return errorPage('error.formConfig', { focus });
    ROLES[kind].forEach((role, i) => passcodes[i] && roles.set(passcodes[i], role));
  }
  const fieldOf = (role) => [...roles].find(([, r]) => r === role)?.[0];
  for (const [field, role] of roles) field.input.autocomplete = role === 'current' ? 'current-password' : 'new-password';
  const newField = fieldOf('new');
  if (newField) {
    checklist = requirementList(`${newField.input.id}-requirements`);
    newField.input.after(checklist.node);
    newField.input.setAttribute('aria-describedby', `${newField.input.id}-requirements-title ${newField.input.id}-requirements`);
    checklist.update(requirementsFor(requirements, '', t));
  }
  let codeField = null;
  if (kind === 'totp') {
    const texts = drawn.fields.filter((f) => f.component.type === 'text');
    codeField = texts.find((f) => f.component.elementId === 'code') || texts[0] || null;
    if (!codeField) return errorPage('error.formConfig', { focus });
    codeField.input.inputMode = 'numeric';
    codeField.input.autocomplete = 'one-time-code';
  }
  const alert = el('div', { class: 'form-alert', role: 'alert', tabindex: '-1', hidden: true });
  drawn.form.prepend(alert);
  const content = [];
  if (notice) content.push(el('p', { class: 'notice', role: 'status' }, notice));
  content.push(drawn.form);
  const title = form.title && typeof form.title === 'object' ? form.title : { text: form.title };
  page('step', title.text || t('step.title'), content, { focus, subtitle: title.subtitle });
  main.dataset.activity = step.activity || '';
  main.dataset.uiComponent = step.uiComponentId || '';

  /** Field-level problems, before anything is derived or sent. */
  function validate() {
    const problems = [];
    for (const field of drawn.fields) {
      clearFieldError(field);
      if (field.component.required && !field.input.value.trim()) problems.push([field, t('field.required', { label: field.component.uiLabel || field.component.elementId })]);
    }
    const flagged = new Set(problems.map(([f]) => f));
    if (newField && !flagged.has(newField)) {
      const unmet = unmetRequirements(requirements, newField.input.value, t);
      if (unmet.length) {
        problems.push([newField, t('field.policy', { problems: unmet.join('; ') })]);
        flagged.add(newField);
      }
    }
    const confirm = fieldOf('confirm');
    if (newField && confirm && !flagged.has(confirm) && confirm.input.value !== newField.input.value) {
      problems.push([confirm, t('field.mismatch')]);
    }
    if (codeField && !flagged.has(codeField)) {
      const digits = Number(data.digits) || 6;
      if (!new RegExp(`^\\d{${digits}}$`).test(codeField.input.value.trim())) problems.push([codeField, t('field.code', { digits })]);
    }
    return problems;
  }

  /** The answer's body and, for a proof of a passcode, the M2 the server must answer with. */
  async function prepare() {
    const body = {};
    for (const field of drawn.fields) {
      if (field.component.type === 'text') body[field.component.elementId] = field.input.value;
    }
    let expect = null;
    const value = (role) => fieldOf(role).input.value;
    if (kind === 'registration') {
      body.browserResponse = { srpRegistrationData: await srp.registrationData(params, value('new')) };
    } else if (kind === 'renewal') {
      const proof = await srp.verificationData(params, value('current'));
      const registration = await srp.registrationData(params, value('new'));
      body.browserResponse = { srpRegistrationData: registration, srpVerificationData: proof.request };
      expect = { sessionId: data.sessionId, m2: proof.expectedM2 };
    } else if (kind === 'authentication') {
      const proof = await srp.verificationData(params, value('current'));
      body.browserResponse = { srpVerificationData: proof.request };
      expect = { sessionId: data.sessionId, m2: proof.expectedM2 };
    } else if (kind === 'totp') {
      body.browserResponse = { code: codeField.input.value.trim() };
    }
    return { bodyText: JSON.stringify(body), expect };
  }

  function setBusy(busy) {
    for (const button of drawn.submits) button.disabled = busy;
    if (busy) main.setAttribute('aria-busy', 'true');
    else main.removeAttribute('aria-busy');
    drawn.status.textContent = busy ? t('step.sending') : '';
  }

  function formAlert(message, retry) {
    alert.replaceChildren(el('p', {}, message));
    if (retry) {
      const button = el('button', { type: 'button', class: 'secondary' }, t('action.retry'));
      button.addEventListener('click', () => {
        alert.hidden = true;
        retry();
      });
      alert.append(button);
    }
    alert.hidden = false;
    alert.focus();
  }

  async function send(pending) {
    setBusy(true);
    let next;
    try {
      next = await api.answer(instance.instanceId, step.stepId, pending.bodyText);
    } catch (e) {
      if (e instanceof api.ApiError && e.status === 409) return reload(t('notice.stale'));
      if (e instanceof api.ApiError && e.status === 404) {
        forget();
        return errorPage('error.instanceGone');
      }
      if (api.isTransient(e)) {
        drawn.status.textContent = '';
        return formAlert(t('error.network.answer'), () => send(pending));
      }
      setBusy(false);
      return formAlert(t('error.rejected', { code: e.code || '' }));
    }
    if (pending.expect) {
      const proof = (next.passcodeProofs || []).find((p) => p.sessionId === pending.expect.sessionId);
      if (proof && !srp.serverProofMatches(pending.expect.m2, proof.m2)) return errorPage('error.proof');
    }
    show(next);
  }

  drawn.form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (main.getAttribute('aria-busy') === 'true') return;
    alert.hidden = true;
    const problems = validate();
    if (problems.length) {
      for (const [field, message] of problems) setFieldError(field, message);
      problems[0][0].input.focus();
      return;
    }
    setBusy(true);
    let pending;
    try {
      pending = await prepare();
    } catch (e) {
      setBusy(false);
      return formAlert(t('error.derive', { reason: e.message }));
    } finally {
      for (const field of roles.keys()) field.input.value = '';
      if (checklist) checklist.update(requirementsFor(requirements, '', t));
    }
    await send(pending);
  });
}

// -- loading ----------------------------------------------------------------------------------

/** Reads the instance again and shows where it is now (after a 409, or on resume). */
async function reload(notice, { focus = true } = {}) {
  const instanceId = storedInstance();
  if (!instanceId) return errorPage('error.noToken', { focus });
  let instance;
  try {
    instance = await api.read(instanceId);
  } catch (e) {
    return loadFailed(e, () => reload(notice, { focus }), { focus });
  }
  show(instance, { notice, focus });
}

function loadFailed(e, retry, { focus = true } = {}) {
  if (api.isTransient(e)) return errorPage('error.network', { retry, focus });
  if (e instanceof api.ApiError) {
    switch (e.code) {
      case 'PROCESS_TOKEN_NOT_FOUND':
      case 'INVALID_PROCESS_TOKEN':
        return errorPage('error.tokenUnknown', { focus });
      case 'TOKEN_INACTIVE':
      case 'TOKEN_EXPIRED':
      case 'TOKEN_USED_UP':
        return errorPage(`error.${e.code}`, { focus });
      case 'PROCESS_INSTANCE_NOT_FOUND':
        forget();
        return errorPage('error.instanceGone', { focus });
      default:
        return errorPage('error.server', { focus, detail: e.code });
    }
  }
  return errorPage('error.server', { focus });
}

function contrastingText(hex) {
  const channel = (i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const l = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? '#000000' : '#ffffff';
}

function applyBranding(branding) {
  if (!branding) return;
  const colour = /^#[0-9a-fA-F]{6}$/;
  const root = document.documentElement.style;
  if (colour.test(branding.primaryColor || '')) {
    root.setProperty('--primary', branding.primaryColor);
    root.setProperty('--on-primary', contrastingText(branding.primaryColor));
  }
  if (colour.test(branding.backgroundColor || '')) {
    root.setProperty('--bg', branding.backgroundColor);
    root.setProperty('--surface', branding.backgroundColor);
  }
  if (colour.test(branding.textColor || '')) root.setProperty('--text', branding.textColor);
  const header = document.getElementById('brand');
  const name = typeof branding.displayName === 'string' ? branding.displayName : '';
  const logo = typeof branding.logo === 'string' && branding.logo.startsWith('data:image/') ? branding.logo : '';
  if (!name && !logo) return;
  brandName = name;
  const parts = [];
  // With the name next to it the logo is decoration; alone, it names the organisation.
  if (logo) parts.push(el('img', { class: 'brand-logo', src: logo, alt: name ? '' : t('brand.logo') }));
  if (name) parts.push(el('span', { class: 'brand-name' }, name));
  header.replaceChildren(...parts);
  header.hidden = false;
}

function within(promise, ms) {
  return Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve(null), ms))]);
}

async function boot() {
  main.dataset.state = 'loading';
  const lang = document.documentElement.lang || 'en';
  const messages = loadMessages(new URL(`./messages/${lang}.json`, import.meta.url), lang);
  const token = tokenFromFragment();
  const stored = storedInstance();
  const opening = token
    ? api.start(token).then((instance) => {
        remember(instance.instanceId);
        dropFragment();
        return instance;
      })
    : stored
      ? api.read(stored)
      : null;
  // A refusal can arrive before the message file: handled below, once the messages are in, but
  // marked handled now so the browser does not report an unhandled rejection meanwhile.
  opening?.catch(() => {});
  // The first page replaces the loading text; it takes focus only if the user had moved it.
  const focus = document.activeElement && document.activeElement !== document.body;
  try {
    await messages;
  } catch {
    // Without the message file the page shows message keys rather than nothing.
  }
  if (!opening) return errorPage('error.noToken', { focus });
  let instance;
  try {
    instance = await opening;
  } catch (e) {
    return loadFailed(e, boot, { focus });
  }
  applyBranding(await within(api.branding(instance.instanceId).catch(() => null), 1500));
  show(instance, { focus });
}

window.addEventListener('hashchange', () => {
  if (tokenFromFragment()) boot();
});

boot();
