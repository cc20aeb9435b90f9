// The AIDL contract (IKeyholdService and its parcelables), shared by the
// service and the SDK. Append-only: see the header of IKeyholdService.aidl.
// Published as dev.keyhold:keyhold-android-api (root build.gradle.kts).
plugins {
    alias(libs.plugins.android.library)
    `maven-publish`
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

    publishing {
        singleVariant("release") {
            withSourcesJar()
            withJavadocJar()
        }
    }
}

publishing {
    publications {
        register<MavenPublication>("release") {
            artifactId = "keyhold-android-api"
            pom {
                name.set("Keyhold Android API")
                description.set(
                    "The AIDL contract of the Keyhold service (IKeyholdService and its parcelables), " +
                        "shared by the service and the client SDK. Append-only.",
                )
            }
            afterEvaluate { from(components["release"]) }
        }
    }
}
