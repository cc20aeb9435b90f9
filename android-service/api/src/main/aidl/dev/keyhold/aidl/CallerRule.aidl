package dev.keyhold.aidl;

/**
 * A rule permitting callers (keyhold.v1.CallerRule); every field that is set
 * must match. `hasUid` says whether `uid` is set (the proto field is
 * optional). `codeSha256` is a signing-certificate SHA-256 (32 bytes).
 */
parcelable CallerRule {
    boolean hasUid;
    int uid;
    @nullable String appId;
    @nullable byte[] codeSha256;
}
