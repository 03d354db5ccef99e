// Instances: the list (by definition, status and start time, a page at a time) and an instance's
// page: its diagram with the path it took, its variables (secrets are the server's markers), its
// history as a timeline, cancel (confirmed), and replay against another deployed version or the
// designer's draft, with the divergence marked on the diagram and in the timeline.
import { call, tenantPath } from '../api.js';
import { currentDraft } from '../draft.js';
import { MARKERS, PathDiagram, legend } from './diagram.js';
import { INSTANCE_STATUSES, attempt, button, confirmDialog, el, facts, field, lacks, messageLine, pageHead, seg, statusBadge, table, when, whenMs } from './ui.js';

export async function openInstances(main, session, route) {
  if (route[0]) return openInstance(main, session, decodeURIComponent(route[0]));
  return openList(main, session);
}

// -- the list -------------------------------------------------------------------------------------

async function openList(main, session) {
  const base = `${tenantPath(session.tenant)}/process-instances`;
  const message = messageLine('instances-message');
  const definition = el('select', { id: 'filter-definition' }, el('option', { value: '' }, 'All definitions'));
  const status = el('select', { id: 'filter-status' }, el('option', { value: '' }, 'Any status'), ...INSTANCE_STATUSES.map((s) => el('option', { value: s }, s)));
  const after = el('input', { id: 'filter-after', type: 'datetime-local' });
  const before = el('input', { id: 'filter-before', type: 'datetime-local' });
  const limit = el('select', { id: 'filter-limit' }, ...[10, 25, 50, 100].map((n) => el('option', { value: n, '.selected': n === 25 }, String(n))));
  const form = el(
    'form',
    { id: 'instance-filters', class: 'filters', role: 'search', 'aria-label': 'Filter instances' },
    field('Definition', definition),
    field('Status', status),
    field('Started at or after', after),
    field('Started before', before),
    field('Per page', limit),
    el('div', { class: 'actions' }, el('button', { type: 'submit', id: 'apply-filters' }, 'Show instances')),
  );
  const results = el('div', { id: 'instance-results' });
  const pager = el('nav', { class: 'pager', 'aria-label': 'Pages of instances' });
  main.replaceChildren(pageHead('Instances', 'Every run of a definition: filter, then open one to see its path, variables and history.'), form, message, results, pager);
  main.className = 'ops instances';

  if (!session.can('listProcessInstances')) {
    results.replaceChildren(lacks(session, 'list instances', 'listProcessInstances'));
  }
  if (session.can('listProcessDefinitions')) {
    call('GET', `${tenantPath(session.tenant)}/process-definitions`)
      .then((answer) => {
        const names = [...new Set(answer.definitions.map((d) => d.name))];
        definition.append(...names.map((n) => el('option', { value: n }, n)));
      })
      .catch((e) => message.fail(e, session, 'list definitions'));
  }

  // Cursors of the pages seen, so "Previous" goes back.
  let cursors = [null];
  let page = 0;
  const query = () => {
    const q = new URLSearchParams();
    if (definition.value) q.set('definition', definition.value);
    if (status.value) q.set('status', status.value);
    if (after.value) q.set('startedAfter', new Date(after.value).toISOString());
    if (before.value) q.set('startedBefore', new Date(before.value).toISOString());
    q.set('limit', limit.value);
    if (cursors[page]) q.set('after', cursors[page]);
    return q;
  };
  async function load() {
    const answer = await attempt(message, session, 'list instances', () => call('GET', `${base}?${query()}`));
    if (!answer) return;
    message.clear();
    const rows = answer.items.map((i) =>
      el(
        'tr',
        { 'data-instance': i.id, 'data-status': i.status },
        el('td', {}, el('a', { href: `#instances/${seg(i.id)}`, class: 'mono' }, i.id)),
        el('td', {}, `${i.definition.name} v${i.definition.version}`),
        el('td', {}, statusBadge(i.status)),
        el('td', {}, i.outcome || ''),
        el('td', {}, i.tokenName || ''),
        el('td', {}, when(i.startedAt)),
        el('td', {}, when(i.updatedAt)),
      ),
    );
    results.replaceChildren(
      rows.length ? table('Instances', ['Instance', 'Definition', 'Status', 'Outcome', 'Token', 'Started', 'Last change'], rows, { id: 'instance-table' }) : el('p', { class: 'note', id: 'no-instances' }, 'No instance matches.'),
      answer.unreadable ? el('p', { class: 'error' }, `${answer.unreadable} instance(s) of this page could not be read (see the server's log).`) : '',
    );
    cursors = cursors.slice(0, page + 1);
    if (answer.next) cursors.push(answer.next);
    const prev = button('Previous page', () => {
      page -= 1;
      return load();
    }, { id: 'page-prev', '.disabled': page === 0 });
    const next = button('Next page', () => {
      page += 1;
      return load();
    }, { id: 'page-next', '.disabled': !answer.next });
    pager.replaceChildren(prev, el('span', { class: 'note', 'aria-live': 'polite' }, `Page ${page + 1}`), next);
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    cursors = [null];
    page = 0;
    load();
  });
  if (session.can('listProcessInstances')) await load();
  return {};
}

// -- one instance ---------------------------------------------------------------------------------

const KIND_LABEL = {
  started: 'Started',
  entered: 'Entered',
  chose: 'Gateway chose',
  scheduled: 'Activity scheduled',
  completed: 'Activity completed',
  refused: 'Activity refused',
  failed: 'Activity failed',
  boundary: 'Boundary fired',
  presented: 'Step presented',
  answered: 'Step answered',
  armed: 'Timer armed',
  fired: 'Timer fired',
  disarmed: 'Timer cancelled',
  cancelled: 'Cancelled',
  aborted: 'Aborted',
  ended: 'Ended',
};

/** The element an event is about (for focusing it on the diagram). */
function elementOf(event) {
  return event.n || event.gw || event.b || null;
}

async function openInstance(main, session, id) {
  const base = `${tenantPath(session.tenant)}/process-instances/${seg(id)}`;
  const head = pageHead(`Instance ${id}`);
  const message = messageLine('instance-message');
  const summary = el('section', { id: 'instance-summary', class: 'panel', 'aria-label': 'Instance' });
  const diagramBox = el('div', { id: 'instance-diagram' });
  const diagramMessage = messageLine('diagram-message');
  const replayBox = el('section', { id: 'replay', class: 'panel', 'aria-labelledby': 'replay-heading' }, el('h2', { id: 'replay-heading' }, 'Replay'));
  const variables = el('section', { id: 'variables', class: 'panel', 'aria-labelledby': 'variables-heading' }, el('h2', { id: 'variables-heading' }, 'Variables'));
  const timeline = el('section', { id: 'timeline', class: 'panel', 'aria-labelledby': 'timeline-heading' }, el('h2', { id: 'timeline-heading' }, 'History'));
  main.replaceChildren(
    el('p', {}, el('a', { href: '#instances' }, '← All instances')),
    head,
    message,
    summary,
    el('section', { class: 'panel', 'aria-labelledby': 'diagram-heading' }, el('h2', { id: 'diagram-heading' }, 'Path on the diagram'), legend(true), diagramMessage, diagramBox),
    replayBox,
    el('div', { class: 'two-columns' }, variables, timeline),
  );
  main.className = 'ops instance';

  if (!session.can('getProcessInstance')) {
    summary.append(lacks(session, 'read instances', 'getProcessInstance'));
    return {};
  }
  const instance = await attempt(message, session, 'read this instance', () => call('GET', base));
  if (!instance) return {};
  main.dataset.status = instance.status;
  const diagram = new PathDiagram(diagramBox, `Diagram of ${instance.definition.name} version ${instance.definition.version} with the path of the instance`);
  const state = { diagram, extra: null, events: [] };

  renderSummary();
  renderVariables();

  function renderSummary() {
    const actionMessage = messageLine('cancel-message');
    const actions = el('div', { class: 'actions' });
    if (instance.status === 'ACTIVE') {
      actions.append(
        button('Cancel instance', async () => {
          const sure = await confirmDialog('Cancel this instance?', `Instance ${id} of ${instance.definition.name} ends as COMPLETED_TERMINATED; its end user cannot go on. This cannot be undone.`, 'Cancel instance');
          if (!sure) return;
          const answer = await attempt(actionMessage, session, 'cancel instances', () => call('POST', `${base}/cancel`, { body: {} }));
          if (answer) {
            Object.assign(instance, answer);
            main.dataset.status = instance.status;
            renderSummary();
            await drawPath();
            await renderTimeline();
            summary.querySelector('#cancel-message')?.say(`Cancelled: the instance is ${instance.status}.`, 'success');
          }
        }, { id: 'cancel-instance', class: 'danger', 'aria-describedby': 'cancel-message' }),
      );
    }
    summary.replaceChildren(
      facts(
        [
          ['Status', statusBadge(instance.status)],
          ['Definition', el('a', { href: `#designer/${seg(instance.definition.name)}/${instance.definition.version}` }, `${instance.definition.name} version ${instance.definition.version}`)],
          ['Outcome', instance.outcome],
          ['Error', instance.error ? `${instance.error.message}${instance.error.node ? ` (at ${instance.error.node})` : ''}` : ''],
          ['Rests at', instance.currentStep ? `${instance.currentStep.node} (${instance.currentStep.activity})` : ''],
          ['Token', instance.tokenName],
          ['Started', when(instance.startedAt)],
          ['Last change', when(instance.updatedAt)],
        ],
        { id: 'instance-facts' },
      ),
      actions,
      actionMessage,
    );
  }

  function renderVariables() {
    variables.replaceChildren(
      el('h2', { id: 'variables-heading' }, 'Variables'),
      el('p', { class: 'note' }, 'Secrets show as the server\'s commitment markers, never their values.'),
      el('div', { class: 'tree', id: 'variable-tree' }, tree(instance.variables, 'processvar')),
    );
  }

  async function drawPath() {
    diagram.clear();
    const [xml, path] = await Promise.all([
      state.xml
        ? state.xml
        : attempt(diagramMessage, session, 'read the definition', () => call('GET', `${tenantPath(session.tenant)}/process-definitions/${seg(instance.definition.name)}/versions/${instance.definition.version}/bpmn`, { raw: true })),
      attempt(diagramMessage, session, 'read the path of this instance', () => call('GET', `${base}/path`)),
    ]);
    if (!xml) return;
    if (!state.xml) {
      state.xml = xml;
      const warnings = await diagram.show(xml);
      if (warnings.length) diagramMessage.say(`The diagram opened with ${warnings.length} warning(s).`, 'error');
    }
    if (path) {
      diagram.drawPath(path, instance);
      diagramBox.dataset.drawn = 'true';
    }
  }

  async function renderTimeline() {
    const heading = el('h2', { id: 'timeline-heading' }, 'History');
    if (!session.can('getProcessInstanceHistory')) {
      timeline.replaceChildren(heading, lacks(session, 'read histories', 'getProcessInstanceHistory'));
      return;
    }
    const timelineMessage = messageLine('timeline-message');
    const history = await attempt(timelineMessage, session, 'read the history', () => call('GET', `${base}/history`));
    state.events = history ? history.events : [];
    const list = el('ol', { class: 'timeline', id: 'timeline-list' });
    for (const event of state.events) list.append(timelineItem(event));
    timeline.replaceChildren(heading, timelineMessage, list);
  }

  function timelineItem(event) {
    const element = elementOf(event);
    const what = KIND_LABEL[event.k] || event.k;
    const label = element ? `${what}: ${nameOf(element)}` : what;
    const detail = detailOf(event);
    const item = el(
      'li',
      { 'data-index': event.i, 'data-kind': event.k, 'data-element': element || '' },
      el('span', { class: 'when' }, whenMs(event.t)),
      ' ',
      element && diagram.has(element) ? button(label, () => diagram.focus(element), { class: 'link-button', title: 'Show it on the diagram' }) : el('span', { class: 'what' }, label),
      detail ? el('span', { class: 'detail' }, ` ${detail}`) : '',
    );
    return item;
  }

  function nameOf(elementId) {
    const element = diagram.has(elementId) ? diagram.viewer.get('elementRegistry').get(elementId) : null;
    const name = element?.businessObject?.name;
    return name ? `${name} (${elementId})` : elementId;
  }

  function detailOf(e) {
    switch (e.k) {
      case 'started':
        return `${e.def.n} version ${e.def.v}${e.tok ? `, token ${e.tok}` : ''}`;
      case 'chose':
        return `flow ${e.f}${e.dflt ? ' (the default)' : ''}`;
      case 'scheduled':
        return e.a;
      case 'completed':
        return [...(e.w || []).map((w) => `wrote ${w.p}${w.sec ? ' (secret)' : ''}`), ...(e.c || []).map((c) => `check ${c.name}: ${c.r}`)].join('; ');
      case 'refused':
        return `${e.code}: ${e.msg}`;
      case 'failed':
        return e.msg;
      case 'boundary':
        return `on ${e.on}${e.code ? ` (${e.code})` : ''}`;
      case 'answered':
        return `fields: ${Object.keys(e.data || {}).join(', ') || 'none'}`;
      case 'armed':
        return `${e.b}, due ${new Date(e.due).toLocaleString()}`;
      case 'cancelled':
        return e.why;
      case 'aborted':
        return e.msg;
      case 'ended':
        return `${e.st}${e.o ? ` (${e.o})` : ''}${e.err ? `: ${e.err.msg}` : ''}`;
      default:
        return '';
    }
  }

  // -- replay ---------------------------------------------------------------------------------------
  async function renderReplay() {
    const heading = el('h2', { id: 'replay-heading' }, 'Replay');
    const lead = el('p', { class: 'note' }, 'Re-run this instance\'s recorded history against another deployed version, or against the draft open in the designer, to see whether it would take the same path.');
    const replayMessage = messageLine('replay-message');
    const against = el('select', { id: 'replay-against' });
    const result = el('div', { id: 'replay-result' });
    const run = button('Replay', () => replay(), { id: 'replay-run', 'aria-describedby': 'replay-message' });
    replayBox.replaceChildren(heading, lead, el('div', { class: 'inline-form' }, field('Replay against', against), run), replayMessage, result);
    if (!session.can('replayProcessInstance')) replayBox.insertBefore(lacks(session, 'replay instances', 'replayProcessInstance'), replayMessage);
    const draft = currentDraft();
    const options = [];
    if (session.can('getProcessDefinition')) {
      try {
        const found = await call('GET', `${tenantPath(session.tenant)}/process-definitions/${seg(instance.definition.name)}`);
        for (const v of found.versions) options.push(el('option', { value: `v${v.version}` }, `version ${v.version}${v.version === instance.definition.version ? ' (the one it ran)' : ''}`));
      } catch (e) {
        replayMessage.fail(e, session, 'list the versions of the definition');
      }
    }
    // A draft of another process cannot replay this history: offered, but not choosable.
    if (!draft) options.push(el('option', { value: 'draft', disabled: true }, 'the designer\'s draft (open one in the designer first)'));
    else if (draft.processId !== instance.definition.name) options.push(el('option', { value: 'draft', disabled: true }, `the designer's draft (it is of ${draft.processId}, not ${instance.definition.name})`));
    else options.push(el('option', { value: 'draft' }, `the designer's draft (changed ${draft.at.toLocaleTimeString()})`));
    against.replaceChildren(...options);
    const other = options.find((o) => !o.disabled && o.value !== `v${instance.definition.version}`);
    if (other) against.value = other.value;

    async function replay() {
      replayMessage.clear();
      result.replaceChildren();
      diagram.clear(MARKERS.diverged);
      for (const li of timeline.querySelectorAll('li.diverged')) {
        li.classList.remove('diverged');
        li.querySelector('.diverged-note')?.remove();
      }
      let body;
      let label;
      let targetXml;
      if (against.value === 'draft') {
        const current = currentDraft();
        if (!current) {
          replayMessage.say('Open a draft in the designer first.', 'error');
          return;
        }
        body = { bpmn: current.xml };
        label = `the designer's draft of ${current.processId}`;
        targetXml = current.xml;
      } else {
        const version = Number(against.value.slice(1));
        body = { version };
        label = `${instance.definition.name} version ${version}`;
      }
      const answer = await attempt(replayMessage, session, 'replay instances', () => call('POST', `${base}/replay`, { body }));
      if (!answer) return;
      if (!targetXml) {
        targetXml = await attempt(replayMessage, session, 'read the definition', () => call('GET', `${tenantPath(session.tenant)}/process-definitions/${seg(instance.definition.name)}/versions/${answer.definition.version}/bpmn`, { raw: true }));
      }
      replayBox.dataset.outcome = answer.outcome;
      const d = answer.divergence;
      if (answer.outcome === 'SAME_PATH') {
        replayMessage.say(`Same path: against ${label}, the history replays exactly.`, 'success');
      } else {
        replayMessage.say(`Diverged against ${label}${d ? ` at event ${d.eventIndex}${d.elementId ? `, element ${d.elementId}` : ''}: ${d.message}` : ''}`, 'error');
        if (d?.elementId) diagram.mark(d.elementId, MARKERS.diverged);
        const item = d ? timeline.querySelector(`li[data-index="${d.eventIndex}"]`) : null;
        if (item) {
          item.classList.add('diverged');
          item.append(el('strong', { class: 'diverged-note' }, ` ← the replay diverges here${d.actual ? `: it went to ${d.actual}` : ''}${d.expected ? ` instead of ${d.expected}` : ''}`));
        }
      }
      if (targetXml) {
        const box = el('div', { id: 'replay-diagram' });
        result.replaceChildren(el('h3', {}, `The replay on ${label}`), box);
        if (state.extra) state.extra.destroy();
        state.extra = new PathDiagram(box, `Diagram of ${label} with the replayed path${d?.elementId ? ` and the divergence at ${d.elementId}` : ''}`);
        await state.extra.show(targetXml);
        if (answer.path) state.extra.drawPath({ ...answer.path, restingAt: null, endedAt: answer.outcome === 'SAME_PATH' ? answer.path.endedAt : null }, null);
        if (d) {
          for (const where of [d.elementId, d.actual]) if (where) state.extra.mark(where, MARKERS.diverged);
          if (d.elementId) state.extra.focus(d.elementId);
        }
        box.dataset.drawn = 'true';
      }
    }
  }

  // The timeline names elements from the diagram, so the diagram comes first.
  await drawPath();
  await renderTimeline();
  await renderReplay();
  return {
    destroy() {
      diagram.destroy();
      state.extra?.destroy();
    },
  };
}

/** A JSON value as a nested list; commitment markers show as redacted secrets. */
function tree(value, name) {
  if (value === null || typeof value !== 'object') {
    return el('div', { class: 'leaf', 'data-path': name }, el('span', { class: 'key' }, name.split('.').pop()), ': ', leaf(value));
  }
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  const details = el('details', { open: name.split('.').length <= 2, 'data-path': name }, el('summary', {}, el('span', { class: 'key' }, name.split('.').pop()), el('span', { class: 'note' }, Array.isArray(value) ? ` [${entries.length}]` : ` {${entries.length}}`)));
  const list = el('ul', {});
  for (const [k, v] of entries) list.append(el('li', {}, tree(v, `${name}.${k}`)));
  details.append(list);
  return details;
}

function leaf(value) {
  if (typeof value === 'string' && value.startsWith('secret:')) {
    return el('span', { class: 'secret', title: value }, 'secret (redacted)');
  }
  return el('code', { class: `value ${typeof value}` }, JSON.stringify(value));
}
