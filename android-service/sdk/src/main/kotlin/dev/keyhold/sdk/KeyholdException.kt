package dev.keyhold.sdk

import dev.keyhold.aidl.IKeyholdService

/**
 * A failure reported by the Keyhold service, one subclass per stable error
 * code (`keyhold.v1.ErrorCode`, `IKeyholdService.ERROR_*`), plus three
 * failures the SDK itself detects, each with a negative code the service
 * never uses: [Disconnected] ([NO_CODE]), [UntrustedService]
 * ([UNTRUSTED_SERVICE]) and [TransactionTooLarge] ([TRANSACTION_TOO_LARGE]);
 * and [Unknown] for codes newer than this SDK.
 *
 * Codes come from the core's single table; this class only names them.
 * Framework exceptions that a Binder proxy can throw are mapped by
 * [KeyholdClient] (see its `call`), so a wallet catches only this type.
 */
sealed class KeyholdException(
    /** The stable error code; negative for the SDK's own failures. */
    val code: Int,
    message: String?,
    cause: Throwable? = null,
) : Exception(message, cause) {
    class MalformedRequest(message: String?, cause: Throwable? = null) :
        KeyholdException(IKeyholdService.ERROR_MALFORMED_REQUEST, message, cause)
    class RequestTooLarge(message: String?) : KeyholdException(IKeyholdService.ERROR_REQUEST_TOO_LARGE, message)
    class UnsupportedOperation(message: String?, cause: Throwable? = null) :
        KeyholdException(IKeyholdService.ERROR_UNSUPPORTED_OPERATION, message, cause)
    class KeyNotFound(message: String?) : KeyholdException(IKeyholdService.ERROR_KEY_NOT_FOUND, message)

    /** The caller may not use this key, or may not talk to the service at all. */
    class PermissionDenied(message: String?, cause: Throwable? = null) :
        KeyholdException(IKeyholdService.ERROR_PERMISSION_DENIED, message, cause)
    class OperationNotAllowed(message: String?) : KeyholdException(IKeyholdService.ERROR_OPERATION_NOT_ALLOWED, message)
    class IncompatibleKey(message: String?) : KeyholdException(IKeyholdService.ERROR_INCOMPATIBLE_KEY, message)
    class InvalidPath(message: String?) : KeyholdException(IKeyholdService.ERROR_INVALID_PATH, message)
    class InvalidMnemonic(message: String?) : KeyholdException(IKeyholdService.ERROR_INVALID_MNEMONIC, message)
    class InvalidKeyMaterial(message: String?) : KeyholdException(IKeyholdService.ERROR_INVALID_KEY_MATERIAL, message)
    class InvalidArgument(message: String?, cause: Throwable? = null) :
        KeyholdException(IKeyholdService.ERROR_INVALID_ARGUMENT, message, cause)
    class AliasExists(message: String?) : KeyholdException(IKeyholdService.ERROR_ALIAS_EXISTS, message)
    class UsageLimitExceeded(message: String?) : KeyholdException(IKeyholdService.ERROR_USAGE_LIMIT_EXCEEDED, message)
    class PathNotAllowed(message: String?) : KeyholdException(IKeyholdService.ERROR_PATH_NOT_ALLOWED, message)
    class DecryptionFailed(message: String?) : KeyholdException(IKeyholdService.ERROR_DECRYPTION_FAILED, message)

    /** The hardware key failed transiently: retrying may help. */
    class SealerUnavailable(message: String?) : KeyholdException(IKeyholdService.ERROR_SEALER_UNAVAILABLE, message)

    /** The hardware key is gone (e.g. lock screen removed): the keys it protected are lost. */
    class SealerKeyInvalidated(message: String?) : KeyholdException(IKeyholdService.ERROR_SEALER_KEY_INVALIDATED, message)
    class CorruptKeyRecord(message: String?) : KeyholdException(IKeyholdService.ERROR_CORRUPT_KEY_RECORD, message)
    class StorageFailure(message: String?) : KeyholdException(IKeyholdService.ERROR_STORAGE_FAILURE, message)
    class SelfTestFailed(message: String?) : KeyholdException(IKeyholdService.ERROR_SELF_TEST_FAILED, message)
    class UnsupportedVersion(message: String?) : KeyholdException(IKeyholdService.ERROR_UNSUPPORTED_VERSION, message)
    class Unavailable(message: String?, cause: Throwable? = null) :
        KeyholdException(IKeyholdService.ERROR_UNAVAILABLE, message, cause)
    class Internal(message: String?, cause: Throwable? = null) :
        KeyholdException(IKeyholdService.ERROR_INTERNAL, message, cause)

    /** A code this SDK does not know (the service is newer). */
    class Unknown(code: Int, message: String?) : KeyholdException(code, message)

    /**
     * The service could not be bound, or its process died during the call
     * (the call may or may not have taken effect). The next call binds again.
     */
    class Disconnected(message: String?, cause: Throwable? = null) : KeyholdException(NO_CODE, message, cause)

    /**
     * Companion mode: the app installed under the KMS package name is not
     * signed by the certificate this client was configured with (an impostor,
     * e.g. sideloaded while the real KMS was absent). Checked before every
     * bind and again when the connection arrives; nothing was sent to it.
     * Do not retry: tell the user, and do not fall back to another service.
     */
    class UntrustedService(message: String?) : KeyholdException(UNTRUSTED_SERVICE, message)

    /**
     * The call or its reply did not fit the Binder transaction buffer (about
     * 1 MB per process, shared by all calls in flight). The service is still
     * there and the binding is kept; nothing was retried. Send less per call
     * (e.g. fewer or smaller messages). [KeyholdClient.listKeys] pages, so a
     * listing does not end here (a page is bounded by the service).
     */
    class TransactionTooLarge(message: String?, cause: Throwable? = null) :
        KeyholdException(TRANSACTION_TOO_LARGE, message, cause)

    companion object {
        /** [code] of [Disconnected]: not a service error code. */
        const val NO_CODE = -1

        /** [code] of [UntrustedService]: not a service error code. */
        const val UNTRUSTED_SERVICE = -2

        /** [code] of [TransactionTooLarge]: not a service error code. */
        const val TRANSACTION_TOO_LARGE = -3

        /** The exception for a `ServiceSpecificException` code. */
        @JvmStatic
        fun fromCode(code: Int, message: String?): KeyholdException = when (code) {
            IKeyholdService.ERROR_MALFORMED_REQUEST -> MalformedRequest(message)
            IKeyholdService.ERROR_REQUEST_TOO_LARGE -> RequestTooLarge(message)
            IKeyholdService.ERROR_UNSUPPORTED_OPERATION -> UnsupportedOperation(message)
            IKeyholdService.ERROR_KEY_NOT_FOUND -> KeyNotFound(message)
            IKeyholdService.ERROR_PERMISSION_DENIED -> PermissionDenied(message)
            IKeyholdService.ERROR_OPERATION_NOT_ALLOWED -> OperationNotAllowed(message)
            IKeyholdService.ERROR_INCOMPATIBLE_KEY -> IncompatibleKey(message)
            IKeyholdService.ERROR_INVALID_PATH -> InvalidPath(message)
            IKeyholdService.ERROR_INVALID_MNEMONIC -> InvalidMnemonic(message)
            IKeyholdService.ERROR_INVALID_KEY_MATERIAL -> InvalidKeyMaterial(message)
            IKeyholdService.ERROR_INVALID_ARGUMENT -> InvalidArgument(message)
            IKeyholdService.ERROR_ALIAS_EXISTS -> AliasExists(message)
            IKeyholdService.ERROR_USAGE_LIMIT_EXCEEDED -> UsageLimitExceeded(message)
            IKeyholdService.ERROR_PATH_NOT_ALLOWED -> PathNotAllowed(message)
            IKeyholdService.ERROR_DECRYPTION_FAILED -> DecryptionFailed(message)
            IKeyholdService.ERROR_SEALER_UNAVAILABLE -> SealerUnavailable(message)
            IKeyholdService.ERROR_SEALER_KEY_INVALIDATED -> SealerKeyInvalidated(message)
            IKeyholdService.ERROR_CORRUPT_KEY_RECORD -> CorruptKeyRecord(message)
            IKeyholdService.ERROR_STORAGE_FAILURE -> StorageFailure(message)
            IKeyholdService.ERROR_SELF_TEST_FAILED -> SelfTestFailed(message)
            IKeyholdService.ERROR_UNSUPPORTED_VERSION -> UnsupportedVersion(message)
            IKeyholdService.ERROR_UNAVAILABLE -> Unavailable(message)
            IKeyholdService.ERROR_INTERNAL -> Internal(message)
            else -> Unknown(code, message)
        }
    }
}
