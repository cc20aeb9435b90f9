package dev.keyhold.sdk

import dev.keyhold.aidl.IKeyholdService
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test

/** The typed errors name every stable code exactly once. */
class KeyholdExceptionTest {
    private val codes: Map<String, Int> = IKeyholdService::class.java.fields
        .filter { it.name.startsWith("ERROR_") }
        .associate { it.name.removePrefix("ERROR_") to it.getInt(null) }

    private fun camel(screaming: String) = screaming.lowercase().split('_').joinToString("") { it.replaceFirstChar(Char::uppercase) }

    @Test
    fun everyCodeHasItsOwnSubclass() {
        assertEquals(23, codes.size)
        val classes = codes.map { (name, code) ->
            val e = KeyholdException.fromCode(code, "m")
            assertFalse(name, e is KeyholdException.Unknown)
            assertEquals(name, code, e.code)
            assertEquals(name, camel(name), e.javaClass.simpleName)
            assertEquals("m", e.message)
            e.javaClass
        }
        assertEquals(codes.size, classes.toSet().size)
    }

    @Test
    fun unknownAndTransportCodes() {
        val e = KeyholdException.fromCode(99, "newer")
        assertTrue(e is KeyholdException.Unknown)
        assertEquals(99, e.code)
        assertTrue(KeyholdException.fromCode(0, null) is KeyholdException.Unknown)
        assertEquals(KeyholdException.NO_CODE, KeyholdException.Disconnected("x").code)
        assertFalse(KeyholdException.NO_CODE in codes.values)
    }

    @Test
    fun theSdksOwnFailuresHaveDistinctNegativeCodes() {
        val local = listOf(
            KeyholdException.Disconnected("x"),
            KeyholdException.UntrustedService("x"),
            KeyholdException.TransactionTooLarge("x"),
        ).map { it.code }
        assertEquals(listOf(-1, -2, -3), local)
        assertTrue(local.none { it in codes.values })
        // Distinct from the service's REQUEST_TOO_LARGE (its own limit, not Binder's).
        val tooLarge: KeyholdException = KeyholdException.TransactionTooLarge("x")
        assertFalse(tooLarge is KeyholdException.RequestTooLarge)
        assertFalse(tooLarge.code == IKeyholdService.ERROR_REQUEST_TOO_LARGE)
    }

    @Test
    fun sealedHierarchyIsComplete() {
        // Every code subclass + Unknown + the SDK's own: Disconnected, UntrustedService, TransactionTooLarge.
        val subclasses = KeyholdException::class.java.declaredClasses.filter { KeyholdException::class.java.isAssignableFrom(it) }
        assertEquals(codes.size + 4, subclasses.size)
    }
}
