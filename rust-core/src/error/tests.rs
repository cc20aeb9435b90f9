use super::*;

#[test]
fn codes_round_trip_and_are_dense() {
    for (i, code) in ErrorCode::ALL.iter().enumerate() {
        assert_eq!(code.as_u32(), i as u32 + 1);
        assert_eq!(ErrorCode::from_u32(code.as_u32()), Some(*code));
    }
    assert_eq!(ErrorCode::from_u32(0), None);
    assert_eq!(ErrorCode::from_u32(24), None);
}

#[test]
fn sealer_kinds_map_to_distinct_codes() {
    assert_eq!(
        Error::sealer(SealerErrorKind::Unavailable, "busy").code(),
        ErrorCode::SealerUnavailable
    );
    assert_eq!(
        Error::sealer(SealerErrorKind::KeyInvalidated, "gone").code(),
        ErrorCode::SealerKeyInvalidated
    );
    assert_eq!(
        Error::sealer(SealerErrorKind::AuthenticationFailed, "tag").code(),
        ErrorCode::CorruptKeyRecord
    );
}

#[test]
fn store_contract_violations_are_internal_and_say_what() {
    let e = Error::StoreContract(StoreContract::AuditOutOfSequence { seq: 5, last: 3 });
    assert_eq!(e.code(), ErrorCode::Internal);
    assert_eq!(
        e.to_string(),
        "store contract violated: audit record seq 5 does not follow seq 3"
    );
}
