use super::*;

fn unix(uid: u32) -> Caller {
    Caller::Unix {
        uid,
        gid: uid,
        pid: 1,
        exe_sha256: None,
    }
}

#[test]
fn caller_check_requires_a_matching_rule() {
    let policy = KeyPolicy {
        allowed_callers: vec![unix(1000).default_rule(false).unwrap()],
        ..KeyPolicy::default()
    };
    assert!(policy.check_caller(&unix(1000)).is_ok());
    assert_eq!(
        policy.check_caller(&unix(1001)).unwrap_err().code(),
        crate::ErrorCode::PermissionDenied
    );
    // An empty rule list admits nobody.
    assert!(KeyPolicy::default().check_caller(&unix(1000)).is_err());
}

#[test]
fn operation_and_usage_checks() {
    let policy = KeyPolicy {
        allowed_operations: Some(OperationSet::of(&[
            Operation::Sign,
            Operation::GetPublicKey,
        ])),
        max_uses: Some(2),
        ..KeyPolicy::default()
    };
    assert!(policy.check_operation(Operation::Sign).is_ok());
    assert_eq!(
        policy
            .check_operation(Operation::Decrypt)
            .unwrap_err()
            .code(),
        crate::ErrorCode::OperationNotAllowed
    );
    assert!(policy.check_usage(1).is_ok());
    assert_eq!(
        policy.check_usage(2).unwrap_err().code(),
        crate::ErrorCode::UsageLimitExceeded
    );
    assert!(
        KeyPolicy::default()
            .check_operation(Operation::Decrypt)
            .is_ok()
    );
}

#[test]
fn path_prefixes() {
    let policy = KeyPolicy {
        allowed_path_prefixes: vec![DerivationPath::parse("m/44'/60'").unwrap()],
        ..KeyPolicy::default()
    };
    assert!(
        policy
            .check_path(&DerivationPath::parse("m/44'/60'/0'/0/0").unwrap())
            .is_ok()
    );
    assert_eq!(
        policy
            .check_path(&DerivationPath::parse("m/44'/0'/0'").unwrap())
            .unwrap_err()
            .code(),
        crate::ErrorCode::PathNotAllowed
    );
}

#[test]
fn operation_set_bits_round_trip() {
    let set = OperationSet::of(&[Operation::Sign, Operation::Verify]);
    assert_eq!(OperationSet::from_bits(set.bits()), set);
    assert_eq!(
        set.iter().collect::<Vec<_>>(),
        vec![Operation::Sign, Operation::Verify]
    );
    assert_eq!(OperationSet::from_bits(0x8000_0000), OperationSet::empty());
}

// ---- narrowed_for_child (issue 10 item 2) ---------------------------------

fn p(s: &str) -> DerivationPath {
    DerivationPath::parse(s).unwrap()
}

fn child_at(path: &DerivationPath, used: u64) -> ChildOf<'_> {
    ChildOf {
        source_used: used,
        path: Some(path),
    }
}

#[test]
fn rerooting_follows_each_prefix() {
    let source = KeyPolicy {
        allowed_callers: vec![unix(1).default_rule(false).unwrap()],
        allowed_path_prefixes: vec![p("m/44'/60'/0'/0"), p("m/44'/0'/0'/1"), p("m/84'")],
        ..KeyPolicy::default()
    };
    // A child above two prefixes sees the rest of each below it.
    let d = p("m/44'");
    let child = source
        .narrowed_for_child(KeyPolicy::default(), None, child_at(&d, 0))
        .unwrap();
    assert_eq!(
        child.allowed_path_prefixes,
        vec![p("m/60'/0'/0"), p("m/0'/0'/1")]
    );
    // A child inside a prefix is unrestricted.
    let d = p("m/84'/0'");
    let child = source
        .narrowed_for_child(KeyPolicy::default(), None, child_at(&d, 0))
        .unwrap();
    assert!(child.allowed_path_prefixes.is_empty());
    // A child beside every prefix is refused.
    let d = p("m/49'");
    assert_eq!(
        source
            .narrowed_for_child(KeyPolicy::default(), None, child_at(&d, 0))
            .unwrap_err()
            .code(),
        crate::ErrorCode::PathNotAllowed
    );
    // A requested prefix must lie inside the re-rooted ones.
    let d = p("m/44'");
    let inside = KeyPolicy {
        allowed_path_prefixes: vec![p("m/60'/0'/0/3")],
        ..KeyPolicy::default()
    };
    assert!(
        source
            .narrowed_for_child(inside, None, child_at(&d, 0))
            .is_ok()
    );
    let outside = KeyPolicy {
        allowed_path_prefixes: vec![p("m/60'/1'")],
        ..KeyPolicy::default()
    };
    assert!(
        source
            .narrowed_for_child(outside, None, child_at(&d, 0))
            .is_err()
    );
}

#[test]
fn callers_operations_and_uses_never_widen() {
    let code = [9u8; 32];
    let source = KeyPolicy {
        allowed_callers: vec![CallerRule {
            uid: Some(5),
            app_id: None,
            code_sha256: Some(code),
        }],
        allowed_operations: Some(OperationSet::of(&[Operation::Sign])),
        max_uses: Some(10),
        ..KeyPolicy::default()
    };
    let d = p("m/1");
    let inherited = source
        .narrowed_for_child(KeyPolicy::default(), None, child_at(&d, 4))
        .unwrap();
    assert_eq!(inherited.allowed_callers, source.allowed_callers);
    assert_eq!(inherited.allowed_operations, source.allowed_operations);
    assert_eq!(inherited.max_uses, Some(6));
    // Narrower requests are kept as asked.
    let narrower = KeyPolicy {
        allowed_callers: vec![CallerRule {
            uid: Some(5),
            app_id: Some("x".into()),
            code_sha256: Some(code),
        }],
        max_uses: Some(2),
        ..KeyPolicy::default()
    };
    let got = source
        .narrowed_for_child(narrower.clone(), None, child_at(&d, 4))
        .unwrap();
    assert_eq!(got.allowed_callers, narrower.allowed_callers);
    assert_eq!(got.max_uses, Some(2));
    // Each wider field is refused.
    for wider in [
        KeyPolicy {
            allowed_callers: vec![CallerRule {
                uid: Some(5),
                ..CallerRule::default()
            }],
            ..KeyPolicy::default()
        },
        KeyPolicy {
            allowed_operations: Some(OperationSet::of(&[Operation::Sign, Operation::Decrypt])),
            ..KeyPolicy::default()
        },
        KeyPolicy {
            max_uses: Some(7),
            ..KeyPolicy::default()
        },
    ] {
        let err = source
            .narrowed_for_child(wider.clone(), None, child_at(&d, 4))
            .unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::InvalidArgument, "{wider:?}");
    }
    // No use left: no child.
    assert_eq!(
        source
            .narrowed_for_child(KeyPolicy::default(), None, child_at(&d, 10))
            .unwrap_err()
            .code(),
        crate::ErrorCode::UsageLimitExceeded
    );
    // bind_code adds the creator's digest to rules without one.
    let open = KeyPolicy {
        allowed_callers: vec![CallerRule {
            uid: Some(5),
            ..CallerRule::default()
        }],
        ..KeyPolicy::default()
    };
    let bound = open
        .narrowed_for_child(KeyPolicy::default(), Some([1; 32]), child_at(&d, 0))
        .unwrap();
    assert_eq!(bound.allowed_callers[0].code_sha256, Some([1; 32]));
}
