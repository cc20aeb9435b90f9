//! The DER values PKCS#11 EC attributes carry: `CKA_EC_PARAMS` (a named
//! curve: an OBJECT IDENTIFIER, or for Edwards/Montgomery curves in PKCS#11
//! 3.0 also a PrintableString curve name) and `CKA_EC_POINT` (an OCTET
//! STRING around the point).
#![forbid(unsafe_code)]

use keyhold_client::core::Algorithm;

/// prime256v1 / secp256r1, 1.2.840.10045.3.1.7 (RFC 5480 §2.1.1.1).
pub(crate) const OID_P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// secp256k1, 1.3.132.0.10 (SEC 2 §A.2.1).
pub(crate) const OID_SECP256K1: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a];
/// id-Ed25519, 1.3.101.112 (RFC 8410 §3).
pub(crate) const OID_ED25519: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
/// id-X25519, 1.3.101.110 (RFC 8410 §3).
pub(crate) const OID_X25519: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x6e];
/// PrintableString "edwards25519" (PKCS#11 3.0 §2.3.5, `CKA_EC_PARAMS` of
/// `CKK_EC_EDWARDS` keys may name the curve this way).
pub(crate) const NAME_EDWARDS25519: &[u8] = b"\x13\x0cedwards25519";
/// PrintableString "curve25519" (the Montgomery form's name).
pub(crate) const NAME_CURVE25519: &[u8] = b"\x13\x0acurve25519";

/// The `CKA_EC_PARAMS` this module reports for a curve.
pub(crate) fn ec_params(algorithm: Algorithm) -> Option<&'static [u8]> {
    match algorithm {
        Algorithm::P256 => Some(OID_P256),
        Algorithm::Secp256k1 => Some(OID_SECP256K1),
        Algorithm::Ed25519 => Some(OID_ED25519),
        Algorithm::X25519 => Some(OID_X25519),
        _ => None,
    }
}

/// The curve named by a `CKA_EC_PARAMS` value, either form.
pub(crate) fn curve_of(params: &[u8]) -> Option<Algorithm> {
    match params {
        p if p == OID_P256 => Some(Algorithm::P256),
        p if p == OID_SECP256K1 => Some(Algorithm::Secp256k1),
        p if p == OID_ED25519 || p == NAME_EDWARDS25519 => Some(Algorithm::Ed25519),
        p if p == OID_X25519 || p == NAME_CURVE25519 => Some(Algorithm::X25519),
        _ => None,
    }
}

/// id-ecPublicKey, 1.2.840.10045.2.1 (RFC 5480 §2.1.1).
const OID_EC_PUBLIC_KEY: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

/// `CKA_PUBLIC_KEY_INFO`: the DER SubjectPublicKeyInfo of a public key
/// (RFC 5480 §2 for EC with the uncompressed point, RFC 8410 §4 for
/// Ed25519/X25519), built from the raw point.
pub(crate) fn spki(algorithm: Algorithm, point: &[u8]) -> Option<Vec<u8>> {
    let alg = match algorithm {
        Algorithm::P256 | Algorithm::Secp256k1 => {
            tlv(0x30, &[OID_EC_PUBLIC_KEY, ec_params(algorithm)?].concat())
        }
        Algorithm::Ed25519 => tlv(0x30, OID_ED25519),
        Algorithm::X25519 => tlv(0x30, OID_X25519),
        _ => return None,
    };
    let bits = tlv(0x03, &[&[0u8][..], point].concat());
    Some(tlv(0x30, &[alg, bits].concat()))
}

/// DER OCTET STRING around `content` (definite length, short or long form).
pub(crate) fn octet_string(content: &[u8]) -> Vec<u8> {
    tlv(0x04, content)
}

/// One DER TLV with a definite length.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octet_strings_use_definite_lengths() {
        assert_eq!(octet_string(&[1, 2]), vec![0x04, 0x02, 1, 2]);
        let long = octet_string(&[0xaa; 0x81]);
        assert_eq!(&long[..3], &[0x04, 0x81, 0x81]);
        assert_eq!(long.len(), 3 + 0x81);
        let longer = octet_string(&[0; 0x1234]);
        assert_eq!(&longer[..4], &[0x04, 0x82, 0x12, 0x34]);
    }

    #[test]
    fn curves_round_trip_and_names_are_accepted() {
        for a in [
            Algorithm::P256,
            Algorithm::Secp256k1,
            Algorithm::Ed25519,
            Algorithm::X25519,
        ] {
            assert_eq!(curve_of(ec_params(a).unwrap()), Some(a));
        }
        assert_eq!(curve_of(NAME_EDWARDS25519), Some(Algorithm::Ed25519));
        // secp384r1 1.3.132.0.34: a curve Keyhold does not have.
        assert_eq!(curve_of(&[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22]), None);
        assert_eq!(NAME_EDWARDS25519.len(), 2 + 12);
    }

    #[test]
    fn ed25519_spki_matches_rfc_8410() {
        // RFC 8410 §10.1: the example Ed25519 public key, as DER.
        let key = [
            0x19, 0xbf, 0x44, 0x09, 0x69, 0x84, 0xcd, 0xfe, 0x85, 0x41, 0xba, 0xc1, 0x67, 0xdc,
            0x3b, 0x96, 0xc8, 0x50, 0x86, 0xaa, 0x30, 0xb6, 0xb6, 0xcb, 0x0c, 0x5c, 0x38, 0xad,
            0x70, 0x31, 0x66, 0xe1,
        ];
        let mut want = vec![
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        want.extend_from_slice(&key);
        assert_eq!(spki(Algorithm::Ed25519, &key), Some(want));
        assert_eq!(spki(Algorithm::Aes256Gcm, &key), None);
    }
}
