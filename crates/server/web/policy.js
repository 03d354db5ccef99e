// The passcode policy's requirements, checked where the passcode is typed (the server never sees
// it): the same rules as the Rust client's `idflow_identity::policy::check_passcode`.
//
// Lengths count code points. Classes: digit = Unicode number, lower / upper case by the Unicode
// properties, symbol = neither alphabetic nor numeric. Regexes: each required pattern must match
// somewhere, the whole passcode must match one allowed pattern when there are any, no disallowed
// pattern may match. Empty patterns are placeholders and ignored. A rule's own `error` is its
// message; the other messages come from the page's message file through `t`.

const DIGIT = /\p{N}/u;
const LOWER = /\p{Lowercase}/u;
const UPPER = /\p{Uppercase}/u;
const ALPHA = /\p{Alphabetic}/u;

function classify(passcode) {
  const counts = { digits: 0, symbols: 0, lower: 0, upper: 0 };
  for (const c of passcode) {
    if (DIGIT.test(c)) counts.digits++;
    else if (LOWER.test(c)) counts.lower++;
    else if (UPPER.test(c)) counts.upper++;
    else if (!ALPHA.test(c)) counts.symbols++;
  }
  return counts;
}

function compile(pattern, whole) {
  try {
    return new RegExp(whole ? `^(?:${pattern})$` : pattern, 'u');
  } catch {
    return null;
  }
}

const rules = (list) => (Array.isArray(list) ? list : []).filter((r) => r && typeof r.pattern === 'string' && r.pattern !== '');

/**
 * Every requirement of `req` (the step's `passcodeRequirements`), each `{id, message, met}` for
 * `passcode`, in a stable order: the page lists them all and marks the unmet ones.
 */
export function requirementsFor(req, passcode, t) {
  const r = req || {};
  const out = [];
  const add = (id, met, message) => out.push({ id, met, message });
  const length = Array.from(passcode).length;
  const minimum = Math.max(1, Number(r.minimumLength) || 1);
  const maximum = Number(r.maximumLength) || 0;
  if (maximum > 0) {
    add('length', length >= minimum && length <= maximum, t('policy.lengthBetween', { min: minimum, max: maximum }));
  } else {
    add('length', length >= minimum, t('policy.minimumLength', { count: minimum }));
  }
  const counts = classify(passcode);
  const classRules = [
    ['digitCount', counts.digits, 'policy.digits'],
    ['lowerCaseCount', counts.lower, 'policy.lowerCase'],
    ['upperCaseCount', counts.upper, 'policy.upperCase'],
    ['symbolCount', counts.symbols, 'policy.symbols'],
  ];
  for (const [field, found, key] of classRules) {
    const wanted = Number(r[field]) || 0;
    if (wanted > 0) add(field, found >= wanted, t(key, { count: wanted }));
  }
  const variety = [counts.digits, counts.symbols, counts.lower, counts.upper].filter((n) => n > 0).length;
  const wantedVariety = Number(r.characterVariety) || 0;
  if (wantedVariety > 0) add('characterVariety', variety >= wantedVariety, t('policy.variety', { count: wantedVariety }));

  rules(r.requiredRegExes).forEach((rule, i) => {
    const re = compile(rule.pattern, false);
    const message = rule.error || t('policy.mustMatch', { pattern: rule.pattern });
    add(`requiredRegExes.${i}`, re !== null && re.test(passcode), re ? message : t('policy.uncheckable', { message }));
  });
  const allowed = rules(r.allowedRegExes);
  if (allowed.length) {
    const compiled = allowed.map((rule) => compile(rule.pattern, true));
    const met = compiled.some((re) => re !== null && re.test(passcode));
    const message = allowed.map((rule) => rule.error || t('policy.consistOf', { pattern: rule.pattern })).join('; ');
    add('allowedRegExes', met, message);
  }
  rules(r.disallowedRegExes).forEach((rule, i) => {
    const re = compile(rule.pattern, false);
    const message = rule.error || t('policy.mustNotMatch', { pattern: rule.pattern });
    add(`disallowedRegExes.${i}`, re !== null && !re.test(passcode), re ? message : t('policy.uncheckable', { message }));
  });
  return out;
}

/** The unmet requirements' messages (empty: the passcode is acceptable). */
export function unmetRequirements(req, passcode, t) {
  return requirementsFor(req, passcode, t).filter((r) => !r.met).map((r) => r.message);
}
