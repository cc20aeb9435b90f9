use super::*;

#[test]
fn parses_and_prints_bip44_paths() {
    let p = DerivationPath::parse("m/44'/60'/0'/0/0").unwrap();
    assert_eq!(p.indices(), &[44 | HARDENED, 60 | HARDENED, HARDENED, 0, 0]);
    assert_eq!(p.to_string(), "m/44'/60'/0'/0/0");
    assert_eq!(
        DerivationPath::parse("m/84h/0H/0'").unwrap().to_string(),
        "m/84'/0'/0'"
    );
    assert!(DerivationPath::parse("m").unwrap().is_root());
}

#[test]
fn rejects_malformed_paths() {
    for bad in [
        "",
        "44'/0",
        "m/",
        "m//1",
        "m/-1",
        "m/2147483648",
        "m/1''",
        "m/01",
        "m/x",
        "M/1",
        "m/1/ 2",
    ] {
        let err = DerivationPath::parse(bad).unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::InvalidPath, "{bad:?}");
    }
    let deep = format!("m{}", "/1".repeat(256));
    assert!(DerivationPath::parse(&deep).is_err());
    let max = format!("m{}", "/1".repeat(255));
    assert!(DerivationPath::parse(&max).is_ok());
}

#[test]
fn prefix_and_hardening() {
    let p = DerivationPath::parse("m/44'/60'/0'/0/7").unwrap();
    assert!(p.starts_with(&DerivationPath::parse("m/44'/60'").unwrap()));
    assert!(!p.starts_with(&DerivationPath::parse("m/44'/0'").unwrap()));
    assert!(p.starts_with(&DerivationPath::root()));
    assert!(!p.is_fully_hardened());
    assert!(
        DerivationPath::parse("m/44'/501'")
            .unwrap()
            .is_fully_hardened()
    );
}
