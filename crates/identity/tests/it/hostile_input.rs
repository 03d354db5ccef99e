//! No input may panic: arbitrary strings and bytes in every field a client controls come back as
//! refusals (never failures), and arbitrary policies and passcodes are checked without panicking.

use crate::common::*;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use idflow_identity::policy::{self, PasscodeRequirements, RegexRule};
use idflow_identity::{client, wire, Error, UserRef};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// A string that is either arbitrary text or base64 of arbitrary bytes (up to 300 of them).
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(|b| STANDARD.encode(b)),
    ]
}

fn refused<T: std::fmt::Debug>(result: Result<T, Error>) -> bool {
    matches!(result, Err(Error::Refused(_)))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_proofs_and_verifiers_are_refused(a in field(), m1 in field(), verifier in field()) {
        let f = fixture(90);
        let user_id = add_user(&f, "target");
        let user = UserRef::Id(&user_id);
        let start = f.identity.start_passcode_registration(TENANT, STORE, user, POLICY).expect("start");
        let registration = wire::CompletePasscodeRegistrationRequest {
            srp_registration_data: wire::SrpRegistrationData { verifier: verifier.clone() },
        };
        // A random verifier may be a valid group element; then it registers, else it is refused.
        let outcome = f.identity.complete_passcode_registration(TENANT, STORE, &start.session_id, &registration);
        prop_assert!(outcome.is_ok() || refused(outcome));
        let _ = f.identity.deregister_passcode(TENANT, STORE, user, POLICY);
        let start = f.identity.start_passcode_registration(TENANT, STORE, user, POLICY).expect("start");
        let request = client::register(&start, "Val1d-passcode").expect("client");
        f.identity.complete_passcode_registration(TENANT, STORE, &start.session_id, &request).expect("registered");

        let start = f.identity.start_passcode_authentication(TENANT, STORE, user, POLICY).expect("start");
        let proof = wire::CompletePasscodeAuthenticationRequest {
            srp_verification_data: wire::SrpVerificationData { a: a.clone(), m1: m1.clone() },
        };
        prop_assert!(refused(f.identity.complete_passcode_authentication(TENANT, STORE, &start.session_id, &proof)));
        let renewal = f.identity.start_passcode_renewal(TENANT, STORE, user, POLICY).expect("start renewal");
        let request = wire::CompletePasscodeRenewalRequest {
            srp_registration_data: wire::SrpRegistrationData { verifier },
            srp_verification_data: wire::SrpVerificationData { a, m1 },
        };
        prop_assert!(refused(f.identity.complete_passcode_renewal(TENANT, STORE, &renewal.session_id, &request)));
    }

    #[test]
    fn arbitrary_names_codes_and_ids_are_refused(text in any::<String>()) {
        let f = fixture(91);
        let user_id = add_user(&f, "someone");
        prop_assert!(refused(f.identity.get_user(TENANT, STORE, UserRef::Id(&text))));
        prop_assert!(refused(f.identity.get_user(TENANT, &text, UserRef::ExternalId(&text))));
        prop_assert!(refused(f.identity.verify_totp(TENANT, STORE, UserRef::Id(&user_id), TOTP_POLICY, &text)));
        prop_assert!(refused(f.identity.complete_totp_registration(TENANT, STORE, &text, &text)));
        prop_assert!(refused(f.identity.start_passcode_authentication(TENANT, STORE, UserRef::Id(&user_id), &text)));
        let added = f.identity.add_user(TENANT, STORE, &text, idflow_identity::UserStatus::Active);
        prop_assert!(added.is_ok() || refused(added));
    }

    #[test]
    fn arbitrary_requirements_and_passcodes_never_panic(
        passcode in any::<String>(),
        pattern in any::<String>(),
        minimum in 0u32..50,
        maximum in 0u32..50,
        variety in 0u32..6,
    ) {
        let requirements = PasscodeRequirements {
            minimum_length: minimum,
            maximum_length: maximum,
            character_variety: variety,
            required_regexes: vec![RegexRule { pattern: pattern.clone(), error: String::new() }],
            allowed_regexes: vec![RegexRule { pattern: pattern.clone(), error: String::new() }],
            disallowed_regexes: vec![RegexRule { pattern, error: String::new() }],
            ..PasscodeRequirements::default()
        };
        let _ = requirements.validate();
        let unmet = policy::check_passcode(&requirements, &passcode);
        prop_assert!(unmet.iter().all(|u| !u.message.is_empty()));
    }
}

#[test]
fn a_hostile_start_answer_is_refused_by_the_client() {
    let f = fixture(92);
    let user_id = add_user(&f, "client-side");
    let start = f
        .identity
        .start_passcode_registration(TENANT, STORE, UserRef::Id(&user_id), POLICY)
        .expect("start");
    let mut rng = ChaCha20Rng::seed_from_u64(92);
    type Tamper = Box<dyn Fn(&mut wire::PasscodeSessionStart)>;
    let tamper: Vec<(&str, Tamper)> = vec![
        ("type", Box::new(|s| s.algorithm_info.kind = "PAKE".into())),
        ("g", Box::new(|s| s.algorithm_info.parameters.g = 5)),
        (
            "hash",
            Box::new(|s| s.algorithm_info.parameters.hash_algorithm = "MD5".into()),
        ),
        (
            "n",
            Box::new(|s| s.algorithm_info.parameters.n = STANDARD.encode([0xffu8; 256])),
        ),
        (
            "salt",
            Box::new(|s| s.algorithm_info.parameters.salt = "!!".into()),
        ),
        (
            "B = 0",
            Box::new(|s| {
                s.algorithm_info.parameters.server_public_key = Some(STANDARD.encode([0u8]))
            }),
        ),
        (
            "B = N",
            Box::new(|s| {
                s.algorithm_info.parameters.server_public_key =
                    Some(s.algorithm_info.parameters.n.clone())
            }),
        ),
        (
            "no B",
            Box::new(|s| s.algorithm_info.parameters.server_public_key = None),
        ),
    ];
    for (case, change) in tamper {
        let mut hostile = start.clone();
        hostile.algorithm_info.parameters.server_public_key = Some(STANDARD.encode([7u8; 256]));
        change(&mut hostile);
        let result = client::authenticate(&hostile, "Any-passc0de", &mut rng);
        assert!(result.is_err(), "{case}");
    }
}
