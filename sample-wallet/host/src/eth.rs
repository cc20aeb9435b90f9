//! The little Ethereum the wallet needs: RLP, Keccak-256, legacy EIP-155
//! transactions, EIP-191 `personal_sign` digests, EIP-55 addresses and
//! public-key recovery (with k256, locally, to check keyhold's signatures).

use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
use sha3::{Digest, Keccak256};

/// Keccak-256.
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    Keccak256::digest(data).into()
}

/// RLP encoding of a byte string.
pub fn rlp_bytes(b: &[u8]) -> Vec<u8> {
    match b.len() {
        1 if b[0] < 0x80 => b.to_vec(),
        n => {
            let mut out = rlp_length(n, 0x80);
            out.extend_from_slice(b);
            out
        }
    }
}

/// RLP encoding of an unsigned integer (big-endian, no leading zeros).
pub fn rlp_uint(v: u128) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    rlp_bytes(&bytes[first..])
}

/// RLP encoding of a list of already-encoded items.
pub fn rlp_list(items: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = items.concat();
    let mut out = rlp_length(body.len(), 0xc0);
    out.extend_from_slice(&body);
    out
}

fn rlp_length(len: usize, offset: u8) -> Vec<u8> {
    if len <= 55 {
        vec![offset + len as u8]
    } else {
        let be = len.to_be_bytes();
        let first = be.iter().position(|b| *b != 0).unwrap_or(be.len() - 1);
        let mut out = vec![offset + 55 + (be.len() - first) as u8];
        out.extend_from_slice(&be[first..]);
        out
    }
}

/// A legacy (pre-EIP-2718) transaction, signed with EIP-155 replay protection.
#[derive(Debug, Clone)]
pub struct LegacyTx {
    /// Sender's nonce.
    pub nonce: u128,
    /// Gas price in wei.
    pub gas_price: u128,
    /// Gas limit.
    pub gas_limit: u128,
    /// Recipient.
    pub to: [u8; 20],
    /// Value in wei.
    pub value: u128,
    /// Call data.
    pub data: Vec<u8>,
    /// Chain id (1: mainnet).
    pub chain_id: u128,
}

impl LegacyTx {
    fn fields(&self) -> Vec<Vec<u8>> {
        vec![
            rlp_uint(self.nonce),
            rlp_uint(self.gas_price),
            rlp_uint(self.gas_limit),
            rlp_bytes(&self.to),
            rlp_uint(self.value),
            rlp_bytes(&self.data),
        ]
    }

    /// The EIP-155 signing payload: RLP(nonce, gasPrice, gas, to, value, data, chainId, 0, 0).
    pub fn signing_payload(&self) -> Vec<u8> {
        let mut f = self.fields();
        f.extend([rlp_uint(self.chain_id), rlp_uint(0), rlp_uint(0)]);
        rlp_list(&f)
    }

    /// keccak256 of the signing payload: what gets signed.
    pub fn signing_hash(&self) -> [u8; 32] {
        keccak256(&self.signing_payload())
    }

    /// The raw signed transaction for a 65-byte r||s||recid signature.
    pub fn encode_signed(&self, signature: &[u8; 65]) -> Vec<u8> {
        let v = self.chain_id * 2 + 35 + u128::from(signature[64]);
        let mut f = self.fields();
        f.extend([
            rlp_uint(v),
            rlp_scalar(&signature[..32]),
            rlp_scalar(&signature[32..64]),
        ]);
        rlp_list(&f)
    }
}

/// r and s are integers in RLP: no leading zero bytes.
fn rlp_scalar(b: &[u8]) -> Vec<u8> {
    let first = b.iter().position(|x| *x != 0).unwrap_or(b.len());
    rlp_bytes(&b[first..])
}

/// The EIP-191 `personal_sign` digest of a message.
pub fn personal_message_hash(message: &[u8]) -> [u8; 32] {
    let mut data = format!("\x19Ethereum Signed Message:\n{}", message.len()).into_bytes();
    data.extend_from_slice(message);
    keccak256(&data)
}

/// The address of a public key: the last 20 bytes of keccak256(X || Y).
pub fn address_of(key: &VerifyingKey) -> [u8; 20] {
    let point = key.to_sec1_point(false);
    let hash = keccak256(&point.as_bytes()[1..]);
    let mut out = [0u8; 20];
    out.copy_from_slice(&hash[12..]);
    out
}

/// EIP-55 mixed-case checksum encoding, with 0x.
pub fn checksum_address(address: &[u8; 20]) -> String {
    let lower = hex::encode(address);
    let hash = keccak256(lower.as_bytes());
    let mut out = String::from("0x");
    for (i, c) in lower.chars().enumerate() {
        let nibble = (hash[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0xf;
        out.push(if nibble >= 8 {
            c.to_ascii_uppercase()
        } else {
            c
        });
    }
    out
}

/// Recovers the signer of a 32-byte digest from a 65-byte r||s||recid signature.
pub fn recover(digest: &[u8; 32], signature: &[u8; 65]) -> Result<VerifyingKey, String> {
    let sig = Signature::from_slice(&signature[..64]).map_err(|e| format!("bad signature: {e}"))?;
    let recid = RecoveryId::from_byte(signature[64]).ok_or("bad recovery id")?;
    VerifyingKey::recover_from_prehash(digest, &sig, recid)
        .map_err(|e| format!("recovery failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of EIP-155 (eips.ethereum.org/EIPS/eip-155).
    fn eip155_example() -> LegacyTx {
        LegacyTx {
            nonce: 9,
            gas_price: 20_000_000_000,
            gas_limit: 21_000,
            to: [0x35; 20],
            value: 1_000_000_000_000_000_000,
            data: vec![],
            chain_id: 1,
        }
    }

    #[test]
    fn eip155_signing_data_and_hash_match_the_spec() {
        let tx = eip155_example();
        assert_eq!(
            hex::encode(tx.signing_payload()),
            "ec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080018080"
        );
        assert_eq!(
            hex::encode(tx.signing_hash()),
            "daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53"
        );
    }

    #[test]
    fn eip155_signed_transaction_matches_the_spec() {
        // The EIP's signature (v = 37, so recovery id 0).
        let r = hex::decode("28ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276")
            .unwrap();
        let s = hex::decode("67cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83")
            .unwrap();
        let mut sig = [0u8; 65];
        sig[..32].copy_from_slice(&r);
        sig[32..64].copy_from_slice(&s);
        assert_eq!(
            hex::encode(eip155_example().encode_signed(&sig)),
            "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83"
        );
        // And recovery finds the EIP's sender, 0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F.
        let key = recover(&eip155_example().signing_hash(), &sig).unwrap();
        assert_eq!(
            checksum_address(&address_of(&key)),
            "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F"
        );
    }

    #[test]
    fn eip55_examples() {
        for a in [
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        ] {
            let raw: [u8; 20] = hex::decode(&a[2..]).unwrap().try_into().unwrap();
            assert_eq!(checksum_address(&raw), a);
        }
    }

    #[test]
    fn personal_sign_digest() {
        // ethers.js: hashMessage("Hello World").
        assert_eq!(
            hex::encode(personal_message_hash(b"Hello World")),
            "a1de988600a42c4b4ab089b619297c17d53cffae5d5120d82d8a92d0bb3b78f2"
        );
    }

    #[test]
    fn rlp_lengths() {
        assert_eq!(rlp_bytes(&[0x7f]), vec![0x7f]);
        assert_eq!(rlp_bytes(&[0x80]), vec![0x81, 0x80]);
        assert_eq!(rlp_uint(0), vec![0x80]);
        assert_eq!(rlp_bytes(&[0u8; 56])[..2], [0xb8, 56]);
        assert_eq!(rlp_list(&[vec![0u8; 60]])[..2], [0xf8, 60]);
    }
}
