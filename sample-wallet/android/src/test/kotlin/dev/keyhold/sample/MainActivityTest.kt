package dev.keyhold.sample

import android.content.ComponentName
import android.os.Looper
import android.os.Process
import android.view.View
import android.widget.EditText
import android.widget.TextView
import dev.keyhold.android.testing.KeyholdHarness
import dev.keyhold.sdk.KeyholdClient
import org.junit.After
import org.junit.Assert.assertEquals
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
        awaitText("status") { it == "Wallet protected by android-strongbox" }

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
