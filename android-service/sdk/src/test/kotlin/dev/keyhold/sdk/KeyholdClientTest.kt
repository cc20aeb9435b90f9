package dev.keyhold.sdk

import android.app.Application
import android.content.ComponentName
import android.content.Context
import android.content.ContextWrapper
import android.content.Intent
import android.content.ServiceConnection
import android.os.IBinder
import dev.keyhold.aidl.IKeyholdService
import dev.keyhold.testing.ParcelBinder
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
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

/** The SDK against a scripted service, through the AIDL Proxy and real Parcels. */
@RunWith(RobolectricTestRunner::class)
@Config(shadows = [ShadowSigningCertificates::class])
class KeyholdClientTest {
    private lateinit var app: Application
    private lateinit var shadowApp: ShadowApplication
    private val component = ComponentName(KeyholdClient.KMS_PACKAGE, KeyholdClient.SERVICE_CLASS)
    private val clients = mutableListOf<KeyholdClient>()

    @Before
    fun setUp() {
        app = RuntimeEnvironment.getApplication()
        shadowApp = shadowOf(app)
        shadowApp.setBindServiceCallsOnServiceConnectedDirectly(true)
        // The genuine KMS is installed (companion mode checks its signer before binding).
        ShadowSigningCertificates.install(KeyholdClient.KMS_PACKAGE, listOf(KMS_CERT))
    }

    @After
    fun tearDown() = clients.forEach(KeyholdClient::close)

    private fun serve(service: IKeyholdService.Stub): ParcelBinder =
        ParcelBinder(service).also { shadowApp.setComponentNameAndServiceForBindService(component, it) }

    private fun client(timeoutMillis: Long = 2_000) =
        KeyholdClient(app, component, listOf(KMS_DIGEST), connectTimeoutMillis = timeoutMillis).also { clients += it }

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

    private fun boundConnections(): Int = shadowApp.boundServiceConnections.size

    @Test
    fun everyErrorCodeArrivesAsItsTypedException() {
        val fake = FakeKeyholdService()
        serve(fake)
        val keyhold = client()
        for (code in 1..23) {
            fake.failure = android.os.ServiceSpecificException(code, "failure $code")
            val e = expect<KeyholdException> { keyhold.getKeyInfo(KeyRef.Alias("k")) }
            assertEquals(code, e.code)
            assertEquals("failure $code", e.message)
            assertEquals(KeyholdException.fromCode(code, null).javaClass, e.javaClass)
        }
        fake.failure = android.os.ServiceSpecificException(77, "from the future")
        assertEquals(77, expect<KeyholdException.Unknown> { keyhold.listKeys() }.code)
        fake.failure = SecurityException("uid 10100 does not hold dev.keyhold.permission.BIND_KEYHOLD")
        expect<KeyholdException.PermissionDenied> { keyhold.protocolVersion() }
    }

    @Test
    fun convertsArgumentsAndResults() = runBlocking {
        val fake = FakeKeyholdService()
        val binder = serve(fake)
        val keyhold = client()

        val root = keyhold.generateHdKey("root", HdScheme.BIP32_SECP256K1, KeyPolicy(maxUses = 3, allowedOperations = setOf(Operation.SIGN)))
        assertEquals(listOf<Any?>("root", IKeyholdService.ALGORITHM_UNSPECIFIED, IKeyholdService.HD_SCHEME_BIP32_SECP256K1), fake.lastArgs)
        assertEquals(3, fake.lastPolicy!!.maxUses)
        assertArrayEquals(intArrayOf(IKeyholdService.OPERATION_SIGN), fake.lastPolicy!!.allowedOperations)
        assertEquals(Algorithm.SECP256K1, root.algorithm)
        assertEquals(HdScheme.BIP32_SECP256K1, root.hdScheme)
        assertEquals(KeyOrigin.GENERATED, root.origin)
        assertEquals(setOf(Operation.SIGN), root.policy.allowedOperations) // unknown 999 dropped
        assertEquals(7, root.policy.maxUses)
        assertEquals(KeyRef.Id("00112233"), root.ref)

        keyhold.generateKey("p", Algorithm.P256)
        assertEquals(listOf<Any?>("p", IKeyholdService.ALGORITHM_P256, IKeyholdService.HD_SCHEME_NONE), fake.lastArgs)

        keyhold.importKey("m", ImportMaterial.Mnemonic("abandon about".toByteArray(), "pw".toByteArray(), HdScheme.SLIP10_ED25519))
        assertEquals(IKeyholdService.MATERIAL_MNEMONIC, fake.lastMaterial!!.kind)
        assertArrayEquals("abandon about".toByteArray(), fake.lastMaterial!!.data)
        assertArrayEquals("pw".toByteArray(), fake.lastMaterial!!.passphrase)
        assertEquals(IKeyholdService.HD_SCHEME_SLIP10_ED25519, fake.lastArgs[2])
        keyhold.importKey("r", ImportMaterial.RawPrivateKey(Algorithm.ED25519, ByteArray(32)))
        assertEquals(listOf<Any?>("r", IKeyholdService.ALGORITHM_ED25519, IKeyholdService.HD_SCHEME_NONE), fake.lastArgs)
        assertEquals(IKeyholdService.MATERIAL_RAW_PRIVATE_KEY, fake.lastMaterial!!.kind)

        assertEquals("0xabc", keyhold.getPublicKey(KeyRef.Alias("root"), PublicKeyFormat.ETH_ADDRESS, "m/44'/60'/0'/0/0").text)
        assertEquals(IKeyholdService.KEY_REF_BY_ALIAS, fake.lastKey!!.by)
        assertEquals("root", fake.lastKey!!.value)
        assertEquals(listOf<Any?>(IKeyholdService.PUBLIC_KEY_FORMAT_ETH_ADDRESS, "m/44'/60'/0'/0/0"), fake.lastArgs)

        val sig = keyhold.sign(KeyRef.Id("00112233"), Payload.Digest(ByteArray(32)), SignatureScheme.ECDSA_RECOVERABLE)
        assertArrayEquals(byteArrayOf(9, 9), sig)
        assertEquals(IKeyholdService.KEY_REF_BY_ID, fake.lastKey!!.by)
        assertEquals(IKeyholdService.PAYLOAD_DIGEST, fake.lastPayload!!.kind)
        assertEquals(listOf<Any?>(IKeyholdService.SIGNATURE_SCHEME_ECDSA_RECOVERABLE, null), fake.lastArgs)
        assertTrue(keyhold.verify(KeyRef.Id("00112233"), Payload.Message(byteArrayOf(1)), sig))
        assertEquals(IKeyholdService.PAYLOAD_MESSAGE, fake.lastPayload!!.kind)
        assertFalse(keyhold.verify(KeyRef.Id("00112233"), Payload.Message(byteArrayOf(1)), byteArrayOf(0)))

        val child = keyhold.deriveKey(root.ref, "m/0", storeAsAlias = "child")
        assertEquals("xpub", child.xpub)
        assertEquals("child", child.stored!!.alias)
        assertNull(keyhold.deriveKey(root.ref, "m/1").stored)

        assertArrayEquals(byteArrayOf(3, 2, 1), keyhold.encrypt(root.ref, byteArrayOf(1, 2, 3)))
        assertArrayEquals(byteArrayOf(1, 2), keyhold.decrypt(root.ref, byteArrayOf(2, 1)))
        assertEquals(48, keyhold.agree(root.ref, ByteArray(32), outputLength = 48).derivedSecret!!.size)
        keyhold.deleteKey(KeyRef.Alias("gone"))
        assertEquals("gone", fake.lastKey!!.value)
        assertEquals(listOf("a", "b"), keyhold.listKeys().map { it.alias })
        assertEquals(1, keyhold.protocolVersion())
        assertTrue("every call went through the Proxy", binder.transactions >= 15)
        assertFalse("calls run off the main thread", fake.ranOnMainThread)
    }

    @Test
    fun reconnectsAfterTheServiceDies() = runBlocking {
        val first = serve(FakeKeyholdService("first"))
        val keyhold = client()
        assertEquals("first", keyhold.getKeyInfo(KeyRef.Alias("k")).sealer)

        // The service process dies; the system would restart it with a new binder.
        val second = serve(FakeKeyholdService("second"))
        first.die()
        assertEquals("second", keyhold.getKeyInfo(KeyRef.Alias("k")).sealer)
        assertEquals(1, second.transactions)
    }

    @Test
    fun aCallOnADeadBinderFailsThenTheNextOneReconnects() {
        val first = serve(FakeKeyholdService("first"))
        val keyhold = client()
        runBlocking { keyhold.protocolVersion() }
        // Dies without the death notice having arrived yet: the call itself sees DeadObjectException.
        first.dieSilently()
        serve(FakeKeyholdService("second"))
        expect<KeyholdException.Disconnected> { keyhold.generateKey("k", Algorithm.P256) }
        assertEquals("second", runBlocking { keyhold.getKeyInfo(KeyRef.Alias("k")).sealer })
    }

    @Test
    fun closeUnbindsAndFailsLaterCalls() {
        serve(FakeKeyholdService())
        val keyhold = client()
        runBlocking { keyhold.protocolVersion() }
        assertEquals(1, boundConnections())
        keyhold.close()
        assertEquals(0, boundConnections())
        expect<KeyholdException.Disconnected> { keyhold.protocolVersion() }
    }

    /** Robolectric (like some OEM builds) reports onServiceDisconnected after unbindService: no loop. */
    @Test
    fun disconnectCallbacksAfterUnbindAreHarmless() {
        shadowApp.setUnbindServiceCallsOnServiceDisconnected(true)
        serve(FakeKeyholdService())
        val keyhold = client()
        runBlocking { keyhold.protocolVersion() }
        keyhold.close()
        shadowOf(android.os.Looper.getMainLooper()).idle()
        assertEquals(0, boundConnections())
    }

    @Test
    fun noServiceIsDisconnected() {
        shadowApp.declareComponentUnbindable(component)
        expect<KeyholdException.Disconnected> { client().protocolVersion() }
        assertEquals(0, boundConnections())
    }

    @Test
    fun bindingRefusedIsPermissionDenied() {
        shadowApp.setThrowInBindService(SecurityException("Not allowed to bind to service Intent"))
        expect<KeyholdException.PermissionDenied> { client().protocolVersion() }
    }

    @Test
    fun aServiceThatNeverConnectsTimesOut() {
        // The system accepts the binding but the service never comes up (e.g. stuck in onCreate).
        val binds = mutableListOf<ServiceConnection>()
        val unbinds = mutableListOf<ServiceConnection>()
        val stuck = object : ContextWrapper(app) {
            override fun getApplicationContext(): Context = this

            override fun bindService(service: Intent, flags: Int, executor: Executor, conn: ServiceConnection): Boolean =
                binds.add(conn)

            override fun bindService(service: Intent, conn: ServiceConnection, flags: Int): Boolean = binds.add(conn)

            override fun unbindService(conn: ServiceConnection) {
                unbinds += conn
            }
        }
        val keyhold = KeyholdClient(stuck, component, listOf(KMS_DIGEST), connectTimeoutMillis = 200).also { clients += it }
        expect<KeyholdException.Disconnected> { keyhold.protocolVersion() }
        assertEquals(1, binds.size)
        assertEquals("the abandoned binding is released", binds, unbinds)
    }

    @Test
    fun companionAndEmbeddedComponents() {
        val companion = KeyholdClient.companion(app, KMS_DIGEST).also { clients += it }
        val embedded = KeyholdClient.embedded(app).also { clients += it }
        serve(FakeKeyholdService("kms"))
        assertEquals("kms", runBlocking { companion.getKeyInfo(KeyRef.Alias("k")).sealer })
        val own = ComponentName(app.packageName, KeyholdClient.SERVICE_CLASS)
        shadowApp.setComponentNameAndServiceForBindService(own, ParcelBinder(FakeKeyholdService("embedded") as IBinder))
        assertEquals("embedded", runBlocking { embedded.getKeyInfo(KeyRef.Alias("k")).sealer })
    }

    companion object {
        val KMS_CERT = "genuine Keyhold KMS signing certificate".toByteArray()
        val KMS_DIGEST: ByteArray = ShadowSigningCertificates.sha256(KMS_CERT)
    }
}
