//! The alias rule (issue 10 item 6), written once: every door, the engine
//! and both stores go through [`normalize_alias`] and [`alias_key`].
//!
//! An alias names a key inside its owner's namespace; two aliases a person
//! cannot tell apart must never name two different keys.
//!
//! 1. **Stored form**: the NFC normalisation (Unicode UAX #15) of what the
//!    caller gave, so NFC and NFD spellings are one alias.
//! 2. **Refused at creation** (`INVALID_ARGUMENT`), after NFC:
//!    - an empty alias or one over [`MAX_ALIAS_LEN`] bytes, or one with a
//!      leading or trailing space;
//!    - control characters (Cc), and every invisible or direction-changing
//!      character: UTS #39 identifier type `Default_Ignorable` (zero-width
//!      space and joiners, word joiner, soft hyphen, BOM, variation
//!      selectors, the bidi marks LRM/RLM/ALM) and the bidi embeddings,
//!      overrides and isolates U+202A..U+202E, U+2066..U+2069;
//!    - any whitespace other than U+0020 (no-break, ideographic, line and
//!      paragraph separators...);
//!    - letters and digits whose UTS #39 identifier status is not
//!      `Allowed` (for example fullwidth forms, which NFKC folds, and
//!      obsolete or limited-use scripts), and non-ASCII symbols or
//!      punctuation outside that set (emoji included);
//!    - letters from a mix of scripts beyond UTS #39 "highly restrictive"
//!      (one script, or Latin with Han + Hiragana + Katakana, Han +
//!      Bopomofo, or Han + Hangul): `wallet` spelled with a Cyrillic `а`
//!      is refused, an all-Cyrillic alias is not.
//! 3. **Comparison** (uniqueness and lookups): [`alias_key`], the UTS #39
//!    confusable skeleton of the lowercased NFC form. `Wallet`, `WALLET`,
//!    `wa11et` and an all-Cyrillic look-alike of `ape` all compare equal
//!    to their twins, so the second is `ALIAS_EXISTS`, and any of them
//!    finds the key. Lookups never validate: they only compare keys, so a
//!    key stored before this rule stays reachable by its old alias.
//!
//! **Stores from before the rule** (schema < 4): the upgrade computes
//! every alias's key. Keys of one owner whose aliases now compare equal
//! (`Wallet` and `wallet`) are all kept, with their aliases as stored, but
//! none of them is reachable by alias any more (a lookup names the
//! ambiguity and asks for the key id), and no new key may take that alias:
//! picking one of them silently could sign with the wrong key.
//!
//! Sources: UAX #15 (normalization), UTS #39 sections 3.1 (confusable
//! skeletons), 5.2 (restriction levels) and the identifier status/type data,
//! through the unicode-rs crates `unicode-normalization` and
//! `unicode-security`.

use crate::{Error, Result};
use unicode_normalization::UnicodeNormalization;
use unicode_security::general_security_profile::IdentifierType;
use unicode_security::{GeneralSecurityProfile, RestrictionLevel, RestrictionLevelDetection};

pub use crate::limits::MAX_ALIAS_LEN;

/// The form an alias is stored under, or why it is refused (see the
/// module documentation for the rule).
pub fn normalize_alias(alias: &str) -> Result<String> {
    let nfc: String = alias.nfc().collect();
    let refuse = |why: String| Err(Error::InvalidArgument(format!("alias refused: {why}")));
    if nfc.is_empty() || nfc.len() > MAX_ALIAS_LEN {
        return refuse(format!("it must be 1..={MAX_ALIAS_LEN} bytes"));
    }
    if nfc.starts_with(' ') || nfc.ends_with(' ') {
        return refuse("it starts or ends with a space".into());
    }
    for c in nfc.chars() {
        if let Some(why) = refused_char(c) {
            return refuse(format!("U+{:04X} is {why}", u32::from(c)));
        }
    }
    let letters: String = nfc.chars().filter(|c| c.is_alphanumeric()).collect();
    if !letters
        .as_str()
        .check_restriction_level(RestrictionLevel::HighlyRestrictive)
    {
        return refuse(
            "it mixes letters of scripts that can be confused (UTS #39 highly restrictive)".into(),
        );
    }
    Ok(nfc)
}

/// Why `c` may not appear in an alias, if it may not.
fn refused_char(c: char) -> Option<&'static str> {
    if c.is_control() {
        return Some("a control character");
    }
    if matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        || c.identifier_type() == Some(IdentifierType::Default_Ignorable)
    {
        return Some("invisible or a bidirectional control");
    }
    if c.is_whitespace() && c != ' ' {
        return Some("whitespace other than a plain space");
    }
    if c.is_ascii() {
        return None;
    }
    if !c.identifier_allowed() {
        return Some("not allowed in identifiers by UTS #39 (restricted)");
    }
    None
}

/// The comparison key of an alias: the UTS #39 skeleton of its lowercased
/// NFC form. Two aliases are the same alias exactly when their keys are
/// equal. Defined for every string (lookups do not validate).
pub fn alias_key(alias: &str) -> String {
    // Same result without the normalisation passes, for the usual all-ASCII
    // alias (every request that names a key by alias computes this).
    let table = ascii_skeletons();
    if alias.is_ascii()
        && alias
            .bytes()
            .all(|b| table[usize::from(b.to_ascii_lowercase())].is_some())
    {
        return alias
            .bytes()
            .filter_map(|b| table[usize::from(b.to_ascii_lowercase())].as_deref())
            .collect();
    }
    slow_alias_key(alias)
}

/// [`alias_key`] by its definition.
fn slow_alias_key(alias: &str) -> String {
    let lower = alias.nfc().collect::<String>().to_lowercase();
    unicode_security::skeleton(&lower).collect()
}

/// The skeleton of each ASCII character whose skeleton is itself ASCII
/// (`None` for the others). ASCII is unchanged by NFC and NFD and has no
/// combining marks, so the skeleton of a string of such characters is the
/// concatenation of theirs; other strings take the definition.
fn ascii_skeletons() -> &'static [Option<String>; 128] {
    static TABLE: std::sync::OnceLock<[Option<String>; 128]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        std::array::from_fn(|i| {
            let c = char::from(u8::try_from(i).unwrap_or(0));
            let skeleton: String = unicode_security::skeleton(c.encode_utf8(&mut [0; 4])).collect();
            skeleton.is_ascii().then_some(skeleton)
        })
    })
}

#[cfg(test)]
mod tests;
