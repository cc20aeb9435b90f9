package dev.keyhold.android

import android.app.ActivityManager
import android.content.Context
import android.os.Process
import androidx.test.ext.junit.runners.AndroidJUnit4
import androidx.test.platform.app.InstrumentationRegistry
import dev.keyhold.sdk.Algorithm
import dev.keyhold.sdk.HdScheme
import dev.keyhold.sdk.ImportMaterial
import dev.keyhold.sdk.KeyRef
import dev.keyhold.sdk.KeyholdClient
import dev.keyhold.sdk.KeyholdException
import dev.keyhold.sdk.Payload
import dev.keyhold.sdk.PublicKeyFormat
import dev.keyhold.sdk.SignatureScheme
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNotEquals
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith

/**
 * On a device or emulator: the SDK binds KeyholdService in its own
 * `:keyhold` process (real Binder, real Binder.getCallingUid(), real
 * PackageManager signing certificates, real AndroidKeyStore).
 *
 * Written with care but not run by the JVM check (no emulator there):
 * run with `./gradlew :android-service:connectedDebugAndroidTest`.
 */
@RunWith(AndroidJUnit4::class)
class KeyholdServiceDeviceTest {
    private val context: Context = InstrumentationRegistry.getInstrumentation().targetContext
    private lateinit var keyhold: KeyholdClient

    @Before
    fun setUp() = runBlocking {
        keyhold = KeyholdClient.embedded(context)
        keyhold.listKeys().forEach { keyhold.deleteKey(it.ref) }
    }

    @After
    fun tearDown() = keyhold.close()

    private fun servicePid(): Int? = context.getSystemService(ActivityManager::class.java)?.runningAppProcesses
        ?.firstOrNull { it.processName == context.packageName + ":keyhold" }?.pid

    /** Calls [block] until it succeeds, for up to [millis] (the service is restarting). */
    private suspend fun <T> eventually(millis: Long = 10_000, block: suspend () -> T): T {
        val deadline = System.currentTimeMillis() + millis
        while (true) {
            try {
                return block()
            } catch (e: KeyholdException.Disconnected) {
                if (System.currentTimeMillis() > deadline) throw e
                delay(100)
            }
        }
    }

    @Test
    fun walletRoundTripAcrossProcesses() = runBlocking {
        val wallet = keyhold.importKey("wallet", ImportMaterial.Mnemonic(ABANDON_ABOUT.toByteArray()))
        assertEquals(ABANDON_ABOUT_ETH, keyhold.getPublicKey(wallet.ref, PublicKeyFormat.ETH_ADDRESS, PATH).text)
        val payload = Payload.Message("hello".toByteArray())
        val signature = keyhold.sign(wallet.ref, payload, SignatureScheme.ECDSA_RECOVERABLE, PATH)
        assertEquals(65, signature.size)
        assertTrue(keyhold.verify(wallet.ref, payload, signature, SignatureScheme.ECDSA_RECOVERABLE, PATH))
        assertTrue(wallet.sealer, wallet.sealer in setOf(KeystoreSealer.NAME_STRONGBOX, KeystoreSealer.NAME_TEE, KeystoreSealer.NAME_SOFTWARE))
        // Owned by this package and its signing certificate.
        assertEquals(context.packageName, wallet.policy.allowedCallers.single().appId)
    }

    @Test
    fun theServiceRunsInItsOwnProcess() = runBlocking {
        keyhold.generateKey("k", Algorithm.P256)
        val pid = servicePid()
        assertTrue("no :keyhold process", pid != null)
        assertNotEquals(Process.myPid(), pid)
    }

    @Test
    fun reconnectsAndKeepsKeysAfterTheServiceProcessDies() = runBlocking {
        val key = keyhold.generateHdKey("root", HdScheme.BIP32_SECP256K1)
        val pid = checkNotNull(servicePid())
        Process.killProcess(pid)
        // The first call may see the death (Disconnected); a later one binds the restarted service.
        val info = eventually { keyhold.getKeyInfo(KeyRef.Alias("root")) }
        assertEquals(key.id, info.id)
        assertNotEquals(pid, servicePid())
        keyhold.sign(info.ref, Payload.Digest(ByteArray(32) { 1 }))
        Unit
    }

    @Test
    fun typedErrorsCrossTheProcessBoundary() = runBlocking {
        try {
            keyhold.getKeyInfo(KeyRef.Alias("missing"))
            throw AssertionError("expected KeyNotFound")
        } catch (e: KeyholdException.KeyNotFound) {
            assertEquals(4, e.code)
        }
    }

    private companion object {
        const val PATH = "m/44'/60'/0'/0/0"
        const val ABANDON_ABOUT = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
        const val ABANDON_ABOUT_ETH = "0x9858EfFD232B4033E47d90003D41EC34EcaEda94"
    }
}
