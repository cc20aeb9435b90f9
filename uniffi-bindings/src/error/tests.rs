use super::*;

#[test]
fn every_core_code_passes_through_unchanged() {
    for code in ErrorCode::ALL {
        let core = match code {
            ErrorCode::KeyNotFound => CoreError::KeyNotFound("k".into()),
            ErrorCode::DecryptionFailed => CoreError::DecryptionFailed,
            ErrorCode::SealerUnavailable => CoreError::sealer(SealerErrorKind::Unavailable, "x"),
            ErrorCode::SealerKeyInvalidated => {
                CoreError::sealer(SealerErrorKind::KeyInvalidated, "x")
            }
            _ => continue,
        };
        assert_eq!(KeyholdError::from(core).code(), code.as_u32());
    }
}

#[test]
fn every_code_has_a_category_and_the_categories_match_the_docs() {
    use Category as K;
    let expected = [
        (1, K::InvalidInput),
        (2, K::InvalidInput),
        (3, K::InvalidInput),
        (4, K::KeyNotFound),
        (5, K::NotAllowed),
        (6, K::NotAllowed),
        (7, K::InvalidInput),
        (8, K::InvalidInput),
        (9, K::InvalidInput),
        (10, K::InvalidInput),
        (11, K::InvalidInput),
        (12, K::InvalidInput),
        (13, K::NotAllowed),
        (14, K::NotAllowed),
        (15, K::DecryptionFailed),
        (16, K::Unavailable),
        (17, K::KeyInvalidated),
        (18, K::CorruptKeyRecord),
        (19, K::Internal),
        (20, K::Internal),
        (21, K::InvalidInput),
        (22, K::Unavailable),
        (23, K::Internal),
    ];
    assert_eq!(expected.len(), ErrorCode::ALL.len());
    for (number, category_) in expected {
        let code = ErrorCode::from_u32(number).expect("code exists");
        assert_eq!(category(code), category_, "code {number}");
    }
}

#[test]
fn foreign_sealer_errors_map_to_the_core_kinds_and_codes() {
    let cases = [
        (
            SealerError::Unavailable {
                detail: "busy".into(),
            },
            ErrorCode::SealerUnavailable,
        ),
        (
            SealerError::KeyInvalidated {
                detail: "gone".into(),
            },
            ErrorCode::SealerKeyInvalidated,
        ),
        (
            SealerError::AuthenticationFailed {
                detail: "tag".into(),
            },
            ErrorCode::CorruptKeyRecord,
        ),
    ];
    for (foreign, code) in cases {
        let core = CoreError::from(foreign);
        assert_eq!(core.code(), code);
        assert_eq!(KeyholdError::from(core).code(), code.as_u32());
    }
}

#[test]
fn an_unexpected_foreign_exception_is_a_retryable_sealer_failure() {
    let e = SealerError::from(uniffi::UnexpectedUniFFICallbackError::new("boom"));
    assert!(matches!(e, SealerError::Unavailable { .. }));
    assert_eq!(CoreError::from(e).code(), ErrorCode::SealerUnavailable);
}
