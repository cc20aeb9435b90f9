package dev.keyhold.sdk

import dev.keyhold.aidl.IKeyholdService
import dev.keyhold.aidl.Agreement as AidlAgreement
import dev.keyhold.aidl.CallerRule as AidlCallerRule
import dev.keyhold.aidl.DerivedKey as AidlDerivedKey
import dev.keyhold.aidl.ImportMaterial as AidlImportMaterial
import dev.keyhold.aidl.KeyInfo as AidlKeyInfo
import dev.keyhold.aidl.KeyPolicy as AidlKeyPolicy
import dev.keyhold.aidl.KeyRef as AidlKeyRef
import dev.keyhold.aidl.Payload as AidlPayload
import dev.keyhold.aidl.PublicKey as AidlPublicKey

/** SDK types <-> AIDL parcelables, field by field. */
internal object Convert {
    fun KeyRef.toAidl(): AidlKeyRef = AidlKeyRef().also {
        when (this) {
            is KeyRef.Id -> { it.by = IKeyholdService.KEY_REF_BY_ID; it.value = id }
            is KeyRef.Alias -> { it.by = IKeyholdService.KEY_REF_BY_ALIAS; it.value = alias }
        }
    }

    fun Payload.toAidl(): AidlPayload = AidlPayload().also {
        when (this) {
            is Payload.Message -> { it.kind = IKeyholdService.PAYLOAD_MESSAGE; it.data = bytes }
            is Payload.Digest -> { it.kind = IKeyholdService.PAYLOAD_DIGEST; it.data = bytes }
        }
    }

    /** The AIDL material and the algorithm / HD scheme arguments that go with it. */
    class Import(val material: AidlImportMaterial, val algorithm: Int, val hdScheme: Int)

    fun ImportMaterial.toAidl(): Import {
        val out = AidlImportMaterial()
        var algorithm = IKeyholdService.ALGORITHM_UNSPECIFIED
        var scheme = IKeyholdService.HD_SCHEME_NONE
        when (this) {
            is ImportMaterial.RawPrivateKey -> { out.kind = IKeyholdService.MATERIAL_RAW_PRIVATE_KEY; out.data = bytes; algorithm = this.algorithm.value }
            is ImportMaterial.Pkcs8 -> { out.kind = IKeyholdService.MATERIAL_PKCS8; out.data = bytes; algorithm = this.algorithm.wire() }
            is ImportMaterial.Sec1 -> { out.kind = IKeyholdService.MATERIAL_SEC1; out.data = bytes; algorithm = this.algorithm.wire() }
            is ImportMaterial.Mnemonic -> {
                out.kind = IKeyholdService.MATERIAL_MNEMONIC; out.data = phrase; out.passphrase = passphrase; scheme = this.scheme.value
            }
            is ImportMaterial.Seed -> { out.kind = IKeyholdService.MATERIAL_SEED; out.data = seed; scheme = this.scheme.value }
            is ImportMaterial.Xprv -> { out.kind = IKeyholdService.MATERIAL_XPRV; out.data = text; scheme = IKeyholdService.HD_SCHEME_BIP32_SECP256K1 }
        }
        return Import(out, algorithm, scheme)
    }

    private fun Algorithm?.wire(): Int = this?.value ?: IKeyholdService.ALGORITHM_UNSPECIFIED

    fun KeyPolicy.toAidl(): AidlKeyPolicy = AidlKeyPolicy().also {
        it.allowedCallers = allowedCallers.map { rule ->
            AidlCallerRule().apply {
                hasUid = rule.uid != null
                uid = rule.uid ?: 0
                appId = rule.appId
                codeSha256 = rule.codeSha256
            }
        }.toTypedArray()
        it.allowedOperations = allowedOperations.map(Operation::value).toIntArray()
        it.allowedPathPrefixes = allowedPathPrefixes.toTypedArray()
        it.maxUses = maxUses
        it.bindToCallerCode = bindToCallerCode
    }

    fun AidlKeyPolicy?.toSdk(): KeyPolicy = if (this == null) {
        KeyPolicy()
    } else {
        KeyPolicy(
            allowedCallers = allowedCallers.orEmpty().filterNotNull().map {
                CallerRule(uid = it.uid.takeIf { _ -> it.hasUid }, appId = it.appId, codeSha256 = it.codeSha256?.takeIf { c -> c.isNotEmpty() })
            },
            allowedOperations = allowedOperations?.toList().orEmpty().mapNotNull { op -> Operation.of(op) }.toSet(),
            allowedPathPrefixes = allowedPathPrefixes.orEmpty().filterNotNull(),
            maxUses = maxUses,
            bindToCallerCode = bindToCallerCode,
        )
    }

    fun AidlKeyInfo.toSdk(): KeyInfo = KeyInfo(
        id = id.orEmpty(),
        alias = alias.orEmpty(),
        algorithm = Algorithm.of(algorithm),
        hdScheme = HdScheme.of(hdScheme),
        origin = KeyOrigin.of(origin),
        publicKey = publicKey ?: ByteArray(0),
        policy = policy.toSdk(),
        usageCount = usageCount,
        createdAtMs = createdAtMs,
        sealer = sealer.orEmpty(),
    )

    fun AidlPublicKey.toSdk(): PublicKey = PublicKey(bytes ?: ByteArray(0), text)

    fun AidlDerivedKey.toSdk(): DerivedKey = DerivedKey(publicKey ?: ByteArray(0), xpub, stored?.toSdk())

    fun AidlAgreement.toSdk(): Agreement = Agreement(derivedSecret, stored?.toSdk())
}
