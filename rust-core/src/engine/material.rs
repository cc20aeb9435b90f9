//! Unsealed key material as the engine holds it in its cache.

use crate::algorithm::{Algorithm, HdScheme};
use crate::crypto::{PrivateKey, PublicKey};
use crate::hd::{DerivationPath, ExtendedPrivateKey};
use crate::secret::SecretBytes;
use crate::{Error, Result};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Most derived children remembered per HD key.
const MAX_DERIVED_PER_KEY: usize = 64;

/// An HD node together with its parsed signing key (building a signing key
/// costs a scalar multiplication, so it is done once per node).
pub(crate) struct HdNode {
    pub(crate) node: ExtendedPrivateKey,
    pub(crate) key: PrivateKey,
}

impl HdNode {
    fn new(node: ExtendedPrivateKey) -> Result<Self> {
        let key = node.private_key()?;
        Ok(Self { node, key })
    }
}

/// A key's secret, parsed and ready.
pub(crate) enum KeyMaterial {
    /// A single key.
    Single(PrivateKey),
    /// An HD node and a small cache of derived children.
    Hd {
        root: Arc<HdNode>,
        children: Mutex<HashMap<DerivationPath, Arc<HdNode>>>,
    },
}

impl KeyMaterial {
    /// Wraps a single key.
    pub(crate) fn single(key: PrivateKey) -> Self {
        Self::Single(key)
    }

    /// Wraps an HD node.
    pub(crate) fn hd(node: ExtendedPrivateKey) -> Result<Self> {
        Ok(Self::Hd {
            root: Arc::new(HdNode::new(node)?),
            children: Mutex::new(HashMap::new()),
        })
    }

    /// Parses unsealed bytes (the inverse of [`KeyMaterial::to_secret_bytes`]).
    pub(crate) fn from_secret_bytes(
        algorithm: Algorithm,
        hd_scheme: Option<HdScheme>,
        bytes: &[u8],
    ) -> Result<Self> {
        let parsed = match hd_scheme {
            None => PrivateKey::from_bytes(algorithm, bytes).map(Self::single),
            Some(scheme) => ExtendedPrivateKey::from_secret_bytes(scheme, bytes).and_then(Self::hd),
        };
        parsed.map_err(|e| Error::CorruptKeyRecord(format!("unsealed secret does not parse: {e}")))
    }

    /// The bytes to seal.
    pub(crate) fn to_secret_bytes(&self) -> SecretBytes {
        match self {
            Self::Single(k) => k.to_secret_bytes(),
            Self::Hd { root, .. } => root.node.to_secret_bytes(),
        }
    }

    /// The key used when no path is given (the single key, or the HD node itself).
    pub(crate) fn root_key(&self) -> &PrivateKey {
        match self {
            Self::Single(k) => k,
            Self::Hd { root, .. } => &root.key,
        }
    }

    /// The public key of the node (root).
    pub(crate) fn root_public_key(&self) -> Option<PublicKey> {
        self.root_key().public_key()
    }

    /// The HD root, or `InvalidPath` for a single key.
    pub(crate) fn hd_root(&self) -> Result<&Arc<HdNode>> {
        match self {
            Self::Hd { root, .. } => Ok(root),
            Self::Single(_) => Err(Error::InvalidPath(
                "a derivation path needs a hierarchical-deterministic key".into(),
            )),
        }
    }

    /// The node at `path` below the root, derived once and remembered.
    pub(crate) fn node_at(&self, path: &DerivationPath) -> Result<Arc<HdNode>> {
        let Self::Hd { root, children } = self else {
            return Err(Error::InvalidPath(
                "a derivation path needs a hierarchical-deterministic key".into(),
            ));
        };
        if path.is_root() {
            return Ok(Arc::clone(root));
        }
        if let Some(hit) = lock(children).get(path) {
            return Ok(Arc::clone(hit));
        }
        let derived = Arc::new(HdNode::new(root.node.derive(path)?)?);
        let mut map = lock(children);
        if map.len() >= MAX_DERIVED_PER_KEY {
            map.clear();
        }
        map.insert(path.clone(), Arc::clone(&derived));
        Ok(derived)
    }
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it:
/// every structure guarded here stays consistent across a panic.
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
