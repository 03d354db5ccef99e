// Custom forms: edit a form definition's JSON with live checks (JSON syntax here, the form
// rules on the server) and a preview drawn by the end user's own renderer (web/render.js).
import { el, renderForm } from '../../web/render.js';
import { useMessages } from '../../web/i18n.js';
import messages from '../../web/messages/en.json';
import { call, tenantPath } from './api.js';

const STARTER = {
  name: 'my-form',
  title: { text: 'A title', subtitle: 'A subtitle' },
  components: [
    { type: 'paragraph', elementId: 'intro', text: 'Hello {{processvar.token.externalId}}.' },
    { type: 'text', elementId: 'nickname', uiLabel: 'Nickname', required: true },
    { type: 'submit', elementId: 'done', uiLabel: 'Continue' },
  ],
};

export async function openForms(main, session) {
  useMessages(messages, 'en');
  const base = tenantPath(session.tenant);
  main.className = 'forms';
  const status = el('p', { id: 'form-status', role: 'status', 'aria-live': 'polite' });
  const say = (text, kind = 'info') => {
    status.textContent = text;
    status.dataset.kind = kind;
  };
  const editor = el('textarea', { id: 'form-json', spellcheck: 'false', rows: 24, 'aria-label': 'Form definition (JSON)' });
  const problem = el('p', { id: 'form-problem', class: 'problem error', role: 'alert' });
  const preview = el('div', { id: 'form-preview', class: 'preview', 'aria-label': 'Preview' });
  const picker = el('select', { id: 'form-pick', 'aria-label': 'Open a deployed form' }, el('option', { value: '' }, 'Open deployed…'));
  const deployButton = el('button', { type: 'button', id: 'form-deploy' }, 'Deploy form');
  const newButton = el('button', { type: 'button', id: 'form-new' }, 'New');
  main.replaceChildren(
    el('div', { class: 'toolbar', role: 'toolbar' }, newButton, picker, deployButton),
    status,
    el('div', { class: 'form-workspace' }, el('div', {}, editor, problem), el('section', { 'aria-label': 'Preview' }, el('h2', {}, 'Preview'), preview)),
  );
  if (!session.can('deployCustomForm')) say(session.refusal('deploy forms', 'deployCustomForm'));

  let seq = 0;
  let timer = null;
  async function check() {
    const mine = ++seq;
    let definition;
    try {
      definition = JSON.parse(editor.value);
    } catch (e) {
      problem.textContent = `Not JSON: ${e.message}`;
      return;
    }
    if (!session.can('previewCustomForm')) {
      problem.textContent = session.refusal('check or preview forms', 'previewCustomForm');
      return;
    }
    try {
      const rendered = await call('POST', `${base}/custom-forms/preview`, { body: definition });
      if (mine !== seq) return;
      problem.textContent = '';
      const drawn = renderForm(rendered);
      drawn.form.addEventListener('submit', (e) => e.preventDefault());
      const title = rendered.title || {};
      preview.replaceChildren(el('h1', {}, title.text || ''), title.subtitle ? el('p', { class: 'subtitle' }, title.subtitle) : '', drawn.form);
      main.dataset.previewed = String(mine);
    } catch (e) {
      if (mine === seq) problem.textContent = e.message;
    }
  }
  editor.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(check, 300);
  });

  async function open(name) {
    try {
      const form = await call('GET', `${base}/custom-forms/${encodeURIComponent(name)}`);
      editor.value = JSON.stringify(form.definition, null, 2);
      say(`Opened ${name} version ${form.version}.`);
      check();
    } catch (e) {
      say(`Opening failed: ${e.message}`, 'error');
    }
  }
  picker.addEventListener('change', () => picker.value && open(picker.value));
  newButton.addEventListener('click', () => {
    editor.value = JSON.stringify(STARTER, null, 2);
    check();
  });
  deployButton.addEventListener('click', async () => {
    if (!session.can('deployCustomForm')) return say(session.refusal('deploy forms', 'deployCustomForm'), 'error');
    try {
      const answer = await call('POST', `${base}/custom-forms`, { body: JSON.parse(editor.value) });
      say(answer.created ? `Deployed ${answer.name} version ${answer.version}.` : `Unchanged: ${answer.name} version ${answer.version}.`, 'success');
      refresh();
    } catch (e) {
      say(`Not deployed: ${e.message}`, 'error');
    }
  });
  async function refresh() {
    if (!session.can('listCustomForms')) return;
    try {
      const list = await call('GET', `${base}/custom-forms`);
      const names = [...new Set(list.forms.map((f) => f.name))];
      picker.replaceChildren(el('option', { value: '' }, 'Open deployed…'), ...names.map((n) => el('option', { value: n }, n)));
    } catch (e) {
      say(`Listing forms failed: ${e.message}`, 'error');
    }
  }
  editor.value = JSON.stringify(STARTER, null, 2);
  refresh();
  check();
  return null;
}
