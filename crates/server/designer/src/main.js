// The backoffice shell: sign-in (a one-time code from the link idflow serve prints, or a pasted
// token from `idflow token`), the tenant, navigation, and the pages: the designer, custom forms,
// and the operations pages (process tokens, instances, users, identity stores, live numbers). The token lives in this tab's sessionStorage only and is dropped on sign-out; what it
// may do is read from its `permissions` claim, and every page says what it may not do (the
// server enforces it anyway).
import './style.css';
import { call, setToken } from './api.js';
import { el } from '../../web/render.js';
import { openDesigner } from './designer.js';
import { openForms } from './forms.js';
import { openTokens } from './ops/tokens.js';
import { openInstances } from './ops/instances.js';
import { openUsers } from './ops/users.js';
import { openStores } from './ops/stores.js';
import { openLive } from './ops/live.js';

const TOKEN_KEY = 'idflow.backoffice.token';
const TENANT_KEY = 'idflow.backoffice.tenant';

/** The claims of a JWT (read, not verified: the server verifies every call). */
export function claimsOf(token) {
  const part = token.split('.')[1];
  if (!part) throw new Error('not a JWT: it has no claims part');
  const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
  const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))));
  if (!Array.isArray(claims.permissions)) throw new Error('not an idflow token: no permissions claim');
  return claims;
}

/** The tenants a token names (`TNT#{tenant}#...`). */
function tenantsOf(claims) {
  const tenants = new Set();
  for (const p of claims.permissions) {
    const m = /^TNT#([^#]+)#/.exec(p);
    if (m) tenants.add(m[1]);
  }
  return [...tenants];
}

/** What the signed-in token may do in its tenant. */
export class Session {
  constructor(token, claims, tenant) {
    this.token = token;
    this.claims = claims;
    this.tenant = tenant;
  }
  can(permission) {
    return this.claims.permissions.some(
      (p) => p === `TNT#${this.tenant}#${permission}` || p === `TNT#${this.tenant}#*`,
    );
  }
  /** A sentence saying what is refused, for a permission this token lacks. */
  refusal(what, permission) {
    return `This token may not ${what}: it lacks TNT#${this.tenant}#${permission}. Sign in with a token that grants it (idflow token --tenant ${this.tenant} --permission ${permission}).`;
  }
}

const app = document.getElementById('app');

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(TENANT_KEY);
  setToken(null);
  location.hash = '';
  render();
}

function showSignIn(message) {
  const input = el('textarea', { id: 'token-input', rows: 4, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'token-help' });
  const error = el('p', { class: 'error', id: 'sign-in-error', role: 'alert' }, message || '');
  const form = el(
    'form',
    { class: 'sign-in', id: 'sign-in' },
    el('h1', {}, 'Sign in to the idflow backoffice'),
    el('p', { id: 'token-help' }, 'Open the one-time sign-in link idflow serve prints, or paste a bearer token minted with ', el('code', {}, 'idflow token --tenant <tenant>'), '. The token stays in this tab only.'),
    el('label', { for: 'token-input' }, 'Bearer token'),
    input,
    error,
    el('button', { type: 'submit' }, 'Sign in'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = input.value.trim();
    try {
      claimsOf(token);
    } catch (e) {
      error.textContent = `That is not an idflow token (${e.message}).`;
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    render();
  });
  app.replaceChildren(form);
  app.dataset.state = 'sign-in';
}

async function redeemCode(code) {
  history.replaceState(null, '', location.pathname);
  try {
    const answer = await call('POST', '/api/backoffice/sign-in', { body: { code } });
    sessionStorage.setItem(TOKEN_KEY, answer.token);
    return null;
  } catch (e) {
    return `The sign-in link did not work: ${e.message}`;
  }
}

function nav(session, page) {
  const tenants = tenantsOf(session.claims);
  const select = el('select', { id: 'tenant', 'aria-label': 'Tenant' }, ...tenants.map((t) => el('option', { value: t, '.selected': t === session.tenant }, t)));
  select.addEventListener('change', () => {
    sessionStorage.setItem(TENANT_KEY, select.value);
    render();
  });
  const link = (id, label) => el('a', { href: `#${id}`, 'aria-current': page === id ? 'page' : undefined }, label);
  const expires = new Date(session.claims.exp * 1000);
  const signOutButton = el('button', { type: 'button', id: 'sign-out' }, 'Sign out');
  signOutButton.addEventListener('click', signOut);
  return el(
    'header',
    { class: 'shell' },
    el('strong', { class: 'product' }, 'idflow'),
    el('nav', { 'aria-label': 'Backoffice' }, ...PAGES.map(([id, label]) => link(id, label))),
    el('label', { class: 'tenant' }, 'Tenant ', select),
    el('span', { class: 'who', title: `valid until ${expires.toISOString()}` }, session.claims.sub || 'signed in'),
    signOutButton,
  );
}

/** The pages: hash route, navigation label, opener. */
const PAGES = [
  ['designer', 'Designer', (main, session, route) => openDesigner(main, session, route)],
  ['forms', 'Custom forms', (main, session) => openForms(main, session)],
  ['tokens', 'Process tokens', openTokens],
  ['instances', 'Instances', openInstances],
  ['users', 'Users', openUsers],
  ['stores', 'Stores', openStores],
  ['live', 'Live numbers', openLive],
];

let current = null;

async function render() {
  const hash = location.hash.slice(1);
  let message = null;
  if (hash.startsWith('code=')) message = await redeemCode(decodeURIComponent(hash.slice(5)));
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) return showSignIn(message);
  let claims;
  try {
    claims = claimsOf(token);
  } catch (e) {
    sessionStorage.removeItem(TOKEN_KEY);
    return showSignIn(`The stored token is not usable (${e.message}).`);
  }
  if (claims.exp && claims.exp * 1000 < Date.now()) {
    sessionStorage.removeItem(TOKEN_KEY);
    return showSignIn('The token has expired: sign in again.');
  }
  const tenants = tenantsOf(claims);
  if (tenants.length === 0) {
    sessionStorage.removeItem(TOKEN_KEY);
    return showSignIn('That token grants nothing in any tenant.');
  }
  const stored = sessionStorage.getItem(TENANT_KEY);
  const tenant = tenants.includes(stored) ? stored : tenants[0];
  setToken(token);
  const session = new Session(token, claims, tenant);
  const route = location.hash.slice(1).split('/');
  const [page, , open] = PAGES.find(([id]) => id === route[0]) || PAGES[0];
  const main = el('main', { id: 'page', 'data-page': page });
  if (current && current.destroy) current.destroy();
  current = null;
  app.replaceChildren(nav(session, page), main);
  app.dataset.state = 'ready';
  const seq = ++renders;
  main.setAttribute('aria-busy', 'true');
  try {
    const opened = await open(main, session, route.slice(1));
    if (seq === renders) current = opened;
    else opened?.destroy?.();
  } catch (e) {
    main.append(el('p', { class: 'error', role: 'alert' }, `This page failed to open: ${e.message}`));
  } finally {
    main.removeAttribute('aria-busy');
    main.dataset.ready = 'true';
  }
}

let renders = 0;

window.addEventListener('hashchange', () => render());
render();
