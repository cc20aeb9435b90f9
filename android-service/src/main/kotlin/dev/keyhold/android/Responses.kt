package dev.keyhold.android

import dev.keyhold.aidl.Agreement
import dev.keyhold.aidl.CallerRule
import dev.keyhold.aidl.DerivedKey
import dev.keyhold.aidl.KeyInfo
import dev.keyhold.aidl.KeyPage
import dev.keyhold.aidl.KeyPolicy
import dev.keyhold.aidl.PublicKey
import dev.keyhold.proto.AgreeResponse
import dev.keyhold.proto.DeriveKeyResponse
import dev.keyhold.proto.GetPublicKeyResponse
import dev.keyhold.proto.ListKeysResponse
import dev.keyhold.proto.CallerRule as PbCallerRule
import dev.keyhold.proto.KeyInfo as PbKeyInfo
import dev.keyhold.proto.KeyPolicy as PbKeyPolicy

/** `keyhold.v1` results -> AIDL parcelables, field by field. */
internal object Responses {
    fun PbKeyInfo.toAidl(): KeyInfo = KeyInfo().also {
        it.id = id
        it.alias = alias
        it.algorithm = algorithmValue
        it.hdScheme = hdSchemeValue
        it.origin = originValue
        it.publicKey = publicKey.toByteArray()
        it.policy = policy.toAidl()
        it.usageCount = usageCount
        it.createdAtMs = createdAtMs
        it.sealer = sealer
    }

    fun ListKeysResponse.toAidl(): KeyPage = KeyPage().also {
        it.keys = keysList.map { key -> key.toAidl() }.toTypedArray()
        it.hasNextAfterId = hasNextAfterId()
        it.nextAfterId = nextAfterId
    }

    fun GetPublicKeyResponse.toAidl(): PublicKey = PublicKey().also {
        it.bytes = publicKey.toByteArray()
        it.text = text.ifEmpty { null }
    }

    fun DeriveKeyResponse.toAidl(): DerivedKey = DerivedKey().also {
        it.publicKey = publicKey.toByteArray()
        it.xpub = xpub.ifEmpty { null }
        it.stored = if (hasStored()) stored.toAidl() else null
    }

    fun AgreeResponse.toAidl(): Agreement = Agreement().also {
        it.derivedSecret = if (hasStored()) null else derivedSecret.toByteArray()
        it.stored = if (hasStored()) stored.toAidl() else null
    }

    private fun PbKeyPolicy.toAidl(): KeyPolicy = KeyPolicy().also {
        it.allowedCallers = allowedCallersList.map { rule -> rule.toAidl() }.toTypedArray()
        it.allowedOperations = allowedOperationsValueList.toIntArray()
        it.allowedPathPrefixes = allowedPathPrefixesList.toTypedArray()
        it.maxUses = maxUses
        it.bindToCallerCode = bindToCallerCode
    }

    private fun PbCallerRule.toAidl(): CallerRule = CallerRule().also {
        it.hasUid = hasUid()
        it.uid = uid
        it.appId = if (hasAppId()) appId else null
        it.codeSha256 = codeSha256.toByteArray()
    }
}
