use super::*;

fn refused(alias: &str) -> bool {
    normalize_alias(alias).is_err()
}

#[test]
fn ordinary_aliases_are_kept_as_given() {
    for a in [
        "wallet",
        "Wallet-1",
        "eth/main acct",
        "кошелёк",
        "財布",
        "ウォレット財布",
        "a.b_c:d",
    ] {
        assert_eq!(normalize_alias(a).unwrap(), a, "{a}");
    }
}

#[test]
fn the_attack_runs_twins_are_refused_or_collide() {
    // Case: same key.
    assert_eq!(alias_key("wallet"), alias_key("Wallet"));
    assert_eq!(alias_key("wallet"), alias_key("WALLET"));
    // NFC/NFD twins: one stored form and one key.
    let nfd = "cafe\u{301}";
    assert_eq!(normalize_alias(nfd).unwrap(), "caf\u{e9}");
    assert_eq!(alias_key(nfd), alias_key("caf\u{e9}"));
    // Zero-width characters, bidi overrides and isolates: refused.
    for a in [
        "wal\u{200B}let",
        "wallet\u{200D}",
        "\u{FEFF}wallet",
        "wal\u{00AD}let",
        "\u{202E}tellaw",
        "wallet\u{2067}",
        "wallet\u{200F}",
        "wallet\u{FE0F}",
    ] {
        assert!(refused(a), "{a:?}");
    }
    // Full-width forms: refused (and their key equals the ASCII one anyway).
    assert!(refused("\u{FF57}allet"));
    // Cyrillic а inside Latin: refused as mixed script...
    assert!(refused("w\u{0430}llet"));
    // ...and a whole-script look-alike collides with the Latin alias.
    assert_eq!(alias_key("\u{0430}\u{0440}\u{0435}"), alias_key("ape"));
    // Digit/letter confusables collide too.
    assert_eq!(alias_key("wa11et"), alias_key("wallet"));
}

#[test]
fn lengths_spaces_controls_and_symbols() {
    assert!(refused(""));
    assert!(refused(&"a".repeat(MAX_ALIAS_LEN + 1)));
    assert!(!refused(&"a".repeat(MAX_ALIAS_LEN)));
    assert!(refused(" wallet"));
    assert!(refused("wallet "));
    assert!(refused("bad\nalias"));
    assert!(refused("no\u{00A0}break"));
    assert!(refused("ideographic\u{3000}space"));
    assert!(refused("line\u{2028}sep"));
    assert!(refused("emoji\u{1F511}"));
    // Japanese mixes Latin, Han and kana: allowed by "highly restrictive".
    assert!(!refused("wallet財布ウォレット"));
    // Latin with Greek is not.
    assert!(refused("wallet\u{03B1}"));
}

#[test]
fn lookups_compare_without_validating() {
    // An alias stored before the rule (with a zero-width space) is still
    // found by its own spelling; it compares equal to the visible one.
    assert_eq!(alias_key("wal\u{200B}let"), alias_key("wallet"));
}

#[test]
fn the_ascii_fast_path_equals_the_definition() {
    let table = ascii_skeletons();
    assert!(
        (b'a'..=b'z')
            .chain(b'0'..=b'9')
            .all(|b| table[usize::from(b)].is_some()),
        "letters and digits take the fast path"
    );
    let all: String = (0u8..128).map(char::from).collect();
    assert_eq!(alias_key(&all), slow_alias_key(&all));
    for a in [
        "wallet",
        "Wallet",
        "WALLET",
        "wa11et",
        "rn0dern",
        "I|l1",
        "eth/main acct-0",
    ] {
        assert_eq!(alias_key(a), slow_alias_key(a), "{a}");
    }
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..2000 {
        let s: String = (0..12)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                char::from(((x >> 8) % 95) as u8 + 32)
            })
            .collect();
        assert_eq!(alias_key(&s), slow_alias_key(&s), "{s:?}");
    }
}
