package dev.keyhold.android

import dev.keyhold.proto.ErrorCode
import dev.keyhold.proto.ListKeysRequest
import dev.keyhold.proto.Request
import dev.keyhold.proto.Response
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Rule
import org.junit.Test
import org.junit.rules.TemporaryFolder
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import java.security.SecureRandom
import javax.crypto.Cipher
import javax.crypto.spec.GCMParameterSpec
import javax.crypto.spec.SecretKeySpec

/** The JNI bridge itself: handles, sealer callbacks, error codes, no panics. */
@RunWith(RobolectricTestRunner::class)
class NativeBridgeTest {
    @get:Rule
    val tmp = TemporaryFolder()

    /** A software AES-GCM sealer recording the arrays it was handed and returned. */
    private open class SoftwareSealer : Sealer {
        private val key = SecretKeySpec(ByteArray(32).also(SecureRandom()::nextBytes), "AES")
        val sealInputs = mutableListOf<ByteArray>()
        val unsealOutputs = mutableListOf<ByteArray>()

        override fun name() = "test-software"

        override fun openKey(mayCreate: Boolean, expectedLabel: String?, recordedLevel: String?): WrappingKeyInfo =
            WrappingKeyInfo("test-key", "tee", "software", mayCreate)

        override fun seal(plain: ByteArray, aad: ByteArray): ByteArray {
            sealInputs += plain
            val c = Cipher.getInstance("AES/GCM/NoPadding")
            c.init(Cipher.ENCRYPT_MODE, key)
            c.updateAAD(aad)
            return c.iv + c.doFinal(plain)
        }

        override fun unseal(sealed: ByteArray, aad: ByteArray): ByteArray {
            val c = Cipher.getInstance("AES/GCM/NoPadding")
            c.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(128, sealed, 0, 12))
            c.updateAAD(aad)
            return c.doFinal(sealed, 12, sealed.size - 12).also { unsealOutputs += it }
        }
    }

    private class FailingSealer(private val failure: Exception) : Sealer {
        override fun name() = "failing"
        override fun openKey(mayCreate: Boolean, expectedLabel: String?, recordedLevel: String?): WrappingKeyInfo = throw failure
        override fun seal(plain: ByteArray, aad: ByteArray): ByteArray = throw failure
        override fun unseal(sealed: ByteArray, aad: ByteArray): ByteArray = throw failure
    }

    private fun expectNative(code: Int, block: () -> Unit) {
        try {
            block()
            fail("expected KeyholdNativeException($code)")
        } catch (e: KeyholdNativeException) {
            assertEquals(e.message, code, e.code)
        }
    }

    private fun open(sealer: Sealer) = KeyholdNative.open(tmp.newFolder().path + "/keyhold", sealer)

    private val listKeys = Request.newBuilder().setVersion(1).setListKeys(ListKeysRequest.getDefaultInstance()).build().toByteArray()

    @Test
    fun openHandleCloseAndClosedHandles() {
        val handle = open(SoftwareSealer())
        assertTrue(handle > 0)
        val garbage = Response.parseFrom(KeyholdNative.handleWithIdentity(handle, byteArrayOf(1, 2, 3), listKeys))
        assertEquals(ErrorCode.ERROR_CODE_MALFORMED_REQUEST, garbage.error.code)
        KeyholdNative.lock(handle)
        KeyholdNative.close(handle)
        KeyholdNative.close(handle)
        expectNative(ErrorCode.ERROR_CODE_UNAVAILABLE_VALUE) { KeyholdNative.handleWithIdentity(handle, ByteArray(0), listKeys) }
        expectNative(ErrorCode.ERROR_CODE_UNAVAILABLE_VALUE) { KeyholdNative.lock(handle) }
        expectNative(ErrorCode.ERROR_CODE_UNAVAILABLE_VALUE) { KeyholdNative.lock(0) }
    }

    @Test
    fun theDatabaseDirectoryIsCreatedPrivate() {
        val dir = java.io.File(tmp.newFolder(), "a/b/keyhold")
        val handle = KeyholdNative.open(dir.path, SoftwareSealer())
        try {
            assertTrue(java.io.File(dir, "keyhold.db").exists())
            val mode = java.nio.file.Files.getPosixFilePermissions(dir.toPath())
            assertEquals(setOf(java.nio.file.attribute.PosixFilePermission.OWNER_READ, java.nio.file.attribute.PosixFilePermission.OWNER_WRITE, java.nio.file.attribute.PosixFilePermission.OWNER_EXECUTE), mode)
        } finally {
            KeyholdNative.close(handle)
        }
    }

    @Test
    fun sealerFailuresBecomeTheCoresCodes() {
        expectNative(ErrorCode.ERROR_CODE_SEALER_UNAVAILABLE_VALUE) {
            open(FailingSealer(SealerException(SealerException.Kind.UNAVAILABLE, "busy")))
        }
        expectNative(ErrorCode.ERROR_CODE_SEALER_KEY_INVALIDATED_VALUE) {
            open(FailingSealer(SealerException(SealerException.Kind.KEY_INVALIDATED, "gone")))
        }
        expectNative(ErrorCode.ERROR_CODE_CORRUPT_KEY_RECORD_VALUE) {
            open(FailingSealer(SealerException(SealerException.Kind.AUTHENTICATION_FAILED, "tampered")))
        }
        // Not a SealerException (a bug in the sealer): fails closed as unavailable.
        expectNative(ErrorCode.ERROR_CODE_SEALER_UNAVAILABLE_VALUE) { open(FailingSealer(IllegalStateException("bug"))) }
    }

    @Test
    fun aStoreWhoseKeystoreKeyIsGoneDoesNotOpenAndNoKeyIsCreated() {
        val dir = tmp.newFolder()
        val handle = KeyholdNative.open(dir.path, SoftwareSealer())
        KeyholdNative.close(handle)
        val asked = mutableListOf<Triple<Boolean, String?, String?>>()
        val gone = object : SoftwareSealer() {
            override fun openKey(mayCreate: Boolean, expectedLabel: String?, recordedLevel: String?): WrappingKeyInfo {
                asked += Triple(mayCreate, expectedLabel, recordedLevel)
                throw SealerException(SealerException.Kind.KEY_NOT_FOUND, "no key under the alias")
            }
        }
        expectNative(ErrorCode.ERROR_CODE_SEALER_KEY_INVALIDATED_VALUE) { KeyholdNative.open(dir.path, gone) }
        // The store's record travels back: the alias and the level obtained when the key was made.
        assertTrue(
            "$asked",
            asked.isNotEmpty() && asked.all { (mayCreate, label, level) -> !mayCreate && label == "test-key" && level == "software" },
        )
    }

    @Test
    fun aSealerThatReturnsItsInputFailsTheSelfTest() {
        val echo = object : Sealer {
            override fun name() = "echo"
            override fun openKey(mayCreate: Boolean, expectedLabel: String?, recordedLevel: String?) =
                WrappingKeyInfo("echo", "tee", "tee", mayCreate)
            override fun seal(plain: ByteArray, aad: ByteArray) = plain.copyOf()
            override fun unseal(sealed: ByteArray, aad: ByteArray) = sealed.copyOf()
        }
        expectNative(ErrorCode.ERROR_CODE_SELF_TEST_FAILED_VALUE) { open(echo) }
    }

    @Test
    fun secretsHandedToAndFromKotlinAreWiped() {
        val sealer = SoftwareSealer()
        val handle = open(sealer)
        KeyholdNative.close(handle)
        assertTrue(sealer.sealInputs.isNotEmpty() && sealer.unsealOutputs.isNotEmpty())
        for (array in sealer.sealInputs + sealer.unsealOutputs) {
            assertArrayEquals(ByteArray(array.size), array)
        }
    }

    @Test
    fun protocolVersion() = assertEquals(1, KeyholdNative.protocolVersion())
}
