// The AIDL contract (IKeyholdService and its parcelables), shared by the
// service and the SDK. Append-only: see the header of IKeyholdService.aidl.
plugins {
    alias(libs.plugins.android.library)
}

android {
    namespace = "dev.keyhold.aidl"
    compileSdk = libs.versions.compileSdk.get().toInt()

    defaultConfig {
        minSdk = libs.versions.minSdk.get().toInt()
        consumerProguardFiles("consumer-rules.pro")
    }

    buildFeatures {
        aidl = true
        buildConfig = false
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
}
