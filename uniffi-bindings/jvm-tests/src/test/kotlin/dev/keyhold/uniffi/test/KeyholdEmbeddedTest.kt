package dev.keyhold.uniffi.test

import dev.keyhold.uniffi.Agreement
import dev.keyhold.uniffi.Algorithm
import dev.keyhold.uniffi.HdScheme
import dev.keyhold.uniffi.ImportMaterial
import dev.keyhold.uniffi.KdfParams
import dev.keyhold.uniffi.KeyOperation
import dev.keyhold.uniffi.KeyOptions
import dev.keyhold.uniffi.KeyOrigin
import dev.keyhold.uniffi.KeyPolicy
import dev.keyhold.uniffi.KeyRef
import dev.keyhold.uniffi.KeySpec
import dev.keyhold.uniffi.KeyholdEmbedded
import dev.keyhold.uniffi.KeyholdException
import dev.keyhold.uniffi.Payload
import dev.keyhold.uniffi.PublicKeyFormat
import dev.keyhold.uniffi.SealerException
import dev.keyhold.uniffi.SignatureScheme
import dev.keyhold.uniffi.WrappingKeyInfo
import dev.keyhold.uniffi.insecureSoftwareSealerEphemeral
import dev.keyhold.uniffi.insecureSoftwareSealerKeyFile
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path
import java.security.KeyFactory
import java.security.MessageDigest
import java.security.Signature
import java.security.spec.X509EncodedKeySpec
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue

/** The stable code of any Keyhold error, whatever its variant. */
val KeyholdException.code: UInt
    get() = when (this) {
        is KeyholdException.KeyNotFound -> code
        is KeyholdException.InvalidInput -> code
        is KeyholdException.NotAllowed -> code
        is KeyholdException.DecryptionFailed -> code
        is KeyholdException.Unavailable -> code
        is KeyholdException.KeyInvalidated -> code
        is KeyholdException.CorruptKeyRecord -> code
        is KeyholdException.Internal -> code
    }

// keyhold_core::ErrorCode numbers (proto keyhold.v1.ErrorCode).
const val KEY_NOT_FOUND = 4u
const val OPERATION_NOT_ALLOWED = 6u
const val INVALID_PATH = 8u
const val INVALID_MNEMONIC = 9u
const val ALIAS_EXISTS = 12u
const val USAGE_LIMIT_EXCEEDED = 13u
const val DECRYPTION_FAILED = 15u
const val SEALER_UNAVAILABLE = 16u
const val SEALER_KEY_INVALIDATED = 17u
const val CORRUPT_KEY_RECORD = 18u
const val SELF_TEST_FAILED = 20u

/** BIP39's published all-"abandon" test mnemonic (BIP39 test vectors, entropy 0x00...). */
const val ABANDON_MNEMONIC =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"

class KeyholdEmbeddedTest {
    @TempDir
    lateinit var dir: Path

    private lateinit var sealer: CountingSoftwareSealer
    private lateinit var keyhold: KeyholdEmbedded

    private fun open(s: dev.keyhold.uniffi.Sealer = sealer) =
        KeyholdEmbedded(dir.resolve("store").toString(), "dev.keyhold.jvmtest", s)

    @BeforeEach
    fun setUp() {
        sealer = CountingSoftwareSealer()
        keyhold = open()
    }

    @AfterEach
    fun tearDown() {
        keyhold.close()
    }

    private fun alias(a: String) = KeyRef.Alias(a)

    @Test
    fun `opening runs the sealer self-test through the callback`() {
        assertEquals(1, sealer.seals.get())
        assertEquals(1, sealer.unseals.get())
    }

    @Test
    fun `generate and sign with P-256, verified independently by java security`() {
        val info = keyhold.generateKey(KeySpec.Single(Algorithm.P256), KeyOptions("p256"))
        assertEquals(Algorithm.P256, info.algorithm)
        assertEquals(KeyOrigin.GENERATED, info.origin)
        assertEquals(16, info.id.length)
        assertEquals(33, info.publicKey.size)
        assertEquals("kotlin-software", info.sealer)

        val message = "pay 1 sat to bob".toByteArray()
        val der = keyhold.sign(alias("p256"), null, null, Payload.Message(message))

        val spki = keyhold.getPublicKey(alias("p256"), null, PublicKeyFormat.SPKI_DER).bytes
        val publicKey = KeyFactory.getInstance("EC").generatePublic(X509EncodedKeySpec(spki))
        val verifier = Signature.getInstance("SHA256withECDSA")
        verifier.initVerify(publicKey)
        verifier.update(message)
        assertTrue(verifier.verify(der), "java.security rejects Keyhold's P-256 signature")

        // The same key by id, and Keyhold's own verify.
        val byId = KeyRef.Id(info.id)
        assertTrue(keyhold.verify(byId, null, null, Payload.Message(message), der))
        assertFalse(keyhold.verify(byId, null, null, Payload.Message("pay 2".toByteArray()), der))

        // A digest signed as a digest verifies as SHA256withECDSA of the message.
        val digest = MessageDigest.getInstance("SHA-256").digest(message)
        val compact = keyhold.sign(byId, null, SignatureScheme.ECDSA_COMPACT, Payload.Digest(digest))
        assertEquals(64, compact.size)
        assertTrue(keyhold.verify(byId, null, SignatureScheme.ECDSA_COMPACT, Payload.Message(message), compact))
    }

    @Test
    fun `derive from the abandon mnemonic gives the published BIP44 Ethereum address`() {
        val root = keyhold.importKey(
            ImportMaterial.mnemonic(ABANDON_MNEMONIC, "", HdScheme.BIP32_SECP256K1),
            KeyOptions("wallet"),
        )
        assertEquals(HdScheme.BIP32_SECP256K1, root.hdScheme)
        assertEquals(KeyOrigin.IMPORTED, root.origin)

        val path = "m/44'/60'/0'/0/0"
        val address = keyhold.getPublicKey(alias("wallet"), path, PublicKeyFormat.ETH_ADDRESS)
        assertEquals("0x9858EfFD232B4033E47d90003D41EC34EcaEda94", address.text)

        val derived = keyhold.deriveKey(alias("wallet"), path, KeyOptions("account0"))
        assertEquals(33, derived.publicKey.size)
        assertTrue(derived.xpub!!.startsWith("xpub"))
        val stored = assertNotNull(derived.stored)
        assertEquals(KeyOrigin.DERIVED, stored.origin)
        assertContentEquals(derived.publicKey, stored.publicKey)
        val storedAddress = keyhold.getPublicKey(alias("account0"), null, PublicKeyFormat.ETH_ADDRESS)
        assertEquals(address.text, storedAddress.text)

        // A recoverable signature from the HD child is 65 bytes.
        val sig = keyhold.sign(
            alias("wallet"), path, SignatureScheme.ECDSA_RECOVERABLE,
            Payload.Digest(ByteArray(32) { it.toByte() }),
        )
        assertEquals(65, sig.size)
    }

    @Test
    fun `import a raw secp256k1 key with a known public key`() {
        // Private key 1: its public key is the generator G (SEC 2).
        val one = ByteArray(32).also { it[31] = 1 }
        val info = keyhold.importKey(ImportMaterial.rawPrivateKey(Algorithm.SECP256K1, one), KeyOptions("one"))
        assertEquals(
            "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
            info.publicKey.toHex(),
        )
        val address = keyhold.getPublicKey(alias("one"), null, PublicKeyFormat.ETH_ADDRESS)
        assertEquals("0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf", address.text)
    }

    @Test
    fun `import material never prints its secret`() {
        val material = ImportMaterial.mnemonic(ABANDON_MNEMONIC, "", HdScheme.BIP32_SECP256K1)
        material.use {
            assertFalse(it.toString().contains("abandon"), it.toString())
        }
    }

    @Test
    fun `errors carry the core's stable codes`() {
        val notFound = assertFailsWith<KeyholdException.KeyNotFound> {
            keyhold.sign(alias("nope"), null, null, Payload.Message(byteArrayOf(1)))
        }
        assertEquals(KEY_NOT_FOUND, notFound.code)
        assertTrue(notFound.message!!.contains("code=4"), notFound.message)

        val badMnemonic = assertFailsWith<KeyholdException.InvalidInput> {
            keyhold.importKey(
                ImportMaterial.mnemonic(ABANDON_MNEMONIC.replace("about", "abandon"), "", HdScheme.BIP32_SECP256K1),
                KeyOptions("bad"),
            )
        }
        assertEquals(INVALID_MNEMONIC, badMnemonic.code)

        keyhold.generateKey(KeySpec.Hd(HdScheme.BIP32_SECP256K1), KeyOptions("hd"))
        val badPath = assertFailsWith<KeyholdException.InvalidInput> {
            keyhold.deriveKey(alias("hd"), "m/44'/x", null)
        }
        assertEquals(INVALID_PATH, badPath.code)

        val taken = assertFailsWith<KeyholdException> {
            keyhold.generateKey(KeySpec.Single(Algorithm.ED25519), KeyOptions("hd"))
        }
        assertEquals(ALIAS_EXISTS, taken.code)

        // Nothing was created by the failed calls.
        assertEquals(listOf("hd"), keyhold.listKeys().map { it.alias })
    }

    @Test
    fun `policy options cross the boundary`() {
        keyhold.generateKey(
            KeySpec.Single(Algorithm.ED25519),
            KeyOptions("twice", KeyPolicy(maxUses = 2uL)),
        )
        val msg = Payload.Message("m".toByteArray())
        keyhold.sign(alias("twice"), null, null, msg)
        keyhold.sign(alias("twice"), null, null, msg)
        val limited = assertFailsWith<KeyholdException.NotAllowed> { keyhold.sign(alias("twice"), null, null, msg) }
        assertEquals(USAGE_LIMIT_EXCEEDED, limited.code)
        assertEquals(2uL, keyhold.getKeyInfo(alias("twice")).usageCount)

        keyhold.generateKey(
            KeySpec.Single(Algorithm.SECP256K1),
            KeyOptions("pub-only", KeyPolicy(allowedOperations = listOf(KeyOperation.GET_PUBLIC_KEY))),
        )
        val refused = assertFailsWith<KeyholdException.NotAllowed> { keyhold.sign(alias("pub-only"), null, null, msg) }
        assertEquals(OPERATION_NOT_ALLOWED, refused.code)
        assertEquals(
            listOf(KeyOperation.GET_PUBLIC_KEY),
            keyhold.getKeyInfo(alias("pub-only")).policy.allowedOperations,
        )
    }

    @Test
    fun `encrypt and decrypt app data with associated data`() {
        keyhold.generateKey(KeySpec.Single(Algorithm.AES256_GCM), KeyOptions("aes"))
        val aad = "record-7".toByteArray()
        val ct = keyhold.encrypt(alias("aes"), "secret note".toByteArray(), aad)
        assertContentEquals("secret note".toByteArray(), keyhold.decrypt(alias("aes"), ct, aad))
        val wrong = assertFailsWith<KeyholdException.DecryptionFailed> {
            keyhold.decrypt(alias("aes"), ct, "record-8".toByteArray())
        }
        assertEquals(DECRYPTION_FAILED, wrong.code)
    }

    @Test
    fun `agreement is symmetric between two keys`() {
        val a = keyhold.generateKey(KeySpec.Single(Algorithm.X25519), KeyOptions("a"))
        val b = keyhold.generateKey(KeySpec.Single(Algorithm.X25519), KeyOptions("b"))
        val kdf = KdfParams(info = "keyhold-test".toByteArray(), length = 32u)
        val ab = assertIs<Agreement.Secret>(keyhold.agree(alias("a"), b.publicKey, kdf, null))
        val ba = assertIs<Agreement.Secret>(keyhold.agree(alias("b"), a.publicKey, kdf, null))
        assertEquals(32, ab.secret.size)
        assertContentEquals(ab.secret, ba.secret)
        val stored = assertIs<Agreement.Stored>(keyhold.agree(alias("a"), b.publicKey, kdf, KeyOptions("session")))
        assertEquals(Algorithm.AES256_GCM, stored.info.algorithm)
    }

    @Test
    fun `N signs cost one unseal, after lock and after reopening`() {
        keyhold.generateKey(KeySpec.Single(Algorithm.SECP256K1), KeyOptions("hot"))
        val msg = Payload.Message("tx".toByteArray())

        // Created keys stay cached: no unseal at all.
        val before = sealer.unseals.get()
        repeat(20) { keyhold.sign(alias("hot"), null, null, msg) }
        assertEquals(before, sealer.unseals.get())

        // After lock(), the first sign unseals once and the rest hit the cache.
        keyhold.lock()
        repeat(50) { keyhold.sign(alias("hot"), null, null, msg) }
        assertEquals(before + 1, sealer.unseals.get())

        // A new instance over the same directory and hardware key: one
        // unseal for the store key, one for the key, whatever N is.
        keyhold.close()
        val reopened = CountingSoftwareSealer(sealer.key)
        keyhold = open(reopened)
        val afterOpen = reopened.unseals.get()
        repeat(50) { keyhold.sign(alias("hot"), null, null, msg) }
        assertEquals(afterOpen + 1, reopened.unseals.get())
        assertEquals(1, afterOpen)
    }

    @Test
    fun `a store whose wrapping key is gone does not open and no key is created for it`() {
        keyhold.generateKey(KeySpec.Single(Algorithm.ED25519), KeyOptions("k"))
        keyhold.close()
        val asked = mutableListOf<Pair<Boolean, String?>>()
        val gone = object : dev.keyhold.uniffi.Sealer by CountingSoftwareSealer(sealer.key) {
            override fun openKey(mayCreate: Boolean, expectedLabel: String?): WrappingKeyInfo {
                asked += mayCreate to expectedLabel
                throw SealerException.KeyNotFound("no key under kotlin-key")
            }
        }
        val e = assertFailsWith<KeyholdException.KeyInvalidated> { open(gone) }
        assertEquals(SEALER_KEY_INVALIDATED, e.code)
        assertTrue(asked.isNotEmpty() && asked.all { (mayCreate, label) -> !mayCreate && label == "kotlin-key" }, "$asked")
        keyhold = open(CountingSoftwareSealer(sealer.key))
    }

    @Test
    fun `a throwing sealer surfaces as the matching code`() {
        keyhold.generateKey(KeySpec.Single(Algorithm.P256), KeyOptions("k"))
        val msg = Payload.Message("m".toByteArray())
        val cases = listOf(
            Triple(SealerException.Unavailable("enclave busy"), SEALER_UNAVAILABLE, KeyholdException.Unavailable::class),
            Triple(SealerException.KeyInvalidated("key deleted"), SEALER_KEY_INVALIDATED, KeyholdException.KeyInvalidated::class),
            Triple(SealerException.AuthenticationFailed("tampered"), CORRUPT_KEY_RECORD, KeyholdException.CorruptKeyRecord::class),
            // Not a SealerException: a bug in the sealer fails closed, as retryable.
            Triple(IllegalStateException("sealer bug"), SEALER_UNAVAILABLE, KeyholdException.Unavailable::class),
        )
        for ((thrown, code, variant) in cases) {
            keyhold.lock()
            sealer.failWith = thrown
            val e = assertFailsWith<KeyholdException> { keyhold.sign(alias("k"), null, null, msg) }
            assertEquals(code, e.code, "for ${thrown::class.simpleName}: $e")
            assertTrue(variant.isInstance(e), "for ${thrown::class.simpleName}: $e")
        }
        sealer.failWith = null
        keyhold.sign(alias("k"), null, null, msg)
    }

    @Test
    fun `a sealer that fails or cheats at open is refused with its code`() {
        val broken = CountingSoftwareSealer().apply { failWith = SealerException.KeyInvalidated("no enclave") }
        val e = assertFailsWith<KeyholdException.KeyInvalidated> {
            KeyholdEmbedded(dir.resolve("other").toString(), "dev.keyhold.jvmtest", broken)
        }
        assertEquals(SEALER_KEY_INVALIDATED, e.code)

        val cheat = assertFailsWith<KeyholdException> {
            KeyholdEmbedded(dir.resolve("cheat").toString(), "dev.keyhold.jvmtest", CleartextSealer())
        }
        assertEquals(SELF_TEST_FAILED, cheat.code)
    }

    @Test
    fun `the sealer receives the core's associated data, the same at seal and unseal`() {
        // The AAD binds each sealed secret to its key and owner (the core
        // tests its contents); here: it crosses the callback intact and
        // names this app's namespace.
        val seen = mutableListOf<ByteArray>()
        val spy = object : dev.keyhold.uniffi.Sealer {
            val inner = CountingSoftwareSealer()
            override fun name() = "spy"
            override fun openKey(mayCreate: Boolean, expectedLabel: String?) = inner.openKey(mayCreate, expectedLabel)
            override fun seal(secret: ByteArray, aad: ByteArray): ByteArray {
                seen += aad
                return inner.seal(secret, aad)
            }
            override fun unseal(sealed: ByteArray, aad: ByteArray): ByteArray {
                seen += aad
                return inner.unseal(sealed, aad)
            }
        }
        KeyholdEmbedded(dir.resolve("spy").toString(), "dev.keyhold.jvmtest", spy).use { k ->
            k.generateKey(KeySpec.Single(Algorithm.ED25519), KeyOptions("e"))
            k.lock()
            k.sign(alias("e"), null, null, Payload.Message(byteArrayOf(1)))
        }
        // store key seal+unseal (binding a new store), key seal, key unseal
        assertEquals(4, seen.size)
        assertTrue(seen[2].isNotEmpty())
        assertContentEquals(seen[2], seen[3])
        assertTrue(String(seen[2], Charsets.ISO_8859_1).contains("app:dev.keyhold.jvmtest"))
    }

    @Test
    fun `list, info, delete and the audit chain`() {
        keyhold.generateKey(KeySpec.Single(Algorithm.HMAC_SHA256), KeyOptions("b-mac"))
        keyhold.generateKey(KeySpec.Hd(HdScheme.SLIP10_ED25519), KeyOptions("a-hd"))
        assertEquals(listOf("a-hd", "b-mac"), keyhold.listKeys().map { it.alias })
        val info = keyhold.getKeyInfo(alias("a-hd"))
        assertEquals(HdScheme.SLIP10_ED25519, info.hdScheme)
        assertEquals(Algorithm.ED25519, info.algorithm)

        keyhold.deleteKey(alias("b-mac"))
        assertEquals(listOf("a-hd"), keyhold.listKeys().map { it.alias })
        assertFailsWith<KeyholdException.KeyNotFound> { keyhold.getKeyInfo(alias("b-mac")) }

        val verdict = keyhold.auditVerify()
        assertTrue(verdict.entries >= 5uL, "$verdict")
        assertNull(verdict.firstBrokenSeq)
    }

    @Test
    fun `the exported software sealers work from Kotlin`() {
        val keyFile = dir.resolve("sealer.key").toString()
        val store = dir.resolve("software-store").toString()
        KeyholdEmbedded(store, "dev.keyhold.jvmtest", insecureSoftwareSealerKeyFile(keyFile)).use { k ->
            val info = k.generateKey(KeySpec.Single(Algorithm.ED25519), KeyOptions("s"))
            assertEquals("software-file", info.sealer)
        }
        KeyholdEmbedded(store, "dev.keyhold.jvmtest", insecureSoftwareSealerKeyFile(keyFile)).use { k ->
            val message = Payload.Message(byteArrayOf(1, 2))
            val signature = k.sign(alias("s"), null, null, message)
            assertTrue(k.verify(alias("s"), null, null, message, signature))
        }
        val e = assertFailsWith<KeyholdException.KeyInvalidated> {
            KeyholdEmbedded(store, "dev.keyhold.jvmtest", insecureSoftwareSealerEphemeral())
        }
        assertEquals(SEALER_KEY_INVALIDATED, e.code)
    }
}

fun ByteArray.toHex(): String = joinToString("") { "%02x".format(it) }

