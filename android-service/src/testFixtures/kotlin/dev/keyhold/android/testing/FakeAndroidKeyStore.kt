package dev.keyhold.android.testing

import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyInfo
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import java.io.InputStream
import java.io.OutputStream
import java.nio.ByteBuffer
import java.security.AlgorithmParameters
import java.security.InvalidKeyException
import java.security.Key
import java.security.KeyStoreSpi
import java.security.Provider
import java.security.SecureRandom
import java.security.Security
import java.security.cert.Certificate
import java.security.spec.AlgorithmParameterSpec
import java.security.spec.KeySpec
import java.util.Collections
import java.util.Date
import java.util.Enumeration
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicInteger
import javax.crypto.Cipher
import javax.crypto.CipherSpi
import javax.crypto.KeyGeneratorSpi
import javax.crypto.SecretKey
import javax.crypto.SecretKeyFactorySpi
import javax.crypto.spec.SecretKeySpec

/**
 * A stand-in for Android's `AndroidKeyStore` JCA provider (Robolectric has
 * none): KeyStore, KeyGenerator("AES"), Cipher("AES/GCM/NoPadding") and
 * SecretKeyFactory("AES") backed by the JDK's software AES-GCM. Keys are
 * opaque like real Keystore keys (no encoding), so only this provider's
 * Cipher accepts them, exactly as JCA's delayed provider selection works on
 * a device.
 *
 * Switches simulate the failures seen in the field; counters measure the
 * hardware budget (Keystore Cipher operations).
 */
class FakeAndroidKeyStore : Provider("AndroidKeyStore", "1.0", "Keyhold test double of AndroidKeyStore") {
    /** False: requesting StrongBox throws StrongBoxUnavailableException (the sealer must fall back to the TEE). */
    @Volatile var strongBoxAvailable = true

    /** Thrown by KeyStore.getKey (e.g. UnrecoverableKeyException: "key exists but is unusable"). */
    @Volatile var getKeyFailure: Throwable? = null

    /** Thrown by Cipher.init (e.g. KeyPermanentlyInvalidatedException). */
    @Volatile var cipherInitFailure: Throwable? = null

    /** Thrown by Cipher.doFinal (e.g. ProviderException for a flaky StrongBox). */
    @Volatile var doFinalFailure: Throwable? = null

    /** A broken Keystore that "encrypts" by returning the input unchanged. */
    @Volatile var returnsCleartext = false

    /** Security level reported by KeyInfo for the TEE (emulators report software). */
    @Volatile var teeLevel = KeyProperties.SECURITY_LEVEL_TRUSTED_ENVIRONMENT

    val storedKeys = ConcurrentHashMap<String, FakeKey>()
    val encryptInits = AtomicInteger()
    val decryptInits = AtomicInteger()
    val doFinals = AtomicInteger()
    val keyGenerations = AtomicInteger()
    val strongBoxRequests = AtomicInteger()

    /** Keystore Cipher operations of either direction. */
    val cipherOperations: Int get() = encryptInits.get() + decryptInits.get()

    fun resetCounters() {
        listOf(encryptInits, decryptInits, doFinals, keyGenerations, strongBoxRequests).forEach { it.set(0) }
    }

    init {
        service("KeyStore", "AndroidKeyStore") { FakeKeyStoreSpi(this) }
        service("KeyGenerator", "AES") { FakeKeyGeneratorSpi(this) }
        service("SecretKeyFactory", "AES") { FakeSecretKeyFactorySpi() }
        putService(object : Service(this, "Cipher", "AES/GCM/NoPadding", FakeCipherSpi::class.java.name, null, null) {
            override fun newInstance(constructorParameter: Any?): Any = FakeCipherSpi(this@FakeAndroidKeyStore)

            // Only Keystore keys: other AES users of the JVM never reach this provider.
            override fun supportsParameter(parameter: Any?): Boolean = parameter is FakeKey
        })
    }

    private fun service(type: String, algorithm: String, create: () -> Any) {
        putService(object : Service(this, type, algorithm, FakeAndroidKeyStore::class.java.name, null, null) {
            override fun newInstance(constructorParameter: Any?): Any = create()
        })
    }

    /** An opaque Keystore key; the software key inside never leaves this provider. */
    class FakeKey(val alias: String, internal val material: SecretKeySpec, val securityLevel: Int) : SecretKey {
        override fun getAlgorithm() = "AES"
        override fun getFormat(): String? = null
        override fun getEncoded(): ByteArray? = null
    }

    companion object {
        /** Registers a fresh fake first in the provider list (replacing any earlier one) and returns it. */
        fun install(): FakeAndroidKeyStore {
            Security.removeProvider("AndroidKeyStore")
            return FakeAndroidKeyStore().also { Security.insertProviderAt(it, 1) }
        }

        fun uninstall() {
            Security.removeProvider("AndroidKeyStore")
        }
    }
}

private class FakeKeyStoreSpi(private val fake: FakeAndroidKeyStore) : KeyStoreSpi() {
    override fun engineGetKey(alias: String, password: CharArray?): Key? {
        fake.getKeyFailure?.let { throw it }
        return fake.storedKeys[alias]
    }

    override fun engineGetCertificateChain(alias: String): Array<Certificate>? = null
    override fun engineGetCertificate(alias: String): Certificate? = null
    override fun engineGetCreationDate(alias: String): Date? = fake.storedKeys[alias]?.let { Date(0) }
    override fun engineSetKeyEntry(alias: String, key: Key, password: CharArray?, chain: Array<out Certificate>?) =
        throw UnsupportedOperationException("Keystore keys are generated inside")
    override fun engineSetKeyEntry(alias: String, key: ByteArray, chain: Array<out Certificate>?) =
        throw UnsupportedOperationException("Keystore keys are generated inside")
    override fun engineSetCertificateEntry(alias: String, cert: Certificate) = throw UnsupportedOperationException()
    override fun engineDeleteEntry(alias: String) {
        fake.storedKeys.remove(alias)
    }
    override fun engineAliases(): Enumeration<String> = Collections.enumeration(fake.storedKeys.keys.toList())
    override fun engineContainsAlias(alias: String) = fake.storedKeys.containsKey(alias)
    override fun engineSize() = fake.storedKeys.size
    override fun engineIsKeyEntry(alias: String) = fake.storedKeys.containsKey(alias)
    override fun engineIsCertificateEntry(alias: String) = false
    override fun engineGetCertificateAlias(cert: Certificate): String? = null
    override fun engineStore(stream: OutputStream?, password: CharArray?) = Unit
    override fun engineLoad(stream: InputStream?, password: CharArray?) = Unit
}

private class FakeKeyGeneratorSpi(private val fake: FakeAndroidKeyStore) : KeyGeneratorSpi() {
    private var spec: KeyGenParameterSpec? = null

    override fun engineInit(random: SecureRandom?) = throw IllegalStateException("AndroidKeyStore needs a KeyGenParameterSpec")
    override fun engineInit(keysize: Int, random: SecureRandom?) = throw IllegalStateException("AndroidKeyStore needs a KeyGenParameterSpec")
    override fun engineInit(params: AlgorithmParameterSpec?, random: SecureRandom?) {
        spec = params as? KeyGenParameterSpec ?: throw java.security.InvalidAlgorithmParameterException("not a KeyGenParameterSpec")
    }

    override fun engineGenerateKey(): SecretKey {
        val spec = checkNotNull(spec) { "not initialised" }
        check(spec.keySize == 256) { "expected AES-256, got ${spec.keySize}" }
        check(spec.blockModes.contentEquals(arrayOf(KeyProperties.BLOCK_MODE_GCM))) { "expected GCM only" }
        check(spec.isRandomizedEncryptionRequired) { "randomized encryption must be required" }
        if (spec.isStrongBoxBacked) {
            fake.strongBoxRequests.incrementAndGet()
            if (!fake.strongBoxAvailable) throw StrongBoxUnavailableException("no StrongBox on this device")
        }
        fake.keyGenerations.incrementAndGet()
        val raw = ByteArray(32).also(SecureRandom()::nextBytes)
        val level = if (spec.isStrongBoxBacked) KeyProperties.SECURITY_LEVEL_STRONGBOX else fake.teeLevel
        return FakeAndroidKeyStore.FakeKey(spec.keystoreAlias, SecretKeySpec(raw, "AES"), level).also {
            fake.storedKeys[spec.keystoreAlias] = it
        }
    }
}

private class FakeSecretKeyFactorySpi : SecretKeyFactorySpi() {
    override fun engineGenerateSecret(keySpec: KeySpec?): SecretKey = throw UnsupportedOperationException()
    override fun engineTranslateKey(key: SecretKey?): SecretKey = throw UnsupportedOperationException()

    override fun engineGetKeySpec(key: SecretKey, keySpec: Class<*>): KeySpec {
        val k = key as? FakeAndroidKeyStore.FakeKey ?: throw java.security.spec.InvalidKeySpecException("not a Keystore key")
        val secure = k.securityLevel != KeyProperties.SECURITY_LEVEL_SOFTWARE
        return KeyInfo(
            k.alias, secure, KeyProperties.ORIGIN_GENERATED, 256, null, null, null,
            KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT,
            arrayOf(KeyProperties.ENCRYPTION_PADDING_NONE), arrayOf(), arrayOf(), arrayOf(KeyProperties.BLOCK_MODE_GCM),
            false, 0, 0, false, false, false, false, false, false, k.securityLevel, -1,
        )
    }
}

/** AES/GCM/NoPadding over a FakeKey, delegating to the JDK and counting operations. */
private class FakeCipherSpi(private val fake: FakeAndroidKeyStore) : CipherSpi() {
    private var delegate: Cipher? = null
    private var clearIv: ByteArray? = null

    private fun cipher(): Cipher = checkNotNull(delegate) { "cipher not initialised" }

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
        init(opmode, key, params?.getParameterSpec(javax.crypto.spec.GCMParameterSpec::class.java))

    private fun init(opmode: Int, key: Key, params: AlgorithmParameterSpec?) {
        val k = key as? FakeAndroidKeyStore.FakeKey ?: throw InvalidKeyException("not an AndroidKeyStore key")
        when (opmode) {
            Cipher.ENCRYPT_MODE -> fake.encryptInits.incrementAndGet()
            Cipher.DECRYPT_MODE -> fake.decryptInits.incrementAndGet()
        }
        fake.cipherInitFailure?.let { throw it }
        if (opmode == Cipher.ENCRYPT_MODE && params != null) {
            throw java.security.InvalidAlgorithmParameterException("Keystore chooses the IV (randomized encryption required)")
        }
        if (fake.returnsCleartext) {
            clearIv = ByteArray(12)
            delegate = null
            return
        }
        delegate = Cipher.getInstance("AES/GCM/NoPadding", "SunJCE").apply {
            if (params == null) init(opmode, k.material) else init(opmode, k.material, params)
        }
    }

    override fun engineUpdateAAD(src: ByteArray, offset: Int, len: Int) {
        delegate?.updateAAD(src, offset, len)
    }

    override fun engineUpdateAAD(src: ByteBuffer) {
        delegate?.updateAAD(src)
    }

    override fun engineUpdate(input: ByteArray, inputOffset: Int, inputLen: Int): ByteArray? =
        delegate?.update(input, inputOffset, inputLen) ?: input.copyOfRange(inputOffset, inputOffset + inputLen)

    override fun engineUpdate(input: ByteArray, inputOffset: Int, inputLen: Int, output: ByteArray, outputOffset: Int): Int =
        cipher().update(input, inputOffset, inputLen, output, outputOffset)

    override fun engineDoFinal(input: ByteArray?, inputOffset: Int, inputLen: Int): ByteArray {
        fake.doFinals.incrementAndGet()
        fake.doFinalFailure?.let { throw it }
        val data = input ?: ByteArray(0)
        if (fake.returnsCleartext) return data.copyOfRange(inputOffset, inputOffset + inputLen)
        return cipher().doFinal(data, inputOffset, inputLen)
    }

    override fun engineDoFinal(input: ByteArray?, inputOffset: Int, inputLen: Int, output: ByteArray, outputOffset: Int): Int {
        val out = engineDoFinal(input, inputOffset, inputLen)
        out.copyInto(output, outputOffset)
        return out.size
    }
}
