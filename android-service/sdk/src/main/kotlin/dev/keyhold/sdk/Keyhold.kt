package dev.keyhold.sdk

import android.app.Application
import android.content.ComponentName
import android.content.Context
import android.content.pm.PackageManager

/** App-level helpers for wallets that embed the Keyhold service. */
object Keyhold {
    /**
     * True in the process that runs the embedded Keyhold service (the
     * `android:process` of `dev.keyhold.android.KeyholdService` in this app's
     * manifest, e.g. `com.example.wallet:keyhold`).
     *
     * Android creates the app's `Application` in every process of the app, so
     * `Application.onCreate` also runs next to the keys. Start analytics,
     * crash reporters, ad SDKs and anything else that reads memory, logs or
     * uploads state only when this is false:
     *
     * ```kotlin
     * class WalletApp : Application() {
     *     override fun onCreate() {
     *         super.onCreate()
     *         if (Keyhold.isServiceProcess(this)) return // keys live here: nothing else
     *         Analytics.start(this)
     *     }
     * }
     * ```
     *
     * The current process name comes from `Application.getProcessName()` (API
     * 28) and the service's from the package manager (the manifest is the one
     * place that names it). False when the app declares no embedded service
     * (companion mode), and false when the service shares the main process
     * (then there is no separate process to keep clean).
     */
    @JvmStatic
    fun isServiceProcess(context: Context): Boolean {
        val serviceProcess = try {
            context.packageManager
                .getServiceInfo(ComponentName(context.packageName, KeyholdClient.SERVICE_CLASS), 0)
                .processName
        } catch (e: PackageManager.NameNotFoundException) {
            return false
        } ?: return false
        val mainProcess = context.applicationInfo.processName ?: context.packageName
        return serviceProcess != mainProcess && Application.getProcessName() == serviceProcess
    }
}
