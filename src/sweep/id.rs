//! Run identity (method §4): a hash of the full normalized config, so the same run is the same
//! file whichever sweep asks for it. Normalization fills defaults and clears fields that do not
//! apply; floats are serialized in their shortest round-trip form, and grid ranges are rounded
//! to 12 significant digits when generated, so equal configs give equal text.

use crate::config::RunConfig;
use sha2::{Digest, Sha256};

/// First 16 hex digits (64 bits) of the SHA-256 of the normalized config's JSON.
pub fn run_id(normalized: &RunConfig) -> String {
    id_of_key(run_key(normalized))
}

/// The run id of a [`run_key`]: its 16 hex digits.
pub fn id_of_key(key: u64) -> String {
    format!("{key:016x}")
}

/// The 64 bits [`run_id`] spells in hex: a compact key for sets of runs.
pub fn run_key(normalized: &RunConfig) -> u64 {
    let json = serde_json::to_string(normalized).expect("a config always serializes");
    let digest = Sha256::digest(json.as_bytes());
    u64::from_be_bytes([
        digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_configs_equal_ids() {
        let a = RunConfig {
            lr: Some(0.1),
            ..RunConfig::default()
        }
        .normalized()
        .unwrap();
        let b = RunConfig {
            lr: Some(0.1),
            depth: Some(5),
            ..RunConfig::default()
        }
        .normalized()
        .unwrap();
        assert_eq!(run_id(&a), run_id(&b), "defaults filled");
        let c = RunConfig {
            lr: Some(0.1),
            seed_batch: 1,
            ..RunConfig::default()
        }
        .normalized()
        .unwrap();
        assert_ne!(run_id(&a), run_id(&c));
        assert_eq!(run_id(&a).len(), 16);
    }
}
