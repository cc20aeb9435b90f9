package dev.keyhold.sdk

import android.content.ComponentName
import android.content.Context
import android.content.pm.PackageManager

/**
 * Decides whether the app behind [component] is the genuine Keyhold KMS.
 *
 * Any app can be installed under the KMS package name when the real one is
 * absent (sideloaded, or on a device without the KMS), and binding it would
 * hand it mnemonics and signing requests. So in companion mode the SDK asks
 * the platform, before every bind, whether the package is signed by one of
 * the configured certificates:
 *
 * `PackageManager.hasSigningCertificate(packageName, sha256, CERT_INPUT_SHA256)`
 * (API 28, AOSP `core/java/android/content/pm/PackageManager.java`), answered
 * by the package manager from the installed package's `SigningDetails`
 * (`hasSha256Certificate`, AOSP `core/java/android/content/pm/SigningDetails.java`):
 * - true when the digest is the current signer's, or a past signer's in the
 *   APK's rotation lineage (v3 signing), so a KMS that rotated its key still
 *   matches a digest of its original certificate;
 * - false when the package has several signers (rotation is single-signer only),
 *   when it is not installed, and when it is not visible to the calling app:
 *   from API 30 package visibility filtering applies, so the wallet's manifest
 *   needs `<queries><package android:name="dev.keyhold.kms"/></queries>`.
 *
 * Not installed / not visible is reported as [KeyholdException.Disconnected]
 * (nothing to talk to: install the KMS, or add `<queries>`); installed but not
 * signed by a configured certificate as [KeyholdException.UntrustedService].
 *
 * Embedded mode needs no check: the service is a component of the calling
 * app's own package, which only the app's own signer can install.
 */
internal class ServiceTrust private constructor(
    private val context: Context,
    private val component: ComponentName,
    private val certificatesSha256: List<ByteArray>,
) {
    private val ownPackage: Boolean get() = certificatesSha256.isEmpty()

    /** Throws unless [component]'s package is trusted right now. */
    fun check() {
        if (ownPackage) return
        val pm = context.packageManager
        val packageName = component.packageName
        if (certificatesSha256.any { pm.hasSigningCertificate(packageName, it, PackageManager.CERT_INPUT_SHA256) }) return
        val installed = try {
            pm.getPackageInfo(packageName, 0)
            true
        } catch (e: PackageManager.NameNotFoundException) {
            false
        }
        if (!installed) {
            throw KeyholdException.Disconnected(
                "$packageName is not installed, or not visible to this app " +
                    "(add <queries><package android:name=\"$packageName\"/></queries> to the manifest)",
            )
        }
        throw KeyholdException.UntrustedService(
            "$packageName is installed but not signed by the Keyhold KMS certificate this app trusts; " +
                "refusing to talk to it",
        )
    }

    /** Throws unless the connection that arrived is [component], still trusted. */
    fun checkConnected(connected: ComponentName) {
        if (connected != component) {
            throw KeyholdException.UntrustedService("connected to $connected, expected $component")
        }
        check()
    }

    companion object {
        /** SHA-256 digests are 32 bytes. */
        private const val SHA256_BYTES = 32

        /** The service is in the calling app's own package (embedded mode). */
        fun ownPackage(context: Context, component: ComponentName): ServiceTrust {
            require(component.packageName == context.packageName) {
                "${component.packageName} is another app: give the SHA-256 of its signing certificate"
            }
            return ServiceTrust(context, component, emptyList())
        }

        /** The service is another app, trusted when signed by one of [certificatesSha256]. */
        fun signedBy(context: Context, component: ComponentName, certificatesSha256: List<ByteArray>): ServiceTrust {
            require(certificatesSha256.isNotEmpty()) { "at least one trusted certificate digest is needed" }
            require(certificatesSha256.all { it.size == SHA256_BYTES }) { "certificate digests are SHA-256 (32 bytes)" }
            return ServiceTrust(context, component, certificatesSha256.map(ByteArray::copyOf))
        }

        /**
         * Parses a SHA-256 certificate digest as `apksigner verify --print-certs`
         * or `keytool -list` print it: 64 hex digits, optionally separated by colons.
         */
        fun parseSha256(hex: String): ByteArray {
            val digits = hex.replace(":", "").trim()
            require(digits.length == 2 * SHA256_BYTES && digits.all { it in '0'..'9' || it.lowercaseChar() in 'a'..'f' }) {
                "not a SHA-256 digest in hex: \"$hex\""
            }
            return ByteArray(SHA256_BYTES) { i -> digits.substring(2 * i, 2 * i + 2).toInt(16).toByte() }
        }
    }
}
