use super::*;

fn android_pkg(name: &str, cert: u8) -> AndroidPackage {
    AndroidPackage {
        package_name: name.into(),
        signing_certs: vec![[cert; 32]],
        past_signing_certs: vec![],
    }
}

#[test]
fn android_caller_needs_exactly_one_signed_package() {
    assert_eq!(
        Caller::android(10001, vec![]).unwrap_err().code(),
        crate::ErrorCode::PermissionDenied
    );
    let shared = vec![android_pkg("a.b", 1), android_pkg("c.d", 2)];
    let err = Caller::android(10001, shared).unwrap_err();
    assert_eq!(err.code(), crate::ErrorCode::PermissionDenied);
    assert!(err.to_string().contains("shared"));
    let unsigned = AndroidPackage {
        signing_certs: vec![],
        ..android_pkg("a.b", 1)
    };
    assert!(Caller::android(10001, vec![unsigned]).is_err());
    let ok = Caller::android(10001, vec![android_pkg("a.b", 1)]).unwrap();
    assert_eq!(ok.owner(), "android:a.b");
}

#[test]
fn android_default_rule_binds_certificate_and_follows_rotation() {
    let original = Caller::android(10001, vec![android_pkg("w.app", 1)]).unwrap();
    let rule = original.default_rule(false).unwrap();
    assert!(original.matches(&rule));

    let impostor = Caller::android(10002, vec![android_pkg("w.app", 9)]).unwrap();
    assert!(!impostor.matches(&rule));

    let rotated = Caller::android(
        10001,
        vec![AndroidPackage {
            package_name: "w.app".into(),
            signing_certs: vec![[2; 32]],
            past_signing_certs: vec![[1; 32]],
        }],
    )
    .unwrap();
    assert!(rotated.matches(&rule));
}

#[test]
fn unix_rules_bind_uid_and_optionally_executable() {
    let caller = Caller::Unix {
        uid: 1000,
        gid: 1000,
        pid: 42,
        exe_sha256: Some([7; 32]),
    };
    let by_uid = caller.default_rule(false).unwrap();
    let by_code = caller.default_rule(true).unwrap();
    assert!(caller.matches(&by_uid) && caller.matches(&by_code));

    let other_exe = Caller::Unix {
        uid: 1000,
        gid: 1000,
        pid: 43,
        exe_sha256: Some([8; 32]),
    };
    assert!(other_exe.matches(&by_uid));
    assert!(!other_exe.matches(&by_code));

    let other_uid = Caller::Unix {
        uid: 1001,
        gid: 1001,
        pid: 44,
        exe_sha256: Some([7; 32]),
    };
    assert!(!other_uid.matches(&by_uid));

    let unknown_exe = Caller::Unix {
        uid: 1000,
        gid: 1000,
        pid: 45,
        exe_sha256: None,
    };
    assert!(unknown_exe.default_rule(true).is_err());
    assert!(!unknown_exe.matches(&by_code));
}

#[test]
fn display_has_no_full_digest() {
    let caller = Caller::Unix {
        uid: 1,
        gid: 2,
        pid: 3,
        exe_sha256: Some([0xab; 32]),
    };
    let text = caller.to_string();
    assert!(text.contains("uid=1"));
    assert!(text.len() < 80);
}
