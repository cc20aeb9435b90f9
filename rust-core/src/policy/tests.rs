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
