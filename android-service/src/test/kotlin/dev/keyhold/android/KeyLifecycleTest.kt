package dev.keyhold.android

import android.content.pm.PackageManager
import android.os.Build
import dev.keyhold.aidl.IKeyholdService
import dev.keyhold.android.testing.KeyholdHarness
import dev.keyhold.android.testing.KeyholdHarness.Companion.byAlias
import dev.keyhold.android.testing.KeyholdHarness.Companion.digest
import dev.keyhold.android.testing.KeyholdHarness.Companion.expectCode
import dev.keyhold.android.testing.StrictAndroidKeyStore.Call
import dev.keyhold.android.testing.StrictAndroidKeyStore.Fault
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.Shadows.shadowOf

/**
 * The wrapping key's lifecycle end to end: Binder -> service -> Rust core
 * (`engine/attach.rs` decides) -> JNI -> [KeystoreSealer] -> the strict
 * keystore double of the running SDK. A store with records never gets a new
 * wrapping key; failures surface with the code an app can act on.
 */
@RunWith(RobolectricTestRunner::class)
class KeyLifecycleTest {
    private lateinit var h: KeyholdHarness
    private val d = digest(ByteArray(32) { 9 })
    private val alias = KeystoreSealer.DEFAULT_ALIAS

    @Before
    fun setUp() {
        h = KeyholdHarness()
    }

    @After
    fun tearDown() = h.close()

    /** A store with one sealed key, and the service restarted so the next call opens it again. */
    private fun storeWithAKey() {
        h.proxy.generateKey("k", IKeyholdService.ALGORITHM_SECP256K1, 0, null)
        h.restartService()
        h.keystore.resetCounters()
    }

    private fun sign() = h.proxy.sign(byAlias("k"), 0, d, null)

    @Test
    fun aKeystoreThatLooksEmptyForAMomentNeverCostsTheKeys() {
        storeWithAKey()
        // Two lookups fail as a restarting daemon makes them fail: null on keystore1, a system error on keystore2.
        h.keystore.failNext(Call.GET_KEY, Fault.SYSTEM_ERROR, times = 2)
        sign() // the core retries with backoff and finds the key
        assertEquals("no key generated", 0, h.keystore.keyGenerations.get())
        assertEquals("no key deleted", 0, h.keystore.keysDestroyed.get())
        assertTrue(h.keystore.lookups.get() >= 3)
    }

    @Test
    fun aKeyThatStaysMissingIsSealerKeyInvalidatedAndNothingIsCreated() {
        storeWithAKey()
        h.keystore.wipe()
        val e = expectCode(IKeyholdService.ERROR_SEALER_KEY_INVALIDATED) { sign() }
        assertTrue(e.message, e.message!!.contains(alias))
        assertEquals("never regenerated over sealed records", 0, h.keystore.keyGenerations.get())
        expectCode(IKeyholdService.ERROR_SEALER_KEY_INVALIDATED) { h.proxy.listKeys() }
        assertEquals(0, h.keystore.keyGenerations.get())
    }

    @Test
    fun aTransientKeystoreFailureIsSealerUnavailableAndTheNextCallWorks() {
        storeWithAKey()
        // More failures than the core's retries: the call fails with SEALER_UNAVAILABLE (not invalidated)...
        h.keystore.failNext(Call.GET_KEY, Fault.HARDWARE_BUSY, times = 4)
        expectCode(IKeyholdService.ERROR_SEALER_UNAVAILABLE) { sign() }
        // ...and the store is intact: the next call opens it.
        sign()
        assertEquals(0, h.keystore.keyGenerations.get())
        assertEquals(0, h.keystore.keysDestroyed.get())
    }

    @Test
    fun aKeystore2DaemonOutageIsSealerUnavailable() {
        storeWithAKey()
        h.keystore.keystoreDaemonDown = true
        // keystore1 cannot tell an outage from a missing key (null): after the retries the core reports the
        // key as gone; keystore2 says it is a system error: unavailable. Neither creates or deletes anything.
        val expected = if (Build.VERSION.SDK_INT >= 31) {
            IKeyholdService.ERROR_SEALER_UNAVAILABLE
        } else {
            IKeyholdService.ERROR_SEALER_KEY_INVALIDATED
        }
        expectCode(expected) { sign() }
        h.keystore.keystoreDaemonDown = false
        sign()
        assertEquals(0, h.keystore.keyGenerations.get())
        assertEquals(0, h.keystore.keysDestroyed.get())
    }

    @Test
    fun aPermanentlyInvalidatedKeyIsSealerKeyInvalidated() {
        storeWithAKey()
        h.keystore.invalidate(alias)
        expectCode(IKeyholdService.ERROR_SEALER_KEY_INVALIDATED) { sign() }
        assertEquals(0, h.keystore.keyGenerations.get())
    }

    @Test
    fun aTransientUnsealFailureIsRetriedOnce() {
        h.proxy.generateKey("k", IKeyholdService.ALGORITHM_SECP256K1, 0, null)
        h.service.lock()
        h.keystore.failNext(Call.DO_FINAL, Fault.HARDWARE_BUSY)
        sign()
        h.service.lock()
        h.keystore.failNext(Call.DO_FINAL, Fault.HARDWARE_BUSY, times = 2)
        expectCode(IKeyholdService.ERROR_SEALER_UNAVAILABLE) { sign() }
        sign()
    }

    @Test
    fun theLevelRecordedWithEachKeyIsTheOneObtained() {
        shadowOf(h.app.packageManager).setSystemFeature(PackageManager.FEATURE_STRONGBOX_KEYSTORE, true)
        h.keystore.strongBoxBroken = true
        h.proxy.generateKey("k", IKeyholdService.ALGORITHM_SECP256K1, 0, null)
        assertEquals(KeystoreSealer.NAME_TEE, h.proxy.getKeyInfo(byAlias("k")).sealer)
        // Reopened on any level (28-30 cannot read the level from KeyInfo): the store's record decides.
        h.restartService()
        h.proxy.generateKey("k2", IKeyholdService.ALGORITHM_SECP256K1, 0, null)
        assertEquals(KeystoreSealer.NAME_TEE, h.proxy.getKeyInfo(byAlias("k2")).sealer)
    }

    @Test
    fun withoutTheStrongBoxFeatureNoStrongBoxKeyIsAttempted() {
        h.proxy.generateKey("k", IKeyholdService.ALGORITHM_SECP256K1, 0, null)
        assertEquals(0, h.keystore.strongBoxRequests.get())
        assertEquals(KeystoreSealer.NAME_TEE, h.proxy.getKeyInfo(byAlias("k")).sealer)
    }
}
