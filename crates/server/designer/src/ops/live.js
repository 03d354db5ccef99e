// Live numbers: per definition version, instances started, completed by status, active, and
// how many rest at each step; polled every few seconds while the page is visible, paused while
// the tab is hidden, stopped when the page is left.
import { call, tenantPath } from '../api.js';
import { INSTANCE_STATUSES, el, lacks, messageLine, pageHead, statusBadge, table } from './ui.js';

/** Seconds between two polls. */
export const POLL_SECONDS = 5;

export async function openLive(main, session) {
  const message = messageLine('live-message');
  const stamp = el('p', { class: 'note', id: 'live-updated', 'aria-live': 'off' });
  const body = el('div', { id: 'live-numbers' });
  main.replaceChildren(pageHead('Live numbers', `Per definition version: instances started, how they ended, and where the active ones rest. Refreshed every ${POLL_SECONDS} seconds while this page is visible.`), stamp, message, body);
  main.className = 'ops live';
  if (!session.can('getProcessStatistics')) {
    body.append(lacks(session, 'read the numbers', 'getProcessStatistics'));
  }

  let timer = null;
  let stopped = false;
  let polls = 0;
  async function poll() {
    timer = null;
    if (stopped || document.hidden) return;
    try {
      const stats = await call('GET', `${tenantPath(session.tenant)}/process-statistics`);
      message.clear();
      render(stats);
      polls += 1;
      main.dataset.polls = String(polls);
      stamp.textContent = `Updated ${new Date().toLocaleTimeString()}.`;
    } catch (e) {
      message.fail(e, session, 'read the numbers');
      // A refusal will not change by asking again.
      if (e.status === 403 || e.status === 401) return;
    }
    schedule();
  }
  function schedule() {
    if (!stopped && !document.hidden && !timer) timer = setTimeout(poll, POLL_SECONDS * 1000);
  }
  function visibility() {
    if (document.hidden) {
      clearTimeout(timer);
      timer = null;
      main.dataset.paused = 'true';
    } else {
      delete main.dataset.paused;
      if (!timer) poll();
    }
  }
  document.addEventListener('visibilitychange', visibility);

  function render(stats) {
    if (!stats.definitions.length) {
      body.replaceChildren(el('p', { class: 'note' }, 'No instance has started yet.'));
      return;
    }
    const rows = stats.definitions.map((d) =>
      el(
        'tr',
        { 'data-definition': `${d.name}/${d.version}` },
        el('th', { scope: 'row' }, `${d.name} v${d.version}`),
        el('td', { 'data-count': 'started' }, String(d.started)),
        el('td', { 'data-count': 'ACTIVE' }, String(d.active)),
        ...INSTANCE_STATUSES.slice(1).map((s) => el('td', { 'data-count': s }, String(d.completed?.[s] ?? 0))),
        el('td', { 'data-count': 'resting' }, d.resting?.length ? el('ul', { class: 'resting' }, ...d.resting.map((r) => el('li', { 'data-element': r.elementId }, `${r.elementId}: ${r.count}`))) : '—'),
      ),
    );
    body.replaceChildren(
      table('Instances per definition version', ['Definition', 'Started', statusBadge('ACTIVE'), ...INSTANCE_STATUSES.slice(1).map((s) => statusBadge(s)), 'Resting at'], rows, { id: 'live-table' }),
    );
  }

  await poll();
  return {
    destroy() {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', visibility);
    },
  };
}
