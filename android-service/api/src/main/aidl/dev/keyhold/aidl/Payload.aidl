package dev.keyhold.aidl;

/**
 * What to sign or verify: a message hashed by the scheme
 * (IKeyholdService.PAYLOAD_MESSAGE) or a 32-byte digest the caller already
 * computed (PAYLOAD_DIGEST).
 */
parcelable Payload {
    int kind;
    byte[] data;
}
