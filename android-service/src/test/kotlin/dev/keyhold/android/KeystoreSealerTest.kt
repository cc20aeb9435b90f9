package dev.keyhold.android

import android.content.pm.PackageManager
import android.os.Build
import dev.keyhold.android.testing.StrictAndroidKeyStore
import dev.keyhold.android.testing.StrictAndroidKeyStore.Call
import dev.keyhold.android.testing.StrictAndroidKeyStore.Fault
import org.junit.After
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Assume.assumeTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import java.security.KeyStore
import javax.crypto.Cipher
import javax.crypto.SecretKey

/**
 * The Keystore sealer alone, over [StrictAndroidKeyStore] behaving as the
 * running SDK's keystore (keystore1 on 28/30, keystore2 on 33/35). Each
 * defect of issue 8 section 1 has a test here or in [KeyLifecycleTest].
 */
@RunWith(RobolectricTestRunner::class)
class KeystoreSealerTest {
    private lateinit var keystore: StrictAndroidKeyStore
    private val app = RuntimeEnvironment.getApplication()
    private val secret = ByteArray(32) { (it * 7 + 1).toByte() }
    private val aad = "key-id|owner|secp256k1".toByteArray()
    private val alias = KeystoreSealer.DEFAULT_ALIAS
    private val sdk = Build.VERSION.SDK_INT

    @Before
    fun setUp() {
        keystore = StrictAndroidKeyStore.install()
    }

    @After
    fun tearDown() = StrictAndroidKeyStore.uninstall()

    private fun declareStrongBox(declared: Boolean) =
        shadowOf(app.packageManager).setSystemFeature(PackageManager.FEATURE_STRONGBOX_KEYSTORE, declared)

    private fun expectKind(kind: SealerException.Kind, block: () -> Unit): SealerException {
        try {
            block()
        } catch (e: SealerException) {
            assertEquals(e.message, kind, e.kind)
            assertEquals(kind.code, e.kindCode())
            return e
        }
        fail("expected SealerException($kind)")
        throw AssertionError()
    }

    private fun sealer(config: SealerConfig = SealerConfig()) = KeystoreSealer(app, config)

    /** A sealer whose key was opened as the core opens it for a new store. */
    private fun opened(config: SealerConfig = SealerConfig()) = sealer(config).also { it.openKey(true, null, null) }

    /** A second sealer over the same key, as the core opens a store with records. */
    private fun reopened(recordedLevel: String? = null) =
        sealer().also { it.openKey(false, alias, recordedLevel) }

    @Test
    fun roundTripsAndBindsTheAad() {
        val sealer = opened()
        val sealed = sealer.seal(secret, aad)
        assertEquals(KeystoreSealer.IV_BYTES + secret.size + KeystoreSealer.TAG_BYTES, sealed.size)
        assertArrayEquals(secret, sealer.unseal(sealed, aad))
        expectKind(SealerException.Kind.AUTHENTICATION_FAILED) { sealer.unseal(sealed, "other aad".toByteArray()) }
    }

    @Test
    fun sealedBlobIsNotCleartextAndUsesAFreshIv() {
        val sealer = opened()
        val a = sealer.seal(secret, aad)
        val b = sealer.seal(secret, aad)
        assertFalse(a.toList().windowed(secret.size).any { it == secret.toList() })
        assertFalse(a.copyOfRange(0, 12).contentEquals(b.copyOfRange(0, 12)))
    }

    @Test
    fun tamperedBlobFailsAuthentication() {
        val sealer = opened()
        val sealed = sealer.seal(secret, aad)
        for (i in listOf(0, 12, sealed.size - 1)) {
            val bad = sealed.copyOf().also { it[i] = (it[i].toInt() xor 1).toByte() }
            expectKind(SealerException.Kind.AUTHENTICATION_FAILED) { sealer.unseal(bad, aad) }
        }
        expectKind(SealerException.Kind.AUTHENTICATION_FAILED) { sealer.unseal(ByteArray(20), aad) }
    }

    // --- StrongBox, then TEE, for real ---------------------------------------------------

    @Test
    fun asksForStrongBoxOnlyWhenTheDeviceDeclaresIt() {
        declareStrongBox(false)
        val info = sealer().openKey(true, null, null)
        assertEquals("no StrongBox attempt without FEATURE_STRONGBOX_KEYSTORE", 0, keystore.strongBoxRequests.get())
        assertEquals(KeystoreSealer.LEVEL_TEE, info.levelRequested)
        assertEquals(KeystoreSealer.LEVEL_TEE, info.levelObtained)
        assertTrue(info.created)
    }

    @Test
    fun createsAStrongBoxKeyWhenDeclaredAndRecordsIt() {
        declareStrongBox(true)
        val sealer = sealer()
        assertEquals(KeystoreSealer.NAME_UNKNOWN, sealer.name())
        val info = sealer.openKey(true, null, null)
        assertEquals(1, keystore.strongBoxRequests.get())
        assertEquals(StrictAndroidKeyStore.Level.STRONGBOX, keystore.entry(alias)?.level)
        assertEquals(KeystoreSealer.LEVEL_STRONGBOX, info.levelRequested)
        // On 28-30 only isInsideSecureHardware exists: the level comes from the StrongBox attempt succeeding.
        assertEquals(KeystoreSealer.LEVEL_STRONGBOX, info.levelObtained)
        assertEquals(KeystoreSealer.NAME_STRONGBOX, sealer.name())
    }

    @Test
    fun aBrokenStrongBoxFallsBackToTheTee() {
        declareStrongBox(true)
        keystore.strongBoxBroken = true // a plain ProviderException, not StrongBoxUnavailableException
        val sealer = sealer()
        val info = sealer.openKey(true, null, null)
        assertEquals(1, keystore.strongBoxRequests.get())
        assertEquals(StrictAndroidKeyStore.Level.TEE, keystore.entry(alias)?.level)
        assertEquals(KeystoreSealer.LEVEL_STRONGBOX, info.levelRequested)
        assertEquals(KeystoreSealer.LEVEL_TEE, info.levelObtained)
        assertArrayEquals(secret, sealer.unseal(sealer.seal(secret, aad), aad))
    }

    @Test
    fun aDeclaredButMissingStrongBoxFallsBackToTheTee() {
        declareStrongBox(true)
        keystore.strongBoxPresent = false // StrongBoxUnavailableException
        val info = sealer().openKey(true, null, null)
        assertEquals(KeystoreSealer.LEVEL_TEE, info.levelObtained)
        assertEquals(1, keystore.keyGenerations.get())
    }

    @Test
    fun preferStrongBoxOffMeansTheTee() {
        declareStrongBox(true)
        val info = sealer(SealerConfig(preferStrongBox = false)).openKey(true, null, null)
        assertEquals(0, keystore.strongBoxRequests.get())
        assertEquals(KeystoreSealer.LEVEL_TEE, info.levelRequested)
    }

    @Test
    fun flagsASoftwareKeystore() {
        keystore.teeIsSoftware = true
        val sealer = opened()
        assertEquals(KeystoreSealer.NAME_SOFTWARE, sealer.name())
    }

    @Test
    fun aKeyFoundAgainReportsTheLevelItHas() {
        declareStrongBox(true)
        val sealed = opened().seal(secret, aad)
        val withRecord = reopened(KeystoreSealer.LEVEL_STRONGBOX)
        assertEquals(KeystoreSealer.NAME_STRONGBOX, withRecord.name())
        assertArrayEquals(secret, withRecord.unseal(sealed, aad))
        // Without a record, API 28-30 can only say "secure hardware"; API 31+ reads KeyInfo.getSecurityLevel.
        val expected = if (sdk >= 31) KeystoreSealer.NAME_STRONGBOX else "android-${KeystoreSealer.LEVEL_HARDWARE}"
        assertEquals(expected, reopened(null).name())
        assertEquals(1, keystore.keyGenerations.get())
    }

    // --- Never create a key while sealed records exist --------------------------------------

    @Test
    fun aMissingKeyIsCreatedOnlyWhenAllowed() {
        expectKind(SealerException.Kind.KEY_NOT_FOUND) { sealer().openKey(false, alias, null) }
        assertEquals(0, keystore.keyGenerations.get())
        val info = sealer().openKey(true, null, null)
        assertTrue(info.created)
        assertEquals(alias, info.label)
        assertFalse(sealer().openKey(false, alias, null).created)
        assertFalse("a found key is reused, not regenerated", sealer().openKey(true, null, null).created)
        assertEquals(1, keystore.keyGenerations.get())
    }

    @Test
    fun aRestartingKeystoreNeverCostsTheKey() {
        val sealed = opened().seal(secret, aad)
        keystore.keystoreDaemonDown = true
        // keystore1 answers null (it looks missing); keystore2 says why (a system error): either way, nothing is made.
        val expected = if (sdk >= 31) SealerException.Kind.UNAVAILABLE else SealerException.Kind.KEY_NOT_FOUND
        expectKind(expected) { sealer().openKey(false, alias, KeystoreSealer.LEVEL_TEE) }
        assertEquals(1, keystore.keyGenerations.get())
        assertEquals("nothing deleted", 0, keystore.keysDestroyed.get())
        keystore.keystoreDaemonDown = false
        assertArrayEquals(secret, reopened().unseal(sealed, aad))
    }

    @Test
    fun theStoresRecordedAliasWinsOverTheConfiguredOne() {
        opened()
        val info = sealer(SealerConfig(alias = "another-alias")).openKey(false, alias, null)
        assertEquals(alias, info.label)
        assertEquals(setOf(alias), keystore.aliases)
    }

    // --- Classify failures by cause ----------------------------------------------------------

    @Test
    fun aTransientLookupFailureIsUnavailableNotInvalidated() {
        opened()
        keystore.failNext(Call.GET_KEY, Fault.HARDWARE_BUSY)
        val e = expectKind(SealerException.Kind.UNAVAILABLE) { sealer().openKey(false, alias, null) }
        if (sdk >= 33) assertTrue(e.message, e.message!!.contains("keystore error 10, transient"))
        assertNotNull(reopened())
        assertEquals(0, keystore.keysDestroyed.get())
    }

    @Test
    fun aNonTransientKeystoreErrorIsStillNotInvalidation() {
        opened()
        keystore.failNext(Call.GET_KEY, Fault.KEY_CORRUPTED)
        val e = expectKind(SealerException.Kind.UNAVAILABLE) { sealer().openKey(false, alias, null) }
        if (sdk >= 33) assertTrue(e.message, e.message!!.contains("keystore error 7, not transient"))
    }

    @Test
    fun permanentInvalidationIsKeyInvalidated() {
        val sealer = opened()
        val sealed = sealer.seal(secret, aad)
        keystore.invalidate(alias)
        // An open sealer: Cipher.init throws KeyPermanentlyInvalidatedException on every level.
        expectKind(SealerException.Kind.KEY_INVALIDATED) { sealer.unseal(sealed, aad) }
        expectKind(SealerException.Kind.KEY_INVALIDATED) { sealer.seal(secret, aad) }
        if (sdk >= 31) {
            // keystore2: getKey throws UnrecoverableKeyException without a cause.
            expectKind(SealerException.Kind.KEY_INVALIDATED) { sealer().openKey(false, alias, null) }
        } else {
            // keystore1 loads it (characteristics only); the first operation says so.
            val found = reopened()
            expectKind(SealerException.Kind.KEY_INVALIDATED) { found.unseal(sealed, aad) }
        }
        assertEquals("an invalidated key is reported, never replaced", 1, keystore.keyGenerations.get())
    }

    @Test
    fun aTransientOperationFailureIsUnavailableAndRecovers() {
        val sealer = opened()
        val sealed = sealer.seal(secret, aad)
        keystore.failNext(Call.DO_FINAL, Fault.HARDWARE_BUSY) // IllegalBlockSizeException with the keystore cause
        expectKind(SealerException.Kind.UNAVAILABLE) { sealer.unseal(sealed, aad) }
        keystore.failNext(Call.CIPHER_INIT, Fault.HARDWARE_BUSY) // InvalidKeyException("Keystore operation failed")
        expectKind(SealerException.Kind.UNAVAILABLE) { sealer.unseal(sealed, aad) }
        assertArrayEquals(secret, sealer.unseal(sealed, aad))
        assertEquals("failed operations give their slot back", 0, keystore.operationsInFlight)
    }

    @Test
    fun aPrunedOperationFailsAndTheSealersOwnOperationGoesThrough() {
        val sealer = opened()
        val sealed = sealer.seal(secret, aad)
        keystore.operationSlots = 1
        // Another user of the key holds the only slot and never finishes (an abandoned Cipher).
        val held = Cipher.getInstance(KeystoreSealer.TRANSFORMATION).apply {
            init(Cipher.ENCRYPT_MODE, KeyStore.getInstance("AndroidKeyStore").apply { load(null) }.getKey(alias, null) as SecretKey)
        }
        assertArrayEquals("keystore prunes the idle operation", secret, sealer.unseal(sealed, aad))
        try {
            held.doFinal(secret)
            fail("a pruned operation cannot finish")
        } catch (e: javax.crypto.IllegalBlockSizeException) {
            assertNotNull("the keystore error is the cause", e.cause)
        }
    }

    @Test
    fun noOperationSlotIsUnavailable() {
        val sealer = opened()
        val sealed = sealer.seal(secret, aad)
        keystore.operationSlots = 1
        keystore.pruning = false // BACKEND_BUSY: BackendBusyException (API 31+), InvalidKeyException before
        Cipher.getInstance(KeystoreSealer.TRANSFORMATION).init(
            Cipher.ENCRYPT_MODE,
            KeyStore.getInstance("AndroidKeyStore").apply { load(null) }.getKey(alias, null) as SecretKey,
        )
        expectKind(SealerException.Kind.UNAVAILABLE) { sealer.unseal(sealed, aad) }
    }

    @Test
    fun missingKeystoreIsUnavailable() {
        StrictAndroidKeyStore.uninstall()
        // KeyStore.getInstance("AndroidKeyStore") throws KeyStoreException.
        expectKind(SealerException.Kind.UNAVAILABLE) { sealer().openKey(true, null, null) }
    }

    @Test
    fun neverReturnsItsInputWhenTheKeystoreFails() {
        val sealer = opened()
        keystore.failNext(Call.DO_FINAL, Fault.SYSTEM_ERROR)
        expectKind(SealerException.Kind.UNAVAILABLE) { sealer.seal(secret, aad) }
    }

    @Test
    fun aKeyWipedUnderAnOpenSealerIsReportedByCause() {
        val sealer = opened()
        keystore.wipe()
        // keystore2 turns KEY_NOT_FOUND at Cipher.init into KeyPermanentlyInvalidatedException;
        // keystore1 into InvalidKeyException("Keystore operation failed") (not provably permanent).
        val expected = if (sdk >= 31) SealerException.Kind.KEY_INVALIDATED else SealerException.Kind.UNAVAILABLE
        expectKind(expected) { sealer.seal(secret, aad) }
    }

    // --- Hardening options, from the configuration ---------------------------------------------

    @Test
    fun theDefaultKeyHasNoHardeningThatUsersCanDestroy() {
        opened()
        val entry = keystore.entry(alias)!!
        assertFalse(entry.unlockedDeviceRequired)
        assertEquals(0, entry.userAuthenticationSeconds)
        keystore.removeSecureLockScreen()
        assertFalse(entry.invalidated)
    }

    @Test
    fun unlockedDeviceRequiredIsConfiguredAndEnforced() {
        val sealer = opened(SealerConfig(unlockedDeviceRequired = true))
        assertTrue(keystore.entry(alias)!!.unlockedDeviceRequired)
        val sealed = sealer.seal(secret, aad)
        keystore.deviceLocked = true
        expectKind(SealerException.Kind.UNAVAILABLE) { sealer.unseal(sealed, aad) }
        keystore.deviceLocked = false
        assertArrayEquals(secret, sealer.unseal(sealed, aad))
    }

    @Test
    fun userAuthenticationBindingIsConfiguredAndEnforced() {
        val sealer = opened(SealerConfig(userAuthenticationSeconds = 300))
        assertEquals(300, keystore.entry(alias)!!.userAuthenticationSeconds)
        val sealed = sealer.seal(secret, aad)
        keystore.secondsSinceAuthentication = 301
        expectKind(SealerException.Kind.UNAVAILABLE) { sealer.unseal(sealed, aad) }
        keystore.secondsSinceAuthentication = 10
        assertArrayEquals(secret, sealer.unseal(sealed, aad))
        keystore.removeSecureLockScreen()
        expectKind(SealerException.Kind.KEY_INVALIDATED) { sealer.unseal(sealed, aad) }
    }

    @Test
    fun authBindingNeedsASecureLockScreenAtCreation() {
        keystore.removeSecureLockScreen()
        expectKind(SealerException.Kind.UNAVAILABLE) { opened(SealerConfig(userAuthenticationSeconds = 60)) }
        assertEquals(0, keystore.keyGenerations.get())
    }

    @Test
    fun unlockedDeviceRequiredWithoutALockScreenFollowsTheAndroid12To14Bug() {
        keystore.removeSecureLockScreen()
        if (sdk in 31..34) {
            expectKind(SealerException.Kind.UNAVAILABLE) { opened(SealerConfig(unlockedDeviceRequired = true)) }
        } else {
            val sealer = opened(SealerConfig(unlockedDeviceRequired = true))
            assertArrayEquals(secret, sealer.unseal(sealer.seal(secret, aad), aad))
        }
    }

    @Test
    fun removingTheLockScreenDestroysUnlockedDeviceKeysOnlyOnAndroid12To14() {
        val sealer = opened(SealerConfig(unlockedDeviceRequired = true))
        val sealed = sealer.seal(secret, aad)
        keystore.removeSecureLockScreen()
        if (sdk in 31..34) {
            expectKind(SealerException.Kind.KEY_INVALIDATED) { sealer.unseal(sealed, aad) }
        } else {
            assertArrayEquals(secret, sealer.unseal(sealed, aad))
        }
    }

    @Test
    fun latencyIsPaidOncePerOperation() {
        assumeTrue("timing is the same on every level; measured once", sdk == 35)
        val sealer = opened()
        val sealed = sealer.seal(secret, aad)
        keystore.latencyMillis = 20
        val start = System.nanoTime()
        sealer.unseal(sealed, aad)
        val ms = (System.nanoTime() - start) / 1_000_000
        assertTrue("init + doFinal pay the modelled latency ($ms ms)", ms >= 40)
    }
}
