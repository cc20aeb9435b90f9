package dev.keyhold.android

import android.os.Bundle

/**
 * How the Keystore wrapping key is made: chosen once by the app that hosts
 * [KeyholdService], through `<meta-data>` on its `<service>` element (see
 * [fromMetaData]); never by `if`s in code. It applies when the key is
 * created, that is when a store seals its first secret; changing it later
 * does not change an existing key.
 *
 * Defaults (documented in android-service/README.md, "Sealer configuration"):
 * StrongBox preferred (used only when the device declares
 * `FEATURE_STRONGBOX_KEYSTORE`, the TEE otherwise), no unlocked-device
 * requirement, no user-authentication binding. Both hardening options can
 * destroy the key through user actions (removing the lock screen), and the
 * first one has a platform bug on Android 12-14; see the README before
 * turning them on.
 */
class SealerConfig(
    /** Keystore alias of the wrapping key (a store that recorded another alias keeps using it). */
    val alias: String = KeystoreSealer.DEFAULT_ALIAS,
    /** Ask for StrongBox when the device has it (then the TEE on any StrongBox failure). */
    val preferStrongBox: Boolean = true,
    /**
     * `KeyGenParameterSpec.Builder.setUnlockedDeviceRequired(true)`: the key
     * decrypts only while the device is unlocked. On Android 12-14 such keys
     * cannot be created or used at all when the user has no secure lock
     * screen, and become permanently unusable when the lock screen is
     * removed (platform bug documented on `setUnlockedDeviceRequired`).
     */
    val unlockedDeviceRequired: Boolean = false,
    /**
     * When positive, the key is bound to user authentication and usable for
     * this many seconds after the user unlocks or authenticates (device
     * credential or strong biometric). The service cannot show a prompt, so
     * zero (per-use authentication) is not offered. Removing the secure lock
     * screen permanently invalidates such a key.
     */
    val userAuthenticationSeconds: Int = 0,
) {
    init {
        require(alias.isNotBlank()) { "the Keystore alias must not be blank" }
        require(userAuthenticationSeconds >= 0) {
            "userAuthenticationSeconds must be 0 (off) or positive, not $userAuthenticationSeconds"
        }
    }

    override fun toString(): String =
        "SealerConfig(alias=$alias, preferStrongBox=$preferStrongBox, " +
            "unlockedDeviceRequired=$unlockedDeviceRequired, userAuthenticationSeconds=$userAuthenticationSeconds)"

    companion object {
        /** `<meta-data android:name="dev.keyhold.sealer.ALIAS" android:value="..."/>` */
        const val META_ALIAS = "dev.keyhold.sealer.ALIAS"

        /** `<meta-data android:name="dev.keyhold.sealer.PREFER_STRONGBOX" android:value="true|false"/>` */
        const val META_PREFER_STRONGBOX = "dev.keyhold.sealer.PREFER_STRONGBOX"

        /** `<meta-data android:name="dev.keyhold.sealer.UNLOCKED_DEVICE_REQUIRED" android:value="true|false"/>` */
        const val META_UNLOCKED_DEVICE_REQUIRED = "dev.keyhold.sealer.UNLOCKED_DEVICE_REQUIRED"

        /** `<meta-data android:name="dev.keyhold.sealer.USER_AUTHENTICATION_SECONDS" android:value="300"/>` */
        const val META_USER_AUTHENTICATION_SECONDS = "dev.keyhold.sealer.USER_AUTHENTICATION_SECONDS"

        /**
         * Reads the service's `<meta-data>`; a key that is absent keeps its
         * default. A value of the wrong type is refused (the platform's
         * `Bundle.getBoolean` would silently return the default, turning a
         * hardening option off): fail closed with [IllegalArgumentException].
         */
        fun fromMetaData(meta: Bundle?): SealerConfig {
            if (meta == null) return SealerConfig()
            val defaults = SealerConfig()
            return SealerConfig(
                alias = if (meta.containsKey(META_ALIAS)) {
                    meta.getString(META_ALIAS) ?: throw wrongType(META_ALIAS, "a string")
                } else {
                    defaults.alias
                },
                preferStrongBox = boolean(meta, META_PREFER_STRONGBOX, defaults.preferStrongBox),
                unlockedDeviceRequired = boolean(meta, META_UNLOCKED_DEVICE_REQUIRED, defaults.unlockedDeviceRequired),
                userAuthenticationSeconds = int(meta, META_USER_AUTHENTICATION_SECONDS, defaults.userAuthenticationSeconds),
            )
        }

        private fun boolean(meta: Bundle, key: String, default: Boolean): Boolean {
            if (!meta.containsKey(key)) return default
            // getBoolean returns its default for a value of another type: ask twice to tell.
            val a = meta.getBoolean(key, false)
            val b = meta.getBoolean(key, true)
            if (a != b) throw wrongType(key, "a boolean (android:value=\"true\" or \"false\")")
            return a
        }

        private fun int(meta: Bundle, key: String, default: Int): Int {
            if (!meta.containsKey(key)) return default
            val a = meta.getInt(key, 0)
            val b = meta.getInt(key, 1)
            if (a != b) throw wrongType(key, "an integer (android:value=\"300\")")
            return a
        }

        private fun wrongType(key: String, expected: String) =
            IllegalArgumentException("Keyhold sealer configuration: <meta-data $key> must be $expected")
    }
}
