//! Sign throughput through PKCS#11, Keyhold vs SoftHSM2 (issue 12's
//! benchmark): one session, `C_SignInit` + `C_Sign` per signature, Ed25519
//! (`CKM_EDDSA`) and P-256 (`CKM_ECDSA` over a 32-byte digest), both modules
//! loaded with dlopen exactly as an application would. Prints a table.
//!
//! ```sh
//! cargo build --release -p keyholdd
//! cargo bench -p keyhold-pkcs11 --bench sign_throughput      # SECONDS=3 by default
//! ```
//!
//! Needs Debian's softhsm2 (`/usr/lib/softhsm/libsofthsm2.so`,
//! `softhsm2-util`); without it only Keyhold is measured. Run it on a quiet
//! machine: the daemon and the benchmark share the cores.
#![allow(clippy::unwrap_used, clippy::expect_used, unsafe_code, missing_docs)]

use cryptoki_sys::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SOFTHSM: &str = "/usr/lib/softhsm/libsofthsm2.so";
const P256_OID: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const ED25519_OID: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
const PIN: &[u8] = b"1234";

struct Module {
    _lib: libloading::Library,
    f: &'static CK_FUNCTION_LIST,
    session: CK_SESSION_HANDLE,
}

fn ok(rv: CK_RV, what: &str) {
    assert_eq!(rv, CKR_OK, "{what} failed: {rv:#x}");
}

impl Module {
    fn open(path: &Path) -> Self {
        // SAFETY: loading a PKCS#11 module; its initializers are trusted
        // like any PKCS#11 application trusts its module.
        let lib = unsafe { libloading::Library::new(path) }.expect("dlopen");
        // SAFETY: the symbol has the PKCS#11 signature.
        let get: libloading::Symbol<unsafe extern "C" fn(*mut *mut CK_FUNCTION_LIST) -> CK_RV> =
            unsafe { lib.get(b"C_GetFunctionList\0") }.unwrap();
        let mut fl = std::ptr::null_mut();
        // SAFETY: valid out pointer; the list is static in the module, which
        // stays loaded as long as `_lib`.
        let f: &'static CK_FUNCTION_LIST = unsafe {
            ok(get(&mut fl), "C_GetFunctionList");
            &*fl
        };
        // SAFETY: the calls below follow PKCS#11 with valid pointers.
        unsafe {
            ok(
                f.C_Initialize.unwrap()(std::ptr::null_mut()),
                "C_Initialize",
            );
            // SoftHSM2 lists an extra empty slot: take the first slot whose
            // token is initialized.
            let mut n = 0;
            ok(
                f.C_GetSlotList.unwrap()(CK_TRUE, std::ptr::null_mut(), &mut n),
                "C_GetSlotList",
            );
            let mut slots = vec![0; n as usize];
            ok(
                f.C_GetSlotList.unwrap()(CK_TRUE, slots.as_mut_ptr(), &mut n),
                "C_GetSlotList",
            );
            let slot = *slots
                .iter()
                .find(|s| {
                    let mut ti = CK_TOKEN_INFO::default();
                    f.C_GetTokenInfo.unwrap()(**s, &mut ti) == CKR_OK
                        && ti.flags & CKF_TOKEN_INITIALIZED != 0
                })
                .expect("no initialized token");
            let mut session = 0;
            ok(
                f.C_OpenSession.unwrap()(
                    slot,
                    CKF_SERIAL_SESSION | CKF_RW_SESSION,
                    std::ptr::null_mut(),
                    None,
                    &mut session,
                ),
                "C_OpenSession",
            );
            let mut pin = PIN.to_vec();
            let rv = f.C_Login.unwrap()(session, CKU_USER, pin.as_mut_ptr(), pin.len() as CK_ULONG);
            assert!(
                rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN,
                "C_Login: {rv:#x}"
            );
            Self {
                _lib: lib,
                f,
                session,
            }
        }
    }

    fn keypair(&self, mech: CK_MECHANISM_TYPE, params: &[u8], label: &str) -> CK_OBJECT_HANDLE {
        let mut params = params.to_vec();
        let mut lbl = label.as_bytes().to_vec();
        let mut yes = CK_TRUE;
        let attr = |t, p: *mut u8, l: usize| CK_ATTRIBUTE {
            type_: t,
            pValue: p as *mut _,
            ulValueLen: l as CK_ULONG,
        };
        let mut public = [
            attr(CKA_EC_PARAMS, params.as_mut_ptr(), params.len()),
            attr(CKA_TOKEN, &mut yes, 1),
            attr(CKA_LABEL, lbl.as_mut_ptr(), lbl.len()),
        ];
        let mut private = [
            attr(CKA_TOKEN, &mut yes, 1),
            attr(CKA_SIGN, &mut yes, 1),
            attr(CKA_SENSITIVE, &mut yes, 1),
            attr(CKA_LABEL, lbl.as_mut_ptr(), lbl.len()),
        ];
        let mut m = CK_MECHANISM {
            mechanism: mech,
            pParameter: std::ptr::null_mut(),
            ulParameterLen: 0,
        };
        let (mut hp, mut hk) = (0, 0);
        // SAFETY: valid templates and out pointers.
        ok(
            unsafe {
                self.f.C_GenerateKeyPair.unwrap()(
                    self.session,
                    &mut m,
                    public.as_mut_ptr(),
                    public.len() as CK_ULONG,
                    private.as_mut_ptr(),
                    private.len() as CK_ULONG,
                    &mut hp,
                    &mut hk,
                )
            },
            "C_GenerateKeyPair",
        );
        hk
    }

    /// Signatures per second over `secs`, after a short warm-up.
    fn throughput(&self, mech: CK_MECHANISM_TYPE, key: CK_OBJECT_HANDLE, secs: f64) -> (f64, u64) {
        let mut data = [0x42u8; 32];
        let mut sig = [0u8; 128];
        let mut one = || {
            let mut m = CK_MECHANISM {
                mechanism: mech,
                pParameter: std::ptr::null_mut(),
                ulParameterLen: 0,
            };
            let mut len = sig.len() as CK_ULONG;
            // SAFETY: valid mechanism, data and output buffers.
            unsafe {
                ok(
                    self.f.C_SignInit.unwrap()(self.session, &mut m, key),
                    "C_SignInit",
                );
                ok(
                    self.f.C_Sign.unwrap()(
                        self.session,
                        data.as_mut_ptr(),
                        32,
                        sig.as_mut_ptr(),
                        &mut len,
                    ),
                    "C_Sign",
                );
            }
            assert_eq!(len, 64);
        };
        for _ in 0..50 {
            one();
        }
        let start = Instant::now();
        let budget = Duration::from_secs_f64(secs);
        let mut n = 0u64;
        while start.elapsed() < budget {
            one();
            n += 1;
        }
        (n as f64 / start.elapsed().as_secs_f64(), n)
    }
}

impl Drop for Module {
    fn drop(&mut self) {
        // SAFETY: NULL reserved pointer.
        unsafe { self.f.C_Finalize.unwrap()(std::ptr::null_mut()) };
    }
}

struct Daemon(Child);
impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_keyholdd(exe_dir: &Path, dir: &Path) -> (Daemon, PathBuf) {
    let bin = exe_dir.join("keyholdd");
    assert!(
        bin.exists(),
        "{} missing: run `cargo build --release -p keyholdd` first",
        bin.display()
    );
    let socket = dir.join("run/keyhold.sock");
    let child = Command::new(&bin)
        .arg("--socket")
        .arg(&socket)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    while keyhold_client::Client::connect(&socket).is_err() {
        assert!(Instant::now() < deadline, "keyholdd did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    (Daemon(child), socket)
}

fn main() {
    // `cargo bench` passes --bench; nothing else is taken.
    let secs: f64 = std::env::var("SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().to_owned(); // target/<profile>
    let tmp = tempfile::tempdir().unwrap();
    let (_daemon, socket) = start_keyholdd(&dir, tmp.path());
    // The module is dlopen'ed (its own copy of the crate), so it is pointed
    // at the daemon through the environment. SAFETY: no other thread runs yet.
    unsafe { std::env::set_var("KEYHOLD_SOCKET", &socket) };

    let mut rows = Vec::new();
    // `cargo bench` leaves the cdylib it just built in deps/ (only `cargo
    // build` copies it up a level).
    let so = [
        dir.join("deps/libkeyhold_pkcs11.so"),
        dir.join("libkeyhold_pkcs11.so"),
    ]
    .into_iter()
    .find(|p| p.exists())
    .expect("libkeyhold_pkcs11.so not built");
    let keyhold = Module::open(&so);
    let ed = keyhold.keypair(CKM_EC_EDWARDS_KEY_PAIR_GEN, ED25519_OID, "bench-ed");
    let p256 = keyhold.keypair(CKM_EC_KEY_PAIR_GEN, P256_OID, "bench-p256");
    rows.push((
        "keyhold",
        "Ed25519",
        keyhold.throughput(CKM_EDDSA, ed, secs),
    ));
    rows.push((
        "keyhold",
        "P-256",
        keyhold.throughput(CKM_ECDSA, p256, secs),
    ));
    drop(keyhold);

    if Path::new(SOFTHSM).exists() {
        let conf = tmp.path().join("softhsm2.conf");
        std::fs::create_dir_all(tmp.path().join("tokens")).unwrap();
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\n",
                tmp.path().join("tokens").display()
            ),
        )
        .unwrap();
        let status = Command::new("softhsm2-util")
            .env("SOFTHSM2_CONF", &conf)
            .args([
                "--init-token",
                "--free",
                "--label",
                "bench",
                "--pin",
                "1234",
                "--so-pin",
                "5678",
            ])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "softhsm2-util --init-token failed");
        // SAFETY: set before SoftHSM2 is loaded; this benchmark runs no
        // other thread that reads the environment.
        unsafe { std::env::set_var("SOFTHSM2_CONF", &conf) };
        let soft = Module::open(Path::new(SOFTHSM));
        let ed = soft.keypair(CKM_EC_EDWARDS_KEY_PAIR_GEN, ED25519_OID, "bench-ed");
        let p256 = soft.keypair(CKM_EC_KEY_PAIR_GEN, P256_OID, "bench-p256");
        rows.push(("softhsm2", "Ed25519", soft.throughput(CKM_EDDSA, ed, secs)));
        rows.push(("softhsm2", "P-256", soft.throughput(CKM_ECDSA, p256, secs)));
    } else {
        eprintln!("{SOFTHSM} not found: SoftHSM2 not measured (apt-get install softhsm2)");
    }

    println!("\n| module | key | C_SignInit+C_Sign per second | signatures | µs per signature |");
    println!("|---|---|---:|---:|---:|");
    for (module, key, (rate, n)) in &rows {
        println!("| {module} | {key} | {rate:.0} | {n} | {:.1} |", 1e6 / rate);
    }
    for key in ["Ed25519", "P-256"] {
        let get = |m: &str| rows.iter().find(|r| r.0 == m && r.1 == key).map(|r| r.2.0);
        if let (Some(k), Some(s)) = (get("keyhold"), get("softhsm2")) {
            println!("{key}: keyhold / softhsm2 = {:.2}x", k / s);
        }
    }
}
