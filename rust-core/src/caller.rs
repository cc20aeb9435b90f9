//! Who is calling, as established by a transport, and the rules that say
//! which callers may use a key.
//!
//! A transport never trusts what a caller says about itself: the Unix door
//! reads `SO_PEERCRED` and hashes `/proc/<pid>/exe`, the Android door reads
//! `Binder.getCallingUid()` and the package manager. The core turns that into
//! an owner namespace and matches it against each key's [`CallerRule`]s.

use crate::{Error, Result};
use core::fmt;

/// A SHA-256 digest of code: an Android signing certificate or a Unix executable.
pub type CodeDigest = [u8; 32];

/// One Android package reported for a calling uid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AndroidPackage {
    /// Package name.
    pub package_name: String,
    /// SHA-256 of each current signing certificate.
    pub signing_certs: Vec<CodeDigest>,
    /// SHA-256 of past signing certificates (rotation history).
    pub past_signing_certs: Vec<CodeDigest>,
}

/// The identity of a caller, established by the transport.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Caller {
    /// A local process on a Unix socket.
    Unix {
        /// Peer user id.
        uid: u32,
        /// Peer group id.
        gid: u32,
        /// Peer process id (informational only; not an identity).
        pid: u32,
        /// SHA-256 of the peer's executable, when established.
        exe_sha256: Option<CodeDigest>,
    },
    /// An Android app, identified by package and signing certificates.
    Android {
        /// Calling uid.
        uid: u32,
        /// The app's package.
        package: AndroidPackage,
    },
    /// The application the core is embedded in (iOS, in-process JVM).
    Embedded {
        /// Bundle id or application name.
        app_id: String,
    },
}

impl Caller {
    /// Builds an Android caller from everything the platform reported for a uid.
    ///
    /// Exactly one package with at least one signing certificate is required:
    /// an unknown uid (no package) and a shared uid (several packages) are
    /// refused, so key ownership always binds to one (package, certificate).
    pub fn android(uid: u32, mut packages: Vec<AndroidPackage>) -> Result<Self> {
        match packages.len() {
            0 => Err(Error::PermissionDenied(format!("uid {uid} has no package"))),
            1 => {
                let package = packages.remove(0);
                if package.signing_certs.is_empty() {
                    return Err(Error::PermissionDenied(format!(
                        "package {} has no signing certificate",
                        package.package_name
                    )));
                }
                if package.package_name.is_empty() {
                    return Err(Error::PermissionDenied("empty package name".into()));
                }
                Ok(Self::Android { uid, package })
            }
            n => Err(Error::PermissionDenied(format!(
                "uid {uid} is shared by {n} packages; caller is ambiguous"
            ))),
        }
    }

    /// The namespace the caller's keys live in (aliases are unique per owner).
    pub fn owner(&self) -> String {
        match self {
            Self::Unix { uid, .. } => format!("unix:{uid}"),
            Self::Android { package, .. } => format!("android:{}", package.package_name),
            Self::Embedded { app_id } => format!("app:{app_id}"),
        }
    }

    /// The rule a key gets when its creator names no allowed callers.
    ///
    /// Android keys always bind to the signing certificate; Unix keys bind to
    /// the uid, and to the executable digest when `bind_code` is set.
    pub fn default_rule(&self, bind_code: bool) -> Result<CallerRule> {
        match self {
            Self::Unix {
                uid, exe_sha256, ..
            } => {
                let code = if bind_code {
                    Some(exe_sha256.ok_or_else(|| {
                        Error::InvalidArgument(
                            "cannot bind the key to the caller's executable: its digest is unknown"
                                .into(),
                        )
                    })?)
                } else {
                    None
                };
                Ok(CallerRule {
                    uid: Some(*uid),
                    app_id: None,
                    code_sha256: code,
                })
            }
            Self::Android { package, .. } => Ok(CallerRule {
                uid: None,
                app_id: Some(package.package_name.clone()),
                code_sha256: package.signing_certs.first().copied(),
            }),
            Self::Embedded { app_id } => Ok(CallerRule {
                uid: None,
                app_id: Some(app_id.clone()),
                code_sha256: None,
            }),
        }
    }

    fn uid(&self) -> Option<u32> {
        match self {
            Self::Unix { uid, .. } | Self::Android { uid, .. } => Some(*uid),
            Self::Embedded { .. } => None,
        }
    }

    fn app_id(&self) -> Option<&str> {
        match self {
            Self::Unix { .. } => None,
            Self::Android { package, .. } => Some(&package.package_name),
            Self::Embedded { app_id } => Some(app_id),
        }
    }

    /// True when the caller's code carries `digest` (for Android, current or
    /// past signing certificate, so a rotated key keeps its keys).
    fn has_code(&self, digest: &CodeDigest) -> bool {
        match self {
            Self::Unix { exe_sha256, .. } => exe_sha256.as_ref() == Some(digest),
            Self::Android { package, .. } => package
                .signing_certs
                .iter()
                .chain(&package.past_signing_certs)
                .any(|c| c == digest),
            Self::Embedded { .. } => false,
        }
    }

    /// True when every field the rule sets matches this caller.
    pub fn matches(&self, rule: &CallerRule) -> bool {
        rule.uid.is_none_or(|u| self.uid() == Some(u))
            && rule
                .app_id
                .as_deref()
                .is_none_or(|a| self.app_id() == Some(a))
            && rule.code_sha256.as_ref().is_none_or(|c| self.has_code(c))
    }
}

impl fmt::Display for Caller {
    /// A short description for audit records and error messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unix {
                uid,
                gid,
                pid,
                exe_sha256,
            } => {
                write!(f, "unix uid={uid} gid={gid} pid={pid}")?;
                if let Some(d) = exe_sha256 {
                    write!(f, " exe={}", hex::encode(&d[..8]))?;
                }
                Ok(())
            }
            Self::Android { uid, package } => {
                write!(f, "android uid={uid} package={}", package.package_name)?;
                if let Some(c) = package.signing_certs.first() {
                    write!(f, " cert={}", hex::encode(&c[..8]))?;
                }
                Ok(())
            }
            Self::Embedded { app_id } => write!(f, "embedded app={app_id}"),
        }
    }
}

/// A rule permitting callers. Every field that is set must match.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallerRule {
    /// Required uid.
    pub uid: Option<u32>,
    /// Required package name / app id.
    pub app_id: Option<String>,
    /// Required code digest (signing certificate or executable).
    pub code_sha256: Option<CodeDigest>,
}

impl CallerRule {
    /// True when this rule admits no caller that `wider` does not: it sets
    /// every field `wider` sets, to the same value.
    pub fn is_within(&self, wider: &CallerRule) -> bool {
        wider.uid.is_none_or(|u| self.uid == Some(u))
            && wider
                .app_id
                .as_deref()
                .is_none_or(|a| self.app_id.as_deref() == Some(a))
            && wider
                .code_sha256
                .as_ref()
                .is_none_or(|c| self.code_sha256.as_ref() == Some(c))
    }
}

#[cfg(test)]
mod tests;
