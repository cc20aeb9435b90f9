// The host app of KeyholdDeviceTests: it only exists so the tests run
// inside a signed app with a keychain entitlement. It shows whether this
// device has a Secure Enclave.

import Keyhold
import SwiftUI

@main
struct KeyholdHostApp: App {
    var body: some Scene {
        WindowGroup {
            Text(SecureEnclaveSealer.isAvailable ? "Secure Enclave: available" : "Secure Enclave: not available")
                .padding()
        }
    }
}
