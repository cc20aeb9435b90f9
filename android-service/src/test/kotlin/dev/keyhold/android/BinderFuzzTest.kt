package dev.keyhold.android

import android.os.ServiceSpecificException
import dev.keyhold.aidl.CallerRule
import dev.keyhold.aidl.IKeyholdService
import dev.keyhold.aidl.ImportMaterial
import dev.keyhold.aidl.KeyPolicy
import dev.keyhold.aidl.KeyRef
import dev.keyhold.aidl.Payload
import dev.keyhold.android.testing.KeyholdHarness
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.fail
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import kotlin.random.Random

/**
 * A3, argument level: random values of the right types on every AIDL
 * method (through the Proxy and real Parcels) are answered with a result or
 * a ServiceSpecificException carrying a core code, never another exception,
 * and the service keeps working. Byte-level parcel fuzzing needs the real
 * libbinder (Robolectric's Parcel refuses reinterpreted bytes): see README.
 */
@RunWith(RobolectricTestRunner::class)
class BinderFuzzTest {
    private lateinit var h: KeyholdHarness
    private val random = Random(0x6b6579)

    @Before
    fun setUp() {
        h = KeyholdHarness()
    }

    @After
    fun tearDown() = h.close()

    private fun int() = if (random.nextInt(4) == 0) random.nextInt() else random.nextInt(-2, 20)
    private fun bytes(): ByteArray? = if (random.nextInt(8) == 0) null else random.nextBytes(random.nextInt(0, 70))
    private fun string(): String? = when (random.nextInt(6)) {
        0 -> null
        1 -> ""
        2 -> "k"
        3 -> "m/44'/60'/${random.nextInt()}'/0/${random.nextInt(0, 5)}"
        4 -> "m/" + (1..random.nextInt(1, 300)).joinToString("/") { "0" }
        else -> String(CharArray(random.nextInt(0, 40)) { (random.nextInt(1, 0x3000)).toChar() })
    }

    private fun keyRef(): KeyRef? = if (random.nextInt(6) == 0) null else KeyRef().apply { by = int(); value = string() }
    private fun payload(): Payload? = if (random.nextInt(6) == 0) null else Payload().apply { kind = int(); data = bytes() }
    private fun material() = if (random.nextInt(6) == 0) null else ImportMaterial().apply { kind = int(); data = bytes(); passphrase = bytes() }
    private fun policy(): KeyPolicy? = if (random.nextInt(3) == 0) null else KeyPolicy().apply {
        allowedCallers = Array(random.nextInt(0, 3)) { CallerRule().apply { hasUid = random.nextBoolean(); uid = int(); appId = string(); codeSha256 = bytes() } }
        allowedOperations = IntArray(random.nextInt(0, 4)) { int() }
        allowedPathPrefixes = Array(random.nextInt(0, 3)) { string() }
        maxUses = random.nextLong()
        bindToCallerCode = random.nextBoolean()
    }

    private fun randomCall(s: IKeyholdService) {
        when (random.nextInt(13)) {
            0 -> s.generateKey(string(), int(), int(), policy())
            1 -> s.importKey(string(), int(), int(), material(), policy())
            2 -> s.getPublicKey(keyRef(), int(), string())
            3 -> s.sign(keyRef(), int(), payload(), string())
            4 -> s.verify(keyRef(), int(), payload(), bytes(), string())
            5 -> s.deriveKey(keyRef(), string(), string(), policy())
            6 -> s.encrypt(keyRef(), bytes(), bytes())
            7 -> s.decrypt(keyRef(), bytes(), bytes())
            8 -> s.deleteKey(keyRef())
            9 -> s.listKeys()
            10 -> s.getKeyInfo(keyRef())
            11 -> s.protocolVersion()
            else -> s.agree(keyRef(), bytes(), bytes(), bytes(), int(), string(), policy())
        }
    }

    @Test
    fun randomArgumentsAreAnsweredWithCoreCodes() {
        h.proxy.generateKey("anchor", IKeyholdService.ALGORITHM_SECP256K1, 0, null)
        var refused = 0
        repeat(600) {
            try {
                randomCall(h.proxy)
            } catch (e: ServiceSpecificException) {
                refused++
                if (e.errorCode !in 1..23) fail("unknown code ${e.errorCode}: ${e.message}")
            }
        }
        assert(refused > 300) { "most random calls should be refused, got $refused" }
        assertEquals("anchor", h.proxy.getKeyInfo(KeyholdHarness.byAlias("anchor")).alias)
    }
}
