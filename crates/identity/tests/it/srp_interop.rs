//! The srp.md interop vector, value by value, through the SRP functions and through the server
//! operations with the Rust client; and the 255-byte `A` case against an independent oracle.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use idflow_identity::model::{UserRef, UserStatus};
use idflow_identity::ops::{self, Entropy};
use idflow_identity::policy::PasscodePolicy;
use idflow_identity::{client, srp, wire, Error};
use idflow_store::Store;
use num_bigint::BigUint;
use sha2::{Digest, Sha256};

const I: &str = "UGIRW7QN727EIV2XLXG4YH42N4";
const P: &str = "Tr0ub4dor&3";
const SALT: &str = "beb25379d1a8581eb5a727673a2441ee";
const SALT_URL: &str = "vrJTedGoWB61pydnOiRB7g";
const A_SECRET: &str = "60975527035cf2ad1989806f0407210bc81edc04e2762a56afd529ddda2d4393";
const B_SECRET: &str = "e487cb59d31ac550471e81f00f6928e01dda08e974a004f49e61f5d105284d20";
const K_MULT: &str = "5b9e8ef059c6b32ea59fc1d322d37f04aa30bae5aa9003b8321e21ddb04e300";
const X: &str = "98bf80738af49d83968db93821812b0cb77a58e49640b59f0cb2da23c8191890";
const U: &str = "431df8a622f6736a13d59436f67c9f81a7d0c9e5e442ec9e83c6aac3d840b133";
const KEY: &str = "9cc3650c7e24001566e1484eca46e368c186e2115dde141a74c59092cde38471";
const M1: &str = "EQDLMKbW81keTdUHi6z7BWmPogkbTWO9PPzJPUamJag=";
const M2: &str = "URJWz85XuG/TXAU898Wf8nb+LcGFfD9gjtfUC506Lbg=";
const V: &str = "oQKqzrgU7l8pU0JhW8Ow41CiU8t6h4XWycwphdy/jJ5JiB/zVuNo6s+MgrafAIV/NnGJ8PRH/4hSKw+X5hRHJ457lsToALkvVLODqJ2zCfohKPpsNeRPiMVUPFA9Ge8R0sEZAhZk/fT6NJZGUc+wJA0Ykh1wB/8eaE/WA7jsH+bJ76lYDDmroetWe2z1yA1DbQZS01uuA2TukXfjlvqs1kZvOnYOc4hnSnWuK5flNYxssCslPU1Bpn4NSLm3qsGjhxj5qQNF85yVtqKZtfMGQTrvR/Irzu+HKJ2XUNeVAwFr5xef1ux0+gaPiscHPukslrbvJJhpvZjZw8I7p9tG2A==";
const A_PUB: &str = "S3APjUjmnJquQMaErHx8AxIeK3YC60w1FIBMytoO1AGRk6NR7MZab4VO3pHrCW5yGyLXAcetxk6c7azXXy4muy9eRd1T3I2+r//oKqSfygVzREaRISU3pzz4DiUDklggWn7fR0mzCtryWHfGL80J1mE1mLzUuvKpcnpTcGongUiZKyq7I61dUS0mnhbKEbwIlbWjtexHIc3kCow5x5bpTwvobbvrM9pwNwGJg5Iauj9QUxldWsHaTlZ+PA512eBgn5LoUGV7K+R3H0FbnKzFweztwwEzv2R09QIsZRnXgHYMpNjTuWawNL1zh3wbOzP0dLnDxSmaGWjz5s07/oREWg==";
const B_PUB: &str = "AsvjmCM3FGXIkdHDd2UuBBaATk/6Nn32JGhq7McecQ1Jjpbt0cH6CVQ/K5VTlDL1s1vxXTBb4CjFg0mTHXHNl09ODcVWNPn2LlUnTa38PVs0EOPejf8AOYZMOrGm79nhjG+lkhR4KWQeBkZ5VQWUj6Oa07l0TtBywFf/n/5wlwUkhRgAZyht7zqzFoR+uPgM0n+Yqw2gzsMt/3vwVOrf8S2NErXAhdtbX4g6bDRKgNCmr05Gkly4K0OBoLILqX93/tlI54bWjCU6aOpstVM2CDmblUKcoP4NDP6JT1NU92dOkTAtWLej2JyM4ErBulBpZFlvuqFXoQJECBILNT91ZQ==";
const A_SECRET_255: &str = "3e969c08e0286226efa7160b0bbfe947647f81725a5803600b5b0ce185012d54";

fn hex(s: &str) -> Vec<u8> {
    let s = if s.len() % 2 == 1 {
        format!("0{s}")
    } else {
        s.to_string()
    };
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn b64(s: &str) -> Vec<u8> {
    STANDARD.decode(s).expect("base64")
}

fn sha(parts: &[&[u8]]) -> Vec<u8> {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().to_vec()
}

/// srp.md's formulas written out with num-bigint, independent of the crate's arithmetic.
struct Oracle {
    n: BigUint,
    g: BigUint,
}

struct Exchange {
    a_pub: Vec<u8>,
    b_pub: Vec<u8>,
    key: Vec<u8>,
    m1: Vec<u8>,
    m2: Vec<u8>,
}

impl Oracle {
    fn new() -> Oracle {
        Oracle {
            n: BigUint::from_bytes_be(srp::n_bytes()),
            g: BigUint::from(2u8),
        }
    }

    fn pad(&self, x: &BigUint) -> Vec<u8> {
        let bytes = x.to_bytes_be();
        let mut out = vec![0u8; 256 - bytes.len()];
        out.extend_from_slice(&bytes);
        out
    }

    fn exchange(
        &self,
        identity: &str,
        passcode: &str,
        salt: &[u8],
        a: &[u8],
        b: &[u8],
    ) -> Exchange {
        let n = &self.n;
        let k = BigUint::from_bytes_be(&sha(&[&n.to_bytes_be(), &self.pad(&self.g)]));
        let x = BigUint::from_bytes_be(&sha(&[
            salt,
            &sha(&[identity.as_bytes(), b":", passcode.as_bytes()]),
        ]));
        let v = self.g.modpow(&x, n);
        let a = BigUint::from_bytes_be(a);
        let b = BigUint::from_bytes_be(b);
        let a_pub = self.g.modpow(&a, n);
        let b_pub = (&k * &v + self.g.modpow(&b, n)) % n;
        let u = BigUint::from_bytes_be(&sha(&[&self.pad(&a_pub), &self.pad(&b_pub)]));
        let s_server = (&a_pub * v.modpow(&u, n)).modpow(&b, n);
        let base = (&b_pub + n - (&k * &v) % n) % n;
        let s_client = base.modpow(&(&a + &u * &x), n);
        assert_eq!(s_server, s_client, "the oracle agrees with itself");
        let key = sha(&[&s_server.to_bytes_be()]);
        let h_n = sha(&[&n.to_bytes_be()]);
        let h_g = sha(&[&self.pad(&self.g)]);
        let xor: Vec<u8> = h_n.iter().zip(&h_g).map(|(p, q)| p ^ q).collect();
        let m1 = sha(&[
            &xor,
            &sha(&[identity.as_bytes()]),
            salt,
            &a_pub.to_bytes_be(),
            &b_pub.to_bytes_be(),
            &key,
        ]);
        let m2 = sha(&[&a_pub.to_bytes_be(), &m1, &key]);
        Exchange {
            a_pub: a_pub.to_bytes_be(),
            b_pub: b_pub.to_bytes_be(),
            key,
            m1,
            m2,
        }
    }
}

#[test]
fn the_vector_value_by_value() {
    let salt = hex(SALT);
    let a = hex(A_SECRET);
    let b = hex(B_SECRET);
    assert_eq!(srp::k_bytes().to_vec(), hex(K_MULT), "k");
    assert_eq!(srp::compute_x(&salt, I, P).to_vec(), hex(X), "x");
    let v = srp::compute_verifier(&salt, I, P);
    assert_eq!(v, b64(V), "v");
    assert_eq!(srp::client_public(&a), b64(A_PUB), "A");
    let b_pub = srp::server_public(&v, &b).expect("B");
    assert_eq!(b_pub, b64(B_PUB), "B");
    assert_eq!(
        srp::scrambler(&b64(A_PUB), &b_pub).expect("u").to_vec(),
        hex(U),
        "u"
    );
    let server = srp::server_keys(I, &salt, &v, &b, &b64(A_PUB), &b_pub).expect("server keys");
    assert_eq!(server.key().to_vec(), hex(KEY), "K (server)");
    assert_eq!(server.m1().to_vec(), b64(M1), "M1 (server)");
    assert_eq!(server.m2().to_vec(), b64(M2), "M2 (server)");
    let (a_pub, client) = srp::client_keys(I, P, &salt, &a, &b_pub).expect("client keys");
    assert_eq!(a_pub, b64(A_PUB));
    assert_eq!(client.key().to_vec(), hex(KEY), "K (client)");
    assert_eq!(client.m1().to_vec(), b64(M1), "M1 (client)");
    assert!(server.client_proof_matches(client.m1()));
    assert!(client.server_proof_matches(server.m2()));
    let oracle = Oracle::new().exchange(I, P, &salt, &a, &b);
    assert_eq!(oracle.m1, b64(M1), "the oracle reproduces the vector too");
}

/// Entropy that makes the server draw the vector's user ID, salt and `b`.
fn vector_entropy() -> Entropy {
    let mut bytes = [0u8; Entropy::LEN];
    let id = data_encoding::BASE32_NOPAD
        .decode(I.as_bytes())
        .expect("id");
    bytes[0..16].copy_from_slice(&id);
    bytes[16..32].copy_from_slice(&hex(SALT));
    bytes[32..64].copy_from_slice(&hex(B_SECRET));
    Entropy::from_bytes(bytes)
}

struct Server {
    store: Store,
    sessions: std::sync::atomic::AtomicU8,
}

const T: &str = "tenant";
const S: &str = "store";
const POLICY: &str = "pin";
const NOW: i64 = 1_700_000_000_000;

impl Server {
    fn run<R>(
        &self,
        f: impl Fn(&idflow_store::Tx<'_>) -> idflow_identity::OpResult<R>,
    ) -> Result<R, Error> {
        match self.store.transact(f) {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(refusal)) => Err(Error::Refused(refusal)),
            Err(failure) => Err(Error::Failed(failure)),
        }
    }

    /// A store with the vector's user and its passcode registered with the vector's salt.
    fn with_vector_user() -> Server {
        let server = Server {
            store: idflow_pgtest::temporary_store(),
            sessions: std::sync::atomic::AtomicU8::new(1),
        };
        let entropy = vector_entropy();
        let policy = PasscodePolicy {
            name: POLICY.into(),
            requirements: Default::default(),
            max_failed_attempts: 5,
            session_lifetime_seconds: 300,
            temporary_lock_seconds: 0,
        };
        server
            .run(|tx| ops::create_store(tx, T, S, NOW))
            .expect("store");
        server
            .run(|tx| ops::create_passcode_policy(tx, T, S, &policy))
            .expect("policy");
        let user = server
            .run(|tx| ops::add_user(tx, T, S, "vector", UserStatus::Active, NOW, &entropy))
            .expect("user");
        assert_eq!(user.id, I);
        let start = server
            .run(|tx| {
                ops::start_passcode_registration(tx, T, S, UserRef::Id(I), POLICY, NOW, &entropy)
            })
            .expect("start registration");
        assert_eq!(start.algorithm_info.parameters.salt, SALT_URL);
        assert_eq!(start.algorithm_info.parameters.i, I);
        assert_eq!(b64(&start.algorithm_info.parameters.n), srp::n_bytes());
        let request = client::register(&start, P).expect("register");
        assert_eq!(request.srp_registration_data.verifier, V);
        server
            .run(|tx| {
                ops::complete_passcode_registration(tx, T, S, &start.session_id, &request, NOW)
            })
            .expect("complete registration");
        server
    }

    fn start_authentication(&self) -> wire::PasscodeSessionStart {
        self.start_authentication_with(Entropy::from_bytes)
    }

    /// The vector's client (its `a`) answers `start`, which must carry the vector's `B`: every
    /// value on the wire is the vector's (`A`, `M1`, the key, `M2`), the session completes, and
    /// the client accepts the server's `M2`.
    fn completes_as_the_vector(&self, start: &wire::PasscodeSessionStart) {
        assert_eq!(
            start.algorithm_info.parameters.server_public_key.as_deref(),
            Some(B_PUB)
        );
        let pending =
            client::authenticate_with_ephemeral(start, P, &hex(A_SECRET)).expect("client");
        assert_eq!(pending.request().srp_verification_data.a, A_PUB);
        assert_eq!(pending.request().srp_verification_data.m1, M1);
        assert_eq!(pending.session_key().to_vec(), hex(KEY));
        let answer = self
            .run(|tx| {
                ops::complete_passcode_authentication(
                    tx,
                    T,
                    S,
                    &start.session_id,
                    pending.request(),
                    NOW,
                )
            })
            .expect("authenticated");
        assert_eq!(answer.algorithm_info.parameters.m2, M2);
        assert_eq!(answer.algorithm_info.kind, "SRP");
        assert_eq!(answer.algorithm_info.parameters.hash_algorithm, "SHA-256");
        pending.verify_server(&answer).expect("M2 verifies");
        assert!(answer.user.last_successful_authentication.is_some());
    }

    /// As [`Server::start_authentication`], `make` turning the bytes into the [`Entropy`] (with
    /// `g^b` computed before the transaction or not).
    fn start_authentication_with(
        &self,
        make: impl Fn([u8; Entropy::LEN]) -> Entropy,
    ) -> wire::PasscodeSessionStart {
        // A fresh session ID each time (byte 0 counts up), the vector's b always.
        let mut entropy = [0u8; Entropy::LEN];
        entropy[32..64].copy_from_slice(&hex(B_SECRET));
        entropy[0] = self
            .sessions
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let entropy = make(entropy);
        self.run(|tx| {
            ops::start_passcode_authentication(tx, T, S, UserRef::Id(I), POLICY, NOW, &entropy)
        })
        .expect("start authentication")
    }
}

#[test]
fn the_vector_through_the_server_operations_and_the_rust_client() {
    let server = Server::with_vector_user();
    let start = server.start_authentication();
    server.completes_as_the_vector(&start);
}

#[test]
fn the_vector_with_g_to_the_b_computed_before_the_transaction() {
    // The server's half computed ahead, then B = k*v + g^b from the verifier: the vector's B.
    let v = srp::compute_verifier(&hex(SALT), I, P);
    let ephemeral = srp::ServerEphemeral::new(&hex(B_SECRET)).expect("g^b");
    assert_eq!(ephemeral.server_public(&v).expect("B"), b64(B_PUB), "B");
    assert_eq!(ephemeral.b(), hex(B_SECRET).as_slice());
    assert!(
        srp::ServerEphemeral::new(&[]).is_err(),
        "an empty b is refused"
    );
    assert!(
        ephemeral.server_public(&[]).is_err(),
        "an empty verifier is refused"
    );

    // Through the operation: the session stores the b that B was made from (the server's M2
    // is the vector's), and the client's check of M2 passes.
    let server = Server::with_vector_user();
    let start = server.start_authentication_with(|bytes| {
        let entropy = Entropy::from_bytes(bytes).with_server_ephemeral();
        assert!(entropy.has_server_ephemeral());
        entropy
    });
    server.completes_as_the_vector(&start);
}

#[test]
fn a_computed_ephemeral_prints_nothing_of_b() {
    let b = hex(B_SECRET);
    let b_hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    let b_bytes = format!("{b:?}");
    let mut bytes = [0u8; Entropy::LEN];
    bytes[32..64].copy_from_slice(&b);
    let printed = [
        format!("{:?}", srp::ServerEphemeral::new(&b).expect("g^b")),
        format!("{:?}", Entropy::from_bytes(bytes).with_server_ephemeral()),
        format!("{:#?}", Entropy::from_bytes(bytes).with_server_ephemeral()),
    ];
    for text in printed {
        assert!(text.contains("redacted"), "{text}");
        assert!(!text.to_lowercase().contains(&b_hex), "{text}");
        assert!(!text.contains(&b_bytes[1..20]), "{text}");
    }
}

#[test]
fn a_255_byte_a_is_handled_by_client_and_server() {
    let a = hex(A_SECRET_255);
    let a_pub = srp::client_public(&a);
    assert_eq!(a_pub.len(), 255, "this a gives a 255-byte A");
    let oracle = Oracle::new().exchange(I, P, &hex(SALT), &a, &hex(B_SECRET));
    assert_eq!(oracle.a_pub, a_pub);
    assert_eq!(oracle.b_pub, b64(B_PUB));

    let server = Server::with_vector_user();
    let start = server.start_authentication();
    let pending = client::authenticate_with_ephemeral(&start, P, &a).expect("client");
    assert_eq!(
        b64(&pending.request().srp_verification_data.a),
        oracle.a_pub
    );
    assert_eq!(b64(&pending.request().srp_verification_data.m1), oracle.m1);
    assert_eq!(pending.session_key().to_vec(), oracle.key);
    let answer = server
        .run(|tx| {
            ops::complete_passcode_authentication(
                tx,
                T,
                S,
                &start.session_id,
                pending.request(),
                NOW,
            )
        })
        .expect("authenticated");
    assert_eq!(b64(&answer.algorithm_info.parameters.m2), oracle.m2);
    pending.verify_server(&answer).expect("M2 verifies");

    // The same A sent padded to 256 bytes (a client that always sends PAD(A)) is the same number.
    let start = server.start_authentication();
    let pending = client::authenticate_with_ephemeral(&start, P, &a).expect("client");
    let mut padded = vec![0u8];
    padded.extend_from_slice(&a_pub);
    let request = wire::CompletePasscodeAuthenticationRequest {
        srp_verification_data: wire::SrpVerificationData {
            a: STANDARD.encode(&padded),
            m1: pending.request().srp_verification_data.m1.clone(),
        },
    };
    let answer = server
        .run(|tx| ops::complete_passcode_authentication(tx, T, S, &start.session_id, &request, NOW))
        .expect("padded A authenticates");
    pending.verify_server(&answer).expect("M2 verifies");
}

#[test]
fn every_base64_spelling_of_the_proof_is_accepted() {
    let server = Server::with_vector_user();
    let respell: [fn(&str) -> String; 3] = [
        |s| s.trim_end_matches('=').to_string(),
        |s| s.replace('+', "-").replace('/', "_"),
        |s| {
            s.replace('+', "-")
                .replace('/', "_")
                .trim_end_matches('=')
                .to_string()
        },
    ];
    for spell in respell {
        let start = server.start_authentication();
        let pending =
            client::authenticate_with_ephemeral(&start, P, &hex(A_SECRET)).expect("client");
        let data = &pending.request().srp_verification_data;
        let request = wire::CompletePasscodeAuthenticationRequest {
            srp_verification_data: wire::SrpVerificationData {
                a: spell(&data.a),
                m1: spell(&data.m1),
            },
        };
        let answer = server
            .run(|tx| {
                ops::complete_passcode_authentication(tx, T, S, &start.session_id, &request, NOW)
            })
            .expect("authenticated");
        assert_eq!(answer.algorithm_info.parameters.m2, M2);
    }
}
