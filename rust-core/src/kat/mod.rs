//! Known-answer tests run when a store opens, and the pairwise consistency
//! test run on every generated or imported key.
//!
//! Every input below is a published test vector:
//! - secp256k1 ECDSA (recoverable, prehash): the eth-account / web3.py
//!   `sign_transaction` example (key `4c0883a6…`, Keccak-256 of the RLP
//!   transaction, r `c9cf8633…`, s `727a108a…`, recovery id 0);
//! - BIP340: bitcoin/bips `bip-0340/test-vectors.csv`, index 1;
//! - P-256 ECDSA: RFC 6979 §A.2.5, SHA-256, message "test";
//! - Ed25519: RFC 8032 §7.1 TEST 2;
//! - X25519: RFC 7748 §6.1 (Alice and Bob);
//! - ECDH secp256k1 / P-256: Wycheproof `ecdh_secp256k1_test.json` and
//!   `ecdh_secp256r1_test.json`, tcId 1 (SPKI-encoded peer keys);
//! - AES-256-GCM: Wycheproof `aes_gcm_test.json`, tcId 91;
//! - HMAC-SHA256: RFC 4231 test case 2; HKDF-SHA256: RFC 5869 test case 1;
//! - Keccak-256: the empty-string digest (Ethereum yellow paper `KEC("")`);
//! - BIP32: bitcoin/bips `bip-0032.mediawiki` test vector 1, chain m/0H.

use crate::algorithm::{Algorithm, HdScheme, SignatureScheme};
use crate::crypto::{Payload, PrivateKey, ecdsa, symmetric};
use crate::encoding::parse_public_key;
use crate::secret::SecretBytes;
use crate::{Error, Result};

fn fail(what: &str) -> Error {
    Error::SelfTestFailed(format!("known-answer test failed: {what}"))
}

/// Decodes a constant hex string.
fn h(s: &str) -> Result<Vec<u8>> {
    hex::decode(s).map_err(|_| Error::Internal("malformed self-test constant".into()))
}

fn check(ok: bool, what: &str) -> Result<()> {
    if ok { Ok(()) } else { Err(fail(what)) }
}

/// Runs every algorithm's known-answer test; `SelfTestFailed` on mismatch.
pub(crate) fn run_known_answer_tests() -> Result<()> {
    kat_secp256k1_ecdsa()?;
    kat_bip340()?;
    kat_p256_ecdsa()?;
    kat_ed25519()?;
    kat_x25519()?;
    kat_ecdh()?;
    kat_aes_gcm()?;
    kat_mac_kdf()?;
    kat_bip32()?;
    Ok(())
}

fn kat_secp256k1_ecdsa() -> Result<()> {
    use sha3::{Digest as _, Keccak256};
    let what = "secp256k1 ECDSA";
    let key = PrivateKey::from_bytes(
        Algorithm::Secp256k1,
        &h("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")?,
    )
    .map_err(|_| fail(what))?;
    check(
        Keccak256::digest(b"").as_slice()
            == h("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")?,
        "Keccak-256",
    )?;
    let tx =
        h("e9808504e3b29200831e848094f0109fc8df283027b6285cc889f5aa624eac1f55843b9aca0080018080")?;
    let digest: [u8; 32] = Keccak256::digest(&tx).into();
    let sig = key
        .sign(SignatureScheme::EcdsaRecoverable, Payload::Digest(&digest))
        .map_err(|_| fail(what))?;
    let expected = h(concat!(
        "c9cf86333bcb065d140032ecaab5d9281bde80f21b9687b3e94161de42d51895",
        "727a108a0b8d101465414033c3f705a9c7b826e596766046ee1183dbc8aeaa68",
        "00"
    ))?;
    check(sig == expected, what)?;
    check(
        key.verify(
            SignatureScheme::EcdsaRecoverable,
            Payload::Digest(&digest),
            &sig,
        )
        .map_err(|_| fail(what))?,
        what,
    )?;
    let mut other = digest;
    other[0] ^= 1;
    check(
        !key.verify(
            SignatureScheme::EcdsaRecoverable,
            Payload::Digest(&other),
            &sig,
        )
        .map_err(|_| fail(what))?,
        what,
    )
}

fn kat_bip340() -> Result<()> {
    let what = "BIP340";
    let key = PrivateKey::from_bytes(
        Algorithm::Secp256k1,
        &h("b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef")?,
    )
    .map_err(|_| fail(what))?;
    let PrivateKey::Secp256k1(k) = &key else {
        return Err(fail(what));
    };
    let mut aux = [0u8; 32];
    aux[31] = 1;
    let msg = h("243f6a8885a308d313198a2e03707344a4093822299f31d0082efa98ec4e6c89")?;
    let sig = ecdsa::bip340_sign(k, &msg, &aux).map_err(|_| fail(what))?;
    check(
        sig == h(concat!(
            "6896bd60eeae296db48a229ff71dfe071bde413e6d43f917dc8dcf8c78de3341",
            "8906d11ac976abccb20b091292bff4ea897efcb639ea871cfa95f6de339e4b0a"
        ))?,
        what,
    )?;
    let public = parse_public_key(
        Algorithm::Secp256k1,
        &h("dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659")?,
    )
    .map_err(|_| fail(what))?;
    check(
        public
            .verify(SignatureScheme::Bip340, Payload::Message(&msg), &sig)
            .map_err(|_| fail(what))?,
        what,
    )
}

fn kat_p256_ecdsa() -> Result<()> {
    let what = "P-256 ECDSA";
    let key = PrivateKey::from_bytes(
        Algorithm::P256,
        &h("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721")?,
    )
    .map_err(|_| fail(what))?;
    let sig = key
        .sign(SignatureScheme::EcdsaCompact, Payload::Message(b"test"))
        .map_err(|_| fail(what))?;
    check(
        sig == h(concat!(
            "f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367",
            "019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083"
        ))?,
        what,
    )?;
    check(
        key.verify(
            SignatureScheme::EcdsaCompact,
            Payload::Message(b"test"),
            &sig,
        )
        .map_err(|_| fail(what))?,
        what,
    )?;
    check(
        !key.verify(
            SignatureScheme::EcdsaCompact,
            Payload::Message(b"sample"),
            &sig,
        )
        .map_err(|_| fail(what))?,
        what,
    )
}

fn kat_ed25519() -> Result<()> {
    let what = "Ed25519";
    let key = PrivateKey::from_bytes(
        Algorithm::Ed25519,
        &h("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")?,
    )
    .map_err(|_| fail(what))?;
    let public = key.public_key().ok_or_else(|| fail(what))?;
    check(
        public.canonical_bytes()
            == h("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")?,
        what,
    )?;
    let sig = key
        .sign(SignatureScheme::Ed25519, Payload::Message(&[0x72]))
        .map_err(|_| fail(what))?;
    check(
        sig == h(concat!(
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da",
            "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
        ))?,
        what,
    )?;
    check(
        public
            .verify(SignatureScheme::Ed25519, Payload::Message(&[0x72]), &sig)
            .map_err(|_| fail(what))?,
        what,
    )?;
    check(
        !public
            .verify(SignatureScheme::Ed25519, Payload::Message(&[0x73]), &sig)
            .map_err(|_| fail(what))?,
        what,
    )
}

fn kat_x25519() -> Result<()> {
    let what = "X25519";
    let alice = PrivateKey::from_bytes(
        Algorithm::X25519,
        &h("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")?,
    )
    .map_err(|_| fail(what))?;
    check(
        alice.public_key().map(|p| p.canonical_bytes())
            == Some(h(
                "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
            )?),
        what,
    )?;
    let bob = parse_public_key(
        Algorithm::X25519,
        &h("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")?,
    )
    .map_err(|_| fail(what))?;
    let shared = alice.diffie_hellman(&bob).map_err(|_| fail(what))?;
    check(
        shared.ct_eq(&h(
            "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
        )?),
        what,
    )?;
    // A low-order peer point must be refused, not yield zeros.
    let zero = parse_public_key(Algorithm::X25519, &[0u8; 32]).map_err(|_| fail(what))?;
    check(alice.diffie_hellman(&zero).is_err(), what)
}

fn kat_ecdh() -> Result<()> {
    let cases = [
        (
            Algorithm::Secp256k1,
            "secp256k1 ECDH",
            "f4b7ff7cccc98813a69fae3df222bfe3f4e28f764bf91b4a10d8096ce446b254",
            concat!(
                "3056301006072a8648ce3d020106052b8104000a03420004d8096af8a11e0b80037e1ee6",
                "8246b5dcbb0aeb1cf1244fd767db80f3fa27da2b396812ea1686e7472e9692eaf3e958e5",
                "0e9500d3b4c77243db1f2acd67ba9cc4"
            ),
            "544dfae22af6af939042b1d85b71a1e49e9a5614123c4d6ad0c8af65baf87d65",
        ),
        (
            Algorithm::P256,
            "P-256 ECDH",
            "0612465c89a023ab17855b0a6bcebfd3febb53aef84138647b5352e02c10c346",
            concat!(
                "3059301306072a8648ce3d020106082a8648ce3d0301070342000462d5bd3372af75fe85",
                "a040715d0f502428e07046868b0bfdfa61d731afe44f26ac333a93a9e70a81cd5a95b5bf",
                "8d13990eb741c8c38872b4a07d275a014e30cf"
            ),
            "53020d908b0219328b658b525f26780e3ae12bcd952bb25a93bc0895e1714285",
        ),
    ];
    for (algorithm, what, private, public, shared) in cases {
        let key = PrivateKey::from_bytes(algorithm, &h(private)?).map_err(|_| fail(what))?;
        let peer = parse_public_key(algorithm, &h(public)?).map_err(|_| fail(what))?;
        let secret = key.diffie_hellman(&peer).map_err(|_| fail(what))?;
        check(secret.ct_eq(&h(shared)?), what)?;
    }
    Ok(())
}

fn kat_aes_gcm() -> Result<()> {
    let what = "AES-256-GCM";
    let key = h("92ace3e348cd821092cd921aa3546374299ab46209691bc28b8752d17f123c20")?;
    let nonce: [u8; 12] = h("00112233445566778899aabb")?
        .try_into()
        .map_err(|_| fail(what))?;
    let aad = h("00000000ffffffff")?;
    let pt = h("00010203040506070809")?;
    let sealed = symmetric::aes_gcm_seal(&key, &nonce, &pt, &aad).map_err(|_| fail(what))?;
    let expected =
        h("00112233445566778899aabbe27abdd2d2a53d2f136b9a4a2579529301bcfb71c78d4060f52c")?;
    check(sealed == expected, what)?;
    let opened = symmetric::aes_gcm_open(&key, &sealed, &aad).map_err(|_| fail(what))?;
    check(opened.ct_eq(&pt), what)?;
    let mut tampered = sealed;
    if let Some(last) = tampered.last_mut() {
        *last ^= 1;
    }
    check(
        symmetric::aes_gcm_open(&key, &tampered, &aad).is_err(),
        what,
    )
}

fn kat_mac_kdf() -> Result<()> {
    let mac = symmetric::hmac_sha256_raw(b"Jefe", b"what do ya want for nothing?");
    check(
        mac.as_slice() == h("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")?,
        "HMAC-SHA256",
    )?;
    let okm = symmetric::hkdf_sha256(
        &[0x0b; 22],
        &h("000102030405060708090a0b0c")?,
        &h("f0f1f2f3f4f5f6f7f8f9")?,
        42,
    )
    .map_err(|_| fail("HKDF-SHA256"))?;
    check(
        okm.ct_eq(&h(concat!(
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf",
            "34007208d5b887185865"
        ))?),
        "HKDF-SHA256",
    )
}

fn kat_bip32() -> Result<()> {
    let what = "BIP32";
    let seed = h("000102030405060708090a0b0c0d0e0f")?;
    let master = crate::hd::ExtendedPrivateKey::from_seed(HdScheme::Bip32Secp256k1, &seed)
        .map_err(|_| fail(what))?;
    let path = crate::hd::DerivationPath::parse("m/0'").map_err(|_| fail(what))?;
    let child = master.derive(&path).map_err(|_| fail(what))?;
    check(
        child.xpub().map_err(|_| fail(what))?
            == "xpub68Gmy5EdvgibQVfPdqkBBCHxA5htiqg55crXYuXoQRKfDBFA1WEjWgP6LHhwBZeNK1VTsfTFUHCdrfp1bgwQ9xv5ski8PX9rL2dZXvgGDnw",
        what,
    )
}

/// A fixed message for the pairwise tests.
const PCT_MESSAGE: &[u8] = b"keyhold pairwise consistency test";

/// Sign-then-verify (or agree/encrypt round trip) with a fresh key; `SelfTestFailed` on failure.
pub(crate) fn pairwise_consistency(key: &PrivateKey) -> Result<()> {
    let algorithm = key.algorithm();
    let what = format!("pairwise consistency test of a {algorithm} key");
    let fail = || Error::SelfTestFailed(what.clone());
    let sign_verify = |scheme: SignatureScheme| -> Result<()> {
        let sig = key
            .sign(scheme, Payload::Message(PCT_MESSAGE))
            .map_err(|_| fail())?;
        let good = key
            .verify(scheme, Payload::Message(PCT_MESSAGE), &sig)
            .map_err(|_| fail())?;
        let bad = key
            .verify(
                scheme,
                Payload::Message(b"keyhold pairwise consistency tesT"),
                &sig,
            )
            .map_err(|_| fail())?;
        if good && !bad { Ok(()) } else { Err(fail()) }
    };
    match key {
        PrivateKey::Secp256k1(_) => {
            sign_verify(SignatureScheme::EcdsaDer)?;
            sign_verify(SignatureScheme::EcdsaRecoverable)?;
            sign_verify(SignatureScheme::Bip340)
        }
        PrivateKey::P256(_) => sign_verify(SignatureScheme::EcdsaDer),
        PrivateKey::Ed25519(_) => sign_verify(SignatureScheme::Ed25519),
        PrivateKey::HmacSha256(_) => sign_verify(SignatureScheme::HmacSha256),
        PrivateKey::X25519(_) => {
            let own = key.public_key().ok_or_else(fail)?;
            let peer = PrivateKey::generate(Algorithm::X25519)?;
            let peer_public = peer.public_key().ok_or_else(fail)?;
            let ours = key.diffie_hellman(&peer_public).map_err(|_| fail())?;
            let theirs = peer.diffie_hellman(&own).map_err(|_| fail())?;
            if ours.ct_eq(theirs.expose()) {
                Ok(())
            } else {
                Err(fail())
            }
        }
        PrivateKey::Aes256Gcm(k) => {
            let sealed = symmetric::aes_gcm_encrypt(k, PCT_MESSAGE, b"pct").map_err(|_| fail())?;
            let opened: SecretBytes =
                symmetric::aes_gcm_decrypt(k, &sealed, b"pct").map_err(|_| fail())?;
            let wrong_aad = symmetric::aes_gcm_decrypt(k, &sealed, b"PCT");
            if opened.ct_eq(PCT_MESSAGE)
                && sealed[12..].len() > PCT_MESSAGE.len()
                && wrong_aad.is_err()
            {
                Ok(())
            } else {
                Err(fail())
            }
        }
    }
}

#[cfg(test)]
mod crypto_vectors_tests;
#[cfg(test)]
mod hd_vectors_tests;
#[cfg(test)]
mod tests;
