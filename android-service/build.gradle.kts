// :android-service — the Keyhold service library: KeyholdService (AIDL door),
// KeystoreSealer (AndroidKeyStore AES-256-GCM, StrongBox first), the caller
// identifier, and the JNI bridge to the Rust core (crate keyhold-jni, built
// with cargo-ndk for arm64-v8a and x86_64).
import com.google.protobuf.gradle.proto

plugins {
    alias(libs.plugins.android.library)
    alias(libs.plugins.kotlin.android)
    alias(libs.plugins.protobuf)
}

val rustRoot: File = rootDir
val rustProfile: String = providers.gradleProperty("keyhold.rustProfile").getOrElse("release")
val rustJniLibs = layout.buildDirectory.dir("rustJniLibs")

/** keyhold-jni for the device ABIs, into build/rustJniLibs/<abi>/libkeyhold_jni.so. */
val cargoNdkBuild by tasks.registering(Exec::class) {
    group = "build"
    description = "Builds keyhold-jni for arm64-v8a and x86_64 with cargo-ndk (needs the NDK and `cargo install cargo-ndk`)."
    workingDir = rustRoot
    val args = mutableListOf(
        "cargo", "ndk",
        "-t", "arm64-v8a",
        "-t", "x86_64",
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

    defaultConfig {
        minSdk = libs.versions.minSdk.get().toInt()
        testInstrumentationRunner = "androidx.test.runner.AndroidJUnitRunner"
        consumerProguardFiles("consumer-rules.pro")
        ndk {
            abiFilters += listOf("arm64-v8a", "x86_64")
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
    jvmToolchain(17)
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

dependencies {
    api(project(":android-service:api"))
    implementation(libs.protobuf.javalite)

    testImplementation(project(":android-service:sdk"))
    testImplementation(testFixtures(project(":android-service:sdk")))
    testImplementation(libs.junit)
    testImplementation(libs.robolectric)

    testFixturesImplementation(libs.junit)
    testFixturesImplementation(libs.robolectric)
    testFixturesImplementation(testFixtures(project(":android-service:sdk")))

    androidTestImplementation(project(":android-service:sdk"))
    androidTestImplementation(libs.kotlinx.coroutines.android)
    androidTestImplementation(libs.androidx.test.core)
    androidTestImplementation(libs.androidx.test.runner)
    androidTestImplementation(libs.androidx.test.rules)
    androidTestImplementation(libs.androidx.test.ext.junit)
}
