package dev.keyhold.aidl;

import dev.keyhold.aidl.KeyInfo;

/**
 * Result of deriveKey: the child's public key (SEC1 compressed or raw), its
 * xpub (BIP32 secp256k1 only) and, when it was stored, its KeyInfo.
 */
parcelable DerivedKey {
    byte[] publicKey;
    @nullable String xpub;
    @nullable KeyInfo stored;
}
