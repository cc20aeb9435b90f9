"""Every plugin and library of the Gradle build is pinned in one place.

Checks (each one counted as a test):

1. gradle/libs.versions.toml: every [libraries] and [plugins] entry takes its
   version from [versions] through `version.ref`, and every ref exists.
2. Every *.gradle.kts file: plugins are applied with `alias(libs.plugins.X)`
   (or are Gradle's own, versionless, such as `maven-publish`), no plugin or
   dependency has a literal version, dependencies are `libs.X`, `project(...)`
   or `testFixtures(project(...))`, and every `libs.X` accessor names an
   entry of the catalog.
3. android-service/jvm/pom.xml (the JVM check, which builds the same sources
   with Maven) uses the catalog's versions for what both builds use: Kotlin,
   kotlinx-coroutines, Robolectric, JUnit, androidx.test.ext:junit, Mockito, and an
   android-all jar of the catalog's compileSdk.

Usage: python3 gradle/check_pins.py ROOT
Prints one line per check and `KEYHOLD-TESTS: N passed, M failed`; exits 1 on
any failure. gradle/check-pins.sh runs it on the tree and, with --self-test,
on copies of the tree with planted mistakes.
"""

from __future__ import annotations

import re
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

# Gradle's own plugins: no version, nothing to pin.
CORE_PLUGINS = {"maven-publish", "java", "java-library", "java-test-fixtures", "signing", "base"}

# pom property -> catalog [versions] key, for what both builds use.
POM_PROPERTIES = {
    "kotlin.version": "kotlin",
    "coroutines.version": "coroutines",
    "robolectric.version": "robolectric",
    "junit.version": "junit",
    "androidx.test.ext.junit.version": "androidxTestExtJunit",
    "mockito.version": "mockito",
}

# Modules the pom may pin differently, and why (printed with each run).
POM_EXEMPT = {
    "com.google.protobuf:protobuf-javalite": (
        "the JVM check generates Java with Debian's protoc and needs a runtime at least as new as that protoc "
        "(jvm-check.sh passes -Dprotobuf.version); the Gradle build pins protoc and runtime together"
    ),
}

# Android release of each API level whose android-all jar the JVM check may use.
ANDROID_RELEASE = {"28": "9", "29": "10", "30": "11", "31": "12", "32": "12.1", "33": "13", "34": "14", "35": "15", "36": "16"}

# Dependency configurations that may appear in a dependencies { } block.
CONFIGURATION = re.compile(
    r"^\s*(implementation|api|compileOnly|runtimeOnly|testImplementation|testRuntimeOnly|testCompileOnly|"
    r"androidTestImplementation|androidTestRuntimeOnly|testFixturesImplementation|testFixturesApi|"
    r"testFixturesCompileOnly|kapt|ksp|annotationProcessor|coreLibraryDesugaring|lintChecks|detektPlugins)"
    r"\s*\((.*)\)\s*$"
)
ALLOWED_NOTATION = re.compile(
    r"^(libs\.[A-Za-z0-9.]+|project\(\"[:A-Za-z0-9_.-]+\"\)|testFixtures\(project\(\"[:A-Za-z0-9_.-]+\"\)\)|"
    r"testFixtures\(libs\.[A-Za-z0-9.]+\)|platform\(libs\.[A-Za-z0-9.]+\))$"
)
COORDINATE_LITERAL = re.compile(r"\"[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+:[^\"]+\"")
LIBS_ACCESSOR = re.compile(r"\blibs\.((?:plugins|versions|bundles)\.)?([A-Za-z0-9]+(?:\.[A-Za-z0-9]+)*)")


class Report:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, name: str, problems: list[str]) -> None:
        if problems:
            self.failed += 1
            print(f"FAIL {name}")
            for p in problems:
                print(f"     {p}")
        else:
            self.passed += 1
            print(f"ok   {name}")


def accessor(alias: str) -> str:
    """The Kotlin accessor of a catalog alias: '-', '_' and '.' all separate."""
    return re.sub(r"[-_.]", ".", alias)


def strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(re.sub(r"//.*$", "", line) for line in text.splitlines())


def check_catalog(catalog: dict) -> list[str]:
    problems = []
    versions = catalog.get("versions", {})
    for table in ("libraries", "plugins"):
        for alias, entry in catalog.get(table, {}).items():
            if isinstance(entry, str):
                problems.append(f"[{table}] {alias}: a literal \"{entry}\", not a version.ref")
                continue
            version = entry.get("version")
            if isinstance(version, dict):
                ref = version.get("ref")
            else:
                ref = None
            ref = entry.get("version.ref", ref)
            if "version" in entry and not isinstance(entry["version"], dict):
                problems.append(f"[{table}] {alias}: literal version \"{entry['version']}\", use version.ref")
            elif ref is None:
                problems.append(f"[{table}] {alias}: no version.ref")
            elif ref not in versions:
                problems.append(f"[{table}] {alias}: version.ref \"{ref}\" is not in [versions]")
    return problems


def check_gradle_file(path: Path, root: Path, catalog: dict) -> list[str]:
    problems = []
    rel = path.relative_to(root)
    text = strip_comments(path.read_text())
    libraries = {accessor(a) for a in catalog.get("libraries", {})}
    plugins = {accessor(a) for a in catalog.get("plugins", {})}
    versions = {accessor(a) for a in catalog.get("versions", {})}
    bundles = {accessor(a) for a in catalog.get("bundles", {})}

    # Plugins: alias(libs.plugins.x), or a versionless Gradle core plugin.
    for block in re.finditer(r"\bplugins\s*\{(.*?)\n\}", text, flags=re.S):
        for line in block.group(1).splitlines():
            line = line.strip()
            if not line:
                continue
            if re.fullmatch(r"alias\(libs\.plugins\.[A-Za-z0-9.]+\)(\s+apply\s+false)?", line):
                continue
            core = re.fullmatch(r"`([a-z-]+)`|id\(\"([a-z-]+)\"\)", line)
            if core and (core.group(1) or core.group(2)) in CORE_PLUGINS:
                continue
            problems.append(f"{rel}: plugin not from the catalog: {line}")
    # Anywhere (settings' pluginManagement, buildscript blocks): no literal plugin versions.
    for m in re.finditer(r"\bid\s*\(\s*\"[^\"]+\"\s*\)\s*version\b[^\n]*", text):
        problems.append(f"{rel}: plugin with a literal version: {m.group(0).strip()}")

    # Dependencies: only catalog entries and projects.
    for block in re.finditer(r"\bdependencies\s*\{(.*?)\n\}", text, flags=re.S):
        for line in block.group(1).splitlines():
            if not line.strip():
                continue
            m = CONFIGURATION.match(line)
            if not m:
                problems.append(f"{rel}: unrecognised dependency line: {line.strip()}")
                continue
            notation = m.group(2).strip()
            if not ALLOWED_NOTATION.match(notation):
                problems.append(f"{rel}: dependency not from the catalog: {line.strip()}")
    for literal in COORDINATE_LITERAL.findall(text):
        problems.append(f"{rel}: literal coordinates {literal}")

    # Every libs.* accessor resolves.
    for m in LIBS_ACCESSOR.finditer(text):
        kind, name = m.group(1), m.group(2)
        name = re.sub(r"\.(get|asProvider|map|orNull)$", "", name)
        if kind == "plugins.":
            known = plugins
        elif kind == "versions.":
            known = versions
        elif kind == "bundles.":
            known = bundles
        else:
            known = libraries
        # Accessors may be followed by .get(), .toString(): accept the longest known prefix.
        parts = name.split(".")
        if not any(".".join(parts[:i]) in known for i in range(len(parts), 0, -1)):
            problems.append(f"{rel}: libs.{kind or ''}{name} is not in gradle/libs.versions.toml")
    return problems


def check_pom(pom: Path, catalog: dict) -> list[str]:
    problems = []
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    tree = ET.parse(pom)
    props = {el.tag.split("}")[1]: (el.text or "").strip() for el in tree.getroot().find("m:properties", ns)}
    versions = catalog.get("versions", {})
    for prop, key in POM_PROPERTIES.items():
        if prop not in props:
            problems.append(f"pom.xml: property {prop} is missing")
        elif key not in versions:
            problems.append(f"libs.versions.toml: [versions] {key} is missing")
        elif props[prop] != versions[key]:
            problems.append(f"pom.xml: {prop} = {props[prop]}, libs.versions.toml {key} = {versions[key]}")
    # Direct dependencies with literal versions must match the catalog entry of the same module.
    modules = {}
    for entry in catalog.get("libraries", {}).values():
        if isinstance(entry, dict) and "module" in entry:
            ref = entry.get("version", {}).get("ref") if isinstance(entry.get("version"), dict) else entry.get("version.ref")
            if ref in versions:
                modules[entry["module"]] = versions[ref]
    for dep in tree.getroot().iter("{http://maven.apache.org/POM/4.0.0}dependency"):
        group = dep.findtext("m:groupId", default="", namespaces=ns)
        artifact = dep.findtext("m:artifactId", default="", namespaces=ns)
        version = dep.findtext("m:version", default="", namespaces=ns)
        version = re.sub(r"\$\{([^}]+)\}", lambda m: props.get(m.group(1), m.group(0)), version)
        wanted = modules.get(f"{group}:{artifact}")
        if f"{group}:{artifact}" in POM_EXEMPT:
            print(f"note {group}:{artifact}: pom {version}, catalog {wanted}: {POM_EXEMPT[f'{group}:{artifact}']}")
        elif wanted is not None and version != wanted:
            problems.append(f"pom.xml: {group}:{artifact}:{version}, libs.versions.toml pins {wanted}")
    # The API level the JVM check compiles against is the catalog's compileSdk.
    compile_sdk = versions.get("compileSdk", "")
    release = ANDROID_RELEASE.get(compile_sdk)
    all_version = props.get("android.all.version", "")
    if release is None:
        problems.append(f"libs.versions.toml: unknown compileSdk {compile_sdk!r}")
    elif not all_version.startswith(f"{release}-robolectric-"):
        problems.append(
            f"pom.xml: android.all.version {all_version!r} is not Android {release} (compileSdk {compile_sdk})"
        )
    return problems


def main(root: Path) -> int:
    report = Report()
    toml_path = root / "gradle" / "libs.versions.toml"
    try:
        catalog = tomllib.loads(toml_path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        report.check("gradle/libs.versions.toml parses", [str(e)])
        catalog = {}
    report.check("catalog: every library and plugin uses a version.ref", check_catalog(catalog))
    gradle_files = sorted(
        p for p in root.rglob("*.gradle.kts") if not any(part in {"build", ".gradle", "target"} for part in p.parts)
    )
    if not gradle_files:
        report.check("Gradle files found", ["no *.gradle.kts under " + str(root)])
    for path in gradle_files:
        report.check(f"{path.relative_to(root)}: plugins and libraries from the catalog", check_gradle_file(path, root, catalog))
    pom = root / "android-service" / "jvm" / "pom.xml"
    report.check("android-service/jvm/pom.xml: same versions as the catalog", check_pom(pom, catalog))
    print(f"KEYHOLD-TESTS: {report.passed} passed, {report.failed} failed")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()))
