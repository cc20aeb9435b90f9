//! The core's [`Sealer`] implemented by calling back into a Kotlin object
//! that implements `dev.keyhold.android.Sealer`:
//!
//! ```kotlin
//! interface Sealer {
//!     fun name(): String
//!     fun openKey(mayCreate: Boolean, expectedLabel: String?, recordedLevel: String?): WrappingKeyInfo
//!     fun seal(plain: ByteArray, aad: ByteArray): ByteArray
//!     fun unseal(sealed: ByteArray, aad: ByteArray): ByteArray
//! }
//! ```
//!
//! A Kotlin `dev.keyhold.android.SealerException` carries its kind as
//! `kindCode()` (0 unavailable, 1 key invalidated, 2 authentication failed,
//! 3 key not found);
//! any other throwable is reported as `Unavailable`. Nothing is ever returned
//! in clear on failure. Java arrays that held a secret (the plaintext passed
//! to `seal`, the plaintext returned by `unseal`) are overwritten with zeros
//! once copied; the JVM may still have made copies of its own (GC moves).

use jni::objects::{JByteArray, JClass, JObject, JString, JThrowable, JValue};
use jni::refs::Global;
use jni::strings::JNIStr;
use jni::vm::JavaVM;
use jni::{Env, jni_sig, jni_str};
use keyhold_core::{
    Error, KeyRequest, Result, Sealer, SealerErrorKind, SecretBytes, WrappingKeyInfo,
};

/// A [`Sealer`] backed by a Kotlin `dev.keyhold.android.Sealer`.
#[derive(Debug)]
pub struct JniSealer {
    sealer: Global<JObject<'static>>,
    exception_class: Global<JClass<'static>>,
}

/// What one Kotlin call produced, decided while the thread is attached.
enum CallOutcome<T> {
    Done(T),
    Failed(Error),
}

impl JniSealer {
    /// Wraps `sealer`. Must be called from a native method: the class of
    /// `SealerException` is resolved with the caller's class loader.
    pub fn new(env: &mut Env<'_>, sealer: &JObject<'_>) -> jni::errors::Result<Self> {
        let exception_class = env.find_class(jni_str!("dev/keyhold/android/SealerException"))?;
        Ok(Self {
            sealer: env.new_global_ref(sealer)?,
            exception_class: env.new_global_ref(exception_class)?,
        })
    }

    /// Calls `name()` on the Kotlin sealer. The Keystore sealer knows its
    /// security level (StrongBox, TEE) only once its key exists, so the name
    /// is asked each time rather than cached.
    fn call_name(&self) -> jni::errors::Result<String> {
        JavaVM::singleton()?.attach_current_thread(|env| -> jni::errors::Result<String> {
            let name = env
                .call_method(
                    &self.sealer,
                    jni_str!("name"),
                    jni_sig!("()Ljava/lang/String;"),
                    &[],
                )?
                .l()?;
            env.cast_local::<JString>(name)?.try_to_string(env)
        })
    }

    /// Calls `method(input, aad)` on the Kotlin sealer. When `wipe_input`,
    /// the Java copy of `input` is zeroed after the call; when
    /// `wipe_output`, so is the array Kotlin returned.
    fn call(
        &self,
        method: &JNIStr,
        input: &[u8],
        aad: &[u8],
        wipe_input: bool,
        wipe_output: bool,
    ) -> Result<Vec<u8>> {
        let vm = JavaVM::singleton().map_err(|e| unavailable(format!("no Java VM: {e}")))?;
        let outcome =
            vm.attach_current_thread(|env| -> jni::errors::Result<CallOutcome<Vec<u8>>> {
                let input_array = env.byte_array_from_slice(input)?;
                let aad_array = env.byte_array_from_slice(aad)?;
                let result = env.call_method(
                    &self.sealer,
                    method,
                    jni_sig!("([B[B)[B"),
                    &[JValue::Object(&input_array), JValue::Object(&aad_array)],
                );
                let outcome = match result {
                    Ok(value) => {
                        let array = env.cast_local::<JByteArray>(value.l()?)?;
                        let bytes = env.convert_byte_array(&array);
                        if wipe_output {
                            zero(env, &array)?;
                        }
                        CallOutcome::Done(bytes?)
                    }
                    Err(jni::errors::Error::JavaException) => {
                        CallOutcome::Failed(self.take_exception(env)?)
                    }
                    Err(e) => return Err(e),
                };
                if wipe_input {
                    zero(env, &input_array)?;
                }
                Ok(outcome)
            });
        finish(outcome)
    }

    /// Calls `openKey(mayCreate, expectedLabel, recordedLevel)` and reads the
    /// `WrappingKeyInfo` it returns. `recordedLevel` is the level the store
    /// recorded as obtained: on API 28-30 the platform cannot tell StrongBox
    /// from the TEE for a key it finds, so the sealer reports the recorded
    /// one.
    fn call_open_key(&self, request: &KeyRequest<'_>) -> Result<WrappingKeyInfo> {
        let vm = JavaVM::singleton().map_err(|e| unavailable(format!("no Java VM: {e}")))?;
        let outcome =
            vm.attach_current_thread(|env| -> jni::errors::Result<CallOutcome<WrappingKeyInfo>> {
                let label = match request.expected_label() {
                    Some(label) => JObject::from(env.new_string(label)?),
                    None => JObject::null(),
                };
                let recorded_level = match request {
                    KeyRequest::FindExisting(Some(binding)) => {
                        JObject::from(env.new_string(&binding.level_obtained)?)
                    }
                    KeyRequest::FindExisting(None) | KeyRequest::FindOrCreate => JObject::null(),
                };
                let result = env.call_method(
                    &self.sealer,
                    jni_str!("openKey"),
                    jni_sig!(
                        "(ZLjava/lang/String;Ljava/lang/String;)Ldev/keyhold/android/WrappingKeyInfo;"
                    ),
                    &[
                        JValue::Bool(request.may_create()),
                        JValue::Object(&label),
                        JValue::Object(&recorded_level),
                    ],
                );
                match result {
                    Ok(value) => {
                        let info = value.l()?;
                        if info.is_null() {
                            return Ok(CallOutcome::Failed(unavailable(
                                "openKey returned null".into(),
                            )));
                        }
                        let text =
                            |env: &mut Env<'_>, field: &JNIStr| -> jni::errors::Result<String> {
                                let value = env
                                    .get_field(&info, field, jni_sig!("Ljava/lang/String;"))?
                                    .l()?;
                                env.cast_local::<JString>(value)?.try_to_string(env)
                            };
                        Ok(CallOutcome::Done(WrappingKeyInfo {
                            label: text(env, jni_str!("label"))?,
                            level_requested: text(env, jni_str!("levelRequested"))?,
                            level_obtained: text(env, jni_str!("levelObtained"))?,
                            created: env
                                .get_field(&info, jni_str!("created"), jni_sig!("Z"))?
                                .z()?,
                        }))
                    }
                    Err(jni::errors::Error::JavaException) => {
                        Ok(CallOutcome::Failed(self.take_exception(env)?))
                    }
                    Err(e) => Err(e),
                }
            });
        finish(outcome)
    }

    /// Clears the pending Java exception and classifies it.
    fn take_exception(&self, env: &mut Env<'_>) -> jni::errors::Result<Error> {
        let thrown = env.exception_occurred();
        env.exception_clear();
        Ok(match thrown {
            Some(t) => self.classify(env, &t)?,
            None => unavailable("the sealer failed without an exception".into()),
        })
    }

    /// Turns a Kotlin throwable into the core's sealer error.
    fn classify(&self, env: &mut Env<'_>, thrown: &JThrowable<'_>) -> jni::errors::Result<Error> {
        let description = env
            .call_method(
                thrown,
                jni_str!("toString"),
                jni_sig!("()Ljava/lang/String;"),
                &[],
            )?
            .l()?;
        let description = env.cast_local::<JString>(description)?.try_to_string(env)?;
        if !env.is_instance_of(thrown, &self.exception_class)? {
            return Ok(unavailable(format!("the sealer threw {description}")));
        }
        let code = env
            .call_method(thrown, jni_str!("kindCode"), jni_sig!("()I"), &[])?
            .i()?;
        let kind = match code {
            1 => SealerErrorKind::KeyInvalidated,
            2 => SealerErrorKind::AuthenticationFailed,
            3 => SealerErrorKind::KeyNotFound,
            _ => SealerErrorKind::Unavailable,
        };
        Ok(Error::sealer(kind, description))
    }
}

fn finish<T>(outcome: jni::errors::Result<CallOutcome<T>>) -> Result<T> {
    match outcome {
        Ok(CallOutcome::Done(value)) => Ok(value),
        Ok(CallOutcome::Failed(e)) => Err(e),
        Err(e) => Err(unavailable(format!("JNI failure calling the sealer: {e}"))),
    }
}

fn unavailable(message: String) -> Error {
    Error::sealer(SealerErrorKind::Unavailable, message)
}

/// Overwrites a Java byte array with zeros.
fn zero(env: &mut Env<'_>, array: &JByteArray<'_>) -> jni::errors::Result<()> {
    let len = array.len(env)?;
    let zeros = vec![0i8; len];
    array.set_region(env, 0, &zeros)
}

impl Sealer for JniSealer {
    fn name(&self) -> String {
        self.call_name()
            .unwrap_or_else(|_| String::from("android-unknown"))
    }

    fn open_key(&self, request: &KeyRequest<'_>) -> Result<WrappingKeyInfo> {
        self.call_open_key(request)
    }

    fn seal(&self, secret: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        self.call(jni_str!("seal"), secret, aad, true, false)
    }

    fn unseal(&self, sealed: &[u8], aad: &[u8]) -> Result<SecretBytes> {
        self.call(jni_str!("unseal"), sealed, aad, false, true)
            .map(SecretBytes::new)
    }
}
