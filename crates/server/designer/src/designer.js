// The designer: bpmn-js with a palette of what idflow runs, activities created from the catalogue
// (GET /api/process-manager/catalogue, never copied here), a properties panel generated from it,
// live diagnostics from the server's loader (the same codes and messages as `idflow validate`),
// deploy, versions (read-only), download, and drafts from the shipped flows.
import Modeler from 'bpmn-js/lib/Modeler';
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import { el } from '../../web/render.js';
import { call, tenantPath, ApiError } from './api.js';
import { idflowModdle } from './moddle.js';
import { SHIPPED } from './shipped.js';
import { setDraft } from './draft.js';

const EMPTY = (id) => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:idflow="https://idflow.dev/schema/bpmn/1.0" id="${id}-definitions" targetNamespace="https://idflow.dev/definitions">
  <bpmn:process id="${id}" name="" isExecutable="true">
    <bpmn:startEvent id="start" name="Start" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="diagram">
    <bpmndi:BPMNPlane id="plane" bpmnElement="${id}">
      <bpmndi:BPMNShape id="start_di" bpmnElement="start"><dc:Bounds x="152" y="182" width="36" height="36" /></bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
`;

const is = (element, type) => element?.businessObject?.$instanceOf?.(type);

/** The `<idflow:activity>` of a task's business object, if any. */
export function activityOf(bo) {
  return (bo.extensionElements?.values || []).find((v) => v.$instanceOf('idflow:Activity'));
}

function eventDefinition(bo, type) {
  return (bo.eventDefinitions || []).find((d) => d.$instanceOf(type));
}

// -- palette --------------------------------------------------------------------------------------

const KEPT_PALETTE = ['hand-tool', 'lasso-tool', 'tool-separator', 'global-connect-tool', 'create.start-event', 'create.end-event', 'create.exclusive-gateway'];

function IdflowPalette(palette, create, elementFactory, eventBus) {
  palette.registerProvider(500, {
    getPaletteEntries() {
      const boundary = (definition) => (event) => {
        const shape = elementFactory.createShape({ type: 'bpmn:BoundaryEvent', eventDefinitionType: definition });
        create.start(event, shape);
      };
      return (entries) => {
        const out = {};
        for (const key of KEPT_PALETTE) if (entries[key]) out[key] = entries[key];
        out['create.idflow-activity'] = {
          group: 'activity',
          className: 'bpmn-icon-task',
          title: 'Activity: choose its type from the catalogue',
          action: { click: (event) => eventBus.fire('idflow.chooseActivity', { originalEvent: event }) },
        };
        out['create.error-boundary'] = {
          group: 'activity',
          className: 'bpmn-icon-intermediate-event-catch-error',
          title: 'Error boundary event: drop it on an activity',
          action: { click: boundary('bpmn:ErrorEventDefinition'), dragstart: boundary('bpmn:ErrorEventDefinition') },
        };
        out['create.timer-boundary'] = {
          group: 'activity',
          className: 'bpmn-icon-intermediate-event-catch-timer',
          title: 'Timer boundary event: drop it on a step',
          action: { click: boundary('bpmn:TimerEventDefinition'), dragstart: boundary('bpmn:TimerEventDefinition') },
        };
        return out;
      };
    },
  });
}
IdflowPalette.$inject = ['palette', 'create', 'elementFactory', 'eventBus'];

// The context pad offers only what idflow runs: append an end event, a gateway, an activity
// (through the catalogue chooser), connect, delete.
const KEPT_PAD = ['append.end-event', 'append.gateway', 'connect', 'delete'];

function IdflowContextPad(contextPad, eventBus) {
  contextPad.registerProvider(500, {
    getContextPadEntries(element) {
      return (entries) => {
        const out = {};
        for (const key of KEPT_PAD) if (entries[key]) out[key] = entries[key];
        if (entries['append.append-task']) {
          out['append.idflow-activity'] = {
            group: 'model',
            className: 'bpmn-icon-task',
            title: 'Append an activity',
            action: { click: (event) => eventBus.fire('idflow.chooseActivity', { originalEvent: event, after: element }) },
          };
        }
        return out;
      };
    },
  });
}
IdflowContextPad.$inject = ['contextPad', 'eventBus'];

const idflowModule = {
  __init__: ['idflowPalette', 'idflowContextPad'],
  idflowPalette: ['type', IdflowPalette],
  idflowContextPad: ['type', IdflowContextPad],
};

// -- the page ---------------------------------------------------------------------------------------

export async function openDesigner(main, session, route) {
  const catalogue = await call('GET', '/api/process-manager/catalogue');
  const specs = new Map(catalogue.activities.map((a) => [a.key, a]));
  const base = tenantPath(session.tenant);
  const readOnly = route.length >= 2;

  const status = el('p', { id: 'status', role: 'status', 'aria-live': 'polite' });
  const say = (text, kind = 'info') => {
    status.textContent = text;
    status.dataset.kind = kind;
  };
  const canvasBox = el('div', { id: 'canvas', class: readOnly ? 'canvas read-only' : 'canvas' });
  const panel = el('aside', { id: 'properties', 'aria-label': 'Properties' });
  const problems = el('ul', { id: 'problems' });
  const problemsBox = el('section', { class: 'problems', 'aria-label': 'Problems' }, el('h2', {}, 'Problems'), problems);
  const versions = el('section', { id: 'versions', class: 'versions', 'aria-label': 'Versions' });
  const toolbar = el('div', { class: 'toolbar', role: 'toolbar' });
  const chooser = buildChooser(catalogue.activities);
  main.replaceChildren(toolbar, status, el('div', { class: 'workspace' }, canvasBox, panel), problemsBox, versions, chooser.dialog);
  main.className = 'designer';

  const modeler = readOnly
    ? new NavigatedViewer({ container: canvasBox, moddleExtensions: { idflow: idflowModdle } })
    : new Modeler({ container: canvasBox, additionalModules: [idflowModule], moddleExtensions: { idflow: idflowModdle } });
  const get = (name) => modeler.get(name);
  const moddle = get('moddle');
  const overlays = get('overlays');
  const canvas = get('canvas');
  const registry = get('elementRegistry');
  const modeling = readOnly ? null : get('modeling');

  const state = { diagnostics: [], validateSeq: 0, timer: null, origin: null };
  // For tests and the curious: the modeler and the catalogue.
  window.idflowDesigner = { modeler, catalogue, validateNow: () => validate() };

  // -- toolbar ---------------------------------------------------------------------------------------
  const button = (id, label, onClick, attrs = {}) => {
    const b = el('button', { type: 'button', id, ...attrs }, label);
    b.addEventListener('click', onClick);
    return b;
  };
  const processId = () => canvas.getRootElement().businessObject.id;
  const xml = async () => (await modeler.saveXML({ format: true })).xml;

  const draftSelect = el('select', { id: 'draft-from', 'aria-label': 'Start a draft from a shipped flow' }, el('option', { value: '' }, 'Draft from a shipped flow…'), ...SHIPPED.map((s) => el('option', { value: s.name }, s.name)));
  draftSelect.addEventListener('change', async () => {
    const shipped = SHIPPED.find((s) => s.name === draftSelect.value);
    draftSelect.value = '';
    if (!shipped) return;
    await load(shipped.xml, `draft of the shipped flow ${shipped.name}`);
  });
  const openSelect = el('select', { id: 'open-deployed', 'aria-label': 'Open a deployed definition' }, el('option', { value: '' }, 'Open deployed…'));
  openSelect.addEventListener('change', () => {
    if (openSelect.value) location.hash = `designer/${openSelect.value}`;
  });
  const deployButton = button('deploy', 'Deploy', () => deploy());
  if (readOnly) {
    toolbar.append(
      el('span', { class: 'badge' }, `${route[0]} version ${route[1]}: read-only`),
      button('edit-copy', 'Edit as a draft', async () => {
        const text = await xml();
        location.hash = 'designer';
        sessionStorage.setItem('idflow.backoffice.draft', text);
      }),
      button('download', 'Download .bpmn', () => download()),
    );
  } else {
    toolbar.append(
      button('new', 'New', () => load(EMPTY('new-process'), 'a new diagram')),
      draftSelect,
      openSelect,
      deployButton,
      button('download', 'Download .bpmn', () => download()),
    );
  }
  if (!session.can('deployProcessDefinition') && !readOnly) {
    deployButton.setAttribute('aria-describedby', 'deploy-note');
    toolbar.append(el('span', { id: 'deploy-note', class: 'note' }, `Deploy needs TNT#${session.tenant}#deployProcessDefinition, which this token lacks.`));
  }

  async function refreshDeployed() {
    if (!session.can('listProcessDefinitions')) {
      openSelect.disabled = true;
      openSelect.title = session.refusal('list definitions', 'listProcessDefinitions');
      return;
    }
    try {
      const list = await call('GET', `${base}/process-definitions`);
      openSelect.replaceChildren(
        el('option', { value: '' }, 'Open deployed…'),
        ...list.definitions.map((d) => el('option', { value: `${d.name}/${d.version}` }, `${d.name} v${d.version}`)),
      );
    } catch (e) {
      say(`Listing definitions failed: ${e.message}`, 'error');
    }
  }

  async function refreshVersions() {
    const name = processId();
    versions.replaceChildren(el('h2', {}, `Versions of ${name}`));
    if (!session.can('getProcessDefinition')) {
      versions.append(el('p', { class: 'note' }, session.refusal('read definitions', 'getProcessDefinition')));
      return;
    }
    try {
      const found = await call('GET', `${base}/process-definitions/${encodeURIComponent(name)}`);
      const list = el('ul', { id: 'version-list' });
      for (const v of found.versions) {
        const href = `${base}/process-definitions/${encodeURIComponent(name)}/versions/${v.version}/bpmn`;
        const dl = button(`download-v${v.version}`, 'Download', async () => saveFile(`${name}-v${v.version}.bpmn`, await call('GET', href, { raw: true })));
        list.append(el('li', {}, el('a', { href: `#designer/${encodeURIComponent(name)}/${v.version}` }, `version ${v.version}`), ` deployed ${v.deployedAt} `, dl));
      }
      versions.append(list);
    } catch (e) {
      versions.append(el('p', { class: 'note' }, e.status === 404 ? 'Not deployed yet.' : `Reading versions failed: ${e.message}`));
    }
  }

  function saveFile(name, text) {
    const url = URL.createObjectURL(new Blob([text], { type: 'application/xml' }));
    const a = el('a', { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  async function download() {
    saveFile(`${processId()}.bpmn`, await xml());
  }

  async function deploy() {
    if (!session.can('deployProcessDefinition')) {
      say(session.refusal('deploy definitions', 'deployProcessDefinition'), 'error');
      return;
    }
    try {
      const name = processId();
      const answer = await call('POST', `${base}/process-definitions?fileName=${encodeURIComponent(name)}.bpmn`, { body: await xml(), type: 'application/xml' });
      say(answer.created ? `Deployed ${answer.name} version ${answer.version}.` : `Unchanged: ${answer.name} version ${answer.version} already has this content.`, 'success');
      refreshDeployed();
      refreshVersions();
    } catch (e) {
      if (e.status === 403) say(session.refusal('deploy definitions', 'deployProcessDefinition'), 'error');
      else say(`Not deployed: ${e.message}`, 'error');
      if (e.body?.diagnostics) show(e.body.diagnostics);
    }
  }

  // -- loading ---------------------------------------------------------------------------------------
  async function load(text, what) {
    try {
      const { warnings } = await modeler.importXML(text);
      if (!readOnly) canvas.zoom('fit-viewport', 'auto');
      else canvas.zoom('fit-viewport');
      state.importWarnings = warnings.map((w) => w.message);
      say(warnings.length ? `Opened ${what}, with ${warnings.length} import warning(s): ${state.importWarnings.join('; ')}` : `Opened ${what}.`, warnings.length ? 'error' : 'info');
      renderPanel();
      validate();
      refreshVersions();
    } catch (e) {
      say(`The diagram could not be opened: ${e.message}`, 'error');
    }
  }

  async function publishDraft() {
    try {
      setDraft(await xml(), processId());
    } catch (e) {
      // A diagram that cannot be saved is not a draft to replay against.
    }
  }

  // -- diagnostics -----------------------------------------------------------------------------------
  const shown = { markers: [] };
  function show(diagnostics) {
    state.diagnostics = diagnostics;
    overlays.remove({ type: 'idflow-diagnostic' });
    for (const [id, marker] of shown.markers) canvas.removeMarker(id, marker);
    shown.markers = [];
    problems.replaceChildren();
    const byElement = new Map();
    for (const d of diagnostics) {
      const item = el('li', { class: d.severity, 'data-code': d.code, 'data-element': d.element_id || '' }, el('strong', {}, `${d.severity}[${d.code}]`), ` ${d.message}`, d.element_id ? ` (element '${d.element_id}')` : '', el('span', { class: 'where' }, ` ${d.line}:${d.column}`));
      if (d.element_id && registry.get(d.element_id) && registry.get(d.element_id) !== canvas.getRootElement()) {
        item.tabIndex = 0;
        const focus = () => {
          const element = registry.get(d.element_id);
          if (!element) return;
          if (!readOnly) get('selection').select(element);
          canvas.scrollToElement(element);
        };
        item.addEventListener('click', focus);
        item.addEventListener('keydown', (e) => e.key === 'Enter' && focus());
        const list = byElement.get(d.element_id) || [];
        list.push(d);
        byElement.set(d.element_id, list);
      }
      problems.append(item);
    }
    if (diagnostics.length === 0) problems.append(el('li', { class: 'ok' }, 'No problems: idflow can run this definition.'));
    for (const [id, list] of byElement) {
      const errors = list.filter((d) => d.severity === 'error').length;
      const marker = errors ? 'idflow-error' : 'idflow-warning';
      canvas.addMarker(id, marker);
      shown.markers.push([id, marker]);
      const badge = el('div', { class: `idflow-badge ${marker}`, title: list.map((d) => `${d.code}: ${d.message}`).join('\n'), 'data-element': id }, String(list.length));
      overlays.add(id, 'idflow-diagnostic', { position: { top: -10, right: 10 }, html: badge });
    }
    renderPanelProblems();
  }

  async function validate() {
    if (!session.can('validateProcessDefinition')) {
      problems.replaceChildren(el('li', { class: 'note' }, session.refusal('check definitions', 'validateProcessDefinition')));
      return;
    }
    const seq = ++state.validateSeq;
    try {
      const text = await xml();
      const report = await call('POST', `${base}/process-definitions/validate?fileName=${encodeURIComponent(processId())}.bpmn`, { body: text, type: 'application/xml' });
      if (seq !== state.validateSeq) return;
      show(report.files[0].diagnostics);
      main.dataset.validated = String(seq);
    } catch (e) {
      if (seq === state.validateSeq) problems.replaceChildren(el('li', { class: 'error' }, `Checking failed: ${e.message}`));
    }
  }

  function scheduleValidate() {
    clearTimeout(state.timer);
    state.timer = setTimeout(validate, 300);
  }

  // -- the activity chooser -----------------------------------------------------------------------------
  function buildChooser(activities) {
    const search = el('input', { id: 'activity-search', type: 'search', placeholder: 'Search activities (name, key, description)', 'aria-label': 'Search activities', autocomplete: 'off' });
    const list = el('ul', { id: 'activity-list', role: 'listbox', 'aria-label': 'Activity types' });
    const dialog = el('dialog', { id: 'activity-chooser', 'aria-label': 'Choose an activity' }, el('h2', {}, 'Choose an activity'), search, list, el('form', { method: 'dialog' }, el('button', { value: 'cancel' }, 'Cancel')));
    let onChoose = null;
    const fill = () => {
      const q = search.value.trim().toLowerCase();
      list.replaceChildren();
      for (const a of activities) {
        if (q && !`${a.name} ${a.key} ${a.description}`.toLowerCase().includes(q)) continue;
        const option = el('li', { role: 'option', tabIndex: 0, 'data-key': a.key }, el('strong', {}, a.name), a.isStep ? el('span', { class: 'tag' }, 'step') : '', el('small', {}, a.description));
        const choose = () => {
          dialog.close();
          onChoose?.(a);
        };
        option.addEventListener('click', choose);
        option.addEventListener('keydown', (e) => e.key === 'Enter' && choose());
        list.append(option);
      }
    };
    search.addEventListener('input', fill);
    return {
      dialog,
      open(callback) {
        onChoose = callback;
        search.value = '';
        fill();
        dialog.showModal();
        search.focus();
      },
    };
  }

  /** A task business object carrying activity `spec` (no parameters: defaults apply). */
  function newActivityShape(spec) {
    const bo = get('bpmnFactory').create(spec.isStep ? 'bpmn:UserTask' : 'bpmn:ServiceTask', { name: spec.name });
    const activity = moddle.create('idflow:Activity', { type: spec.key, params: [] });
    const ext = moddle.create('bpmn:ExtensionElements', { values: [activity] });
    activity.$parent = ext;
    ext.$parent = bo;
    bo.extensionElements = ext;
    return get('elementFactory').createShape({ type: bo.$type, businessObject: bo });
  }

  if (!readOnly) {
    get('eventBus').on('idflow.chooseActivity', ({ originalEvent, after }) => {
      chooser.open((spec) => {
        const shape = newActivityShape(spec);
        const selected = get('selection').get();
        const source = after || (selected.length === 1 && !is(selected[0], 'bpmn:EndEvent') && !is(selected[0], 'bpmn:SequenceFlow') && selected[0].type !== 'label' ? selected[0] : null);
        if (source) {
          const created = get('autoPlace').append(source, shape);
          get('selection').select(created);
        } else {
          get('create').start(originalEvent, shape);
        }
      });
    });
    get('eventBus').on('commandStack.changed', () => {
      scheduleValidate();
      if (!panel.contains(document.activeElement)) renderPanel();
    });
    get('eventBus').on('selection.changed', () => renderPanel());
    // The operations pages replay instances against the draft: keep it current in memory.
    get('eventBus').on('commandStack.changed', () => publishDraft());
    get('eventBus').on('import.done', () => publishDraft());
  } else {
    get('eventBus').on('element.click', ({ element }) => renderPanel(element));
  }

  // -- the properties panel ---------------------------------------------------------------------------
  let panelElement = null;

  function field(label, input, help, id) {
    input.id = id;
    return el('div', { class: 'field' }, el('label', { for: id }, label), input, help ? el('small', { id: `${id}-help` }, help) : '');
  }

  function renderPanel(clicked) {
    const selected = readOnly ? (clicked ? [clicked] : []) : get('selection').get();
    const element = selected.length === 1 ? selected[0] : canvas.getRootElement();
    panelElement = element.type === 'label' ? element.labelTarget : element;
    const bo = panelElement?.businessObject;
    // Before the first import there is no diagram to describe.
    if (!bo) return;
    const parts = [el('h2', {}, titleOf(panelElement)), el('p', { class: 'element-id' }, `ID: ${bo.id}`)];
    const disabled = readOnly;
    if (is(panelElement, 'bpmn:Process')) {
      const id = el('input', { value: bo.id || '', '.disabled': disabled, autocomplete: 'off' });
      id.addEventListener('change', () => modeling.updateProperties(panelElement, { id: id.value.trim() }));
      parts.push(field('Process ID (the definition\'s name)', id, 'Letters, digits, - and _: the name deployments and tokens use.', 'prop-process-id'));
      parts.push(nameField(bo, disabled));
    } else {
      parts.push(nameField(bo, disabled));
    }
    if (is(panelElement, 'bpmn:Task')) parts.push(...activityFields(bo, disabled));
    if (is(panelElement, 'bpmn:BoundaryEvent')) parts.push(...boundaryFields(bo, disabled));
    if (is(panelElement, 'bpmn:SequenceFlow')) parts.push(...flowFields(bo, disabled));
    if (is(panelElement, 'bpmn:ExclusiveGateway')) parts.push(el('p', { class: 'help' }, 'Each outgoing flow carries a condition, or is the default flow taken when none holds. ', el('br'), catalogue.conditionHelp));
    parts.push(el('section', { id: 'element-problems', 'aria-label': 'Problems of this element' }));
    panel.replaceChildren(...parts);
    renderPanelProblems();
  }

  function renderPanelProblems() {
    const box = panel.querySelector('#element-problems');
    if (!box || !panelElement) return;
    const id = panelElement.businessObject?.id;
    const mine = state.diagnostics.filter((d) => d.element_id === id);
    box.replaceChildren(...mine.map((d) => el('p', { class: `problem ${d.severity}`, role: 'note' }, `${d.code}: ${d.message}`)));
  }

  function titleOf(element) {
    const bo = element.businessObject;
    if (is(element, 'bpmn:Task')) {
      const spec = specs.get(activityOf(bo)?.type);
      return spec ? `${spec.name}${spec.isStep ? ' (step)' : ''}` : 'Activity';
    }
    if (is(element, 'bpmn:BoundaryEvent')) return eventDefinition(bo, 'bpmn:TimerEventDefinition') ? 'Timer boundary event' : 'Error boundary event';
    return bo.$type.replace('bpmn:', '').replace(/([a-z])([A-Z])/g, '$1 $2');
  }

  function nameField(bo, disabled) {
    const input = el('input', { value: bo.name || '', '.disabled': disabled, autocomplete: 'off' });
    input.addEventListener('input', () => modeling.updateProperties(panelElement, { name: input.value }));
    return field('Name', input, is(panelElement, 'bpmn:EndEvent') ? 'An end event\'s name is the instance\'s outcome.' : '', 'prop-name');
  }

  function activityFields(bo, disabled) {
    const activity = activityOf(bo);
    const spec = specs.get(activity?.type);
    const typeSelect = el('select', { '.disabled': disabled }, el('option', { value: '' }, 'Choose a type…'), ...catalogue.activities.map((a) => el('option', { value: a.key, '.selected': a.key === activity?.type }, a.name)));
    typeSelect.addEventListener('change', () => setType(bo, typeSelect.value));
    const out = [field('Activity type', typeSelect, spec ? spec.description : 'This task has no idflow activity yet.', 'prop-type')];
    if (!spec) return out;
    if (spec.errorCodes.length) out.push(el('p', { class: 'help' }, `Error codes for an error boundary: ${spec.errorCodes.join(', ')}.`));
    const group = el('fieldset', { class: 'params' }, el('legend', {}, 'Input parameters'));
    spec.params.forEach((param, index) => {
      const given = (activity.params || []).find((p) => p.name === param.name || param.aliases.includes(p.name));
      const id = `param-${index}`;
      const input = el('input', { value: given?.value ?? '', placeholder: param.default ?? (param.required ? 'required' : ''), '.disabled': disabled, autocomplete: 'off', spellcheck: 'false', 'data-param': param.name, 'aria-required': param.required && !param.default ? 'true' : undefined });
      input.addEventListener('input', () => setParam(bo, param, input.value));
      const insert = (text) => () => {
        input.value = text;
        input.dispatchEvent(new Event('input'));
        input.focus();
      };
      const helpers = disabled
        ? ''
        : el(
            'span',
            { class: 'helpers' },
            button(`${id}-var`, '<<processvar>>', insert('<<processvar.token.>>'), { title: 'A process variable: <<processvar.path>>', class: 'helper' }),
            button(`${id}-lit`, '${…}', insert('${}'), { title: 'A typed literal: ${3}, ${true}, ${["a","b"]}', class: 'helper' }),
          );
      const meta = `${param.type}${param.required ? ', required' : ', optional'}${param.default ? `, default ${param.default}` : ''}`;
      group.append(
        el(
          'div',
          { class: 'field param' },
          el('label', { for: id }, param.name, el('span', { class: 'meta' }, ` ${meta}`)),
          input,
          helpers,
          el('small', { id: `${id}-help` }, param.description),
        ),
      );
      input.id = id;
      input.setAttribute('aria-describedby', `${id}-help`);
    });
    group.append(el('p', { class: 'help' }, catalogue.valueHelp));
    out.push(group);
    return out;
  }

  function setType(bo, key) {
    const spec = specs.get(key);
    if (!spec) return;
    let activity = activityOf(bo);
    const oldSpec = specs.get(activity?.type);
    if (!activity) {
      activity = moddle.create('idflow:Activity', { type: key, params: [] });
      const ext = bo.extensionElements || moddle.create('bpmn:ExtensionElements', { values: [] });
      activity.$parent = ext;
      if (!bo.extensionElements) {
        ext.$parent = bo;
        modeling.updateProperties(panelElement, { extensionElements: ext });
      }
      modeling.updateModdleProperties(panelElement, ext, { values: [...ext.values, activity] });
    }
    const kept = (activity.params || []).filter((p) => spec.params.some((s) => s.name === p.name || s.aliases.includes(p.name)));
    modeling.updateModdleProperties(panelElement, activity, { type: key, params: kept });
    if (!bo.name || bo.name === oldSpec?.name) modeling.updateProperties(panelElement, { name: spec.name });
    const wanted = spec.isStep ? 'bpmn:UserTask' : 'bpmn:ServiceTask';
    if (bo.$type !== wanted) {
      const replaced = get('bpmnReplace').replaceElement(panelElement, { type: wanted });
      get('selection').select(replaced);
    }
    renderPanel();
  }

  function setParam(bo, param, raw) {
    const activity = activityOf(bo);
    const spec = specs.get(activity.type);
    const value = raw.trim();
    const others = (activity.params || []).filter((p) => p.name !== param.name && !param.aliases.includes(p.name));
    let params = others;
    if (value !== '') {
      const existing = (activity.params || []).find((p) => p.name === param.name || param.aliases.includes(p.name));
      if (existing) {
        modeling.updateModdleProperties(panelElement, existing, { value: raw });
        return;
      }
      const created = moddle.create('idflow:Param', { name: param.name, value: raw });
      created.$parent = activity;
      params = [...others, created];
    }
    // Catalogue order, so the file reads like the catalogue.
    const order = (p) => spec.params.findIndex((s) => s.name === p.name || s.aliases.includes(p.name));
    params.sort((a, b) => order(a) - order(b));
    modeling.updateModdleProperties(panelElement, activity, { params });
  }

  function definitions() {
    return canvas.getRootElement().businessObject.$parent;
  }

  function boundaryFields(bo, disabled) {
    const host = bo.attachedToRef;
    const hostSpec = host ? specs.get(activityOf(host)?.type) : null;
    const timer = eventDefinition(bo, 'bpmn:TimerEventDefinition');
    const error = eventDefinition(bo, 'bpmn:ErrorEventDefinition');
    if (timer) {
      const input = el('input', { value: timer.timeDuration?.body || '', placeholder: 'PT15M', '.disabled': disabled, autocomplete: 'off' });
      input.addEventListener('input', () => {
        const value = input.value.trim();
        const expr = value ? moddle.create('bpmn:FormalExpression', { body: value }) : undefined;
        if (expr) expr.$parent = timer;
        modeling.updateModdleProperties(panelElement, timer, { timeDuration: expr });
      });
      return [
        field('Duration (ISO 8601)', input, catalogue.durationHelp, 'prop-duration'),
        hostSpec && !hostSpec.isStep ? el('p', { class: 'problem error' }, `A timer waits only on a step; ${hostSpec.name} is not one.`) : '',
      ];
    }
    if (error) {
      const codes = hostSpec ? hostSpec.errorCodes : [];
      const current = error.errorRef?.errorCode || '';
      const select = el('select', { '.disabled': disabled }, el('option', { value: '' }, 'Any code the activity raises'), ...codes.map((c) => el('option', { value: c, '.selected': c === current }, c)));
      if (current && !codes.includes(current)) select.append(el('option', { value: current, '.selected': true }, `${current} (not raised by this activity)`));
      select.addEventListener('change', () => setErrorCode(error, select.value));
      return [
        field('Error code', select, hostSpec ? (codes.length ? `What ${hostSpec.name} can raise.` : `${hostSpec.name} raises no error code.`) : 'Attach the event to an activity first.', 'prop-error-code'),
      ];
    }
    return [];
  }

  function setErrorCode(eventDef, code) {
    if (!code) {
      modeling.updateModdleProperties(panelElement, eventDef, { errorRef: undefined });
      return;
    }
    const defs = definitions();
    let error = (defs.rootElements || []).find((e) => e.$instanceOf('bpmn:Error') && e.errorCode === code);
    if (!error) {
      error = moddle.create('bpmn:Error', { id: `Error_${code}`, name: code, errorCode: code });
      error.$parent = defs;
      modeling.updateModdleProperties(panelElement, defs, { rootElements: [...(defs.rootElements || []), error] });
    }
    modeling.updateModdleProperties(panelElement, eventDef, { errorRef: error });
  }

  function flowFields(bo, disabled) {
    const source = bo.sourceRef;
    if (!source || !source.$instanceOf('bpmn:ExclusiveGateway')) return [el('p', { class: 'help' }, 'Only flows out of an exclusive gateway carry conditions.')];
    const sourceShape = registry.get(source.id);
    const isDefault = source.default === bo;
    const condition = el('textarea', { rows: 3, '.disabled': disabled || isDefault, spellcheck: 'false', placeholder: '<<processvar._decision>> == "PASS"' });
    condition.value = bo.conditionExpression?.body || '';
    condition.addEventListener('input', () => {
      const value = condition.value.trim();
      const expr = value ? moddle.create('bpmn:FormalExpression', { body: condition.value }) : undefined;
      if (expr) expr.$parent = bo;
      modeling.updateModdleProperties(panelElement, bo, { conditionExpression: expr });
    });
    const defaultBox = el('input', { type: 'checkbox', '.checked': isDefault, '.disabled': disabled });
    defaultBox.addEventListener('change', () => {
      if (defaultBox.checked) modeling.updateModdleProperties(panelElement, bo, { conditionExpression: undefined });
      modeling.updateProperties(sourceShape, { default: defaultBox.checked ? bo : undefined });
      renderPanel();
    });
    return [
      el('div', { class: 'field check' }, defaultBox, el('label', { for: 'prop-default' }, 'Default flow (taken when no condition holds)')),
      field('Condition', condition, catalogue.conditionHelp, 'prop-condition'),
    ].map((node) => {
      if (node.querySelector && node.querySelector('input[type=checkbox]')) node.querySelector('input').id = 'prop-default';
      return node;
    });
  }

  // -- start ------------------------------------------------------------------------------------------
  if (readOnly) {
    const [name, version] = route;
    try {
      const text = await call('GET', `${base}/process-definitions/${encodeURIComponent(decodeURIComponent(name))}/versions/${encodeURIComponent(version)}/bpmn`, { raw: true });
      await load(text, `${decodeURIComponent(name)} version ${version}`);
    } catch (e) {
      say(e instanceof ApiError && e.status === 403 ? session.refusal('read definitions', 'getProcessDefinition') : `Opening failed: ${e.message}`, 'error');
    }
  } else {
    const draft = sessionStorage.getItem('idflow.backoffice.draft');
    sessionStorage.removeItem('idflow.backoffice.draft');
    await load(draft || EMPTY('new-process'), draft ? 'a draft' : 'a new diagram');
    refreshDeployed();
  }
  return { destroy: () => modeler.destroy() };
}
