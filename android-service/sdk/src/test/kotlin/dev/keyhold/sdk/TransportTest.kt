package dev.keyhold.sdk

import android.app.Application
import android.content.ComponentName
import android.os.BadParcelableException
import android.os.Build
import android.os.DeadObjectException
import android.os.Looper
import android.os.TransactionTooLargeException
import dev.keyhold.aidl.IKeyholdService
import dev.keyhold.testing.ParcelBinder
import kotlinx.coroutines.runBlocking
import org.junit.After
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
import java.util.concurrent.CompletableFuture
import java.util.concurrent.TimeUnit
import kotlin.reflect.KClass

/**
 * The SDK's transport: the connection does not need the main thread (API
 * 29+), every exception a Binder proxy can throw arrives as a typed
 * [KeyholdException], and the Binder buffer's limit is a typed failure that
 * keeps the binding.
 */
@RunWith(RobolectricTestRunner::class)
@Config(shadows = [ShadowSigningCertificates::class])
class TransportTest {
    private lateinit var app: Application
    private lateinit var shadowApp: ShadowApplication
    private val component = ComponentName(KeyholdClient.KMS_PACKAGE, KeyholdClient.SERVICE_CLASS)
    private val clients = mutableListOf<KeyholdClient>()

    @Before
    fun setUp() {
        app = RuntimeEnvironment.getApplication()
        shadowApp = shadowOf(app)
        shadowApp.setBindServiceCallsOnServiceConnectedDirectly(true)
        ShadowSigningCertificates.install(KeyholdClient.KMS_PACKAGE, listOf(KeyholdClientTest.KMS_CERT))
    }

    @After
    fun tearDown() = clients.forEach(KeyholdClient::close)

    private fun serve(service: IKeyholdService.Stub): ParcelBinder =
        ParcelBinder(service).also { shadowApp.setComponentNameAndServiceForBindService(component, it) }

    private fun client(timeoutMillis: Long = 2_000) =
        KeyholdClient(app, component, listOf(KeyholdClientTest.KMS_DIGEST), connectTimeoutMillis = timeoutMillis)
            .also { clients += it }

    private fun failure(block: suspend () -> Unit): KeyholdException {
        try {
            runBlocking { block() }
        } catch (e: KeyholdException) {
            return e
        }
        fail("expected a KeyholdException")
        throw AssertionError()
    }

    /**
     * The test thread is the main looper's thread (Robolectric's paused
     * looper): while it waits below, nothing posted to the main looper runs.
     */
    @Test
    fun aCallCompletesWhileTheMainThreadIsBlocked() {
        assertTrue(Looper.getMainLooper().isCurrentThread)
        serve(FakeKeyholdService())
        // The connection callback is scheduled as on a device, not delivered inside bindService.
        shadowApp.setBindServiceCallsOnServiceConnectedDirectly(false)
        val keyhold = client(timeoutMillis = 1_000)
        val outcome = CompletableFuture<Any>()
        Thread {
            try {
                outcome.complete(runBlocking { keyhold.protocolVersion() })
            } catch (e: Throwable) {
                outcome.complete(e)
            }
        }.start()
        val result = outcome.get(20, TimeUnit.SECONDS) // blocks the main thread
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.Q) {
            // bindService(Intent, int, Executor, ServiceConnection): callbacks on the SDK's thread.
            assertEquals(1, result)
        } else {
            // API 28: ContextImpl delivers the callbacks on the main thread, which is blocked.
            assertTrue("expected Disconnected, got $result", result is KeyholdException.Disconnected)
        }
    }

    @Test
    fun everyExceptionTheProxyCanThrowIsTyped() {
        val fake = FakeKeyholdService()
        val binder = serve(fake)
        val keyhold = client()
        val cases: List<Pair<RuntimeException, KClass<out KeyholdException>>> = listOf(
            IllegalArgumentException("bad argument") to KeyholdException.InvalidArgument::class,
            NullPointerException("null alias") to KeyholdException.InvalidArgument::class,
            IllegalStateException("not ready") to KeyholdException.Unavailable::class,
            BadParcelableException("bad parcelable") to KeyholdException.MalformedRequest::class,
            UnsupportedOperationException("not here") to KeyholdException.UnsupportedOperation::class,
            SecurityException("no permission") to KeyholdException.PermissionDenied::class,
            // Not carried by Parcel.writeException: the proxy sees a bare RuntimeException.
            ArithmeticException("bug in the service") to KeyholdException.Internal::class,
        )
        for ((thrown, expected) in cases) {
            fake.failure = thrown
            val e = failure { keyhold.getKeyInfo(KeyRef.Alias("k")) }
            assertEquals("$thrown", expected, e::class)
            if (thrown !is ArithmeticException) {
                // It travelled through the reply: a new exception of the same type, same message.
                assertEquals(thrown.javaClass, e.cause!!.javaClass)
                assertTrue("${e.message}", e.message!!.contains(thrown.message!!))
            }
        }
        // None of these is a disconnection: one binding throughout.
        fake.failure = null
        assertEquals(1, runBlocking { keyhold.protocolVersion() })
        assertEquals(1, shadowApp.boundServiceConnections.size)
        assertEquals(cases.size + 1, binder.transactions)
    }

    @Test
    fun aRequestOverTheBinderBufferNeverReachesTheService() {
        val fake = FakeKeyholdService()
        val binder = serve(fake)
        val keyhold = client()
        assertEquals(1, runBlocking { keyhold.protocolVersion() })
        val e = failure { keyhold.encrypt(KeyRef.Alias("k"), ByteArray(ParcelBinder.BINDER_VM_SIZE + 1)) }
        assertTrue("$e", e is KeyholdException.TransactionTooLarge)
        assertEquals(KeyholdException.TRANSACTION_TOO_LARGE, e.code)
        assertTrue(e.cause is TransactionTooLargeException)
        assertEquals(listOf("protocolVersion"), fake.calls)
        // The binding is kept and still works; a large request that fits goes through.
        assertEquals(256 * 1024, runBlocking { keyhold.encrypt(KeyRef.Alias("k"), ByteArray(256 * 1024)) }.size)
        assertEquals(1, shadowApp.boundServiceConnections.size)
        assertEquals(2, binder.transactions)
    }

    @Test
    fun listKeysPagesSoEveryReplyStaysBounded() {
        val fake = FakeKeyholdService()
        val binder = serve(fake)
        val keyhold = client()
        val longAlias = "x".repeat(MAX_ALIAS_BYTES - 5)

        // 5,000 keys did not fit one reply; paged, every reply holds at most 100 of them.
        fake.listed = Array(5_000) { fake.keyInfo("%04d$longAlias".format(it)) }
        val all = runBlocking { keyhold.listKeys() }
        assertEquals(5_000, all.size)
        assertEquals(fake.listed!!.map { it.alias }, all.map { it.alias })
        assertEquals(List(50) { "listKeysPage" }, fake.calls)
        assertEquals(50, binder.transactions)
    }

    @Test
    fun aPageTooLargeForTheReplyIsTypedAndKeepsTheBinding() {
        val fake = FakeKeyholdService()
        val binder = serve(fake)
        val keyhold = client()
        val longAlias = "x".repeat(MAX_ALIAS_BYTES - 5)

        // A service that ignores the page bound: past the buffer, the reply fails; the
        // driver's heuristic calls that a dead object (the request was small), but the
        // service is alive: TransactionTooLarge, binding kept.
        fake.pageCap = Int.MAX_VALUE
        fake.listed = Array(5_000) { fake.keyInfo("%04d$longAlias".format(it)) }
        val e = failure { keyhold.listKeysPage(limit = 5_000) }
        assertTrue("$e", e is KeyholdException.TransactionTooLarge)
        assertTrue(e.cause is DeadObjectException)
        assertEquals(listOf("listKeysPage"), fake.calls)

        fake.listed = null
        assertEquals(listOf("a", "b"), runBlocking { keyhold.listKeys() }.map { it.alias })
        assertEquals(1, shadowApp.boundServiceConnections.size)
        assertEquals(2, binder.transactions)
    }

    @Test
    fun aReallyDeadServiceIsStillDisconnected() {
        val first = serve(FakeKeyholdService("first"))
        val keyhold = client()
        assertEquals(1, runBlocking { keyhold.protocolVersion() })
        first.dieSilently()
        assertTrue(failure { keyhold.listKeys() } is KeyholdException.Disconnected)
    }

    private companion object {
        /** `MAX_ALIAS_LEN` of rust-core (`key.rs`): aliases are at most 128 bytes. */
        const val MAX_ALIAS_BYTES = 128
    }
}
