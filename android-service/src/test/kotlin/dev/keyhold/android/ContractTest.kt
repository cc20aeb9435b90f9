package dev.keyhold.android

import dev.keyhold.aidl.IKeyholdService
import dev.keyhold.proto.Algorithm
import dev.keyhold.proto.ErrorCode
import dev.keyhold.proto.HdScheme
import dev.keyhold.proto.ImportKeyRequest
import dev.keyhold.proto.KeyOrigin
import dev.keyhold.proto.KeyRef
import dev.keyhold.proto.Operation
import dev.keyhold.proto.PublicKeyFormat
import dev.keyhold.proto.SignRequest
import dev.keyhold.proto.SignatureScheme
import dev.keyhold.proto.VerifyRequest
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test

/**
 * The AIDL constants are the keyhold.v1 numbers: the proto generated from
 * rust-core/proto/keyhold.proto is the reference, so the two cannot drift.
 */
class ContractTest {
    /** IKeyholdService constants named `<prefix><SUFFIX>`. */
    private fun constants(prefix: String): Map<String, Int> = IKeyholdService::class.java.fields
        .filter { it.name.startsWith(prefix) }
        .associate { it.name.removePrefix(prefix) to it.getInt(null) }

    private fun <E : Enum<E>> protoValues(values: Array<E>, prefix: String, number: (E) -> Int): Map<String, Int> = values
        .filter { it.name != "UNRECOGNIZED" && !it.name.endsWith("_UNSPECIFIED") }
        .associate { it.name.removePrefix(prefix) to number(it) }

    @Test
    fun errorCodesAreTheCoreTable() {
        val proto = protoValues(ErrorCode.values(), "ERROR_CODE_") { it.number }
        assertEquals(proto, constants("ERROR_"))
        assertEquals((1..23).toSet(), proto.values.toSet())
    }

    @Test
    fun enumConstantsEqualTheProto() {
        assertEquals(protoValues(Algorithm.values(), "ALGORITHM_") { it.number }, constants("ALGORITHM_") - "UNSPECIFIED")
        assertEquals(protoValues(HdScheme.values(), "HD_SCHEME_") { it.number }, constants("HD_SCHEME_") - "NONE")
        assertEquals(
            protoValues(SignatureScheme.values(), "SIGNATURE_SCHEME_") { it.number },
            constants("SIGNATURE_SCHEME_") - "DEFAULT",
        )
        assertEquals(
            protoValues(PublicKeyFormat.values(), "PUBLIC_KEY_FORMAT_") { it.number },
            constants("PUBLIC_KEY_FORMAT_") - "DEFAULT",
        )
        assertEquals(
            protoValues(Operation.values(), "OPERATION_") { it.number } - "AUDIT_VERIFY",
            constants("OPERATION_"),
        )
        assertEquals(protoValues(KeyOrigin.values(), "KEY_ORIGIN_") { it.number }, constants("KEY_ORIGIN_"))
        assertEquals(0, IKeyholdService.ALGORITHM_UNSPECIFIED)
        assertEquals(0, IKeyholdService.HD_SCHEME_NONE)
        assertEquals(0, IKeyholdService.SIGNATURE_SCHEME_DEFAULT)
        assertEquals(0, IKeyholdService.PUBLIC_KEY_FORMAT_DEFAULT)
    }

    @Test
    fun oneofTagsAreTheProtoFieldNumbers() {
        assertEquals(KeyRef.ID_FIELD_NUMBER, IKeyholdService.KEY_REF_BY_ID)
        assertEquals(KeyRef.ALIAS_FIELD_NUMBER, IKeyholdService.KEY_REF_BY_ALIAS)
        assertEquals(SignRequest.MESSAGE_FIELD_NUMBER, IKeyholdService.PAYLOAD_MESSAGE)
        assertEquals(SignRequest.DIGEST_FIELD_NUMBER, IKeyholdService.PAYLOAD_DIGEST)
        assertEquals(VerifyRequest.MESSAGE_FIELD_NUMBER, IKeyholdService.PAYLOAD_MESSAGE)
        assertEquals(VerifyRequest.DIGEST_FIELD_NUMBER, IKeyholdService.PAYLOAD_DIGEST)
        assertEquals(ImportKeyRequest.RAW_PRIVATE_KEY_FIELD_NUMBER, IKeyholdService.MATERIAL_RAW_PRIVATE_KEY)
        assertEquals(ImportKeyRequest.PKCS8_FIELD_NUMBER, IKeyholdService.MATERIAL_PKCS8)
        assertEquals(ImportKeyRequest.SEC1_FIELD_NUMBER, IKeyholdService.MATERIAL_SEC1)
        assertEquals(ImportKeyRequest.MNEMONIC_FIELD_NUMBER, IKeyholdService.MATERIAL_MNEMONIC)
        assertEquals(ImportKeyRequest.SEED_FIELD_NUMBER, IKeyholdService.MATERIAL_SEED)
        assertEquals(ImportKeyRequest.XPRV_FIELD_NUMBER, IKeyholdService.MATERIAL_XPRV)
    }

    /** Old clients keep working only if transaction codes never move: pin them. */
    @Test
    fun transactionCodesAreAppendOnly() {
        val expected = listOf(
            "generateKey", "importKey", "getPublicKey", "sign", "verify", "deriveKey", "encrypt", "decrypt",
            "deleteKey", "listKeys", "getKeyInfo", "protocolVersion", "agree", "listKeysPage",
        )
        val stub = IKeyholdService.Stub::class.java
        expected.forEachIndexed { index, method ->
            val field = stub.getDeclaredField("TRANSACTION_$method").apply { isAccessible = true }
            assertEquals(method, android.os.IBinder.FIRST_CALL_TRANSACTION + index, field.getInt(null))
        }
        val declared = stub.declaredFields.count { it.name.startsWith("TRANSACTION_") }
        assertTrue("new methods must be appended and pinned here", declared == expected.size)
    }
}
