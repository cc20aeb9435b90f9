//! The C ABI edge, and the only module with `unsafe`: every exported
//! `C_*` function checks the application's pointers, converts them into
//! safe arguments for [`crate::module`], and catches panics (a panic never
//! unwinds into C: it becomes `CKR_GENERAL_ERROR`).
//!
//! Exports: `C_GetFunctionList` (the 2.40 list), `C_GetInterfaceList` and
//! `C_GetInterface` (PKCS#11 3.0 §5.2: the "PKCS 11" interface in versions
//! 3.0 and 2.40), and every `C_*` symbol of the 3.0 list, so modules loaded
//! by symbol (p11-kit, some tools) find them too.
#![allow(non_snake_case, clippy::missing_safety_doc)]

use crate::error::{CkResult, Rv};
use crate::mechanism::SUPPORTED_MECHANISMS;
use crate::module::{self, InitArgs, SLOT_ID};
use crate::objects::{Attr, Template};
use core::ffi::c_void;
use cryptoki_sys::*;
use std::panic::{AssertUnwindSafe, catch_unwind};

mod lists;

/// Runs one entry point: panics become `CKR_GENERAL_ERROR`.
fn guard(f: impl FnOnce() -> CkResult<()>) -> CK_RV {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => CKR_OK,
        Ok(Err(Rv(rv))) => rv,
        Err(_) => CKR_GENERAL_ERROR,
    }
}

/// The answer of every function this module does not offer.
fn not_supported() -> CK_RV {
    guard(|| {
        if module::initialized() {
            Err(Rv(CKR_FUNCTION_NOT_SUPPORTED))
        } else {
            Err(Rv(CKR_CRYPTOKI_NOT_INITIALIZED))
        }
    })
}

/// Borrows an input buffer. NULL is allowed only with length 0.
///
/// # Safety
/// `p` must be NULL or valid for reads of `len` bytes for `'a`, as PKCS#11
/// requires of the application.
unsafe fn input<'a>(p: *const u8, len: CK_ULONG) -> CkResult<&'a [u8]> {
    let len = usize::try_from(len).map_err(|_| Rv(CKR_ARGUMENTS_BAD))?;
    if p.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(Rv(CKR_ARGUMENTS_BAD))
        };
    }
    // SAFETY: non-NULL, and the caller guarantees `len` readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// Borrows an output location; NULL is `CKR_ARGUMENTS_BAD`.
///
/// # Safety
/// `p` must be NULL or valid for writes of one `T` for `'a`.
unsafe fn out<'a, T>(p: *mut T) -> CkResult<&'a mut T> {
    // SAFETY: `as_mut` returns None for NULL; otherwise the caller
    // guarantees a valid, exclusive location.
    unsafe { p.as_mut() }.ok_or(Rv(CKR_ARGUMENTS_BAD))
}

/// Copies a template (types and values) out of the application's array.
///
/// # Safety
/// `p` must be NULL (with `n == 0`) or point to `n` attributes whose
/// `pValue` are NULL or valid for `ulValueLen` bytes.
unsafe fn template(p: *const CK_ATTRIBUTE, n: CK_ULONG) -> CkResult<Template> {
    let n = usize::try_from(n).map_err(|_| Rv(CKR_ARGUMENTS_BAD))?;
    if p.is_null() {
        return if n == 0 {
            Ok(Vec::new())
        } else {
            Err(Rv(CKR_ARGUMENTS_BAD))
        };
    }
    // SAFETY: non-NULL, `n` attributes per the caller.
    let attrs = unsafe { std::slice::from_raw_parts(p, n) };
    attrs
        .iter()
        // SAFETY: each value buffer is valid per the caller.
        .map(|a| {
            Ok((
                a.type_,
                unsafe { input(a.pValue as *const u8, a.ulValueLen) }?.to_vec(),
            ))
        })
        .collect()
}

/// A mechanism and its parameter bytes.
///
/// # Safety
/// `p` must be NULL or point to a `CK_MECHANISM` whose `pParameter` is NULL
/// or valid for `ulParameterLen` bytes.
unsafe fn mechanism(p: *const CK_MECHANISM) -> CkResult<(CK_MECHANISM_TYPE, Vec<u8>)> {
    // SAFETY: `as_ref` handles NULL; otherwise valid per the caller.
    let m = unsafe { p.as_ref() }.ok_or(Rv(CKR_ARGUMENTS_BAD))?;
    if m.mechanism == CKM_EDDSA
        && !m.pParameter.is_null()
        && usize::try_from(m.ulParameterLen).ok() == Some(size_of::<CK_EDDSA_PARAMS>())
    {
        // SAFETY: a CK_EDDSA_PARAMS of the right size, per the caller.
        let ed = unsafe { &*(m.pParameter as *const CK_EDDSA_PARAMS) };
        // Pure Ed25519 stated explicitly is the same as no parameter.
        let pure = ed.phFlag == CK_FALSE && ed.ulContextDataLen == 0;
        return Ok((m.mechanism, if pure { Vec::new() } else { vec![1] }));
    }
    // SAFETY: parameter buffer valid per the caller.
    let params = unsafe { input(m.pParameter as *const u8, m.ulParameterLen) }?;
    Ok((m.mechanism, params.to_vec()))
}

/// The two-call output convention (PKCS#11 3.0 §5.2): a NULL buffer asks
/// for the length; a short buffer gets `CKR_BUFFER_TOO_SMALL` and the
/// length; otherwise `produce` runs and its bytes are copied.
///
/// # Safety
/// `p` must be NULL or valid for writes of `*plen` bytes; `plen` valid.
unsafe fn output(
    len: usize,
    p: *mut u8,
    plen: *mut CK_ULONG,
    produce: impl FnOnce() -> CkResult<Vec<u8>>,
) -> CkResult<()> {
    // SAFETY: per the caller.
    let plen = unsafe { out(plen) }?;
    let want = len as CK_ULONG;
    if p.is_null() {
        *plen = want;
        return Ok(());
    }
    if *plen < want {
        *plen = want;
        return Err(Rv(CKR_BUFFER_TOO_SMALL));
    }
    let data = produce()?;
    if data.len() > len {
        return Err(Rv(CKR_GENERAL_ERROR));
    }
    // SAFETY: `p` holds at least `len >= data.len()` writable bytes.
    unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) };
    *plen = data.len() as CK_ULONG;
    Ok(())
}

/// A list of `CK_ULONG`-sized items under the two-call convention.
///
/// # Safety
/// `p` NULL or valid for `*pcount` items; `pcount` valid.
unsafe fn list_out<T: Copy>(items: &[T], p: *mut T, pcount: *mut CK_ULONG) -> CkResult<()> {
    // SAFETY: per the caller.
    let count = unsafe { out(pcount) }?;
    let n = items.len() as CK_ULONG;
    if p.is_null() {
        *count = n;
        return Ok(());
    }
    if *count < n {
        *count = n;
        return Err(Rv(CKR_BUFFER_TOO_SMALL));
    }
    // SAFETY: room for `n` items, per the check above and the caller.
    unsafe { std::ptr::copy_nonoverlapping(items.as_ptr(), p, items.len()) };
    *count = n;
    Ok(())
}

/// A blank-padded, unterminated PKCS#11 string field.
fn padded<const N: usize>(s: &str) -> [CK_UTF8CHAR; N] {
    let mut a = [b' '; N];
    let mut end = s.len().min(N);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    a[..end].copy_from_slice(&s.as_bytes()[..end]);
    a
}

const VERSION: CK_VERSION = CK_VERSION { major: 0, minor: 1 };

// ---- general purpose ------------------------------------------------------

/// `C_Initialize`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_Initialize(pInitArgs: *mut c_void) -> CK_RV {
    guard(|| {
        // SAFETY: NULL or a CK_C_INITIALIZE_ARGS, per PKCS#11 3.0 §5.4.
        let args =
            unsafe { (pInitArgs as *const CK_C_INITIALIZE_ARGS).as_ref() }.map(|a| InitArgs {
                mutex_callbacks: [
                    a.CreateMutex.is_some(),
                    a.DestroyMutex.is_some(),
                    a.LockMutex.is_some(),
                    a.UnlockMutex.is_some(),
                ]
                .iter()
                .filter(|b| **b)
                .count() as u8,
                os_locking_ok: a.flags & CKF_OS_LOCKING_OK != 0,
                reserved: !a.pReserved.is_null(),
            });
        module::initialize(args)
    })
}

/// `C_Finalize`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_Finalize(pReserved: *mut c_void) -> CK_RV {
    guard(|| {
        if !pReserved.is_null() {
            return Err(Rv(CKR_ARGUMENTS_BAD));
        }
        module::finalize()
    })
}

/// `C_GetInfo`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GetInfo(pInfo: *mut CK_INFO) -> CK_RV {
    guard(|| {
        module::with(|_| Ok(()))?;
        // SAFETY: valid CK_INFO or NULL, per the caller.
        let info = unsafe { out(pInfo) }?;
        *info = CK_INFO {
            cryptokiVersion: CK_VERSION { major: 3, minor: 0 },
            manufacturerID: padded("Keyhold"),
            flags: 0,
            libraryDescription: padded("Keyhold keyholdd PKCS#11 module"),
            libraryVersion: VERSION,
        };
        Ok(())
    })
}

/// `C_GetFunctionList`: the 2.40 list.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GetFunctionList(ppFunctionList: *mut *mut CK_FUNCTION_LIST) -> CK_RV {
    guard(|| {
        // SAFETY: valid location or NULL, per the caller.
        let pp = unsafe { out(ppFunctionList) }?;
        // The list is immutable; PKCS#11 hands it out as a non-const pointer.
        *pp = &lists::LIST_2_40 as *const CK_FUNCTION_LIST as *mut CK_FUNCTION_LIST;
        Ok(())
    })
}

static INTERFACE_NAME: &[u8] = b"PKCS 11\0";

/// The interfaces offered: "PKCS 11" 3.0 first (the default), then 2.40.
struct Interfaces([CK_INTERFACE; 2]);
// SAFETY: the pointers inside point to immutable statics.
unsafe impl Sync for Interfaces {}

static INTERFACES: Interfaces = Interfaces([
    CK_INTERFACE {
        pInterfaceName: INTERFACE_NAME.as_ptr() as *mut CK_UTF8CHAR,
        pFunctionList: &lists::LIST_3_0 as *const CK_FUNCTION_LIST_3_0 as *mut c_void,
        flags: 0,
    },
    CK_INTERFACE {
        pInterfaceName: INTERFACE_NAME.as_ptr() as *mut CK_UTF8CHAR,
        pFunctionList: &lists::LIST_2_40 as *const CK_FUNCTION_LIST as *mut c_void,
        flags: 0,
    },
]);

fn interface_version(i: &CK_INTERFACE) -> CK_VERSION {
    if std::ptr::eq(i.pFunctionList, INTERFACES.0[0].pFunctionList) {
        lists::LIST_3_0.version
    } else {
        lists::LIST_2_40.version
    }
}

/// `C_GetInterfaceList` (PKCS#11 3.0 §5.2; callable before `C_Initialize`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GetInterfaceList(
    pInterfacesList: *mut CK_INTERFACE,
    pulCount: *mut CK_ULONG,
) -> CK_RV {
    // SAFETY: per the caller.
    guard(|| unsafe { list_out(&INTERFACES.0, pInterfacesList, pulCount) })
}

/// `C_GetInterface`: by name (NULL: the default), version (NULL: any) and
/// required flags.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GetInterface(
    pInterfaceName: *mut CK_UTF8CHAR,
    pVersion: *mut CK_VERSION,
    ppInterface: *mut *mut CK_INTERFACE,
    flags: CK_FLAGS,
) -> CK_RV {
    guard(|| {
        // SAFETY: per the caller.
        let pp = unsafe { out(ppInterface) }?;
        if !pInterfaceName.is_null() {
            // SAFETY: a NUL-terminated string, per PKCS#11 3.0 §5.2.
            let name =
                unsafe { std::ffi::CStr::from_ptr(pInterfaceName as *const core::ffi::c_char) };
            if name.to_bytes_with_nul() != INTERFACE_NAME {
                return Err(Rv(CKR_ARGUMENTS_BAD));
            }
        }
        // SAFETY: NULL or a valid CK_VERSION, per the caller.
        let want = unsafe { pVersion.as_ref() };
        let found = INTERFACES.0.iter().find(|i| {
            let v = interface_version(i);
            want.is_none_or(|w| w.major == v.major && w.minor == v.minor)
                && i.flags & flags == flags
        });
        match found {
            Some(i) => {
                *pp = i as *const CK_INTERFACE as *mut CK_INTERFACE;
                Ok(())
            }
            None => Err(Rv(CKR_ARGUMENTS_BAD)),
        }
    })
}

// ---- slots and tokens -----------------------------------------------------

/// `C_GetSlotList`: one slot, whose token is always present (an unreachable
/// daemon shows as `CKR_DEVICE_REMOVED` on use).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GetSlotList(
    _tokenPresent: CK_BBOOL,
    pSlotList: *mut CK_SLOT_ID,
    pulCount: *mut CK_ULONG,
) -> CK_RV {
    guard(|| {
        module::with(|_| Ok(()))?;
        // SAFETY: per the caller.
        unsafe { list_out(&[SLOT_ID], pSlotList, pulCount) }
    })
}

/// `C_GetSlotInfo`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GetSlotInfo(slotID: CK_SLOT_ID, pInfo: *mut CK_SLOT_INFO) -> CK_RV {
    guard(|| {
        module::with(|_| Ok(()))?;
        if slotID != SLOT_ID {
            return Err(Rv(CKR_SLOT_ID_INVALID));
        }
        // SAFETY: per the caller.
        let info = unsafe { out(pInfo) }?;
        *info = CK_SLOT_INFO {
            slotDescription: padded("keyholdd Unix socket"),
            manufacturerID: padded("Keyhold"),
            flags: CKF_TOKEN_PRESENT,
            hardwareVersion: VERSION,
            firmwareVersion: VERSION,
        };
        Ok(())
    })
}

/// `C_GetTokenInfo`: the caller's namespace in the daemon.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GetTokenInfo(slotID: CK_SLOT_ID, pInfo: *mut CK_TOKEN_INFO) -> CK_RV {
    guard(|| {
        module::with(|_| Ok(()))?;
        if slotID != SLOT_ID {
            return Err(Rv(CKR_SLOT_ID_INVALID));
        }
        // SAFETY: per the caller.
        let info = unsafe { out(pInfo) }?;
        *info = CK_TOKEN_INFO {
            label: padded(&module::token_label()),
            manufacturerID: padded("Keyhold"),
            model: padded("keyholdd"),
            serialNumber: padded(&module::token_serial()),
            // No PIN: the daemon authenticates the process by its socket
            // credentials (the protected authentication path). CKF_RNG: see
            // C_GenerateRandom.
            flags: CKF_RNG
                | CKF_TOKEN_INITIALIZED
                | CKF_USER_PIN_INITIALIZED
                | CKF_PROTECTED_AUTHENTICATION_PATH,
            ulMaxSessionCount: CK_EFFECTIVELY_INFINITE,
            ulSessionCount: CK_UNAVAILABLE_INFORMATION,
            ulMaxRwSessionCount: CK_EFFECTIVELY_INFINITE,
            ulRwSessionCount: CK_UNAVAILABLE_INFORMATION,
            ulMaxPinLen: 0,
            ulMinPinLen: 0,
            ulTotalPublicMemory: CK_UNAVAILABLE_INFORMATION,
            ulFreePublicMemory: CK_UNAVAILABLE_INFORMATION,
            ulTotalPrivateMemory: CK_UNAVAILABLE_INFORMATION,
            ulFreePrivateMemory: CK_UNAVAILABLE_INFORMATION,
            hardwareVersion: VERSION,
            firmwareVersion: VERSION,
            utcTime: padded(""),
        };
        Ok(())
    })
}

/// `C_GetMechanismList`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GetMechanismList(
    slotID: CK_SLOT_ID,
    pMechanismList: *mut CK_MECHANISM_TYPE,
    pulCount: *mut CK_ULONG,
) -> CK_RV {
    guard(|| {
        module::with(|_| Ok(()))?;
        if slotID != SLOT_ID {
            return Err(Rv(CKR_SLOT_ID_INVALID));
        }
        let types: Vec<CK_MECHANISM_TYPE> = SUPPORTED_MECHANISMS.iter().map(|(t, _)| *t).collect();
        // SAFETY: per the caller.
        unsafe { list_out(&types, pMechanismList, pulCount) }
    })
}

/// `C_GetMechanismInfo`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GetMechanismInfo(
    slotID: CK_SLOT_ID,
    type_: CK_MECHANISM_TYPE,
    pInfo: *mut CK_MECHANISM_INFO,
) -> CK_RV {
    guard(|| {
        module::with(|_| Ok(()))?;
        if slotID != SLOT_ID {
            return Err(Rv(CKR_SLOT_ID_INVALID));
        }
        let (_, i) = SUPPORTED_MECHANISMS
            .iter()
            .find(|(t, _)| *t == type_)
            .ok_or(Rv(CKR_MECHANISM_INVALID))?;
        // SAFETY: per the caller.
        *unsafe { out(pInfo) }? = *i;
        Ok(())
    })
}

// ---- sessions and login ---------------------------------------------------

/// `C_OpenSession` (notification callbacks are never called).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_OpenSession(
    slotID: CK_SLOT_ID,
    flags: CK_FLAGS,
    _pApplication: *mut c_void,
    _Notify: CK_NOTIFY,
    phSession: *mut CK_SESSION_HANDLE,
) -> CK_RV {
    guard(|| {
        // SAFETY: per the caller.
        let ph = unsafe { out(phSession) }?;
        *ph = module::with(|m| m.open_session(slotID, flags))?;
        Ok(())
    })
}

/// `C_CloseSession`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_CloseSession(hSession: CK_SESSION_HANDLE) -> CK_RV {
    guard(|| module::with(|m| m.close_session(hSession)))
}

/// `C_CloseAllSessions`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_CloseAllSessions(slotID: CK_SLOT_ID) -> CK_RV {
    guard(|| module::with(|m| m.close_all(slotID)))
}

/// `C_GetSessionInfo`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GetSessionInfo(
    hSession: CK_SESSION_HANDLE,
    pInfo: *mut CK_SESSION_INFO,
) -> CK_RV {
    guard(|| {
        let (state, flags) = module::with(|m| m.session_info(hSession))?;
        // SAFETY: per the caller.
        *unsafe { out(pInfo) }? = CK_SESSION_INFO {
            slotID: SLOT_ID,
            state,
            flags,
            ulDeviceError: 0,
        };
        Ok(())
    })
}

/// `C_Login`: the PIN is not looked at (see [`crate::module`]).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_Login(
    hSession: CK_SESSION_HANDLE,
    userType: CK_USER_TYPE,
    _pPin: *mut CK_UTF8CHAR,
    _ulPinLen: CK_ULONG,
) -> CK_RV {
    guard(|| module::with(|m| m.login(hSession, userType)))
}

/// `C_Logout`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_Logout(hSession: CK_SESSION_HANDLE) -> CK_RV {
    guard(|| module::with(|m| m.logout(hSession)))
}

// ---- objects --------------------------------------------------------------

/// `C_DestroyObject`: deletes the key in the daemon.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_DestroyObject(
    hSession: CK_SESSION_HANDLE,
    hObject: CK_OBJECT_HANDLE,
) -> CK_RV {
    guard(|| module::with(|m| m.destroy(hSession, hObject)))
}

/// `C_GetAttributeValue` (PKCS#11 3.0 §5.7): per attribute, sensitive ->
/// `CK_UNAVAILABLE_INFORMATION` and `CKR_ATTRIBUTE_SENSITIVE`; unknown ->
/// `CK_UNAVAILABLE_INFORMATION` and `CKR_ATTRIBUTE_TYPE_INVALID`; NULL
/// value -> the length; short buffer -> `CK_UNAVAILABLE_INFORMATION` and
/// `CKR_BUFFER_TOO_SMALL`. Every attribute is processed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GetAttributeValue(
    hSession: CK_SESSION_HANDLE,
    hObject: CK_OBJECT_HANDLE,
    pTemplate: *mut CK_ATTRIBUTE,
    ulCount: CK_ULONG,
) -> CK_RV {
    guard(|| {
        let n = usize::try_from(ulCount).map_err(|_| Rv(CKR_ARGUMENTS_BAD))?;
        if pTemplate.is_null() && n != 0 {
            return Err(Rv(CKR_ARGUMENTS_BAD));
        }
        let attrs: &mut [CK_ATTRIBUTE] = if n == 0 {
            &mut []
        } else {
            // SAFETY: `n` attributes, per the caller.
            unsafe { std::slice::from_raw_parts_mut(pTemplate, n) }
        };
        let types: Vec<CK_ATTRIBUTE_TYPE> = attrs.iter().map(|a| a.type_).collect();
        let answers = module::with(|m| m.attributes(hSession, hObject, &types))?;
        let (mut sensitive, mut invalid, mut small) = (false, false, false);
        for (a, answer) in attrs.iter_mut().zip(answers) {
            match answer {
                Attr::Sensitive => {
                    a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
                    sensitive = true;
                }
                Attr::Invalid => {
                    a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
                    invalid = true;
                }
                Attr::Value(v) => {
                    if a.pValue.is_null() {
                        a.ulValueLen = v.len() as CK_ULONG;
                    } else if (a.ulValueLen as usize) < v.len() {
                        a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
                        small = true;
                    } else {
                        // SAFETY: `pValue` holds `ulValueLen >= v.len()` bytes.
                        unsafe {
                            std::ptr::copy_nonoverlapping(v.as_ptr(), a.pValue as *mut u8, v.len())
                        };
                        a.ulValueLen = v.len() as CK_ULONG;
                    }
                }
            }
        }
        match (sensitive, invalid, small) {
            (true, _, _) => Err(Rv(CKR_ATTRIBUTE_SENSITIVE)),
            (_, true, _) => Err(Rv(CKR_ATTRIBUTE_TYPE_INVALID)),
            (_, _, true) => Err(Rv(CKR_BUFFER_TOO_SMALL)),
            _ => Ok(()),
        }
    })
}

/// `C_SetAttributeValue`: objects are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_SetAttributeValue(
    hSession: CK_SESSION_HANDLE,
    hObject: CK_OBJECT_HANDLE,
    _pTemplate: *mut CK_ATTRIBUTE,
    _ulCount: CK_ULONG,
) -> CK_RV {
    guard(|| module::with(|m| m.set_attributes(hSession, hObject)))
}

/// `C_FindObjectsInit`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_FindObjectsInit(
    hSession: CK_SESSION_HANDLE,
    pTemplate: *mut CK_ATTRIBUTE,
    ulCount: CK_ULONG,
) -> CK_RV {
    guard(|| {
        // SAFETY: per the caller.
        let t = unsafe { template(pTemplate, ulCount) }?;
        module::with(|m| m.find_init(hSession, t))
    })
}

/// `C_FindObjects`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_FindObjects(
    hSession: CK_SESSION_HANDLE,
    phObject: *mut CK_OBJECT_HANDLE,
    ulMaxObjectCount: CK_ULONG,
    pulObjectCount: *mut CK_ULONG,
) -> CK_RV {
    guard(|| {
        if phObject.is_null() {
            return Err(Rv(CKR_ARGUMENTS_BAD));
        }
        // SAFETY: per the caller.
        let count = unsafe { out(pulObjectCount) }?;
        let max = usize::try_from(ulMaxObjectCount).map_err(|_| Rv(CKR_ARGUMENTS_BAD))?;
        let found = module::with(|m| m.find(hSession, max))?;
        // SAFETY: room for `max >= found.len()` handles, per the caller.
        unsafe { std::ptr::copy_nonoverlapping(found.as_ptr(), phObject, found.len()) };
        *count = found.len() as CK_ULONG;
        Ok(())
    })
}

/// `C_FindObjectsFinal`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_FindObjectsFinal(hSession: CK_SESSION_HANDLE) -> CK_RV {
    guard(|| module::with(|m| m.find_final(hSession)))
}

// ---- signing and verification ----------------------------------------------

/// `C_SignInit`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_SignInit(
    hSession: CK_SESSION_HANDLE,
    pMechanism: *mut CK_MECHANISM,
    hKey: CK_OBJECT_HANDLE,
) -> CK_RV {
    guard(|| {
        // SAFETY: per the caller.
        let (mech, params) = unsafe { mechanism(pMechanism) }?;
        module::with(|m| m.sign_init(hSession, mech, &params, hKey))
    })
}

/// `C_Sign`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_Sign(
    hSession: CK_SESSION_HANDLE,
    pData: *mut CK_BYTE,
    ulDataLen: CK_ULONG,
    pSignature: *mut CK_BYTE,
    pulSignatureLen: *mut CK_ULONG,
) -> CK_RV {
    guard(|| {
        let len = module::with(|m| m.sign_len(hSession))?;
        // SAFETY: per the caller.
        let data = unsafe { input(pData, ulDataLen) }?;
        // SAFETY: per the caller.
        unsafe {
            output(len, pSignature, pulSignatureLen, || {
                module::with(|m| m.sign(hSession, data))
            })
        }
    })
}

/// `C_SignUpdate`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_SignUpdate(
    hSession: CK_SESSION_HANDLE,
    pPart: *mut CK_BYTE,
    ulPartLen: CK_ULONG,
) -> CK_RV {
    guard(|| {
        // SAFETY: per the caller.
        let part = unsafe { input(pPart, ulPartLen) }?;
        module::with(|m| m.sign_update(hSession, part))
    })
}

/// `C_SignFinal`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_SignFinal(
    hSession: CK_SESSION_HANDLE,
    pSignature: *mut CK_BYTE,
    pulSignatureLen: *mut CK_ULONG,
) -> CK_RV {
    guard(|| {
        let len = module::with(|m| m.sign_len(hSession))?;
        // SAFETY: per the caller.
        unsafe {
            output(len, pSignature, pulSignatureLen, || {
                module::with(|m| m.sign_final(hSession))
            })
        }
    })
}

/// `C_VerifyInit`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_VerifyInit(
    hSession: CK_SESSION_HANDLE,
    pMechanism: *mut CK_MECHANISM,
    hKey: CK_OBJECT_HANDLE,
) -> CK_RV {
    guard(|| {
        // SAFETY: per the caller.
        let (mech, params) = unsafe { mechanism(pMechanism) }?;
        module::with(|m| m.verify_init(hSession, mech, &params, hKey))
    })
}

/// `C_Verify`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_Verify(
    hSession: CK_SESSION_HANDLE,
    pData: *mut CK_BYTE,
    ulDataLen: CK_ULONG,
    pSignature: *mut CK_BYTE,
    ulSignatureLen: CK_ULONG,
) -> CK_RV {
    guard(|| {
        // SAFETY: per the caller.
        let data = unsafe { input(pData, ulDataLen) }?;
        // SAFETY: per the caller.
        let sig = unsafe { input(pSignature, ulSignatureLen) }?;
        module::with(|m| m.verify(hSession, data, sig))
    })
}

/// `C_VerifyUpdate`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_VerifyUpdate(
    hSession: CK_SESSION_HANDLE,
    pPart: *mut CK_BYTE,
    ulPartLen: CK_ULONG,
) -> CK_RV {
    guard(|| {
        // SAFETY: per the caller.
        let part = unsafe { input(pPart, ulPartLen) }?;
        module::with(|m| m.verify_update(hSession, part))
    })
}

/// `C_VerifyFinal`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_VerifyFinal(
    hSession: CK_SESSION_HANDLE,
    pSignature: *mut CK_BYTE,
    ulSignatureLen: CK_ULONG,
) -> CK_RV {
    guard(|| {
        // SAFETY: per the caller.
        let sig = unsafe { input(pSignature, ulSignatureLen) }?;
        module::with(|m| m.verify_final(hSession, sig))
    })
}

// ---- key generation ---------------------------------------------------------

/// `C_GenerateKey`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GenerateKey(
    hSession: CK_SESSION_HANDLE,
    pMechanism: *mut CK_MECHANISM,
    pTemplate: *mut CK_ATTRIBUTE,
    ulCount: CK_ULONG,
    phKey: *mut CK_OBJECT_HANDLE,
) -> CK_RV {
    guard(|| {
        // SAFETY: per the caller.
        let (mech, params) = unsafe { mechanism(pMechanism) }?;
        if !params.is_empty() {
            return Err(Rv(CKR_MECHANISM_PARAM_INVALID));
        }
        // SAFETY: per the caller.
        let t = unsafe { template(pTemplate, ulCount) }?;
        // SAFETY: per the caller.
        let ph = unsafe { out(phKey) }?;
        *ph = module::with(|m| m.generate_key(hSession, mech, &t))?;
        Ok(())
    })
}

/// `C_GenerateKeyPair`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GenerateKeyPair(
    hSession: CK_SESSION_HANDLE,
    pMechanism: *mut CK_MECHANISM,
    pPublicKeyTemplate: *mut CK_ATTRIBUTE,
    ulPublicKeyAttributeCount: CK_ULONG,
    pPrivateKeyTemplate: *mut CK_ATTRIBUTE,
    ulPrivateKeyAttributeCount: CK_ULONG,
    phPublicKey: *mut CK_OBJECT_HANDLE,
    phPrivateKey: *mut CK_OBJECT_HANDLE,
) -> CK_RV {
    guard(|| {
        // SAFETY: per the caller.
        let (mech, params) = unsafe { mechanism(pMechanism) }?;
        if !params.is_empty() {
            return Err(Rv(CKR_MECHANISM_PARAM_INVALID));
        }
        // SAFETY: per the caller.
        let public = unsafe { template(pPublicKeyTemplate, ulPublicKeyAttributeCount) }?;
        // SAFETY: per the caller.
        let private = unsafe { template(pPrivateKeyTemplate, ulPrivateKeyAttributeCount) }?;
        // SAFETY: per the caller.
        let (php, phk) = unsafe { (out(phPublicKey)?, out(phPrivateKey)?) };
        let (p, k) = module::with(|m| m.generate_key_pair(hSession, mech, &public, &private))?;
        *php = p;
        *phk = k;
        Ok(())
    })
}

// ---- random numbers ---------------------------------------------------------

/// `C_GenerateRandom`: the daemon has no random-number verb, so these bytes
/// come from the operating system's CSPRNG (getrandom(2)) in the calling
/// process. They are the application's data, not key material of the token.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GenerateRandom(
    hSession: CK_SESSION_HANDLE,
    RandomData: *mut CK_BYTE,
    ulRandomLen: CK_ULONG,
) -> CK_RV {
    guard(|| {
        module::with(|m| m.session_info(hSession).map(|_| ()))?;
        let len = usize::try_from(ulRandomLen).map_err(|_| Rv(CKR_ARGUMENTS_BAD))?;
        if len == 0 {
            return Ok(());
        }
        if RandomData.is_null() {
            return Err(Rv(CKR_ARGUMENTS_BAD));
        }
        // SAFETY: the caller provides `len` writable bytes.
        let out = unsafe { std::slice::from_raw_parts_mut(RandomData, len) };
        getrandom::fill(out).map_err(|_| Rv(CKR_DEVICE_ERROR))
    })
}

/// `C_SeedRandom`: the OS generator takes no seed from applications.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_SeedRandom(
    hSession: CK_SESSION_HANDLE,
    _pSeed: *mut CK_BYTE,
    _ulSeedLen: CK_ULONG,
) -> CK_RV {
    guard(|| {
        module::with(|m| m.session_info(hSession).map(|_| ()))?;
        Err(Rv(CKR_RANDOM_SEED_NOT_SUPPORTED))
    })
}
