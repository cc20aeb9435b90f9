//! Per-key policy: who may use a key, for what, along which paths, how often.

use crate::algorithm::Operation;
use crate::caller::{Caller, CallerRule};
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

    /// Refuses a use once `used` has reached the limit.
    pub fn check_usage(&self, used: u64) -> Result<()> {
        match self.max_uses {
            Some(max) if used >= max => Err(Error::UsageLimitExceeded(max)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
