package dev.keyhold.android.testing

import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyInfo
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import android.security.keystore.UserNotAuthenticatedException
import dev.keyhold.android.RequiresApiLevel
import org.mockito.Mockito
import org.mockito.invocation.InvocationOnMock
import java.io.InputStream
import java.io.OutputStream
import java.nio.ByteBuffer
import java.security.AlgorithmParameters
import java.security.InvalidAlgorithmParameterException
import java.security.InvalidKeyException
import java.security.Key
import java.security.KeyStoreException
import java.security.KeyStoreSpi
import java.security.Provider
import java.security.ProviderException
import java.security.SecureRandom
import java.security.Security
import java.security.UnrecoverableKeyException
import java.security.cert.Certificate
import java.security.spec.AlgorithmParameterSpec
import java.security.spec.InvalidKeySpecException
import java.security.spec.KeySpec
import java.util.Collections
import java.util.Date
import java.util.Enumeration
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicLong
import javax.crypto.Cipher
import javax.crypto.CipherSpi
import javax.crypto.IllegalBlockSizeException
import javax.crypto.KeyGeneratorSpi
import javax.crypto.SecretKey
import javax.crypto.SecretKeyFactorySpi
import javax.crypto.spec.GCMParameterSpec
import javax.crypto.spec.SecretKeySpec

/**
 * A test double of Android's `AndroidKeyStore` JCA provider that behaves like
 * the platform of the running Robolectric SDK, faults included. Robolectric
 * has no AndroidKeyStore, and a kind double hides exactly the bugs that lose
 * keys on phones. What it models, each with the AOSP source it follows
 * (frameworks/base `keystore/java/android/security/`, `keystore2/` for API
 * 31+, and system/security `keystore2/src/`):
 *
 * - **Lookups.** keystore1 (API 28-30, `keystore/AndroidKeyStoreSpi.engineGetKey`):
 *   `getKey` answers null whenever `KeyStore.contains()` is false, and
 *   `contains()` is false on any error (the daemon restarting:
 *   [keystoreDaemonDown]). keystore2 (API 31+, `keystore2/AndroidKeyStoreSpi.engineGetKey`
 *   and `AndroidKeyStoreProvider.loadAndroidKeyStoreKeyFromKeystore`): null only
 *   for KEY_NOT_FOUND; a permanently invalidated key is an
 *   `UnrecoverableKeyException` without a cause; every other error an
 *   `UnrecoverableKeyException("Failed to obtain information about key")`
 *   whose cause is an `android.security.KeyStoreException` (public from API
 *   33 with `getNumericErrorCode()` / `isTransientFailure()`, mapped as in
 *   `KeyStoreException.java`'s table: SYSTEM_ERROR is not transient,
 *   SECURE_HW_BUSY is).
 * - **Delete before generate.** keystore1's `AndroidKeyStoreKeyGeneratorSpi.engineGenerateKey`
 *   calls `Credentials.deleteAllTypesForAlias` before asking the daemon, so
 *   a generation over an alias destroys what it held even if it then fails;
 *   keystore2 replaces the alias when the new key is made. Counted in [keysDestroyed].
 * - **StrongBox.** Absent hardware: `StrongBoxUnavailableException`
 *   (HARDWARE_TYPE_UNAVAILABLE); any other StrongBox failure ([strongBoxBroken]):
 *   a plain `ProviderException("Keystore key generation failed")`.
 * - **KeyInfo.** `SecretKeyFactory.getKeySpec(key, KeyInfo)`; the level through
 *   `isInsideSecureHardware` and, from API 31 only, `getSecurityLevel`.
 *   KeyInfo has no public constructor, so the double answers with a Mockito
 *   instance whose answers implement only those public getters; nothing
 *   calls its `@hide` constructor.
 * - **Cipher.init** (`KeyStoreCryptoOperationUtils.getInvalidKeyException`):
 *   `KeyPermanentlyInvalidatedException` for an invalidated key (and, on
 *   keystore2, a deleted one; keystore1 says `InvalidKeyException("Keystore
 *   operation failed")`), `UserNotAuthenticatedException` for a key that
 *   needs an unlocked device or recent authentication, `InvalidAlgorithmParameterException`
 *   for a caller-chosen IV when randomized encryption is required,
 *   `BackendBusyException` (API 31+) when no operation slot can be pruned.
 * - **doFinal** (`AndroidKeyStoreCipherSpiBase.engineDoFinal`): `AEADBadTagException`
 *   for a bad tag; `IllegalBlockSizeException` with the keystore error as
 *   cause for anything else, e.g. an operation pruned by keystore2
 *   (INVALID_OPERATION_HANDLE, public code ERROR_KEY_OPERATION_EXPIRED, transient).
 * - **Operation slots.** KeyMint has a bounded number of concurrent
 *   operations (StrongBox very few); keystore2 prunes the least useful
 *   operation of the app when a new one cannot start (system/security
 *   `keystore2/src/operation.rs`, "pruning", approximated here by least
 *   recently used), or reports BACKEND_BUSY when none can be pruned
 *   (`KeyStoreSecurityLevel.createOperation`). [operationSlots], [pruning].
 * - **Hardening.** `setUnlockedDeviceRequired`: refused while [deviceLocked]
 *   (decryption only on API 28-30, where symmetric encryption was not
 *   restricted); on API 31-34 with no secure lock screen such keys can be
 *   neither made nor used, and removing the lock screen destroys them (the
 *   Android 12-14 bug documented on `setUnlockedDeviceRequired`). User
 *   authentication binding: needs a secure lock screen at generation
 *   (`InvalidAlgorithmParameterException`), refused when the last
 *   authentication is older than the key's timeout, invalidated when the
 *   lock screen is removed.
 * - **Latency** ([latencyMillis]) on key generation, `Cipher.init` and
 *   `doFinal`; a Keystore that "encrypts" to cleartext ([returnsCleartext]).
 *
 * Faults in [failNext] are consumed one call at a time. Causes before API 33
 * are an opaque [PlatformKeystoreError]: the platform's class is not public
 * SDK there, so code under test cannot look inside it either.
 */
class StrictAndroidKeyStore private constructor(
    /** The SDK level whose behaviour is modelled (Robolectric's `Build.VERSION.SDK_INT`). */
    val apiLevel: Int,
) : Provider("AndroidKeyStore", "1.0", "Keyhold strict test double of AndroidKeyStore") {
    /** keystore1 (API 28-30) or keystore2 (API 31+). */
    val keystore2: Boolean get() = apiLevel >= 31

    /** The device has StrongBox hardware (the feature flag is declared separately, in PackageManager). */
    @Volatile var strongBoxPresent = true

    /** StrongBox is there but fails: generation throws a plain ProviderException. */
    @Volatile var strongBoxBroken = false

    /** The TEE is really software (emulators): keys report SECURITY_LEVEL_SOFTWARE. */
    @Volatile var teeIsSoftware = false

    /** The keystore daemon is unreachable (restarting). */
    @Volatile var keystoreDaemonDown = false

    /** Keys that require an unlocked device are refused. */
    @Volatile var deviceLocked = false

    /** The user has a secure lock screen (PIN, pattern, password). */
    @Volatile var secureLockScreen = true
        private set

    /** Seconds since the user last unlocked or authenticated (auth-bound keys). */
    @Volatile var secondsSinceAuthentication = 0L

    /** Concurrent operations KeyMint allows this app. */
    @Volatile var operationSlots = Int.MAX_VALUE

    /** keystore2 prunes an operation to make room (true) or answers BACKEND_BUSY (false). */
    @Volatile var pruning = true

    /** Added to key generation, Cipher.init and doFinal. */
    @Volatile var latencyMillis = 0L

    /** A broken Keystore that "encrypts" by returning the input unchanged. */
    @Volatile var returnsCleartext = false

    /** Where a call can be made to fail with [failNext]. */
    enum class Call { GET_KEY, CIPHER_INIT, DO_FINAL, GENERATE }

    /** How a keystore call fails. */
    enum class Fault(
        /** What `android.security.KeyStoreException.getNumericErrorCode()` says (API 33+). */
        val publicCode: Int,
        /** What `isTransientFailure()` says. */
        val transient: Boolean,
    ) {
        /** KeyMint SECURE_HW_BUSY / SECURE_HW_COMMUNICATION_FAILED: ERROR_KEYMINT_FAILURE, transient. */
        HARDWARE_BUSY(10, true),

        /** ResponseCode.SYSTEM_ERROR (e.g. a RemoteException): ERROR_INTERNAL_SYSTEM_ERROR, not transient. */
        SYSTEM_ERROR(4, false),

        /** ResponseCode.VALUE_CORRUPTED: ERROR_KEY_CORRUPTED, not transient. */
        KEY_CORRUPTED(7, false),
    }

    private val pending = ConcurrentHashMap<Call, MutableList<Fault>>()

    /** The next [times] calls of [call] fail with [fault]. */
    fun failNext(call: Call, fault: Fault, times: Int = 1) {
        pending.getOrPut(call) { Collections.synchronizedList(mutableListOf()) }.addAll(List(times) { fault })
    }

    internal fun takeFault(call: Call): Fault? = pending[call]?.let { list ->
        synchronized(list) { if (list.isEmpty()) null else list.removeAt(0) }
    }

    /** A key as Keystore holds it; [material] never leaves the double. */
    class Entry internal constructor(
        val alias: String,
        internal val material: SecretKeySpec,
        val level: Level,
        val unlockedDeviceRequired: Boolean,
        val userAuthenticationSeconds: Int,
        val generation: Long,
    ) {
        @Volatile var invalidated = false
            internal set
    }

    /** Where a key lives. */
    enum class Level { STRONGBOX, TEE, SOFTWARE }

    private val held = ConcurrentHashMap<String, Entry>()
    private val generations = AtomicLong()

    /** The key under [alias], as the double holds it (null when there is none). */
    fun entry(alias: String): Entry? = held[alias]

    /** Every alias that holds a key. */
    val aliases: Set<String> get() = held.keys.toSet()

    val encryptInits = AtomicInteger()
    val decryptInits = AtomicInteger()
    val doFinals = AtomicInteger()
    val keyGenerations = AtomicInteger()
    val strongBoxRequests = AtomicInteger()
    val lookups = AtomicInteger()

    /** Keys destroyed by a generation over their alias or by a deletion. */
    val keysDestroyed = AtomicInteger()

    /** Keystore Cipher operations of either direction. */
    val cipherOperations: Int get() = encryptInits.get() + decryptInits.get()

    fun resetCounters() {
        listOf(encryptInits, decryptInits, doFinals, keyGenerations, strongBoxRequests, lookups, keysDestroyed)
            .forEach { it.set(0) }
    }

    /** The user permanently invalidates the key under [alias] (e.g. a new biometric for a biometric-bound key). */
    fun invalidate(alias: String) {
        held[alias]?.invalidated = true
    }

    /**
     * The user removes the secure lock screen: auth-bound keys are
     * permanently invalidated, and on API 31-34 so are unlocked-device-required
     * keys (the Android 12-14 bug).
     */
    fun removeSecureLockScreen() {
        secureLockScreen = false
        for (e in held.values) {
            if (e.userAuthenticationSeconds > 0) e.invalidated = true
            if (e.unlockedDeviceRequired && apiLevel in 31..34) e.invalidated = true
        }
    }

    /** The user sets a secure lock screen again (invalidated keys stay invalidated). */
    fun setSecureLockScreen() {
        secureLockScreen = true
    }

    /** Keystore forgets every key (app data kept, Keystore wiped). */
    fun wipe() {
        keysDestroyed.addAndGet(held.size)
        held.clear()
    }

    // --- Operation slots --------------------------------------------------------------

    internal class Operation {
        @Volatile var pruned = false
    }

    private val liveOperations = ArrayList<Operation>()

    /** Begins an operation, pruning the least recently begun one when the slots are full. */
    internal fun beginOperation(): Operation = synchronized(liveOperations) {
        if (liveOperations.size >= operationSlots) {
            if (!pruning || liveOperations.isEmpty()) throw busy()
            liveOperations.removeAt(0).pruned = true
        }
        Operation().also { liveOperations += it }
    }

    internal fun endOperation(op: Operation) = synchronized(liveOperations) { liveOperations.remove(op) }

    /** Operations begun and not finished (abandoned ciphers hold their slot until pruned). */
    val operationsInFlight: Int get() = synchronized(liveOperations) { liveOperations.size }

    private fun busy(): Throwable = if (keystore2) {
        Api31.backendBusy()
    } else {
        InvalidKeyException("Keystore operation failed", PlatformKeystoreError("TOO_MANY_OPERATIONS"))
    }

    // --- Failures as the platform reports them --------------------------------------------

    internal fun pause() {
        if (latencyMillis > 0) Thread.sleep(latencyMillis)
    }

    /** The cause the platform attaches for [fault] at this API level. */
    internal fun cause(fault: Fault): Throwable =
        if (apiLevel >= 33) Api33.keyStoreException(fault.publicCode, fault.transient) else PlatformKeystoreError(fault.name)

    /** The cause of a pruned operation's failure (INVALID_OPERATION_HANDLE -> ERROR_KEY_OPERATION_EXPIRED, transient). */
    internal fun operationExpired(): Throwable =
        if (apiLevel >= 33) Api33.keyStoreException(15, true) else PlatformKeystoreError("INVALID_OPERATION_HANDLE")

    internal fun generate(alias: String, material: SecretKeySpec, level: Level, unlocked: Boolean, authSeconds: Int): Entry {
        val entry = Entry(alias, material, level, unlocked, authSeconds, generations.incrementAndGet())
        if (held.put(alias, entry) != null) keysDestroyed.incrementAndGet()
        return entry
    }

    internal fun deleteAlias(alias: String): Boolean {
        val removed = held.remove(alias) != null
        if (removed) keysDestroyed.incrementAndGet()
        return removed
    }

    init {
        service("KeyStore", "AndroidKeyStore") { DoubleKeyStoreSpi(this) }
        service("KeyGenerator", "AES") { DoubleKeyGeneratorSpi(this) }
        service("SecretKeyFactory", "AES") { DoubleSecretKeyFactorySpi(this) }
        putService(object : Service(this, "Cipher", "AES/GCM/NoPadding", DoubleCipherSpi::class.java.name, null, null) {
            override fun newInstance(constructorParameter: Any?): Any = DoubleCipherSpi(this@StrictAndroidKeyStore)

            // Only Keystore keys: other AES users of the JVM never reach this provider.
            override fun supportsParameter(parameter: Any?): Boolean = parameter is DoubleKey
        })
    }

    private fun service(type: String, algorithm: String, create: () -> Any) {
        putService(object : Service(this, type, algorithm, StrictAndroidKeyStore::class.java.name, null, null) {
            override fun newInstance(constructorParameter: Any?): Any = create()
        })
    }

    /** The handle `getKey` returns: opaque, like a real Keystore key (no encoding). */
    class DoubleKey internal constructor(val alias: String, internal val generation: Long) : SecretKey {
        override fun getAlgorithm() = "AES"
        override fun getFormat(): String? = null
        override fun getEncoded(): ByteArray? = null
    }

    /** Stands in for the platform's keystore exception where its class is not public SDK (API 28-32). */
    class PlatformKeystoreError(code: String) : Exception("keystore error $code")

    @RequiresApiLevel(31)
    private object Api31 {
        fun backendBusy(): Throwable = android.security.keystore.BackendBusyException(BACK_OFF_HINT_MILLIS, "Keystore backend busy")
    }

    @RequiresApiLevel(33)
    internal object Api33 {
        /**
         * An `android.security.KeyStoreException` (API 33) with the given
         * public code. Its constructors are `@hide`, so it is a Mockito
         * instance answering the public getters by name.
         */
        fun keyStoreException(publicCode: Int, transient: Boolean): Throwable =
            Mockito.mock(android.security.KeyStoreException::class.java) { inv: InvocationOnMock ->
                when (inv.method.name) {
                    "getNumericErrorCode" -> publicCode
                    "isTransientFailure" -> transient
                    "isSystemError" -> publicCode == 4 || publicCode == 10
                    "requiresUserAuthentication" -> false
                    "getMessage", "getLocalizedMessage" -> "keystore error $publicCode"
                    "toString" -> "android.security.KeyStoreException (public error code: $publicCode)"
                    "getCause" -> null
                    "getStackTrace" -> arrayOf<StackTraceElement>()
                    "hashCode" -> System.identityHashCode(inv.mock)
                    "equals" -> inv.mock === inv.arguments[0]
                    else -> throw UnsupportedOperationException("the double does not model KeyStoreException.${inv.method.name}")
                }
            }
    }

    companion object {
        /** Registers a fresh double first in the provider list (replacing any earlier one) and returns it. */
        fun install(): StrictAndroidKeyStore {
            Security.removeProvider("AndroidKeyStore")
            return StrictAndroidKeyStore(Build.VERSION.SDK_INT).also { Security.insertProviderAt(it, 1) }
        }

        /** What keystore2 suggests waiting after BACKEND_BUSY (a hint only; the sealer does not read it). */
        const val BACK_OFF_HINT_MILLIS = 50L

        fun uninstall() {
            Security.removeProvider("AndroidKeyStore")
        }
    }
}

private class DoubleKeyStoreSpi(private val ks: StrictAndroidKeyStore) : KeyStoreSpi() {
    override fun engineGetKey(alias: String, password: CharArray?): Key? {
        ks.lookups.incrementAndGet()
        val fault = ks.takeFault(StrictAndroidKeyStore.Call.GET_KEY)
        if (!ks.keystore2) {
            // keystore1: contains() first; false on any error, and then getKey is null.
            if (ks.keystoreDaemonDown || fault == StrictAndroidKeyStore.Fault.SYSTEM_ERROR) return null
            val entry = ks.entry(alias) ?: return null
            if (fault != null) throw unrecoverable(ks.cause(fault))
            // keystore1 reads characteristics only: an invalidated key still loads; Cipher.init refuses it.
            return StrictAndroidKeyStore.DoubleKey(alias, entry.generation)
        }
        if (ks.keystoreDaemonDown) throw unrecoverable(ks.cause(StrictAndroidKeyStore.Fault.SYSTEM_ERROR))
        if (fault != null) throw unrecoverable(ks.cause(fault))
        val entry = ks.entry(alias) ?: return null
        // engineGetKey rethrows KeyPermanentlyInvalidatedException as a cause-less UnrecoverableKeyException.
        if (entry.invalidated) throw UnrecoverableKeyException("User changed or deleted their auth credentials")
        return StrictAndroidKeyStore.DoubleKey(alias, entry.generation)
    }

    private fun unrecoverable(cause: Throwable) =
        UnrecoverableKeyException("Failed to obtain information about key").also { it.initCause(cause) }

    override fun engineGetCertificateChain(alias: String): Array<Certificate>? = null
    override fun engineGetCertificate(alias: String): Certificate? = null
    override fun engineGetCreationDate(alias: String): Date? =
        if (ks.keystoreDaemonDown) null else ks.entry(alias)?.let { Date(0) }

    override fun engineSetKeyEntry(alias: String, key: Key, password: CharArray?, chain: Array<out Certificate>?) =
        throw KeyStoreException("the sealer never imports keys; the double does not model it")

    override fun engineSetKeyEntry(alias: String, key: ByteArray, chain: Array<out Certificate>?) =
        throw KeyStoreException("Operation not supported because key encoding is unknown")

    override fun engineSetCertificateEntry(alias: String, cert: Certificate) =
        throw KeyStoreException("the double does not model certificate entries")

    override fun engineDeleteEntry(alias: String) {
        if (ks.keystoreDaemonDown) {
            if (!ks.keystore2) throw KeyStoreException("Failed to delete entry: $alias")
            throw KeyStoreException("Failed to delete entry: $alias", ks.cause(StrictAndroidKeyStore.Fault.SYSTEM_ERROR))
        }
        ks.deleteAlias(alias)
    }

    override fun engineAliases(): Enumeration<String> =
        Collections.enumeration(if (ks.keystoreDaemonDown) emptyList() else ks.aliases.toList())

    override fun engineContainsAlias(alias: String) = !ks.keystoreDaemonDown && ks.entry(alias) != null
    override fun engineSize() = if (ks.keystoreDaemonDown) 0 else ks.aliases.size
    override fun engineIsKeyEntry(alias: String) = engineContainsAlias(alias)
    override fun engineIsCertificateEntry(alias: String) = false
    override fun engineGetCertificateAlias(cert: Certificate): String? = null
    override fun engineStore(stream: OutputStream?, password: CharArray?) =
        throw UnsupportedOperationException("AndroidKeyStore cannot be stored")

    override fun engineLoad(stream: InputStream?, password: CharArray?) {
        if (stream != null) throw IllegalArgumentException("InputStream not supported")
        if (password != null) throw IllegalArgumentException("password not supported")
    }
}

private class DoubleKeyGeneratorSpi(private val ks: StrictAndroidKeyStore) : KeyGeneratorSpi() {
    private var spec: KeyGenParameterSpec? = null

    override fun engineInit(random: SecureRandom?) =
        throw IllegalStateException("Cannot initialize without a android.security.keystore.KeyGenParameterSpec parameter")

    override fun engineInit(keysize: Int, random: SecureRandom?) =
        throw IllegalStateException("Cannot initialize without a android.security.keystore.KeyGenParameterSpec parameter")

    override fun engineInit(params: AlgorithmParameterSpec?, random: SecureRandom?) {
        val spec = params as? KeyGenParameterSpec
            ?: throw InvalidAlgorithmParameterException("Cannot initialize without a KeyGenParameterSpec parameter")
        if (spec.isUserAuthenticationRequired && !ks.secureLockScreen) {
            throw InvalidAlgorithmParameterException(
                "Secure lock screen must be enabled to create keys requiring user authentication",
            )
        }
        this.spec = spec
    }

    override fun engineGenerateKey(): SecretKey {
        val spec = checkNotNull(spec) { "Not initialized" }
        check(spec.keySize == 256) { "the sealer asks for AES-256, got ${spec.keySize}" }
        check(spec.blockModes.contentEquals(arrayOf(KeyProperties.BLOCK_MODE_GCM))) { "GCM only" }
        check(spec.encryptionPaddings.contentEquals(arrayOf(KeyProperties.ENCRYPTION_PADDING_NONE))) { "NoPadding only" }
        check(spec.isRandomizedEncryptionRequired) { "randomized encryption must be required" }
        check(spec.purposes == KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT) { "encrypt|decrypt only" }
        val alias = spec.keystoreAlias
        // keystore1: Credentials.deleteAllTypesForAlias runs before the daemon is asked.
        if (!ks.keystore2 && !ks.keystoreDaemonDown) ks.deleteAlias(alias)
        ks.pause()
        if (ks.keystoreDaemonDown) throw ProviderException("Keystore key generation failed")
        ks.takeFault(StrictAndroidKeyStore.Call.GENERATE)?.let {
            throw ProviderException("Keystore key generation failed", ks.cause(it))
        }
        val level = if (spec.isStrongBoxBacked) {
            ks.strongBoxRequests.incrementAndGet()
            if (!ks.strongBoxPresent) throw StrongBoxUnavailableException() // its String constructors are API 29
            if (ks.strongBoxBroken) throw ProviderException("Keystore key generation failed")
            StrictAndroidKeyStore.Level.STRONGBOX
        } else if (ks.teeIsSoftware) {
            StrictAndroidKeyStore.Level.SOFTWARE
        } else {
            StrictAndroidKeyStore.Level.TEE
        }
        if (spec.isUnlockedDeviceRequired && ks.apiLevel in 31..34 && !ks.secureLockScreen) {
            // Android 12-14: unlocked-device-required keys cannot be made without a secure lock screen.
            throw ProviderException("Keystore key generation failed")
        }
        val authSeconds = if (spec.isUserAuthenticationRequired) authTimeout(spec) else 0
        ks.keyGenerations.incrementAndGet()
        val raw = ByteArray(32).also(SecureRandom()::nextBytes)
        val entry = ks.generate(alias, SecretKeySpec(raw, "AES"), level, spec.isUnlockedDeviceRequired, authSeconds)
        return StrictAndroidKeyStore.DoubleKey(alias, entry.generation)
    }

    private fun authTimeout(spec: KeyGenParameterSpec): Int {
        @Suppress("DEPRECATION") // The getter the platform itself reads on every level.
        val seconds = spec.userAuthenticationValidityDurationSeconds
        check(seconds > 0) { "the double models auth-bound keys with a timeout only (a service cannot prompt)" }
        return seconds
    }
}

private class DoubleSecretKeyFactorySpi(private val ks: StrictAndroidKeyStore) : SecretKeyFactorySpi() {
    override fun engineGenerateSecret(keySpec: KeySpec?): SecretKey =
        throw InvalidKeySpecException("To generate secret key in Android Keystore, use KeyGenerator initialized with KeyGenParameterSpec")

    override fun engineTranslateKey(key: SecretKey?): SecretKey =
        throw java.security.InvalidKeyException("To import a secret key into Android Keystore, use KeyStore.setEntry")

    override fun engineGetKeySpec(key: SecretKey, keySpec: Class<*>): KeySpec {
        val k = key as? StrictAndroidKeyStore.DoubleKey ?: throw InvalidKeySpecException("Only Android KeyStore secret keys are supported")
        if (keySpec != KeyInfo::class.java) throw InvalidKeySpecException("Unsupported key spec: ${keySpec.name}")
        if (ks.keystoreDaemonDown) throw ProviderException("Failed to obtain information about key")
        val entry = ks.entry(k.alias)?.takeIf { it.generation == k.generation }
            ?: throw ProviderException("Failed to obtain information about key")
        return keyInfo(entry, ks.apiLevel)
    }

    /**
     * A `KeyInfo` for [entry]. KeyInfo's only constructor is `@hide`, so this
     * is a Mockito instance whose answers implement the public getters the
     * sealer may read at [apiLevel]; any other getter fails the test.
     */
    private fun keyInfo(entry: StrictAndroidKeyStore.Entry, apiLevel: Int): KeyInfo =
        Mockito.mock(KeyInfo::class.java) { inv: InvocationOnMock ->
            when (inv.method.name) {
                "isInsideSecureHardware" -> entry.level != StrictAndroidKeyStore.Level.SOFTWARE
                "getSecurityLevel" -> {
                    check(apiLevel >= 31) { "KeyInfo.getSecurityLevel is API 31" }
                    when (entry.level) {
                        StrictAndroidKeyStore.Level.STRONGBOX -> KeyProperties.SECURITY_LEVEL_STRONGBOX
                        StrictAndroidKeyStore.Level.TEE -> KeyProperties.SECURITY_LEVEL_TRUSTED_ENVIRONMENT
                        StrictAndroidKeyStore.Level.SOFTWARE -> KeyProperties.SECURITY_LEVEL_SOFTWARE
                    }
                }
                "getKeystoreAlias" -> entry.alias
                "getKeySize" -> 256
                "isUserAuthenticationRequired" -> entry.userAuthenticationSeconds > 0
                "toString" -> "KeyInfo(${entry.alias}, ${entry.level})"
                "hashCode" -> System.identityHashCode(inv.mock)
                "equals" -> inv.mock === inv.arguments[0]
                else -> throw UnsupportedOperationException("the double does not model KeyInfo.${inv.method.name}")
            }
        }
}

/** AES/GCM/NoPadding over a [StrictAndroidKeyStore.DoubleKey], delegating the arithmetic to the JDK. */
private class DoubleCipherSpi(private val ks: StrictAndroidKeyStore) : CipherSpi() {
    private var delegate: Cipher? = null
    private var clearIv: ByteArray? = null
    private var operation: StrictAndroidKeyStore.Operation? = null
    private var finished = false

    override fun engineSetMode(mode: String) {
        if (!mode.equals("GCM", true)) throw java.security.NoSuchAlgorithmException(mode)
    }

    override fun engineSetPadding(padding: String) {
        if (!padding.equals("NoPadding", true)) throw javax.crypto.NoSuchPaddingException(padding)
    }

    override fun engineGetBlockSize() = 16
    override fun engineGetOutputSize(inputLen: Int) = inputLen + 16
    override fun engineGetIV(): ByteArray? = clearIv ?: delegate?.iv
    override fun engineGetParameters(): AlgorithmParameters? = delegate?.parameters

    override fun engineInit(opmode: Int, key: Key, random: SecureRandom?) = init(opmode, key, null)
    override fun engineInit(opmode: Int, key: Key, params: AlgorithmParameterSpec?, random: SecureRandom?) = init(opmode, key, params)
    override fun engineInit(opmode: Int, key: Key, params: AlgorithmParameters?, random: SecureRandom?) =
        init(opmode, key, params?.getParameterSpec(GCMParameterSpec::class.java))

    private fun init(opmode: Int, key: Key, params: AlgorithmParameterSpec?) {
        val k = key as? StrictAndroidKeyStore.DoubleKey ?: throw InvalidKeyException("Unsupported key: $key")
        when (opmode) {
            Cipher.ENCRYPT_MODE -> ks.encryptInits.incrementAndGet()
            Cipher.DECRYPT_MODE -> ks.decryptInits.incrementAndGet()
            else -> throw InvalidKeyException("the sealer only encrypts and decrypts")
        }
        release()
        finished = false
        ks.pause()
        if (ks.keystoreDaemonDown) throw ProviderException("Failed to communicate with keystore service")
        val entry = ks.entry(k.alias)?.takeIf { it.generation == k.generation }
            ?: throw if (ks.keystore2) {
                KeyPermanentlyInvalidatedException()
            } else {
                InvalidKeyException("Keystore operation failed", StrictAndroidKeyStore.PlatformKeystoreError("KEY_NOT_FOUND"))
            }
        if (entry.invalidated) throw KeyPermanentlyInvalidatedException()
        ks.takeFault(StrictAndroidKeyStore.Call.CIPHER_INIT)?.let { throw InvalidKeyException("Keystore operation failed", ks.cause(it)) }
        if (entry.unlockedDeviceRequired) {
            val restricted = opmode == Cipher.DECRYPT_MODE || ks.apiLevel >= 31
            val noLockScreenBug = ks.apiLevel in 31..34 && !ks.secureLockScreen
            if (restricted && (ks.deviceLocked || noLockScreenBug)) throw UserNotAuthenticatedException()
        }
        if (entry.userAuthenticationSeconds > 0 && ks.secondsSinceAuthentication > entry.userAuthenticationSeconds) {
            throw UserNotAuthenticatedException()
        }
        if (opmode == Cipher.ENCRYPT_MODE && params != null) {
            throw InvalidAlgorithmParameterException("Caller-provided IV not permitted")
        }
        if (opmode == Cipher.DECRYPT_MODE && params !is GCMParameterSpec) {
            throw InvalidAlgorithmParameterException("IV required when decrypting. Use IvParameterSpec or AlgorithmParameters to provide it.")
        }
        operation = ks.beginOperation()
        if (ks.returnsCleartext) {
            clearIv = ByteArray(12)
            delegate = null
            return
        }
        clearIv = null
        delegate = Cipher.getInstance("AES/GCM/NoPadding", "SunJCE").apply {
            if (params == null) init(opmode, entry.material) else init(opmode, entry.material, params)
        }
    }

    private fun release() {
        operation?.let { ks.endOperation(it) }
        operation = null
    }

    private fun live(): StrictAndroidKeyStore.Operation {
        check(!finished) { "the double does not model reusing a Keystore Cipher after doFinal" }
        val op = checkNotNull(operation) { "Cipher not initialized" }
        return op
    }

    override fun engineUpdateAAD(src: ByteArray, offset: Int, len: Int) {
        live()
        delegate?.updateAAD(src, offset, len)
    }

    override fun engineUpdateAAD(src: ByteBuffer) {
        live()
        delegate?.updateAAD(src)
    }

    override fun engineUpdate(input: ByteArray, inputOffset: Int, inputLen: Int): ByteArray? {
        live()
        return delegate?.update(input, inputOffset, inputLen) ?: input.copyOfRange(inputOffset, inputOffset + inputLen)
    }

    override fun engineUpdate(input: ByteArray, inputOffset: Int, inputLen: Int, output: ByteArray, outputOffset: Int): Int {
        live()
        return checkNotNull(delegate).update(input, inputOffset, inputLen, output, outputOffset)
    }

    override fun engineDoFinal(input: ByteArray?, inputOffset: Int, inputLen: Int): ByteArray {
        val op = live()
        ks.doFinals.incrementAndGet()
        try {
            ks.pause()
            if (op.pruned) throw blockSize(ks.operationExpired())
            ks.takeFault(StrictAndroidKeyStore.Call.DO_FINAL)?.let { throw blockSize(ks.cause(it)) }
            val data = input ?: ByteArray(0)
            if (ks.returnsCleartext) return data.copyOfRange(inputOffset, inputOffset + inputLen)
            return checkNotNull(delegate).doFinal(data, inputOffset, inputLen)
        } finally {
            finished = true
            release()
        }
    }

    private fun blockSize(cause: Throwable) = IllegalBlockSizeException().also { it.initCause(cause) }

    override fun engineDoFinal(input: ByteArray?, inputOffset: Int, inputLen: Int, output: ByteArray, outputOffset: Int): Int {
        val out = engineDoFinal(input, inputOffset, inputLen)
        out.copyInto(output, outputOffset)
        return out.size
    }
}
