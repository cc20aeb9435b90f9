//! The module's state between `C_Initialize` and `C_Finalize`: the daemon
//! link, object handles, sessions and login state, and the operations that
//! run on them. All of it is safe Rust; the FFI layer only converts
//! pointers into the arguments taken here.
//!
//! Thread safety: one process-wide mutex guards the state, so the module is
//! safe to call from any thread with OS locking (`CKF_OS_LOCKING_OK`).
//! Fork safety: the state remembers the pid that initialized it; in a
//! forked child every call finds another pid, drops the inherited state
//! (its socket carries the parent's requests) without touching the
//! parent's connection, and answers `CKR_CRYPTOKI_NOT_INITIALIZED` until
//! the child calls `C_Initialize` (PKCS#11 3.0 §5.4, fork note).
#![forbid(unsafe_code)]

use crate::der;
use crate::error::{CkResult, KeyContext, Rv};
use crate::link::Link;
use crate::mechanism::{SignMech, SignOp};
use crate::objects::{
    Attr, Class, Entry, ObjectTable, Template, key_type, template_bool, template_ulong,
};
use cryptoki_sys::*;
use keyhold_client::core::{
    Algorithm, KeyId, KeyInfo, KeyOptions, KeyOrigin, KeyRef, KeySpec, Operation, OperationSet,
    PublicKeyFormat,
};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// The one slot. Its token is the caller's namespace in the daemon.
pub(crate) const SLOT_ID: CK_SLOT_ID = 1;

static STATE: Mutex<Option<Module>> = Mutex::new(None);

fn state() -> MutexGuard<'static, Option<Module>> {
    // A panic while the lock was held was caught at the FFI edge and
    // reported as CKR_GENERAL_ERROR; the state itself is only ever replaced
    // whole or updated field by field, so it is still consistent.
    STATE.lock().unwrap_or_else(|p| p.into_inner())
}

/// What `C_Initialize` was given (already read from `CK_C_INITIALIZE_ARGS`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct InitArgs {
    /// How many of the four mutex callbacks were supplied (0 or 4 is valid).
    pub(crate) mutex_callbacks: u8,
    /// `CKF_OS_LOCKING_OK`.
    pub(crate) os_locking_ok: bool,
    /// `pReserved` was not NULL.
    pub(crate) reserved: bool,
}

/// `C_Initialize` (PKCS#11 3.0 §5.4).
pub(crate) fn initialize(args: Option<InitArgs>) -> CkResult<()> {
    if let Some(a) = args {
        if a.reserved || !matches!(a.mutex_callbacks, 0 | 4) {
            return Err(Rv(CKR_ARGUMENTS_BAD));
        }
        // The application insists on its own mutexes and does not allow OS
        // locking: this module only has OS locks.
        if a.mutex_callbacks == 4 && !a.os_locking_ok {
            return Err(Rv(CKR_CANT_LOCK));
        }
    }
    let mut s = state();
    if s.as_ref().is_some_and(|m| m.pid == std::process::id()) {
        return Err(Rv(CKR_CRYPTOKI_ALREADY_INITIALIZED));
    }
    // Drop whatever a parent process left (its socket too: closing the
    // child's copy of the descriptor leaves the parent's connection open).
    *s = Some(Module::new());
    Ok(())
}

/// `C_Finalize`.
pub(crate) fn finalize() -> CkResult<()> {
    let mut s = state();
    match s.take() {
        Some(m) if m.pid == std::process::id() => Ok(()),
        _ => Err(Rv(CKR_CRYPTOKI_NOT_INITIALIZED)),
    }
}

/// Runs `f` on the initialized module of this process.
pub(crate) fn with<T>(f: impl FnOnce(&mut Module) -> CkResult<T>) -> CkResult<T> {
    let mut s = state();
    if s.as_ref().is_some_and(|m| m.pid != std::process::id()) {
        *s = None;
    }
    match s.as_mut() {
        Some(m) => f(m),
        None => Err(Rv(CKR_CRYPTOKI_NOT_INITIALIZED)),
    }
}

/// Whether `C_Initialize` has run in this process.
pub(crate) fn initialized() -> bool {
    with(|_| Ok(())).is_ok()
}

/// The token label: the daemon's owner namespace of this process
/// (`unix:<euid>`; the daemon reads the peer's credentials at connect).
pub(crate) fn token_label() -> String {
    format!("Keyhold unix:{}", rustix::process::geteuid().as_raw())
}

/// The token serial number: the uid, so each namespace's token differs.
pub(crate) fn token_serial() -> String {
    format!("unix-{}", rustix::process::geteuid().as_raw())
}

#[derive(Debug)]
struct Find {
    handles: Vec<CK_OBJECT_HANDLE>,
    pos: usize,
}

#[derive(Debug)]
struct Session {
    rw: bool,
    find: Option<Find>,
    sign: Option<SignOp>,
    verify: Option<SignOp>,
}

/// The initialized module.
#[derive(Debug)]
pub(crate) struct Module {
    pid: u32,
    link: Link,
    objects: ObjectTable,
    sessions: HashMap<CK_SESSION_HANDLE, Session>,
    next_session: CK_SESSION_HANDLE,
    logged_in: bool,
}

fn check_slot(slot: CK_SLOT_ID) -> CkResult<()> {
    if slot == SLOT_ID {
        Ok(())
    } else {
        Err(Rv(CKR_SLOT_ID_INVALID))
    }
}

/// The key template items key generation accepts.
#[derive(Debug, Default)]
struct Requested {
    label: Option<String>,
    ec_params: Option<Vec<u8>>,
    value_len: Option<CK_ULONG>,
    /// Operations a usage attribute set to false takes away.
    denied: Vec<Operation>,
}

/// The daemon operation behind a PKCS#11 usage attribute.
fn usage_operation(t: CK_ATTRIBUTE_TYPE) -> Option<Operation> {
    match t {
        CKA_SIGN => Some(Operation::Sign),
        CKA_VERIFY => Some(Operation::Verify),
        CKA_DERIVE => Some(Operation::Agree),
        CKA_ENCRYPT => Some(Operation::Encrypt),
        CKA_DECRYPT => Some(Operation::Decrypt),
        _ => None,
    }
}

/// A key as it would be once generated, to compare template booleans with.
fn prototype(algorithm: Algorithm) -> Entry {
    Entry {
        info: KeyInfo {
            id: KeyId::from_u64(0),
            alias: String::new(),
            algorithm,
            hd_scheme: None,
            origin: KeyOrigin::Generated,
            public_key: Vec::new(),
            policy: Default::default(),
            usage_count: 0,
            created_at_ms: 0,
            sealer: String::new(),
        },
        point: None,
    }
}

/// Checks a key-generation template against what the key will be. Keys are
/// always token objects, sensitive, unextractable and immutable; a template
/// may restate those facts but not ask for others (`CKR_ATTRIBUTE_VALUE_INVALID`),
/// may not set what the token assigns (`CKA_ID`, `CKA_VALUE`:
/// `CKR_ATTRIBUTE_READ_ONLY` / `CKR_TEMPLATE_INCONSISTENT`), and may not name
/// attributes the object does not have (`CKR_ATTRIBUTE_TYPE_INVALID`).
fn check_template(
    t: &Template,
    class: Class,
    algorithm: Algorithm,
    into: &mut Requested,
) -> CkResult<()> {
    for (ty, v) in t {
        check_attribute(*ty, v, class, algorithm, into).inspect_err(|Rv(rv)| {
            // Diagnostics name the attribute type only, never its value.
            if std::env::var_os("KEYHOLD_PKCS11_DEBUG").is_some() {
                eprintln!("keyhold-pkcs11: template attribute {ty:#x} refused with {rv:#x}");
            }
        })?;
    }
    Ok(())
}

fn check_attribute(
    ty: CK_ATTRIBUTE_TYPE,
    v: &[u8],
    class: Class,
    algorithm: Algorithm,
    into: &mut Requested,
) -> CkResult<()> {
    let proto = prototype(algorithm);
    let ck_class = match class {
        Class::Private => CKO_PRIVATE_KEY,
        Class::Public => CKO_PUBLIC_KEY,
        Class::Secret => CKO_SECRET_KEY,
    };
    let bad = Err(Rv(CKR_ATTRIBUTE_VALUE_INVALID));
    {
        match ty {
            CKA_CLASS => {
                if template_ulong(v) != Some(ck_class) {
                    return Err(Rv(CKR_TEMPLATE_INCONSISTENT));
                }
            }
            CKA_KEY_TYPE => {
                if template_ulong(v) != Some(key_type(algorithm)) {
                    return Err(Rv(CKR_TEMPLATE_INCONSISTENT));
                }
            }
            CKA_TOKEN => {
                // Session objects would live in this process: not offered.
                if template_bool(v) != Some(true) {
                    return bad;
                }
            }
            // Accepted and not stored: no object needs a login here.
            CKA_PRIVATE => {
                if template_bool(v).is_none() {
                    return bad;
                }
            }
            CKA_LABEL => {
                let label =
                    String::from_utf8(v.to_vec()).map_err(|_| Rv(CKR_ATTRIBUTE_VALUE_INVALID))?;
                if into.label.as_ref().is_some_and(|l| *l != label) {
                    return Err(Rv(CKR_TEMPLATE_INCONSISTENT));
                }
                into.label = Some(label);
            }
            CKA_ID | CKA_UNIQUE_ID | CKA_LOCAL | CKA_KEY_GEN_MECHANISM => {
                return Err(Rv(CKR_ATTRIBUTE_READ_ONLY));
            }
            CKA_VALUE | CKA_EC_POINT => return Err(Rv(CKR_TEMPLATE_INCONSISTENT)),
            CKA_EC_PARAMS if class != Class::Secret => into.ec_params = Some(v.to_vec()),
            CKA_VALUE_LEN if class == Class::Secret => {
                into.value_len = Some(template_ulong(v).ok_or(Rv(CKR_ATTRIBUTE_VALUE_INVALID))?)
            }
            CKA_START_DATE | CKA_END_DATE | CKA_SUBJECT => {
                if !v.is_empty() {
                    return bad;
                }
            }
            other => match proto.attribute(class, other) {
                Attr::Value(have) if have.len() == 1 => {
                    let want = template_bool(v).ok_or(Rv(CKR_ATTRIBUTE_VALUE_INVALID))?;
                    if want != template_bool(&have).unwrap_or(false) {
                        // A usage the key would have may be switched off:
                        // the daemon's policy then refuses that operation.
                        match (want, usage_operation(other)) {
                            (false, Some(op)) => into.denied.push(op),
                            // pkcs11-tool asks for CKA_DERIVE on both halves
                            // of every EC pair by default. A key that cannot
                            // derive (a public half, Ed25519) is created all
                            // the same and reports CKA_DERIVE false.
                            (true, Some(Operation::Agree)) => {}
                            _ => return bad,
                        }
                    }
                }
                Attr::Invalid => return Err(Rv(CKR_ATTRIBUTE_TYPE_INVALID)),
                // Any other attribute is not settable.
                _ => return Err(Rv(CKR_ATTRIBUTE_READ_ONLY)),
            },
        }
    }
    Ok(())
}

fn fresh_alias() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("pkcs11-{:x}-{:x}-{n}", nanos, std::process::id())
}

impl Module {
    fn new() -> Self {
        Self {
            pid: std::process::id(),
            link: Link::new(),
            objects: ObjectTable::default(),
            sessions: HashMap::new(),
            next_session: 0,
            logged_in: false,
        }
    }

    fn session(&mut self, h: CK_SESSION_HANDLE) -> CkResult<&mut Session> {
        self.sessions
            .get_mut(&h)
            .ok_or(Rv(CKR_SESSION_HANDLE_INVALID))
    }

    /// `C_OpenSession`.
    pub(crate) fn open_session(
        &mut self,
        slot: CK_SLOT_ID,
        flags: CK_FLAGS,
    ) -> CkResult<CK_SESSION_HANDLE> {
        check_slot(slot)?;
        if flags & CKF_SERIAL_SESSION == 0 {
            return Err(Rv(CKR_SESSION_PARALLEL_NOT_SUPPORTED));
        }
        self.next_session += 1;
        let h = self.next_session;
        self.sessions.insert(
            h,
            Session {
                rw: flags & CKF_RW_SESSION != 0,
                find: None,
                sign: None,
                verify: None,
            },
        );
        Ok(h)
    }

    /// `C_CloseSession`. Closing the last session logs the application out.
    pub(crate) fn close_session(&mut self, h: CK_SESSION_HANDLE) -> CkResult<()> {
        self.sessions
            .remove(&h)
            .ok_or(Rv(CKR_SESSION_HANDLE_INVALID))?;
        if self.sessions.is_empty() {
            self.logged_in = false;
        }
        Ok(())
    }

    /// `C_CloseAllSessions`.
    pub(crate) fn close_all(&mut self, slot: CK_SLOT_ID) -> CkResult<()> {
        check_slot(slot)?;
        self.sessions.clear();
        self.logged_in = false;
        Ok(())
    }

    /// `C_GetSessionInfo`: (state, flags).
    pub(crate) fn session_info(&mut self, h: CK_SESSION_HANDLE) -> CkResult<(CK_STATE, CK_FLAGS)> {
        let logged_in = self.logged_in;
        let s = self.session(h)?;
        let state = match (s.rw, logged_in) {
            (false, false) => CKS_RO_PUBLIC_SESSION,
            (false, true) => CKS_RO_USER_FUNCTIONS,
            (true, false) => CKS_RW_PUBLIC_SESSION,
            (true, true) => CKS_RW_USER_FUNCTIONS,
        };
        let flags = CKF_SERIAL_SESSION | if s.rw { CKF_RW_SESSION } else { 0 };
        Ok((state, flags))
    }

    /// `C_Login`. The token needs no PIN: the daemon already knows the
    /// process by its socket credentials, so logging in is a state change
    /// only (any PIN, or none through the protected authentication path,
    /// is accepted). There is no security officer.
    pub(crate) fn login(&mut self, h: CK_SESSION_HANDLE, user: CK_USER_TYPE) -> CkResult<()> {
        self.session(h)?;
        match user {
            CKU_USER if self.logged_in => Err(Rv(CKR_USER_ALREADY_LOGGED_IN)),
            CKU_USER => {
                self.logged_in = true;
                Ok(())
            }
            // No operation here requires per-operation authentication.
            CKU_CONTEXT_SPECIFIC => Err(Rv(CKR_OPERATION_NOT_INITIALIZED)),
            _ => Err(Rv(CKR_USER_TYPE_INVALID)),
        }
    }

    /// `C_Logout`.
    pub(crate) fn logout(&mut self, h: CK_SESSION_HANDLE) -> CkResult<()> {
        self.session(h)?;
        if !self.logged_in {
            return Err(Rv(CKR_USER_NOT_LOGGED_IN));
        }
        self.logged_in = false;
        Ok(())
    }

    fn entry_of(&mut self, info: KeyInfo) -> CkResult<Entry> {
        if let Some(e) = self.objects.entry(info.id)
            && e.info.algorithm == info.algorithm
        {
            let point = e.point.clone();
            return Ok(Entry { info, point });
        }
        let point = match info.algorithm {
            Algorithm::P256 | Algorithm::Secp256k1 => {
                let id = info.id;
                let p = self.link.call(KeyContext::Object, |c| {
                    c.get_public_key(&KeyRef::Id(id), None, PublicKeyFormat::Sec1Uncompressed)
                })?;
                Some(p.bytes)
            }
            Algorithm::Ed25519 | Algorithm::X25519 => Some(info.public_key.clone()),
            _ => None,
        };
        Ok(Entry { info, point })
    }

    /// Re-reads the caller's keys from the daemon.
    fn refresh(&mut self) -> CkResult<()> {
        let keys = self.link.call(KeyContext::Object, |c| c.list_keys())?;
        let ids: Vec<KeyId> = keys.iter().map(|k| k.id).collect();
        self.objects.retain(&ids);
        for info in keys {
            match self.entry_of(info) {
                Ok(entry) => {
                    self.objects.insert(entry);
                }
                // Deleted by another client between the listing and the
                // public-key read: it is simply not there any more.
                Err(Rv(CKR_OBJECT_HANDLE_INVALID)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// `C_FindObjectsInit`: lists the daemon's keys now.
    pub(crate) fn find_init(&mut self, h: CK_SESSION_HANDLE, template: Template) -> CkResult<()> {
        if self.session(h)?.find.is_some() {
            return Err(Rv(CKR_OPERATION_ACTIVE));
        }
        self.refresh()?;
        let handles = self
            .objects
            .all()
            .into_iter()
            .filter(|(_, e, c)| e.matches(*c, &template))
            .map(|(h, _, _)| h)
            .collect();
        self.session(h)?.find = Some(Find { handles, pos: 0 });
        Ok(())
    }

    /// `C_FindObjects`.
    pub(crate) fn find(
        &mut self,
        h: CK_SESSION_HANDLE,
        max: usize,
    ) -> CkResult<Vec<CK_OBJECT_HANDLE>> {
        let find = self
            .session(h)?
            .find
            .as_mut()
            .ok_or(Rv(CKR_OPERATION_NOT_INITIALIZED))?;
        let end = find.handles.len().min(find.pos.saturating_add(max));
        let out = find.handles[find.pos..end].to_vec();
        find.pos = end;
        Ok(out)
    }

    /// `C_FindObjectsFinal`.
    pub(crate) fn find_final(&mut self, h: CK_SESSION_HANDLE) -> CkResult<()> {
        self.session(h)?
            .find
            .take()
            .map(|_| ())
            .ok_or(Rv(CKR_OPERATION_NOT_INITIALIZED))
    }

    /// `C_GetAttributeValue`: one answer per requested type.
    pub(crate) fn attributes(
        &mut self,
        h: CK_SESSION_HANDLE,
        object: CK_OBJECT_HANDLE,
        types: &[CK_ATTRIBUTE_TYPE],
    ) -> CkResult<Vec<Attr>> {
        self.session(h)?;
        let (entry, class) = self
            .objects
            .get(object)
            .ok_or(Rv(CKR_OBJECT_HANDLE_INVALID))?;
        Ok(types.iter().map(|t| entry.attribute(class, *t)).collect())
    }

    /// `C_SetAttributeValue`: every Keyhold object is immutable.
    pub(crate) fn set_attributes(
        &mut self,
        h: CK_SESSION_HANDLE,
        object: CK_OBJECT_HANDLE,
    ) -> CkResult<()> {
        self.session(h)?;
        self.objects
            .get(object)
            .ok_or(Rv(CKR_OBJECT_HANDLE_INVALID))?;
        Err(Rv(CKR_ACTION_PROHIBITED))
    }

    /// `C_DestroyObject`: deletes the key in the daemon. A public-key
    /// object is half of a key pair and is not destroyable on its own.
    pub(crate) fn destroy(
        &mut self,
        h: CK_SESSION_HANDLE,
        object: CK_OBJECT_HANDLE,
    ) -> CkResult<()> {
        if !self.session(h)?.rw {
            return Err(Rv(CKR_SESSION_READ_ONLY));
        }
        let (entry, class) = self
            .objects
            .get(object)
            .ok_or(Rv(CKR_OBJECT_HANDLE_INVALID))?;
        if class == Class::Public {
            return Err(Rv(CKR_ACTION_PROHIBITED));
        }
        let id = entry.info.id;
        self.link
            .call(KeyContext::Object, |c| c.delete_key(&KeyRef::Id(id)))?;
        self.objects.remove(id);
        Ok(())
    }

    fn start(
        &mut self,
        h: CK_SESSION_HANDLE,
        mech: CK_MECHANISM_TYPE,
        params: &[u8],
        key: CK_OBJECT_HANDLE,
        verify: bool,
    ) -> CkResult<()> {
        let s = self.session(h)?;
        if (if verify { &s.verify } else { &s.sign }).is_some() {
            return Err(Rv(CKR_OPERATION_ACTIVE));
        }
        let m = SignMech::parse(mech, params)?;
        let (entry, class) = self.objects.get(key).ok_or(Rv(CKR_KEY_HANDLE_INVALID))?;
        if !m.fits(entry.info.algorithm) {
            return Err(Rv(CKR_KEY_TYPE_INCONSISTENT));
        }
        let usable = matches!(
            (class, verify),
            (Class::Secret, _) | (Class::Private, false) | (Class::Public, true)
        );
        let attr = if verify { CKA_VERIFY } else { CKA_SIGN };
        if !usable || entry.attribute(class, attr) != Attr::Value(vec![CK_TRUE]) {
            return Err(Rv(CKR_KEY_FUNCTION_NOT_PERMITTED));
        }
        let op = SignOp::new(entry.info.id, m);
        let s = self.session(h)?;
        if verify {
            s.verify = Some(op);
        } else {
            s.sign = Some(op);
        }
        Ok(())
    }

    /// `C_SignInit`.
    pub(crate) fn sign_init(
        &mut self,
        h: CK_SESSION_HANDLE,
        mech: CK_MECHANISM_TYPE,
        params: &[u8],
        key: CK_OBJECT_HANDLE,
    ) -> CkResult<()> {
        self.start(h, mech, params, key, false)
    }

    /// `C_VerifyInit`.
    pub(crate) fn verify_init(
        &mut self,
        h: CK_SESSION_HANDLE,
        mech: CK_MECHANISM_TYPE,
        params: &[u8],
        key: CK_OBJECT_HANDLE,
    ) -> CkResult<()> {
        self.start(h, mech, params, key, true)
    }

    fn op(&mut self, h: CK_SESSION_HANDLE, verify: bool) -> CkResult<&mut SignOp> {
        let s = self.session(h)?;
        let op = if verify { &mut s.verify } else { &mut s.sign };
        op.as_mut().ok_or(Rv(CKR_OPERATION_NOT_INITIALIZED))
    }

    fn end(&mut self, h: CK_SESSION_HANDLE, verify: bool) -> Option<SignOp> {
        let s = self.sessions.get_mut(&h)?;
        if verify {
            s.verify.take()
        } else {
            s.sign.take()
        }
    }

    /// The signature length of the active sign operation (the first call
    /// of the two-call convention).
    pub(crate) fn sign_len(&mut self, h: CK_SESSION_HANDLE) -> CkResult<usize> {
        Ok(self.op(h, false)?.mech.signature_len())
    }

    /// `C_Sign` (the operation ends, whatever the outcome).
    pub(crate) fn sign(&mut self, h: CK_SESSION_HANDLE, data: &[u8]) -> CkResult<Vec<u8>> {
        let op = self.op(h, false)?;
        if op.updating {
            return Err(Rv(CKR_OPERATION_ACTIVE));
        }
        let result = op.single(data);
        let op = self
            .end(h, false)
            .ok_or(Rv(CKR_OPERATION_NOT_INITIALIZED))?;
        self.run_sign(&op, result?)
    }

    /// `C_SignUpdate` (an error ends the operation).
    pub(crate) fn sign_update(&mut self, h: CK_SESSION_HANDLE, part: &[u8]) -> CkResult<()> {
        let r = self.op(h, false)?.update(part);
        if r.is_err() {
            self.end(h, false);
        }
        r
    }

    /// `C_SignFinal`.
    pub(crate) fn sign_final(&mut self, h: CK_SESSION_HANDLE) -> CkResult<Vec<u8>> {
        self.op(h, false)?;
        let op = self
            .end(h, false)
            .ok_or(Rv(CKR_OPERATION_NOT_INITIALIZED))?;
        if !op.mech.multi_part() {
            return Err(Rv(CKR_FUNCTION_NOT_SUPPORTED));
        }
        let request = op.finish();
        self.run_sign(&op, request)
    }

    fn run_sign(&mut self, op: &SignOp, r: crate::mechanism::Request) -> CkResult<Vec<u8>> {
        let key = KeyRef::Id(op.key);
        let sig = self.link.call(KeyContext::Key, |c| {
            c.sign(&key, None, Some(r.scheme), r.payload())
        })?;
        if sig.len() != op.mech.signature_len() {
            return Err(Rv(CKR_DEVICE_ERROR));
        }
        Ok(sig)
    }

    /// `C_Verify` (the operation ends).
    pub(crate) fn verify(
        &mut self,
        h: CK_SESSION_HANDLE,
        data: &[u8],
        signature: &[u8],
    ) -> CkResult<()> {
        let op = self.op(h, true)?;
        if op.updating {
            return Err(Rv(CKR_OPERATION_ACTIVE));
        }
        let result = op.single(data);
        let op = self.end(h, true).ok_or(Rv(CKR_OPERATION_NOT_INITIALIZED))?;
        self.run_verify(&op, result?, signature)
    }

    /// `C_VerifyUpdate`.
    pub(crate) fn verify_update(&mut self, h: CK_SESSION_HANDLE, part: &[u8]) -> CkResult<()> {
        let r = self.op(h, true)?.update(part);
        if r.is_err() {
            self.end(h, true);
        }
        r
    }

    /// `C_VerifyFinal`.
    pub(crate) fn verify_final(&mut self, h: CK_SESSION_HANDLE, signature: &[u8]) -> CkResult<()> {
        self.op(h, true)?;
        let op = self.end(h, true).ok_or(Rv(CKR_OPERATION_NOT_INITIALIZED))?;
        if !op.mech.multi_part() {
            return Err(Rv(CKR_FUNCTION_NOT_SUPPORTED));
        }
        let request = op.finish();
        self.run_verify(&op, request, signature)
    }

    fn run_verify(
        &mut self,
        op: &SignOp,
        r: crate::mechanism::Request,
        signature: &[u8],
    ) -> CkResult<()> {
        if signature.len() != op.mech.signature_len() {
            return Err(Rv(CKR_SIGNATURE_LEN_RANGE));
        }
        let key = KeyRef::Id(op.key);
        let ok = self.link.call(KeyContext::Key, |c| {
            c.verify(&key, None, Some(r.scheme), r.payload(), signature)
        })?;
        if ok {
            Ok(())
        } else {
            Err(Rv(CKR_SIGNATURE_INVALID))
        }
    }

    fn generate(
        &mut self,
        algorithm: Algorithm,
        req: Requested,
    ) -> CkResult<Vec<CK_OBJECT_HANDLE>> {
        let mut options = KeyOptions::alias(req.label.unwrap_or_else(fresh_alias));
        if !req.denied.is_empty() {
            let allowed: Vec<Operation> = Operation::ALL
                .iter()
                .copied()
                .filter(|op| !req.denied.contains(op))
                .collect();
            options.policy.allowed_operations = Some(OperationSet::of(&allowed));
        }
        let info = self.link.call(KeyContext::Object, |c| {
            c.generate_key(KeySpec::Single(algorithm), &options)
        })?;
        let entry = self.entry_of(info)?;
        Ok(self.objects.insert(entry))
    }

    /// `C_GenerateKeyPair`: (public handle, private handle).
    pub(crate) fn generate_key_pair(
        &mut self,
        h: CK_SESSION_HANDLE,
        mech: CK_MECHANISM_TYPE,
        public: &Template,
        private: &Template,
    ) -> CkResult<(CK_OBJECT_HANDLE, CK_OBJECT_HANDLE)> {
        if !self.session(h)?.rw {
            return Err(Rv(CKR_SESSION_READ_ONLY));
        }
        let edwards = match mech {
            CKM_EC_KEY_PAIR_GEN => false,
            CKM_EC_EDWARDS_KEY_PAIR_GEN => true,
            _ => return Err(Rv(CKR_MECHANISM_INVALID)),
        };
        // The curve first: every other check depends on it.
        let params = public
            .iter()
            .chain(private.iter())
            .find(|(t, _)| *t == CKA_EC_PARAMS)
            .map(|(_, v)| v.clone())
            .ok_or(Rv(CKR_TEMPLATE_INCOMPLETE))?;
        let algorithm = match (der::curve_of(&params), edwards) {
            (Some(a @ (Algorithm::P256 | Algorithm::Secp256k1)), false) => a,
            (Some(Algorithm::Ed25519), true) => Algorithm::Ed25519,
            (Some(_), _) => return Err(Rv(CKR_TEMPLATE_INCONSISTENT)),
            (None, _) => return Err(Rv(CKR_CURVE_NOT_SUPPORTED)),
        };
        let mut req = Requested::default();
        check_template(public, Class::Public, algorithm, &mut req)?;
        check_template(private, Class::Private, algorithm, &mut req)?;
        let handles = self.generate(algorithm, req)?;
        match handles.as_slice() {
            [private, public] => Ok((*public, *private)),
            _ => Err(Rv(CKR_GENERAL_ERROR)),
        }
    }

    /// `C_GenerateKey`: an AES-256 key (`CKM_AES_KEY_GEN`) or a 32-byte HMAC
    /// key (`CKM_GENERIC_SECRET_KEY_GEN`); `CKA_VALUE_LEN` is required
    /// (PKCS#11 3.0 §2.8.3, §2.32.3) and must be 32.
    pub(crate) fn generate_key(
        &mut self,
        h: CK_SESSION_HANDLE,
        mech: CK_MECHANISM_TYPE,
        template: &Template,
    ) -> CkResult<CK_OBJECT_HANDLE> {
        if !self.session(h)?.rw {
            return Err(Rv(CKR_SESSION_READ_ONLY));
        }
        let algorithm = match mech {
            CKM_AES_KEY_GEN => Algorithm::Aes256Gcm,
            CKM_GENERIC_SECRET_KEY_GEN => Algorithm::HmacSha256,
            _ => return Err(Rv(CKR_MECHANISM_INVALID)),
        };
        let mut req = Requested::default();
        check_template(template, Class::Secret, algorithm, &mut req)?;
        match req.value_len {
            None => return Err(Rv(CKR_TEMPLATE_INCOMPLETE)),
            Some(32) => {}
            Some(_) => return Err(Rv(CKR_KEY_SIZE_RANGE)),
        }
        let handles = self.generate(algorithm, req)?;
        handles.first().copied().ok_or(Rv(CKR_GENERAL_ERROR))
    }
}

#[cfg(test)]
mod tests;
