//! The module through its C ABI against a real `keyholdd`: interfaces,
//! initialization rules, token and mechanism queries, objects and their
//! attributes, key generation, sign/verify checked with independent
//! RustCrypto verifiers, and every error path the issue names.
#![allow(clippy::unwrap_used, clippy::expect_used, unsafe_code)]

mod common;

use common::*;
use cryptoki_sys::*;

#[test]
fn interfaces_offer_3_0_first_and_2_40() {
    let _t = turn();
    let mut n: CK_ULONG = 0;
    // SAFETY: NULL list asks for the count.
    let rv = unsafe { keyhold_pkcs11::ffi::C_GetInterfaceList(std::ptr::null_mut(), &mut n) };
    assert_eq!((rv, n), (CKR_OK, 2));
    let mut one = [CK_INTERFACE::default(); 1];
    let mut small: CK_ULONG = 1;
    // SAFETY: room for one interface, two exist.
    let rv = unsafe { keyhold_pkcs11::ffi::C_GetInterfaceList(one.as_mut_ptr(), &mut small) };
    assert_eq!((rv, small), (CKR_BUFFER_TOO_SMALL, 2));
    let mut list = [CK_INTERFACE::default(); 2];
    // SAFETY: room for two.
    assert_eq!(
        unsafe { keyhold_pkcs11::ffi::C_GetInterfaceList(list.as_mut_ptr(), &mut n) },
        CKR_OK
    );
    let versions: Vec<(u8, u8)> = list
        .iter()
        .map(|i| {
            // SAFETY: names are NUL-terminated statics.
            let name = unsafe { std::ffi::CStr::from_ptr(i.pInterfaceName as *const _) };
            assert_eq!(name.to_bytes(), b"PKCS 11");
            // SAFETY: every function list starts with its CK_VERSION.
            let v = unsafe { *(i.pFunctionList as *const CK_VERSION) };
            (v.major, v.minor)
        })
        .collect();
    assert_eq!(versions, vec![(3, 0), (2, 40)]);

    // By version, and a name that is not offered.
    let mut v = CK_VERSION {
        major: 2,
        minor: 40,
    };
    let mut iface: *mut CK_INTERFACE = std::ptr::null_mut();
    let mut name = *b"PKCS 11\0";
    // SAFETY: valid pointers.
    let rv =
        unsafe { keyhold_pkcs11::ffi::C_GetInterface(name.as_mut_ptr(), &mut v, &mut iface, 0) };
    assert_eq!(rv, CKR_OK);
    // SAFETY: the module's static interface.
    let v240 = unsafe { *((*iface).pFunctionList as *const CK_VERSION) };
    assert_eq!((v240.major, v240.minor), (2, 40));
    let mut other = *b"Vendor X\0";
    // SAFETY: valid pointers.
    let rv = unsafe {
        keyhold_pkcs11::ffi::C_GetInterface(other.as_mut_ptr(), std::ptr::null_mut(), &mut iface, 0)
    };
    assert_eq!(rv, CKR_ARGUMENTS_BAD);
    // Fork-safe interface flag is not claimed: asking for it finds nothing.
    // SAFETY: valid pointers.
    let rv = unsafe {
        keyhold_pkcs11::ffi::C_GetInterface(
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            &mut iface,
            CKF_INTERFACE_FORK_SAFE,
        )
    };
    assert_eq!(rv, CKR_ARGUMENTS_BAD);

    let mut fl: *mut CK_FUNCTION_LIST = std::ptr::null_mut();
    // SAFETY: valid out pointer.
    assert_eq!(
        unsafe { keyhold_pkcs11::ffi::C_GetFunctionList(&mut fl) },
        CKR_OK
    );
    // SAFETY: the module's static list.
    let fl = unsafe { &*fl };
    assert_eq!((fl.version.major, fl.version.minor), (2, 40));
    // SAFETY: NULL out pointer must be refused, not written.
    assert_eq!(
        unsafe { keyhold_pkcs11::ffi::C_GetFunctionList(std::ptr::null_mut()) },
        CKR_ARGUMENTS_BAD
    );
}

#[test]
fn initialize_and_finalize_follow_the_specification() {
    let _t = turn();
    let f = functions();
    let mut n = 0;
    // SAFETY: every call below passes valid or deliberately NULL pointers.
    unsafe {
        assert_eq!(
            f.C_GetSlotList.unwrap()(CK_FALSE, std::ptr::null_mut(), &mut n),
            CKR_CRYPTOKI_NOT_INITIALIZED
        );
        assert_eq!(
            f.C_Finalize.unwrap()(std::ptr::null_mut()),
            CKR_CRYPTOKI_NOT_INITIALIZED
        );

        unsafe extern "C" fn create(_m: *mut *mut core::ffi::c_void) -> CK_RV {
            CKR_OK
        }
        unsafe extern "C" fn other(_m: *mut core::ffi::c_void) -> CK_RV {
            CKR_OK
        }
        // The application's own mutexes without OS locking: CKR_CANT_LOCK.
        let mut args = CK_C_INITIALIZE_ARGS {
            CreateMutex: Some(create),
            DestroyMutex: Some(other),
            LockMutex: Some(other),
            UnlockMutex: Some(other),
            flags: 0,
            pReserved: std::ptr::null_mut(),
        };
        assert_eq!(
            f.C_Initialize.unwrap()(&mut args as *mut _ as *mut _),
            CKR_CANT_LOCK
        );
        // Some but not all callbacks: bad arguments.
        args.LockMutex = None;
        args.flags = CKF_OS_LOCKING_OK;
        assert_eq!(
            f.C_Initialize.unwrap()(&mut args as *mut _ as *mut _),
            CKR_ARGUMENTS_BAD
        );
        // pReserved must be NULL.
        let mut reserved = CK_C_INITIALIZE_ARGS {
            flags: CKF_OS_LOCKING_OK,
            pReserved: std::ptr::dangling_mut(),
            ..Default::default()
        };
        assert_eq!(
            f.C_Initialize.unwrap()(&mut reserved as *mut _ as *mut _),
            CKR_ARGUMENTS_BAD
        );
        // With OS locking allowed, the callbacks are not needed: accepted.
        args.LockMutex = Some(other);
        assert_eq!(
            f.C_Initialize.unwrap()(&mut args as *mut _ as *mut _),
            CKR_OK
        );
        assert_eq!(
            f.C_Initialize.unwrap()(std::ptr::null_mut()),
            CKR_CRYPTOKI_ALREADY_INITIALIZED
        );
        assert_eq!(
            f.C_Finalize.unwrap()(std::ptr::dangling_mut()),
            CKR_ARGUMENTS_BAD
        );
        assert_eq!(f.C_Finalize.unwrap()(std::ptr::null_mut()), CKR_OK);
        assert_eq!(
            f.C_Finalize.unwrap()(std::ptr::null_mut()),
            CKR_CRYPTOKI_NOT_INITIALIZED
        );
        // Functions not offered say so once initialized, and before.
        let mut m = CK_MECHANISM {
            mechanism: CKM_SHA256,
            pParameter: std::ptr::null_mut(),
            ulParameterLen: 0,
        };
        assert_eq!(
            f.C_DigestInit.unwrap()(1, &mut m),
            CKR_CRYPTOKI_NOT_INITIALIZED
        );
        assert_eq!(f.C_Initialize.unwrap()(std::ptr::null_mut()), CKR_OK);
        assert_eq!(
            f.C_DigestInit.unwrap()(1, &mut m),
            CKR_FUNCTION_NOT_SUPPORTED
        );
        assert_eq!(f.C_Finalize.unwrap()(std::ptr::null_mut()), CKR_OK);
    }
}

#[test]
fn slot_token_and_mechanisms_are_truthful() {
    let _t = turn();
    let d = Daemon::start();
    let p = P11::open(d.socket());
    let f = p.f;
    // SAFETY: every call passes valid or deliberately NULL pointers.
    unsafe {
        let mut n = 0;
        assert_eq!(
            f.C_GetSlotList.unwrap()(CK_TRUE, std::ptr::null_mut(), &mut n),
            CKR_OK
        );
        assert_eq!(n, 1);
        let mut slots = [0 as CK_SLOT_ID; 1];
        assert_eq!(
            f.C_GetSlotList.unwrap()(CK_TRUE, slots.as_mut_ptr(), &mut n),
            CKR_OK
        );
        let mut ti = CK_TOKEN_INFO::default();
        assert_eq!(f.C_GetTokenInfo.unwrap()(slots[0], &mut ti), CKR_OK);
        let label = String::from_utf8_lossy(&ti.label).trim_end().to_owned();
        assert_eq!(label, format!("Keyhold unix:{}", rustix_uid()));
        assert_ne!(ti.flags & CKF_TOKEN_INITIALIZED, 0);
        assert_eq!(ti.flags & CKF_LOGIN_REQUIRED, 0);
        assert_eq!(f.C_GetTokenInfo.unwrap()(99, &mut ti), CKR_SLOT_ID_INVALID);

        let mut count = 0;
        assert_eq!(
            f.C_GetMechanismList.unwrap()(1, std::ptr::null_mut(), &mut count),
            CKR_OK
        );
        let mut short = count - 1;
        let mut mechs = vec![0 as CK_MECHANISM_TYPE; count as usize];
        assert_eq!(
            f.C_GetMechanismList.unwrap()(1, mechs.as_mut_ptr(), &mut short),
            CKR_BUFFER_TOO_SMALL
        );
        assert_eq!(short, count);
        assert_eq!(
            f.C_GetMechanismList.unwrap()(1, mechs.as_mut_ptr(), &mut count),
            CKR_OK
        );
        for want in [
            CKM_EC_KEY_PAIR_GEN,
            CKM_EC_EDWARDS_KEY_PAIR_GEN,
            CKM_ECDSA,
            CKM_ECDSA_SHA256,
            CKM_EDDSA,
            CKM_SHA256_HMAC,
            CKM_AES_KEY_GEN,
            CKM_GENERIC_SECRET_KEY_GEN,
        ] {
            assert!(mechs.contains(&want), "{want:#x} missing");
        }
        // Not listed because the daemon cannot honour them exactly.
        assert!(!mechs.contains(&CKM_AES_GCM) && !mechs.contains(&CKM_ECDH1_DERIVE));
        let mut mi = CK_MECHANISM_INFO::default();
        assert_eq!(f.C_GetMechanismInfo.unwrap()(1, CKM_ECDSA, &mut mi), CKR_OK);
        assert_ne!(mi.flags & CKF_SIGN, 0);
        assert_eq!(mi.flags & CKF_GENERATE_KEY_PAIR, 0);
        assert_eq!(
            f.C_GetMechanismInfo.unwrap()(1, CKM_RSA_PKCS, &mut mi),
            CKR_MECHANISM_INVALID
        );
    }
}

fn rustix_uid() -> u32 {
    // The owner namespace the daemon derives from this process's credentials.
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
        .unwrap()
}

#[test]
fn p256_keys_sign_and_verify_like_the_standard_says() {
    use p256::ecdsa::signature::Verifier;
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    let _t = turn();
    let d = Daemon::start();
    let p = P11::open(d.socket());
    let lbl = label("p256");
    let (hp, hk) = p
        .gen_pair(
            CKM_EC_KEY_PAIR_GEN,
            vec![
                (CKA_EC_PARAMS, P256_OID.to_vec()),
                (CKA_VERIFY, vec![CK_TRUE]),
                (CKA_TOKEN, vec![CK_TRUE]),
            ],
            vec![
                (CKA_LABEL, lbl.clone()),
                (CKA_SIGN, vec![CK_TRUE]),
                (CKA_SENSITIVE, vec![CK_TRUE]),
            ],
        )
        .unwrap();
    // Found by label, both halves, and by class.
    let found = p.find(vec![(CKA_LABEL, lbl.clone())]);
    assert_eq!(found.len(), 2);
    assert!(found.contains(&hp) && found.contains(&hk));
    assert_eq!(
        p.find(vec![
            (CKA_LABEL, lbl.clone()),
            (CKA_CLASS, ulong(CKO_PRIVATE_KEY))
        ]),
        vec![hk]
    );
    assert_eq!(p.attr(hk, CKA_ID).unwrap(), p.attr(hp, CKA_ID).unwrap());
    assert_eq!(p.attr(hp, CKA_EC_PARAMS).unwrap(), P256_OID);
    assert_eq!(p.attr(hk, CKA_KEY_TYPE).unwrap(), ulong(CKK_EC));

    // CKA_EC_POINT: DER OCTET STRING of the uncompressed point.
    let point = p.attr(hp, CKA_EC_POINT).unwrap();
    assert_eq!(&point[..3], &[0x04, 65, 0x04]);
    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point[2..]).unwrap();
    // CKA_PUBLIC_KEY_INFO is the SubjectPublicKeyInfo the daemon itself
    // encodes for this key, on both halves.
    let daemon_spki = keyhold_client::Client::connect(d.socket())
        .unwrap()
        .get_public_key(
            &keyhold_client::core::KeyRef::Alias(String::from_utf8(lbl.clone()).unwrap()),
            None,
            keyhold_client::core::PublicKeyFormat::SpkiDer,
        )
        .unwrap()
        .bytes;
    assert_eq!(p.attr(hp, CKA_PUBLIC_KEY_INFO).unwrap(), daemon_spki);
    assert_eq!(p.attr(hk, CKA_PUBLIC_KEY_INFO).unwrap(), daemon_spki);

    // Secrets: sensitive, unavailable length; unknown: type invalid.
    assert_eq!(
        p.attr(hk, CKA_VALUE),
        Err((CKR_ATTRIBUTE_SENSITIVE, CK_UNAVAILABLE_INFORMATION))
    );
    assert_eq!(
        p.attr(hk, 0x8765_4321),
        Err((CKR_ATTRIBUTE_TYPE_INVALID, CK_UNAVAILABLE_INFORMATION))
    );
    assert_eq!(p.attr(hk, CKA_EXTRACTABLE).unwrap(), vec![CK_FALSE]);

    // A buffer one byte short: CKR_BUFFER_TOO_SMALL and unavailable length.
    let mut short = vec![0u8; 66];
    let mut a = CK_ATTRIBUTE {
        type_: CKA_EC_POINT,
        pValue: short.as_mut_ptr() as *mut _,
        ulValueLen: 66,
    };
    // SAFETY: 66-byte buffer.
    let rv = unsafe { p.f.C_GetAttributeValue.unwrap()(p.session, hp, &mut a, 1) };
    assert_eq!(
        (rv, a.ulValueLen),
        (CKR_BUFFER_TOO_SMALL, CK_UNAVAILABLE_INFORMATION)
    );

    // CKM_ECDSA_SHA256, single part: a standard P-256 verifier accepts it.
    let msg = b"keyhold pkcs11 message";
    assert_eq!(p.sign_init(CKM_ECDSA_SHA256, hk), CKR_OK);
    let sig = p.sign(msg).unwrap();
    assert_eq!(sig.len(), 64);
    vk.verify(msg, &p256::ecdsa::Signature::from_slice(&sig).unwrap())
        .unwrap();
    // Multi-part gives a signature over the same message.
    assert_eq!(p.sign_init(CKM_ECDSA_SHA256, hk), CKR_OK);
    assert_eq!(p.sign_update(&msg[..7]), CKR_OK);
    assert_eq!(p.sign_update(&msg[7..]), CKR_OK);
    let sig2 = p.sign_final().unwrap();
    vk.verify(msg, &p256::ecdsa::Signature::from_slice(&sig2).unwrap())
        .unwrap();
    // And C_Verify agrees, single and multi-part; a flipped bit fails.
    assert_eq!(p.verify_init(CKM_ECDSA_SHA256, hp), CKR_OK);
    assert_eq!(p.verify(msg, &sig), CKR_OK);
    assert_eq!(p.verify_init(CKM_ECDSA_SHA256, hp), CKR_OK);
    assert_eq!(p.verify_update(msg), CKR_OK);
    assert_eq!(p.verify_final(&sig2), CKR_OK);
    let mut bad = sig.clone();
    bad[10] ^= 1;
    assert_eq!(p.verify_init(CKM_ECDSA_SHA256, hp), CKR_OK);
    assert_eq!(p.verify(msg, &bad), CKR_SIGNATURE_INVALID);
    assert_eq!(p.verify_init(CKM_ECDSA_SHA256, hp), CKR_OK);
    assert_eq!(p.verify(msg, &sig[..63]), CKR_SIGNATURE_LEN_RANGE);

    // CKM_ECDSA over a caller digest.
    let digest = [0x5au8; 32];
    assert_eq!(p.sign_init(CKM_ECDSA, hk), CKR_OK);
    let raw = p.sign(&digest).unwrap();
    vk.verify_prehash(&digest, &p256::ecdsa::Signature::from_slice(&raw).unwrap())
        .unwrap();
    // Single-part only.
    assert_eq!(p.sign_init(CKM_ECDSA, hk), CKR_OK);
    assert_eq!(p.sign_update(&digest), CKR_FUNCTION_NOT_SUPPORTED);
    assert_eq!(
        p.sign(&digest),
        Err(CKR_OPERATION_NOT_INITIALIZED),
        "an update error ends the operation"
    );

    // A short signature buffer keeps the operation; then it completes.
    assert_eq!(p.sign_init(CKM_ECDSA, hk), CKR_OK);
    let mut small = [0u8; 10];
    let mut len: CK_ULONG = 10;
    let mut dg = digest;
    // SAFETY: 10-byte buffer announced as such.
    let rv = unsafe {
        p.f.C_Sign.unwrap()(p.session, dg.as_mut_ptr(), 32, small.as_mut_ptr(), &mut len)
    };
    assert_eq!((rv, len), (CKR_BUFFER_TOO_SMALL, 64));
    assert!(p.sign(&digest).is_ok());
}

#[test]
fn secp256k1_and_ed25519_keys_work_and_mismatches_are_refused() {
    use ed25519_dalek::Verifier as _;
    use k256::ecdsa::signature::hazmat::PrehashVerifier;
    let _t = turn();
    let d = Daemon::start();
    let p = P11::open(d.socket());

    let (kp, kk) = p
        .gen_pair(
            CKM_EC_KEY_PAIR_GEN,
            vec![(CKA_EC_PARAMS, SECP256K1_OID.to_vec())],
            vec![(CKA_LABEL, label("k1"))],
        )
        .unwrap();
    let point = p.attr(kp, CKA_EC_POINT).unwrap();
    let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(&point[2..]).unwrap();
    let digest = [0x11u8; 32];
    assert_eq!(p.sign_init(CKM_ECDSA, kk), CKR_OK);
    let sig = p.sign(&digest).unwrap();
    vk.verify_prehash(&digest, &k256::ecdsa::Signature::from_slice(&sig).unwrap())
        .unwrap();

    // Ed25519 named by the PKCS#11 3.0 curve name.
    let (ep, ek) = p
        .gen_pair(
            CKM_EC_EDWARDS_KEY_PAIR_GEN,
            vec![(CKA_EC_PARAMS, EDWARDS25519_NAME.to_vec())],
            vec![(CKA_LABEL, label("ed"))],
        )
        .unwrap();
    assert_eq!(p.attr(ek, CKA_KEY_TYPE).unwrap(), ulong(CKK_EC_EDWARDS));
    let point = p.attr(ep, CKA_EC_POINT).unwrap();
    assert_eq!(&point[..2], &[0x04, 32]);
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&point[2..].try_into().unwrap()).unwrap();
    let msg = b"ed25519 through pkcs11";
    assert_eq!(p.sign_init(CKM_EDDSA, ek), CKR_OK);
    let sig = p.sign(msg).unwrap();
    vk.verify(msg, &ed25519_dalek::Signature::from_slice(&sig).unwrap())
        .unwrap();
    assert_eq!(p.verify_init(CKM_EDDSA, ep), CKR_OK);
    assert_eq!(p.verify(msg, &sig), CKR_OK);

    // A mechanism that does not fit the key.
    assert_eq!(p.sign_init(CKM_ECDSA, ek), CKR_KEY_TYPE_INCONSISTENT);
    assert_eq!(p.sign_init(CKM_EDDSA, kk), CKR_KEY_TYPE_INCONSISTENT);
    assert_eq!(p.sign_init(CKM_SHA256_HMAC, kk), CKR_KEY_TYPE_INCONSISTENT);
    // A public key cannot sign; a private key object does not verify.
    assert_eq!(p.sign_init(CKM_EDDSA, ep), CKR_KEY_FUNCTION_NOT_PERMITTED);
    assert_eq!(p.verify_init(CKM_EDDSA, ek), CKR_KEY_FUNCTION_NOT_PERMITTED);
    // EdDSA with a prehash parameter is not pure Ed25519.
    let mut params = CK_EDDSA_PARAMS {
        phFlag: CK_TRUE,
        ulContextDataLen: 0,
        pContextData: std::ptr::null_mut(),
    };
    let mut m = CK_MECHANISM {
        mechanism: CKM_EDDSA,
        pParameter: &mut params as *mut _ as *mut _,
        ulParameterLen: size_of::<CK_EDDSA_PARAMS>() as CK_ULONG,
    };
    // SAFETY: valid mechanism and parameter.
    assert_eq!(
        unsafe { p.f.C_SignInit.unwrap()(p.session, &mut m, ek) },
        CKR_MECHANISM_PARAM_INVALID
    );
    let mut pure = CK_EDDSA_PARAMS {
        phFlag: CK_FALSE,
        ulContextDataLen: 0,
        pContextData: std::ptr::null_mut(),
    };
    m.pParameter = &mut pure as *mut _ as *mut _;
    // SAFETY: as above; pure Ed25519 stated explicitly.
    assert_eq!(
        unsafe { p.f.C_SignInit.unwrap()(p.session, &mut m, ek) },
        CKR_OK
    );
    assert!(p.sign(msg).is_ok());
}

#[test]
fn secret_keys_hmac_and_aes() {
    let _t = turn();
    let d = Daemon::start();
    let p = P11::open(d.socket());
    assert_eq!(
        p.gen_key(CKM_GENERIC_SECRET_KEY_GEN, vec![(CKA_LABEL, label("mac"))]),
        Err(CKR_TEMPLATE_INCOMPLETE)
    );
    let mac = p
        .gen_key(
            CKM_GENERIC_SECRET_KEY_GEN,
            vec![
                (CKA_VALUE_LEN, ulong(32)),
                (CKA_LABEL, label("mac")),
                (CKA_SIGN, vec![CK_TRUE]),
            ],
        )
        .unwrap();
    assert_eq!(p.attr(mac, CKA_CLASS).unwrap(), ulong(CKO_SECRET_KEY));
    assert_eq!(
        p.attr(mac, CKA_VALUE),
        Err((CKR_ATTRIBUTE_SENSITIVE, CK_UNAVAILABLE_INFORMATION))
    );
    assert_eq!(p.sign_init(CKM_SHA256_HMAC, mac), CKR_OK);
    let tag = p.sign(b"abc").unwrap();
    assert_eq!(tag.len(), 32);
    assert_eq!(p.sign_init(CKM_SHA256_HMAC, mac), CKR_OK);
    assert_eq!(p.sign_update(b"a"), CKR_OK);
    assert_eq!(p.sign_update(b"bc"), CKR_OK);
    assert_eq!(p.sign_final().unwrap(), tag);
    assert_eq!(p.verify_init(CKM_SHA256_HMAC, mac), CKR_OK);
    assert_eq!(p.verify(b"abc", &tag), CKR_OK);
    assert_eq!(p.verify_init(CKM_SHA256_HMAC, mac), CKR_OK);
    assert_eq!(p.verify(b"abd", &tag), CKR_SIGNATURE_INVALID);

    assert_eq!(
        p.gen_key(CKM_AES_KEY_GEN, vec![(CKA_VALUE_LEN, ulong(16))]),
        Err(CKR_KEY_SIZE_RANGE)
    );
    assert_eq!(
        p.gen_key(
            CKM_AES_KEY_GEN,
            vec![(CKA_VALUE_LEN, ulong(32)), (CKA_EXTRACTABLE, vec![CK_TRUE])]
        ),
        Err(CKR_ATTRIBUTE_VALUE_INVALID)
    );
    let aes = p
        .gen_key(
            CKM_AES_KEY_GEN,
            vec![(CKA_VALUE_LEN, ulong(32)), (CKA_LABEL, label("aes"))],
        )
        .unwrap();
    assert_eq!(p.attr(aes, CKA_KEY_TYPE).unwrap(), ulong(CKK_AES));
    assert_eq!(p.attr(aes, CKA_VALUE_LEN).unwrap(), ulong(32));
    assert_eq!(p.sign_init(CKM_SHA256_HMAC, aes), CKR_KEY_TYPE_INCONSISTENT);
}

#[test]
fn bad_handles_templates_and_sessions_are_refused() {
    let _t = turn();
    let d = Daemon::start();
    let p = P11::open(d.socket());
    assert_eq!(
        p.attr(0xdead, CKA_CLASS).unwrap_err().0,
        CKR_OBJECT_HANDLE_INVALID
    );
    assert_eq!(p.sign_init(CKM_ECDSA, 0xdead), CKR_KEY_HANDLE_INVALID);
    assert_eq!(p.sign(b"x"), Err(CKR_OPERATION_NOT_INITIALIZED));
    // Missing curve; a curve Keyhold does not have; the wrong family.
    assert_eq!(
        p.gen_pair(CKM_EC_KEY_PAIR_GEN, vec![], vec![]),
        Err(CKR_TEMPLATE_INCOMPLETE)
    );
    let secp384 = vec![0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
    assert_eq!(
        p.gen_pair(CKM_EC_KEY_PAIR_GEN, vec![(CKA_EC_PARAMS, secp384)], vec![]),
        Err(CKR_CURVE_NOT_SUPPORTED)
    );
    assert_eq!(
        p.gen_pair(
            CKM_EC_EDWARDS_KEY_PAIR_GEN,
            vec![(CKA_EC_PARAMS, P256_OID.to_vec())],
            vec![]
        ),
        Err(CKR_TEMPLATE_INCONSISTENT)
    );
    assert_eq!(
        p.gen_pair(
            CKM_EC_KEY_PAIR_GEN,
            vec![(CKA_EC_PARAMS, P256_OID.to_vec())],
            vec![(CKA_EXTRACTABLE, vec![CK_TRUE])]
        ),
        Err(CKR_ATTRIBUTE_VALUE_INVALID)
    );
    assert_eq!(
        p.gen_pair(CKM_RSA_PKCS_KEY_PAIR_GEN, vec![], vec![]),
        Err(CKR_MECHANISM_INVALID)
    );
    // Read-only sessions cannot create token objects.
    let ro = p.open_session(CKF_SERIAL_SESSION).unwrap();
    let mut pubt = vec![(CKA_EC_PARAMS, P256_OID.to_vec())];
    assert_eq!(
        p.gen_pair_in(ro, CKM_EC_KEY_PAIR_GEN, &mut pubt, &mut []),
        Err(CKR_SESSION_READ_ONLY)
    );
    assert_eq!(
        p.open_session(CKF_RW_SESSION),
        Err(CKR_SESSION_PARALLEL_NOT_SUPPORTED)
    );
    assert_eq!(
        p.gen_pair_in(0xbeef, CKM_EC_KEY_PAIR_GEN, &mut pubt, &mut []),
        Err(CKR_SESSION_HANDLE_INVALID)
    );
    // Objects are immutable; a public half alone is not destroyable.
    let (hp, hk) = p
        .gen_pair(
            CKM_EC_KEY_PAIR_GEN,
            vec![(CKA_EC_PARAMS, P256_OID.to_vec())],
            vec![],
        )
        .unwrap();
    let mut a = CK_ATTRIBUTE {
        type_: CKA_LABEL,
        pValue: std::ptr::null_mut(),
        ulValueLen: 0,
    };
    // SAFETY: valid attribute.
    unsafe {
        assert_eq!(
            p.f.C_SetAttributeValue.unwrap()(p.session, hk, &mut a, 1),
            CKR_ACTION_PROHIBITED
        );
        assert_eq!(
            p.f.C_DestroyObject.unwrap()(p.session, hp),
            CKR_ACTION_PROHIBITED
        );
        assert_eq!(p.f.C_DestroyObject.unwrap()(ro, hk), CKR_SESSION_READ_ONLY);
        assert_eq!(p.f.C_DestroyObject.unwrap()(p.session, hk), CKR_OK);
    }
    assert_eq!(
        p.attr(hp, CKA_CLASS).unwrap_err().0,
        CKR_OBJECT_HANDLE_INVALID
    );
    assert!(p.find(vec![(CKA_ID, vec![])]).is_empty());
}

#[test]
fn login_is_a_state_of_the_application() {
    let _t = turn();
    let d = Daemon::start();
    let p = P11::open(d.socket());
    let f = p.f;
    let state = |h| {
        let mut si = CK_SESSION_INFO::default();
        // SAFETY: valid out pointer.
        assert_eq!(unsafe { f.C_GetSessionInfo.unwrap()(h, &mut si) }, CKR_OK);
        si.state
    };
    // SAFETY: valid handles, NULL PIN (protected authentication path).
    unsafe {
        assert_eq!(state(p.session), CKS_RW_PUBLIC_SESSION);
        assert_eq!(f.C_Logout.unwrap()(p.session), CKR_USER_NOT_LOGGED_IN);
        assert_eq!(
            f.C_Login.unwrap()(p.session, CKU_SO, std::ptr::null_mut(), 0),
            CKR_USER_TYPE_INVALID
        );
        assert_eq!(
            f.C_Login.unwrap()(p.session, CKU_USER, std::ptr::null_mut(), 0),
            CKR_OK
        );
        assert_eq!(
            f.C_Login.unwrap()(p.session, CKU_USER, std::ptr::null_mut(), 0),
            CKR_USER_ALREADY_LOGGED_IN
        );
        let ro = p.open_session(CKF_SERIAL_SESSION).unwrap();
        assert_eq!(state(ro), CKS_RO_USER_FUNCTIONS);
        assert_eq!(state(p.session), CKS_RW_USER_FUNCTIONS);
        assert_eq!(f.C_Logout.unwrap()(p.session), CKR_OK);
        assert_eq!(state(ro), CKS_RO_PUBLIC_SESSION);
        assert_eq!(f.C_CloseSession.unwrap()(ro), CKR_OK);
        assert_eq!(f.C_CloseSession.unwrap()(ro), CKR_SESSION_HANDLE_INVALID);
    }
}

#[test]
fn a_stopped_daemon_is_a_removed_device_until_it_returns() {
    let _t = turn();
    let mut d = Daemon::start();
    let p = P11::open(d.socket());
    let (_hp, hk) = p
        .gen_pair(
            CKM_EC_EDWARDS_KEY_PAIR_GEN,
            vec![(CKA_EC_PARAMS, EDWARDS25519_NAME.to_vec())],
            vec![],
        )
        .unwrap();
    d.kill();
    assert_eq!(p.sign_init(CKM_EDDSA, hk), CKR_OK);
    let rv = p.sign(b"m").unwrap_err();
    assert!(
        rv == CKR_DEVICE_ERROR || rv == CKR_DEVICE_REMOVED,
        "{rv:#x}"
    );
    // Socket gone now: the next call cannot connect.
    assert_eq!(p.sign_init(CKM_EDDSA, hk), CKR_OK);
    assert_eq!(p.sign(b"m"), Err(CKR_DEVICE_REMOVED));
    // The daemon comes back on the same data: the same key signs again.
    d.spawn();
    assert_eq!(p.sign_init(CKM_EDDSA, hk), CKR_OK);
    assert_eq!(p.sign(b"m").unwrap().len(), 64);
}

#[test]
fn a_forked_child_starts_over_and_leaves_the_parent_connected() {
    let _t = turn();
    let d = Daemon::start();
    let p = P11::open(d.socket());
    let lbl = label("fork");
    let (_hp, hk) = p
        .gen_pair(
            CKM_EC_EDWARDS_KEY_PAIR_GEN,
            vec![(CKA_EC_PARAMS, EDWARDS25519_NAME.to_vec())],
            vec![(CKA_LABEL, lbl.clone())],
        )
        .unwrap();
    // SAFETY: the child only calls the module and then _exit()s; the other
    // test threads are parked on the turn lock, so no lock is held mid-way.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let code = std::panic::catch_unwind(|| child_checks(p.f, &lbl)).unwrap_or(99);
        // SAFETY: leave without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status), "child crashed: {status:#x}");
    assert_eq!(libc::WEXITSTATUS(status), 0, "child check failed");
    // The child's cleanup did not close the parent's connection.
    assert_eq!(p.sign_init(CKM_EDDSA, hk), CKR_OK);
    assert_eq!(p.sign(b"after fork").unwrap().len(), 64);
}

/// In a forked child: the inherited state is gone until C_Initialize; then
/// a fresh connection finds and uses the same key. Returns an exit code.
fn child_checks(f: &'static CK_FUNCTION_LIST_3_0, lbl: &[u8]) -> i32 {
    let mut n = 0;
    // SAFETY: valid pointers throughout.
    unsafe {
        if f.C_GetSlotList.unwrap()(CK_FALSE, std::ptr::null_mut(), &mut n)
            != CKR_CRYPTOKI_NOT_INITIALIZED
        {
            return 1;
        }
        if f.C_Initialize.unwrap()(std::ptr::null_mut()) != CKR_OK {
            return 2;
        }
    }
    let p = std::mem::ManuallyDrop::new(P11 { f, session: 0 });
    let Ok(s) = p.open_session(CKF_SERIAL_SESSION) else {
        return 3;
    };
    let p = P11 { f, session: s };
    let found = p.find(vec![
        (CKA_LABEL, lbl.to_vec()),
        (CKA_CLASS, ulong(CKO_PRIVATE_KEY)),
    ]);
    let [key] = found.as_slice() else { return 4 };
    if p.sign_init(CKM_EDDSA, *key) != CKR_OK || p.sign(b"child").map(|s| s.len()) != Ok(64) {
        return 5;
    }
    std::mem::forget(p);
    0
}

#[test]
fn random_bytes_come_from_the_os_and_seeding_is_refused() {
    let _t = turn();
    let d = Daemon::start();
    let p = P11::open(d.socket());
    let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
    // SAFETY: 32-byte buffers.
    unsafe {
        assert_eq!(
            p.f.C_GenerateRandom.unwrap()(p.session, a.as_mut_ptr(), 32),
            CKR_OK
        );
        assert_eq!(
            p.f.C_GenerateRandom.unwrap()(p.session, b.as_mut_ptr(), 32),
            CKR_OK
        );
        assert_eq!(
            p.f.C_GenerateRandom.unwrap()(0xbad, b.as_mut_ptr(), 32),
            CKR_SESSION_HANDLE_INVALID
        );
        assert_eq!(
            p.f.C_GenerateRandom.unwrap()(p.session, std::ptr::null_mut(), 32),
            CKR_ARGUMENTS_BAD
        );
        assert_eq!(
            p.f.C_SeedRandom.unwrap()(p.session, a.as_mut_ptr(), 32),
            CKR_RANDOM_SEED_NOT_SUPPORTED
        );
    }
    assert_ne!(a, [0u8; 32]);
    assert_ne!(a, b, "two 256-bit draws collided");
}

#[test]
fn threads_sign_concurrently_on_their_own_sessions() {
    use ed25519_dalek::Verifier as _;
    let _t = turn();
    let d = Daemon::start();
    let p = P11::open(d.socket());
    let (hp, hk) = p
        .gen_pair(
            CKM_EC_EDWARDS_KEY_PAIR_GEN,
            vec![(CKA_EC_PARAMS, EDWARDS25519_NAME.to_vec())],
            vec![],
        )
        .unwrap();
    let point = p.attr(hp, CKA_EC_POINT).unwrap();
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&point[2..].try_into().unwrap()).unwrap();
    let f = p.f;
    std::thread::scope(|s| {
        for t in 0..4u8 {
            s.spawn(move || {
                // ManuallyDrop: a P11 finalizes the module when dropped.
                let opener = std::mem::ManuallyDrop::new(P11 { f, session: 0 });
                let session = opener.open_session(CKF_SERIAL_SESSION).unwrap();
                let q = std::mem::ManuallyDrop::new(P11 { f, session });
                for i in 0..25u8 {
                    let msg = [t, i];
                    assert_eq!(q.sign_init(CKM_EDDSA, hk), CKR_OK);
                    let sig = q.sign(&msg).unwrap();
                    vk.verify(&msg, &ed25519_dalek::Signature::from_slice(&sig).unwrap())
                        .unwrap();
                }
                // SAFETY: our own session.
                assert_eq!(unsafe { f.C_CloseSession.unwrap()(session) }, CKR_OK);
            });
        }
    });
}

#[test]
fn one_template_mixes_values_sensitive_and_unknown_attributes() {
    let _t = turn();
    let d = Daemon::start();
    let p = P11::open(d.socket());
    let lbl = label("mix");
    let (_hp, hk) = p
        .gen_pair(
            CKM_EC_KEY_PAIR_GEN,
            vec![(CKA_EC_PARAMS, P256_OID.to_vec())],
            vec![(CKA_LABEL, lbl.clone())],
        )
        .unwrap();
    let mut label_buf = vec![0u8; 64];
    let mut value_buf = vec![0u8; 64];
    let mut class_buf = [0u8; 8];
    let mut t = [
        CK_ATTRIBUTE {
            type_: CKA_LABEL,
            pValue: label_buf.as_mut_ptr() as *mut _,
            ulValueLen: 64,
        },
        CK_ATTRIBUTE {
            type_: CKA_VALUE,
            pValue: value_buf.as_mut_ptr() as *mut _,
            ulValueLen: 64,
        },
        CK_ATTRIBUTE {
            type_: 0x8000_0001,
            pValue: std::ptr::null_mut(),
            ulValueLen: 0,
        },
        CK_ATTRIBUTE {
            type_: CKA_CLASS,
            pValue: class_buf.as_mut_ptr() as *mut _,
            ulValueLen: 8,
        },
    ];
    // SAFETY: every buffer matches its announced length.
    let rv = unsafe { p.f.C_GetAttributeValue.unwrap()(p.session, hk, t.as_mut_ptr(), 4) };
    // Every attribute is processed; one of the error codes is returned.
    assert!(
        rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID,
        "{rv:#x}"
    );
    assert_eq!(&label_buf[..t[0].ulValueLen as usize], lbl.as_slice());
    assert_eq!(t[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    assert_eq!(
        value_buf,
        vec![0u8; 64],
        "nothing written for a sensitive attribute"
    );
    assert_eq!(t[2].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    assert_eq!(class_buf.to_vec(), ulong(CKO_PRIVATE_KEY));
}
