package dev.keyhold.android

import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.w3c.dom.Element
import java.io.File
import javax.xml.parsers.DocumentBuilderFactory

/** K8: the key database is excluded from Auto Backup and device transfer. */
@RunWith(RobolectricTestRunner::class)
class BackupRulesTest {
    private val res = File(System.getProperty("keyhold.repo.root") ?: "../..", "android-service/src/main/res/xml")

    private fun excludes(file: String, section: String?): List<Pair<String, String>> {
        val doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(File(res, file))
        val root = section?.let { doc.getElementsByTagName(it).item(0) as Element } ?: doc.documentElement
        val nodes = root.getElementsByTagName("exclude")
        return (0 until nodes.length).map { nodes.item(it) as Element }.map { it.getAttribute("domain") to it.getAttribute("path") }
    }

    /** The database directory, relative to the app's data dir (the "root" domain). */
    private fun dataDirUnderRoot(): String {
        val app = RuntimeEnvironment.getApplication()
        val dataRoot = app.noBackupFilesDir.parentFile!!
        return KeyholdService.dataDir(app).relativeTo(dataRoot).path + "/"
    }

    @Test
    fun databaseLivesInNoBackup() {
        val app = RuntimeEnvironment.getApplication()
        assertEquals(app.noBackupFilesDir, KeyholdService.dataDir(app).parentFile)
        assertEquals("no_backup/keyhold/", dataDirUnderRoot())
    }

    @Test
    fun cloudBackupAndDeviceTransferExcludeTheDatabase() {
        val dir = dataDirUnderRoot()
        for (section in listOf("cloud-backup", "device-transfer")) {
            assertTrue(section, ("root" to dir) in excludes("keyhold_data_extraction_rules.xml", section))
        }
        assertTrue(("root" to dir) in excludes("keyhold_backup_rules.xml", null))
    }

    @Test
    fun bothRuleFilesExcludeTheSamePaths() {
        val legacy = excludes("keyhold_backup_rules.xml", null).toSet()
        assertEquals(legacy, excludes("keyhold_data_extraction_rules.xml", "cloud-backup").toSet())
        assertEquals(legacy, excludes("keyhold_data_extraction_rules.xml", "device-transfer").toSet())
    }

    @Test
    fun appsDeclareTheRules() {
        val root = File(System.getProperty("keyhold.repo.root") ?: "../..")
        for (manifest in listOf("android-service/companion/src/main/AndroidManifest.xml", "sample-wallet/android/src/main/AndroidManifest.xml")) {
            val text = File(root, manifest).readText()
            assertTrue(manifest, "android:dataExtractionRules=\"@xml/keyhold_data_extraction_rules\"" in text)
            assertTrue(manifest, "android:fullBackupContent=\"@xml/keyhold_backup_rules\"" in text)
        }
    }
}
