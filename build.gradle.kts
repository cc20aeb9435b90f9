// Root of the Android build: plugin versions only (gradle/libs.versions.toml),
// plus what every published module shares: coordinates and POM metadata.
plugins {
    alias(libs.plugins.android.application) apply false
    alias(libs.plugins.android.library) apply false
    alias(libs.plugins.kotlin.android) apply false
    alias(libs.plugins.protobuf) apply false
}

// Coordinates (gradle.properties): dev.keyhold:keyhold-android-{api,sdk,service}.
allprojects {
    group = providers.gradleProperty("keyhold.group").get()
    version = providers.gradleProperty("keyhold.version").get()
}

// The api, sdk and service AARs apply `maven-publish` and register one
// "release" publication each (see their build files); the POM metadata Maven
// Central requires (name, description, url, license, developers, scm) is
// written once here.
//
//   ./gradlew publishToMavenLocal                                  # ~/.m2
//   ./gradlew publishAllPublicationsToKeyholdBuildRepository       # build/maven-repo
subprojects {
    pluginManager.withPlugin("maven-publish") {
        extensions.configure<PublishingExtension> {
            repositories {
                maven {
                    name = "keyholdBuild"
                    url = uri(rootProject.layout.buildDirectory.dir("maven-repo"))
                }
            }
            publications.withType<MavenPublication>().configureEach {
                pom {
                    url.set(providers.gradleProperty("keyhold.pom.url"))
                    licenses {
                        license {
                            name.set("The Apache License, Version 2.0")
                            url.set("https://www.apache.org/licenses/LICENSE-2.0.txt")
                            distribution.set("repo")
                        }
                    }
                    developers {
                        developer {
                            id.set("keyhold")
                            name.set("The Keyhold maintainers")
                        }
                    }
                    scm {
                        url.set(providers.gradleProperty("keyhold.pom.url"))
                        connection.set(providers.gradleProperty("keyhold.pom.scm"))
                    }
                }
            }
        }
    }
}
