use super::*;
use keyhold_client::core::{KeyPolicy, OperationSet};

fn entry(algorithm: Algorithm, point: Option<Vec<u8>>) -> Entry {
    Entry {
        info: KeyInfo {
            id: KeyId::from_u64(0x0102_0304_0506_0708),
            alias: "signer".into(),
            algorithm,
            hd_scheme: None,
            origin: KeyOrigin::Generated,
            public_key: Vec::new(),
            policy: KeyPolicy::default(),
            usage_count: 0,
            created_at_ms: 0,
            sealer: String::new(),
        },
        point,
    }
}

#[test]
fn private_keys_are_sensitive_and_never_extractable() {
    let e = entry(Algorithm::P256, Some(vec![4; 65]));
    assert_eq!(e.attribute(Class::Private, CKA_VALUE), Attr::Sensitive);
    assert_eq!(
        e.attribute(Class::Private, CKA_SENSITIVE),
        Attr::Value(vec![CK_TRUE])
    );
    assert_eq!(
        e.attribute(Class::Private, CKA_EXTRACTABLE),
        Attr::Value(vec![CK_FALSE])
    );
    assert_eq!(
        e.attribute(Class::Private, CKA_MODIFIABLE),
        Attr::Value(vec![CK_FALSE])
    );
    // A public key has no CKA_VALUE for EC (PKCS#11 3.0 §2.3.3).
    assert_eq!(e.attribute(Class::Public, CKA_VALUE), Attr::Invalid);
    assert_eq!(e.attribute(Class::Public, CKA_SENSITIVE), Attr::Invalid);
    assert_eq!(e.attribute(Class::Private, 0x8000_1234), Attr::Invalid);
}

#[test]
fn ec_attributes_are_der() {
    let point = [vec![4u8], vec![0xaa; 64]].concat();
    let e = entry(Algorithm::P256, Some(point.clone()));
    assert_eq!(
        e.attribute(Class::Public, CKA_EC_PARAMS),
        Attr::Value(der::OID_P256.to_vec())
    );
    let Attr::Value(v) = e.attribute(Class::Public, CKA_EC_POINT) else {
        panic!("EC point missing")
    };
    assert_eq!(&v[..2], &[0x04, 65]);
    assert_eq!(&v[2..], point.as_slice());
    let ed = entry(Algorithm::Ed25519, Some(vec![7; 32]));
    assert_eq!(
        ed.attribute(Class::Public, CKA_KEY_TYPE),
        Attr::Value(ulong(CKK_EC_EDWARDS))
    );
    assert_eq!(
        ed.attribute(Class::Public, CKA_EC_POINT),
        Attr::Value([vec![0x04, 32], vec![7; 32]].concat())
    );
}

#[test]
fn id_and_label_come_from_the_key() {
    let e = entry(Algorithm::Ed25519, Some(vec![7; 32]));
    assert_eq!(
        e.attribute(Class::Private, CKA_ID),
        Attr::Value(vec![1, 2, 3, 4, 5, 6, 7, 8])
    );
    assert_eq!(
        e.attribute(Class::Public, CKA_LABEL),
        Attr::Value(b"signer".to_vec())
    );
}

#[test]
fn templates_match_exactly() {
    let e = entry(Algorithm::Secp256k1, Some(vec![4; 65]));
    let t = vec![
        (CKA_CLASS, ulong(CKO_PRIVATE_KEY)),
        (CKA_LABEL, b"signer".to_vec()),
    ];
    assert!(e.matches(Class::Private, &t));
    assert!(!e.matches(Class::Public, &t));
    assert!(!e.matches(Class::Private, &vec![(CKA_LABEL, b"signe".to_vec())]));
    // A sensitive or unknown attribute never matches.
    assert!(!e.matches(Class::Private, &vec![(CKA_VALUE, vec![0; 32])]));
    assert!(e.matches(Class::Public, &Vec::new()));
}

#[test]
fn policy_limits_show_in_usage_attributes() {
    let mut e = entry(Algorithm::P256, Some(vec![4; 65]));
    e.info.policy.allowed_operations = Some(OperationSet::of(&[Operation::Verify]));
    assert_eq!(
        e.attribute(Class::Private, CKA_SIGN),
        Attr::Value(vec![CK_FALSE])
    );
    assert_eq!(
        e.attribute(Class::Private, CKA_DERIVE),
        Attr::Value(vec![CK_FALSE])
    );
}

#[test]
fn handles_are_stable_and_forgotten_with_their_key() {
    let mut t = ObjectTable::default();
    let a = t.insert(entry(Algorithm::P256, Some(vec![4; 65])));
    assert_eq!(a.len(), 2);
    let again = t.insert(entry(Algorithm::P256, Some(vec![4; 65])));
    assert_eq!(a, again);
    let mut aes = entry(Algorithm::Aes256Gcm, None);
    aes.info.id = KeyId::from_u64(9);
    let s = t.insert(aes);
    assert_eq!(s.len(), 1);
    assert_eq!(t.get(s[0]).map(|(_, c)| c), Some(Class::Secret));
    t.retain(&[KeyId::from_u64(9)]);
    assert!(t.get(a[0]).is_none() && t.get(a[1]).is_none());
    assert_eq!(t.all().len(), 1);
}
