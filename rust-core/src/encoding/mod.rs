//! Standard key formats: public-key encodings (SEC1, raw, SPKI, JWK,
//! addresses) and private-key import parsers (PKCS#8, SEC1).
//!
//! Public-key formats per algorithm (anything else is `IncompatibleKey`):
//!
//! | format            | secp256k1            | P-256        | Ed25519 | X25519 |
//! |-------------------|----------------------|--------------|---------|--------|
//! | SEC1 (un)compr.   | yes                  | yes          | -       | -      |
//! | raw (32 bytes)    | BIP340 x-only        | -            | yes     | yes    |
//! | SPKI DER / PEM    | yes                  | yes          | yes     | yes    |
//! | JWK               | EC `secp256k1`       | EC `P-256`   | OKP     | OKP    |
//! | Ethereum address  | yes (EIP-55)         | -            | -       | -      |
//! | Bitcoin P2WPKH    | yes (`bc1q…`)        | -            | -       | -      |
//!
//! SPKI follows RFC 5480 (EC: `id-ecPublicKey` with the named-curve OID,
//! uncompressed point; secp256k1 uses OID 1.3.132.0.10, which OpenSSL reads)
//! and RFC 8410 (Ed25519/X25519: no parameters). JWK follows RFC 7517/7518,
//! RFC 8037 (OKP) and RFC 8812 (`secp256k1`); members are emitted in
//! lexicographic order with no whitespace, i.e. already in RFC 7638
//! thumbprint form.

use crate::algorithm::{Algorithm, PublicKeyFormat};
use crate::crypto::{EncodedPublicKey, PrivateKey, PublicKey};
use crate::{Error, Result};
use der::asn1::{BitStringRef, ObjectIdentifier, OctetStringRef};
use der::{Decode, Encode};
use k256::elliptic_curve::sec1::ToSec1Point;
use sha3::{Digest as _, Keccak256};
use spki::{AlgorithmIdentifier, SubjectPublicKeyInfo, SubjectPublicKeyInfoRef};
use zeroize::Zeroizing;

/// id-ecPublicKey (RFC 5480).
pub(crate) const OID_EC_PUBLIC_KEY: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// secp256k1 (SEC 2).
pub(crate) const OID_SECP256K1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.10");
/// prime256v1 / secp256r1 (RFC 5480).
pub(crate) const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
/// id-Ed25519 (RFC 8410).
pub(crate) const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
/// id-X25519 (RFC 8410).
pub(crate) const OID_X25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.110");

/// PEM labels (RFC 7468, RFC 5915).
const PEM_PUBLIC_KEY: &str = "PUBLIC KEY";
const PEM_PRIVATE_KEY: &str = "PRIVATE KEY";
const PEM_ENCRYPTED_PRIVATE_KEY: &str = "ENCRYPTED PRIVATE KEY";
const PEM_EC_PRIVATE_KEY: &str = "EC PRIVATE KEY";

fn incompatible(key: &PublicKey, format: PublicKeyFormat) -> Error {
    Error::IncompatibleKey(format!(
        "{} keys have no {format} encoding",
        key.algorithm()
    ))
}

/// [`encode_public_key`] as a method (`pk.encode(format)`) for the layers
/// above this one; `crypto` itself does not know the formats.
pub(crate) trait EncodePublicKey {
    /// Encodes in `format` (all but `Xpub`, which needs an HD node).
    fn encode(&self, format: PublicKeyFormat) -> Result<EncodedPublicKey>;
}

impl EncodePublicKey for PublicKey {
    fn encode(&self, format: PublicKeyFormat) -> Result<EncodedPublicKey> {
        encode_public_key(self, format)
    }
}

/// Encodes `key` in `format`; `IncompatibleKey` when the format does not fit
/// the algorithm (e.g. an Ethereum address of an Ed25519 key), `InvalidArgument` for `Xpub`.
pub(crate) fn encode_public_key(
    key: &PublicKey,
    format: PublicKeyFormat,
) -> Result<EncodedPublicKey> {
    match format {
        PublicKeyFormat::Sec1Compressed | PublicKeyFormat::Sec1Uncompressed => {
            let compress = format == PublicKeyFormat::Sec1Compressed;
            match key {
                PublicKey::Secp256k1(k) => Ok(EncodedPublicKey::binary(
                    k.to_sec1_point(compress).as_bytes().to_vec(),
                )),
                PublicKey::P256(k) => Ok(EncodedPublicKey::binary(
                    k.to_sec1_point(compress).as_bytes().to_vec(),
                )),
                _ => Err(incompatible(key, format)),
            }
        }
        PublicKeyFormat::Raw => match key {
            // BIP340 x-only: the x coordinate (the key with even y shares it).
            PublicKey::Secp256k1(k) => Ok(EncodedPublicKey::binary(
                k.to_sec1_point(true).as_bytes()[1..].to_vec(),
            )),
            PublicKey::Ed25519(k) => Ok(EncodedPublicKey::binary(k.as_bytes().to_vec())),
            PublicKey::X25519(k) => Ok(EncodedPublicKey::binary(k.as_bytes().to_vec())),
            PublicKey::P256(_) => Err(incompatible(key, format)),
        },
        PublicKeyFormat::SpkiDer => Ok(EncodedPublicKey::binary(spki_der(key)?)),
        PublicKeyFormat::SpkiPem => {
            let pem =
                der::pem::encode_string(PEM_PUBLIC_KEY, der::pem::LineEnding::LF, &spki_der(key)?)
                    .map_err(|e| Error::Internal(format!("PEM encoding failed: {e}")))?;
            Ok(EncodedPublicKey::text(pem))
        }
        PublicKeyFormat::Jwk => Ok(EncodedPublicKey::text(jwk(key))),
        PublicKeyFormat::Xpub => Err(Error::InvalidArgument(
            "an xpub is produced by the HD node, not from a bare public key".into(),
        )),
        PublicKeyFormat::EthAddress => match key {
            PublicKey::Secp256k1(k) => Ok(EncodedPublicKey::text(eth_address(k))),
            _ => Err(incompatible(key, format)),
        },
        PublicKeyFormat::BtcP2wpkh => match key {
            PublicKey::Secp256k1(k) => {
                let program = crate::hd::hash160(k.to_sec1_point(true).as_bytes());
                let address = bech32::segwit::encode_v0(bech32::hrp::BC, &program)
                    .map_err(|e| Error::Internal(format!("bech32 encoding failed: {e}")))?;
                Ok(EncodedPublicKey::text(address))
            }
            _ => Err(incompatible(key, format)),
        },
    }
}

/// SubjectPublicKeyInfo DER.
fn spki_der(key: &PublicKey) -> Result<Vec<u8>> {
    let (oid, parameters, point) = match key {
        PublicKey::Secp256k1(k) => (
            OID_EC_PUBLIC_KEY,
            Some(OID_SECP256K1),
            k.to_sec1_point(false).as_bytes().to_vec(),
        ),
        PublicKey::P256(k) => (
            OID_EC_PUBLIC_KEY,
            Some(OID_P256),
            k.to_sec1_point(false).as_bytes().to_vec(),
        ),
        PublicKey::Ed25519(k) => (OID_ED25519, None, k.as_bytes().to_vec()),
        PublicKey::X25519(k) => (OID_X25519, None, k.as_bytes().to_vec()),
    };
    let der_failed = |e: der::Error| Error::Internal(format!("SPKI encoding failed: {e}"));
    let spki = SubjectPublicKeyInfo::<ObjectIdentifier, BitStringRef<'_>> {
        algorithm: AlgorithmIdentifier { oid, parameters },
        subject_public_key: BitStringRef::from_bytes(&point).map_err(der_failed)?,
    };
    spki.to_der().map_err(der_failed)
}

/// base64url without padding (RFC 7515 §2).
fn b64url(bytes: &[u8]) -> String {
    use base64ct::Encoding as _;
    base64ct::Base64UrlUnpadded::encode_string(bytes)
}

/// Compact JWK with members in lexicographic order.
fn jwk(key: &PublicKey) -> String {
    fn ec(crv: &str, uncompressed: &[u8]) -> String {
        let (x, y) = uncompressed[1..].split_at(32);
        format!(
            r#"{{"crv":"{crv}","kty":"EC","x":"{}","y":"{}"}}"#,
            b64url(x),
            b64url(y)
        )
    }
    fn okp(crv: &str, x: &[u8]) -> String {
        format!(r#"{{"crv":"{crv}","kty":"OKP","x":"{}"}}"#, b64url(x))
    }
    match key {
        PublicKey::Secp256k1(k) => ec("secp256k1", k.to_sec1_point(false).as_bytes()),
        PublicKey::P256(k) => ec("P-256", k.to_sec1_point(false).as_bytes()),
        PublicKey::Ed25519(k) => okp("Ed25519", k.as_bytes()),
        PublicKey::X25519(k) => okp("X25519", k.as_bytes()),
    }
}

/// Ethereum address with the EIP-55 mixed-case checksum.
fn eth_address(key: &k256::PublicKey) -> String {
    let point = key.to_sec1_point(false);
    let hash = Keccak256::digest(&point.as_bytes()[1..]);
    let lower = hex::encode(&hash[12..]);
    let checksum = Keccak256::digest(lower.as_bytes());
    let mut out = String::with_capacity(42);
    out.push_str("0x");
    for (i, c) in lower.chars().enumerate() {
        let nibble = if i % 2 == 0 {
            checksum[i / 2] >> 4
        } else {
            checksum[i / 2] & 0x0f
        };
        out.push(if nibble >= 8 {
            c.to_ascii_uppercase()
        } else {
            c
        });
    }
    out
}

fn invalid(why: impl Into<String>) -> Error {
    Error::InvalidKeyMaterial(why.into())
}

/// The PEM document labelled `label` inside `text` (other blocks, such as
/// OpenSSL's `EC PARAMETERS`, and surrounding text are skipped).
fn pem_block<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)?;
    let stop = text[start..].find(&end)? + start + end.len();
    Some(&text[start..stop])
}

/// Decodes the PEM block labelled `label` into a zeroizing buffer.
fn pem_decode(text: &str, label: &str) -> Result<Zeroizing<Vec<u8>>> {
    let block = pem_block(text, label).ok_or_else(|| invalid(format!("no {label} PEM block")))?;
    let mut buf = Zeroizing::new(vec![0u8; block.len()]);
    let len = der::pem::decode(block.as_bytes(), &mut buf)
        .map_err(|_| invalid(format!("malformed {label} PEM")))?
        .1
        .len();
    buf.truncate(len);
    Ok(buf)
}

/// Input that is PEM text rather than DER.
fn as_pem(bytes: &[u8]) -> Option<&str> {
    let text = core::str::from_utf8(bytes).ok()?;
    text.contains("-----BEGIN ").then_some(text)
}

/// Parses a public key of `algorithm`: SEC1, raw 32 bytes or SPKI DER.
///
/// Also accepted: SPKI PEM. For secp256k1, 32 raw bytes are a BIP340 x-only
/// key and give the point with even y. SEC1 must be compressed (33 bytes)
/// or uncompressed (65); hybrid and compact forms are refused.
pub(crate) fn parse_public_key(algorithm: Algorithm, bytes: &[u8]) -> Result<PublicKey> {
    if let Some(text) = as_pem(bytes) {
        let der = pem_decode(text, PEM_PUBLIC_KEY)?;
        return parse_spki(algorithm, &der);
    }
    match algorithm {
        Algorithm::Secp256k1 | Algorithm::P256 => {
            let sec1 = matches!(
                (bytes.len(), bytes.first()),
                (33, Some(2 | 3)) | (65, Some(4))
            );
            if sec1 {
                ec_point(algorithm, bytes)
            } else if algorithm == Algorithm::Secp256k1 && bytes.len() == 32 {
                let xonly = k256::schnorr::VerifyingKey::from_slice(bytes)
                    .map_err(|_| invalid("not an x coordinate on secp256k1"))?;
                Ok(PublicKey::Secp256k1(
                    k256::PublicKey::from_affine(*xonly.as_affine())
                        .map_err(|_| invalid("not a secp256k1 point"))?,
                ))
            } else {
                parse_spki(algorithm, bytes)
            }
        }
        Algorithm::Ed25519 | Algorithm::X25519 if bytes.len() == 32 => raw_25519(algorithm, bytes),
        Algorithm::Ed25519 | Algorithm::X25519 => parse_spki(algorithm, bytes),
        Algorithm::Aes256Gcm | Algorithm::HmacSha256 => Err(Error::IncompatibleKey(format!(
            "{algorithm} keys have no public half"
        ))),
    }
}

/// A SEC1 point of an EC algorithm.
fn ec_point(algorithm: Algorithm, bytes: &[u8]) -> Result<PublicKey> {
    let sec1 = matches!(
        (bytes.len(), bytes.first()),
        (33, Some(2 | 3)) | (65, Some(4))
    );
    if !sec1 {
        return Err(invalid("SEC1 point must be compressed or uncompressed"));
    }
    let bad = || invalid(format!("not a point on {algorithm}"));
    match algorithm {
        Algorithm::Secp256k1 => k256::PublicKey::from_sec1_bytes(bytes)
            .map(PublicKey::Secp256k1)
            .map_err(|_| bad()),
        Algorithm::P256 => p256::PublicKey::from_sec1_bytes(bytes)
            .map(PublicKey::P256)
            .map_err(|_| bad()),
        _ => Err(Error::IncompatibleKey(format!(
            "{algorithm} keys are not SEC1 points"
        ))),
    }
}

/// 32 raw bytes of Ed25519 or X25519.
fn raw_25519(algorithm: Algorithm, bytes: &[u8]) -> Result<PublicKey> {
    let raw = <[u8; 32]>::try_from(bytes)
        .map_err(|_| invalid(format!("{algorithm} keys are 32 bytes")))?;
    match algorithm {
        Algorithm::Ed25519 => ed25519_dalek::VerifyingKey::from_bytes(&raw)
            .map(PublicKey::Ed25519)
            .map_err(|_| invalid("not an Ed25519 point")),
        Algorithm::X25519 => Ok(PublicKey::X25519(x25519_dalek::PublicKey::from(raw))),
        _ => Err(Error::IncompatibleKey(format!(
            "{algorithm} keys are not 32 raw bytes"
        ))),
    }
}

/// The algorithm an AlgorithmIdentifier names, if it is one of ours.
fn algorithm_of(oid: ObjectIdentifier, params: Option<ObjectIdentifier>) -> Result<Algorithm> {
    match (oid, params) {
        (OID_EC_PUBLIC_KEY, Some(OID_SECP256K1)) => Ok(Algorithm::Secp256k1),
        (OID_EC_PUBLIC_KEY, Some(OID_P256)) => Ok(Algorithm::P256),
        (OID_EC_PUBLIC_KEY, Some(curve)) => Err(invalid(format!("unsupported curve {curve}"))),
        (OID_EC_PUBLIC_KEY, None) => Err(invalid("EC key without a named curve")),
        (OID_ED25519, None) => Ok(Algorithm::Ed25519),
        (OID_X25519, None) => Ok(Algorithm::X25519),
        (OID_ED25519 | OID_X25519, Some(_)) => Err(invalid("RFC 8410 keys take no parameters")),
        (other, _) => Err(invalid(format!("unsupported key algorithm {other}"))),
    }
}

/// SubjectPublicKeyInfo DER of `algorithm`.
fn parse_spki(algorithm: Algorithm, der: &[u8]) -> Result<PublicKey> {
    let spki = SubjectPublicKeyInfoRef::from_der(der)
        .map_err(|_| invalid("not a SubjectPublicKeyInfo"))?;
    let (oid, params) = spki
        .algorithm
        .oids()
        .map_err(|_| invalid("malformed SPKI parameters"))?;
    // Parameters given as an explicit NULL are treated like absent ones by
    // `oids()`; RFC 8410 wants them absent, so refuse them here.
    if matches!(oid, OID_ED25519 | OID_X25519) && spki.algorithm.parameters.is_some() {
        return Err(invalid("RFC 8410 keys take no parameters"));
    }
    let found = algorithm_of(oid, params)?;
    if found != algorithm {
        return Err(Error::IncompatibleKey(format!(
            "the SPKI holds a {found} key, not {algorithm}"
        )));
    }
    let key = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| invalid("public key BIT STRING has unused bits"))?;
    match algorithm {
        Algorithm::Secp256k1 | Algorithm::P256 => ec_point(algorithm, key),
        _ => raw_25519(algorithm, key),
    }
}

/// Parses PKCS#8 PrivateKeyInfo (DER or PEM); the algorithm comes from the OID.
/// `expected`, when given, must match. `InvalidKeyMaterial` otherwise.
///
/// PKCS#8 v1 and v2 (RFC 5958, with the public key, which must then match)
/// are accepted; encrypted PKCS#8 is not. EC keys carry an RFC 5915
/// ECPrivateKey whose optional parameters and public key must agree.
pub(crate) fn parse_pkcs8(der_or_pem: &[u8], expected: Option<Algorithm>) -> Result<PrivateKey> {
    if let Some(a) = expected.filter(|a| !a.is_asymmetric()) {
        return Err(Error::IncompatibleKey(format!(
            "{a} keys are not imported from PKCS#8"
        )));
    }
    let pem;
    let der: &[u8] = match as_pem(der_or_pem) {
        Some(text) => {
            if pem_block(text, PEM_ENCRYPTED_PRIVATE_KEY).is_some() {
                return Err(invalid("encrypted PKCS#8 is not supported"));
            }
            pem = pem_decode(text, PEM_PRIVATE_KEY)?;
            &pem
        }
        None => der_or_pem,
    };
    let info = pkcs8::PrivateKeyInfoRef::try_from(der)
        .map_err(|_| invalid("not a PKCS#8 PrivateKeyInfo"))?;
    let (oid, params) = info
        .algorithm
        .oids()
        .map_err(|_| invalid("malformed PKCS#8 algorithm parameters"))?;
    if matches!(oid, OID_ED25519 | OID_X25519) && info.algorithm.parameters.is_some() {
        return Err(invalid("RFC 8410 keys take no parameters"));
    }
    let algorithm = algorithm_of(oid, params)?;
    if let Some(want) = expected.filter(|want| *want != algorithm) {
        return Err(invalid(format!(
            "the PKCS#8 key is {algorithm}, not {want}"
        )));
    }
    let key = match algorithm {
        Algorithm::Secp256k1 | Algorithm::P256 => {
            ec_private_key(info.private_key.as_bytes(), Some(algorithm))?
        }
        _ => {
            // RFC 8410: CurvePrivateKey ::= OCTET STRING, inside the PKCS#8 OCTET STRING.
            let inner = <&OctetStringRef>::from_der(info.private_key.as_bytes())
                .map_err(|_| invalid("malformed RFC 8410 private key"))?;
            PrivateKey::from_bytes(algorithm, inner.as_bytes())?
        }
    };
    if let Some(public) = info.public_key {
        let public = public
            .as_bytes()
            .ok_or_else(|| invalid("public key BIT STRING has unused bits"))?;
        check_public(&key, public)?;
    }
    Ok(key)
}

/// Parses a SEC1 ECPrivateKey (DER or PEM). The curve comes from the
/// parameters when present, else from `expected`.
pub(crate) fn parse_sec1(der_or_pem: &[u8], expected: Option<Algorithm>) -> Result<PrivateKey> {
    if let Some(a) = expected.filter(|a| !matches!(a, Algorithm::Secp256k1 | Algorithm::P256)) {
        return Err(Error::IncompatibleKey(format!(
            "{a} keys are not SEC1 EC private keys"
        )));
    }
    match as_pem(der_or_pem) {
        Some(text) => ec_private_key(&pem_decode(text, PEM_EC_PRIVATE_KEY)?, expected),
        None => ec_private_key(der_or_pem, expected),
    }
}

/// RFC 5915 ECPrivateKey DER.
fn ec_private_key(der: &[u8], expected: Option<Algorithm>) -> Result<PrivateKey> {
    let ec = sec1::EcPrivateKey::from_der(der).map_err(|_| invalid("not a SEC1 ECPrivateKey"))?;
    let named = match ec.parameters {
        Some(p) => {
            let curve = p
                .named_curve()
                .ok_or_else(|| invalid("EC parameters must name a curve"))?;
            Some(algorithm_of(OID_EC_PUBLIC_KEY, Some(curve))?)
        }
        None => None,
    };
    let algorithm = match (named, expected) {
        (Some(n), Some(e)) if n != e => {
            return Err(invalid(format!("the EC key is on {n}, not {e}")));
        }
        (Some(n), _) => n,
        (None, Some(e)) => e,
        (None, None) => return Err(invalid("the EC key names no curve and none was given")),
    };
    // RFC 5915 fixes the length at ceil(log2(n)/8) = 32; some encoders drop
    // leading zero bytes, so shorter values are left-padded.
    if ec.private_key.is_empty() || ec.private_key.len() > 32 {
        return Err(invalid("EC private key must be at most 32 bytes"));
    }
    let mut scalar = Zeroizing::new([0u8; 32]);
    scalar[32 - ec.private_key.len()..].copy_from_slice(ec.private_key);
    let key = PrivateKey::from_bytes(algorithm, scalar.as_slice())?;
    if let Some(public) = ec.public_key {
        check_public(&key, public)?;
    }
    Ok(key)
}

/// Refuses a key whose embedded public key is not its own.
fn check_public(key: &PrivateKey, embedded: &[u8]) -> Result<()> {
    let own = key
        .public_key()
        .ok_or_else(|| invalid("key has no public half"))?;
    match parse_public_key(own.algorithm(), embedded) {
        Ok(p) if p == own => Ok(()),
        _ => Err(invalid(
            "the embedded public key does not match the private key",
        )),
    }
}

#[cfg(test)]
mod tests;
