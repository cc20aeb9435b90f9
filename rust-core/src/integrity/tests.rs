use super::*;
use crate::caller::CallerRule;
use crate::hd::DerivationPath;
use crate::policy::OperationSet;

type Edit = Box<dyn Fn(&mut StoredKey)>;

fn key() -> StoredKey {
    crate::store::test_key_for_integrity()
}

#[test]
fn every_policy_field_and_identity_field_is_covered() {
    let i = StoreIntegrity::for_tests(1);
    let base = key();
    let mac = i.meta_mac(&base);
    let edits: Vec<Edit> = vec![
        Box::new(|k| k.info.alias.push('x')),
        Box::new(|k| k.owner.push('x')),
        Box::new(|k| k.info.public_key[1] ^= 1),
        Box::new(|k| k.info.policy.max_uses = None),
        Box::new(|k| k.info.policy.max_uses = Some(99)),
        Box::new(|k| k.info.policy.allowed_operations = None),
        Box::new(|k| k.info.policy.allowed_operations = Some(OperationSet::empty())),
        Box::new(|k| k.info.policy.allowed_callers[0].code_sha256 = None),
        Box::new(|k| k.info.policy.allowed_callers.push(CallerRule::default())),
        Box::new(|k| k.info.policy.allowed_path_prefixes.clear()),
        Box::new(|k| {
            k.info.policy.allowed_path_prefixes[0] = DerivationPath::parse("m/1").unwrap()
        }),
        Box::new(|k| k.info.created_at_ms += 1),
        Box::new(|k| k.info.sealer.push('x')),
        Box::new(|k| k.sealed_schema_version -= 1),
        Box::new(|k| k.info.id = crate::key::KeyId::from_u64(k.info.id.as_u64() ^ 1)),
    ];
    for (n, edit) in edits.iter().enumerate() {
        let mut k = base.clone();
        edit(&mut k);
        assert_ne!(i.meta_mac(&k), mac, "edit {n} is not covered");
    }
    // The usage count is not in the metadata MAC (it changes on every use)...
    let mut used = base.clone();
    used.info.usage_count += 1;
    assert_eq!(i.meta_mac(&used), mac);
    // ...but in its own, bound to the key id.
    let id = base.info.id;
    assert_ne!(i.usage_mac(id, 1), i.usage_mac(id, 0));
    assert_ne!(
        i.usage_mac(id, 1),
        i.usage_mac(crate::key::KeyId::from_u64(id.as_u64() ^ 1), 1)
    );
}

#[test]
fn keys_are_separate_per_store_and_per_purpose() {
    let (a, b) = (StoreIntegrity::for_tests(1), StoreIntegrity::for_tests(2));
    assert_ne!(a.meta_mac(&key()), b.meta_mac(&key()));
    assert_ne!(a.anchor_mac(1, &[0; 32], 1), b.anchor_mac(1, &[0; 32], 1));
    let out = |m: &HmacSha256| -> [u8; 32] { m.clone().finalize().into_bytes().into() };
    let all = [out(&a.audit), out(&a.anchor), out(&a.meta), out(&a.usage)];
    for (i, x) in all.iter().enumerate() {
        assert!(
            all[i + 1..].iter().all(|y| y != x),
            "purpose keys are distinct"
        );
    }
    let anchor = a.anchor(5, [9; 32], 2);
    assert!(a.anchor_is_authentic(&anchor));
    assert!(!b.anchor_is_authentic(&anchor));
    for tampered in [
        AuditAnchor { seq: 4, ..anchor },
        AuditAnchor {
            head: [8; 32],
            ..anchor
        },
        AuditAnchor {
            keyed_from: 1,
            ..anchor
        },
    ] {
        assert!(!a.anchor_is_authentic(&tampered));
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
