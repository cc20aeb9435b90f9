use super::*;

#[test]
fn fieldless_enums_round_trip_through_the_core() {
    for a in core_::Algorithm::ALL {
        assert_eq!(core_::Algorithm::from(Algorithm::from(*a)), *a);
    }
    for s in core_::HdScheme::ALL {
        assert_eq!(core_::HdScheme::from(HdScheme::from(*s)), *s);
    }
    for s in core_::SignatureScheme::ALL {
        assert_eq!(core_::SignatureScheme::from(SignatureScheme::from(*s)), *s);
    }
    for f in core_::PublicKeyFormat::ALL {
        assert_eq!(core_::PublicKeyFormat::from(PublicKeyFormat::from(*f)), *f);
    }
    for o in core_::Operation::ALL {
        assert_eq!(core_::Operation::from(KeyOperation::from(*o)), *o);
    }
}

#[test]
fn a_policy_round_trips_and_bad_fields_carry_the_core_codes() {
    let policy = KeyPolicy {
        allowed_callers: vec![CallerRule {
            uid: None,
            app_id: Some("dev.keyhold.app".into()),
            code_sha256: Some(vec![7; 32]),
        }],
        allowed_operations: Some(vec![KeyOperation::GetPublicKey, KeyOperation::Sign]),
        allowed_path_prefixes: vec!["m/44'/60'".into()],
        max_uses: Some(10),
    };
    let core = core_::KeyPolicy::try_from(policy.clone()).expect("valid policy");
    assert_eq!(KeyPolicy::from(core), policy);

    let bad_path = KeyPolicy {
        allowed_path_prefixes: vec!["44/60".into()],
        ..KeyPolicy::default()
    };
    let err = core_::KeyPolicy::try_from(bad_path).unwrap_err();
    assert_eq!(err.code(), core_::ErrorCode::InvalidPath.as_u32());

    let bad_digest = CallerRule {
        code_sha256: Some(vec![1; 31]),
        ..CallerRule::default()
    };
    let err = core_::CallerRule::try_from(bad_digest).unwrap_err();
    assert_eq!(err.code(), core_::ErrorCode::InvalidArgument.as_u32());
}

#[test]
fn key_refs_and_payloads_are_checked_by_the_core_parsers() {
    let id = core_::KeyRef::try_from(KeyRef::Id {
        id: "00000000000000ff".into(),
    })
    .expect("id");
    assert_eq!(id, core_::KeyRef::Id(core_::KeyId::from_u64(255)));
    let err = core_::KeyRef::try_from(KeyRef::Id { id: "ff".into() }).unwrap_err();
    assert_eq!(err.code(), core_::ErrorCode::InvalidArgument.as_u32());

    let short = Payload::Digest {
        digest: vec![0; 31],
    };
    assert_eq!(
        short.as_core().unwrap_err().code(),
        core_::ErrorCode::InvalidArgument.as_u32()
    );
    assert!(matches!(
        (Payload::Digest {
            digest: vec![0; 32]
        })
        .as_core(),
        Ok(core_::Payload::Digest(_))
    ));
    assert_eq!(
        parse_path(Some("m/0x")).unwrap_err().code(),
        core_::ErrorCode::InvalidPath.as_u32()
    );
}

#[test]
fn an_agreement_secret_is_redacted_in_debug() {
    let a = Agreement::Secret {
        secret: vec![0xAB; 32],
    };
    let shown = format!("{a:?}");
    assert!(!shown.contains("171"), "{shown}");
    assert!(shown.contains("redacted"));
}
