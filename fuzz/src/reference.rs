//! Independent computations the targets compare the core's results with.
//! Where the core uses the same RustCrypto crate underneath, the comparison
//! still checks what the core adds: parsing, normalisation, checks and the
//! choice of encoding.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha512;

/// The SLIP-0010 master private key of `seed` for `curve_key`
/// ("ed25519 seed", "Nist256p1 seed", "Bitcoin seed"), written from
/// satoshilabs/slips slip-0010.md "Master key generation": I =
/// HMAC-SHA512(Key = curve, Data = seed); IL is the key; for the NIST and
/// secp256k1 curves an IL of 0 or >= n is retried with Data = I.
pub fn slip10_master(curve_key: &[u8], seed: &[u8], valid: impl Fn(&[u8]) -> bool) -> [u8; 32] {
    let mut data = seed.to_vec();
    loop {
        let mut mac = <Hmac<Sha512> as KeyInit>::new_from_slice(curve_key).expect("any key length");
        mac.update(&data);
        let i = mac.finalize().into_bytes();
        let il: [u8; 32] = i[..32].try_into().expect("64-byte HMAC-SHA512");
        if valid(&il) {
            return il;
        }
        data = i.to_vec();
    }
}

/// The SEC1 compressed public key of a 32-byte secp256k1 scalar, if valid.
/// (`SecretKey::from_slice` alone also takes 24..32-byte slices, left-padded;
/// a private key is exactly 32 bytes, SEC 1 §2.3.6.)
pub fn k256_public(secret: &[u8]) -> Option<Vec<u8>> {
    use k256::elliptic_curve::sec1::ToSec1Point;
    if secret.len() != 32 {
        return None;
    }
    let sk = k256::SecretKey::from_slice(secret).ok()?;
    Some(sk.public_key().to_sec1_point(true).as_bytes().to_vec())
}

/// The SEC1 compressed public key of a 32-byte P-256 scalar, if valid.
pub fn p256_public(secret: &[u8]) -> Option<Vec<u8>> {
    use p256::elliptic_curve::sec1::ToSec1Point;
    if secret.len() != 32 {
        return None;
    }
    let sk = p256::SecretKey::from_slice(secret).ok()?;
    Some(sk.public_key().to_sec1_point(true).as_bytes().to_vec())
}

/// The Ed25519 public key of a 32-byte seed.
pub fn ed25519_public(seed: &[u8]) -> Option<Vec<u8>> {
    let seed: [u8; 32] = seed.try_into().ok()?;
    Some(
        ed25519_dalek::SigningKey::from_bytes(&seed)
            .verifying_key()
            .to_bytes()
            .to_vec(),
    )
}

/// The X25519 public key of a 32-byte secret.
pub fn x25519_public(secret: &[u8]) -> Option<Vec<u8>> {
    let secret: [u8; 32] = secret.try_into().ok()?;
    let secret = x25519_dalek::StaticSecret::from(secret);
    Some(x25519_dalek::PublicKey::from(&secret).as_bytes().to_vec())
}

/// HKDF-SHA256 (RFC 5869) of `ikm`, as the core's agreement applies it.
pub fn hkdf(ikm: &[u8], salt: &[u8], info: &[u8], len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    hkdf::Hkdf::<sha2::Sha256>::new(Some(salt), ikm)
        .expand(info, &mut out)
        .expect("16..=64 bytes is a valid HKDF-SHA256 length");
    out
}

/// The root (master) public key of `seed` under `scheme`, from the
/// specifications: BIP32's master key is HMAC-SHA512 keyed "Bitcoin seed"
/// (the SLIP-10 secp256k1 case); SLIP-10 uses "ed25519 seed" and
/// "Nist256p1 seed".
pub fn hd_root_public(scheme: keyhold_core::HdScheme, seed: &[u8]) -> Vec<u8> {
    use keyhold_core::HdScheme;
    let k1_valid = |k: &[u8]| k256::SecretKey::from_slice(k).is_ok();
    let p256_valid = |k: &[u8]| p256::SecretKey::from_slice(k).is_ok();
    let public = match scheme {
        HdScheme::Bip32Secp256k1 => k256_public(&slip10_master(b"Bitcoin seed", seed, k1_valid)),
        HdScheme::Slip10Ed25519 => ed25519_public(&slip10_master(b"ed25519 seed", seed, |_| true)),
        HdScheme::Slip10P256 => p256_public(&slip10_master(b"Nist256p1 seed", seed, p256_valid)),
    };
    public.expect("a master key that passed its validity check has a public key")
}

/// The first complete PEM block labelled `label` in `text` (RFC 7468), as
/// text. OpenSSL writes other blocks around keys (`ecparam -genkey` puts
/// an `EC PARAMETERS` block before the `EC PRIVATE KEY`); RustCrypto's
/// `from_*_pem` want the key block alone, so the references get only it.
pub fn pem_block<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)?;
    let stop = start + text[start..].find(&end)? + end.len();
    Some(&text[start..stop])
}
