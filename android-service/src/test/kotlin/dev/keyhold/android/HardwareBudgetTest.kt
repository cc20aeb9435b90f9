package dev.keyhold.android

import android.content.Intent
import dev.keyhold.aidl.IKeyholdService
import dev.keyhold.android.testing.KeyholdHarness
import dev.keyhold.android.testing.KeyholdHarness.Companion.byAlias
import dev.keyhold.android.testing.KeyholdHarness.Companion.digest
import dev.keyhold.android.testing.KeyholdHarness.Companion.expectCode
import dev.keyhold.android.testing.StrictAndroidKeyStore
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.Shadows.shadowOf

/**
 * StrongBox is slow: N signs with one key must cost one Keystore unseal
 * (the core caches unsealed keys). Measured by counting the keystore
 * double's Cipher operations.
 */
@RunWith(RobolectricTestRunner::class)
class HardwareBudgetTest {
    private lateinit var h: KeyholdHarness
    private val d = digest(ByteArray(32) { 7 })

    @Before
    fun setUp() {
        h = KeyholdHarness()
    }

    @After
    fun tearDown() = h.close()

    private fun signTimes(n: Int) = repeat(n) { h.proxy.sign(byAlias("k"), 0, d, null) }

    @Test
    fun nSignsCostOneUnsealPerSession() {
        h.proxy.generateKey("k", IKeyholdService.ALGORITHM_SECP256K1, 0, null)
        h.restartService()
        h.proxy.listKeys() // opens the engine: the sealer self-test seals and unseals once
        h.keystore.resetCounters()

        signTimes(25)
        assertEquals("one Keystore decryption for 25 signs", 1, h.keystore.decryptInits.get())
        assertEquals(0, h.keystore.encryptInits.get())
        assertEquals(1, h.keystore.cipherOperations)
    }

    @Test
    fun screenOffForgetsUnsealedKeys() {
        h.proxy.generateKey("k", IKeyholdService.ALGORITHM_SECP256K1, 0, null)
        h.keystore.resetCounters()
        signTimes(5)
        assertEquals("a fresh key is already in memory", 0, h.keystore.decryptInits.get())

        h.app.sendBroadcast(Intent(Intent.ACTION_SCREEN_OFF))
        shadowOf(android.os.Looper.getMainLooper()).idle()
        signTimes(5)
        assertEquals(1, h.keystore.decryptInits.get())

        h.service.lock()
        signTimes(5)
        assertEquals(2, h.keystore.decryptInits.get())
    }

    @Test
    fun aKeystoreFailingAtOpenIsATypedErrorAndTheEngineRetries() {
        h.proxy.generateKey("k", IKeyholdService.ALGORITHM_SECP256K1, 0, null)
        h.restartService()
        // More lookup failures (with a keystore cause) than the core's retries: unavailable, not invalidated.
        h.keystore.failNext(StrictAndroidKeyStore.Call.GET_KEY, StrictAndroidKeyStore.Fault.HARDWARE_BUSY, times = 4)
        expectCode(IKeyholdService.ERROR_SEALER_UNAVAILABLE) { h.proxy.listKeys() }
        assertEquals(1, h.proxy.listKeys().size)
    }

    @Test
    fun aKeystoreThatReturnsCleartextIsRefusedAtOpen() {
        h.restartService()
        h.keystore.returnsCleartext = true
        expectCode(IKeyholdService.ERROR_SELF_TEST_FAILED) { h.proxy.listKeys() }
    }
}
