use super::*;

#[test]
fn debug_is_redacted() {
    let s = SecretBytes::copy_from(b"hunter2-secret");
    let printed = format!("{s:?}");
    assert_eq!(printed, "SecretBytes([redacted])");
    assert!(!printed.contains("hunter2"));
}

#[test]
fn constant_time_eq_compares_contents_and_length() {
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"abcd"));
    assert!(SecretBytes::copy_from(b"xyz").ct_eq(b"xyz"));
}

#[test]
fn random_buffers_differ() {
    let a = SecretBytes::random(32).unwrap();
    let b = SecretBytes::random(32).unwrap();
    assert_eq!(a.len(), 32);
    assert!(!a.ct_eq(b.expose()));
}
