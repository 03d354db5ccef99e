// The generic step renderer: draws a rendered custom form (the step JSON's `form`) as an
// accessible HTML form, whatever the step. Every component type of the forms crate is drawn
// here: paragraph, text, passcode, qrCode (the server's SVG as an image), link, copy, submit.
// Nothing here sends anything: app.js decides what an answer is.
//
// Everything from the server is set as text or as an attribute value, never parsed as HTML.

import { t } from './i18n.js';

/** `document.createElement` with attributes, properties (`.name`) and children. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('.')) node[name.slice(1)] = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Link targets a form may point the user at; anything else is shown as text. */
const SAFE_SCHEMES = ['https:', 'http:', 'otpauth:', 'mailto:', 'tel:'];

export function safeHref(value) {
  try {
    const url = new URL(String(value), location.href);
    return SAFE_SCHEMES.includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

let fieldCounter = 0;

/** The field's error line, created on first use. */
function errorLine(field) {
  if (!field.error) {
    field.error = el('p', { class: 'field-error', id: `${field.input.id}-error` });
    field.wrapper.append(field.error);
  }
  return field.error;
}

/** Marks `field` invalid with `message`, described by it for assistive technology. */
export function setFieldError(field, message) {
  const line = errorLine(field);
  line.textContent = message;
  line.hidden = false;
  field.input.setAttribute('aria-invalid', 'true');
  const described = new Set((field.input.getAttribute('aria-describedby') || '').split(' ').filter(Boolean));
  described.add(line.id);
  field.input.setAttribute('aria-describedby', [...described].join(' '));
}

export function clearFieldError(field) {
  if (field.error) {
    field.error.hidden = true;
    field.error.textContent = '';
  }
  field.input.removeAttribute('aria-invalid');
}

function labelled(component, input, extra = []) {
  const label = el('label', { for: input.id }, component.uiLabel || component.elementId);
  if (component.required) label.append(' ', el('span', { class: 'required', 'aria-hidden': 'true' }, '*'));
  return el('div', { class: 'field' }, label, ...extra, input);
}

function qrImage(component) {
  const size = Number(component.size) || 256;
  const svg = typeof component.svg === 'string' ? component.svg : '';
  const bytes = new TextEncoder().encode(svg);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  const img = el('img', {
    class: 'qr',
    src: `data:image/svg+xml;base64,${btoa(binary)}`,
    alt: t('qr.alt'),
    width: size,
    height: size,
    'data-element-id': component.elementId,
  });
  return el('figure', { class: 'qr-figure' }, img);
}

function copyBox(component, status) {
  const id = `f${++fieldCounter}-${component.elementId}`;
  const value = String(component.defaultValue ?? '');
  // The value is shown in full (it wraps on a narrow screen) for those who type it by hand.
  const shown = el('code', { id, class: 'copy-value', 'data-element-id': component.elementId }, value);
  const button = el('button', { type: 'button', class: 'secondary', 'aria-describedby': id }, component.uiLabel || t('copy.button'));
  button.addEventListener('click', async () => {
    let copied = false;
    try {
      await navigator.clipboard.writeText(value);
      copied = true;
    } catch {
      const range = document.createRange();
      range.selectNodeContents(shown);
      const selection = getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      try {
        copied = document.execCommand('copy');
      } catch {
        copied = false;
      }
    }
    status.textContent = copied ? t('copy.done') : t('copy.failed');
  });
  return el('div', { class: 'copy' }, shown, el('div', { class: 'actions' }, button));
}

/**
 * Draws `form` (a rendered custom form). Returns the pieces app.js works with: the <form>, the
 * input fields by element ID (in order), the passcode fields in order, and the submit buttons.
 */
export function renderForm(form, { onInput } = {}) {
  const fields = [];
  const status = el('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const node = el('form', { class: 'step-form', novalidate: true });
  const submits = [];
  for (const component of Array.isArray(form.components) ? form.components : []) {
    switch (component.type) {
      case 'paragraph':
        node.append(el('p', { class: 'paragraph', 'data-element-id': component.elementId }, component.text ?? ''));
        break;
      case 'text':
      case 'passcode': {
        const id = `f${++fieldCounter}-${component.elementId}`;
        const input = el('input', {
          id,
          name: component.elementId,
          type: component.type === 'passcode' ? 'password' : 'text',
          required: component.required === true,
          placeholder: component.placeholder,
          value: component.type === 'text' ? component.defaultValue : undefined,
          autocomplete: component.type === 'passcode' ? 'off' : 'on',
          spellcheck: 'false',
          'data-element-id': component.elementId,
        });
        const wrapper = labelled(component, input);
        const field = { component, input, wrapper, error: null };
        input.addEventListener('input', () => {
          clearFieldError(field);
          if (onInput) onInput(field);
        });
        fields.push(field);
        node.append(wrapper);
        break;
      }
      case 'qrCode':
        node.append(qrImage(component));
        break;
      case 'link': {
        const href = safeHref(component.defaultValue);
        const label = component.uiLabel || component.defaultValue;
        node.append(
          el('p', { class: 'link' }, href ? el('a', { href, 'data-element-id': component.elementId, rel: 'noreferrer' }, label) : label),
        );
        break;
      }
      case 'copy':
        node.append(copyBox(component, status));
        break;
      case 'submit':
      case 'submitButton': {
        const button = el('button', { type: 'submit', class: 'primary', 'data-element-id': component.elementId }, component.uiLabel || t('step.continue'));
        submits.push(button);
        node.append(el('div', { class: 'actions' }, button));
        break;
      }
      default:
        // A component type this page does not know: say so rather than drop it silently.
        node.append(el('p', { class: 'paragraph unknown' }, t('step.unknownComponent', { type: String(component.type) })));
    }
  }
  if (form.submitButton) {
    const button = el('button', { type: 'submit', class: 'primary', 'data-element-id': form.submitButton.elementId || 'submit' }, form.submitButton.uiLabel || t('step.continue'));
    submits.push(button);
    node.append(el('div', { class: 'actions' }, button));
  }
  node.append(status);
  return { form: node, fields, submits, status };
}

/** The list of a passcode's requirements, ticked live as the user types. */
export function requirementList(id) {
  const list = el('ul', { class: 'requirements', id });
  return {
    node: el('div', { class: 'requirements-box' }, el('p', { class: 'requirements-title', id: `${id}-title` }, t('policy.title')), list),
    update(items) {
      list.replaceChildren(
        ...items.map((item) =>
          el(
            'li',
            { class: item.met ? 'met' : 'unmet' },
            el('span', { class: 'mark', 'aria-hidden': 'true' }, item.met ? '✓' : '✗'),
            el('span', { class: 'visually-hidden' }, item.met ? t('policy.met') : t('policy.unmet')),
            ' ',
            item.message,
          ),
        ),
      );
    },
  };
}
