//! # keyhold-jni
//!
//! The JNI bridge between the Android Keyhold service (Kotlin, class
//! `dev.keyhold.android.KeyholdNative`) and `keyhold-core`. It is a door, not
//! an API: five native methods that delegate to the core, and a [`Sealer`]
//! that calls back into the Kotlin Keystore sealer.
//!
//! | Kotlin (`KeyholdNative`)                          | Rust                                  |
//! |---------------------------------------------------|---------------------------------------|
//! | `open(dataDir, sealer): Long`                     | `Keyhold::open_in_dir_with(dataDir, JniSealer)` |
//! | `handleWithIdentity(handle, identity, request)`   | `Keyhold::handle_with_identity`       |
//! | `lock(handle)`                                    | `Keyhold::lock`                       |
//! | `close(handle)`                                   | drops the engine                      |
//! | `protocolVersion(): Int`                          | `keyhold_core::PROTOCOL_VERSION`      |
//!
//! Every entry point runs inside `EnvUnowned::with_env`, which wraps the
//! body in `catch_unwind`, and resolves through [`ThrowKeyholdException`]
//! (itself guarded by `catch_unwind` in jni-rs), so no panic and no Rust
//! error crosses into the JVM: failures surface as
//! `dev.keyhold.android.KeyholdNativeException(code, message)` carrying the
//! core's stable error code. Request failures are not exceptions: the core
//! encodes them into the `keyhold.v1.Response` it returns.
//!
//! Handles are numbers in a table ([`Handles`]), not pointers, so a
//! stale or forged handle cannot reach freed memory: it is refused with
//! `UNAVAILABLE`.
//!
//! [`Sealer`]: keyhold_core::Sealer

mod error;
mod handles;
mod sealer;

pub use error::{BridgeError, ThrowKeyholdException};
pub use handles::Handles;
pub use sealer::JniSealer;

use jni::EnvUnowned;
use jni::objects::{JByteArray, JClass, JObject, JString};
use jni::sys::{jint, jlong};
use keyhold_core::{Config, Error, Keyhold};
use std::path::PathBuf;
use std::sync::{Arc, LazyLock};
use zeroize::Zeroizing;

/// Engines opened by this process, by handle.
static ENGINES: LazyLock<Handles<Keyhold>> = LazyLock::new(Handles::new);

/// Opens the engine over `<data_dir>/keyhold.db` (creating `data_dir` with
/// mode 0700 if missing), sealed by `sealer`.
pub fn open_engine(data_dir: PathBuf, sealer: JniSealer) -> Result<jlong, Error> {
    let engine = Keyhold::open_in_dir_with(&data_dir, Arc::new(sealer), Config::default())?;
    Ok(ENGINES.insert(engine))
}

/// The engine behind `handle`, or `UNAVAILABLE` when it is closed or unknown.
fn engine(handle: jlong) -> Result<Arc<Keyhold>, Error> {
    ENGINES
        .get(handle)
        .ok_or_else(|| Error::Unavailable(format!("keyhold handle {handle} is closed")))
}

/// `static native long open(String dataDir, Sealer sealer)`.
///
/// Throws `KeyholdNativeException` with the core's code when the store does
/// not open or a self-test (algorithms or sealer) fails.
#[allow(unsafe_code)]
// SAFETY: `no_mangle` exports this symbol under the JNI name the JVM looks up;
// its signature matches the Kotlin declaration `KeyholdNative.open` (static,
// (Ljava/lang/String;Ldev/keyhold/android/Sealer;)J) and no other symbol in
// this library has that name.
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_keyhold_android_KeyholdNative_open<'caller>(
    mut unowned: EnvUnowned<'caller>,
    _class: JClass<'caller>,
    data_dir: JString<'caller>,
    sealer: JObject<'caller>,
) -> jlong {
    unowned
        .with_env(|env| -> Result<jlong, BridgeError> {
            let dir = PathBuf::from(data_dir.try_to_string(env)?);
            let sealer = JniSealer::new(env, &sealer)?;
            Ok(open_engine(dir, sealer)?)
        })
        .resolve::<ThrowKeyholdException>()
}

/// `static native byte[] handleWithIdentity(long handle, byte[] identity, byte[] request)`.
///
/// Returns an encoded `keyhold.v1.Response`; request failures are encoded in
/// it. Throws `KeyholdNativeException(UNAVAILABLE)` for a closed handle.
#[allow(unsafe_code)]
// SAFETY: exported under the JNI name of `KeyholdNative.handleWithIdentity`
// (static, (J[B[B)[B); the signature matches the Kotlin declaration.
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_keyhold_android_KeyholdNative_handleWithIdentity<'caller>(
    mut unowned: EnvUnowned<'caller>,
    _class: JClass<'caller>,
    handle: jlong,
    identity: JByteArray<'caller>,
    request: JByteArray<'caller>,
) -> JByteArray<'caller> {
    unowned
        .with_env(|env| -> Result<JByteArray<'caller>, BridgeError> {
            let engine = engine(handle)?;
            let identity = env.convert_byte_array(&identity)?;
            // Requests can carry key material (imports) and responses
            // plaintexts (decrypt): wipe the Rust copies once Java has its own.
            let request = Zeroizing::new(env.convert_byte_array(&request)?);
            let response = Zeroizing::new(engine.handle_with_identity(&identity, &request));
            Ok(env.byte_array_from_slice(&response)?)
        })
        .resolve::<ThrowKeyholdException>()
}

/// `static native void lock(long handle)`: forgets every unsealed key.
#[allow(unsafe_code)]
// SAFETY: exported under the JNI name of `KeyholdNative.lock` (static, (J)V);
// the signature matches the Kotlin declaration.
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_keyhold_android_KeyholdNative_lock<'caller>(
    mut unowned: EnvUnowned<'caller>,
    _class: JClass<'caller>,
    handle: jlong,
) {
    unowned
        .with_env(|_env| -> Result<(), BridgeError> {
            engine(handle)?.lock();
            Ok(())
        })
        .resolve::<ThrowKeyholdException>()
}

/// `static native void close(long handle)`: closes the engine (after calls in
/// flight finish). Closing twice is harmless.
#[allow(unsafe_code)]
// SAFETY: exported under the JNI name of `KeyholdNative.close` (static, (J)V);
// the signature matches the Kotlin declaration.
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_keyhold_android_KeyholdNative_close<'caller>(
    mut unowned: EnvUnowned<'caller>,
    _class: JClass<'caller>,
    handle: jlong,
) {
    unowned
        .with_env(|_env| -> Result<(), BridgeError> {
            // The engine flushes its audit journal when the last Arc drops.
            drop(ENGINES.remove(handle));
            Ok(())
        })
        .resolve::<ThrowKeyholdException>()
}

/// `static native int protocolVersion()`: the core's wire protocol version.
#[allow(unsafe_code)]
// SAFETY: exported under the JNI name of `KeyholdNative.protocolVersion`
// (static, ()I); the signature matches the Kotlin declaration.
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_keyhold_android_KeyholdNative_protocolVersion<'caller>(
    mut unowned: EnvUnowned<'caller>,
    _class: JClass<'caller>,
) -> jint {
    unowned
        .with_env(|_env| -> Result<jint, BridgeError> {
            Ok(jint::try_from(keyhold_core::PROTOCOL_VERSION).unwrap_or(jint::MAX))
        })
        .resolve::<ThrowKeyholdException>()
}
