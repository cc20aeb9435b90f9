//! Process hardening, applied before the key store is opened.
//!
//! | measure | protects against | limit |
//! |---|---|---|
//! | `PR_SET_DUMPABLE=0` | same-uid processes attaching with ptrace or reading `/proc/<pid>/mem` | root / `CAP_SYS_PTRACE` still can |
//! | `RLIMIT_CORE=0` | key material in core dumps | — |
//! | `PR_SET_NO_NEW_PRIVS` | gaining privileges through exec | — |
//! | `mlockall(CURRENT\|FUTURE\|ONFAULT)` | key material written to swap | needs `CAP_IPC_LOCK` or a large `RLIMIT_MEMLOCK`; skipped otherwise, because `MCL_FUTURE` under a small limit makes later allocations fail |

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
use std::fmt;

/// `RLIMIT_MEMLOCK` below which `mlockall(MCL_FUTURE)` is not attempted.
pub const MIN_MEMLOCK_FOR_MLOCKALL: u64 = 512 << 20;

/// The result of one measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// In force.
    Applied,
    /// Deliberately not attempted, and why.
    Skipped(String),
    /// Attempted and failed, and why.
    Failed(String),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Applied => f.write_str("ok"),
            Self::Skipped(why) => write!(f, "skipped ({why})"),
            Self::Failed(why) => write!(f, "FAILED ({why})"),
        }
    }
}

/// What [`apply`] achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// `PR_SET_DUMPABLE=0`.
    pub non_dumpable: Outcome,
    /// `RLIMIT_CORE=0`.
    pub no_core_dumps: Outcome,
    /// `PR_SET_NO_NEW_PRIVS`.
    pub no_new_privs: Outcome,
    /// `mlockall`.
    pub mlockall: Outcome,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "non-dumpable: {}; core dumps off: {}; no-new-privs: {}; mlockall: {}",
            self.non_dumpable, self.no_core_dumps, self.no_new_privs, self.mlockall
        )
    }
}

fn outcome(r: rustix::io::Result<()>) -> Outcome {
    match r {
        Ok(()) => Outcome::Applied,
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

/// Applies every measure (mlockall only when `lock_memory`), best effort.
pub fn apply(lock_memory: bool) -> Report {
    let non_dumpable = outcome(rustix::process::set_dumpable_behavior(
        rustix::process::DumpableBehavior::NotDumpable,
    ));
    let no_core_dumps = outcome(setrlimit(
        Resource::Core,
        Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    ));
    let no_new_privs = outcome(rustix::thread::set_no_new_privs(true));
    let mlockall = if lock_memory {
        lock_all_memory()
    } else {
        Outcome::Skipped("--no-mlockall".into())
    };
    Report {
        non_dumpable,
        no_core_dumps,
        no_new_privs,
        mlockall,
    }
}

fn lock_all_memory() -> Outcome {
    use rustix::mm::{MlockAllFlags, mlockall};
    let limit = getrlimit(Resource::Memlock).current;
    let privileged = rustix::process::geteuid().is_root();
    if let Some(bytes) = limit.filter(|b| *b < MIN_MEMLOCK_FOR_MLOCKALL && !privileged) {
        return Outcome::Skipped(format!(
            "RLIMIT_MEMLOCK is {} KiB; raise it to at least {} MiB (e.g. systemd LimitMEMLOCK=) or grant CAP_IPC_LOCK",
            bytes / 1024,
            MIN_MEMLOCK_FOR_MLOCKALL >> 20
        ));
    }
    // ONFAULT locks pages as they are touched instead of populating every
    // mapping (thread stacks, reserved arenas) up front.
    let flags = MlockAllFlags::CURRENT | MlockAllFlags::FUTURE | MlockAllFlags::ONFAULT;
    match mlockall(flags) {
        Ok(()) => Outcome::Applied,
        Err(rustix::io::Errno::INVAL) => {
            outcome(mlockall(MlockAllFlags::CURRENT | MlockAllFlags::FUTURE))
        }
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

/// The `VmLck` line of `/proc/<pid>/status` in KiB (locked memory), for reports and tests.
pub fn locked_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmLck:")
}

/// A `kB` field of `/proc/<pid>/status` (e.g. `VmRSS:`).
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_read_well() {
        let r = Report {
            non_dumpable: Outcome::Applied,
            no_core_dumps: Outcome::Applied,
            no_new_privs: Outcome::Failed("EPERM".into()),
            mlockall: Outcome::Skipped("--no-mlockall".into()),
        };
        assert_eq!(
            r.to_string(),
            "non-dumpable: ok; core dumps off: ok; no-new-privs: FAILED (EPERM); mlockall: skipped (--no-mlockall)"
        );
    }

    #[test]
    fn status_fields_parse() {
        let rss = status_kib(std::process::id(), "VmRSS:").unwrap();
        assert!(
            rss > 100,
            "a test process has more than 100 KiB resident: {rss}"
        );
        assert!(locked_kib(std::process::id()).is_some());
        assert!(status_kib(std::process::id(), "NoSuchField:").is_none());
    }
}
