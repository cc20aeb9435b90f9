package dev.keyhold.sample

import android.content.ComponentName
import android.os.Looper
import android.os.Process
import android.text.InputType
import android.view.View
import android.view.WindowManager
import android.view.inputmethod.EditorInfo
import android.widget.EditText
import android.widget.TextView
import dev.keyhold.android.testing.KeyholdHarness
import dev.keyhold.sdk.KeyholdClient
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.Shadows.shadowOf
import org.robolectric.android.controller.ActivityController
import org.robolectric.RobolectricTestRunner

/**
 * The sample wallet end to end in embedded mode: Activity -> SDK -> AIDL
 * Proxy -> KeyholdService -> JNI -> Rust core -> Keystore sealer (fake).
 */
@RunWith(RobolectricTestRunner::class)
class MainActivityTest {
    private lateinit var h: KeyholdHarness
    private lateinit var controller: ActivityController<MainActivity>

    @Before
    fun setUp() {
        h = KeyholdHarness()
        // Embedded mode: the Activity and the service share the app's uid.
        h.installApp(h.app.packageName, Process.myUid(), listOf(KeyholdHarness.CERT_C))
        h.callAsSelf()
        val shadowApp = shadowOf(h.app)
        shadowApp.setBindServiceCallsOnServiceConnectedDirectly(true)
        shadowApp.setComponentNameAndServiceForBindService(ComponentName(h.app.packageName, KeyholdClient.SERVICE_CLASS), h.binder)
        controller = Robolectric.buildActivity(MainActivity::class.java).setup()
    }

    @After
    fun tearDown() {
        controller.pause().stop().destroy()
        h.close()
    }

    private fun <V : View> view(tag: String): V = controller.get().window.decorView.findViewWithTag(tag)

    /** Runs the main looper until the view tagged [tag] shows text matching [done]. */
    private fun awaitText(tag: String, done: (String) -> Boolean): String {
        val deadline = System.currentTimeMillis() + 60_000
        while (System.currentTimeMillis() < deadline) {
            shadowOf(Looper.getMainLooper()).idle()
            val text = view<TextView>(tag).text.toString()
            if (done(text)) return text
            Thread.sleep(5)
        }
        fail("timed out; $tag shows \"${view<TextView>(tag).text}\", status \"${view<TextView>("status").text}\"")
        throw AssertionError()
    }

    @Test
    fun createsAWalletShowsItsAddressSignsAndVerifies() {
        awaitText("status") { it.startsWith("Create or import") }
        view<View>("create").performClick()
        val address = awaitText("address") { it.startsWith("0x") }
        assertEquals(42, address.length)
        // Hardware-backed (which of StrongBox and TEE depends on the level's Keystore double), never software.
        awaitText("status") { it == "Wallet protected by android-strongbox" || it == "Wallet protected by android-tee" }

        view<View>("sign").performClick()
        val signed = awaitText("signature") { it.contains("verifies") }
        assertEquals("verifies: true", signed.lines().last())
        // 65-byte recoverable signature, hex.
        assertEquals(130, signed.lines().first().removePrefix("signature ").length)
    }

    @Test
    fun importsAMnemonicAndShowsTheKnownAddress() {
        awaitText("status") { it.startsWith("Create or import") }
        view<EditText>("mnemonic").setText(ABANDON_ABOUT)
        view<View>("import").performClick()
        assertEquals("0x9858EfFD232B4033E47d90003D41EC34EcaEda94", awaitText("address") { it.startsWith("0x") })
        assertEquals("", view<EditText>("mnemonic").text.toString())
    }

    @Test
    fun theMnemonicScreenIsSecureAndTheKeyboardMayNotLearnIt() {
        val flags = controller.get().window.attributes.flags
        assertTrue("FLAG_SECURE", flags and WindowManager.LayoutParams.FLAG_SECURE != 0)
        val field = view<EditText>("mnemonic")
        val type = field.inputType
        assertEquals(InputType.TYPE_CLASS_TEXT, type and InputType.TYPE_MASK_CLASS)
        assertEquals(InputType.TYPE_TEXT_VARIATION_VISIBLE_PASSWORD, type and InputType.TYPE_MASK_VARIATION)
        assertTrue("no suggestions", type and InputType.TYPE_TEXT_FLAG_NO_SUGGESTIONS != 0)
        assertFalse("no auto-correct", type and InputType.TYPE_TEXT_FLAG_AUTO_CORRECT != 0)
        assertTrue("no personalised learning", field.imeOptions and EditorInfo.IME_FLAG_NO_PERSONALIZED_LEARNING != 0)
        // What the keyboard is actually told when it connects.
        val info = EditorInfo()
        field.onCreateInputConnection(info)
        assertTrue(info.imeOptions and EditorInfo.IME_FLAG_NO_PERSONALIZED_LEARNING != 0)
        assertTrue(info.inputType and InputType.TYPE_TEXT_FLAG_NO_SUGGESTIONS != 0)
        assertEquals(View.IMPORTANT_FOR_AUTOFILL_NO_EXCLUDE_DESCENDANTS, field.importantForAutofill)
        assertFalse("not kept in the saved instance state", field.isSaveEnabled)
        assertFalse("no copy menu", field.isLongClickable)
    }

    @Test
    fun typedErrorsAreShown() {
        awaitText("status") { it.startsWith("Create or import") }
        view<EditText>("mnemonic").setText("abandon abandon nonsense")
        view<View>("import").performClick()
        awaitText("status") { it.startsWith("Importing wallet failed: InvalidMnemonic (9)") }
    }

    private companion object {
        const val ABANDON_ABOUT = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
    }
}
