package dev.keyhold.aidl;

/**
 * An encoded public key. `text` is set for textual formats (PEM, JWK, xpub,
 * Ethereum and Bitcoin addresses).
 */
parcelable PublicKey {
    byte[] bytes;
    @nullable String text;
}
