// :sample-wallet:android — a minimal wallet on Keyhold (embedded mode: the
// service runs in this APK's private ":keyhold" process).
plugins {
    alias(libs.plugins.android.application)
    alias(libs.plugins.kotlin.android)
}

android {
    namespace = "dev.keyhold.sample"
    compileSdk = libs.versions.compileSdk.get().toInt()

    defaultConfig {
        applicationId = "dev.keyhold.sample"
        minSdk = libs.versions.minSdk.get().toInt()
        targetSdk = libs.versions.targetSdk.get().toInt()
        versionCode = 1
        versionName = "0.1.0"
        testInstrumentationRunner = "androidx.test.runner.AndroidJUnitRunner"
    }

    buildTypes {
        release {
            isMinifyEnabled = true
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"))
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    testOptions {
        unitTests {
            isIncludeAndroidResources = true
            all { test ->
                test.systemProperty("java.library.path", rootDir.resolve("target/debug").path)
                test.systemProperty("keyhold.repo.root", rootDir.path)
            }
        }
    }
}

kotlin {
    // No toolchain pin (see settings.gradle.kts): Java 17 bytecode from the running JDK.
    compilerOptions { jvmTarget.set(org.jetbrains.kotlin.gradle.dsl.JvmTarget.JVM_17) }
}

dependencies {
    // The client API. In companion mode this is the only Keyhold dependency.
    implementation(project(":android-service:sdk"))
    // Embedded mode: the service itself (and its native core) ships in this APK.
    implementation(project(":android-service"))
    implementation(libs.kotlinx.coroutines.android)

    testImplementation(testFixtures(project(":android-service")))
    testImplementation(testFixtures(project(":android-service:sdk")))
    testImplementation(libs.junit)
    testImplementation(libs.robolectric)
}

// The Robolectric tests load the host build of keyhold-jni.
tasks.withType<Test>().configureEach {
    dependsOn(":android-service:cargoHostBuild")
}
