// The browser's SRP-6a module (crates/server/web/srp.js) against spec/srp.md's interop vector,
// value by value, plus the short-A case and random sessions checked against the server's side
// of the formulas.

import test from 'node:test';
import assert from 'node:assert/strict';

import * as srp from '../../../crates/server/web/srp.js';

const hex = (bytes) => Buffer.from(bytes).toString('hex');
const b64 = (bytes) => Buffer.from(bytes).toString('base64');
const big = (h) => BigInt('0x' + h);

const VECTOR = {
  I: 'UGIRW7QN727EIV2XLXG4YH42N4',
  P: 'Tr0ub4dor&3',
  salt: 'beb25379d1a8581eb5a727673a2441ee',
  saltB64url: 'vrJTedGoWB61pydnOiRB7g',
  a: '60975527035cf2ad1989806f0407210bc81edc04e2762a56afd529ddda2d4393',
  b: 'e487cb59d31ac550471e81f00f6928e01dda08e974a004f49e61f5d105284d20',
  k: '5b9e8ef059c6b32ea59fc1d322d37f04aa30bae5aa9003b8321e21ddb04e300',
  x: '98bf80738af49d83968db93821812b0cb77a58e49640b59f0cb2da23c8191890',
  u: '431df8a622f6736a13d59436f67c9f81a7d0c9e5e442ec9e83c6aac3d840b133',
  K: '9cc3650c7e24001566e1484eca46e368c186e2115dde141a74c59092cde38471',
  M1: 'EQDLMKbW81keTdUHi6z7BWmPogkbTWO9PPzJPUamJag=',
  M2: 'URJWz85XuG/TXAU898Wf8nb+LcGFfD9gjtfUC506Lbg=',
  v: 'oQKqzrgU7l8pU0JhW8Ow41CiU8t6h4XWycwphdy/jJ5JiB/zVuNo6s+MgrafAIV/NnGJ8PRH/4hSKw+X5hRHJ457lsToALkvVLODqJ2zCfohKPpsNeRPiMVUPFA9Ge8R0sEZAhZk/fT6NJZGUc+wJA0Ykh1wB/8eaE/WA7jsH+bJ76lYDDmroetWe2z1yA1DbQZS01uuA2TukXfjlvqs1kZvOnYOc4hnSnWuK5flNYxssCslPU1Bpn4NSLm3qsGjhxj5qQNF85yVtqKZtfMGQTrvR/Irzu+HKJ2XUNeVAwFr5xef1ux0+gaPiscHPukslrbvJJhpvZjZw8I7p9tG2A==',
  A: 'S3APjUjmnJquQMaErHx8AxIeK3YC60w1FIBMytoO1AGRk6NR7MZab4VO3pHrCW5yGyLXAcetxk6c7azXXy4muy9eRd1T3I2+r//oKqSfygVzREaRISU3pzz4DiUDklggWn7fR0mzCtryWHfGL80J1mE1mLzUuvKpcnpTcGongUiZKyq7I61dUS0mnhbKEbwIlbWjtexHIc3kCow5x5bpTwvobbvrM9pwNwGJg5Iauj9QUxldWsHaTlZ+PA512eBgn5LoUGV7K+R3H0FbnKzFweztwwEzv2R09QIsZRnXgHYMpNjTuWawNL1zh3wbOzP0dLnDxSmaGWjz5s07/oREWg==',
  B: 'AsvjmCM3FGXIkdHDd2UuBBaATk/6Nn32JGhq7McecQ1Jjpbt0cH6CVQ/K5VTlDL1s1vxXTBb4CjFg0mTHXHNl09ODcVWNPn2LlUnTa38PVs0EOPejf8AOYZMOrGm79nhjG+lkhR4KWQeBkZ5VQWUj6Oa07l0TtBywFf/n/5wlwUkhRgAZyht7zqzFoR+uPgM0n+Yqw2gzsMt/3vwVOrf8S2NErXAhdtbX4g6bDRKgNCmr05Gkly4K0OBoLILqX93/tlI54bWjCU6aOpstVM2CDmblUKcoP4NDP6JT1NU92dOkTAtWLej2JyM4ErBulBpZFlvuqFXoQJECBILNT91ZQ==',
};

const salt = Buffer.from(VECTOR.salt, 'hex');

/** The server's side of srp.md, for cross-checking: B from b and v, and its S. */
function serverSide(v, b, k, A, u) {
  const B = (k * v + srp.modPow(srp.g, b, srp.N)) % srp.N;
  const S = A === undefined ? undefined : srp.modPow((A * srp.modPow(v, u, srp.N)) % srp.N, b, srp.N);
  return { B, S };
}

/** The server's start answer for the vector (what the page reads). */
function startAnswer(withB) {
  const parameters = {
    i: VECTOR.I,
    n: b64(srp.bytesOf(srp.N)),
    g: 2,
    hashAlgorithm: 'SHA-256',
    salt: VECTOR.saltB64url,
  };
  if (withB) parameters.serverPublicKey = VECTOR.B;
  return { type: 'SRP', parameters };
}

test('the interop vector, value by value', async () => {
  const k = await srp.multiplier();
  assert.equal(k.toString(16), VECTOR.k, 'k');
  const x = await srp.derivePrivateKey(VECTOR.I, VECTOR.P, salt);
  assert.equal(x.toString(16), VECTOR.x, 'x');
  const v = srp.verifierOf(x);
  assert.equal(b64(srp.bytesOf(v)), VECTOR.v, 'v');
  const a = big(VECTOR.a);
  const A = srp.publicEphemeral(a);
  assert.equal(b64(srp.bytesOf(A)), VECTOR.A, 'A');
  const { B } = serverSide(v, big(VECTOR.b), k);
  assert.equal(b64(srp.bytesOf(B)), VECTOR.B, 'B (the server side of the formulas)');
  const u = await srp.scrambler(A, B);
  assert.equal(u.toString(16), VECTOR.u, 'u');
  const K = await srp.sessionKey(srp.clientPremaster(B, k, x, a, u));
  assert.equal(hex(K), VECTOR.K, 'K');
  const M1 = await srp.clientProof(VECTOR.I, salt, A, B, K);
  assert.equal(b64(M1), VECTOR.M1, 'M1');
  const M2 = await srp.serverProof(A, M1, K);
  assert.equal(b64(M2), VECTOR.M2, 'M2');
});

test('the page-level calls produce the vector from the start answers', async () => {
  const reg = await srp.registrationData(srp.readParameters(startAnswer(false)), VECTOR.P);
  assert.deepEqual(reg, { verifier: VECTOR.v });
  const params = srp.readParameters(startAnswer(true));
  const proof = await srp.verificationData(params, VECTOR.P, big(VECTOR.a));
  assert.deepEqual(proof.request, { a: VECTOR.A, m1: VECTOR.M1 });
  assert.ok(srp.serverProofMatches(proof.expectedM2, VECTOR.M2));
  assert.ok(!srp.serverProofMatches(proof.expectedM2, VECTOR.M1), 'another proof does not match');
  assert.ok(!srp.serverProofMatches(proof.expectedM2, 'not base64!'));
  const wrong = await srp.verificationData(params, 'Tr0ub4dor&4', big(VECTOR.a));
  assert.notEqual(wrong.request.m1, VECTOR.M1, 'a wrong passcode gives another M1');
});

test('an A of 255 bytes is sent minimal and pads where srp.md pads', async () => {
  const a = big('3e969c08e0286226efa7160b0bbfe947647f81725a5803600b5b0ce185012d54');
  const A = srp.publicEphemeral(a);
  assert.equal(srp.bytesOf(A).length, 255);
  assert.equal(srp.pad(A).length, 256);
  assert.equal(srp.pad(A)[0], 0);
  const k = await srp.multiplier();
  const x = await srp.derivePrivateKey(VECTOR.I, VECTOR.P, salt);
  const v = srp.verifierOf(x);
  const b = big(VECTOR.b);
  const { B } = serverSide(v, b, k);
  const u = await srp.scrambler(A, B);
  const clientK = await srp.sessionKey(srp.clientPremaster(B, k, x, a, u));
  const { S } = serverSide(v, b, k, A, u);
  assert.equal(hex(clientK), hex(await srp.sessionKey(S)), 'client and server agree on K');
  const proof = await srp.verificationData(srp.readParameters(startAnswer(true)), VECTOR.P, a);
  assert.equal(Buffer.from(proof.request.a, 'base64').length, 255);
});

test('random sessions: client and server agree on S', async () => {
  const k = await srp.multiplier();
  for (let i = 0; i < 100; i++) {
    const s = new Uint8Array(16);
    crypto.getRandomValues(s);
    s[0] |= 1;
    const passcode = `pass-${i}-${Math.random()}`;
    const x = await srp.derivePrivateKey(VECTOR.I, passcode, s);
    const v = srp.verifierOf(x);
    const a = srp.randomEphemeral();
    const b = srp.randomEphemeral();
    const A = srp.publicEphemeral(a);
    const { B } = serverSide(v, b, k);
    const u = await srp.scrambler(A, B);
    const { S } = serverSide(v, b, k, A, u);
    const clientS = srp.clientPremaster(B, k, x, a, u);
    assert.equal(clientS, S, `session ${i}`);
  }
});

test('parameters another group, hash or a zero B would need are refused', () => {
  const cases = [
    [{ ...startAnswer(true), type: 'PAKE' }, 'UNSUPPORTED_PARAMETERS'],
    [{ type: 'SRP', parameters: { ...startAnswer(true).parameters, g: 5 } }, 'UNSUPPORTED_PARAMETERS'],
    [{ type: 'SRP', parameters: { ...startAnswer(true).parameters, hashAlgorithm: 'SHA-1' } }, 'UNSUPPORTED_PARAMETERS'],
    [{ type: 'SRP', parameters: { ...startAnswer(true).parameters, n: b64(srp.bytesOf(srp.N - 2n)) } }, 'UNSUPPORTED_PARAMETERS'],
    [{ type: 'SRP', parameters: { ...startAnswer(true).parameters, serverPublicKey: b64(srp.bytesOf(srp.N)) } }, 'BAD_SERVER_KEY'],
    [{ type: 'SRP', parameters: { ...startAnswer(true).parameters, salt: '$$$' } }, 'BAD_ENCODING'],
  ];
  for (const [info, code] of cases) {
    assert.throws(() => srp.readParameters(info), (e) => e.code === code, JSON.stringify(info).slice(0, 80));
  }
});

test('base64 reads every spelling the server accepts', () => {
  const bytes = Uint8Array.from([0xfb, 0xff, 0x00, 0x3e, 0x3f]);
  for (const text of ['+/8APj8=', '+/8APj8', '-_8APj8=', '-_8APj8']) {
    assert.deepEqual(srp.fromBase64(text, 'f'), bytes, text);
  }
  assert.equal(srp.toBase64(bytes), '+/8APj8=');
});
