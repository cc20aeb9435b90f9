//! The wrapping key's lifecycle as the core sees it: what the engine asks a
//! sealer when a store opens ([`KeyRequest`]), what the sealer reports
//! ([`WrappingKeyInfo`]), and what the store records once, durably, the first
//! time a wrapping key seals anything ([`SealerBinding`]).
//!
//! The rule they serve: a sealer never creates a wrapping key for a store
//! that already holds records sealed under one. Platforms report a missing
//! key for transient reasons too (Android's keystore1 `getKey` returns null
//! on any error), and creating a new key then would make every record
//! unreadable for good.

/// What the engine asks of a sealer when a store opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRequest<'a> {
    /// The store has never sealed anything: find the wrapping key, or
    /// create it.
    FindOrCreate,
    /// The store holds records sealed under a wrapping key: find it and
    /// never create one. `binding` is what the store recorded; `None` only
    /// for stores created before bindings were recorded.
    FindExisting(Option<&'a SealerBinding>),
}

impl KeyRequest<'_> {
    /// True when the sealer may create a key.
    pub fn may_create(&self) -> bool {
        matches!(self, Self::FindOrCreate)
    }

    /// The label the store recorded, if any.
    pub fn expected_label(&self) -> Option<&str> {
        match self {
            Self::FindOrCreate | Self::FindExisting(None) => None,
            Self::FindExisting(Some(binding)) => Some(&binding.label),
        }
    }
}

/// What a sealer reports about its wrapping key after
/// [`Sealer::open_key`](crate::Sealer::open_key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappingKeyInfo {
    /// Where the key lives: Keystore alias, keychain label, key file name.
    pub label: String,
    /// The protection asked for (`strongbox`, `tee`, `secure-enclave`,
    /// `software`...).
    pub level_requested: String,
    /// The protection the platform gave.
    pub level_obtained: String,
    /// True when this call created the key.
    pub created: bool,
}

/// What a store records about the wrapping key that sealed its records,
/// written once, before the first secret is sealed.
#[derive(Clone, PartialEq, Eq)]
pub struct SealerBinding {
    /// The sealer's name when the binding was made.
    pub sealer: String,
    /// [`WrappingKeyInfo::label`].
    pub label: String,
    /// [`WrappingKeyInfo::level_requested`].
    pub level_requested: String,
    /// [`WrappingKeyInfo::level_obtained`].
    pub level_obtained: String,
    /// When the binding was made, in seconds since the Unix epoch.
    pub created_at: u64,
    /// The store key (32 random bytes) sealed under the wrapping key with
    /// the AAD [`STORE_KEY_AAD`]. Unsealing it when the store opens proves
    /// the wrapping key is the one the store was sealed with.
    pub sealed_store_key: Vec<u8>,
}

/// Associated data of the sealed store key.
pub const STORE_KEY_AAD: &[u8] = b"keyhold/store-key/v1";

impl SealerBinding {
    /// The binding without its sealed key, for diagnostics.
    pub fn info(&self) -> SealerBindingInfo {
        SealerBindingInfo {
            sealer: self.sealer.clone(),
            label: self.label.clone(),
            level_requested: self.level_requested.clone(),
            level_obtained: self.level_obtained.clone(),
            created_at: self.created_at,
        }
    }
}

impl core::fmt::Debug for SealerBinding {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SealerBinding")
            .field("sealer", &self.sealer)
            .field("label", &self.label)
            .field("level_requested", &self.level_requested)
            .field("level_obtained", &self.level_obtained)
            .field("created_at", &self.created_at)
            .field(
                "sealed_store_key",
                &format_args!("[{} sealed bytes]", self.sealed_store_key.len()),
            )
            .finish()
    }
}

/// The public part of a [`SealerBinding`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealerBindingInfo {
    /// The sealer's name when the binding was made.
    pub sealer: String,
    /// Where the wrapping key lives.
    pub label: String,
    /// The protection asked for.
    pub level_requested: String,
    /// The protection obtained.
    pub level_obtained: String,
    /// When the binding was made, in seconds since the Unix epoch.
    pub created_at: u64,
}

impl core::fmt::Display for SealerBindingInfo {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} key '{}' (asked {}, got {}, created at unix time {})",
            self.sealer, self.label, self.level_requested, self.level_obtained, self.created_at
        )
    }
}
