package dev.keyhold.apiguard

import org.objectweb.asm.AnnotationVisitor
import org.objectweb.asm.ClassReader
import org.objectweb.asm.ClassVisitor
import org.objectweb.asm.FieldVisitor
import org.objectweb.asm.Handle
import org.objectweb.asm.Label
import org.objectweb.asm.MethodVisitor
import org.objectweb.asm.Opcodes
import org.objectweb.asm.Type
import java.io.File
import java.util.zip.ZipFile

/**
 * The public-API guard: every `android.*` class, method and field that
 * compiled code references must be public SDK API at the level where it is
 * called.
 *
 * - The **ledger** (`android-service/api-guard/android-api.ledger`) lists each
 *   `android.*` member the code may use, with the API level it became public
 *   SDK (28 for "28 or earlier", this library's minSdk) and where that was
 *   checked (AOSP `core/api/current.txt`, the API level from the Android
 *   reference). Nothing else is allowed: a member missing from the ledger
 *   fails, so a `@hide` member (e.g. `KeyInfo`'s constructor, which
 *   Robolectric's android-all has and the SDK's android.jar lacks) cannot slip
 *   in.
 * - The **bytecode scan** reads the compiled main and test classes (ASM):
 *   super types, field types, method descriptors, instructions (calls, field
 *   accesses, `new`, casts, `instanceof`, class literals, catch types, method
 *   handles). A member reached through one of our classes (an inherited
 *   `Context` method called on a `Service` subclass) is resolved up the class
 *   hierarchy to the `android.*` class that declares it.
 * - **Levels**: a reference to an entry whose level is above 28 must sit in
 *   code marked `@RequiresApiLevel(N)` (on the method or an enclosing class),
 *   or inside an `if (Build.VERSION.SDK_INT >= N)` block (recognised in the
 *   bytecode as `getstatic SDK_INT; push N; if_icmplt ELSE`, up to ELSE), with
 *   N at least that level. Early returns (`if (SDK_INT < N) return`) are not
 *   recognised: use the annotation there.
 * - **The ledger against the platform**: each entry must exist, public, in the
 *   android-all jar of every tested level from its own level on (28, 30, 33,
 *   35), which catches misspelt entries and levels claimed too low.
 */
class PublicApiGuard(
    private val ledger: Map<String, Int>,
    /** android-all jars by API level; the highest one resolves the class hierarchy. */
    private val platform: Map<Int, File>,
    /** Our compiled classes (internal name -> bytes). */
    private val ours: Map<String, ByteArray>,
) {
    /** One `android.*` reference found in our bytecode. */
    data class Reference(val key: String, val site: String, val siteLevel: Int)

    private val platformClasses = platform.mapValues { (_, jar) -> JarClasses(jar) }
    private val newest = platformClasses.getValue(platform.keys.max())

    /** Problems found: empty means the code uses only ledger members at allowed levels. */
    fun check(): List<String> {
        val problems = mutableListOf<String>()
        for (ref in references()) {
            val since = ledger[ref.key]
            if (since == null) {
                problems += "${ref.site}: ${ref.key} is not in the ledger (not verified public SDK API); " +
                    "check it in AOSP core/api/current.txt and add '<level> ${ref.key}'"
            } else if (since > maxOf(MIN_SDK, ref.siteLevel)) {
                problems += "${ref.site}: ${ref.key} is API $since but the code runs from API ${maxOf(MIN_SDK, ref.siteLevel)}; " +
                    "move it into code marked @RequiresApiLevel($since) behind an SDK_INT check"
            }
        }
        return problems.distinct()
    }

    /** Ledger entries that do not exist (public) at every tested level from their own on. */
    fun checkLedger(): List<String> {
        val problems = mutableListOf<String>()
        for ((key, since) in ledger) {
            for ((level, classes) in platformClasses.toSortedMap()) {
                if (level < since) continue
                val why = classes.explain(key)
                if (why != null) problems += "ledger: $key (API $since) $why in android-all API $level"
            }
        }
        return problems
    }

    /** Every `android.*` reference, resolved to the declaring class, with the level its site may assume. */
    fun references(): List<Reference> {
        val found = mutableListOf<Reference>()
        for ((name, bytes) in ours) {
            val reader = ClassReader(bytes)
            val classLevel = enclosingLevels(name)
            reader.accept(Scanner(name, classLevel, found), ClassReader.SKIP_FRAMES)
        }
        return found
    }

    /** The highest `@RequiresApiLevel` on [name] or a class enclosing it (by the `$` nesting of names). */
    private fun enclosingLevels(name: String): Int {
        var level = 0
        var current: String? = name
        while (current != null) {
            ours[current]?.let { level = maxOf(level, classAnnotationLevel(it)) }
            current = current.substringBeforeLast('$', "").ifEmpty { null }
        }
        return level
    }

    private fun classAnnotationLevel(bytes: ByteArray): Int {
        var level = 0
        ClassReader(bytes).accept(object : ClassVisitor(Opcodes.ASM9) {
            override fun visitAnnotation(descriptor: String, visible: Boolean): AnnotationVisitor? =
                levelReader(descriptor) { level = maxOf(level, it) }
        }, ClassReader.SKIP_CODE)
        return level
    }

    private inner class Scanner(
        private val owner: String,
        private val classLevel: Int,
        private val found: MutableList<Reference>,
    ) : ClassVisitor(Opcodes.ASM9) {
        private val site = owner.replace('/', '.')

        override fun visit(version: Int, access: Int, name: String, signature: String?, superName: String?, interfaces: Array<out String>?) {
            superName?.let { type(it, site, classLevel) }
            interfaces?.forEach { type(it, site, classLevel) }
        }

        override fun visitField(access: Int, name: String, descriptor: String, signature: String?, value: Any?): FieldVisitor? {
            descriptorTypes(descriptor, "$site.$name", classLevel)
            return null
        }

        override fun visitMethod(access: Int, name: String, descriptor: String, signature: String?, exceptions: Array<out String>?): MethodVisitor {
            val method = "$site.$name"
            // The method's own annotation is only known once it is visited; collect first, judge at the end.
            // Each reference keeps the level of the SDK_INT check it sits under (0: none).
            class Pending(val owner: String, val member: String, val field: Boolean, val guard: Int)
            val pending = mutableListOf<Pending>()
            var methodLevel = 0
            // SDK_INT checks open at this point: `if (SDK_INT >= N) { ... }` compiles to
            // getstatic SDK_INT; push N; if_icmplt ELSE -- the code up to ELSE runs on API N+.
            val guards = mutableListOf<Pair<Label, Int>>()
            var sawSdkInt = false
            var constant: Int? = null
            fun guardLevel() = guards.maxOfOrNull { it.second } ?: 0
            fun collectType(t: String) = pending.add(Pending(t, "", false, guardLevel()))
            Type.getArgumentTypes(descriptor).forEach { typeName(it)?.let(::collectType) }
            typeName(Type.getReturnType(descriptor))?.let(::collectType)
            exceptions?.forEach(::collectType)
            return object : MethodVisitor(Opcodes.ASM9) {
                private fun plain() {
                    sawSdkInt = false
                    constant = null
                }

                override fun visitAnnotation(descriptor: String, visible: Boolean): AnnotationVisitor? =
                    levelReader(descriptor) { methodLevel = maxOf(methodLevel, it) }

                override fun visitMethodInsn(opcode: Int, owner: String, name: String, descriptor: String, isInterface: Boolean) {
                    pending += Pending(owner, "$name$descriptor", false, guardLevel())
                    plain()
                }

                override fun visitFieldInsn(opcode: Int, owner: String, name: String, descriptor: String) {
                    pending += Pending(owner, "$name:$descriptor", true, guardLevel())
                    val sdkInt = opcode == Opcodes.GETSTATIC && owner == "android/os/Build\$VERSION" && name == "SDK_INT"
                    plain()
                    sawSdkInt = sdkInt
                }

                override fun visitIntInsn(opcode: Int, operand: Int) {
                    val keep = sawSdkInt
                    plain()
                    if (keep && (opcode == Opcodes.BIPUSH || opcode == Opcodes.SIPUSH)) {
                        sawSdkInt = true
                        constant = operand
                    }
                }

                override fun visitJumpInsn(opcode: Int, label: Label) {
                    val n = constant
                    if (sawSdkInt && n != null) {
                        when (opcode) {
                            Opcodes.IF_ICMPLT -> guards += label to n // SDK_INT >= n
                            Opcodes.IF_ICMPLE -> guards += label to n + 1 // SDK_INT > n
                        }
                    }
                    plain()
                }

                override fun visitLabel(label: Label) {
                    guards.removeAll { it.first == label }
                }

                override fun visitInsn(opcode: Int) = plain()
                override fun visitVarInsn(opcode: Int, varIndex: Int) = plain()

                override fun visitTypeInsn(opcode: Int, type: String) {
                    typeName(Type.getObjectType(type))?.let(::collectType)
                    plain()
                }

                override fun visitLdcInsn(value: Any?) {
                    if (value is Type && (value.sort == Type.OBJECT || value.sort == Type.ARRAY)) {
                        typeName(value)?.let(::collectType)
                    }
                    plain()
                }

                override fun visitTryCatchBlock(start: Label?, end: Label?, handler: Label?, type: String?) {
                    type?.let(::collectType)
                }

                override fun visitInvokeDynamicInsn(name: String, descriptor: String, bsm: Handle, vararg args: Any?) {
                    for (arg in args) {
                        if (arg is Handle) {
                            val field = arg.tag <= Opcodes.H_PUTSTATIC
                            val member = if (field) "${arg.name}:${arg.desc}" else "${arg.name}${arg.desc}"
                            pending += Pending(arg.owner, member, field, guardLevel())
                        }
                    }
                    plain()
                }

                override fun visitEnd() {
                    for (p in pending) {
                        val level = maxOf(classLevel, methodLevel, p.guard)
                        if (p.member.isEmpty()) type(p.owner, method, level) else member(p.owner, p.member, p.field, method, level)
                    }
                }
            }
        }

        private fun descriptorTypes(descriptor: String, where: String, level: Int) {
            typeName(Type.getType(descriptor))?.let { type(it, where, level) }
        }

        private fun type(internalName: String, where: String, level: Int) {
            val name = elementName(internalName) ?: return
            if (isPlatform(name)) found += Reference(name.replace('/', '.'), where, level)
        }

        private fun member(owner: String, member: String, field: Boolean, where: String, level: Int) {
            val ownerName = elementName(owner) ?: return
            if (ownerName.startsWith("[")) return // array clone() etc.
            val declaring = declaringClass(ownerName, member, field) ?: ownerName
            if (!isPlatform(declaring)) {
                type(ownerName, where, level)
                return
            }
            type(declaring, where, level)
            found += Reference("${declaring.replace('/', '.')}#$member", where, level)
        }
    }

    /** The class that declares [member], walking up from [owner] through our classes and the platform's. */
    private fun declaringClass(owner: String, member: String, field: Boolean): String? {
        val seen = HashSet<String>()
        val queue = ArrayDeque(listOf(owner))
        while (queue.isNotEmpty()) {
            val c = queue.removeFirst()
            if (!seen.add(c)) continue
            val info = ours[c]?.let { ClassInfo.of(it) } ?: newest.info(c) ?: jdk(c) ?: continue
            if (member in (if (field) info.fields else info.methods)) return c
            info.superName?.let(queue::add)
            queue.addAll(info.interfaces)
        }
        return null
    }

    private val jdkCache = HashMap<String, ClassInfo?>()

    /** A JDK class (java.*, javax.*): android-all leaves them to the JVM. */
    private fun jdk(internalName: String): ClassInfo? = jdkCache.getOrPut(internalName) {
        ClassLoader.getSystemResourceAsStream("$internalName.class")?.use { ClassInfo.of(it.readBytes()) }
    }

    companion object {
        const val MIN_SDK = 28
        private const val LEVEL_ANNOTATION = "Ldev/keyhold/android/RequiresApiLevel;"

        fun isPlatform(internalName: String) = internalName.startsWith("android/")

        private fun typeName(t: Type): String? = when (t.sort) {
            Type.OBJECT -> t.internalName
            Type.ARRAY -> typeName(t.elementType)
            else -> null
        }

        private fun elementName(internalName: String): String? =
            if (internalName.startsWith("[")) typeName(Type.getType(internalName)) else internalName

        private fun levelReader(descriptor: String, sink: (Int) -> Unit): AnnotationVisitor? {
            if (descriptor != LEVEL_ANNOTATION) return null
            return object : AnnotationVisitor(Opcodes.ASM9) {
                override fun visit(name: String?, value: Any?) {
                    if (name == "level" && value is Int) sink(value)
                }
            }
        }

        /** Reads a ledger: `<level> <key>` per line; `#` comments (at line start or after whitespace). */
        fun parseLedger(text: String): Map<String, Int> {
            val entries = LinkedHashMap<String, Int>()
            for ((i, raw) in text.lines().withIndex()) {
                // '#' separates class and member in keys: a comment starts a line or follows whitespace.
                val line = raw.replace(Regex("(^|\\s)#.*$"), "").trim()
                if (line.isEmpty()) continue
                val parts = line.split(Regex("\\s+"))
                require(parts.size >= 2) { "ledger line ${i + 1}: '<level> <member>' expected: $raw" }
                val level = requireNotNull(parts[0].toIntOrNull()) { "ledger line ${i + 1}: level expected: $raw" }
                require(entries.put(parts[1], level) == null) { "ledger line ${i + 1}: duplicate ${parts[1]}" }
            }
            return entries
        }

        /** Every class file under [dirs] (internal name -> bytes). */
        fun classesIn(dirs: List<File>): Map<String, ByteArray> {
            val out = LinkedHashMap<String, ByteArray>()
            for (dir in dirs) {
                dir.walkTopDown().filter { it.isFile && it.name.endsWith(".class") }.forEach { f ->
                    val bytes = f.readBytes()
                    out[ClassReader(bytes).className] = bytes
                }
            }
            return out
        }
    }

    /** What a class declares (members as `name(desc)ret` or `name:desc`), its access and its supertypes. */
    class ClassInfo(
        val access: Int,
        val superName: String?,
        val interfaces: List<String>,
        val methods: Map<String, Int>,
        val fields: Map<String, Int>,
    ) {
        companion object {
            fun of(bytes: ByteArray): ClassInfo {
                var access = 0
                var superName: String? = null
                var interfaces = emptyList<String>()
                val methods = HashMap<String, Int>()
                val fields = HashMap<String, Int>()
                ClassReader(bytes).accept(object : ClassVisitor(Opcodes.ASM9) {
                    override fun visit(version: Int, acc: Int, name: String, signature: String?, sup: String?, ifs: Array<out String>?) {
                        access = acc
                        superName = sup
                        interfaces = ifs?.toList() ?: emptyList()
                    }

                    override fun visitMethod(acc: Int, name: String, desc: String, signature: String?, exceptions: Array<out String>?): MethodVisitor? {
                        methods["$name$desc"] = acc
                        return null
                    }

                    override fun visitField(acc: Int, name: String, desc: String, signature: String?, value: Any?): FieldVisitor? {
                        fields["$name:$desc"] = acc
                        return null
                    }
                }, ClassReader.SKIP_CODE or ClassReader.SKIP_DEBUG or ClassReader.SKIP_FRAMES)
                return ClassInfo(access, superName, interfaces, methods, fields)
            }
        }
    }

    /** The classes of one android-all jar, read on demand. */
    class JarClasses(jar: File) {
        private val zip = ZipFile(jar)
        private val cache = HashMap<String, ClassInfo?>()

        fun info(internalName: String): ClassInfo? = cache.getOrPut(internalName) {
            zip.getEntry("$internalName.class")?.let { ClassInfo.of(zip.getInputStream(it).use { s -> s.readBytes() }) }
        }

        /** Null when [key] exists and is public (or protected, for members) here; otherwise why not. */
        fun explain(key: String): String? {
            val className = key.substringBefore('#').replace('.', '/')
            val cls = info(className) ?: return "class does not exist"
            if (cls.access and Opcodes.ACC_PUBLIC == 0) return "class is not public"
            if ('#' !in key) return null
            val member = key.substringAfter('#')
            val field = ':' in member
            val access = (if (field) cls.fields else cls.methods)[member] ?: return "member does not exist"
            if (access and (Opcodes.ACC_PUBLIC or Opcodes.ACC_PROTECTED) == 0) return "member is not public"
            return null
        }
    }
}
