// An instance's path on its diagram: bpmn-js's NavigatedViewer with markers (CSS classes on the
// shapes) for the nodes entered, the flows taken, the boundaries fired, where the instance rests
// or how it ended, and where a replay diverged. The path itself comes from the server
// (`.../process-instances/{id}/path`, or a replay's `path`): this module only draws it.
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import { idflowModdle } from '../moddle.js';
import { el } from './ui.js';

/** The marker classes, one home for the page, its legend and the tests. */
export const MARKERS = {
  entered: 'idflow-entered',
  flow: 'idflow-taken',
  boundary: 'idflow-fired',
  rest: 'idflow-rest',
  ended: 'idflow-ended',
  failed: 'idflow-failed',
  diverged: 'idflow-diverged',
};

/** The end's marker class by status (the end event reached carries both). */
const END_CLASS = {
  COMPLETED_ENDED_SUCCESS: 'idflow-end-success',
  COMPLETED_ENDED_ERROR: 'idflow-end-error',
  COMPLETED_TERMINATED: 'idflow-end-terminated',
  COMPLETED_PROCESS_ERROR: 'idflow-end-process-error',
};

export class PathDiagram {
  constructor(container, label) {
    container.classList.add('diagram');
    container.setAttribute('role', 'figure');
    container.setAttribute('aria-label', label);
    this.container = container;
    this.viewer = new NavigatedViewer({ container, moddleExtensions: { idflow: idflowModdle } });
    this.marked = [];
    // A resized page (a narrow window, a rotated phone) fits the diagram again.
    let width = 0;
    this.resizes = new ResizeObserver(([entry]) => {
      const { width: now, height } = entry.contentRect;
      // A container without area (not laid out yet, or hidden) has nothing to fit into.
      if (now < 1 || height < 1) return;
      if (this.shown && Math.abs(now - width) > 40) this.fit();
      width = now;
    });
    this.resizes.observe(container);
  }

  async show(xml) {
    const { warnings } = await this.viewer.importXML(xml);
    this.fit();
    this.marked = [];
    this.shown = true;
    return warnings;
  }

  fit() {
    const canvas = this.viewer.get('canvas');
    // The canvas caches its size: tell it the container changed.
    canvas.resized();
    const { width, height } = canvas.getSize();
    const box = canvas.getActiveLayer()?.getBBox?.();
    if (width > 0 && height > 0 && box && box.width > 0 && box.height > 0) canvas.zoom('fit-viewport', 'auto');
  }

  has(id) {
    return Boolean(id && this.viewer.get('elementRegistry').get(id));
  }

  mark(id, marker) {
    if (!this.has(id)) return false;
    this.viewer.get('canvas').addMarker(id, marker);
    this.marked.push([id, marker]);
    return true;
  }

  clear(only) {
    const canvas = this.viewer.get('canvas');
    this.marked = this.marked.filter(([id, marker]) => {
      if (only && marker !== only) return true;
      canvas.removeMarker(id, marker);
      return false;
    });
  }

  /** Draws `path` (the server's shape: nodes, flows, boundaries, restingAt, endedAt, status). */
  drawPath(path, instance) {
    this.clear();
    for (const node of path.nodes || []) this.mark(node.elementId, MARKERS.entered);
    for (const flow of path.flows || []) this.mark(flow, MARKERS.flow);
    for (const boundary of path.boundaries || []) this.mark(boundary, MARKERS.boundary);
    if (path.restingAt) this.mark(path.restingAt, MARKERS.rest);
    const status = instance?.status || path.status;
    if (path.endedAt) {
      this.mark(path.endedAt, MARKERS.ended);
      if (END_CLASS[status]) this.mark(path.endedAt, END_CLASS[status]);
    } else if (status && status !== 'ACTIVE') {
      // Ended without an end event (cancelled, or an unhandled error): mark where it stopped.
      const where = instance?.error?.node || (path.nodes || []).at(-1)?.elementId;
      if (where) {
        this.mark(where, status === 'COMPLETED_PROCESS_ERROR' ? MARKERS.failed : MARKERS.ended);
        if (END_CLASS[status]) this.mark(where, END_CLASS[status]);
      }
    }
  }

  /** The element IDs carrying `marker`. */
  carrying(marker) {
    return this.marked.filter(([, m]) => m === marker).map(([id]) => id);
  }

  focus(id) {
    if (!this.has(id)) return;
    this.viewer.get('canvas').scrollToElement(this.viewer.get('elementRegistry').get(id));
  }

  destroy() {
    this.resizes.disconnect();
    this.viewer.destroy();
  }
}

/** The legend of the markers, for readers of the diagram. */
export function legend(withDivergence) {
  const item = (cls, text) => el('li', {}, el('span', { class: `swatch ${cls}`, 'aria-hidden': 'true' }), text);
  return el(
    'ul',
    { class: 'legend', 'aria-label': 'Legend of the diagram' },
    item('sw-entered', 'entered'),
    item('sw-flow', 'flow taken'),
    item('sw-boundary', 'boundary fired'),
    item('sw-rest', 'rests here'),
    item('sw-ended', 'ended here'),
    withDivergence ? item('sw-diverged', 'replay diverged here') : '',
  );
}
