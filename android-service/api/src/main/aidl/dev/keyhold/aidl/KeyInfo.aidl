package dev.keyhold.aidl;

import dev.keyhold.aidl.KeyPolicy;

/**
 * Public metadata of a key (keyhold.v1.KeyInfo). Never contains private
 * material. `algorithm`, `hdScheme` and `origin` hold the ALGORITHM_*,
 * HD_SCHEME_* and KEY_ORIGIN_* values of IKeyholdService.
 */
parcelable KeyInfo {
    String id;
    String alias;
    int algorithm;
    int hdScheme;
    int origin;
    byte[] publicKey;
    KeyPolicy policy;
    long usageCount;
    long createdAtMs;
    String sealer;
}
