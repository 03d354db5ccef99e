// SRP-6a client for the end user's pages, exactly as spec/srp.md: RFC 5054's 2048-bit group,
// g = 2, H = SHA-256. BigInt for the arithmetic, WebCrypto for hashing and randomness; the same
// module runs in node for the interop-vector test (tests/browser/unit/srp.test.mjs).
//
// The passcode enters only `derivePrivateKey` (x = H(s | H(I ":" P))); nothing here keeps it.

const N_HEX =
  'AC6BDB41324A9A9BF166DE5E1389582FAF72B6651987EE07FC3192943DB56050' +
  'A37329CBB4A099ED8193E0757767A13DD52312AB4B03310DCD7F48A9DA04FD50' +
  'E8083969EDB767B0CF6095179A163AB3661A05FBD5FAAAE82918A9962F0B93B8' +
  '55F97993EC975EEAA80D740ADBF4FF747359D041D5C33EA71D281E446B14773B' +
  'CA97B43A23FB801676BD207A436C6481F1D2B9078717461A5B9D32E688F87748' +
  '544523B524B0D57D5EA77A2775D2ECFA032CFBDBF52FB3786160279004E57AE6' +
  'AF874E7303CE53299CCC041C7BC308D82A5698F3A8D0C38271AE35F8E9DBFBB6' +
  '94B5C803D89F7AE435DE236D525F54759B65E372FCD68EF20FA7111F9E4AFF73';

/** The group's prime. */
export const N = BigInt('0x' + N_HEX);
/** The group's generator. */
export const g = 2n;
/** Length of bytes(N): what PAD pads to. */
export const N_BYTES = 256;

/** Why the exchange cannot go on (a parameter this client does not speak, a bad value). */
export class SrpError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'SrpError';
    /** Stable: UNSUPPORTED_PARAMETERS, BAD_ENCODING, BAD_SERVER_KEY, NO_WEBCRYPTO. */
    this.code = code;
  }
}

function subtle() {
  const s = globalThis.crypto && globalThis.crypto.subtle;
  if (!s) {
    // WebCrypto exists only in secure contexts: HTTPS, or http on the loopback address.
    throw new SrpError('NO_WEBCRYPTO', 'WebCrypto is unavailable: open the page over HTTPS');
  }
  return s;
}

// -- bytes ------------------------------------------------------------------------------------

/** The minimal big-endian encoding of a non-negative integer (srp.md `bytes(n)`). */
export function bytesOf(n) {
  if (n < 0n) throw new RangeError('bytesOf: negative');
  let hex = n.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  if (hex === '00') return new Uint8Array(0);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

/** `bytes(n)` left-padded with zeros to the length of `bytes(N)` (srp.md `PAD(n)`). */
export function pad(n) {
  const b = bytesOf(n);
  if (b.length > N_BYTES) throw new RangeError('pad: larger than N');
  const out = new Uint8Array(N_BYTES);
  out.set(b, N_BYTES - b.length);
  return out;
}

/** Big-endian bytes as an integer. */
export function toBigInt(bytes) {
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return hex ? BigInt('0x' + hex) : 0n;
}

export function concat(...parts) {
  const len = parts.reduce((sum, p) => sum + p.length, 0);
  const out = new Uint8Array(len);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const utf8 = (text) => new TextEncoder().encode(text);

/** Whether two byte arrays are equal, looking at every byte whatever the first difference. */
export function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

// -- base64 -----------------------------------------------------------------------------------

/** Standard base64 with padding (srp.md's encoding for n, B, v, A, m1, m2). */
export function toBase64(bytes) {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** Standard or URL-safe base64, padded or not (what the server also accepts). */
export function fromBase64(text, field) {
  let t = String(text ?? '').trim().replace(/-/g, '+').replace(/_/g, '/');
  if (!t || /[^A-Za-z0-9+/=]/.test(t) || t.length % 4 === 1) {
    throw new SrpError('BAD_ENCODING', `${field} is not base64`);
  }
  t = t.replace(/=+$/, '');
  t += '='.repeat((4 - (t.length % 4)) % 4);
  let binary;
  try {
    binary = atob(t);
  } catch {
    throw new SrpError('BAD_ENCODING', `${field} is not base64`);
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

// -- arithmetic and hashing -------------------------------------------------------------------

/** base^exp mod m, left to right over 4-bit windows. */
export function modPow(base, exp, m) {
  if (m === 1n) return 0n;
  let b = base % m;
  if (b < 0n) b += m;
  const table = [1n, b];
  for (let i = 2; i < 16; i++) table.push((table[i - 1] * b) % m);
  let r = 1n;
  for (const digit of exp.toString(16)) {
    r = (r * r) % m;
    r = (r * r) % m;
    r = (r * r) % m;
    r = (r * r) % m;
    const d = parseInt(digit, 16);
    if (d) r = (r * table[d]) % m;
  }
  return r;
}

/** SHA-256 of the concatenation of `parts`. */
export async function H(...parts) {
  return new Uint8Array(await subtle().digest('SHA-256', concat(...parts)));
}

/** k = H(bytes(N) | PAD(g)). */
export async function multiplier() {
  return toBigInt(await H(bytesOf(N), pad(g)));
}

/** x = H(s | H(I | ":" | P)). */
export async function derivePrivateKey(identity, passcode, salt) {
  const inner = await H(utf8(identity), utf8(':'), utf8(passcode));
  return toBigInt(await H(salt, inner));
}

/** v = g^x mod N. */
export function verifierOf(x) {
  return modPow(g, x, N);
}

/** A = g^a mod N. */
export function publicEphemeral(a) {
  return modPow(g, a, N);
}

/** u = H(PAD(A) | PAD(B)). */
export async function scrambler(A, B) {
  return toBigInt(await H(pad(A), pad(B)));
}

/** The client's S = (B - k*v)^(a + u*x) mod N. */
export function clientPremaster(B, k, x, a, u) {
  const v = verifierOf(x);
  let base = (B - ((k * v) % N)) % N;
  if (base < 0n) base += N;
  return modPow(base, a + u * x, N);
}

/** K = H(bytes(S)). */
export async function sessionKey(S) {
  return H(bytesOf(S));
}

/** M1 = H( (H(bytes(N)) XOR H(PAD(g))) | H(I) | s | bytes(A) | bytes(B) | K ). */
export async function clientProof(identity, salt, A, B, K) {
  const hn = await H(bytesOf(N));
  const hg = await H(pad(g));
  const xor = hn.map((byte, i) => byte ^ hg[i]);
  return H(xor, await H(utf8(identity)), salt, bytesOf(A), bytesOf(B), K);
}

/** M2 = H(bytes(A) | M1 | K). */
export async function serverProof(A, M1, K) {
  return H(bytesOf(A), M1, K);
}

/** A fresh secret ephemeral: 256 random bits (never zero). */
export function randomEphemeral() {
  const bytes = new Uint8Array(32);
  for (;;) {
    globalThis.crypto.getRandomValues(bytes);
    const a = toBigInt(bytes);
    if (a !== 0n) return a;
  }
}

// -- the exchange, on the server's start answer ----------------------------------------------

/**
 * Checks that a start answer's `algorithmInfo` speaks srp.md's SRP and returns what the client
 * needs: the identity, the salt bytes and (renewal, authentication) B.
 */
export function readParameters(algorithmInfo) {
  const unsupported = (why) => new SrpError('UNSUPPORTED_PARAMETERS', why);
  if (!algorithmInfo || algorithmInfo.type !== 'SRP') throw unsupported('algorithmInfo.type is not SRP');
  const p = algorithmInfo.parameters || {};
  if (Number(p.g) !== 2) throw unsupported('g is not 2');
  if (String(p.hashAlgorithm || '').toUpperCase() !== 'SHA-256') throw unsupported('hashAlgorithm is not SHA-256');
  if (toBigInt(fromBase64(p.n, 'n')) !== N) throw unsupported('n is not the RFC 5054 2048-bit group');
  if (typeof p.i !== 'string' || !p.i) throw unsupported('i (the identity) is missing');
  const salt = fromBase64(p.salt, 'salt');
  const out = { identity: p.i, salt };
  if (p.serverPublicKey !== undefined) {
    const B = toBigInt(fromBase64(p.serverPublicKey, 'serverPublicKey'));
    if (B % N === 0n) throw new SrpError('BAD_SERVER_KEY', 'the server public key B is 0 mod N');
    out.B = B;
  }
  return out;
}

/** Registration data for `passcode`: `{verifier}` (standard base64 of bytes(v)). */
export async function registrationData(params, passcode) {
  const x = await derivePrivateKey(params.identity, passcode, params.salt);
  return { verifier: toBase64(bytesOf(verifierOf(x))) };
}

/**
 * Verification data proving `passcode` against B: `{request: {a, m1}, expectedM2}`. `a` is the
 * secret ephemeral (random unless a test passes one).
 */
export async function verificationData(params, passcode, a = randomEphemeral()) {
  if (params.B === undefined) throw new SrpError('BAD_SERVER_KEY', 'no server public key B');
  const x = await derivePrivateKey(params.identity, passcode, params.salt);
  const A = publicEphemeral(a);
  const u = await scrambler(A, params.B);
  if (u === 0n) throw new SrpError('BAD_SERVER_KEY', 'u is 0');
  const k = await multiplier();
  const K = await sessionKey(clientPremaster(params.B, k, x, a, u));
  const M1 = await clientProof(params.identity, params.salt, A, params.B, K);
  const M2 = await serverProof(A, M1, K);
  return { request: { a: toBase64(bytesOf(A)), m1: toBase64(M1) }, expectedM2: M2 };
}

/** Whether the server's `m2` (base64) is the expected proof. */
export function serverProofMatches(expectedM2, m2) {
  let got;
  try {
    got = fromBase64(m2, 'm2');
  } catch {
    return false;
  }
  return sameBytes(expectedM2, got);
}
