package dev.keyhold.android

import com.google.protobuf.ByteString
import dev.keyhold.aidl.IKeyholdService
import dev.keyhold.aidl.ImportMaterial
import dev.keyhold.aidl.KeyPolicy
import dev.keyhold.aidl.KeyRef
import dev.keyhold.aidl.Payload
import dev.keyhold.proto.AgreeRequest
import dev.keyhold.proto.DecryptRequest
import dev.keyhold.proto.DeleteKeyRequest
import dev.keyhold.proto.DeriveKeyRequest
import dev.keyhold.proto.EncryptRequest
import dev.keyhold.proto.GenerateKeyRequest
import dev.keyhold.proto.GetKeyInfoRequest
import dev.keyhold.proto.GetPublicKeyRequest
import dev.keyhold.proto.ImportKeyRequest
import dev.keyhold.proto.ListKeysRequest
import dev.keyhold.proto.Mnemonic
import dev.keyhold.proto.Request
import dev.keyhold.proto.SignRequest
import dev.keyhold.proto.VerifyRequest
import dev.keyhold.proto.CallerRule as PbCallerRule
import dev.keyhold.proto.KeyPolicy as PbKeyPolicy
import dev.keyhold.proto.KeyRef as PbKeyRef

/**
 * AIDL arguments -> `keyhold.v1.Request`, field by field. No checks: a
 * missing or unknown value is passed on as such and refused by the core
 * (which owns every rule). Nulls become the proto defaults.
 */
internal object Requests {
    fun generateKey(alias: String?, algorithm: Int, hdScheme: Int, policy: KeyPolicy?): Request.Builder =
        Request.newBuilder().setGenerateKey(
            GenerateKeyRequest.newBuilder()
                .setAlias(alias.orEmpty())
                .setAlgorithmValue(algorithm)
                .setHdSchemeValue(hdScheme)
                .setPolicy(policy.toProto()),
        )

    fun importKey(alias: String?, algorithm: Int, hdScheme: Int, material: ImportMaterial?, policy: KeyPolicy?): Request.Builder =
        Request.newBuilder().setImportKey(
            ImportKeyRequest.newBuilder()
                .setAlias(alias.orEmpty())
                .setAlgorithmValue(algorithm)
                .setHdSchemeValue(hdScheme)
                .setPolicy(policy.toProto())
                .setMaterial(material),
        )

    fun getPublicKey(key: KeyRef?, format: Int, path: String?): Request.Builder =
        Request.newBuilder().setGetPublicKey(
            GetPublicKeyRequest.newBuilder().setKey(key.toProto()).setFormatValue(format).setPath(path.orEmpty()),
        )

    fun sign(key: KeyRef?, scheme: Int, payload: Payload?, path: String?): Request.Builder =
        Request.newBuilder().setSign(
            SignRequest.newBuilder().setKey(key.toProto()).setSchemeValue(scheme).setPath(path.orEmpty()).also { b ->
                when (payload?.kind) {
                    IKeyholdService.PAYLOAD_MESSAGE -> b.message = payload.data.bytes()
                    IKeyholdService.PAYLOAD_DIGEST -> b.digest = payload.data.bytes()
                }
            },
        )

    fun verify(key: KeyRef?, scheme: Int, payload: Payload?, signature: ByteArray?, path: String?): Request.Builder =
        Request.newBuilder().setVerify(
            VerifyRequest.newBuilder().setKey(key.toProto()).setSchemeValue(scheme).setPath(path.orEmpty())
                .setSignature(signature.bytes()).also { b ->
                    when (payload?.kind) {
                        IKeyholdService.PAYLOAD_MESSAGE -> b.message = payload.data.bytes()
                        IKeyholdService.PAYLOAD_DIGEST -> b.digest = payload.data.bytes()
                    }
                },
        )

    fun deriveKey(key: KeyRef?, path: String?, storeAsAlias: String?, policy: KeyPolicy?): Request.Builder =
        Request.newBuilder().setDeriveKey(
            DeriveKeyRequest.newBuilder().setKey(key.toProto()).setPath(path.orEmpty())
                .setStoreAsAlias(storeAsAlias.orEmpty()).setPolicy(policy.toProto()),
        )

    fun encrypt(key: KeyRef?, plaintext: ByteArray?, associatedData: ByteArray?): Request.Builder =
        Request.newBuilder().setEncrypt(
            EncryptRequest.newBuilder().setKey(key.toProto()).setPlaintext(plaintext.bytes())
                .setAssociatedData(associatedData.bytes()),
        )

    fun decrypt(key: KeyRef?, ciphertext: ByteArray?, associatedData: ByteArray?): Request.Builder =
        Request.newBuilder().setDecrypt(
            DecryptRequest.newBuilder().setKey(key.toProto()).setCiphertext(ciphertext.bytes())
                .setAssociatedData(associatedData.bytes()),
        )

    fun deleteKey(key: KeyRef?): Request.Builder =
        Request.newBuilder().setDeleteKey(DeleteKeyRequest.newBuilder().setKey(key.toProto()))

    /** `limit` is the proto's uint32: a negative Int is a large limit, which the core caps. */
    fun listKeysPage(hasAfterId: Boolean, afterId: Long, limit: Int): Request.Builder =
        Request.newBuilder().setListKeys(
            ListKeysRequest.newBuilder().setLimit(limit).apply { if (hasAfterId) setAfterId(afterId) },
        )

    fun getKeyInfo(key: KeyRef?): Request.Builder =
        Request.newBuilder().setGetKeyInfo(GetKeyInfoRequest.newBuilder().setKey(key.toProto()))

    @Suppress("LongParameterList")
    fun agree(
        key: KeyRef?,
        peerPublicKey: ByteArray?,
        hkdfSalt: ByteArray?,
        hkdfInfo: ByteArray?,
        outputLength: Int,
        storeAsAlias: String?,
        policy: KeyPolicy?,
    ): Request.Builder = Request.newBuilder().setAgree(
        AgreeRequest.newBuilder().setKey(key.toProto()).setPeerPublicKey(peerPublicKey.bytes())
            .setHkdfSalt(hkdfSalt.bytes()).setHkdfInfo(hkdfInfo.bytes()).setOutputLength(outputLength)
            .setStoreAsAlias(storeAsAlias.orEmpty()).setPolicy(policy.toProto()),
    )

    /** The material oneof; the service's copies of the secret arrays are wiped once copied. */
    private fun ImportKeyRequest.Builder.setMaterial(material: ImportMaterial?): ImportKeyRequest.Builder = apply {
        val data = material?.data ?: ByteArray(0)
        when (material?.kind) {
            IKeyholdService.MATERIAL_RAW_PRIVATE_KEY -> rawPrivateKey = data.bytes()
            IKeyholdService.MATERIAL_PKCS8 -> pkcs8 = data.bytes()
            IKeyholdService.MATERIAL_SEC1 -> sec1 = data.bytes()
            IKeyholdService.MATERIAL_MNEMONIC -> mnemonic = Mnemonic.newBuilder()
                .setPhrase(data.bytes())
                .setPassphrase(material.passphrase.bytes())
                .build()
            IKeyholdService.MATERIAL_SEED -> seed = data.bytes()
            IKeyholdService.MATERIAL_XPRV -> xprv = data.bytes()
        }
        data.fill(0)
        material?.passphrase?.fill(0)
    }

    private fun KeyRef?.toProto(): PbKeyRef = PbKeyRef.newBuilder().also { b ->
        when (this?.by) {
            IKeyholdService.KEY_REF_BY_ID -> b.id = value.orEmpty()
            IKeyholdService.KEY_REF_BY_ALIAS -> b.alias = value.orEmpty()
        }
    }.build()

    private fun KeyPolicy?.toProto(): PbKeyPolicy = PbKeyPolicy.newBuilder().also { b ->
        this ?: return@also
        b.addAllAllowedCallers(allowedCallers.orEmpty().filterNotNull().map { rule ->
            PbCallerRule.newBuilder().also { r ->
                if (rule.hasUid) r.uid = rule.uid
                rule.appId?.let { r.appId = it }
                r.codeSha256 = rule.codeSha256.bytes()
            }.build()
        })
        b.addAllAllowedOperationsValue(allowedOperations?.toList().orEmpty())
        b.addAllAllowedPathPrefixes(allowedPathPrefixes.orEmpty().filterNotNull())
        b.maxUses = maxUses
        b.bindToCallerCode = bindToCallerCode
    }.build()

    private fun ByteArray?.bytes(): ByteString = if (this == null) ByteString.EMPTY else ByteString.copyFrom(this)
}
