package dev.keyhold.apiguard

import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import org.objectweb.asm.AnnotationVisitor
import org.objectweb.asm.ClassWriter
import org.objectweb.asm.MethodVisitor
import org.objectweb.asm.Opcodes
import java.io.File

/**
 * Runs the public-API guard over the compiled main and test classes of the
 * Android door (service, SDK, sample app, instrumented tests), and shows it
 * catches what it is for: a planted `@hide` call (`KeyInfo`'s constructor),
 * an API 31 call outside code marked for API 31, and a ledger entry whose
 * level is claimed too low. Plain JUnit (no Robolectric): it reads class
 * files, it runs nothing from them.
 */
class PublicApiGuardTest {
    private val ledgerFile = File(System.getProperty("keyhold.api.ledger") ?: error("keyhold.api.ledger not set"))
    private val ledger = PublicApiGuard.parseLedger(ledgerFile.readText())
    private val platform: Map<Int, File> = run {
        val dir = File(System.getProperty("keyhold.api.levels.dir") ?: error("keyhold.api.levels.dir not set"))
        listOf(28, 30, 33, 35).associateWith { File(dir, "android-$it.jar") }.onEach { (level, jar) ->
            check(jar.isFile) { "android-all for API $level missing: $jar" }
        }
    }
    private val compiled: Map<String, ByteArray> = PublicApiGuard.classesIn(
        (System.getProperty("keyhold.classes.dirs") ?: error("keyhold.classes.dirs not set"))
            .split(File.pathSeparator).map(::File),
    )

    private fun guard(classes: Map<String, ByteArray>, entries: Map<String, Int> = ledger) =
        PublicApiGuard(entries, platform, classes)

    @Test
    fun everyAndroidMemberTheCodeUsesIsPublicSdkAtItsLevel() {
        val g = guard(compiled)
        val refs = g.references()
        assertTrue("the scan sees the code (${compiled.size} classes, ${refs.size} references)", compiled.size > 50 && refs.size > 50)
        val problems = g.check()
        assertTrue("\n" + problems.joinToString("\n"), problems.isEmpty())
        // Entries nothing uses any more are harmless (still public API) but worth pruning: say so.
        val unused = ledger.keys - refs.map { it.key }.toSet()
        if (unused.isNotEmpty()) println("api-guard: ledger entries no code uses now:\n" + unused.joinToString("\n"))
    }

    @Test
    fun theLedgerHoldsOnlyMembersThatExistPubliclyFromTheirLevelOn() {
        val problems = guard(emptyMap()).checkLedger()
        assertTrue("\n" + problems.joinToString("\n"), problems.isEmpty())
    }

    @Test
    fun catchesAPlantedHiddenApiCall() {
        // KeyInfo's constructor exists in android-all (Robolectric's full framework) but is @hide:
        // the SDK's android.jar lacks it. Plant a call to it, with its real descriptor.
        val keyInfo = PublicApiGuard.JarClasses(platform.getValue(35)).info("android/security/keystore/KeyInfo")!!
        val ctor = keyInfo.methods.keys.single { it.startsWith("<init>(") }
        val planted = plant("dev/keyhold/planted/UsesHiddenApi", level = 0) { mv ->
            mv.visitTypeInsn(Opcodes.NEW, "android/security/keystore/KeyInfo")
            mv.visitMethodInsn(Opcodes.INVOKESPECIAL, "android/security/keystore/KeyInfo", "<init>", ctor.removePrefix("<init>"), false)
        }
        val problems = guard(planted).check()
        assertEquals(problems.joinToString("\n"), 1, problems.size)
        assertTrue(problems.single(), problems.single().contains("android.security.keystore.KeyInfo#$ctor is not in the ledger"))
    }

    @Test
    fun catchesANewerApiCalledWithoutItsLevel() {
        val call: (MethodVisitor) -> Unit = { mv ->
            mv.visitMethodInsn(Opcodes.INVOKEVIRTUAL, "android/security/keystore/KeyInfo", "getSecurityLevel", "()I", false)
        }
        val unmarked = guard(plant("dev/keyhold/planted/Unmarked", level = 0, body = call)).check()
        assertEquals(unmarked.joinToString("\n"), 1, unmarked.size)
        assertTrue(unmarked.single(), unmarked.single().contains("is API 31 but the code runs from API 28"))
        val marked = guard(plant("dev/keyhold/planted/Marked", level = 31, body = call)).check()
        assertTrue(marked.joinToString("\n"), marked.isEmpty())
        // `if (Build.VERSION.SDK_INT >= 31) { call } ; call`: the first call is guarded, the second is not.
        val checked = guard(
            plant("dev/keyhold/planted/Checked", level = 0) { mv ->
                val after = org.objectweb.asm.Label()
                mv.visitFieldInsn(Opcodes.GETSTATIC, "android/os/Build\$VERSION", "SDK_INT", "I")
                mv.visitIntInsn(Opcodes.BIPUSH, 31)
                mv.visitJumpInsn(Opcodes.IF_ICMPLT, after)
                call(mv)
                mv.visitLabel(after)
                call(mv)
            },
        ).check()
        assertEquals(checked.joinToString("\n"), 1, checked.size)
        val lowCheck = guard(
            plant("dev/keyhold/planted/CheckedTooLow", level = 0) { mv ->
                val after = org.objectweb.asm.Label()
                mv.visitFieldInsn(Opcodes.GETSTATIC, "android/os/Build\$VERSION", "SDK_INT", "I")
                mv.visitIntInsn(Opcodes.BIPUSH, 30)
                mv.visitJumpInsn(Opcodes.IF_ICMPLT, after)
                call(mv)
                mv.visitLabel(after)
            },
        ).check()
        assertTrue(lowCheck.joinToString("\n"), lowCheck.single().contains("is API 31 but the code runs from API 30"))
    }

    @Test
    fun catchesALedgerLevelClaimedTooLow() {
        val wrong = mapOf("android.security.keystore.KeyInfo#getSecurityLevel()I" to 28)
        val problems = guard(emptyMap(), wrong).checkLedger()
        assertEquals(problems.joinToString("\n"), listOf(28, 30).map { "in android-all API $it" }, problems.map { it.substringAfter("does not exist ") })
    }

    /** A class with one method whose body is [body], marked `@RequiresApiLevel(level)` when level > 0. */
    private fun plant(name: String, level: Int, body: (MethodVisitor) -> Unit): Map<String, ByteArray> {
        val cw = ClassWriter(0)
        cw.visit(Opcodes.V17, Opcodes.ACC_PUBLIC, name, null, "java/lang/Object", null)
        val mv = cw.visitMethod(Opcodes.ACC_PUBLIC or Opcodes.ACC_STATIC, "run", "()V", null, null)
        if (level > 0) {
            val av: AnnotationVisitor = mv.visitAnnotation("Ldev/keyhold/android/RequiresApiLevel;", false)
            av.visit("level", level)
            av.visitEnd()
        }
        mv.visitCode()
        body(mv)
        mv.visitInsn(Opcodes.RETURN)
        mv.visitMaxs(16, 0)
        mv.visitEnd()
        cw.visitEnd()
        return mapOf(name to cw.toByteArray())
    }
}
