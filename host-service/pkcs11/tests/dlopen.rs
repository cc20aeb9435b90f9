//! The built `libkeyhold_pkcs11.so` itself, loaded with dlopen as a PKCS#11
//! application loads it (its own copy of the crate, configured only through
//! the environment): exported symbols, complete function lists, and one
//! key generation + signature against a real keyholdd.
#![allow(clippy::unwrap_used, clippy::expect_used, unsafe_code)]

mod common;

use common::{Daemon, EDWARDS25519_NAME};
use cryptoki_sys::*;
use std::path::PathBuf;

/// The cdylib cargo built for this test run (`deps/`, next to the test).
fn module_path() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    [
        deps.join("libkeyhold_pkcs11.so"),
        deps.parent().unwrap().join("libkeyhold_pkcs11.so"),
    ]
    .into_iter()
    .find(|p| p.exists())
    .expect("libkeyhold_pkcs11.so not built")
}

#[test]
fn the_shared_object_exports_pkcs11_and_signs() {
    let d = Daemon::start();
    // SAFETY: this test binary runs this one test; no other thread reads
    // the environment while it is set (before the module is loaded).
    unsafe { std::env::set_var("KEYHOLD_SOCKET", d.socket()) };
    // SAFETY: loading the module under test.
    let lib = unsafe { libloading::Library::new(module_path()) }.unwrap();

    // Every function of the 3.0 list is also an exported symbol.
    for name in [
        "C_GetFunctionList",
        "C_GetInterfaceList",
        "C_GetInterface",
        "C_Initialize",
        "C_Finalize",
        "C_GetInfo",
        "C_GetSlotList",
        "C_GetTokenInfo",
        "C_GetMechanismList",
        "C_OpenSession",
        "C_FindObjectsInit",
        "C_GetAttributeValue",
        "C_SignInit",
        "C_Sign",
        "C_VerifyInit",
        "C_Verify",
        "C_GenerateKeyPair",
        "C_GenerateKey",
        "C_GenerateRandom",
    ] {
        let sym = format!("{name}\0");
        // SAFETY: only checks the symbol exists.
        let found: Result<libloading::Symbol<*const ()>, _> = unsafe { lib.get(sym.as_bytes()) };
        assert!(found.is_ok(), "{name} not exported");
    }

    // SAFETY: PKCS#11 signatures; pointers valid for each call.
    unsafe {
        let get: libloading::Symbol<
            unsafe extern "C" fn(
                *mut CK_UTF8CHAR,
                *mut CK_VERSION,
                *mut *mut CK_INTERFACE,
                CK_FLAGS,
            ) -> CK_RV,
        > = lib.get(b"C_GetInterface\0").unwrap();
        let mut iface = std::ptr::null_mut();
        assert_eq!(
            get(std::ptr::null_mut(), std::ptr::null_mut(), &mut iface, 0),
            CKR_OK
        );
        let f = &*((*iface).pFunctionList as *const CK_FUNCTION_LIST_3_0);
        assert_eq!((f.version.major, f.version.minor), (3, 0));
        // No empty slot in the list (the stubs fill what is not offered).
        let slots = std::slice::from_raw_parts(
            (f as *const CK_FUNCTION_LIST_3_0 as *const u8)
                .add(size_of::<CK_VERSION>().next_multiple_of(8))
                as *const Option<unsafe extern "C" fn()>,
            (size_of::<CK_FUNCTION_LIST_3_0>() - 8) / size_of::<usize>(),
        );
        assert!(
            slots.iter().all(Option::is_some),
            "a NULL entry in the 3.0 function list"
        );

        assert_eq!(f.C_Initialize.unwrap()(std::ptr::null_mut()), CKR_OK);
        let mut session = 0;
        assert_eq!(
            f.C_OpenSession.unwrap()(
                1,
                CKF_SERIAL_SESSION | CKF_RW_SESSION,
                std::ptr::null_mut(),
                None,
                &mut session
            ),
            CKR_OK
        );
        let mut params = EDWARDS25519_NAME.to_vec();
        let mut public = [CK_ATTRIBUTE {
            type_: CKA_EC_PARAMS,
            pValue: params.as_mut_ptr() as *mut _,
            ulValueLen: params.len() as CK_ULONG,
        }];
        let mut m = CK_MECHANISM {
            mechanism: CKM_EC_EDWARDS_KEY_PAIR_GEN,
            pParameter: std::ptr::null_mut(),
            ulParameterLen: 0,
        };
        let (mut hp, mut hk) = (0, 0);
        assert_eq!(
            f.C_GenerateKeyPair.unwrap()(
                session,
                &mut m,
                public.as_mut_ptr(),
                1,
                std::ptr::null_mut(),
                0,
                &mut hp,
                &mut hk
            ),
            CKR_OK
        );
        let mut sm = CK_MECHANISM {
            mechanism: CKM_EDDSA,
            pParameter: std::ptr::null_mut(),
            ulParameterLen: 0,
        };
        assert_eq!(f.C_SignInit.unwrap()(session, &mut sm, hk), CKR_OK);
        let mut msg = *b"through dlopen";
        let mut sig = [0u8; 64];
        let mut len: CK_ULONG = 64;
        assert_eq!(
            f.C_Sign.unwrap()(
                session,
                msg.as_mut_ptr(),
                msg.len() as CK_ULONG,
                sig.as_mut_ptr(),
                &mut len
            ),
            CKR_OK
        );
        assert_eq!(f.C_VerifyInit.unwrap()(session, &mut sm, hp), CKR_OK);
        assert_eq!(
            f.C_Verify.unwrap()(
                session,
                msg.as_mut_ptr(),
                msg.len() as CK_ULONG,
                sig.as_mut_ptr(),
                64
            ),
            CKR_OK
        );
        assert_eq!(f.C_Finalize.unwrap()(std::ptr::null_mut()), CKR_OK);
    }
}
