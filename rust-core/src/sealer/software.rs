//! Software sealer for hosts and tests: AES-256-GCM under a key held in
//! zeroizing memory.
//!
//! Blob format (version 1):
//!
//! ```text
//! 0x01 || nonce (12 random bytes) || ciphertext || tag (16 bytes)
//! ```
//!
//! The caller's `aad` is authenticated; the version byte is not part of the
//! AAD but any change to it is refused (only version 1 exists). Every
//! failure to unseal is reported as [`SealerErrorKind::AuthenticationFailed`]
//! and never yields bytes.
//!
//! Key sources and the errors they report:
//!
//! - [`SoftwareSealer::key_file`] (`software-file`): a 32-byte file, mode
//!   0600, read by [`Sealer::open_key`]. Only
//!   [`KeyRequest::FindOrCreate`] creates a missing file; for a store that
//!   already holds sealed records a missing file is
//!   [`SealerErrorKind::KeyNotFound`], never replaced by a new key. A file
//!   that cannot be read or created, or whose mode grants
//!   group/other access, is [`SealerErrorKind::Unavailable`]: an operator
//!   can fix it (chmod, disk space) and nothing sealed under it is lost, so
//!   it must not be mistaken for a destroyed key. A file of the wrong length
//!   or that is not a regular file is [`SealerErrorKind::KeyInvalidated`]:
//!   those bytes can never be the key again.
//! - [`SoftwareSealer::from_passphrase`] (`software-passphrase`): Argon2id
//!   with the OWASP-recommended minimum m = 19 MiB, t = 2, p = 1 (the
//!   `argon2` crate's defaults, version 0x13), 32-byte output.
//! - [`SoftwareSealer::ephemeral`] (`software-ephemeral`): a random key
//!   that lives as long as the sealer.

use super::{KeyRequest, Sealer, WrappingKeyInfo};
use crate::error::SealerErrorKind;
use crate::secret::SecretBytes;
use crate::{Error, Result};
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use zeroize::Zeroizing;

/// Length of the sealing key.
const KEY_LEN: usize = 32;
/// First byte of every blob this sealer writes.
const BLOB_VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + NONCE_LEN;

/// Argon2id memory cost in KiB (19 MiB, OWASP password storage cheat sheet).
pub(crate) const ARGON2_M_KIB: u32 = 19 * 1024;
/// Argon2id iterations.
pub(crate) const ARGON2_T: u32 = 2;
/// Argon2id lanes.
pub(crate) const ARGON2_P: u32 = 1;

/// AES-256-GCM under a 32-byte key held in zeroizing memory, loaded from a
/// 0600 key file or derived from a passphrase with Argon2id.
pub struct SoftwareSealer {
    /// The key: set at construction for passphrase and ephemeral keys, by
    /// `open_key` for key files.
    key: OnceLock<SecretBytes>,
    /// The key file, for `software-file`.
    file: Option<PathBuf>,
    name: &'static str,
}

impl core::fmt::Debug for SoftwareSealer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SoftwareSealer({}, [redacted])", self.name)
    }
}

fn unavailable(path: &Path, what: &str, err: &std::io::Error) -> Error {
    Error::sealer(
        SealerErrorKind::Unavailable,
        format!("sealer key file {}: {what}: {err}", path.display()),
    )
}

fn auth_failed(why: &str) -> Error {
    Error::sealer(SealerErrorKind::AuthenticationFailed, why.to_string())
}

impl SoftwareSealer {
    /// A sealer over the key file at `path` (`software-file`). Nothing is
    /// read until [`Sealer::open_key`]: with [`KeyRequest::FindOrCreate`] a
    /// missing file is created (32 random bytes, mode 0600, parent directory
    /// 0700); with [`KeyRequest::FindExisting`] it is
    /// [`SealerErrorKind::KeyNotFound`]. A file readable by group or others,
    /// or of the wrong length, is refused.
    ///
    /// Creation is atomic: the key is written and fsynced to a fresh
    /// temporary file (`O_EXCL`, 0600) in the same directory, then
    /// hard-linked to `path`, which fails if another process created `path`
    /// meanwhile (that process's key is then used). A crash never leaves a
    /// partial key file at `path`.
    pub fn key_file(path: &Path) -> Self {
        Self {
            key: OnceLock::new(),
            file: Some(path.to_path_buf()),
            name: "software-file",
        }
    }

    fn with_key(key: SecretBytes, name: &'static str) -> Self {
        Self {
            key: OnceLock::from(key),
            file: None,
            name,
        }
    }

    /// Reads (or, when allowed, creates) the key file.
    fn open_file(path: &Path, request: &KeyRequest<'_>) -> Result<(SecretBytes, bool)> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
            && !parent.exists()
        {
            if !request.may_create() {
                return Err(missing(path));
            }
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)
                .map_err(|e| unavailable(path, "cannot create parent directory", &e))?;
        }
        let created = match std::fs::symlink_metadata(path) {
            Ok(_) => false,
            Err(e) if e.kind() == ErrorKind::NotFound && request.may_create() => {
                create_key_file(path)?
            }
            Err(e) if e.kind() == ErrorKind::NotFound => return Err(missing(path)),
            Err(e) => return Err(unavailable(path, "cannot stat", &e)),
        };
        Ok((read_key_file(path)?, created))
    }

    /// Derives the key from `passphrase` with Argon2id and a 16-byte `salt`
    /// (m = 19 MiB, t = 2, p = 1). An empty passphrase is refused.
    pub fn from_passphrase(passphrase: &[u8], salt: &[u8; 16]) -> Result<Self> {
        Self::from_passphrase_with(passphrase, salt, ARGON2_M_KIB, ARGON2_T, ARGON2_P)
    }

    /// [`SoftwareSealer::from_passphrase`] with explicit Argon2id costs
    /// (tests use small ones).
    pub(crate) fn from_passphrase_with(
        passphrase: &[u8],
        salt: &[u8; 16],
        m_kib: u32,
        t: u32,
        p: u32,
    ) -> Result<Self> {
        if passphrase.is_empty() {
            return Err(Error::InvalidArgument(
                "sealer passphrase must not be empty".into(),
            ));
        }
        let params = argon2::Params::new(m_kib, t, p, Some(KEY_LEN))
            .map_err(|e| Error::InvalidArgument(format!("argon2 parameters: {e}")))?;
        let kdf = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut out = Zeroizing::new(vec![0u8; KEY_LEN]);
        kdf.hash_password_into(passphrase, salt, &mut out)
            .map_err(|e| Error::sealer(SealerErrorKind::Unavailable, format!("argon2id: {e}")))?;
        Ok(Self::with_key(
            SecretBytes::from(out),
            "software-passphrase",
        ))
    }

    /// A random in-memory key (tests, ephemeral stores).
    pub fn ephemeral() -> Result<Self> {
        let key = SecretBytes::random(KEY_LEN)
            .map_err(|_| Error::sealer(SealerErrorKind::Unavailable, "OS random source failed"))?;
        Ok(Self::with_key(key, "software-ephemeral"))
    }

    /// A sealer over given key bytes (known-answer tests).
    #[cfg(test)]
    pub(crate) fn from_key_bytes(key: &[u8]) -> Self {
        Self::with_key(SecretBytes::copy_from(key), "software-ephemeral")
    }

    fn cipher(&self) -> Result<Aes256Gcm> {
        let key = self.key.get().ok_or_else(|| {
            Error::sealer(
                SealerErrorKind::Unavailable,
                "software sealer used before open_key",
            )
        })?;
        // With the `zeroize` feature the expanded key is wiped on drop.
        Aes256Gcm::new_from_slice(key.expose()).map_err(|_| {
            Error::sealer(
                SealerErrorKind::KeyInvalidated,
                "software sealer key has the wrong length",
            )
        })
    }
}

fn missing(path: &Path) -> Error {
    Error::sealer(
        SealerErrorKind::KeyNotFound,
        format!("sealer key file {} does not exist", path.display()),
    )
}

/// Writes a new random key to a temporary file and links it into place.
/// True if this call created `path`; false if another process won the race.
fn create_key_file(path: &Path) -> Result<bool> {
    let tmp = temp_path(path)?;
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| unavailable(path, "cannot create", &e))?;
        let key = SecretBytes::random(KEY_LEN)
            .map_err(|_| Error::sealer(SealerErrorKind::Unavailable, "OS random source failed"))?;
        file.write_all(key.expose())
            .and_then(|()| file.sync_all())
            .map_err(|e| unavailable(path, "cannot write", &e))?;
        drop(file);
        match std::fs::hard_link(&tmp, path) {
            Ok(()) => {}
            // Another process created the key first: use theirs.
            Err(e) if e.kind() == ErrorKind::AlreadyExists => return Ok(false),
            Err(e) => return Err(unavailable(path, "cannot link into place", &e)),
        }
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| unavailable(path, "cannot sync parent directory", &e))?;
        }
        Ok(true)
    })();
    // The temporary name is removed whatever happened; the key (if linked)
    // lives on under `path`.
    let _ = std::fs::remove_file(&tmp);
    result
}

fn temp_path(path: &Path) -> Result<PathBuf> {
    let mut suffix = [0u8; 8];
    crate::random::fill(&mut suffix)
        .map_err(|_| Error::sealer(SealerErrorKind::Unavailable, "OS random source failed"))?;
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{}", hex::encode(suffix)));
    Ok(path.with_file_name(name))
}

/// Opens an existing key file, checking type, mode and length on the open
/// handle (so a file swapped after the check is still checked).
fn read_key_file(path: &Path) -> Result<SecretBytes> {
    let link = std::fs::symlink_metadata(path).map_err(|e| unavailable(path, "cannot stat", &e))?;
    if link.file_type().is_symlink() {
        return Err(Error::sealer(
            SealerErrorKind::KeyInvalidated,
            format!("sealer key file {} is a symbolic link", path.display()),
        ));
    }
    // O_NOFOLLOW: a link swapped in after the check above is refused by the
    // open itself (ELOOP), not followed (issue 10 item 7).
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| unavailable(path, "cannot open", &e))?;
    let meta = file
        .metadata()
        .map_err(|e| unavailable(path, "cannot stat", &e))?;
    if !meta.is_file() {
        return Err(Error::sealer(
            SealerErrorKind::KeyInvalidated,
            format!("sealer key file {} is not a regular file", path.display()),
        ));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::sealer(
            SealerErrorKind::Unavailable,
            format!(
                "sealer key file {} has mode {mode:04o}; it must not be accessible by group or others (chmod 600)",
                path.display()
            ),
        ));
    }
    if meta.len() != KEY_LEN as u64 {
        return Err(Error::sealer(
            SealerErrorKind::KeyInvalidated,
            format!(
                "sealer key file {} is {} bytes, expected {KEY_LEN}",
                path.display(),
                meta.len()
            ),
        ));
    }
    let mut buf = Zeroizing::new(vec![0u8; KEY_LEN]);
    file.read_exact(&mut buf)
        .map_err(|e| unavailable(path, "cannot read", &e))?;
    let mut extra = [0u8; 1];
    match file.read(&mut extra) {
        Ok(0) => {}
        Ok(_) => {
            return Err(Error::sealer(
                SealerErrorKind::KeyInvalidated,
                format!(
                    "sealer key file {} is longer than {KEY_LEN} bytes",
                    path.display()
                ),
            ));
        }
        Err(e) => return Err(unavailable(path, "cannot read", &e)),
    }
    Ok(SecretBytes::from(buf))
}

impl Sealer for SoftwareSealer {
    fn name(&self) -> String {
        self.name.to_string()
    }

    fn open_key(&self, request: &KeyRequest<'_>) -> Result<WrappingKeyInfo> {
        let mut created = false;
        let label = match &self.file {
            Some(path) => {
                if self.key.get().is_none() {
                    let (key, new) = Self::open_file(path, request)?;
                    created = new;
                    // A concurrent open_key may have set it first: same file.
                    let _ = self.key.set(key);
                }
                path.display().to_string()
            }
            None => self.name.to_string(),
        };
        Ok(WrappingKeyInfo {
            label,
            level_requested: "software".into(),
            level_obtained: "software".into(),
            created,
        })
    }

    fn seal(&self, secret: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        let cipher = self.cipher()?;
        let mut nonce = [0u8; NONCE_LEN];
        crate::random::fill(&mut nonce)
            .map_err(|_| Error::sealer(SealerErrorKind::Unavailable, "OS random source failed"))?;
        // Reserve the final size so the buffer never reallocates (which
        // would leave a plaintext copy behind in freed memory).
        let mut out = Vec::with_capacity(HEADER_LEN + secret.len() + TAG_LEN);
        out.push(BLOB_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(secret);
        let tag = cipher
            .encrypt_inout_detached(&Nonce::from(nonce), aad, out[HEADER_LEN..].as_mut().into())
            .map_err(|_| {
                zeroize::Zeroize::zeroize(&mut out);
                Error::sealer(
                    SealerErrorKind::Unavailable,
                    "AES-GCM refused the input size",
                )
            })?;
        out.extend_from_slice(&tag);
        Ok(out)
    }

    fn unseal(&self, sealed: &[u8], aad: &[u8]) -> Result<SecretBytes> {
        if sealed.len() < HEADER_LEN + TAG_LEN {
            return Err(auth_failed("sealed blob is too short"));
        }
        if sealed[0] != BLOB_VERSION {
            return Err(auth_failed("sealed blob has an unknown version"));
        }
        let cipher = self.cipher()?;
        let nonce: [u8; NONCE_LEN] = sealed[1..HEADER_LEN]
            .try_into()
            .map_err(|_| auth_failed("sealed blob is too short"))?;
        let (body, tag) = sealed[HEADER_LEN..].split_at(sealed.len() - HEADER_LEN - TAG_LEN);
        let tag = Tag::try_from(tag).map_err(|_| auth_failed("sealed blob is too short"))?;
        let mut buf = Zeroizing::new(body.to_vec());
        cipher
            .decrypt_inout_detached(&Nonce::from(nonce), aad, buf.as_mut_slice().into(), &tag)
            .map_err(|_| auth_failed("sealed blob failed authentication"))?;
        Ok(SecretBytes::from(buf))
    }
}
