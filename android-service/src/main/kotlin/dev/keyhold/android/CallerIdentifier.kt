package dev.keyhold.android

import android.content.pm.PackageManager
import android.content.pm.Signature
import com.google.protobuf.ByteString
import dev.keyhold.proto.AndroidApp
import dev.keyhold.proto.AndroidPackage
import dev.keyhold.proto.CallerIdentity
import java.security.MessageDigest

/**
 * Gathers what the platform says about a calling uid, as a
 * `keyhold.v1.CallerIdentity`: every package of the uid, each with the
 * SHA-256 of its current signing certificates and of its past ones (APK
 * signature scheme v3 rotation history).
 *
 * It decides nothing: the core (`Caller::android`) refuses an unknown uid (no
 * package), a shared uid (several packages) and a package without a
 * certificate, and binds keys to (package, certificate).
 */
internal class CallerIdentifier(private val packageManager: PackageManager) {
    /** The encoded identity of [uid]. Call with `Binder.getCallingUid()` read on the Binder thread. */
    fun identify(uid: Int): ByteArray = CallerIdentity.newBuilder()
        .setAndroid(
            AndroidApp.newBuilder()
                .setUid(uid)
                .addAllPackages(packageManager.getPackagesForUid(uid).orEmpty().map(::describe)),
        )
        .build()
        .toByteArray()

    private fun describe(packageName: String): AndroidPackage {
        val builder = AndroidPackage.newBuilder().setPackageName(packageName)
        // A package that vanished since getPackagesForUid reports no certificate; the core refuses it.
        val signing = try {
            packageManager.getPackageInfo(packageName, PackageManager.GET_SIGNING_CERTIFICATES).signingInfo
        } catch (e: PackageManager.NameNotFoundException) {
            null
        } ?: return builder.build()
        val current = signing.apkContentsSigners.orEmpty().map(::sha256)
        // The history (oldest first, ending with the current certificate) exists only for a single signer.
        val history = if (signing.hasMultipleSigners()) emptyList() else signing.signingCertificateHistory.orEmpty().map(::sha256)
        return builder
            .addAllSigningCertSha256(current)
            .addAllPastSigningCertSha256(history.filterNot(current::contains))
            .build()
    }

    private fun sha256(certificate: Signature): ByteString =
        ByteString.copyFrom(MessageDigest.getInstance("SHA-256").digest(certificate.toByteArray()))
}
