// What the operations pages share: buttons, the message line next to each action (an API error
// shown where the action failed, naming the permission a 403 lacks), dates, statuses, and a
// section heading with its own message line.
import { el } from '../../../web/render.js';

export { el };

/** A button that runs `onClick`, disabled while it runs. */
export function button(label, onClick, attrs = {}) {
  const b = el('button', { type: 'button', ...attrs }, label);
  b.addEventListener('click', async (event) => {
    if (b.disabled) return;
    b.disabled = true;
    try {
      await onClick(event);
    } finally {
      if (b.isConnected) b.disabled = false;
    }
  });
  return b;
}

/** The permission a 403 answer names (`TNT#tenant#permission` in its message), if any. */
export function missingPermission(error) {
  if (!error || error.status !== 403) return null;
  if (error.body?.permission) return String(error.body.permission).replace(/^TNT#[^#]*#/, '');
  const m = /TNT#[^#\s]*#([A-Za-z]+)/.exec(error.message || '');
  return m ? m[1] : null;
}

/**
 * A sentence for an API error: a 403 names the permission the token lacks (from the error
 * body), anything else the server's code and message.
 */
export function describeError(error, session, what) {
  const permission = missingPermission(error);
  if (error?.status === 403) {
    return permission
      ? `Refused: this token may not ${what}: it lacks ${permission} (TNT#${session.tenant}#${permission}). Sign in with a token that grants it.`
      : `Refused: this token may not ${what} (${error.message}).`;
  }
  if (error?.status === 0) return `Could not ${what}: ${error.message}`;
  return `Could not ${what}: ${error?.message || error}${error?.code ? ` (${error.code}${error.status ? `, HTTP ${error.status}` : ''})` : ''}`;
}

/** A message line (role=status, or role=alert for errors) to put next to an action. */
export function messageLine(id, attrs = {}) {
  const line = el('p', { id, class: 'message', 'aria-live': 'polite', ...attrs });
  line.say = (text, kind = 'info') => {
    line.textContent = text || '';
    line.dataset.kind = kind;
    if (kind === 'error') line.setAttribute('role', 'alert');
    else line.setAttribute('role', 'status');
    if (kind === 'error') line.dataset.permission = '';
  };
  line.fail = (error, session, what) => {
    line.say(describeError(error, session, what), 'error');
    const permission = missingPermission(error);
    if (permission) line.dataset.permission = permission;
  };
  line.clear = () => line.say('', 'info');
  return line;
}

/** Runs `task`, showing its failure on `line`; answers the task's value, or undefined. */
export async function attempt(line, session, what, task) {
  try {
    const value = await task();
    return value;
  } catch (error) {
    line.fail(error, session, what);
    return undefined;
  }
}

/** A note saying what the token lacks for `what` (before anything is tried). */
export function lacks(session, what, permission) {
  return el('p', { class: 'note lacks', 'data-permission': permission }, session.refusal(what, permission));
}

/** An RFC 3339 time shown in the browser's locale, with the exact time as a tooltip. */
export function when(text) {
  if (!text) return '';
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) return text;
  return el('time', { datetime: text, title: text }, date.toLocaleString());
}

export function whenMs(ms) {
  return when(new Date(ms).toISOString());
}

const STATUS_LABEL = {
  ACTIVE: 'active',
  COMPLETED_ENDED_SUCCESS: 'ended: success',
  COMPLETED_ENDED_ERROR: 'ended: error',
  COMPLETED_TERMINATED: 'terminated',
  COMPLETED_PROCESS_ERROR: 'process error',
  LOCKED: 'locked',
  TEMP_LOCKED: 'temporarily locked',
  DISABLED: 'disabled',
  PENDING_ACTIVE: 'pending',
  INACTIVE: 'inactive',
};

/** A status as a badge: the API's word, with a readable label. */
export function statusBadge(status) {
  return el('span', { class: `status status-${String(status).toLowerCase()}`, 'data-status': status, title: status }, STATUS_LABEL[status] || status);
}

export const INSTANCE_STATUSES = ['ACTIVE', 'COMPLETED_ENDED_SUCCESS', 'COMPLETED_ENDED_ERROR', 'COMPLETED_TERMINATED', 'COMPLETED_PROCESS_ERROR'];

/** A labelled form field (`label` element bound to the input by ID). */
export function field(label, input, help) {
  if (!input.id) throw new Error(`field ${label} needs an id`);
  const parts = [el('label', { for: input.id }, label), input];
  if (help) {
    const helpId = `${input.id}-help`;
    input.setAttribute('aria-describedby', helpId);
    parts.push(el('small', { id: helpId }, help));
  }
  return el('div', { class: 'field' }, ...parts);
}

/** A page's heading and lead. */
export function pageHead(title, lead) {
  return el('div', { class: 'page-head' }, el('h1', {}, title), lead ? el('p', { class: 'note' }, lead) : '');
}

/** A table from column headers and rows of cells. */
export function table(caption, headers, rows, attrs = {}) {
  return el(
    'table',
    { class: 'grid', ...attrs },
    el('caption', { class: 'visually-hidden' }, caption),
    el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, ...rows),
  );
}

/** A definition list from [term, value] pairs. */
export function facts(pairs, attrs = {}) {
  const list = el('dl', { class: 'facts', ...attrs });
  for (const [term, value] of pairs) list.append(el('dt', {}, term), el('dd', {}, value === undefined || value === null || value === '' ? '—' : value));
  return list;
}

/** Asks before a destructive action, in a modal dialog (Escape or Cancel says no). */
export function confirmDialog(title, text, confirmLabel) {
  return new Promise((resolve) => {
    const yes = el('button', { type: 'button', class: 'danger', id: 'confirm-yes' }, confirmLabel);
    const no = el('button', { type: 'button', id: 'confirm-no' }, 'Keep it');
    const dialog = el(
      'dialog',
      { class: 'confirm', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-text' },
      el('h2', { id: 'confirm-title' }, title),
      el('p', { id: 'confirm-text' }, text),
      el('div', { class: 'actions' }, no, yes),
    );
    const done = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    yes.addEventListener('click', () => done(true));
    no.addEventListener('click', () => done(false));
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      done(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    no.focus();
  });
}

/** Encodes one path segment. */
export const seg = encodeURIComponent;
