//! Keyhold keys as PKCS#11 objects: an asymmetric key is a private-key
//! object and a public-key object; an AES or HMAC key is one secret-key
//! object. Every object is a token object, immutable, sensitive and not
//! extractable. Handles are assigned by this module and stay stable for
//! the life of the `C_Initialize` (the daemon's key id is `CKA_ID`).
#![forbid(unsafe_code)]

use crate::der;
use cryptoki_sys::*;
use keyhold_client::core::{Algorithm, KeyId, KeyInfo, KeyOrigin, Operation};
use std::collections::HashMap;

/// The object classes a key appears as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Class {
    Private,
    Public,
    Secret,
}

impl Class {
    fn ck(self) -> CK_OBJECT_CLASS {
        match self {
            Self::Private => CKO_PRIVATE_KEY,
            Self::Public => CKO_PUBLIC_KEY,
            Self::Secret => CKO_SECRET_KEY,
        }
    }
}

/// A key as the daemon described it, plus its uncompressed EC point.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) info: KeyInfo,
    /// The raw point: SEC1 uncompressed for Weierstrass curves, the 32
    /// bytes for Ed25519/X25519; `None` for symmetric keys.
    pub(crate) point: Option<Vec<u8>>,
}

/// One attribute's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Attr {
    Value(Vec<u8>),
    /// Exists but is never revealed (`CKR_ATTRIBUTE_SENSITIVE`).
    Sensitive,
    /// Not an attribute of this object (`CKR_ATTRIBUTE_TYPE_INVALID`).
    Invalid,
}

/// A template as the application passed it: (type, value bytes).
pub(crate) type Template = Vec<(CK_ATTRIBUTE_TYPE, Vec<u8>)>;

pub(crate) fn ulong(v: CK_ULONG) -> Vec<u8> {
    v.to_ne_bytes().to_vec()
}

pub(crate) fn bool_attr(b: bool) -> Vec<u8> {
    vec![if b { CK_TRUE } else { CK_FALSE }]
}

/// Reads a `CK_BBOOL` template value.
pub(crate) fn template_bool(v: &[u8]) -> Option<bool> {
    match v {
        [b] => Some(*b != CK_FALSE),
        _ => None,
    }
}

/// Reads a `CK_ULONG` template value.
pub(crate) fn template_ulong(v: &[u8]) -> Option<CK_ULONG> {
    <[u8; std::mem::size_of::<CK_ULONG>()]>::try_from(v)
        .ok()
        .map(CK_ULONG::from_ne_bytes)
}

/// `CKA_KEY_TYPE` of an algorithm.
pub(crate) fn key_type(a: Algorithm) -> CK_KEY_TYPE {
    match a {
        Algorithm::P256 | Algorithm::Secp256k1 => CKK_EC,
        Algorithm::Ed25519 => CKK_EC_EDWARDS,
        Algorithm::X25519 => CKK_EC_MONTGOMERY,
        Algorithm::Aes256Gcm => CKK_AES,
        // PKCS#11 3.0 §6.1: CKM_SHA256_HMAC keys are CKK_GENERIC_SECRET
        // (SoftHSM2 and OpenSC do the same).
        _ => CKK_GENERIC_SECRET,
    }
}

fn gen_mechanism(a: Algorithm) -> CK_MECHANISM_TYPE {
    match a {
        Algorithm::P256 | Algorithm::Secp256k1 => CKM_EC_KEY_PAIR_GEN,
        Algorithm::Ed25519 => CKM_EC_EDWARDS_KEY_PAIR_GEN,
        Algorithm::X25519 => CKM_EC_MONTGOMERY_KEY_PAIR_GEN,
        Algorithm::Aes256Gcm => CKM_AES_KEY_GEN,
        _ => CKM_GENERIC_SECRET_KEY_GEN,
    }
}

fn allows(info: &KeyInfo, op: Operation) -> bool {
    info.policy
        .allowed_operations
        .is_none_or(|set| set.contains(op))
}

/// `CKA_ID`: the daemon's key id, 8 bytes big-endian.
pub(crate) fn ck_id(id: KeyId) -> Vec<u8> {
    id.as_u64().to_be_bytes().to_vec()
}

impl Entry {
    /// The object classes this key appears as.
    pub(crate) fn classes(&self) -> &'static [Class] {
        if self.info.algorithm.is_asymmetric() {
            &[Class::Private, Class::Public]
        } else {
            &[Class::Secret]
        }
    }

    /// One attribute of the object `class` of this key.
    pub(crate) fn attribute(&self, class: Class, t: CK_ATTRIBUTE_TYPE) -> Attr {
        let info = &self.info;
        let a = info.algorithm;
        let generated = info.origin == KeyOrigin::Generated;
        let is_priv = class != Class::Public;
        let can_sign = matches!(
            a,
            Algorithm::P256 | Algorithm::Secp256k1 | Algorithm::Ed25519 | Algorithm::HmacSha256
        ) && allows(info, Operation::Sign);
        let v = match (t, class) {
            (CKA_CLASS, _) => ulong(class.ck()),
            (CKA_TOKEN, _) => bool_attr(true),
            // No login is required to use the token (the daemon identifies
            // the process), so no object is "private" in the PKCS#11 sense.
            (CKA_PRIVATE, _) => bool_attr(false),
            (CKA_MODIFIABLE | CKA_COPYABLE, _) => bool_attr(false),
            (CKA_DESTROYABLE, _) => bool_attr(is_priv),
            (CKA_LABEL, _) => info.alias.as_bytes().to_vec(),
            (CKA_ID, _) => ck_id(info.id),
            (CKA_UNIQUE_ID, _) => {
                let suffix = match class {
                    Class::Private => "priv",
                    Class::Public => "pub",
                    Class::Secret => "secret",
                };
                format!("{}-{suffix}", info.id).into_bytes()
            }
            (CKA_KEY_TYPE, _) => ulong(key_type(a)),
            (CKA_LOCAL, _) => bool_attr(generated),
            (CKA_KEY_GEN_MECHANISM, _) => ulong(if generated {
                gen_mechanism(a)
            } else {
                CK_UNAVAILABLE_INFORMATION
            }),
            (CKA_START_DATE | CKA_END_DATE, _) => Vec::new(),
            (CKA_DERIVE, Class::Private) => bool_attr(
                matches!(
                    a,
                    Algorithm::P256 | Algorithm::Secp256k1 | Algorithm::X25519
                ) && allows(info, Operation::Agree),
            ),
            (CKA_DERIVE, _) => bool_attr(false),
            // Private and secret keys: sensitive, never extractable.
            (CKA_SENSITIVE | CKA_NEVER_EXTRACTABLE, Class::Private | Class::Secret) => {
                bool_attr(true)
            }
            (CKA_ALWAYS_SENSITIVE, Class::Private | Class::Secret) => bool_attr(generated),
            (
                CKA_EXTRACTABLE | CKA_ALWAYS_AUTHENTICATE | CKA_WRAP_WITH_TRUSTED,
                Class::Private | Class::Secret,
            ) => bool_attr(false),
            (CKA_VALUE, Class::Private | Class::Secret) => return Attr::Sensitive,
            (CKA_SIGN, Class::Private | Class::Secret) => bool_attr(can_sign),
            (CKA_SIGN_RECOVER | CKA_UNWRAP, Class::Private | Class::Secret) => bool_attr(false),
            (CKA_DECRYPT, Class::Private) => bool_attr(false),
            (CKA_SUBJECT, Class::Private | Class::Public) => Vec::new(),
            (CKA_VERIFY, Class::Public) => bool_attr(can_sign),
            (CKA_VERIFY, Class::Secret) => bool_attr(can_sign && a == Algorithm::HmacSha256),
            (CKA_VERIFY_RECOVER | CKA_WRAP | CKA_TRUSTED, Class::Public) => bool_attr(false),
            (CKA_ENCRYPT, Class::Public) => bool_attr(false),
            (CKA_ENCRYPT, Class::Secret) => {
                bool_attr(a == Algorithm::Aes256Gcm && allows(info, Operation::Encrypt))
            }
            (CKA_DECRYPT, Class::Secret) => {
                bool_attr(a == Algorithm::Aes256Gcm && allows(info, Operation::Decrypt))
            }
            (CKA_WRAP, Class::Secret) => bool_attr(false),
            (CKA_VALUE_LEN, Class::Secret) => ulong(32),
            (CKA_EC_PARAMS, Class::Private | Class::Public) => match der::ec_params(a) {
                Some(p) => p.to_vec(),
                None => return Attr::Invalid,
            },
            (CKA_PUBLIC_KEY_INFO, Class::Private | Class::Public) => {
                match self.point.as_deref().and_then(|p| der::spki(a, p)) {
                    Some(spki) => spki,
                    None => return Attr::Invalid,
                }
            }
            (CKA_EC_POINT, Class::Private | Class::Public) => match &self.point {
                Some(p) => der::octet_string(p),
                None => return Attr::Invalid,
            },
            _ => return Attr::Invalid,
        };
        Attr::Value(v)
    }

    /// Whether the object matches every attribute of `template` exactly.
    pub(crate) fn matches(&self, class: Class, template: &Template) -> bool {
        template
            .iter()
            .all(|(t, want)| self.attribute(class, *t) == Attr::Value(want.clone()))
    }
}

/// Object handles for the keys seen so far.
#[derive(Debug, Default)]
pub(crate) struct ObjectTable {
    next: CK_OBJECT_HANDLE,
    by_handle: HashMap<CK_OBJECT_HANDLE, (KeyId, Class)>,
    by_key: HashMap<(KeyId, Class), CK_OBJECT_HANDLE>,
    entries: HashMap<KeyId, Entry>,
}

impl ObjectTable {
    /// Adds or refreshes a key; returns its handles in `classes()` order.
    pub(crate) fn insert(&mut self, entry: Entry) -> Vec<CK_OBJECT_HANDLE> {
        let id = entry.info.id;
        let mut handles = Vec::new();
        for class in entry.classes() {
            let h = *self.by_key.entry((id, *class)).or_insert_with(|| {
                self.next += 1;
                self.next
            });
            self.by_handle.insert(h, (id, *class));
            handles.push(h);
        }
        self.entries.insert(id, entry);
        handles
    }

    /// Forgets a key and its handles.
    pub(crate) fn remove(&mut self, id: KeyId) {
        self.entries.remove(&id);
        self.by_handle.retain(|_, (k, _)| *k != id);
        self.by_key.retain(|(k, _), _| *k != id);
    }

    /// Keeps only the keys in `present` (after a listing).
    pub(crate) fn retain(&mut self, present: &[KeyId]) {
        let gone: Vec<KeyId> = self
            .entries
            .keys()
            .filter(|k| !present.contains(k))
            .copied()
            .collect();
        for id in gone {
            self.remove(id);
        }
    }

    /// The key already known under `id`, if any.
    pub(crate) fn entry(&self, id: KeyId) -> Option<&Entry> {
        self.entries.get(&id)
    }

    /// Resolves a handle.
    pub(crate) fn get(&self, h: CK_OBJECT_HANDLE) -> Option<(&Entry, Class)> {
        let (id, class) = self.by_handle.get(&h)?;
        Some((self.entries.get(id)?, *class))
    }

    /// Every (handle, entry, class), in handle order.
    pub(crate) fn all(&self) -> Vec<(CK_OBJECT_HANDLE, &Entry, Class)> {
        let mut v: Vec<_> = self
            .by_handle
            .iter()
            .filter_map(|(h, (id, c))| Some((*h, self.entries.get(id)?, *c)))
            .collect();
        v.sort_by_key(|(h, _, _)| *h);
        v
    }
}

#[cfg(test)]
mod tests;
