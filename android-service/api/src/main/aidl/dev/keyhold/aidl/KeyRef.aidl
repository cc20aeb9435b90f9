package dev.keyhold.aidl;

/**
 * Names a key: by the hex id the service returned, or by alias in the
 * caller's namespace. Mirrors keyhold.v1.KeyRef (a oneof): `by` is
 * IKeyholdService.KEY_REF_BY_ID or KEY_REF_BY_ALIAS; any other value is
 * refused by the core with ERROR_MALFORMED_REQUEST.
 *
 * Fields are only ever appended (structured parcelables skip fields they do
 * not know).
 */
parcelable KeyRef {
    int by;
    @nullable String value;
}
