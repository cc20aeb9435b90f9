package dev.keyhold.android

import android.content.pm.PackageManager
import dev.keyhold.aidl.IKeyholdService
import dev.keyhold.aidl.ImportMaterial
import dev.keyhold.aidl.KeyPolicy
import dev.keyhold.android.testing.KeyholdHarness
import dev.keyhold.android.testing.KeyholdHarness.Companion.byAlias
import dev.keyhold.android.testing.KeyholdHarness.Companion.byId
import dev.keyhold.android.testing.KeyholdHarness.Companion.digest
import dev.keyhold.android.testing.KeyholdHarness.Companion.expectCode
import dev.keyhold.android.testing.KeyholdHarness.Companion.message
import dev.keyhold.aidl.KeyRef
import org.junit.After
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.Shadows.shadowOf

/**
 * Every AIDL method, called through the generated Proxy with real Parcel
 * marshalling, into the Rust core through JNI, sealed by the Keystore
 * sealer over the strict keystore double of the running SDK level.
 */
@RunWith(RobolectricTestRunner::class)
class KeyholdServiceTest {
    private lateinit var h: KeyholdHarness
    private val keyhold: IKeyholdService get() = h.proxy

    @Before
    fun setUp() {
        h = KeyholdHarness()
    }

    @After
    fun tearDown() = h.close()

    private fun material(kind: Int, data: ByteArray, passphrase: ByteArray? = null) = ImportMaterial().apply {
        this.kind = kind
        this.data = data
        this.passphrase = passphrase
    }

    @Test
    fun generateKeyReturnsPublicMetadataOnly() {
        // A device that declares StrongBox: the wrapping key is made there, and each key records it.
        shadowOf(h.app.packageManager).setSystemFeature(PackageManager.FEATURE_STRONGBOX_KEYSTORE, true)
        val info = keyhold.generateKey("k1", IKeyholdService.ALGORITHM_SECP256K1, IKeyholdService.HD_SCHEME_NONE, null)
        assertEquals("k1", info.alias)
        assertEquals(IKeyholdService.ALGORITHM_SECP256K1, info.algorithm)
        assertEquals(IKeyholdService.KEY_ORIGIN_GENERATED, info.origin)
        assertEquals(33, info.publicKey.size)
        assertTrue(info.id.isNotEmpty())
        assertEquals(KeystoreSealer.NAME_STRONGBOX, info.sealer)
        assertTrue(info.createdAtMs > 0)

        val hd = keyhold.generateKey("root", IKeyholdService.ALGORITHM_UNSPECIFIED, IKeyholdService.HD_SCHEME_BIP32_SECP256K1, null)
        assertEquals(IKeyholdService.HD_SCHEME_BIP32_SECP256K1, hd.hdScheme)
        expectCode(IKeyholdService.ERROR_ALIAS_EXISTS) {
            keyhold.generateKey("k1", IKeyholdService.ALGORITHM_P256, IKeyholdService.HD_SCHEME_NONE, null)
        }
        expectCode(IKeyholdService.ERROR_INVALID_ARGUMENT) { keyhold.generateKey("x", 99, 0, null) }
        expectCode(IKeyholdService.ERROR_MALFORMED_REQUEST) { keyhold.generateKey("x", 0, 0, null) }
    }

    @Test
    fun importKeyRawAndGetPublicKey() {
        val one = ByteArray(32).also { it[31] = 1 }
        val info = keyhold.importKey("one", IKeyholdService.ALGORITHM_SECP256K1, 0, material(IKeyholdService.MATERIAL_RAW_PRIVATE_KEY, one), null)
        assertEquals(IKeyholdService.KEY_ORIGIN_IMPORTED, info.origin)
        assertEquals(G_COMPRESSED, info.publicKey.toHex())
        assertEquals(G_COMPRESSED, keyhold.getPublicKey(byAlias("one"), IKeyholdService.PUBLIC_KEY_FORMAT_DEFAULT, null).bytes.toHex())
        assertEquals(65, keyhold.getPublicKey(byId(info.id), IKeyholdService.PUBLIC_KEY_FORMAT_SEC1_UNCOMPRESSED, null).bytes.size)
        assertEquals(ADDRESS_OF_ONE, keyhold.getPublicKey(byAlias("one"), IKeyholdService.PUBLIC_KEY_FORMAT_ETH_ADDRESS, null).text)
        expectCode(IKeyholdService.ERROR_INVALID_KEY_MATERIAL) {
            keyhold.importKey("zero", IKeyholdService.ALGORITHM_SECP256K1, 0, material(IKeyholdService.MATERIAL_RAW_PRIVATE_KEY, ByteArray(32)), null)
        }
    }

    @Test
    fun importMnemonicGivesTheKnownEthereumAddress() {
        val phrase = ABANDON_ABOUT.toByteArray()
        keyhold.importKey("wallet", 0, IKeyholdService.HD_SCHEME_BIP32_SECP256K1, material(IKeyholdService.MATERIAL_MNEMONIC, phrase, ByteArray(0)), null)
        val address = keyhold.getPublicKey(byAlias("wallet"), IKeyholdService.PUBLIC_KEY_FORMAT_ETH_ADDRESS, "m/44'/60'/0'/0/0")
        assertEquals(ABANDON_ABOUT_ETH, address.text)
        expectCode(IKeyholdService.ERROR_INVALID_MNEMONIC) {
            keyhold.importKey("bad", 0, IKeyholdService.HD_SCHEME_BIP32_SECP256K1, material(IKeyholdService.MATERIAL_MNEMONIC, "abandon zzz".toByteArray()), null)
        }
        expectCode(IKeyholdService.ERROR_INVALID_PATH) {
            keyhold.getPublicKey(byAlias("wallet"), IKeyholdService.PUBLIC_KEY_FORMAT_ETH_ADDRESS, "m/not/a/path")
        }
    }

    @Test
    fun signAndVerify() {
        keyhold.generateKey("k", IKeyholdService.ALGORITHM_SECP256K1, 0, null)
        val msg = message("pay 1 ETH".toByteArray())
        val sig = keyhold.sign(byAlias("k"), IKeyholdService.SIGNATURE_SCHEME_DEFAULT, msg, null)
        assertTrue(keyhold.verify(byAlias("k"), IKeyholdService.SIGNATURE_SCHEME_DEFAULT, msg, sig, null))
        assertFalse(keyhold.verify(byAlias("k"), IKeyholdService.SIGNATURE_SCHEME_DEFAULT, message("pay 2 ETH".toByteArray()), sig, null))

        val d = digest(ByteArray(32) { 0x42 })
        val compact = keyhold.sign(byAlias("k"), IKeyholdService.SIGNATURE_SCHEME_ECDSA_RECOVERABLE, d, null)
        assertEquals(65, compact.size)
        assertTrue(keyhold.verify(byAlias("k"), IKeyholdService.SIGNATURE_SCHEME_ECDSA_RECOVERABLE, d, compact, null))
        expectCode(IKeyholdService.ERROR_INVALID_ARGUMENT) {
            keyhold.sign(byAlias("k"), IKeyholdService.SIGNATURE_SCHEME_DEFAULT, digest(ByteArray(31)), null)
        }
        expectCode(IKeyholdService.ERROR_KEY_NOT_FOUND) { keyhold.sign(byAlias("nope"), 0, msg, null) }
    }

    @Test
    fun deriveKeyAndSignWithTheChild() {
        keyhold.importKey("wallet", 0, IKeyholdService.HD_SCHEME_BIP32_SECP256K1, material(IKeyholdService.MATERIAL_MNEMONIC, ABANDON_ABOUT.toByteArray()), null)
        val path = "m/44'/60'/0'/0/0"
        val derived = keyhold.deriveKey(byAlias("wallet"), path, null, null)
        assertNull(derived.stored)
        assertEquals(keyhold.getPublicKey(byAlias("wallet"), 0, path).bytes.toHex(), derived.publicKey.toHex())
        assertNotNull(derived.xpub)

        val stored = keyhold.deriveKey(byAlias("wallet"), path, "account0", null)
        assertEquals(IKeyholdService.KEY_ORIGIN_DERIVED, stored.stored!!.origin)
        assertEquals(ABANDON_ABOUT_ETH, keyhold.getPublicKey(byAlias("account0"), IKeyholdService.PUBLIC_KEY_FORMAT_ETH_ADDRESS, null).text)
        val msg = message("hello".toByteArray())
        val sig = keyhold.sign(byAlias("wallet"), 0, msg, path)
        assertTrue(keyhold.verify(byAlias("account0"), 0, msg, sig, null))
    }

    @Test
    fun encryptAndDecrypt() {
        keyhold.generateKey("aes", IKeyholdService.ALGORITHM_AES256_GCM, 0, null)
        val aad = "header".toByteArray()
        val ct = keyhold.encrypt(byAlias("aes"), "secret note".toByteArray(), aad)
        assertEquals(12 + 11 + 16, ct.size)
        assertEquals("secret note", String(keyhold.decrypt(byAlias("aes"), ct, aad)))
        ct[20] = (ct[20].toInt() xor 1).toByte()
        expectCode(IKeyholdService.ERROR_DECRYPTION_FAILED) { keyhold.decrypt(byAlias("aes"), ct, aad) }
        expectCode(IKeyholdService.ERROR_INCOMPATIBLE_KEY) {
            keyhold.generateKey("ec", IKeyholdService.ALGORITHM_P256, 0, null)
            keyhold.encrypt(byAlias("ec"), ByteArray(1), null)
        }
    }

    @Test
    fun agreeBothWaysAndStore() {
        val a = keyhold.generateKey("a", IKeyholdService.ALGORITHM_X25519, 0, null)
        val b = keyhold.generateKey("b", IKeyholdService.ALGORITHM_X25519, 0, null)
        val info = "session".toByteArray()
        val ab = keyhold.agree(byAlias("a"), b.publicKey, null, info, 32, null, null)
        val ba = keyhold.agree(byAlias("b"), a.publicKey, null, info, 32, null, null)
        assertEquals(32, ab.derivedSecret!!.size)
        assertArrayEquals(ab.derivedSecret, ba.derivedSecret)
        assertNull(ab.stored)

        val stored = keyhold.agree(byAlias("a"), b.publicKey, null, info, 0, "shared", null)
        assertNull(stored.derivedSecret)
        assertEquals(IKeyholdService.ALGORITHM_AES256_GCM, stored.stored!!.algorithm)
        val ct = keyhold.encrypt(byAlias("shared"), "x".toByteArray(), null)
        assertEquals("x", String(keyhold.decrypt(byAlias("shared"), ct, null)))
    }

    @Test
    fun listGetInfoAndDelete() {
        val k = keyhold.generateKey("k", IKeyholdService.ALGORITHM_ED25519, 0, null)
        keyhold.generateKey("m", IKeyholdService.ALGORITHM_P256, 0, null)
        assertEquals(setOf("k", "m"), keyhold.listKeys().map { it.alias }.toSet())
        keyhold.sign(byAlias("k"), 0, message("m".toByteArray()), null)
        val info = keyhold.getKeyInfo(byId(k.id))
        assertEquals("k", info.alias)
        assertEquals(32, info.publicKey.size)
        assertTrue(info.usageCount >= 1)

        keyhold.deleteKey(byAlias("k"))
        expectCode(IKeyholdService.ERROR_KEY_NOT_FOUND) { keyhold.getKeyInfo(byId(k.id)) }
        expectCode(IKeyholdService.ERROR_KEY_NOT_FOUND) { keyhold.deleteKey(byAlias("k")) }
        assertEquals(listOf("m"), keyhold.listKeys().map { it.alias })
    }

    /** More keys than one page, through the Proxy, real Parcels and the Rust core. */
    @Test
    fun listKeysPageWalksMoreKeysThanOnePageInIdOrder() {
        val created = List(230) { keyhold.generateKey("k$it", IKeyholdService.ALGORITHM_ED25519, 0, null).id }
        val seen = mutableListOf<String>()
        val sizes = mutableListOf<Int>()
        var page = keyhold.listKeysPage(false, 0, 0)
        sizes += page.keys.size
        assertEquals("limit 0: the core's default page", 50, page.keys.size)
        seen += page.keys.map { it.id }
        while (page.hasNextAfterId) {
            assertEquals(page.keys.last().id, "%016x".format(page.nextAfterId))
            page = keyhold.listKeysPage(true, page.nextAfterId, Int.MAX_VALUE)
            assertTrue("the core caps a page at 100 keys", page.keys.size <= 100)
            // Each reply stays a small fraction of the 1 MB Binder buffer.
            val parcel = android.os.Parcel.obtain()
            try {
                page.writeToParcel(parcel, 0)
                assertTrue("reply of ${parcel.dataSize()} bytes", parcel.dataSize() <= 256 * 1024)
            } finally {
                parcel.recycle()
            }
            sizes += page.keys.size
            seen += page.keys.map { it.id }
        }
        assertEquals(listOf(50, 100, 80), sizes)
        assertEquals("every key once, ascending unsigned id", created.sorted(), seen)

        // A cursor naming a deleted key still works.
        keyhold.deleteKey(byId(seen[49]))
        val after = keyhold.listKeysPage(true, java.lang.Long.parseUnsignedLong(seen[49], 16), 10)
        assertEquals(seen.subList(50, 60), after.keys.map { it.id })
        // The old method still answers old SDKs with the whole list, by alias.
        val legacy = keyhold.listKeys().map { it.alias }
        assertEquals(229, legacy.size)
        assertEquals(legacy.sorted(), legacy)
        assertEquals(created.size - 1, legacy.toSet().size)
    }

    @Test
    fun protocolVersionIsTheCores() {
        assertEquals(1, keyhold.protocolVersion())
        assertEquals(KeyholdNative.protocolVersion(), keyhold.protocolVersion())
    }

    @Test
    fun policiesAreEnforcedAndReported() {
        val policy = KeyPolicy().apply {
            allowedOperations = intArrayOf(IKeyholdService.OPERATION_SIGN, IKeyholdService.OPERATION_GET_KEY_INFO)
            maxUses = 1
        }
        val info = keyhold.generateKey("once", IKeyholdService.ALGORITHM_SECP256K1, 0, policy)
        assertEquals(1, info.policy.maxUses)
        assertEquals(setOf(IKeyholdService.OPERATION_SIGN, IKeyholdService.OPERATION_GET_KEY_INFO), info.policy.allowedOperations.toSet())
        val msg = message("m".toByteArray())
        val sig = keyhold.sign(byAlias("once"), 0, msg, null)
        expectCode(IKeyholdService.ERROR_USAGE_LIMIT_EXCEEDED) { keyhold.sign(byAlias("once"), 0, msg, null) }
        expectCode(IKeyholdService.ERROR_OPERATION_NOT_ALLOWED) { keyhold.verify(byAlias("once"), 0, msg, sig, null) }
    }

    @Test
    fun malformedReferencesAreRefusedByTheCore() {
        expectCode(IKeyholdService.ERROR_MALFORMED_REQUEST) { keyhold.getKeyInfo(null) }
        expectCode(IKeyholdService.ERROR_MALFORMED_REQUEST) { keyhold.getKeyInfo(KeyRef().apply { by = 7; value = "x" }) }
        expectCode(IKeyholdService.ERROR_MALFORMED_REQUEST) {
            keyhold.sign(byAlias("x"), 0, dev.keyhold.aidl.Payload().apply { kind = 99; data = ByteArray(1) }, null)
        }
        expectCode(IKeyholdService.ERROR_MALFORMED_REQUEST) {
            keyhold.importKey("x", 0, 0, material(42, ByteArray(1)), null)
        }
    }

    /** K1: nothing the service sends back contains private material. */
    @Test
    fun noPrivateMaterialInAnyReply() {
        h.binder.recordReplies = true
        val secret = ByteArray(32) { (0x11 + it).toByte() }
        keyhold.importKey("raw", IKeyholdService.ALGORITHM_SECP256K1, 0, material(IKeyholdService.MATERIAL_RAW_PRIVATE_KEY, secret.copyOf()), null)
        keyhold.importKey("hd", 0, IKeyholdService.HD_SCHEME_BIP32_SECP256K1, material(IKeyholdService.MATERIAL_MNEMONIC, ABANDON_ABOUT.toByteArray()), null)
        for (ref in listOf(byAlias("raw"), byAlias("hd"))) {
            for (format in 0..IKeyholdService.PUBLIC_KEY_FORMAT_ETH_ADDRESS) {
                runCatching { keyhold.getPublicKey(ref, format, null) }
            }
            keyhold.sign(ref, 0, message("m".toByteArray()), null)
            keyhold.getKeyInfo(ref)
        }
        keyhold.listKeys()
        keyhold.deriveKey(byAlias("hd"), "m/0", "child", null)
        val needles = listOf(secret, "abandon".toByteArray(), "xprv".toByteArray(), "about".toByteArray())
        assertTrue(h.binder.replies.isNotEmpty())
        for (reply in h.binder.replies) {
            for (needle in needles) {
                assertFalse("a reply contains ${String(needle, Charsets.ISO_8859_1)}", reply.contains(needle))
            }
        }
    }

    companion object {
        const val ABANDON_ABOUT = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"

        /** m/44'/60'/0'/0/0 of ABANDON_ABOUT (no passphrase), EIP-55. */
        const val ABANDON_ABOUT_ETH = "0x9858EfFD232B4033E47d90003D41EC34EcaEda94"

        /** Ethereum address of the secp256k1 private key 1. */
        const val ADDRESS_OF_ONE = "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"

        /** The generator G, SEC1 compressed (public key of private key 1). */
        const val G_COMPRESSED = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"

        fun ByteArray.toHex() = joinToString("") { "%02x".format(it) }

        fun ByteArray.contains(needle: ByteArray): Boolean =
            (0..size - needle.size).any { i -> needle.indices.all { this[i + it] == needle[it] } }
    }
}
