package dev.keyhold.android

import android.os.Process
import dev.keyhold.aidl.IKeyholdService
import dev.keyhold.android.testing.KeyholdHarness
import dev.keyhold.android.testing.KeyholdHarness.Companion.CERT_A
import dev.keyhold.android.testing.KeyholdHarness.Companion.CERT_B
import dev.keyhold.android.testing.KeyholdHarness.Companion.CERT_C
import dev.keyhold.android.testing.KeyholdHarness.Companion.OTHER_UID
import dev.keyhold.android.testing.KeyholdHarness.Companion.WALLET
import dev.keyhold.android.testing.KeyholdHarness.Companion.WALLET_UID
import dev.keyhold.android.testing.KeyholdHarness.Companion.byAlias
import dev.keyhold.android.testing.KeyholdHarness.Companion.byId
import dev.keyhold.android.testing.KeyholdHarness.Companion.expectCode
import dev.keyhold.android.testing.KeyholdHarness.Companion.message
import dev.keyhold.android.testing.KeyholdHarness.Companion.sha256
import org.junit.After
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.Shadows.shadowOf

/**
 * Who may call, decided per call from Binder.getCallingUid(): the service
 * gathers (uid, packages, certificates); the core refuses unknown and
 * shared uids and binds keys to (package, certificate).
 */
@RunWith(RobolectricTestRunner::class)
class CallerVerificationTest {
    private lateinit var h: KeyholdHarness
    private val msg = message("m".toByteArray())

    @Before
    fun setUp() {
        h = KeyholdHarness()
    }

    @After
    fun tearDown() = h.close()

    private fun walletKey(): String {
        h.callAs(WALLET_UID)
        return h.proxy.generateKey("key", IKeyholdService.ALGORITHM_SECP256K1, 0, null).id
    }

    @Test
    fun theOwningPackageAndCertificateMayUseItsKey() {
        val id = walletKey()
        val info = h.proxy.getKeyInfo(byId(id))
        val rule = info.policy.allowedCallers.single()
        assertEquals(WALLET, rule.appId)
        assertArrayEquals("bound to the signing certificate", sha256(CERT_A), rule.codeSha256)
        h.proxy.sign(byAlias("key"), 0, msg, null)
    }

    @Test
    fun aDifferentCertificateForTheSamePackageIsRefused() {
        walletKey()
        // The package is reinstalled by someone else's key (same name, same uid).
        h.installApp(WALLET, WALLET_UID, listOf(CERT_B))
        expectCode(IKeyholdService.ERROR_PERMISSION_DENIED) { h.proxy.sign(byAlias("key"), 0, msg, null) }
        expectCode(IKeyholdService.ERROR_PERMISSION_DENIED) { h.proxy.getKeyInfo(byAlias("key")) }
    }

    @Test
    fun aRotatedCertificateKeepsItsKeys() {
        walletKey()
        // APK signature scheme v3 rotation: now signed by C, with A in the history.
        h.installApp(WALLET, WALLET_UID, listOf(CERT_C), past = listOf(CERT_A))
        h.proxy.sign(byAlias("key"), 0, msg, null)
    }

    @Test
    fun anUnknownUidIsRefused() {
        val stranger = 10_555
        h.grant(stranger)
        h.callAs(stranger)
        expectCode(IKeyholdService.ERROR_PERMISSION_DENIED) { h.proxy.listKeys() }
        expectCode(IKeyholdService.ERROR_PERMISSION_DENIED) {
            h.proxy.generateKey("k", IKeyholdService.ALGORITHM_P256, 0, null)
        }
    }

    @Test
    fun aSharedUidIsRefusedAsAmbiguous() {
        val shared = 10_300
        h.installApp("com.example.shared.one", shared, listOf(CERT_A))
        h.installApp("com.example.shared.two", shared, listOf(CERT_A))
        shadowOf(h.app.packageManager).setPackagesForUid(shared, "com.example.shared.one", "com.example.shared.two")
        h.grant(shared)
        h.callAs(shared)
        val e = expectCode(IKeyholdService.ERROR_PERMISSION_DENIED) { h.proxy.listKeys() }
        assertTrue(e.message, e.message!!.contains("shared"))
    }

    @Test
    fun aPackageWithoutCertificatesIsRefused() {
        val uid = 10_301
        h.installApp("com.example.unsigned", uid, emptyList())
        h.grant(uid)
        h.callAs(uid)
        expectCode(IKeyholdService.ERROR_PERMISSION_DENIED) { h.proxy.listKeys() }
    }

    @Test
    fun anotherAppCannotSeeOrUseTheKey() {
        val id = walletKey()
        h.callAs(OTHER_UID)
        assertEquals(0, h.proxy.listKeys().size)
        expectCode(IKeyholdService.ERROR_KEY_NOT_FOUND) { h.proxy.sign(byAlias("key"), 0, msg, null) }
        expectCode(IKeyholdService.ERROR_KEY_NOT_FOUND) { h.proxy.sign(byId(id), 0, msg, null) }
        expectCode(IKeyholdService.ERROR_KEY_NOT_FOUND) { h.proxy.deleteKey(byId(id)) }
        // Its own key of the same alias lives in its own namespace.
        h.proxy.generateKey("key", IKeyholdService.ALGORITHM_SECP256K1, 0, null)
        h.callAs(WALLET_UID)
        assertEquals(id, h.proxy.getKeyInfo(byAlias("key")).id)
    }

    @Test
    fun everyCallNeedsTheBindPermission() {
        val uid = 10_302
        h.installApp("com.example.noperm", uid, listOf(CERT_B))
        h.callAs(uid)
        try {
            h.proxy.listKeys()
            fail("expected SecurityException")
        } catch (e: SecurityException) {
            assertTrue(e.message!!.contains(KeyholdService.PERMISSION))
        }
    }

    @Test
    fun embeddedModeTheHostAppItselfNeedsNoPermission() {
        h.installApp(h.app.packageName, Process.myUid(), listOf(CERT_C))
        h.callAsSelf()
        val info = h.proxy.generateKey("own", IKeyholdService.ALGORITHM_ED25519, 0, null)
        assertEquals(h.app.packageName, info.policy.allowedCallers.single().appId)
    }
}
