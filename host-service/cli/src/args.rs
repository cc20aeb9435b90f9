//! Command-line arguments (clap derive). Names of algorithms, formats and
//! schemes are the core's stable names, parsed with its `from_name`.

use clap::{Args, Parser, Subcommand};
use keyhold_core::{
    Algorithm, DerivationPath, ErrorCode, Operation, PublicKeyFormat, SignatureScheme,
};
use keyholdd::DaemonArgs;
use std::path::PathBuf;

/// Exit statuses, printed at the end of `--help`.
pub fn exit_status_help() -> String {
    let mut text = String::from(
        "Exit status:\n  0      success\n  1      connection or usage problem (daemon unreachable, bad arguments)\n  \
         2      a check answered no (verify: signature invalid; audit verify: chain broken)\n  \
         64+N   the service refused with error code N:\n",
    );
    for code in ErrorCode::ALL {
        text.push_str(&format!(
            "         {:>3}  {}\n",
            keyhold_client::exit_status(code),
            code.name()
        ));
    }
    text.push_str(
        "\nSecrets (--mnemonic, --passphrase, --seed-hex, --private-key-hex, --xprv) are given as `-` \
         and read from standard input (a terminal prompts without echo). A value on the command line, \
         where other processes can see it (/proc/<pid>/cmdline), is refused unless \
         --insecure-secret-in-argv is given. Values are zeroized after they are sent.",
    );
    text
}

/// Keyhold: keys stay sealed inside keyholdd; this tool asks it to use them.
#[derive(Debug, Parser)]
#[command(name = "keyhold", version, after_help = exit_status_help())]
pub struct Cli {
    /// Daemon socket [default: $XDG_RUNTIME_DIR/keyhold/keyhold.sock, or <data-dir>/keyhold.sock
    /// when --data-dir is given or XDG_RUNTIME_DIR is unset]
    #[arg(long, global = true, env = "KEYHOLD_SOCKET", value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Daemon data directory [default: $XDG_DATA_HOME/keyhold, else ~/.local/share/keyhold]
    #[arg(long, global = true, env = "KEYHOLD_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Print machine-readable JSON on standard output.
    #[arg(long, global = true)]
    pub json: bool,
    /// Do not start keyholdd when none is running.
    #[arg(long, global = true)]
    pub no_spawn: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// The commands, one per operation.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a key inside keyhold (or an HD root with --hd).
    Generate(GenerateArgs),
    /// Import key material: a BIP39 mnemonic, a seed, a raw private key, PKCS#8 or an xprv.
    Import(ImportArgs),
    /// Print a public key (or an address, an xpub...).
    Pubkey(PubkeyArgs),
    /// Sign a message or a 32-byte digest; prints the signature in hex.
    Sign(SignArgs),
    /// Verify a signature (exit 0 if valid, 2 if not).
    Verify(VerifyArgs),
    /// Derive an HD child: its public key and xpub; store it with --alias.
    Derive(DeriveArgs),
    /// Encrypt with an AES-256-GCM key (hex in, hex out: nonce || ciphertext || tag).
    Encrypt(EncryptArgs),
    /// Decrypt with an AES-256-GCM key (hex in, hex out).
    Decrypt(DecryptArgs),
    /// Key agreement (secp256k1/P-256 ECDH, X25519) then HKDF-SHA256: prints
    /// the output in hex, or stores it as a new AES-256-GCM key with --alias.
    Agree(AgreeArgs),
    /// List your keys.
    List,
    /// Delete a key.
    Delete(NameArg),
    /// Show a key's metadata and policy.
    Info(NameArg),
    /// Audit log commands.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Run keyholdd in the foreground (stop it with SIGTERM or Ctrl-C).
    Daemon(DaemonArgs),
}

/// `keyhold audit ...`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain of the audit log (exit 2 if broken).
    Verify,
}

/// A key, by alias (or `id:<16 hex digits>`).
#[derive(Debug, Args)]
pub struct NameArg {
    /// Key alias, or id:<16 hex digits>.
    pub name: String,
}

/// Policy flags shared by the commands that create keys.
#[derive(Debug, Args, Default)]
pub struct PolicyArgs {
    /// Bind the key to this program's executable as well as your uid: only
    /// the same binary (same SHA-256) may use it.
    #[arg(long)]
    pub bind_code: bool,
    /// Allow only these operations (repeatable: sign, verify, get_public_key, derive_key...).
    #[arg(long = "allow-op", value_name = "OP", value_parser = parse_operation)]
    pub allow_ops: Vec<Operation>,
    /// HD keys: allow only paths under these prefixes (repeatable, e.g. m/44'/60').
    #[arg(long = "allow-path", value_name = "PREFIX", value_parser = parse_path)]
    pub allow_paths: Vec<DerivationPath>,
    /// Most uses of the key's secret (sign, decrypt, derive...).
    #[arg(long, value_name = "N")]
    pub max_uses: Option<u64>,
}

/// `keyhold generate`
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Algorithm: secp256k1, p256, ed25519, x25519, aes256-gcm, hmac-sha256.
    #[arg(long, value_name = "ALG", value_parser = parse_algorithm)]
    pub alg: Algorithm,
    /// Alias of the new key.
    #[arg(long, value_name = "NAME")]
    pub alias: String,
    /// Generate an HD root (BIP32 for secp256k1, SLIP-10 for ed25519 and p256).
    #[arg(long)]
    pub hd: bool,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

/// `keyhold import`
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("material").required(true).multiple(false))]
pub struct ImportArgs {
    /// Alias of the imported key.
    #[arg(long, value_name = "NAME")]
    pub alias: String,
    /// BIP39 mnemonic (English): `-` reads it from standard input.
    #[arg(long, value_name = "-", group = "material")]
    pub mnemonic: Option<String>,
    /// BIP39 passphrase for --mnemonic: `-` reads it from standard input.
    #[arg(long, value_name = "-")]
    pub passphrase: Option<String>,
    /// BIP32/SLIP-10 seed (16..64 bytes) in hex: `-` reads it from standard input.
    #[arg(long, value_name = "-", group = "material")]
    pub seed_hex: Option<String>,
    /// Raw private key in hex (32 bytes for EC/Ed25519): `-` reads it from standard input.
    #[arg(long, value_name = "-", group = "material")]
    pub private_key_hex: Option<String>,
    /// PKCS#8 private key file (DER or PEM), or `-` for standard input.
    #[arg(long, value_name = "FILE", group = "material")]
    pub pkcs8: Option<PathBuf>,
    /// BIP32 extended private key (xprv...): `-` reads it from standard input.
    #[arg(long, value_name = "-", group = "material")]
    pub xprv: Option<String>,
    /// Accept secret values written on the command line (visible to other
    /// local processes in /proc/<pid>/cmdline and kept in shell history).
    #[arg(long)]
    pub insecure_secret_in_argv: bool,
    /// Algorithm. For --mnemonic and --seed-hex it picks the HD scheme:
    /// secp256k1 (BIP32, the default), ed25519 or p256 (SLIP-10). For
    /// --private-key-hex it defaults to secp256k1.
    #[arg(long, value_name = "ALG", value_parser = parse_algorithm)]
    pub alg: Option<Algorithm>,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

/// `keyhold pubkey`
#[derive(Debug, Args)]
pub struct PubkeyArgs {
    /// Key alias, or id:<16 hex digits>.
    pub name: String,
    /// HD keys: derivation path below the stored node, e.g. m/44'/60'/0'/0/0.
    #[arg(long, value_name = "PATH", value_parser = parse_path)]
    pub path: Option<DerivationPath>,
    /// sec1, sec1-uncompressed, raw, spki-der, spki-pem, jwk, xpub, eth-address, btc-p2wpkh.
    #[arg(long, value_name = "FORMAT", default_value = "sec1", value_parser = parse_format)]
    pub format: PublicKeyFormat,
}

/// What to sign or verify.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("payload").required(true).multiple(false))]
pub struct PayloadArgs {
    /// Message in hex (hashed by the scheme: SHA-256 for ECDSA; Ed25519 and BIP340 sign it as is).
    #[arg(long, value_name = "HEX", group = "payload", value_parser = parse_hex)]
    pub message_hex: Option<Hex>,
    /// 32-byte digest in hex, already hashed (ECDSA, BIP340).
    #[arg(long, value_name = "HEX", group = "payload", value_parser = parse_digest)]
    pub digest_hex: Option<[u8; 32]>,
}

/// `keyhold sign`
#[derive(Debug, Args)]
pub struct SignArgs {
    /// Key alias, or id:<16 hex digits>.
    pub name: String,
    #[command(flatten)]
    pub payload: PayloadArgs,
    /// HD keys: sign with the child at this path.
    #[arg(long, value_name = "PATH", value_parser = parse_path)]
    pub path: Option<DerivationPath>,
    /// ecdsa-der (default for EC keys), ecdsa-compact, ecdsa-recoverable, bip340, ed25519, hmac-sha256.
    #[arg(long, value_name = "SCHEME", value_parser = parse_scheme)]
    pub scheme: Option<SignatureScheme>,
}

/// `keyhold verify`
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Key alias, or id:<16 hex digits>.
    pub name: String,
    /// The signature, in hex.
    #[arg(long, value_name = "HEX", value_parser = parse_hex)]
    pub signature_hex: Hex,
    #[command(flatten)]
    pub payload: PayloadArgs,
    /// HD keys: verify with the child at this path.
    #[arg(long, value_name = "PATH", value_parser = parse_path)]
    pub path: Option<DerivationPath>,
    /// Signature scheme (as for sign).
    #[arg(long, value_name = "SCHEME", value_parser = parse_scheme)]
    pub scheme: Option<SignatureScheme>,
}

/// `keyhold derive`
#[derive(Debug, Args)]
pub struct DeriveArgs {
    /// HD key alias, or id:<16 hex digits>.
    pub name: String,
    /// Derivation path, e.g. m/44'/60'/0'.
    #[arg(long, value_name = "PATH", value_parser = parse_path)]
    pub path: DerivationPath,
    /// Store the child as a new key under this alias.
    #[arg(long, value_name = "CHILD")]
    pub alias: Option<String>,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

/// `keyhold encrypt`
#[derive(Debug, Args)]
pub struct EncryptArgs {
    /// AES-256-GCM key alias, or id:<16 hex digits>.
    pub name: String,
    /// Plaintext in hex.
    #[arg(long, value_name = "HEX", value_parser = parse_hex)]
    pub plaintext_hex: Hex,
    /// Associated data in hex (authenticated, not encrypted).
    #[arg(long, value_name = "HEX", value_parser = parse_hex, default_value = "")]
    pub aad_hex: Hex,
}

/// `keyhold agree`
#[derive(Debug, Args)]
pub struct AgreeArgs {
    /// Agreement key alias, or id:<16 hex digits>.
    pub name: String,
    /// The peer's public key in hex (SEC1 for secp256k1 and P-256, 32 raw bytes for X25519).
    #[arg(long, value_name = "HEX", value_parser = parse_hex)]
    pub peer_hex: Hex,
    /// HKDF salt in hex.
    #[arg(long, value_name = "HEX", value_parser = parse_hex, default_value = "")]
    pub salt_hex: Hex,
    /// HKDF info in hex.
    #[arg(long, value_name = "HEX", value_parser = parse_hex, default_value = "")]
    pub info_hex: Hex,
    /// Output length in bytes (16..=64; a stored key takes 32).
    #[arg(long, value_name = "BYTES", default_value_t = 32)]
    pub length: usize,
    /// Store the output as a new AES-256-GCM key under this alias instead of printing it.
    #[arg(long, value_name = "NAME")]
    pub alias: Option<String>,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

/// `keyhold decrypt`
#[derive(Debug, Args)]
pub struct DecryptArgs {
    /// AES-256-GCM key alias, or id:<16 hex digits>.
    pub name: String,
    /// nonce || ciphertext || tag, in hex.
    #[arg(long, value_name = "HEX", value_parser = parse_hex)]
    pub ciphertext_hex: Hex,
    /// Associated data in hex, as given to encrypt.
    #[arg(long, value_name = "HEX", value_parser = parse_hex, default_value = "")]
    pub aad_hex: Hex,
}

fn parse_algorithm(s: &str) -> Result<Algorithm, String> {
    Algorithm::from_name(s).map_err(|e| e.to_string())
}

fn parse_format(s: &str) -> Result<PublicKeyFormat, String> {
    PublicKeyFormat::from_name(s).map_err(|e| e.to_string())
}

fn parse_scheme(s: &str) -> Result<SignatureScheme, String> {
    SignatureScheme::from_name(s).map_err(|e| e.to_string())
}

fn parse_operation(s: &str) -> Result<Operation, String> {
    Operation::from_name(&s.replace('-', "_")).map_err(|e| e.to_string())
}

fn parse_path(s: &str) -> Result<DerivationPath, String> {
    DerivationPath::parse(s).map_err(|e| e.to_string())
}

/// Bytes given in hex on the command line (a newtype, so clap takes one
/// value rather than a list of bytes).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hex(pub Vec<u8>);

/// Hex, with an optional 0x prefix.
pub fn parse_hex(s: &str) -> Result<Hex, String> {
    let s = s.trim();
    hex::decode(s.strip_prefix("0x").unwrap_or(s))
        .map(Hex)
        .map_err(|e| format!("not hex: {e}"))
}

fn parse_digest(s: &str) -> Result<[u8; 32], String> {
    let bytes = parse_hex(s)?.0;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| format!("a digest is 32 bytes, got {}", bytes.len()))
}

#[cfg(test)]
mod tests;
