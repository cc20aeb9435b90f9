use super::*;

#[test]
fn every_algorithm_round_trips_through_its_wire_number() {
    for a in Algorithm::ALL {
        let wire = algorithm(*a) as i32;
        assert_ne!(wire, 0, "{a} must not map to UNSPECIFIED");
        assert_eq!(algorithm_from(wire).unwrap(), Some(*a));
    }
    assert_eq!(algorithm_from(0).unwrap(), None);
    assert!(algorithm_from(999).is_err());
}

#[test]
fn every_hd_scheme_round_trips() {
    for s in HdScheme::ALL {
        let wire = hd_scheme(Some(*s)) as i32;
        assert_ne!(wire, 0);
        assert_eq!(hd_scheme_from(wire).unwrap(), Some(*s));
    }
    assert_eq!(hd_scheme(None) as i32, 0);
}

#[test]
fn every_operation_round_trips() {
    for op in Operation::ALL {
        assert_eq!(operation_from(operation(*op) as i32).unwrap(), *op);
    }
    assert!(operation_from(0).is_err());
}

#[test]
fn schemes_and_formats_are_distinct_and_specified() {
    let mut seen = std::collections::HashSet::new();
    for s in SignatureScheme::ALL {
        let wire = signature_scheme(Some(*s)) as i32;
        assert_ne!(wire, 0);
        assert!(seen.insert(wire), "{s} maps to a number already used");
    }
    let mut seen = std::collections::HashSet::new();
    for f in PublicKeyFormat::ALL {
        let wire = public_key_format(*f) as i32;
        assert_ne!(wire, 0);
        assert!(seen.insert(wire), "{f} maps to a number already used");
    }
}

#[test]
fn cli_names_reach_the_expected_wire_values() {
    assert_eq!(
        public_key_format(PublicKeyFormat::from_name("eth-address").unwrap()),
        pb::PublicKeyFormat::EthAddress
    );
    assert_eq!(
        public_key_format(PublicKeyFormat::from_name("spki-pem").unwrap()),
        pb::PublicKeyFormat::SpkiPem
    );
    assert_eq!(
        signature_scheme(Some(
            SignatureScheme::from_name("ecdsa-recoverable").unwrap()
        )),
        pb::SignatureScheme::EcdsaRecoverable
    );
    assert_eq!(
        signature_scheme(Some(SignatureScheme::from_name("bip340").unwrap())),
        pb::SignatureScheme::Bip340
    );
    assert_eq!(
        algorithm(Algorithm::from_name("p256").unwrap()),
        pb::Algorithm::P256
    );
}

#[test]
fn error_codes_equal_the_wire_enum() {
    for code in ErrorCode::ALL {
        let wire = error_code(code);
        let pb_code = pb::ErrorCode::try_from(wire).expect("every core code exists on the wire");
        assert_eq!(pb_code.as_str_name(), format!("ERROR_CODE_{}", code.name()));
        assert_eq!(error_code_from(wire).unwrap(), code);
    }
    assert!(error_code_from(0).is_err());
    assert!(error_code_from(-5).is_err());
}

#[test]
fn key_refs_parse_ids_and_aliases() {
    assert_eq!(
        parse_key_ref("wallet").unwrap(),
        KeyRef::Alias("wallet".into())
    );
    assert_eq!(
        parse_key_ref("id:00000000000000ff").unwrap(),
        KeyRef::Id(KeyId::from_u64(255))
    );
    assert!(parse_key_ref("id:xyz").is_err());
    assert!(parse_key_ref("").is_err());
}
