//! The runtime's random source, and what it draws from it: IDs (instances, process tokens) in
//! the product's one ID format (`idflow-ids`), step seeds, a marker key for a temporary store.

use std::sync::{Mutex, PoisonError};

use idflow_engine::StepSeed;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

/// The runtime's random source: ChaCha20 seeded from the operating system, or from a fixed seed
/// so that tests and dry runs are reproducible.
pub(crate) struct RandomSource {
    rng: Mutex<ChaCha20Rng>,
    seeded: bool,
}

impl RandomSource {
    pub(crate) fn new(seed: Option<u64>) -> RandomSource {
        let rng = match seed {
            Some(s) => ChaCha20Rng::seed_from_u64(s),
            None => ChaCha20Rng::from_entropy(),
        };
        RandomSource {
            rng: Mutex::new(rng),
            seeded: seed.is_some(),
        }
    }

    /// Whether the source repeats a fixed sequence (a seed was given): its IDs may then collide
    /// with those of an earlier run on the same store.
    pub(crate) fn is_seeded(&self) -> bool {
        self.seeded
    }

    pub(crate) fn fill(&self, buf: &mut [u8]) {
        // A panic while holding the lock cannot leave a ChaCha state half-updated in a way that
        // matters, so a poisoned lock is simply taken over.
        self.rng
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .fill_bytes(buf);
    }

    /// A fresh 26-character ID.
    pub(crate) fn new_id(&self) -> String {
        let mut bytes = [0u8; 16];
        self.fill(&mut bytes);
        idflow_ids::id_from_bytes(&bytes)
    }

    /// A fresh step seed, of the kind new instances get: where their step IDs come from.
    pub(crate) fn step_seed(&self) -> StepSeed {
        let mut key = [0u8; StepSeed::KEYED_LEN];
        self.fill(&mut key);
        StepSeed::keyed(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_26_base32_characters_and_distinct() {
        let source = RandomSource::new(None);
        let a = source.new_id();
        let b = source.new_id();
        assert_eq!(a.len(), idflow_ids::ID_LENGTH);
        assert!(idflow_ids::is_id(&a), "{a}");
        assert_ne!(a, b);
        let decoded = data_encoding::BASE32_NOPAD
            .decode(a.as_bytes())
            .expect("decodes");
        assert_eq!(decoded.len(), 16);
    }

    #[test]
    fn seeded_sources_repeat() {
        assert_eq!(
            RandomSource::new(Some(7)).new_id(),
            RandomSource::new(Some(7)).new_id()
        );
        assert_ne!(
            RandomSource::new(Some(7)).new_id(),
            RandomSource::new(Some(8)).new_id()
        );
    }
}
