//! Thousands of random registrations and authentications between the Rust client and the server
//! operations: random users, salts, passcodes (any Unicode), ephemerals; a wrong passcode every so
//! often must fail and get no `M2`.

use crate::common::*;
use idflow_identity::{client, RefusalCode, UserRef};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

fn random_passcode(rng: &mut ChaCha20Rng) -> String {
    let len = rng.gen_range(1..=32);
    (0..len)
        .map(|_| match rng.gen_range(0..4) {
            0 => rng.gen_range('a'..='z'),
            1 => rng.gen_range('A'..='Z'),
            2 => rng.gen_range('0'..='9'),
            _ => rng.gen_range('\u{21}'..='\u{2FF}'),
        })
        .collect()
}

const RUNS: usize = 5000;

#[test]
fn five_thousand_random_registrations_and_authentications() {
    let f = fixture_with(
        42,
        idflow_identity::PasscodePolicy {
            requirements: Default::default(),
            max_failed_attempts: 0,
            ..passcode_policy()
        },
        totp_policy(),
    );
    let mut rng = ChaCha20Rng::seed_from_u64(4242);
    let mut wrong_refused = 0;
    for run in 0..RUNS {
        let user_id = add_user(&f, &format!("user-{run}"));
        let passcode = random_passcode(&mut rng);
        let start = f
            .identity
            .start_passcode_registration(TENANT, STORE, UserRef::Id(&user_id), POLICY)
            .expect("start registration");
        let request = client::register(&start, &passcode).expect("register");
        f.identity
            .complete_passcode_registration(TENANT, STORE, &start.session_id, &request)
            .expect("complete registration");

        let start = f
            .identity
            .start_passcode_authentication(TENANT, STORE, UserRef::Id(&user_id), POLICY)
            .expect("start authentication");
        let attempt = if run % 50 == 49 {
            format!("{passcode}x")
        } else {
            passcode.clone()
        };
        let pending = client::authenticate(&start, &attempt, &mut rng).expect("client proof");
        let result = f.identity.complete_passcode_authentication(
            TENANT,
            STORE,
            &start.session_id,
            pending.request(),
        );
        if attempt == passcode {
            let answer = result.unwrap_or_else(|e| panic!("run {run}: {e}"));
            pending
                .verify_server(&answer)
                .unwrap_or_else(|e| panic!("run {run}: {e}"));
        } else {
            let refused = result.expect_err("a wrong passcode must fail");
            assert_eq!(
                refused.code(),
                Some(RefusalCode::VerificationFailed),
                "run {run}"
            );
            wrong_refused += 1;
        }
    }
    assert_eq!(wrong_refused, RUNS / 50);
}
