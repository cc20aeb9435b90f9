use super::*;

#[test]
fn ecdsa_inputs_follow_the_leftmost_bits_rule() {
    // SHA-512-sized input: the first 32 bytes are signed.
    let long: Vec<u8> = (0u8..64).collect();
    assert_eq!(
        ecdsa_digest(&long).unwrap().to_vec(),
        (0u8..32).collect::<Vec<_>>()
    );
    // SHA-1-sized input: the same integer, left-padded.
    let short = [0xabu8; 20];
    let d = ecdsa_digest(&short).unwrap();
    assert_eq!(&d[..12], &[0u8; 12]);
    assert_eq!(&d[12..], &short);
    assert_eq!(ecdsa_digest(&[]), Err(Rv(CKR_DATA_LEN_RANGE)));
}

#[test]
fn multi_part_sha256_equals_single_part() {
    let key = KeyId::from_u64(7);
    let mut op = SignOp::new(key, SignMech::EcdsaSha256);
    op.update(b"hello ").unwrap();
    op.update(b"world").unwrap();
    let single = SignOp::new(key, SignMech::EcdsaSha256)
        .single(b"hello world")
        .unwrap();
    // SHA-256("hello world"), as printed by `printf 'hello world' | sha256sum`.
    let expected = "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9";
    for r in [op.finish(), single] {
        match r.payload() {
            Payload::Digest(d) => assert_eq!(hex_of(d), expected),
            Payload::Message(_) => panic!("ECDSA-SHA256 must send a digest"),
        }
    }
}

#[test]
fn single_part_mechanisms_refuse_updates() {
    let key = KeyId::from_u64(7);
    for m in [SignMech::EcdsaRaw, SignMech::Eddsa] {
        let mut op = SignOp::new(key, m);
        assert_eq!(op.update(b"x"), Err(Rv(CKR_FUNCTION_NOT_SUPPORTED)));
    }
}

#[test]
fn hmac_buffers_are_bounded() {
    let mut op = SignOp::new(KeyId::from_u64(1), SignMech::HmacSha256);
    op.update(&vec![0; MAX_BUFFERED]).unwrap();
    assert_eq!(op.update(&[0]), Err(Rv(CKR_DATA_LEN_RANGE)));
}

#[test]
fn mechanisms_fit_only_their_key_types() {
    assert!(SignMech::EcdsaRaw.fits(Algorithm::Secp256k1));
    assert!(SignMech::EcdsaSha256.fits(Algorithm::P256));
    assert!(!SignMech::EcdsaRaw.fits(Algorithm::Ed25519));
    assert!(!SignMech::Eddsa.fits(Algorithm::P256));
    assert!(!SignMech::HmacSha256.fits(Algorithm::Aes256Gcm));
    assert_eq!(
        SignMech::parse(CKM_RSA_PKCS, &[]),
        Err(Rv(CKR_MECHANISM_INVALID))
    );
    assert_eq!(
        SignMech::parse(CKM_ECDSA, &[1]),
        Err(Rv(CKR_MECHANISM_PARAM_INVALID))
    );
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
