// :android-service — the Keyhold service library: KeyholdService (AIDL door),
// KeystoreSealer (AndroidKeyStore AES-256-GCM, StrongBox first), the caller
// identifier, and the JNI bridge to the Rust core (crate keyhold-jni, built
// with cargo-ndk for arm64-v8a, armeabi-v7a and x86_64).
// Published as dev.keyhold:keyhold-android-service (root build.gradle.kts).
import com.google.protobuf.gradle.proto

plugins {
    alias(libs.plugins.android.library)
    alias(libs.plugins.kotlin.android)
    alias(libs.plugins.protobuf)
    `maven-publish`
}

val rustRoot: File = rootDir
val rustProfile: String = providers.gradleProperty("keyhold.rustProfile").getOrElse("release")
val rustJniLibs = layout.buildDirectory.dir("rustJniLibs")

/**
 * Device ABIs and their Rust targets (`rustup target add` each one):
 * arm64-v8a = aarch64-linux-android, armeabi-v7a = armv7-linux-androideabi
 * (32-bit phones still sold and supported), x86_64 = x86_64-linux-android
 * (emulators, Chromebooks).
 */
val deviceAbis: Map<String, String> = linkedMapOf(
    "arm64-v8a" to "aarch64-linux-android",
    "armeabi-v7a" to "armv7-linux-androideabi",
    "x86_64" to "x86_64-linux-android",
)

/** keyhold-jni for the device ABIs, into build/rustJniLibs/<abi>/libkeyhold_jni.so. */
val cargoNdkBuild by tasks.registering(Exec::class) {
    group = "build"
    description = "Builds keyhold-jni for ${deviceAbis.keys} with cargo-ndk (needs the pinned NDK and `cargo install cargo-ndk`)."
    workingDir = rustRoot
    // cargo-ndk uses the NDK that AGP resolved from `ndkVersion` (r28+), not
    // whichever one it would find on its own.
    val ndkDir = androidComponents.sdkComponents.ndkDirectory
    doFirst { environment("ANDROID_NDK_HOME", ndkDir.get().asFile.path) }
    // 16 KB-aligned ELF segments (Google Play requirement for API 35 targets),
    // explicit so the alignment does not depend on the NDK's default.
    for (triple in deviceAbis.values) {
        val variable = "CARGO_TARGET_${triple.uppercase().replace('-', '_')}_RUSTFLAGS"
        environment(variable, "-C link-arg=-Wl,-z,max-page-size=16384")
    }
    val args = mutableListOf(
        "cargo", "ndk",
        *deviceAbis.keys.flatMap { listOf("-t", it) }.toTypedArray(),
        "--platform", libs.versions.minSdk.get(),
        "-o", rustJniLibs.get().asFile.path,
        "build", "-p", "keyhold-jni",
    )
    if (rustProfile == "release") args += "--release"
    commandLine(args)
    inputs.files(fileTree(rustRoot.resolve("rust-core")) { exclude("target/**") })
    inputs.files(fileTree(rustRoot.resolve("android-service/jni")) { exclude("target/**") })
    inputs.file(rustRoot.resolve("Cargo.lock"))
    outputs.dir(rustJniLibs)
}

/** keyhold-jni for this host, for the Robolectric unit tests. */
val cargoHostBuild by tasks.registering(Exec::class) {
    group = "build"
    description = "Builds keyhold-jni for the host (JVM unit tests)."
    workingDir = rustRoot
    commandLine("cargo", "build", "-p", "keyhold-jni")
}

android {
    namespace = "dev.keyhold.android"
    compileSdk = libs.versions.compileSdk.get().toInt()
    ndkVersion = libs.versions.ndk.get()

    defaultConfig {
        minSdk = libs.versions.minSdk.get().toInt()
        testInstrumentationRunner = "androidx.test.runner.AndroidJUnitRunner"
        consumerProguardFiles("consumer-rules.pro")
        ndk {
            abiFilters += deviceAbis.keys
        }
    }

    sourceSets {
        named("main") {
            // Point the generator at the core's schema; never copy it.
            proto { srcDir(rustRoot.resolve("rust-core/proto")) }
            jniLibs.srcDir(rustJniLibs)
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    testFixtures {
        enable = true
    }

    publishing {
        singleVariant("release") {
            withSourcesJar()
            withJavadocJar()
        }
    }

    testOptions {
        unitTests {
            isIncludeAndroidResources = true
            all { test ->
                // Robolectric tests load the host build of keyhold-jni.
                test.dependsOn(cargoHostBuild)
                test.systemProperty("java.library.path", rustRoot.resolve("target/debug").path)
                test.systemProperty("keyhold.repo.root", rustRoot.path)
            }
        }
    }
}

kotlin {
    // No toolchain pin (see settings.gradle.kts): Java 17 bytecode from the running JDK.
    compilerOptions { jvmTarget.set(org.jetbrains.kotlin.gradle.dsl.JvmTarget.JVM_17) }
}

protobuf {
    protoc {
        artifact = libs.protoc.get().toString()
    }
    generateProtoTasks {
        all().configureEach {
            builtins {
                create("java") { option("lite") }
            }
        }
    }
}

tasks.named("preBuild") { dependsOn(cargoNdkBuild) }

publishing {
    publications {
        register<MavenPublication>("release") {
            artifactId = "keyhold-android-service"
            pom {
                name.set("Keyhold Android service")
                description.set(
                    "The Keyhold key-management service for Android: the bound service (AIDL), the Android " +
                        "Keystore sealer and the Rust core over JNI (arm64-v8a, armeabi-v7a, x86_64). " +
                        "Embed it in a wallet (embedded mode) or ship it as its own APK (companion mode).",
                )
            }
            afterEvaluate { from(components["release"]) }
        }
    }
}

dependencies {
    api(project(":android-service:api"))
    implementation(libs.protobuf.javalite)

    testImplementation(project(":android-service:sdk"))
    testImplementation(testFixtures(project(":android-service:sdk")))
    testImplementation(libs.junit)
    testImplementation(libs.robolectric)
    testImplementation(libs.mockito.core)

    testFixturesImplementation(libs.junit)
    testFixturesImplementation(libs.robolectric)
    testFixturesImplementation(libs.mockito.core)
    testFixturesImplementation(testFixtures(project(":android-service:sdk")))

    androidTestImplementation(project(":android-service:sdk"))
    androidTestImplementation(libs.kotlinx.coroutines.android)
    androidTestImplementation(libs.androidx.test.core)
    androidTestImplementation(libs.androidx.test.runner)
    androidTestImplementation(libs.androidx.test.rules)
    androidTestImplementation(libs.androidx.test.ext.junit)
}
