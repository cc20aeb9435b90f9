package dev.keyhold.sdk

import android.content.pm.PackageInfo
import android.content.pm.PackageManager
import android.content.pm.Signature
import android.content.pm.SigningInfo
import android.os.Build
import org.robolectric.Shadows.shadowOf
import org.robolectric.RuntimeEnvironment
import org.robolectric.annotation.Implementation
import org.robolectric.annotation.Implements
import org.robolectric.shadow.api.Shadow
import org.robolectric.shadows.ShadowApplicationPackageManager
import org.robolectric.shadows.ShadowSigningInfo
import java.security.MessageDigest

/**
 * `PackageManager.hasSigningCertificate(String, byte[], int)` for Robolectric,
 * which does not implement it (its IPackageManager stand-in does not answer
 * the call). Modelled on AOSP: the package manager looks up the installed
 * package and asks its `SigningDetails`:
 *
 * - a package that is not installed (or, API 30+, not visible to the caller,
 *   which tests express by not installing it) answers false;
 * - `CERT_INPUT_SHA256`: `hasSha256Certificate` (AOSP
 *   `core/java/android/content/pm/SigningDetails.java`) matches a past
 *   certificate of the rotation lineage, or the current signer, and answers
 *   false for a package with several signers ("rotation is only supported for
 *   single-signers");
 * - `CERT_INPUT_RAW_X509`: the same over the certificates' bytes;
 * - any other type answers false.
 *
 * The installed packages are the ones tests give ShadowPackageManager, with
 * their SigningInfo set through ShadowSigningInfo, as KeyholdHarness does.
 *
 * The shadowed class is named by string: `android.app.ApplicationPackageManager`
 * is `@hide`, absent from the public android.jar AGP compiles tests against.
 */
@Implements(className = "android.app.ApplicationPackageManager", isInAndroidSdk = false)
class ShadowSigningCertificates : ShadowApplicationPackageManager() {
    @Implementation(minSdk = Build.VERSION_CODES.P)
    protected fun hasSigningCertificate(packageName: String, certificate: ByteArray, type: Int): Boolean {
        val info = installed(packageName) ?: return false
        val signing = info.signingInfo ?: return false
        if (signing.hasMultipleSigners()) return false
        val certificates = signing.signingCertificateHistory.orEmpty().toList() + signing.apkContentsSigners.orEmpty().toList()
        return when (type) {
            PackageManager.CERT_INPUT_SHA256 -> certificates.any { sha256(it.toByteArray()).contentEquals(certificate) }
            PackageManager.CERT_INPUT_RAW_X509 -> certificates.any { it.toByteArray().contentEquals(certificate) }
            else -> false
        }
    }

    private fun installed(packageName: String): PackageInfo? =
        try {
            RuntimeEnvironment.getApplication().packageManager.getPackageInfo(packageName, PackageManager.GET_SIGNING_CERTIFICATES)
        } catch (e: PackageManager.NameNotFoundException) {
            null
        }

    companion object {
        fun sha256(bytes: ByteArray): ByteArray = MessageDigest.getInstance("SHA-256").digest(bytes)

        /**
         * Installs [packageName] signed by [signers] (current; several = a
         * multi-signer APK) after [past] (the rotation lineage, oldest first).
         */
        fun install(packageName: String, signers: List<ByteArray>, past: List<ByteArray> = emptyList()) {
            val app = RuntimeEnvironment.getApplication()
            val info = PackageInfo().apply {
                this.packageName = packageName
                signingInfo = SigningInfo().also {
                    val shadow = Shadow.extract<ShadowSigningInfo>(it)
                    shadow.setSignatures(signers.map(::Signature).toTypedArray())
                    if (past.isNotEmpty()) shadow.setPastSigningCertificates((past + signers).map(::Signature).toTypedArray())
                }
            }
            shadowOf(app.packageManager).installPackage(info)
        }

        fun uninstall(packageName: String) {
            shadowOf(RuntimeEnvironment.getApplication().packageManager).removePackage(packageName)
        }
    }
}
