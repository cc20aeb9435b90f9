//! Shared helpers for the module's tests: a real `keyholdd` on a private
//! temporary directory, and the module reached only through its C ABI
//! (`C_GetInterface` -> the 3.0 function list -> function pointers).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, unsafe_code)]

use cryptoki_sys::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The module's state is process-wide: tests take turns.
static TURN: Mutex<()> = Mutex::new(());

pub fn turn() -> MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(|p| p.into_inner())
}

/// `target/<profile>/keyholdd`, built on demand.
fn keyholdd() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let bin = dir.join("keyholdd");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-q", "-p", "keyholdd"])
            .status()
            .unwrap();
        assert!(status.success(), "cargo build -p keyholdd failed");
    }
    assert!(bin.exists(), "{} missing", bin.display());
    bin
}

pub struct Daemon {
    pub dir: tempfile::TempDir,
    pub socket: PathBuf,
    child: Option<Child>,
}

impl Daemon {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("run").join("keyhold.sock");
        let mut d = Self {
            dir,
            socket,
            child: None,
        };
        d.spawn();
        d
    }

    pub fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("keyholdd.log"))
            .unwrap();
        let child = Command::new(keyholdd())
            .arg("--socket")
            .arg(&self.socket)
            .arg("--data-dir")
            .arg(self.dir.path().join("data"))
            .env_remove("KEYHOLD_SOCKET")
            .env_remove("KEYHOLD_DATA_DIR")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(90);
        while keyhold_client::Client::connect(&self.socket).is_err() {
            assert!(Instant::now() < deadline, "keyholdd did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The 3.0 function list, as an application gets it.
pub fn functions() -> &'static CK_FUNCTION_LIST_3_0 {
    let mut iface: *mut CK_INTERFACE = std::ptr::null_mut();
    // SAFETY: exported function called as a C caller would, NULL name and
    // version (the default interface).
    let rv = unsafe {
        keyhold_pkcs11::ffi::C_GetInterface(
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            &mut iface,
            0,
        )
    };
    assert_eq!(rv, CKR_OK);
    // SAFETY: the module returned a pointer to its static 3.0 interface.
    unsafe { &*((*iface).pFunctionList as *const CK_FUNCTION_LIST_3_0) }
}

/// A session on an initialized module; finalizes on drop.
pub struct P11 {
    pub f: &'static CK_FUNCTION_LIST_3_0,
    pub session: CK_SESSION_HANDLE,
}

pub fn ulong(v: CK_ULONG) -> Vec<u8> {
    v.to_ne_bytes().to_vec()
}

pub const P256_OID: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
pub const SECP256K1_OID: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a];
pub const EDWARDS25519_NAME: &[u8] = b"\x13\x0cedwards25519";

impl P11 {
    /// `C_Initialize` against `socket`, and one R/W session.
    pub fn open(socket: &Path) -> Self {
        keyhold_pkcs11::set_socket_override(Some(socket.to_owned()));
        let f = functions();
        // SAFETY: NULL init args are allowed.
        assert_eq!(
            unsafe { f.C_Initialize.unwrap()(std::ptr::null_mut()) },
            CKR_OK
        );
        let mut p = Self { f, session: 0 };
        p.session = p.open_session(CKF_SERIAL_SESSION | CKF_RW_SESSION).unwrap();
        p
    }

    pub fn open_session(&self, flags: CK_FLAGS) -> Result<CK_SESSION_HANDLE, CK_RV> {
        let mut h = 0;
        // SAFETY: valid out pointer.
        let rv =
            unsafe { self.f.C_OpenSession.unwrap()(1, flags, std::ptr::null_mut(), None, &mut h) };
        if rv == CKR_OK { Ok(h) } else { Err(rv) }
    }

    fn attrs(t: &mut [(CK_ATTRIBUTE_TYPE, Vec<u8>)]) -> Vec<CK_ATTRIBUTE> {
        t.iter_mut()
            .map(|(ty, v)| CK_ATTRIBUTE {
                type_: *ty,
                pValue: v.as_mut_ptr() as *mut _,
                ulValueLen: v.len() as CK_ULONG,
            })
            .collect()
    }

    pub fn gen_pair(
        &self,
        mech: CK_MECHANISM_TYPE,
        mut public: Vec<(CK_ATTRIBUTE_TYPE, Vec<u8>)>,
        mut private: Vec<(CK_ATTRIBUTE_TYPE, Vec<u8>)>,
    ) -> Result<(CK_OBJECT_HANDLE, CK_OBJECT_HANDLE), CK_RV> {
        self.gen_pair_in(self.session, mech, &mut public, &mut private)
    }

    pub fn gen_pair_in(
        &self,
        session: CK_SESSION_HANDLE,
        mech: CK_MECHANISM_TYPE,
        public: &mut [(CK_ATTRIBUTE_TYPE, Vec<u8>)],
        private: &mut [(CK_ATTRIBUTE_TYPE, Vec<u8>)],
    ) -> Result<(CK_OBJECT_HANDLE, CK_OBJECT_HANDLE), CK_RV> {
        let mut m = CK_MECHANISM {
            mechanism: mech,
            pParameter: std::ptr::null_mut(),
            ulParameterLen: 0,
        };
        let mut pa = Self::attrs(public);
        let mut ka = Self::attrs(private);
        let (mut hp, mut hk) = (0, 0);
        // SAFETY: every pointer is valid for the call.
        let rv = unsafe {
            self.f.C_GenerateKeyPair.unwrap()(
                session,
                &mut m,
                pa.as_mut_ptr(),
                pa.len() as CK_ULONG,
                ka.as_mut_ptr(),
                ka.len() as CK_ULONG,
                &mut hp,
                &mut hk,
            )
        };
        if rv == CKR_OK { Ok((hp, hk)) } else { Err(rv) }
    }

    pub fn gen_key(
        &self,
        mech: CK_MECHANISM_TYPE,
        mut t: Vec<(CK_ATTRIBUTE_TYPE, Vec<u8>)>,
    ) -> Result<CK_OBJECT_HANDLE, CK_RV> {
        let mut m = CK_MECHANISM {
            mechanism: mech,
            pParameter: std::ptr::null_mut(),
            ulParameterLen: 0,
        };
        let mut a = Self::attrs(&mut t);
        let mut h = 0;
        // SAFETY: every pointer is valid for the call.
        let rv = unsafe {
            self.f.C_GenerateKey.unwrap()(
                self.session,
                &mut m,
                a.as_mut_ptr(),
                a.len() as CK_ULONG,
                &mut h,
            )
        };
        if rv == CKR_OK { Ok(h) } else { Err(rv) }
    }

    pub fn find(&self, mut t: Vec<(CK_ATTRIBUTE_TYPE, Vec<u8>)>) -> Vec<CK_OBJECT_HANDLE> {
        let mut a = Self::attrs(&mut t);
        // SAFETY: valid template.
        let rv = unsafe {
            self.f.C_FindObjectsInit.unwrap()(self.session, a.as_mut_ptr(), a.len() as CK_ULONG)
        };
        assert_eq!(rv, CKR_OK);
        let mut out = Vec::new();
        loop {
            let mut buf = [0 as CK_OBJECT_HANDLE; 3];
            let mut n = 0;
            // SAFETY: room for 3 handles.
            let rv =
                unsafe { self.f.C_FindObjects.unwrap()(self.session, buf.as_mut_ptr(), 3, &mut n) };
            assert_eq!(rv, CKR_OK);
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n as usize]);
        }
        // SAFETY: plain call.
        assert_eq!(
            unsafe { self.f.C_FindObjectsFinal.unwrap()(self.session) },
            CKR_OK
        );
        out
    }

    /// One attribute by the two-call convention.
    pub fn attr(
        &self,
        h: CK_OBJECT_HANDLE,
        t: CK_ATTRIBUTE_TYPE,
    ) -> Result<Vec<u8>, (CK_RV, CK_ULONG)> {
        let mut a = CK_ATTRIBUTE {
            type_: t,
            pValue: std::ptr::null_mut(),
            ulValueLen: 0,
        };
        // SAFETY: one attribute, NULL value: asks for the length.
        let rv = unsafe { self.f.C_GetAttributeValue.unwrap()(self.session, h, &mut a, 1) };
        if rv != CKR_OK {
            return Err((rv, a.ulValueLen));
        }
        let mut v = vec![0u8; a.ulValueLen as usize];
        a.pValue = v.as_mut_ptr() as *mut _;
        // SAFETY: a buffer of the announced length.
        let rv = unsafe { self.f.C_GetAttributeValue.unwrap()(self.session, h, &mut a, 1) };
        if rv != CKR_OK {
            return Err((rv, a.ulValueLen));
        }
        v.truncate(a.ulValueLen as usize);
        Ok(v)
    }

    pub fn sign_init(&self, mech: CK_MECHANISM_TYPE, key: CK_OBJECT_HANDLE) -> CK_RV {
        let mut m = CK_MECHANISM {
            mechanism: mech,
            pParameter: std::ptr::null_mut(),
            ulParameterLen: 0,
        };
        // SAFETY: valid mechanism.
        unsafe { self.f.C_SignInit.unwrap()(self.session, &mut m, key) }
    }

    pub fn verify_init(&self, mech: CK_MECHANISM_TYPE, key: CK_OBJECT_HANDLE) -> CK_RV {
        let mut m = CK_MECHANISM {
            mechanism: mech,
            pParameter: std::ptr::null_mut(),
            ulParameterLen: 0,
        };
        // SAFETY: valid mechanism.
        unsafe { self.f.C_VerifyInit.unwrap()(self.session, &mut m, key) }
    }

    /// `C_Sign` with the two-call convention.
    pub fn sign(&self, data: &[u8]) -> Result<Vec<u8>, CK_RV> {
        let mut len = 0;
        let mut d = data.to_vec();
        // SAFETY: NULL output asks for the length.
        let rv = unsafe {
            self.f.C_Sign.unwrap()(
                self.session,
                d.as_mut_ptr(),
                d.len() as CK_ULONG,
                std::ptr::null_mut(),
                &mut len,
            )
        };
        if rv != CKR_OK {
            return Err(rv);
        }
        let mut sig = vec![0u8; len as usize];
        // SAFETY: buffer of the announced length.
        let rv = unsafe {
            self.f.C_Sign.unwrap()(
                self.session,
                d.as_mut_ptr(),
                d.len() as CK_ULONG,
                sig.as_mut_ptr(),
                &mut len,
            )
        };
        if rv != CKR_OK {
            return Err(rv);
        }
        sig.truncate(len as usize);
        Ok(sig)
    }

    pub fn sign_update(&self, part: &[u8]) -> CK_RV {
        let mut p = part.to_vec();
        // SAFETY: valid buffer.
        unsafe { self.f.C_SignUpdate.unwrap()(self.session, p.as_mut_ptr(), p.len() as CK_ULONG) }
    }

    pub fn sign_final(&self) -> Result<Vec<u8>, CK_RV> {
        let mut sig = vec![0u8; 128];
        let mut len = sig.len() as CK_ULONG;
        // SAFETY: 128-byte buffer.
        let rv = unsafe { self.f.C_SignFinal.unwrap()(self.session, sig.as_mut_ptr(), &mut len) };
        if rv != CKR_OK {
            return Err(rv);
        }
        sig.truncate(len as usize);
        Ok(sig)
    }

    pub fn verify(&self, data: &[u8], sig: &[u8]) -> CK_RV {
        let (mut d, mut s) = (data.to_vec(), sig.to_vec());
        // SAFETY: valid buffers.
        unsafe {
            self.f.C_Verify.unwrap()(
                self.session,
                d.as_mut_ptr(),
                d.len() as CK_ULONG,
                s.as_mut_ptr(),
                s.len() as CK_ULONG,
            )
        }
    }

    pub fn verify_update(&self, part: &[u8]) -> CK_RV {
        let mut p = part.to_vec();
        // SAFETY: valid buffer.
        unsafe { self.f.C_VerifyUpdate.unwrap()(self.session, p.as_mut_ptr(), p.len() as CK_ULONG) }
    }

    pub fn verify_final(&self, sig: &[u8]) -> CK_RV {
        let mut s = sig.to_vec();
        // SAFETY: valid buffer.
        unsafe { self.f.C_VerifyFinal.unwrap()(self.session, s.as_mut_ptr(), s.len() as CK_ULONG) }
    }
}

impl Drop for P11 {
    fn drop(&mut self) {
        // SAFETY: NULL reserved pointer.
        unsafe { self.f.C_Finalize.unwrap()(std::ptr::null_mut()) };
        keyhold_pkcs11::set_socket_override(None);
    }
}

/// A unique label per call.
pub fn label(prefix: &str) -> Vec<u8> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
    .into_bytes()
}
