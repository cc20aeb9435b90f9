package dev.keyhold.aidl;

import dev.keyhold.aidl.KeyInfo;

/**
 * Result of agree: the HKDF output (when not stored) or the KeyInfo of the
 * AES-256-GCM key it was stored as. The raw shared secret never leaves the
 * service.
 */
parcelable Agreement {
    @nullable byte[] derivedSecret;
    @nullable KeyInfo stored;
}
