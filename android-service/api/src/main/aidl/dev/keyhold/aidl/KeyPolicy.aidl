package dev.keyhold.aidl;

import dev.keyhold.aidl.CallerRule;

/**
 * A key's policy (keyhold.v1.KeyPolicy). Empty lists mean the defaults: only
 * the creator (package + signing certificate), every operation the algorithm
 * supports, any path. `allowedOperations` holds OPERATION_* values;
 * `maxUses` 0 is unlimited.
 */
parcelable KeyPolicy {
    @nullable CallerRule[] allowedCallers;
    @nullable int[] allowedOperations;
    @nullable String[] allowedPathPrefixes;
    long maxUses;
    boolean bindToCallerCode;
}
