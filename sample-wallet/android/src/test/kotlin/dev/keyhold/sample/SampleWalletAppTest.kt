package dev.keyhold.sample

import android.content.pm.ServiceInfo
import dev.keyhold.sdk.KeyholdClient
import org.junit.Assert.assertEquals
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.shadows.ShadowApplication

/** The sample's Application starts nothing in the embedded service's process. */
@RunWith(RobolectricTestRunner::class)
@Config(application = SampleWalletApp::class)
class SampleWalletAppTest {
    @Test
    fun reportingStartsInTheMainProcessOnly() {
        val app = RuntimeEnvironment.getApplication() as SampleWalletApp
        val startedAtLaunch = app.reportingStarts
        // The service as the sample's manifest declares it, in its own process.
        shadowOf(app.packageManager).addOrUpdateService(
            ServiceInfo().apply {
                packageName = app.packageName
                name = KeyholdClient.SERVICE_CLASS
                processName = "${app.packageName}:keyhold"
                applicationInfo = app.applicationInfo
            },
        )
        // Android runs Application.onCreate in the ":keyhold" process too.
        ShadowApplication.setProcessName("${app.packageName}:keyhold")
        app.onCreate()
        assertEquals("nothing started next to the keys", startedAtLaunch, app.reportingStarts)
        ShadowApplication.setProcessName(app.applicationInfo.processName ?: app.packageName)
        app.onCreate()
        assertEquals(startedAtLaunch + 1, app.reportingStarts)
    }
}
