//! The engine every target runs against, and its reset between inputs.
//!
//! One engine per process (opening runs the known-answer tests), over a
//! `MemoryStore` and an ephemeral `SoftwareSealer` (the host software sealer
//! with a random in-memory wrapping key: the same AES-256-GCM sealing code
//! as the key-file sealer, without the file). It holds a fixed set of keys,
//! all imported from published vectors, owned by caller 0. After each input
//! [`Fixture::reset`] checks, cheaply, that the keys are the fixed set again
//! (same ids, and the single-use key unused) and rebuilds the engine when an
//! input changed them or after [`REBUILD_EVERY`] inputs (the audit log of a
//! memory store grows with every operation). So each input starts from the
//! same state, and a crash reproduces from its input alone.

use crate::vectors;
use keyhold_core::{
    AndroidPackage, Caller, Config, HdScheme, ImportMaterial, KeyId, KeyInfo, KeyOptions,
    KeyPolicy, KeyRef, Keyhold, MemoryStore, Operation, OperationSet, SecretBytes, SoftwareSealer,
};
use std::sync::{Arc, Mutex};

/// Inputs between two rebuilds at most. A rebuild costs about 0.1 s of CPU
/// (known-answer tests, 12 imports); between rebuilds the memory store's
/// audit log grows with every operation, and each `AuditVerify` request
/// walks all of it (with 20 000 the `handle` campaign averaged 23 inputs/s,
/// its slowest input taking 18 s).
pub const REBUILD_EVERY: u64 = 1_000;

/// Executable digest of caller 0 (and of the binary `bound` is bound to).
pub const OWNER_EXE: [u8; 32] = [0x07; 32];
/// Executable digest of caller 1: same uid, another binary.
pub const OTHER_EXE: [u8; 32] = [0x08; 32];

/// The five callers, by index: 0 owner (uid 1000, binary A), 1 same uid with
/// binary B, 2 uid 1001, 3 an Android app, 4 an embedding app.
pub fn callers() -> Vec<Caller> {
    vec![
        Caller::Unix {
            uid: 1000,
            gid: 1000,
            pid: 4242,
            exe_sha256: Some(OWNER_EXE),
        },
        Caller::Unix {
            uid: 1000,
            gid: 1000,
            pid: 4343,
            exe_sha256: Some(OTHER_EXE),
        },
        Caller::Unix {
            uid: 1001,
            gid: 1001,
            pid: 4444,
            exe_sha256: None,
        },
        Caller::android(
            10_123,
            vec![AndroidPackage {
                package_name: "dev.keyhold.fuzz".into(),
                signing_certs: vec![[0x0a; 32]],
                past_signing_certs: vec![[0x0b; 32]],
            }],
        )
        .expect("a one-package Android caller is valid"),
        Caller::Embedded {
            app_id: "dev.keyhold.fuzz.embedded".into(),
        },
    ]
}

/// Owner namespace of caller `index` (callers 0 and 1 share `unix:1000`).
pub fn namespace(index: usize) -> usize {
    index.saturating_sub(1)
}

/// A fixed key of caller 0.
#[derive(Debug, Clone)]
pub struct BaseKey {
    /// Its alias.
    pub alias: &'static str,
    /// Its id in the current engine.
    pub id: KeyId,
    /// Its policy as stored.
    pub info: KeyInfo,
}

/// Aliases of the fixed keys with a special policy (see [`Fixture::build`]).
pub const LIMITED: &str = "k1-once";
/// Bound to caller 0's binary.
pub const BOUND: &str = "bound";
/// HD key restricted to `m/44'/60'` and to derive, sign and get-public-key.
pub const ETH_ONLY: &str = "hd-eth";
/// Its allowed prefix.
pub const ETH_PREFIX: &str = "m/44'/60'";

/// The engine, its callers and its fixed keys.
pub struct Fixture {
    /// The engine.
    pub engine: Keyhold,
    /// See [`callers`].
    pub callers: Vec<Caller>,
    /// Caller 0's fixed keys.
    pub keys: Vec<BaseKey>,
    /// Secret material of the fixed keys (raw keys, seeds, mnemonic, xprv):
    /// none may ever appear in a response.
    pub secrets: Vec<Vec<u8>>,
    inputs: u64,
}

fn raw(algorithm: keyhold_core::Algorithm, secret: &[u8]) -> ImportMaterial {
    ImportMaterial::RawPrivateKey {
        algorithm,
        secret: SecretBytes::copy_from(secret),
    }
}

/// A fresh engine over a memory store and an ephemeral software sealer.
pub fn open_engine() -> Keyhold {
    let sealer = SoftwareSealer::ephemeral().expect("ephemeral sealer");
    Keyhold::open(
        Box::new(MemoryStore::new()),
        Arc::new(sealer),
        Config {
            sealer_retry_delays: Vec::new(),
            ..Config::default()
        },
    )
    .expect("engine opens over a memory store")
}

impl Fixture {
    /// Opens an engine and imports the fixed keys.
    pub fn build() -> Self {
        use keyhold_core::Algorithm as A;
        let engine = open_engine();
        let callers = callers();
        let owner = &callers[0];
        let bip340 = vectors::bip340();
        let ed = vectors::rfc8032();
        let bip39 = &vectors::bip39()[0];
        let bip32 = &vectors::bip32()[0];
        let slip10 = vectors::slip10();
        let p256_secret = p256::SecretKey::from_sec1_der(vectors::openssl("p256-sec1.der"))
            .expect("OpenSSL P-256 SEC1 vector")
            .to_bytes()
            .to_vec();
        let x25519_pkcs8 = vectors::openssl("x25519-pkcs8.der");
        // RFC 8410: the last 32 bytes of the 48-byte PKCS#8 are the secret.
        let x25519_secret = x25519_pkcs8[x25519_pkcs8.len() - 32..].to_vec();
        // No official AES/HMAC key vectors are needed: any fixed bytes do.
        let aes_key: Vec<u8> = (0u8..32).collect();
        let hmac_key: Vec<u8> = (0x40u8..0x60).collect();
        let default = KeyPolicy::default();
        let specs: Vec<(&'static str, ImportMaterial, KeyPolicy, bool)> = vec![
            (
                "k1",
                raw(A::Secp256k1, &bip340[1].secret),
                default.clone(),
                false,
            ),
            (
                LIMITED,
                raw(A::Secp256k1, &bip340[0].secret),
                KeyPolicy {
                    max_uses: Some(1),
                    ..KeyPolicy::default()
                },
                false,
            ),
            (
                BOUND,
                raw(A::Secp256k1, &bip340[2].secret),
                default.clone(),
                true,
            ),
            (
                "p256",
                ImportMaterial::Pkcs8 {
                    data: SecretBytes::copy_from(vectors::openssl("p256-pkcs8.der")),
                    algorithm: None,
                },
                default.clone(),
                false,
            ),
            ("ed", raw(A::Ed25519, &ed[0].secret), default.clone(), false),
            (
                "x",
                ImportMaterial::Pkcs8 {
                    data: SecretBytes::copy_from(x25519_pkcs8),
                    algorithm: None,
                },
                default.clone(),
                false,
            ),
            ("aes", raw(A::Aes256Gcm, &aes_key), default.clone(), false),
            (
                "hmac",
                raw(A::HmacSha256, &hmac_key),
                default.clone(),
                false,
            ),
            (
                "hd",
                ImportMaterial::Mnemonic {
                    phrase: SecretBytes::copy_from(bip39.mnemonic.as_bytes()),
                    passphrase: SecretBytes::copy_from(vectors::BIP39_PASSPHRASE.as_bytes()),
                    scheme: HdScheme::Bip32Secp256k1,
                },
                default.clone(),
                false,
            ),
            (
                "hd-ed",
                ImportMaterial::Seed {
                    seed: SecretBytes::copy_from(&slip10_seed(&slip10, "ed25519")),
                    scheme: HdScheme::Slip10Ed25519,
                },
                default.clone(),
                false,
            ),
            (
                "hd-p256",
                ImportMaterial::Seed {
                    seed: SecretBytes::copy_from(&slip10_seed(&slip10, "nist256p1")),
                    scheme: HdScheme::Slip10P256,
                },
                default.clone(),
                false,
            ),
            (
                ETH_ONLY,
                ImportMaterial::Xprv(SecretBytes::copy_from(bip32.paths[0].1.as_bytes())),
                KeyPolicy {
                    allowed_operations: Some(OperationSet::of(&[
                        Operation::DeriveKey,
                        Operation::Sign,
                        Operation::GetPublicKey,
                    ])),
                    allowed_path_prefixes: vec![
                        keyhold_core::DerivationPath::parse(ETH_PREFIX).expect("prefix"),
                    ],
                    ..KeyPolicy::default()
                },
                false,
            ),
        ];
        let mut keys = Vec::new();
        for (alias, material, policy, bind) in specs {
            let info = engine
                .import_key(
                    owner,
                    material,
                    KeyOptions {
                        alias: alias.into(),
                        policy,
                        bind_to_caller_code: bind,
                    },
                )
                .unwrap_or_else(|e| panic!("fixture key {alias}: {e}"));
            keys.push(BaseKey {
                alias,
                id: info.id,
                info,
            });
        }
        let secrets = vec![
            bip340[1].secret.clone(),
            bip340[0].secret.clone(),
            bip340[2].secret.clone(),
            p256_secret,
            ed[0].secret.clone(),
            x25519_secret,
            aes_key,
            hmac_key,
            bip39.seed.clone(),
            bip39.mnemonic.as_bytes().to_vec(),
            slip10_seed(&slip10, "ed25519"),
            bip32.seed.clone(),
            bip32.paths[0].1.as_bytes().to_vec(),
        ];
        Self {
            engine,
            callers,
            keys,
            secrets,
            inputs: 0,
        }
    }

    /// The fixed key called `alias`.
    pub fn key(&self, alias: &str) -> &BaseKey {
        self.keys
            .iter()
            .find(|k| k.alias == alias)
            .unwrap_or_else(|| panic!("no fixed key {alias}"))
    }

    /// The fixed key a request names, by alias or by id. Aliases compare
    /// case-insensitively (the fixed aliases are lower-case ASCII): where
    /// the core compares them exactly, another case names no key and the
    /// request fails, so this only widens what the checks recognise.
    pub fn named(&self, key: &KeyRef) -> Option<&BaseKey> {
        self.keys.iter().find(|k| match key {
            KeyRef::Alias(a) => a.to_lowercase() == k.alias,
            KeyRef::Id(id) => *id == k.id,
        })
    }

    /// Deletes every key an input created (in any namespace) and reports
    /// whether the engine then holds exactly the fixed keys, the single-use
    /// key still unused. Deleting is much cheaper than rebuilding (opening
    /// runs the known-answer tests and the fixed keys are re-imported).
    fn restore(&self) -> bool {
        for (index, caller) in self.callers.iter().enumerate() {
            if index == 1 {
                continue; // same namespace as caller 0
            }
            let Ok(listed) = self.engine.list_keys(caller) else {
                return false;
            };
            let mut fixed = 0;
            for key in &listed {
                match self.keys.iter().find(|k| k.id == key.id && index == 0) {
                    Some(base) => {
                        if key.policy.max_uses.is_some() && key.usage_count != base.info.usage_count
                        {
                            return false;
                        }
                        fixed += 1;
                    }
                    None => {
                        if self.engine.delete_key(caller, &KeyRef::Id(key.id)).is_err() {
                            return false;
                        }
                    }
                }
            }
            if index == 0 && fixed != self.keys.len() {
                return false;
            }
        }
        true
    }

    /// Brings the engine back to the fixed state after an input.
    pub fn reset(&mut self) {
        self.inputs += 1;
        if self.inputs.is_multiple_of(REBUILD_EVERY) || !self.restore() {
            *self = Self::build();
        }
    }
}

fn slip10_seed(chains: &[vectors::Chain], curve: &str) -> Vec<u8> {
    chains
        .iter()
        .find(|c| c.curve == curve)
        .map(|c| c.seed.clone())
        .unwrap_or_else(|| panic!("no SLIP-0010 {curve} vector"))
}

static FIXTURE: Mutex<Option<Fixture>> = Mutex::new(None);

/// Runs `f` on the process's fixture (built on first use), then resets it.
pub fn with_fixture<R>(f: impl FnOnce(&Fixture) -> R) -> R {
    let mut guard = FIXTURE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let fixture = guard.get_or_insert_with(Fixture::build);
    let out = f(fixture);
    fixture.reset();
    out
}

/// Runs `f` on the fixture without resetting it (targets that clean up
/// after themselves, e.g. by deleting the one key they imported).
pub fn with_fixture_no_reset<R>(f: impl FnOnce(&Fixture) -> R) -> R {
    let mut guard = FIXTURE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let fixture = guard.get_or_insert_with(Fixture::build);
    fixture.inputs += 1;
    if fixture.inputs.is_multiple_of(REBUILD_EVERY) {
        *fixture = Fixture::build();
    }
    f(fixture)
}

/// Alias of the key an import target creates (and deletes again).
pub const IMPORTED: &str = "fuzz-import";

/// Imports `material` as caller 0 and deletes the key again when it was
/// stored, so the fixture is unchanged. Returns what the import returned.
pub fn import_and_delete(
    fixture: &Fixture,
    material: ImportMaterial,
) -> keyhold_core::Result<KeyInfo> {
    let owner = &fixture.callers[0];
    let result = fixture
        .engine
        .import_key(owner, material, KeyOptions::alias(IMPORTED));
    if let Ok(info) = &result {
        fixture
            .engine
            .delete_key(owner, &KeyRef::Id(info.id))
            .unwrap_or_else(|e| panic!("deleting the imported key failed: {e}"));
    }
    result
}
