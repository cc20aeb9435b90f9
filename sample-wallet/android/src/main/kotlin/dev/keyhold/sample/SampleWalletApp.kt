package dev.keyhold.sample

import android.app.Application
import dev.keyhold.sdk.Keyhold

/**
 * The sample wallet's Application. Android creates it in every process of
 * the app, including the embedded service's `:keyhold` process, so anything
 * that watches or uploads the process (analytics, crash reporters, ad SDKs)
 * must not start there: the keys live in that process's memory.
 */
class SampleWalletApp : Application() {
    /** How often the app-wide services (a stand-in for analytics and crash reporting) were started. */
    var reportingStarts = 0
        private set

    override fun onCreate() {
        super.onCreate()
        if (Keyhold.isServiceProcess(this)) return // the Keyhold process: nothing else runs here
        startReporting()
    }

    /** Where a real wallet would start its analytics and crash reporting. */
    private fun startReporting() {
        reportingStarts++
    }
}
