package dev.keyhold.aidl;

/**
 * Key material to import (the oneof of keyhold.v1.ImportKeyRequest). `kind`
 * is one of IKeyholdService.MATERIAL_*. Text material (mnemonic, xprv) is
 * UTF-8 in `data` so the client can wipe its copy; `passphrase` is the BIP39
 * passphrase (UTF-8) for MATERIAL_MNEMONIC and ignored otherwise.
 */
parcelable ImportMaterial {
    int kind;
    byte[] data;
    @nullable byte[] passphrase;
}
