//! What can fail in the bridge, and how it reaches Kotlin.
//!
//! Core errors keep their stable wire code ([`keyhold_core::ErrorCode`]);
//! JNI failures and panics are `INTERNAL`. All of them are thrown as
//! `dev.keyhold.android.KeyholdNativeException(int code, String message)`,
//! which the service turns into a `ServiceSpecificException` with the same
//! code.

use jni::objects::JValue;
use jni::{Env, jni_sig, jni_str};
use keyhold_core::ErrorCode;

/// A failure inside a native method.
#[derive(Debug)]
#[non_exhaustive]
pub enum BridgeError {
    /// The core refused (opening the store, self-tests, a closed handle).
    Core(keyhold_core::Error),
    /// A JNI call failed (a Java exception may be pending).
    Jni(jni::errors::Error),
}

impl std::fmt::Display for BridgeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Core(e) => write!(f, "{e}"),
            Self::Jni(e) => write!(f, "JNI failure: {e}"),
        }
    }
}

impl std::error::Error for BridgeError {}

impl From<keyhold_core::Error> for BridgeError {
    fn from(value: keyhold_core::Error) -> Self {
        Self::Core(value)
    }
}

impl From<jni::errors::Error> for BridgeError {
    fn from(value: jni::errors::Error) -> Self {
        Self::Jni(value)
    }
}

impl BridgeError {
    /// The stable code reported to Kotlin.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Core(e) => e.code(),
            Self::Jni(_) => ErrorCode::Internal,
        }
    }
}

/// The bridge's `ErrorPolicy`: throws `KeyholdNativeException` with the
/// error's code (panics are `INTERNAL`) and returns the default value. A
/// Java exception already pending (thrown by Kotlin code we called) is left
/// to propagate as it is.
#[derive(Debug, Default)]
pub struct ThrowKeyholdException;

impl<T: Default> jni::errors::ErrorPolicy<T, BridgeError> for ThrowKeyholdException {
    type Captures<'unowned_env_local: 'native_method, 'native_method> = ();

    fn on_error<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _captures: &mut (),
        err: BridgeError,
    ) -> jni::errors::Result<T> {
        if !env.exception_check() {
            throw(env, err.code(), &err.to_string())?;
        }
        Ok(T::default())
    }

    fn on_panic<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _captures: &mut (),
        _payload: Box<dyn std::any::Any + Send + 'static>,
    ) -> jni::errors::Result<T> {
        if env.exception_check() {
            env.exception_clear();
        }
        throw(env, ErrorCode::Internal, "keyhold-jni panicked")?;
        Ok(T::default())
    }
}

/// Throws `KeyholdNativeException(code, message)`. `FindClass` inside a
/// native method resolves through the class loader of the class declaring it
/// (`KeyholdNative`), so this finds the app's class, not the boot loader's.
fn throw(env: &mut Env<'_>, code: ErrorCode, message: &str) -> jni::errors::Result<()> {
    let class = env.find_class(jni_str!("dev/keyhold/android/KeyholdNativeException"))?;
    let message = env.new_string(message)?;
    let code = i32::try_from(code.as_u32()).unwrap_or(i32::MAX);
    let exception = env.new_object(
        &class,
        jni_sig!("(ILjava/lang/String;)V"),
        &[JValue::Int(code), JValue::Object(&message)],
    )?;
    let exception = env.cast_local::<jni::objects::JThrowable>(exception)?;
    match env.throw(exception) {
        // `throw` reports the now-pending exception as an error; that is the point.
        Ok(()) | Err(jni::errors::Error::JavaException) => Ok(()),
        Err(e) => Err(e),
    }
}
