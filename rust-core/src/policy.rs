//! Per-key policy: who may use a key, for what, along which paths, how often.

use crate::algorithm::Operation;
use crate::caller::{Caller, CallerRule, CodeDigest};
use crate::hd::DerivationPath;
use crate::{Error, Result};

/// A set of operations, stored as a bit mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OperationSet(u32);

impl OperationSet {
    /// The empty set.
    pub fn empty() -> Self {
        Self(0)
    }

    /// A set from operations.
    pub fn of(ops: &[Operation]) -> Self {
        Self(ops.iter().fold(0, |m, o| m | o.bit()))
    }

    /// True when `op` is in the set.
    pub fn contains(self, op: Operation) -> bool {
        self.0 & op.bit() != 0
    }

    /// The operations in the set.
    pub fn iter(self) -> impl Iterator<Item = Operation> {
        Operation::ALL
            .iter()
            .copied()
            .filter(move |o| self.contains(*o))
    }

    /// The raw mask (storage form).
    pub fn bits(self) -> u32 {
        self.0
    }

    /// From the storage form; unknown bits are dropped.
    pub fn from_bits(bits: u32) -> Self {
        Self(bits & Self::of(Operation::ALL).0)
    }
}

/// The policy stored with a key. Immutable after creation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyPolicy {
    /// Callers allowed to use the key (any rule may match). Never empty once
    /// stored: creation fills in the creator's default rule.
    pub allowed_callers: Vec<CallerRule>,
    /// Allowed operations; `None` allows all the algorithm supports.
    pub allowed_operations: Option<OperationSet>,
    /// For HD keys, allowed derivation path prefixes; empty allows any path.
    pub allowed_path_prefixes: Vec<DerivationPath>,
    /// Maximum number of secret uses; `None` is unlimited.
    pub max_uses: Option<u64>,
}

impl KeyPolicy {
    /// Refuses a caller that matches none of the allowed rules.
    pub fn check_caller(&self, caller: &Caller) -> Result<()> {
        if self.allowed_callers.iter().any(|r| caller.matches(r)) {
            Ok(())
        } else {
            Err(Error::PermissionDenied(format!(
                "{caller} is not an allowed caller of this key"
            )))
        }
    }

    /// Refuses a use of the key outside the allowed set. Managing the key
    /// (reading its metadata, deleting it) is open to every allowed caller.
    pub fn check_operation(&self, op: Operation) -> Result<()> {
        match self.allowed_operations {
            Some(set) if op.is_key_use() && !set.contains(op) => {
                Err(Error::OperationNotAllowed(op.name()))
            }
            _ => Ok(()),
        }
    }

    /// Refuses a derivation path outside the allowed prefixes.
    pub fn check_path(&self, path: &DerivationPath) -> Result<()> {
        if self.allowed_path_prefixes.is_empty()
            || self
                .allowed_path_prefixes
                .iter()
                .any(|p| path.starts_with(p))
        {
            Ok(())
        } else {
            Err(Error::PathNotAllowed(path.to_string()))
        }
    }

    /// The policy of a key created from this one (an HD child stored by
    /// `derive_key`, an agreement result stored by `agree`, and any later
    /// path that makes a key from a key): never looser than this policy.
    /// Every such path calls this one function.
    ///
    /// The rule, field by field (a field left unset in `requested` inherits
    /// the source's; a field set looser than the source's is refused with
    /// `INVALID_ARGUMENT` rather than silently narrowed, so the caller learns
    /// what it got):
    ///
    /// - **Callers**: unset inherits the source's rules (with `bind_code`,
    ///   each rule without a code digest gets the creator's). Each requested
    ///   rule must be within some source rule: it sets every field that rule
    ///   sets, to the same value (rules are OR-ed, their fields AND-ed).
    /// - **Operations**: for a child of the same kind (`child.path` is set),
    ///   unset inherits the source's set and a requested set must be a
    ///   subset of it. A key of another kind (an AES key from `agree`) gets
    ///   the requested set: the source's `agree` permission already hands
    ///   that secret to the caller, so encrypting with it stored is no wider.
    /// - **Path prefixes** (HD children): the source's prefixes re-rooted at
    ///   the child's path `d`: a prefix `p` that `d` starts with leaves the
    ///   child unrestricted; a prefix that starts with `d` becomes the rest of
    ///   it below `d`; others do not reach the child. A child nothing reaches
    ///   is refused (`PATH_NOT_ALLOWED`); requested prefixes must lie within
    ///   the re-rooted ones.
    /// - **Uses**: capped at the source's remaining uses after the use that
    ///   created the child (`child.source_used` is the source's count after
    ///   it); none remaining is `USAGE_LIMIT_EXCEEDED`. The cap is per child,
    ///   not a shared counter: each derivation itself spends one of the
    ///   source's uses, so the source's limit bounds how many children exist
    ///   and each child's uses.
    pub fn narrowed_for_child(
        &self,
        requested: KeyPolicy,
        bind_code: Option<CodeDigest>,
        child: ChildOf<'_>,
    ) -> Result<KeyPolicy> {
        let loosened = |what: &str| {
            Err(Error::InvalidArgument(format!(
                "a key created from another key may not be looser than its source: {what}"
            )))
        };
        let allowed_callers = if requested.allowed_callers.is_empty() {
            self.allowed_callers
                .iter()
                .map(|r| CallerRule {
                    code_sha256: r.code_sha256.or(bind_code),
                    ..r.clone()
                })
                .collect()
        } else {
            if let Some(r) = requested
                .allowed_callers
                .iter()
                .find(|r| !self.allowed_callers.iter().any(|s| r.is_within(s)))
            {
                return loosened(&format!(
                    "caller rule {r:?} is wider than every source rule"
                ));
            }
            requested.allowed_callers
        };
        let allowed_operations = match (child.path.is_some(), requested.allowed_operations) {
            (false, ops) => ops,
            (true, None) => self.allowed_operations,
            (true, Some(ops)) => match self.allowed_operations {
                Some(src) if ops.bits() & !src.bits() != 0 => {
                    return loosened("operations outside the source's");
                }
                _ => Some(ops),
            },
        };
        let allowed_path_prefixes = match child.path {
            None => requested.allowed_path_prefixes,
            Some(path) => {
                let reach = self.rerooted_prefixes(path)?;
                if let Some(q) = requested
                    .allowed_path_prefixes
                    .iter()
                    .find(|q| !reach.is_empty() && !reach.iter().any(|r| q.starts_with(r)))
                {
                    return loosened(&format!("path prefix {q} is outside the source's"));
                }
                if requested.allowed_path_prefixes.is_empty() {
                    reach
                } else {
                    requested.allowed_path_prefixes
                }
            }
        };
        let requested_uses = requested.max_uses.filter(|m| *m != 0);
        let max_uses = match self.max_uses {
            None => requested_uses,
            Some(max) => {
                let remaining = max.saturating_sub(child.source_used);
                if remaining == 0 {
                    return Err(Error::UsageLimitExceeded(max));
                }
                match requested_uses {
                    Some(n) if n > remaining => {
                        return loosened(&format!(
                            "{n} uses asked, the source has {remaining} left"
                        ));
                    }
                    Some(n) => Some(n),
                    None => Some(remaining),
                }
            }
        };
        Ok(KeyPolicy {
            allowed_callers,
            allowed_operations,
            allowed_path_prefixes,
            max_uses,
        })
    }

    /// The source's path prefixes as seen from the child at `path` (empty:
    /// unrestricted). `PATH_NOT_ALLOWED` when no prefix reaches the child.
    fn rerooted_prefixes(&self, path: &DerivationPath) -> Result<Vec<DerivationPath>> {
        if self.allowed_path_prefixes.is_empty()
            || self
                .allowed_path_prefixes
                .iter()
                .any(|p| path.starts_with(p))
        {
            return Ok(Vec::new());
        }
        let below: Vec<DerivationPath> = self
            .allowed_path_prefixes
            .iter()
            .filter(|p| p.starts_with(path))
            .map(|p| p.strip_prefix(path))
            .collect();
        if below.is_empty() {
            return Err(Error::PathNotAllowed(path.to_string()));
        }
        Ok(below)
    }

    /// Refuses a use once `used` has reached the limit.
    pub fn check_usage(&self, used: u64) -> Result<()> {
        match self.max_uses {
            Some(max) if used >= max => Err(Error::UsageLimitExceeded(max)),
            _ => Ok(()),
        }
    }
}

/// Where a key created from another key comes from, for
/// [`KeyPolicy::narrowed_for_child`].
#[derive(Debug, Clone, Copy)]
pub struct ChildOf<'a> {
    /// The source's usage count after the use that created the child.
    pub source_used: u64,
    /// The HD path the child was derived at (relative to the source);
    /// `None` for a key of another kind (the AES key an agreement stores).
    pub path: Option<&'a DerivationPath>,
}

#[cfg(test)]
mod tests;
