// Identity stores and their policies: list and create stores; a store's passcode and TOTP
// policies, shown in full and created here. The API has no update of a policy (a user's
// registration names its policy), so "Start a new policy from …" fills the create form with a
// policy's values under a new name.
import { call } from '../api.js';
import { identityPath } from './users.js';
import { attempt, button, el, facts, field, lacks, messageLine, pageHead, seg, table, when } from './ui.js';

export async function openStores(main, session, route) {
  if (route[0]) return openStore(main, session, decodeURIComponent(route[0]));
  const base = `${identityPath(session.tenant)}/stores`;
  const message = messageLine('stores-message');
  const list = el('div', { id: 'store-list' });
  const createMessage = messageLine('create-store-message');
  const name = el('input', { id: 'store-name', required: true, autocomplete: 'off', spellcheck: 'false' });
  const form = el('form', { id: 'create-store-form', class: 'inline-form' }, field('New store name', name), el('button', { type: 'submit', id: 'create-store' }, 'Create store'));
  main.replaceChildren(
    pageHead('Identity stores', 'Each store holds users and the passcode and TOTP policies they register under.'),
    el('section', { class: 'panel', 'aria-labelledby': 'stores-heading' }, el('h2', { id: 'stores-heading' }, 'Stores'), message, list),
    el('section', { class: 'panel', 'aria-labelledby': 'create-store-heading' }, el('h2', { id: 'create-store-heading' }, 'Create a store'), session.can('createStore') ? '' : lacks(session, 'create stores', 'createStore'), form, createMessage),
  );
  main.className = 'ops stores';
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const created = await attempt(createMessage, session, 'create stores', () => call('POST', base, { body: { name: name.value.trim() } }));
    if (created) {
      createMessage.say(`Created store ${created.name}.`, 'success');
      name.value = '';
      await refresh();
    }
  });
  async function refresh() {
    if (!session.can('listStores')) {
      list.replaceChildren(lacks(session, 'list stores', 'listStores'));
      return;
    }
    const answer = await attempt(message, session, 'list stores', () => call('GET', base));
    if (!answer) return;
    list.replaceChildren(
      table(
        'Stores',
        ['Store', 'Created'],
        answer.stores.map((s) => el('tr', { 'data-store': s.name }, el('td', {}, el('a', { href: `#stores/${seg(s.name)}` }, s.name)), el('td', {}, when(s.createdAt)))),
        { id: 'store-table' },
      ),
    );
  }
  await refresh();
  return {};
}

const REQUIREMENTS = [
  ['minimumLength', 'Minimum length', 8],
  ['maximumLength', 'Maximum length', 64],
  ['digitCount', 'Digits at least', 1],
  ['symbolCount', 'Symbols at least', 0],
  ['lowerCaseCount', 'Lower-case letters at least', 1],
  ['upperCaseCount', 'Upper-case letters at least', 1],
  ['characterVariety', 'Different characters at least', 0],
  ['passcodeHistory', 'Earlier passcodes refused', 3],
];
const PASSCODE_LIMITS = [
  ['maxFailedAttempts', 'Failed attempts before locking', 5],
  ['sessionLifetimeSeconds', 'Session lifetime (seconds)', 300],
  ['temporaryLockSeconds', 'Temporary lock (seconds; 0 locks until unlocked)', 0],
];
const TOTP_NUMBERS = [
  ['digits', 'Digits (6 or 8)', 6],
  ['period', 'Period (seconds)', 30],
  ['acceptedDriftSteps', 'Accepted drift (time steps)', 1],
  ['maxFailedAttempts', 'Failed attempts before locking', 5],
  ['sessionLifetimeSeconds', 'Session lifetime (seconds)', 600],
];

async function openStore(main, session, store) {
  const base = `${identityPath(session.tenant)}/stores/${seg(store)}`;
  const message = messageLine('store-message');
  const passcodeBox = el('section', { class: 'panel', id: 'passcode-policies', 'aria-labelledby': 'pp-heading' });
  const totpBox = el('section', { class: 'panel', id: 'totp-policies', 'aria-labelledby': 'tp-heading' });
  main.replaceChildren(el('p', {}, el('a', { href: '#stores' }, '← All stores')), pageHead(`Store ${store}`), message, passcodeBox, totpBox);
  main.className = 'ops store';
  if (session.can('getStore')) {
    const found = await attempt(message, session, 'read this store', () => call('GET', base));
    if (!found) return {};
  }

  // -- passcode policies --------------------------------------------------------------------------
  const ppMessage = messageLine('passcode-policy-message');
  const ppList = el('div', { id: 'passcode-policy-list' });
  const ppName = el('input', { id: 'pp-name', required: true, autocomplete: 'off', spellcheck: 'false' });
  const ppInputs = Object.fromEntries([...REQUIREMENTS, ...PASSCODE_LIMITS].map(([key, , dflt]) => [key, el('input', { id: `pp-${key}`, type: 'number', min: 0, step: 1, value: dflt })]));
  const ppForm = el(
    'form',
    { id: 'create-passcode-policy', class: 'grid-form' },
    field('Policy name', ppName),
    ...[...REQUIREMENTS, ...PASSCODE_LIMITS].map(([key, label]) => field(label, ppInputs[key])),
    el('div', { class: 'actions wide' }, el('button', { type: 'submit' }, 'Create passcode policy')),
  );
  ppForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const number = (key) => Number(ppInputs[key].value);
    const body = {
      name: ppName.value.trim(),
      passcodeRequirements: { ...Object.fromEntries(REQUIREMENTS.map(([k]) => [k, number(k)])), requiredRegExes: [], allowedRegExes: [], disallowedRegExes: [] },
      ...Object.fromEntries(PASSCODE_LIMITS.map(([k]) => [k, number(k)])),
    };
    if (ppForm.dataset.regexes) Object.assign(body.passcodeRequirements, JSON.parse(ppForm.dataset.regexes));
    const created = await attempt(ppMessage, session, 'create passcode policies', () => call('POST', `${base}/passcode-policies`, { body }));
    if (created) {
      ppMessage.say(`Created passcode policy ${body.name}.`, 'success');
      ppName.value = '';
      await refreshPasscode();
    }
  });
  passcodeBox.append(
    el('h2', { id: 'pp-heading' }, 'Passcode policies'),
    ppList,
    el('h3', {}, 'Create a passcode policy'),
    el('p', { class: 'note' }, 'A policy cannot be changed once users register under it: to change one, start from it under a new name.'),
    session.can('createPasscodePolicy') ? '' : lacks(session, 'create passcode policies', 'createPasscodePolicy'),
    ppForm,
    ppMessage,
  );

  async function refreshPasscode() {
    if (!session.can('listPasscodePolicies')) {
      ppList.replaceChildren(lacks(session, 'list passcode policies', 'listPasscodePolicies'));
      return;
    }
    const listMessage = messageLine('pp-list-message');
    const answer = await attempt(listMessage, session, 'list passcode policies', () => call('GET', `${base}/passcode-policies`));
    if (!answer) {
      ppList.replaceChildren(listMessage);
      return;
    }
    ppList.replaceChildren(
      ...(answer.policies.length ? answer.policies.map((p) => passcodePolicyView(p)) : [el('p', { class: 'note' }, 'No passcode policy yet.')]),
    );
  }

  function passcodePolicyView(p) {
    const r = p.passcodeRequirements;
    const regexes = [...r.requiredRegExes.map((x) => `must match ${x.pattern}`), ...r.allowedRegExes.map((x) => `may match ${x.pattern}`), ...r.disallowedRegExes.map((x) => `must not match ${x.pattern}`)];
    const copy = button(`Start a new policy from ${p.name}`, () => {
      for (const [key] of REQUIREMENTS) ppInputs[key].value = r[key];
      for (const [key] of PASSCODE_LIMITS) ppInputs[key].value = p[key];
      ppForm.dataset.regexes = JSON.stringify({ requiredRegExes: r.requiredRegExes, allowedRegExes: r.allowedRegExes, disallowedRegExes: r.disallowedRegExes });
      ppName.value = `${p.name}-2`;
      ppName.focus();
    });
    return el(
      'article',
      { class: 'card policy', 'data-policy': p.name },
      el('div', { class: 'card-body' }, el('h3', {}, p.name), facts([...REQUIREMENTS.map(([k, label]) => [label, String(r[k])]), ...PASSCODE_LIMITS.map(([k, label]) => [label, String(p[k])]), ['Patterns', regexes.join('; ') || 'none']]), copy),
    );
  }

  // -- TOTP policies ----------------------------------------------------------------------------
  const tpMessage = messageLine('totp-policy-message');
  const tpList = el('div', { id: 'totp-policy-list' });
  const tpName = el('input', { id: 'tp-name', required: true, autocomplete: 'off', spellcheck: 'false' });
  const tpIssuer = el('input', { id: 'tp-issuer', required: true, autocomplete: 'off', value: 'idflow' });
  const tpAlgorithm = el('select', { id: 'tp-algorithm' }, ...['SHA1', 'SHA256', 'SHA512'].map((a) => el('option', { value: a }, a)));
  const tpInputs = Object.fromEntries(TOTP_NUMBERS.map(([key, , dflt]) => [key, el('input', { id: `tp-${key}`, type: 'number', min: 0, step: 1, value: dflt })]));
  const tpForm = el(
    'form',
    { id: 'create-totp-policy', class: 'grid-form' },
    field('Policy name', tpName),
    field('Issuer (shown in the authenticator app)', tpIssuer),
    field('Algorithm', tpAlgorithm, 'SHA1 is what most authenticator apps support.'),
    ...TOTP_NUMBERS.map(([key, label]) => field(label, tpInputs[key])),
    el('div', { class: 'actions wide' }, el('button', { type: 'submit' }, 'Create TOTP policy')),
  );
  tpForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { name: tpName.value.trim(), issuer: tpIssuer.value.trim(), algorithm: tpAlgorithm.value, ...Object.fromEntries(TOTP_NUMBERS.map(([k]) => [k, Number(tpInputs[k].value)])) };
    const created = await attempt(tpMessage, session, 'create TOTP policies', () => call('POST', `${base}/totp-policies`, { body }));
    if (created) {
      tpMessage.say(`Created TOTP policy ${body.name}.`, 'success');
      tpName.value = '';
      await refreshTotp();
    }
  });
  totpBox.append(
    el('h2', { id: 'tp-heading' }, 'TOTP policies'),
    tpList,
    el('h3', {}, 'Create a TOTP policy'),
    session.can('createTotpPolicy') ? '' : lacks(session, 'create TOTP policies', 'createTotpPolicy'),
    tpForm,
    tpMessage,
  );

  async function refreshTotp() {
    if (!session.can('listTotpPolicies')) {
      tpList.replaceChildren(lacks(session, 'list TOTP policies', 'listTotpPolicies'));
      return;
    }
    const listMessage = messageLine('tp-list-message');
    const answer = await attempt(listMessage, session, 'list TOTP policies', () => call('GET', `${base}/totp-policies`));
    if (!answer) {
      tpList.replaceChildren(listMessage);
      return;
    }
    tpList.replaceChildren(
      ...(answer.policies.length
        ? answer.policies.map((p) => {
            const copy = button(`Start a new policy from ${p.name}`, () => {
              tpIssuer.value = p.issuer;
              tpAlgorithm.value = p.algorithm;
              for (const [key] of TOTP_NUMBERS) tpInputs[key].value = p[key];
              tpName.value = `${p.name}-2`;
              tpName.focus();
            });
            return el('article', { class: 'card policy', 'data-policy': p.name }, el('div', { class: 'card-body' }, el('h3', {}, p.name), facts([['Issuer', p.issuer], ['Algorithm', p.algorithm], ...TOTP_NUMBERS.map(([k, label]) => [label, String(p[k])])]), copy));
          })
        : [el('p', { class: 'note' }, 'No TOTP policy yet.')]),
    );
  }

  await Promise.all([refreshPasscode(), refreshTotp()]);
  return {};
}
