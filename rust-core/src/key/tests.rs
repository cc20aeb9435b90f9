use super::*;

#[test]
fn key_id_text_round_trip() {
    let id = KeyId::from_u64(0x00ab_cdef_0123_4567);
    assert_eq!(id.to_string(), "00abcdef01234567");
    assert_eq!(KeyId::parse("00abcdef01234567").unwrap(), id);
    assert!(KeyId::parse("abc").is_err());
    assert!(KeyId::parse("zzzzzzzzzzzzzzzz").is_err());
}

#[test]
fn random_ids_are_nonzero_and_differ() {
    let a = KeyId::random().unwrap();
    let b = KeyId::random().unwrap();
    assert_ne!(a.as_u64(), 0);
    assert_ne!(a, b);
}

#[test]
fn alias_rules() {
    assert!(crate::alias::normalize_alias("wallet-1").is_ok());
    assert!(crate::alias::normalize_alias("").is_err());
    assert!(crate::alias::normalize_alias(&"a".repeat(129)).is_err());
    assert!(crate::alias::normalize_alias("bad\nalias").is_err());
}

#[test]
fn origin_round_trip() {
    for o in [
        KeyOrigin::Generated,
        KeyOrigin::Imported,
        KeyOrigin::Derived,
    ] {
        assert_eq!(KeyOrigin::from_u8(o.as_u8()), Some(o));
    }
    assert_eq!(KeyOrigin::from_u8(9), None);
}
