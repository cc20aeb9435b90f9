package dev.keyhold.android

import android.content.Context
import android.content.pm.PackageManager
import android.os.Process

/**
 * Checks on every call that the caller may talk to the service at all
 * (OWASP MASTG-TEST-0029: the manifest permission guards binding; this
 * guards each transaction too, e.g. after a permission was revoked).
 *
 * Allowed: the service's own uid (embedded mode: the wallet's main process
 * and its `:keyhold` process share a uid) or a caller holding
 * [KeyholdService.PERMISSION] (companion mode; a signature/knownSigner
 * permission). Which keys a caller may use is decided by the core.
 */
internal class CallGuard(private val context: Context) {
    /** [uid] and [pid] are `Binder.getCallingUid()` / `getCallingPid()`, read on the Binder thread. */
    fun enforce(uid: Int, pid: Int) {
        if (uid == Process.myUid()) return
        if (context.checkPermission(KeyholdService.PERMISSION, pid, uid) == PackageManager.PERMISSION_GRANTED) return
        throw SecurityException("uid $uid does not hold ${KeyholdService.PERMISSION}")
    }
}
