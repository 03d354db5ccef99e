// The page's passcode-policy check (crates/server/web/policy.js): the same rules as the Rust
// client's `idflow_identity::policy::check_passcode`, with the page's English messages.

import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { useMessages, t } from '../../../crates/server/web/i18n.js';
import { requirementsFor, unmetRequirements } from '../../../crates/server/web/policy.js';

useMessages(JSON.parse(readFileSync(new URL('../../../crates/server/web/messages/en.json', import.meta.url), 'utf8')));

const seeds = {
  minimumLength: 6, maximumLength: 12, digitCount: 1, symbolCount: 1, lowerCaseCount: 1, upperCaseCount: 1,
  characterVariety: 1, passcodeHistory: 1,
  requiredRegExes: [{ pattern: '', error: '' }], allowedRegExes: [], disallowedRegExes: [],
};

test('each requirement is met or named, as in the Rust client', () => {
  const cases = [
    [seeds, 'aB3$xy', []],
    [seeds, 'aB3$x', ['6 to 12 characters']],
    [seeds, 'aB3$xyzwvuts1', ['6 to 12 characters']],
    [seeds, 'abcdef', ['at least 1 digit', 'at least 1 upper-case letter', 'at least 1 symbol']],
    [{ minimumLength: 1, characterVariety: 3 }, 'abcDEF123', []],
    [{ minimumLength: 1, characterVariety: 3 }, 'abc-DEF', []],
    [{ minimumLength: 1, characterVariety: 3 }, 'abcdef123', ['at least 3 kinds of character (digits, symbols, lower- and upper-case letters)']],
    // Code points, not UTF-16 units or bytes; a letter without case counts for length only.
    [{ minimumLength: 3, maximumLength: 3 }, 'é😀中', []],
    [{ minimumLength: 1, upperCaseCount: 1 }, '中文', ['at least 1 upper-case letter']],
    [{ minimumLength: 1, digitCount: 2 }, '٣x٤', []],
    [{ minimumLength: 1, requiredRegExes: [{ pattern: '[0-9]{2}', error: 'Two digits in a row, please' }] }, 'a1b2', ['Two digits in a row, please']],
    [{ minimumLength: 1, allowedRegExes: [{ pattern: '[a-z]+', error: '' }] }, 'abc1', ['to consist of /[a-z]+/']],
    [{ minimumLength: 1, allowedRegExes: [{ pattern: '[a-z]+', error: '' }] }, 'abc', []],
    [{ minimumLength: 1, disallowedRegExes: [{ pattern: 'password', error: 'Not "password"' }] }, 'mypassword', ['Not "password"']],
    [{ minimumLength: 1, requiredRegExes: [{ pattern: '(', error: 'Broken' }] }, 'x', ['Broken (this device cannot check this rule)']],
  ];
  for (const [req, passcode, expected] of cases) {
    assert.deepEqual(unmetRequirements(req, passcode, t), expected, `${JSON.stringify(req)} ${passcode}`);
  }
});

test('the list shows every requirement, met or not, for the live check', () => {
  const items = requirementsFor(seeds, 'abc', t);
  assert.deepEqual(items.map((i) => i.id), ['length', 'digitCount', 'lowerCaseCount', 'upperCaseCount', 'symbolCount', 'characterVariety']);
  assert.deepEqual(items.map((i) => i.met), [false, false, true, false, false, true]);
});
