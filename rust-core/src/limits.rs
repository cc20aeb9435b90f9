//! Every size and count limit of the core, in one place (issue 11 item 3).
//!
//! The protocol refuses oversize fields with `REQUEST_TOO_LARGE` before
//! converting them, and the engine enforces the same numbers on the typed
//! API, so a limit cannot differ between the two doors. Transports take
//! their frame limit from [`DEFAULT_MAX_REQUEST_BYTES`] (the default of
//! [`Config::max_request_bytes`](crate::Config::max_request_bytes)).
//!
//! This module depends on nothing, so every other module may use it.

/// Default largest request [`Keyhold::handle`](crate::Keyhold::handle)
/// accepts, in bytes, and so the default request frame of a transport.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 1 << 20;

/// Largest alias, in bytes (after NFC normalisation).
pub const MAX_ALIAS_LEN: usize = 128;

/// Most entries in each list of a key policy (allowed callers, allowed
/// operations, allowed path prefixes).
pub(crate) const MAX_POLICY_ENTRIES: usize = 64;

/// Largest app id in a policy's caller rule, in bytes.
pub(crate) const MAX_APP_ID_LEN: usize = 512;

/// Largest encoded caller identity, in bytes.
pub(crate) const MAX_IDENTITY_BYTES: usize = 16 * 1024;

/// Largest derivation path string, in bytes.
pub(crate) const MAX_PATH_LEN: usize = 2048;

/// Largest imported key encoding, mnemonic, passphrase or xprv, in bytes.
pub(crate) const MAX_KEY_MATERIAL: usize = 16 * 1024;

/// Largest peer public key, signature, HKDF salt or info, in bytes.
pub(crate) const MAX_SMALL_BLOB: usize = 1024;

/// Keys in a [`Keyhold::list_keys_page`](crate::Keyhold::list_keys_page)
/// page when the caller asks for 0.
pub const DEFAULT_LIST_PAGE_KEYS: u32 = 50;
/// Most keys in one page, whatever the caller asks for. A typical record
/// (alias, 33-byte public key, one caller rule) is well under 1 KiB, so 100
/// of them stay near 100 KiB; records with large policies are bounded by
/// [`MAX_LIST_PAGE_BYTES`] instead.
pub const MAX_LIST_PAGE_KEYS: u32 = 100;
/// Byte budget of one page, counted with the engine's `listing_size` (an
/// upper bound of a record both as protobuf and as an Android `Parcel`,
/// whose strings are UTF-16). A page stops before it would pass the budget but always holds at
/// least one key, so it is at most `max(budget, one record)`. 256 KiB is a
/// quarter of Binder's per-process transaction buffer (`BINDER_VM_SIZE`,
/// 1 MiB - 8 KiB in AOSP `ProcessState.cpp`), which every in-flight
/// transaction of the process shares; a record whose policy holds
/// the most rules and prefixes (64 each) is computed in the tests.
pub const MAX_LIST_PAGE_BYTES: usize = 256 * 1024;
