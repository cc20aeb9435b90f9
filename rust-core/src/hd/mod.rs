//! Hierarchical-deterministic keys: BIP32 (secp256k1), SLIP-10 (Ed25519,
//! P-256), BIP39 mnemonics. Derivation happens inside the core; only public
//! keys and xpubs leave it.

mod extended;
mod mnemonic;
mod path;

pub(crate) use extended::{ExtendedPrivateKey, hash160};
pub(crate) use mnemonic::mnemonic_to_seed;
pub use path::{DerivationPath, HARDENED, MAX_DEPTH};
