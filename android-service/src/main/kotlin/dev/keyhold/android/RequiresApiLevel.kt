package dev.keyhold.android

/**
 * Marks a class or function that calls Android API added after this
 * library's minSdk (28). Callers reach it only behind a
 * `Build.VERSION.SDK_INT >= level` check, in one place (the `ApiNN` objects
 * below, AndroidX's `ApiNNImpl` pattern).
 *
 * The public-API guard (`android-service/api-guard/`) reads it from the class
 * files: a reference to an `android.*` member added at level N is accepted
 * only inside code marked with `RequiresApiLevel(M)`, M >= N. Test code uses
 * it too.
 */
@Retention(AnnotationRetention.BINARY)
@Target(AnnotationTarget.CLASS, AnnotationTarget.FUNCTION, AnnotationTarget.CONSTRUCTOR)
annotation class RequiresApiLevel(val level: Int)
