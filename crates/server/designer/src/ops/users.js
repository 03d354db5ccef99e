// Users: search a store by external ID (or page through it); a user's page with status, lock
// count, registered passcodes and TOTP registrations (the API never shows a secret), unlock,
// and deregister a passcode or a TOTP (confirmed).
import { call } from '../api.js';
import { attempt, button, confirmDialog, el, facts, field, lacks, messageLine, pageHead, seg, statusBadge, table, when } from './ui.js';

export const identityPath = (tenant) => `/api/identity-store/tenants/${seg(tenant)}`;

/** The tenant's store names (empty, with the reason on `line`, when they cannot be listed). */
export async function storeNames(session, line) {
  if (!session.can('listStores')) return [];
  const answer = await attempt(line, session, 'list identity stores', () => call('GET', `${identityPath(session.tenant)}/stores`));
  return answer ? answer.stores.map((s) => s.name) : [];
}

export async function openUsers(main, session, route) {
  if (route.length >= 2) return openUser(main, session, decodeURIComponent(route[0]), decodeURIComponent(route[1]));
  const message = messageLine('users-message');
  const store = el('select', { id: 'user-store' });
  const external = el('input', { id: 'user-external-id', type: 'search', autocomplete: 'off', spellcheck: 'false', required: true });
  const results = el('div', { id: 'user-results' });
  const pager = el('nav', { class: 'pager', 'aria-label': 'Pages of users' });
  const form = el(
    'form',
    { id: 'user-search', class: 'filters', role: 'search', 'aria-label': 'Find a user' },
    field('Identity store', store),
    field('External ID', external, 'The exact external ID the user was added with.'),
    el('div', { class: 'actions' }, el('button', { type: 'submit', id: 'user-search-submit' }, 'Find'), button('List all users', () => listPage(null), { id: 'user-list-all' })),
  );
  main.replaceChildren(pageHead('Users', 'Find a user of an identity store by external ID; open one to unlock it or remove a registration.'), form, message, results, pager);
  main.className = 'ops users';

  const names = await storeNames(session, message);
  if (!session.can('listStores')) {
    store.replaceWith(el('input', { id: 'user-store', autocomplete: 'off', spellcheck: 'false' }));
    form.after(lacks(session, 'list identity stores (type the store\'s name)', 'listStores'));
  } else {
    store.append(...names.map((n) => el('option', { value: n }, n)));
  }
  const storeName = () => form.querySelector('#user-store').value.trim();
  const userBase = () => `${identityPath(session.tenant)}/stores/${seg(storeName())}/users`;

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.clear();
    pager.replaceChildren();
    const wanted = external.value.trim();
    if (!wanted) return;
    try {
      const answer = await call('GET', `${userBase()}/${seg(wanted)}/ext`);
      results.replaceChildren(userTable([answer.user]));
    } catch (e) {
      if (e.status === 404) {
        results.replaceChildren(el('p', { class: 'note', id: 'no-user' }, `No user with external ID ${wanted} in store ${storeName()}.`));
      } else {
        results.replaceChildren();
        message.fail(e, session, 'find users by external ID');
      }
    }
  });

  async function listPage(after) {
    message.clear();
    const q = new URLSearchParams({ limit: '25' });
    if (after) q.set('after', after);
    const answer = await attempt(message, session, 'list users', () => call('GET', `${userBase()}?${q}`));
    if (!answer) return;
    results.replaceChildren(answer.users.length ? userTable(answer.users) : el('p', { class: 'note' }, 'No users in this store.'));
    pager.replaceChildren(answer.nextAfter ? button('Next page', () => listPage(answer.nextAfter), { id: 'users-next' }) : '');
  }

  function userTable(users) {
    return table(
      'Users',
      ['External ID', 'User ID', 'Status', 'Locks', 'Passcodes', 'TOTP'],
      users.map((u) =>
        el(
          'tr',
          { 'data-user': u.id },
          el('td', {}, el('a', { href: `#users/${seg(storeName())}/${seg(u.id)}` }, u.externalId)),
          el('td', { class: 'mono' }, u.id),
          el('td', {}, statusBadge(u.status)),
          el('td', {}, String(u.lockCount)),
          el('td', {}, u.registeredPasscodes.map((p) => p.policyName).join(', ')),
          el('td', {}, u.totpRegistrations.map((t) => t.policyName).join(', ')),
        ),
      ),
      { id: 'user-table' },
    );
  }
  return {};
}

async function openUser(main, session, store, userId) {
  const base = `${identityPath(session.tenant)}/stores/${seg(store)}/users/${seg(userId)}`;
  const message = messageLine('user-message');
  const body = el('div', { id: 'user-page' });
  main.replaceChildren(el('p', {}, el('a', { href: '#users' }, '← Find another user')), pageHead(`User in store ${store}`), message, body);
  main.className = 'ops user';
  if (!session.can('getUser')) {
    body.append(lacks(session, 'read users', 'getUser'));
  }
  const first = await attempt(message, session, 'read this user', () => call('GET', base));
  if (!first) return {};
  render(first.user);

  function render(user) {
    main.dataset.status = user.status;
    const unlockMessage = messageLine('unlock-message');
    const locked = user.status === 'LOCKED' || user.status === 'TEMP_LOCKED';
    const unlock = button('Unlock', async () => {
      const answer = await attempt(unlockMessage, session, 'unlock users', () => call('POST', `${base}/unlock`, { body: {} }));
      if (answer) {
        render(answer.user);
        main.querySelector('#unlock-message').say(`Unlocked: the user is ${answer.user.status}.`, 'success');
      }
    }, { id: 'unlock-user', 'aria-describedby': 'unlock-message', '.disabled': !locked, title: locked ? '' : 'The user is not locked' });

    const passcodeMessage = messageLine('passcode-message');
    const passcodes = user.registeredPasscodes.length
      ? table(
          'Registered passcodes',
          ['Policy', 'Registered', 'Renewed', ''],
          user.registeredPasscodes.map((p) =>
            el(
              'tr',
              { 'data-policy': p.policyName },
              el('td', {}, p.policyName),
              el('td', {}, when(p.registeredAt)),
              el('td', {}, when(p.renewedAt) || '—'),
              el(
                'td',
                {},
                button('Deregister', async () => {
                  if (!(await confirmDialog('Deregister this passcode?', `The user ${user.externalId} can no longer authenticate with the passcode of policy ${p.policyName} until it is registered again.`, 'Deregister'))) return;
                  const answer = await attempt(passcodeMessage, session, 'deregister passcodes', () => call('POST', `${base}/passcodes/deregistrations/${seg(p.policyName)}`, { body: {} }));
                  if (answer) {
                    render(answer.user);
                    main.querySelector('#passcode-message').say(`Deregistered the passcode of policy ${p.policyName}.`, 'success');
                  }
                }, { class: 'danger', 'data-action': 'deregister-passcode', 'aria-label': `Deregister the passcode of policy ${p.policyName}` }),
              ),
            ),
          ),
          { id: 'passcode-table' },
        )
      : el('p', { class: 'note' }, 'No passcode registered.');

    const totpMessage = messageLine('totp-message');
    const totps = user.totpRegistrations.length
      ? table(
          'TOTP registrations',
          ['Policy', 'Registered', ''],
          user.totpRegistrations.map((t) =>
            el(
              'tr',
              { 'data-policy': t.policyName },
              el('td', {}, t.policyName),
              el('td', {}, when(t.registeredAt)),
              el(
                'td',
                {},
                button('Deregister', async () => {
                  if (!(await confirmDialog('Deregister this TOTP?', `The user ${user.externalId} can no longer authenticate with the authenticator app of policy ${t.policyName} until it is registered again.`, 'Deregister'))) return;
                  const answer = await attempt(totpMessage, session, 'deregister TOTPs', () => call('POST', `${base}/totps/deregistrations/${seg(t.policyName)}`, { body: {} }));
                  if (answer) {
                    const fresh = answer.user ? answer : await call('GET', base);
                    render(fresh.user);
                    main.querySelector('#totp-message').say(`Deregistered the TOTP of policy ${t.policyName}.`, 'success');
                  }
                }, { class: 'danger', 'data-action': 'deregister-totp', 'aria-label': `Deregister the TOTP of policy ${t.policyName}` }),
              ),
            ),
          ),
          { id: 'totp-table' },
        )
      : el('p', { class: 'note' }, 'No TOTP registered.');

    body.replaceChildren(
      el(
        'section',
        { class: 'panel', 'aria-labelledby': 'user-heading' },
        el('h2', { id: 'user-heading' }, user.externalId),
        facts(
          [
            ['Status', statusBadge(user.status)],
            ['User ID', el('span', { class: 'mono' }, user.id)],
            ['Lock count', String(user.lockCount)],
            ['Created', when(user.createdAt)],
            ['Last successful authentication', when(user.lastSuccessfulAuthentication)],
          ],
          { id: 'user-facts' },
        ),
        el('div', { class: 'actions' }, unlock),
        unlockMessage,
      ),
      el('section', { class: 'panel', 'aria-labelledby': 'passcodes-heading' }, el('h2', { id: 'passcodes-heading' }, 'Passcodes'), passcodes, passcodeMessage),
      el('section', { class: 'panel', 'aria-labelledby': 'totps-heading' }, el('h2', { id: 'totps-heading' }, 'TOTP (authenticator apps)'), totps, totpMessage),
    );
  }
  return {};
}
