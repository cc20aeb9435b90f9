package dev.keyhold.sample

import android.app.Activity
import android.os.Bundle
import android.text.InputType
import android.view.ActionMode
import android.view.Menu
import android.view.MenuItem
import android.view.View
import android.view.WindowManager
import android.view.inputmethod.EditorInfo
import android.widget.Button
import android.widget.EditText
import android.widget.LinearLayout
import android.widget.ScrollView
import android.widget.TextView
import dev.keyhold.sdk.HdScheme
import dev.keyhold.sdk.ImportMaterial
import dev.keyhold.sdk.KeyRef
import dev.keyhold.sdk.KeyholdClient
import dev.keyhold.sdk.KeyholdException
import dev.keyhold.sdk.Payload
import dev.keyhold.sdk.PublicKeyFormat
import dev.keyhold.sdk.SignatureScheme
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.MainScope
import kotlinx.coroutines.cancel
import kotlinx.coroutines.launch

/**
 * A minimal wallet on Keyhold: create or import an HD wallet, show its
 * Ethereum address, sign and verify a message. The UI is built in code (no
 * resources) so the JVM check compiles and runs it under Robolectric.
 *
 * It binds the service embedded in this APK (`:keyhold` process, see
 * AndroidManifest.xml); `KeyholdClient.companion(this, kmsCertificateSha256)` would use
 * the KMS app, after checking its signing certificate.
 */
class MainActivity : Activity() {
    private val scope: CoroutineScope = MainScope()
    private lateinit var keyhold: KeyholdClient
    private lateinit var status: TextView
    private lateinit var address: TextView
    private lateinit var signature: TextView
    private lateinit var mnemonic: EditText

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        // A mnemonic is typed and shown here: no screenshots, screen recording,
        // casting or thumbnail in Recents (FLAG_SECURE, before any content).
        window.setFlags(WindowManager.LayoutParams.FLAG_SECURE, WindowManager.LayoutParams.FLAG_SECURE)
        keyhold = KeyholdClient.embedded(this)
        status = text("status", "Connecting to Keyhold...")
        address = text("address", "No wallet yet")
        signature = text("signature", "")
        mnemonic = mnemonicField()
        val column = LinearLayout(this).apply {
            orientation = LinearLayout.VERTICAL
            setPadding(32, 32, 32, 32)
            addView(status)
            addView(button("create", "Create wallet") { createWallet() })
            addView(mnemonic)
            addView(button("import", "Import wallet") { importWallet() })
            addView(address)
            addView(button("sign", "Sign and verify \"$MESSAGE\"") { signAndVerify() })
            addView(signature)
        }
        setContentView(ScrollView(this).apply { addView(column) })
        run("Loading") { showAddress() }
    }

    override fun onDestroy() {
        scope.cancel()
        keyhold.close()
        super.onDestroy()
    }

    private fun createWallet() = run("Creating wallet") {
        keyhold.generateHdKey(WALLET_ALIAS, HdScheme.BIP32_SECP256K1)
        showAddress()
    }

    private fun importWallet() = run("Importing wallet") {
        val phrase = mnemonic.text.toString().trim().toByteArray(Charsets.UTF_8)
        try {
            keyhold.importKey(WALLET_ALIAS, ImportMaterial.Mnemonic(phrase))
        } finally {
            phrase.fill(0)
            mnemonic.text.clear()
        }
        showAddress()
    }

    private suspend fun showAddress() {
        val wallet = keyhold.listKeys().firstOrNull { it.alias == WALLET_ALIAS }
        address.text = wallet?.let {
            keyhold.getPublicKey(KeyRef.Alias(WALLET_ALIAS), PublicKeyFormat.ETH_ADDRESS, ACCOUNT_PATH).text
        } ?: "No wallet yet"
        status.text = wallet?.let { "Wallet protected by ${it.sealer}" } ?: "Create or import a wallet"
    }

    /**
     * Signs with the account key. A real Ethereum wallet would pass the
     * EIP-191 Keccak-256 digest as [Payload.Digest]; the sample signs the
     * message itself (hashed with SHA-256 by the service).
     */
    private fun signAndVerify() = run("Signing") {
        val key = KeyRef.Alias(WALLET_ALIAS)
        val payload = Payload.Message(MESSAGE.toByteArray(Charsets.UTF_8))
        val sig = keyhold.sign(key, payload, SignatureScheme.ECDSA_RECOVERABLE, ACCOUNT_PATH)
        val valid = keyhold.verify(key, payload, sig, SignatureScheme.ECDSA_RECOVERABLE, ACCOUNT_PATH)
        signature.text = "signature ${sig.toHex()}\nverifies: $valid"
        status.text = "Signed"
    }

    /** Runs [block] on the main thread (the SDK moves the IPC off it), reporting typed errors. */
    private fun run(what: String, block: suspend () -> Unit) {
        status.text = "$what..."
        scope.launch {
            try {
                block()
            } catch (e: KeyholdException) {
                status.text = "$what failed: ${e.javaClass.simpleName} (${e.code}) ${e.message.orEmpty()}"
            }
        }
    }

    /**
     * The mnemonic field keeps the phrase away from everything but the
     * service: the keyboard is asked not to suggest, learn or store it
     * (visible-password variation + NO_SUGGESTIONS, which keyboards treat as
     * "do not learn"; IME_FLAG_NO_PERSONALIZED_LEARNING, API 26), autofill
     * and the saved instance state never see it, and it cannot be copied to
     * the clipboard (which other apps and the keyboard can read).
     */
    private fun mnemonicField() = EditText(this).apply {
        tag = "mnemonic"
        hint = "BIP39 mnemonic to import"
        inputType = InputType.TYPE_CLASS_TEXT or
            InputType.TYPE_TEXT_VARIATION_VISIBLE_PASSWORD or
            InputType.TYPE_TEXT_FLAG_NO_SUGGESTIONS
        imeOptions = EditorInfo.IME_FLAG_NO_PERSONALIZED_LEARNING or EditorInfo.IME_FLAG_NO_EXTRACT_UI
        importantForAutofill = View.IMPORTANT_FOR_AUTOFILL_NO_EXCLUDE_DESCENDANTS
        isSaveEnabled = false
        isLongClickable = false
        customSelectionActionModeCallback = NoCopy
        customInsertionActionModeCallback = NoCopy
    }

    /** Refuses the text selection / insertion menus (copy, share, paste). */
    private object NoCopy : ActionMode.Callback {
        override fun onCreateActionMode(mode: ActionMode, menu: Menu): Boolean = false

        override fun onPrepareActionMode(mode: ActionMode, menu: Menu): Boolean = false

        override fun onActionItemClicked(mode: ActionMode, item: MenuItem): Boolean = false

        override fun onDestroyActionMode(mode: ActionMode) = Unit
    }

    private fun text(tag: String, initial: String) = TextView(this).apply {
        this.tag = tag
        text = initial
        setTextIsSelectable(true)
    }

    private fun button(tag: String, label: String, onClick: () -> Unit) = Button(this).apply {
        this.tag = tag
        text = label
        setOnClickListener { _: View -> onClick() }
    }

    private fun ByteArray.toHex(): String = joinToString("") { "%02x".format(it) }

    companion object {
        const val WALLET_ALIAS = "wallet"
        const val ACCOUNT_PATH = "m/44'/60'/0'/0/0"
        const val MESSAGE = "Hello from Keyhold"
    }
}
