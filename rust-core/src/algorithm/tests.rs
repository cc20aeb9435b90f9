use super::*;

#[test]
fn names_round_trip() {
    for a in Algorithm::ALL {
        assert_eq!(Algorithm::from_name(a.name()).unwrap(), *a);
    }
    for s in SignatureScheme::ALL {
        assert_eq!(SignatureScheme::from_name(s.name()).unwrap(), *s);
    }
    for f in PublicKeyFormat::ALL {
        assert_eq!(PublicKeyFormat::from_name(f.name()).unwrap(), *f);
    }
    for o in Operation::ALL {
        assert_eq!(Operation::from_name(o.name()).unwrap(), *o);
    }
    for h in HdScheme::ALL {
        assert_eq!(HdScheme::from_name(h.name()).unwrap(), *h);
        assert_eq!(HdScheme::for_algorithm(h.algorithm()).unwrap(), *h);
    }
}

#[test]
fn aliases_parse() {
    assert_eq!(Algorithm::from_name("secp256r1").unwrap(), Algorithm::P256);
    assert_eq!(
        PublicKeyFormat::from_name("sec1").unwrap(),
        PublicKeyFormat::Sec1Compressed
    );
    assert!(Algorithm::from_name("rsa").is_err());
}

#[test]
fn scheme_support_matrix() {
    assert!(SignatureScheme::Bip340.supports(Algorithm::Secp256k1));
    assert!(!SignatureScheme::Bip340.supports(Algorithm::P256));
    assert!(!SignatureScheme::EcdsaRecoverable.supports(Algorithm::P256));
    assert!(SignatureScheme::EcdsaCompact.supports(Algorithm::P256));
    assert!(!SignatureScheme::Ed25519.supports(Algorithm::X25519));
    assert!(SignatureScheme::default_for(Algorithm::X25519).is_err());
}

#[test]
fn operation_bits_are_distinct() {
    let mut seen = 0u32;
    for o in Operation::ALL {
        assert_eq!(seen & o.bit(), 0);
        seen |= o.bit();
    }
}
