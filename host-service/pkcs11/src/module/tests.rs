use super::*;

fn attr(t: CK_ATTRIBUTE_TYPE, v: Vec<u8>) -> (CK_ATTRIBUTE_TYPE, Vec<u8>) {
    (t, v)
}

#[test]
fn templates_may_restate_but_not_weaken() {
    let mut r = Requested::default();
    let ok = vec![
        attr(CKA_TOKEN, vec![CK_TRUE]),
        attr(CKA_SENSITIVE, vec![CK_TRUE]),
        attr(CKA_EXTRACTABLE, vec![CK_FALSE]),
        attr(CKA_SIGN, vec![CK_TRUE]),
        attr(CKA_LABEL, b"k".to_vec()),
    ];
    check_template(&ok, Class::Private, Algorithm::P256, &mut r).unwrap();
    assert_eq!(r.label.as_deref(), Some("k"));
    for (bad, rv) in [
        (
            attr(CKA_EXTRACTABLE, vec![CK_TRUE]),
            CKR_ATTRIBUTE_VALUE_INVALID,
        ),
        (
            attr(CKA_SENSITIVE, vec![CK_FALSE]),
            CKR_ATTRIBUTE_VALUE_INVALID,
        ),
        (attr(CKA_TOKEN, vec![CK_FALSE]), CKR_ATTRIBUTE_VALUE_INVALID),
        (
            attr(CKA_DECRYPT, vec![CK_TRUE]),
            CKR_ATTRIBUTE_VALUE_INVALID,
        ),
        (attr(CKA_ID, vec![1]), CKR_ATTRIBUTE_READ_ONLY),
        (attr(CKA_VALUE, vec![1; 32]), CKR_TEMPLATE_INCONSISTENT),
        (
            attr(CKA_CLASS, ulong_of(CKO_PUBLIC_KEY)),
            CKR_TEMPLATE_INCONSISTENT,
        ),
        (attr(0x8123_0000, vec![]), CKR_ATTRIBUTE_TYPE_INVALID),
    ] {
        let got = check_template(
            &vec![bad.clone()],
            Class::Private,
            Algorithm::P256,
            &mut Requested::default(),
        );
        assert_eq!(got, Err(Rv(rv)), "{bad:?}");
    }
}

#[test]
fn two_labels_must_agree() {
    let mut r = Requested::default();
    check_template(
        &vec![attr(CKA_LABEL, b"a".to_vec())],
        Class::Public,
        Algorithm::Ed25519,
        &mut r,
    )
    .unwrap();
    assert_eq!(
        check_template(
            &vec![attr(CKA_LABEL, b"b".to_vec())],
            Class::Private,
            Algorithm::Ed25519,
            &mut r
        ),
        Err(Rv(CKR_TEMPLATE_INCONSISTENT))
    );
}

fn ulong_of(v: CK_ULONG) -> Vec<u8> {
    v.to_ne_bytes().to_vec()
}

#[test]
fn usage_switched_off_becomes_policy() {
    let mut r = Requested::default();
    let t = vec![
        attr(CKA_DERIVE, vec![CK_FALSE]),
        attr(CKA_SIGN, vec![CK_FALSE]),
    ];
    check_template(&t, Class::Private, Algorithm::P256, &mut r).unwrap();
    assert_eq!(r.denied, vec![Operation::Agree, Operation::Sign]);
    // CKA_DERIVE asked of a key that cannot derive is accepted (pkcs11-tool
    // asks it by default) and reported false; other usages are refused.
    let mut r = Requested::default();
    check_template(
        &vec![attr(CKA_DERIVE, vec![CK_TRUE])],
        Class::Private,
        Algorithm::Ed25519,
        &mut r,
    )
    .unwrap();
    assert!(r.denied.is_empty());
    assert_eq!(
        check_template(
            &vec![attr(CKA_ENCRYPT, vec![CK_TRUE])],
            Class::Public,
            Algorithm::Ed25519,
            &mut r
        ),
        Err(Rv(CKR_ATTRIBUTE_VALUE_INVALID))
    );
}
