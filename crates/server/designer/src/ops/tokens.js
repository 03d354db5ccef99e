// Process tokens: the tenant's tokens, each with its link and a QR code of the link (drawn by the
// server) to hand to an end user; create one (type, maxUses, expiry, version pinning, parameters); deactivate one.
import { call, tenantPath } from '../api.js';
import { tokenQr } from './qr.js';
import { attempt, button, describeError, el, facts, field, lacks, messageLine, pageHead, seg, statusBadge, when } from './ui.js';

export async function openTokens(main, session) {
  const base = `${tenantPath(session.tenant)}/process-tokens`;
  const list = el('div', { id: 'token-list', class: 'cards', 'aria-live': 'polite' });
  const listMessage = messageLine('token-list-message');
  main.replaceChildren(
    pageHead('Process tokens', 'A process token starts instances of one definition. Hand its link (or the QR code of the link) to an end user.'),
    createForm(session, base, async (token) => {
      await refresh();
      // The new token's card, with its link and QR code, is what the operator wants next.
      const card = list.querySelector(`article[data-token="${CSS.escape(token.name)}"]`);
      card?.scrollIntoView({ block: 'nearest' });
      card?.focus();
    }),
    el('section', { class: 'panel', 'aria-labelledby': 'tokens-heading' }, el('h2', { id: 'tokens-heading' }, 'Tokens'), listMessage, list),
  );
  main.className = 'ops tokens';

  async function refresh() {
    if (!session.can('listProcessTokens')) {
      list.replaceChildren(lacks(session, 'list process tokens', 'listProcessTokens'));
      return;
    }
    const answer = await attempt(listMessage, session, 'list process tokens', () => call('GET', base));
    if (!answer) return;
    listMessage.clear();
    list.replaceChildren(...(answer.tokens.length ? answer.tokens.map((t) => tokenCard(session, base, t, refresh)) : [el('p', { class: 'note' }, 'No tokens yet: create one above.')]));
  }
  await refresh();
  return {};
}

function tokenCard(session, base, token, refresh) {
  const message = messageLine(`token-${token.name}-message`);
  const link = token.uiUrl;
  const linkId = `token-${token.name}-link`;
  const linkInput = el('input', { id: linkId, class: 'link', value: link, readonly: true, spellcheck: 'false' });
  linkInput.addEventListener('focus', () => linkInput.select());
  const copy = button('Copy link', async () => {
    try {
      await navigator.clipboard.writeText(link);
      message.say('Link copied.', 'success');
    } catch {
      linkInput.select();
      message.say('Select the link and copy it (the browser refused the clipboard).', 'info');
    }
  });
  const actions = el('div', { class: 'actions' }, copy);
  if (token.status === 'ACTIVE') {
    const deactivate = button('Deactivate', async () => {
      const answer = await attempt(message, session, 'deactivate process tokens', () => call('POST', `${base}/${seg(token.name)}/deactivate`, { body: {} }));
      if (answer) await refresh();
    }, { class: 'danger', 'data-action': 'deactivate', 'aria-describedby': message.id });
    actions.append(deactivate);
  }
  const limit =
    token.type === 'MULTI_USE_COUNT_LIMITED' ? `${token.uses} of ${token.maxUses} uses` : token.type === 'MULTI_USE_TIME_LIMITED' ? el('span', {}, `${token.uses} uses, until `, when(token.expiresAt)) : `${token.uses} uses, unlimited`;
  const params = Object.entries(token.parameters || {});
  return el(
    'article',
    { class: `card token state-${token.status.toLowerCase()}`, 'data-token': token.name, tabindex: -1, 'aria-labelledby': `token-${token.name}-title` },
    el(
      'div',
      { class: 'card-body' },
      el('h3', { id: `token-${token.name}-title` }, token.name, ' ', statusBadge(token.status)),
      token.description ? el('p', {}, token.description) : '',
      facts([
        ['Definition', `${token.processDefnName} ${token.processDefnVersion ? `version ${token.processDefnVersion} (pinned)` : '(latest version)'}`],
        ['Type', token.type],
        ['Uses', limit],
        ['Parameters', params.length ? el('ul', { class: 'params-list' }, ...params.map(([k, v]) => el('li', {}, el('code', {}, k), ' = ', el('code', {}, typeof v === 'string' ? v : JSON.stringify(v))))) : 'none'],
        ['Created', when(token.createdAt)],
      ]),
      el('div', { class: 'field' }, el('label', { for: linkId }, 'Link for the end user'), linkInput),
      actions,
      message,
    ),
    qrFigure(session, base, token.name),
  );
}

function qrFigure(session, base, name) {
  if (!session.can('getProcessToken')) {
    return el('figure', { class: 'qr-box' }, el('figcaption', { class: 'note lacks', 'data-permission': 'getProcessToken' }, 'The QR code needs getProcessToken, which this token lacks.'));
  }
  const line = messageLine(`token-${name}-qr-message`);
  return el('figure', { class: 'qr-box' }, tokenQr(session, base, name, line, describeError), el('figcaption', {}, 'Scan to open the link'), line);
}

function createForm(session, base, created) {
  const section = el('section', { class: 'panel', 'aria-labelledby': 'create-token-heading' }, el('h2', { id: 'create-token-heading' }, 'Create a token'));
  if (!session.can('createProcessToken')) {
    // The form is still shown: the server decides, and its refusal is shown next to the button.
    section.append(lacks(session, 'create process tokens', 'createProcessToken'));
  }
  const message = messageLine('create-token-message');
  const name = el('input', { id: 'token-name', required: true, autocomplete: 'off', spellcheck: 'false' });
  const description = el('input', { id: 'token-description', autocomplete: 'off' });
  const definition = el('select', { id: 'token-definition', required: true }, el('option', { value: '' }, 'Choose a definition…'));
  const version = el('select', { id: 'token-version' }, el('option', { value: '' }, 'Latest version when an instance starts'));
  const type = el(
    'select',
    { id: 'token-type' },
    el('option', { value: 'UNLIMITED' }, 'Unlimited'),
    el('option', { value: 'MULTI_USE_COUNT_LIMITED' }, 'Limited number of uses'),
    el('option', { value: 'MULTI_USE_TIME_LIMITED' }, 'Valid until a time'),
  );
  const maxUses = el('input', { id: 'token-max-uses', type: 'number', min: 1, step: 1, value: 1 });
  const expires = el('input', { id: 'token-expires', type: 'datetime-local' });
  const maxField = field('Maximum uses', maxUses);
  const expiresField = field('Expires at (your local time)', expires);
  const showKind = () => {
    maxField.hidden = type.value !== 'MULTI_USE_COUNT_LIMITED';
    expiresField.hidden = type.value !== 'MULTI_USE_TIME_LIMITED';
  };
  type.addEventListener('change', showKind);
  showKind();

  const versions = new Map();
  definition.addEventListener('change', () => {
    version.replaceChildren(el('option', { value: '' }, 'Latest version when an instance starts'), ...(versions.get(definition.value) || []).map((v) => el('option', { value: v }, `Pinned to version ${v}`)));
  });
  (async () => {
    if (!session.can('listProcessDefinitions')) {
      definition.replaceWith(el('input', { id: 'token-definition', required: true, autocomplete: 'off', placeholder: 'definition name' }));
      return;
    }
    try {
      const answer = await call('GET', `${tenantPath(session.tenant)}/process-definitions`);
      for (const d of answer.definitions) versions.set(d.name, [...(versions.get(d.name) || []), d.version]);
      definition.append(...[...versions.keys()].map((n) => el('option', { value: n }, n)));
    } catch (e) {
      message.fail(e, session, 'list definitions');
    }
  })();

  const rows = el('div', { id: 'token-params', class: 'kv-rows' });
  let rowCount = 0;
  const addRow = (key = '', value = '') => {
    const n = ++rowCount;
    const k = el('input', { id: `param-key-${n}`, value: key, autocomplete: 'off', spellcheck: 'false', 'data-role': 'key' });
    const v = el('input', { id: `param-value-${n}`, value, autocomplete: 'off', spellcheck: 'false', 'data-role': 'value' });
    const row = el('div', { class: 'kv-row' }, el('label', { for: k.id, class: 'visually-hidden' }, `Parameter ${n} name`), k, el('label', { for: v.id, class: 'visually-hidden' }, `Parameter ${n} value`), v);
    row.append(button('Remove', () => row.remove(), { 'aria-label': `Remove parameter ${n}` }));
    k.placeholder = 'name';
    v.placeholder = 'value';
    rows.append(row);
    return row;
  };
  for (const key of ['storeName', 'externalId']) addRow(key, '');
  const add = button('Add a parameter', () => addRow().querySelector('input').focus());

  const submit = el('button', { type: 'submit', id: 'create-token' }, 'Create token');
  const form = el(
    'form',
    { id: 'create-token-form', class: 'grid-form', 'aria-describedby': message.id },
    field('Name (unique in the tenant)', name),
    field('Description', description),
    field('Definition', definition),
    field('Version', version, 'Pin a version, or let each instance start the latest one.'),
    field('Type', type),
    maxField,
    expiresField,
    el('fieldset', { class: 'params wide' }, el('legend', {}, 'Parameters (processvar.token)'), rows, add),
    el('div', { class: 'actions wide' }, submit),
    el('div', { class: 'wide' }, message),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.clear();
    const parameters = {};
    for (const row of rows.querySelectorAll('.kv-row')) {
      const key = row.querySelector('[data-role=key]').value.trim();
      if (key) parameters[key] = row.querySelector('[data-role=value]').value;
    }
    const defName = form.querySelector('#token-definition').value.trim();
    const body = { name: name.value.trim(), description: description.value || null, processDefnName: defName, type: type.value, parameters };
    if (version.value) body.processDefnVersion = Number(version.value);
    if (type.value === 'MULTI_USE_COUNT_LIMITED') body.maxUses = Number(maxUses.value);
    if (type.value === 'MULTI_USE_TIME_LIMITED') {
      const at = new Date(expires.value);
      if (!expires.value || Number.isNaN(at.getTime())) {
        message.say('Choose when the token expires.', 'error');
        expires.focus();
        return;
      }
      body.expiresAt = at.toISOString();
    }
    if (!body.name || !body.processDefnName) {
      message.say('A token needs a name and a definition.', 'error');
      return;
    }
    submit.disabled = true;
    try {
      const token = await attempt(message, session, 'create process tokens', () => call('POST', base, { body }));
      if (token) {
        message.say(`Created token ${token.name}.`, 'success');
        form.dataset.created = token.name;
        name.value = '';
        await created(token);
      }
    } finally {
      submit.disabled = false;
    }
  });
  section.append(form);
  return section;
}
