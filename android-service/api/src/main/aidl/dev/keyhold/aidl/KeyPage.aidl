package dev.keyhold.aidl;

import dev.keyhold.aidl.KeyInfo;

/**
 * One bounded page of IKeyholdService.listKeysPage (keyhold.v1.ListKeysResponse):
 * keys in ascending key-id order. `hasNextAfterId` says whether more keys
 * follow; then `nextAfterId` (the last key's id as an unsigned 64-bit value)
 * is the `afterId` of the next page.
 */
parcelable KeyPage {
    KeyInfo[] keys;
    boolean hasNextAfterId;
    long nextAfterId;
}
