package dev.keyhold.sdk

import android.app.Application
import android.content.ComponentName
import android.content.Context
import android.content.ContextWrapper
import android.content.Intent
import android.content.ServiceConnection
import dev.keyhold.aidl.IKeyholdService
import dev.keyhold.testing.ParcelBinder
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.shadows.ShadowApplication
import java.util.concurrent.Executor

/**
 * Companion mode talks only to the genuine KMS: the KMS package's signing
 * certificate is checked (PackageManager.hasSigningCertificate, modelled by
 * [ShadowSigningCertificates]) before every bind, first and after each
 * reconnect; an impostor is never bound and receives no transaction.
 */
@RunWith(RobolectricTestRunner::class)
@Config(shadows = [ShadowSigningCertificates::class])
class CompanionTrustTest {
    private lateinit var app: Application
    private lateinit var shadowApp: ShadowApplication
    private val component = ComponentName(KeyholdClient.KMS_PACKAGE, KeyholdClient.SERVICE_CLASS)
    private val clients = mutableListOf<KeyholdClient>()

    @Before
    fun setUp() {
        app = RuntimeEnvironment.getApplication()
        shadowApp = shadowOf(app)
        shadowApp.setBindServiceCallsOnServiceConnectedDirectly(true)
    }

    @After
    fun tearDown() = clients.forEach(KeyholdClient::close)

    private fun serve(service: IKeyholdService.Stub): ParcelBinder =
        ParcelBinder(service).also { shadowApp.setComponentNameAndServiceForBindService(component, it) }

    private fun companion(): KeyholdClient = KeyholdClient.companion(app, GENUINE_DIGEST).also { clients += it }

    private inline fun <reified E : KeyholdException> expect(noinline block: suspend () -> Unit): E {
        try {
            runBlocking { block() }
        } catch (e: KeyholdException) {
            assertTrue("expected ${E::class.simpleName}, got $e", e is E)
            return e as E
        }
        fail("expected ${E::class.simpleName}")
        throw AssertionError()
    }

    private fun bound(): Int = shadowApp.boundServiceConnections.size

    @Test
    fun anImpostorIsRefusedBeforeAnyCallReachesIt() {
        ShadowSigningCertificates.install(KeyholdClient.KMS_PACKAGE, listOf(IMPOSTOR))
        val impostor = FakeKeyholdService("impostor")
        val binder = serve(impostor)
        val keyhold = companion()
        val e = expect<KeyholdException.UntrustedService> {
            keyhold.importKey("w", ImportMaterial.Mnemonic("abandon about".toByteArray()))
        }
        assertEquals(KeyholdException.UNTRUSTED_SERVICE, e.code)
        assertEquals("no transaction reached the impostor", 0, binder.transactions)
        assertTrue(impostor.calls.isEmpty())
        assertEquals("the impostor was not even bound", 0, bound())
        assertTrue(shadowApp.unboundServiceConnections.isEmpty())
        // Still refused on the next call: nothing was cached as trusted.
        expect<KeyholdException.UntrustedService> { keyhold.protocolVersion() }
        assertEquals(0, binder.transactions)
    }

    @Test
    fun theGenuineKmsIsUsed() {
        ShadowSigningCertificates.install(KeyholdClient.KMS_PACKAGE, listOf(GENUINE))
        val binder = serve(FakeKeyholdService("kms"))
        assertEquals("kms", runBlocking { companion().getKeyInfo(KeyRef.Alias("k")).sealer })
        assertEquals(1, binder.transactions)
    }

    @Test
    fun everyReconnectChecksAgain() {
        ShadowSigningCertificates.install(KeyholdClient.KMS_PACKAGE, listOf(GENUINE))
        val genuine = serve(FakeKeyholdService("kms"))
        val keyhold = companion()
        assertEquals(1, runBlocking { keyhold.protocolVersion() })

        // The KMS is uninstalled and an impostor takes its package name; the old binding dies.
        ShadowSigningCertificates.uninstall(KeyholdClient.KMS_PACKAGE)
        ShadowSigningCertificates.install(KeyholdClient.KMS_PACKAGE, listOf(IMPOSTOR))
        val impostor = FakeKeyholdService("impostor")
        val impostorBinder = serve(impostor)
        genuine.die()

        expect<KeyholdException.UntrustedService> { keyhold.generateKey("k", Algorithm.P256) }
        assertEquals(0, impostorBinder.transactions)
        assertTrue(impostor.calls.isEmpty())
        assertEquals(1, genuine.transactions)
    }

    /** The package is replaced after the check before bind and before the connection arrives. */
    @Test
    fun aPackageReplacedWhileConnectingIsRefusedOnArrival() {
        ShadowSigningCertificates.install(KeyholdClient.KMS_PACKAGE, listOf(GENUINE))
        val impostor = FakeKeyholdService("impostor")
        val impostorBinder = ParcelBinder(impostor)
        val unbound = mutableListOf<ServiceConnection>()
        val racing = object : ContextWrapper(app) {
            override fun getApplicationContext(): Context = this

            private fun connectImpostor(conn: ServiceConnection, deliver: (Runnable) -> Unit): Boolean {
                ShadowSigningCertificates.uninstall(KeyholdClient.KMS_PACKAGE)
                ShadowSigningCertificates.install(KeyholdClient.KMS_PACKAGE, listOf(IMPOSTOR))
                deliver(Runnable { conn.onServiceConnected(component, impostorBinder) })
                return true
            }

            override fun bindService(service: Intent, flags: Int, executor: Executor, conn: ServiceConnection): Boolean =
                connectImpostor(conn, executor::execute)

            override fun bindService(service: Intent, conn: ServiceConnection, flags: Int): Boolean =
                connectImpostor(conn) { it.run() }

            override fun unbindService(conn: ServiceConnection) {
                synchronized(unbound) { unbound += conn }
            }
        }
        val keyhold = KeyholdClient(racing, component, listOf(GENUINE_DIGEST)).also { clients += it }
        expect<KeyholdException.UntrustedService> { keyhold.sign(KeyRef.Alias("w"), Payload.Digest(ByteArray(32))) }
        assertEquals(0, impostorBinder.transactions)
        assertTrue(impostor.calls.isEmpty())
        // Released by the callback thread right after it failed the waiting call.
        val deadline = System.nanoTime() + 5_000_000_000L
        while (synchronized(unbound) { unbound.isEmpty() } && System.nanoTime() < deadline) Thread.sleep(5)
        assertEquals("the impostor's binding was released", 1, synchronized(unbound) { unbound.size })
    }

    @Test
    fun aKmsThatRotatedItsKeyStillMatchesItsOriginalCertificate() {
        // v3 rotation: lineage GENUINE -> ROTATED; hasSigningCertificate matches past signers.
        ShadowSigningCertificates.install(KeyholdClient.KMS_PACKAGE, listOf(ROTATED), past = listOf(GENUINE))
        serve(FakeKeyholdService("kms"))
        assertEquals(1, runBlocking { companion().protocolVersion() })
    }

    @Test
    fun aMultiSignerPackageNeverMatches() {
        // SigningDetails.hasSha256Certificate answers false when there are several signers.
        ShadowSigningCertificates.install(KeyholdClient.KMS_PACKAGE, listOf(GENUINE, IMPOSTOR))
        val binder = serve(FakeKeyholdService("kms"))
        expect<KeyholdException.UntrustedService> { companion().protocolVersion() }
        assertEquals(0, binder.transactions)
    }

    @Test
    fun aMissingOrInvisibleKmsIsDisconnectedAndNamesQueries() {
        val binder = serve(FakeKeyholdService("kms"))
        val e = expect<KeyholdException.Disconnected> { companion().protocolVersion() }
        assertTrue(e.message!!, e.message!!.contains("<queries>"))
        assertEquals(0, binder.transactions)
        assertEquals(0, bound())
    }

    @Test
    fun digestsAreParsedAsApksignerPrintsThem() {
        val hex = GENUINE_DIGEST.joinToString(":") { "%02X".format(it) }
        assertArrayEquals(GENUINE_DIGEST, ServiceTrust.parseSha256(hex))
        assertArrayEquals(GENUINE_DIGEST, ServiceTrust.parseSha256(hex.replace(":", "").lowercase()))
        ShadowSigningCertificates.install(KeyholdClient.KMS_PACKAGE, listOf(GENUINE))
        serve(FakeKeyholdService("kms"))
        val keyhold = KeyholdClient.companion(app, hex).also { clients += it }
        assertEquals(1, runBlocking { keyhold.protocolVersion() })
        for (bad in listOf("", "00", hex.dropLast(1), "g" + hex.drop(1), hex + "00")) {
            try {
                ServiceTrust.parseSha256(bad)
                fail("accepted \"$bad\"")
            } catch (expected: IllegalArgumentException) {
            }
        }
    }

    @Test
    fun anotherPackageWithoutATrustedDigestIsRefusedAtConstruction() {
        for (digests in listOf(emptyList(), listOf(ByteArray(20)))) {
            try {
                KeyholdClient(app, component, digests)
                fail("accepted $digests")
            } catch (expected: IllegalArgumentException) {
            }
        }
    }

    private companion object {
        val GENUINE = "genuine Keyhold KMS signing certificate".toByteArray()
        val ROTATED = "rotated Keyhold KMS signing certificate".toByteArray()
        val IMPOSTOR = "impostor's signing certificate".toByteArray()
        val GENUINE_DIGEST: ByteArray = ShadowSigningCertificates.sha256(GENUINE)
    }
}
