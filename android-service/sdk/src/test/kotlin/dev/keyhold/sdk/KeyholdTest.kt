package dev.keyhold.sdk

import android.content.ComponentName
import android.content.pm.ServiceInfo
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.shadows.ShadowApplication

/** Keyhold.isServiceProcess: true only in the process the manifest gives the embedded service. */
@RunWith(RobolectricTestRunner::class)
class KeyholdTest {
    private val app = RuntimeEnvironment.getApplication()
    private val pkg = app.packageName

    private fun declareService(process: String) {
        shadowOf(app.packageManager).addOrUpdateService(
            ServiceInfo().apply {
                packageName = pkg
                name = KeyholdClient.SERVICE_CLASS
                processName = process
                applicationInfo = app.applicationInfo
            },
        )
    }

    @Test
    fun trueOnlyInTheServicesOwnProcess() {
        declareService("$pkg:keyhold")
        ShadowApplication.setProcessName("$pkg:keyhold")
        assertTrue(Keyhold.isServiceProcess(app))
        ShadowApplication.setProcessName(pkg)
        assertFalse("the main process", Keyhold.isServiceProcess(app))
        ShadowApplication.setProcessName("$pkg:other")
        assertFalse("another private process", Keyhold.isServiceProcess(app))
    }

    @Test
    fun falseWithoutAnEmbeddedService() {
        // Companion-mode wallet: no KeyholdService in its manifest.
        val declared = runCatching {
            app.packageManager.getServiceInfo(ComponentName(pkg, KeyholdClient.SERVICE_CLASS), 0)
        }
        assertTrue("precondition: no service declared", declared.isFailure)
        ShadowApplication.setProcessName("$pkg:keyhold")
        assertFalse(Keyhold.isServiceProcess(app))
    }

    @Test
    fun falseWhenTheServiceSharesTheMainProcess() {
        declareService(app.applicationInfo.processName ?: pkg)
        ShadowApplication.setProcessName(app.applicationInfo.processName ?: pkg)
        assertFalse(Keyhold.isServiceProcess(app))
    }
}
