package dev.keyhold.android

import android.app.Service
import android.content.BroadcastReceiver
import android.content.ComponentCallbacks2
import android.content.ComponentName
import android.content.Context
import android.content.Intent
import android.content.IntentFilter
import android.content.pm.PackageManager
import android.os.Build
import android.os.Bundle
import android.os.IBinder
import java.io.File

/**
 * The Keyhold bound service. Declared by the app that hosts it (see
 * README.md): exported and permission-guarded in the companion KMS APK, or
 * private in `android:process=":keyhold"` in a wallet (embedded mode).
 *
 * Keys are unsealed lazily and cached by the core; they are forgotten
 * (`lock`) when the screen turns off and under memory pressure.
 *
 * The Keystore wrapping key is configured by the `<meta-data>` of the
 * declaring `<service>` element ([SealerConfig], README "Sealer
 * configuration"); without any, the documented defaults apply.
 */
class KeyholdService : Service() {
    private lateinit var engine: KeyholdEngine
    private lateinit var binder: KeyholdBinder

    private val screenOff = object : BroadcastReceiver() {
        override fun onReceive(context: Context, intent: Intent) = engine.lock()
    }

    override fun onCreate() {
        super.onCreate()
        // Read once, before any key exists: a malformed configuration stops the service here.
        val config = SealerConfig.fromMetaData(serviceMetaData())
        engine = KeyholdEngine(dataDir(this)) { KeystoreSealer(this, config) }
        binder = KeyholdBinder(engine, CallerIdentifier(packageManager), CallGuard(this))
        val filter = IntentFilter(Intent.ACTION_SCREEN_OFF)
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU) {
            registerReceiver(screenOff, filter, Context.RECEIVER_NOT_EXPORTED)
        } else {
            registerReceiver(screenOff, filter)
        }
    }

    override fun onBind(intent: Intent): IBinder = binder

    /** The `<meta-data>` of this service's manifest entry (the sealer configuration), if declared. */
    private fun serviceMetaData(): Bundle? = try {
        @Suppress("DEPRECATION") // getServiceInfo(ComponentName, ComponentInfoFlags) is API 33+.
        packageManager.getServiceInfo(ComponentName(this, javaClass), PackageManager.GET_META_DATA).metaData
    } catch (e: PackageManager.NameNotFoundException) {
        null
    }

    override fun onTrimMemory(level: Int) {
        super.onTrimMemory(level)
        if (level >= ComponentCallbacks2.TRIM_MEMORY_BACKGROUND) engine.lock()
    }

    /** Forgets every unsealed key now. */
    fun lock() = engine.lock()

    override fun onDestroy() {
        unregisterReceiver(screenOff)
        engine.close()
        super.onDestroy()
    }

    companion object {
        /** Permission a companion-mode client must hold (signature|knownSigner in the KMS APK). */
        const val PERMISSION = "dev.keyhold.permission.BIND_KEYHOLD"

        /** Intent action the service answers to. */
        const val ACTION_BIND = "dev.keyhold.action.BIND"

        /**
         * Where the database lives: `no_backup/keyhold/` (never in Auto Backup);
         * the backup rules in res/xml also exclude it explicitly, including
         * from device-to-device transfer.
         */
        fun dataDir(context: Context): File = File(context.noBackupFilesDir, "keyhold")
    }
}
