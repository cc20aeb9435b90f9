// :android-service:sdk — the Kotlin client wallets use: binds the service
// (companion or embedded), suspend functions off the main thread, typed
// errors, reconnects after the service dies. No native code.
// Published as dev.keyhold:keyhold-android-sdk (root build.gradle.kts).
plugins {
    alias(libs.plugins.android.library)
    alias(libs.plugins.kotlin.android)
    `maven-publish`
}

android {
    namespace = "dev.keyhold.sdk"
    compileSdk = libs.versions.compileSdk.get().toInt()

    defaultConfig {
        minSdk = libs.versions.minSdk.get().toInt()
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
        unitTests.isIncludeAndroidResources = true
    }
}

kotlin {
    // No toolchain pin (see settings.gradle.kts): Java 17 bytecode from the running JDK.
    compilerOptions { jvmTarget.set(org.jetbrains.kotlin.gradle.dsl.JvmTarget.JVM_17) }
}

dependencies {
    api(project(":android-service:api"))
    api(libs.kotlinx.coroutines.android)

    testImplementation(libs.junit)
    testImplementation(libs.robolectric)
}

publishing {
    publications {
        register<MavenPublication>("release") {
            artifactId = "keyhold-android-sdk"
            pom {
                name.set("Keyhold Android SDK")
                description.set(
                    "The Kotlin client wallets use to talk to the Keyhold service: suspend functions off the " +
                        "main thread, typed errors, reconnection, and in companion mode a signing-certificate " +
                        "check of the KMS before every bind. No native code, no key material.",
                )
            }
            afterEvaluate { from(components["release"]) }
        }
    }
}
