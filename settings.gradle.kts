// Android build of Keyhold's Android door and the sample wallet.
// The Rust workspace (Cargo.toml) is built by cargo; the Android library
// calls cargo-ndk for the JNI bridge (see android-service/build.gradle.kts).
//
// JDK: no Java toolchain is pinned (no `jvmToolchain(...)`, so no toolchain
// resolver plugin is needed and nothing is downloaded): Gradle compiles with
// the JDK it runs on, which AGP requires to be 17 or newer, and every module
// targets Java 17 bytecode (compileOptions + Kotlin jvmTarget).
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "keyhold"

// AIDL contract, shared by the service and the SDK.
include(":android-service:api")
// The service library: KeyholdService, Keystore sealer, JNI bridge to the Rust core.
include(":android-service")
// The client SDK for wallets (no native code).
include(":android-service:sdk")
// Companion mode: the KMS as its own APK.
include(":android-service:companion")
// The sample wallet (embedded mode).
include(":sample-wallet:android")
