// The page's strings: one JSON message file per language (messages/<lang>.json), picked by the
// server from Accept-Language and named in <html lang>. A message is text with {name}
// placeholders, or {"one": ..., "other": ...} chosen by the plural rules on {count}.

let messages = {};
let plural = new Intl.PluralRules('en');

/** Loads `url` (the message file of the page's language). */
export async function loadMessages(url, lang) {
  const response = await fetch(url, { credentials: 'same-origin' });
  if (!response.ok) throw new Error(`message file ${response.status}`);
  messages = await response.json();
  plural = new Intl.PluralRules(lang);
}

/** Uses `table` as the messages (tests). */
export function useMessages(table, lang = 'en') {
  messages = table;
  plural = new Intl.PluralRules(lang);
}

/** The message `key` with `params` filled in; the key itself when the file lacks it. */
export function t(key, params = {}) {
  let text = messages[key];
  if (text === undefined) return key;
  if (typeof text === 'object' && text !== null) {
    const form = plural.select(Number(params.count ?? 0));
    text = text[form] ?? text.other ?? key;
  }
  return String(text).replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}
