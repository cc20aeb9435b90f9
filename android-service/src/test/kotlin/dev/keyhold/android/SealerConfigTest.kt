package dev.keyhold.android

import android.content.ComponentName
import android.content.pm.ServiceInfo
import android.os.Bundle
import dev.keyhold.aidl.IKeyholdService
import dev.keyhold.android.testing.KeyholdHarness
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf

/** The sealer configuration: documented defaults, manifest `<meta-data>`, refusal of malformed values. */
@RunWith(RobolectricTestRunner::class)
class SealerConfigTest {
    @Test
    fun defaultsAreTheDocumentedOnes() {
        for (config in listOf(SealerConfig(), SealerConfig.fromMetaData(null), SealerConfig.fromMetaData(Bundle()))) {
            assertEquals(KeystoreSealer.DEFAULT_ALIAS, config.alias)
            assertTrue(config.preferStrongBox)
            assertFalse(config.unlockedDeviceRequired)
            assertEquals(0, config.userAuthenticationSeconds)
        }
    }

    @Test
    fun readsEveryOption() {
        val meta = Bundle().apply {
            putString(SealerConfig.META_ALIAS, "wallet-kek")
            putBoolean(SealerConfig.META_PREFER_STRONGBOX, false)
            putBoolean(SealerConfig.META_UNLOCKED_DEVICE_REQUIRED, true)
            putInt(SealerConfig.META_USER_AUTHENTICATION_SECONDS, 300)
        }
        val config = SealerConfig.fromMetaData(meta)
        assertEquals("wallet-kek", config.alias)
        assertFalse(config.preferStrongBox)
        assertTrue(config.unlockedDeviceRequired)
        assertEquals(300, config.userAuthenticationSeconds)
    }

    @Test
    fun refusesMalformedValuesInsteadOfFallingBackToDefaults() {
        val bad = listOf(
            Bundle().apply { putString(SealerConfig.META_UNLOCKED_DEVICE_REQUIRED, "yes") },
            Bundle().apply { putString(SealerConfig.META_USER_AUTHENTICATION_SECONDS, "300") },
            Bundle().apply { putInt(SealerConfig.META_USER_AUTHENTICATION_SECONDS, -1) },
            Bundle().apply { putInt(SealerConfig.META_ALIAS, 3) },
            Bundle().apply { putString(SealerConfig.META_ALIAS, " ") },
        )
        for (meta in bad) {
            try {
                SealerConfig.fromMetaData(meta)
                fail("accepted $meta")
            } catch (e: IllegalArgumentException) {
                assertTrue(e.message, e.message!!.isNotEmpty())
            }
        }
    }

    @Test
    fun theServiceBuildsItsSealerFromItsManifestEntry() {
        val app = RuntimeEnvironment.getApplication()
        val info = ServiceInfo().apply {
            packageName = app.packageName
            name = KeyholdService::class.java.name
            metaData = Bundle().apply { putBoolean(SealerConfig.META_UNLOCKED_DEVICE_REQUIRED, true) }
        }
        shadowOf(app.packageManager).addOrUpdateService(info)
        assertEquals(
            ComponentName(app, KeyholdService::class.java),
            ComponentName(info.packageName, info.name),
        )
        KeyholdHarness().use { h ->
            h.proxy.generateKey("k", IKeyholdService.ALGORITHM_SECP256K1, 0, null)
            assertTrue(
                "the manifest's option reached the Keystore key",
                h.keystore.entry(KeystoreSealer.DEFAULT_ALIAS)!!.unlockedDeviceRequired,
            )
        }
    }
}
