use super::*;

#[test]
fn keys_are_separate_per_store_and_per_purpose() {
    let (a, b) = (StoreIntegrity::for_tests(1), StoreIntegrity::for_tests(2));
    let info = KeyInfo {
        id: KeyId::from_u64(7),
        alias: "k".into(),
        algorithm: crate::algorithm::Algorithm::Ed25519,
        hd_scheme: None,
        origin: crate::key::KeyOrigin::Generated,
        public_key: vec![1; 32],
        policy: crate::policy::KeyPolicy::default(),
        usage_count: 0,
        created_at_ms: 1,
        sealer: "software".into(),
    };
    assert_ne!(a.meta_mac("o", &info, 1), b.meta_mac("o", &info, 1));
    assert_ne!(a.meta_mac("o", &info, 1), a.meta_mac("o", &info, 2));
    assert_ne!(a.usage_mac(info.id, 1), b.usage_mac(info.id, 1));
    assert_ne!(a.anchor_mac(1, &[0; 32], 1), b.anchor_mac(1, &[0; 32], 1));
    let out = |m: &HmacSha256| -> [u8; 32] { m.clone().finalize().into_bytes().into() };
    let all = [out(&a.audit), out(&a.anchor), out(&a.meta), out(&a.usage)];
    for (i, x) in all.iter().enumerate() {
        assert!(
            all[i + 1..].iter().all(|y| y != x),
            "purpose keys are distinct"
        );
    }
    assert_eq!(format!("{a:?}"), "StoreIntegrity([redacted])");
}

#[test]
fn ct_eq_needs_the_whole_mac() {
    let m = [3u8; 32];
    assert!(ct_eq(&m, &m));
    assert!(!ct_eq(&m, &m[..31]));
    let mut other = m;
    other[31] ^= 1;
    assert!(!ct_eq(&m, &other));
}
