//! keyhold-sample-wallet: a tiny Ethereum + Bitcoin wallet whose keys live
//! in keyholdd, a separate process. It imports (or generates) an HD root
//! inside keyhold, derives its accounts, signs an EIP-155 transaction and an
//! EIP-191 message through the socket, checks every signature locally and
//! through keyhold, and finally scans its own memory to show that it never
//! held a private key byte.
//!
//! `cargo run -p keyhold-sample-wallet` runs it against a fresh data
//! directory under the system temp directory with the public BIP39 test
//! mnemonic, whose addresses are well known.
#![forbid(unsafe_code)]

mod eth;
mod proof;

use clap::Parser;
use keyhold_client::{Client, ClientError, Endpoint, secret_from_arg};
use keyhold_core::{
    DerivationPath, ErrorCode, HdScheme, ImportMaterial, KeyOptions, KeyRef, KeySpec, Payload,
    PublicKeyFormat, SecretBytes, SignatureScheme,
};
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// The public BIP39 test mnemonic (never use it for real funds).
const TEST_MNEMONIC: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
/// Its well-known first Ethereum account (m/44'/60'/0'/0/0).
const TEST_ETH_ADDRESS: &str = "0x9858EfFD232B4033E47d90003D41EC34EcaEda94";
/// Its well-known first BIP84 account (m/84'/0'/0'/0/0).
const TEST_BTC_ADDRESS: &str = "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu";
const ETH_PATH: &str = "m/44'/60'/0'/0/0";
const BTC_PATH: &str = "m/84'/0'/0'/0/0";
/// Hidden argument: run the daemon in this process (used when no keyholdd binary is found).
const SERVE_ARG: &str = "__serve-keyholdd";

/// Sample wallet for keyhold: keys stay in keyholdd; this process only ever
/// sees public keys and signatures.
#[derive(Debug, Parser)]
#[command(name = "keyhold-sample-wallet", version)]
struct Args {
    /// Data directory for the daemon [default: a fresh directory under the system temp dir].
    #[arg(long, value_name = "DIR", conflicts_with = "xdg")]
    data_dir: Option<PathBuf>,
    /// Use the XDG default data directory and socket (reusing a running daemon).
    #[arg(long)]
    xdg: bool,
    /// Import a BIP39 mnemonic instead of the test one: `-` reads it from
    /// standard input (a terminal prompts without echo).
    #[arg(long, value_name = "-", conflicts_with = "generate")]
    mnemonic: Option<String>,
    /// Accept --mnemonic WORDS on the command line (visible to other local
    /// processes in /proc/<pid>/cmdline).
    #[arg(long)]
    insecure_secret_in_argv: bool,
    /// Generate a fresh HD root inside keyhold instead of importing a mnemonic.
    #[arg(long)]
    generate: bool,
    /// Alias of the wallet's root key.
    #[arg(long, default_value = "sample-wallet")]
    alias: String,
    /// keyholdd binary to start [default: `keyholdd` next to this program,
    /// else this program serving the daemon library].
    #[arg(long, value_name = "PATH")]
    daemon_bin: Option<PathBuf>,
    /// Leave the daemon running at the end.
    #[arg(long)]
    keep_daemon: bool,
}

struct Daemon {
    child: Option<Child>,
    how: String,
}

fn main() -> ExitCode {
    let mut argv = std::env::args_os();
    if argv.nth(1).is_some_and(|a| a == SERVE_ARG) {
        return serve_daemon();
    }
    let args = Args::parse();
    // Refuse a mnemonic on the command line before starting anything.
    if !args.insecure_secret_in_argv
        && args
            .mnemonic
            .as_deref()
            .is_some_and(|m| m != "-" && !m.is_empty())
    {
        eprintln!(
            "keyhold-sample-wallet: {}",
            keyhold_client::argv_secret_refused("the mnemonic")
        );
        return ExitCode::FAILURE;
    }
    match run(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            println!("\nRESULT: some checks FAILED");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("keyhold-sample-wallet: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `<this program> __serve-keyholdd --socket S --data-dir D`: the daemon library.
fn serve_daemon() -> ExitCode {
    #[derive(Parser)]
    struct ServeArgs {
        #[arg(long)]
        socket: PathBuf,
        #[arg(long)]
        data_dir: PathBuf,
    }
    let a = ServeArgs::parse_from(std::env::args_os().skip(1));
    let options = keyholdd::DaemonOptions::new(
        Endpoint {
            socket: a.socket,
            data_dir: a.data_dir,
        },
        keyholdd::DaemonArgs::default(),
    );
    match keyholdd::run(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keyholdd: {e}");
            ExitCode::FAILURE
        }
    }
}

struct Steps {
    n: usize,
    ok: bool,
}

impl Steps {
    fn step(&mut self, title: &str) {
        self.n += 1;
        println!("\n[{}] {title}", self.n);
    }

    fn check(&mut self, what: &str, passed: bool) {
        println!("    {} {what}", if passed { "ok  " } else { "FAIL" });
        self.ok &= passed;
    }
}

fn run(args: Args) -> Result<bool, String> {
    let mut s = Steps { n: 0, ok: true };
    let using_test_mnemonic = args.mnemonic.is_none() && !args.generate;

    s.step("Start keyholdd as a separate process");
    let (endpoint, temp_dir) = endpoint_for(&args)?;
    let mut daemon = start_daemon(&args, &endpoint)?;
    println!("    daemon:   {}", daemon.how);
    println!("    socket:   {}", endpoint.socket.display());
    println!("    data dir: {}", endpoint.data_dir.display());
    let mut client = match Client::connect_waiting(&endpoint.socket, Duration::from_secs(60)) {
        Ok(c) => c,
        Err(e) => {
            if let Some(child) = daemon.child.as_mut() {
                let _ = stop(child);
            }
            return Err(format!(
                "{e} (daemon log: {})",
                endpoint.data_dir.join("keyholdd.log").display()
            ));
        }
    };
    println!("    connected (this process: pid {})", std::process::id());

    let result = wallet_session(&mut s, &mut client, &args, using_test_mnemonic);
    drop(client);

    s.step("Stop the daemon");
    if args.keep_daemon {
        println!(
            "    left running (--keep-daemon); socket {}",
            endpoint.socket.display()
        );
    } else if let Some(child) = daemon.child.as_mut() {
        let status = stop(child)?;
        s.check(
            &format!("keyholdd exited after SIGTERM ({status})"),
            status.success(),
        );
        s.check("its socket was removed", !endpoint.socket.exists());
        if let Some(dir) = temp_dir {
            let _ = std::fs::remove_dir_all(&dir);
            println!("    removed the temporary data directory");
        }
    } else {
        println!("    a daemon was already running there; left as it was");
    }
    result?;
    if s.ok {
        println!("\nRESULT: all checks passed");
    }
    Ok(s.ok)
}

fn wallet_session(
    s: &mut Steps,
    client: &mut Client,
    args: &Args,
    test_mnemonic: bool,
) -> Result<(), String> {
    let err = |e: ClientError| e.to_string();
    s.step("Create the wallet's HD root inside keyhold");
    let options = KeyOptions::alias(args.alias.clone());
    let created = if args.generate {
        client.generate_key(KeySpec::Hd(HdScheme::Bip32Secp256k1), &options)
    } else {
        let phrase = match args.mnemonic.clone() {
            Some(given) => SecretBytes::from(
                secret_from_arg(given, args.insecure_secret_in_argv, "the mnemonic")
                    .map_err(|e| e.to_string())?,
            ),
            None => SecretBytes::copy_from(TEST_MNEMONIC.as_bytes()),
        };
        let material = ImportMaterial::Mnemonic {
            phrase,
            passphrase: SecretBytes::default(),
            scheme: HdScheme::Bip32Secp256k1,
        };
        client.import_key(material, &options)
    };
    match created {
        Ok(info) => println!(
            "    {} root {:?} (id {}), sealed by {}",
            if args.generate {
                "generated"
            } else {
                "imported"
            },
            info.alias,
            info.id,
            info.sealer
        ),
        Err(e) if e.code() == Some(ErrorCode::AliasExists) => {
            println!(
                "    alias {:?} already exists in this store: using it",
                args.alias
            );
        }
        Err(e) => return Err(e.to_string()),
    }
    if test_mnemonic {
        println!(
            "    (the public BIP39 test mnemonic \"abandon ... about\": never use it for funds)"
        );
    }
    let root = KeyRef::Alias(args.alias.clone());
    let eth_path = DerivationPath::parse(ETH_PATH).map_err(|e| e.to_string())?;
    let btc_path = DerivationPath::parse(BTC_PATH).map_err(|e| e.to_string())?;

    s.step(&format!("Derive the Ethereum account {ETH_PATH}"));
    let address = client
        .get_public_key(&root, Some(&eth_path), PublicKeyFormat::EthAddress)
        .map_err(err)?
        .text
        .unwrap_or_default();
    println!("    address (EIP-55): {address}");
    if test_mnemonic {
        s.check(
            &format!("equals the well-known {TEST_ETH_ADDRESS}"),
            address == TEST_ETH_ADDRESS,
        );
    }
    let sec1 = client
        .get_public_key(&root, Some(&eth_path), PublicKeyFormat::Sec1Uncompressed)
        .map_err(err)?
        .bytes;
    let local = k256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).map_err(|e| e.to_string())?;
    s.check(
        "the address computed here from the public key matches",
        eth::checksum_address(&eth::address_of(&local)) == address,
    );

    s.step(&format!("Derive the Bitcoin BIP84 account {BTC_PATH}"));
    let btc = client
        .get_public_key(&root, Some(&btc_path), PublicKeyFormat::BtcP2wpkh)
        .map_err(err)?
        .text
        .unwrap_or_default();
    println!("    P2WPKH address: {btc}");
    if test_mnemonic {
        s.check(
            &format!("equals the well-known {TEST_BTC_ADDRESS}"),
            btc == TEST_BTC_ADDRESS,
        );
    }

    s.step("Sign an EIP-155 legacy transaction (keccak256 of its RLP) through keyhold");
    let tx = eth::LegacyTx {
        nonce: 0,
        gas_price: 20_000_000_000,
        gas_limit: 21_000,
        to: [0x35; 20],
        value: 10_000_000_000_000_000,
        data: Vec::new(),
        chain_id: 1,
    };
    let digest = tx.signing_hash();
    println!(
        "    signing payload: 0x{}",
        hex::encode(tx.signing_payload())
    );
    println!("    digest:          0x{}", hex::encode(digest));
    let tx_sig = sign_recoverable(client, &root, &eth_path, &digest)?;
    println!("    signature r||s||v: 0x{}", hex::encode(tx_sig));
    check_signature(s, client, &root, &eth_path, &digest, &tx_sig, &address)?;
    let raw = tx.encode_signed(&tx_sig);
    println!("    raw signed transaction: 0x{}", hex::encode(&raw));
    println!(
        "    transaction hash:       0x{}",
        hex::encode(eth::keccak256(&raw))
    );

    s.step("Sign a message with EIP-191 personal_sign through keyhold");
    let message = b"Hello from the keyhold sample wallet";
    let digest = eth::personal_message_hash(message);
    println!("    message: {:?}", String::from_utf8_lossy(message));
    println!("    digest:  0x{}", hex::encode(digest));
    let msg_sig = sign_recoverable(client, &root, &eth_path, &digest)?;
    println!("    signature: 0x{}", hex::encode(msg_sig));
    check_signature(s, client, &root, &eth_path, &digest, &msg_sig, &address)?;

    s.step("Prove this process never held private key bytes");
    let proof = proof::scan_self()?;
    for line in proof.describe() {
        println!("    {line}");
    }
    if !test_mnemonic {
        println!(
            "    (the needle is the test mnemonic's key; with another root this only shows the method)"
        );
    }
    s.check(
        "the positive control was found where it was planted (the scan works)",
        proof.control_found(),
    );
    s.check(
        "no copy of the private key, raw or hex, anywhere in this process",
        proof.key_hits() == 0,
    );
    Ok(())
}

fn sign_recoverable(
    client: &mut Client,
    root: &KeyRef,
    path: &DerivationPath,
    digest: &[u8; 32],
) -> Result<[u8; 65], String> {
    let sig = client
        .sign(
            root,
            Some(path),
            Some(SignatureScheme::EcdsaRecoverable),
            Payload::Digest(digest),
        )
        .map_err(|e| e.to_string())?;
    <[u8; 65]>::try_from(sig.as_slice())
        .map_err(|_| format!("expected 65 bytes, got {}", sig.len()))
}

fn check_signature(
    s: &mut Steps,
    client: &mut Client,
    root: &KeyRef,
    path: &DerivationPath,
    digest: &[u8; 32],
    sig: &[u8; 65],
    address: &str,
) -> Result<(), String> {
    let recovered = eth::recover(digest, sig).map(|k| eth::checksum_address(&eth::address_of(&k)));
    println!(
        "    recovered locally with k256: {}",
        recovered.as_deref().unwrap_or("(failed)")
    );
    s.check(
        "the recovered signer is the account's address",
        recovered.as_deref() == Ok(address),
    );
    let scheme = Some(SignatureScheme::EcdsaRecoverable);
    let valid = client
        .verify(root, Some(path), scheme, Payload::Digest(digest), sig)
        .map_err(|e| e.to_string())?;
    s.check("keyhold verify accepts it", valid);
    let mut tampered = *digest;
    tampered[0] ^= 1;
    let forged = client
        .verify(root, Some(path), scheme, Payload::Digest(&tampered), sig)
        .map_err(|e| e.to_string())?;
    s.check("keyhold verify rejects it for a different digest", !forged);
    Ok(())
}

fn endpoint_for(args: &Args) -> Result<(Endpoint, Option<PathBuf>), String> {
    if args.xdg {
        return Endpoint::resolve(None, None)
            .map(|e| (e, None))
            .map_err(|e| e.to_string());
    }
    if let Some(dir) = &args.data_dir {
        return Endpoint::resolve(None, Some(dir.clone()))
            .map(|e| (e, None))
            .map_err(|e| e.to_string());
    }
    let mut suffix = [0u8; 6];
    getrandom::fill(&mut suffix).map_err(|e| e.to_string())?;
    let dir = std::env::temp_dir().join(format!("keyhold-sample-wallet-{}", hex::encode(suffix)));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let endpoint = Endpoint::resolve(None, Some(dir.clone())).map_err(|e| e.to_string())?;
    Ok((endpoint, Some(dir)))
}

fn start_daemon(args: &Args, endpoint: &Endpoint) -> Result<Daemon, String> {
    if Client::connect(&endpoint.socket).is_ok() {
        return Ok(Daemon {
            child: None,
            how: "already running (reused)".into(),
        });
    }
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let sibling = me.with_file_name("keyholdd");
    let (program, prefix, how): (PathBuf, Vec<&str>, String) = match &args.daemon_bin {
        Some(bin) => (
            bin.clone(),
            vec![],
            format!("{} (--daemon-bin)", bin.display()),
        ),
        None if sibling.is_file() => (sibling.clone(), vec![], sibling.display().to_string()),
        None => (
            me.clone(),
            vec![SERVE_ARG],
            format!(
                "{} {SERVE_ARG} (the keyholdd library; build keyholdd to use its binary)",
                me.display()
            ),
        ),
    };
    let log = endpoint.data_dir.join("keyholdd.log");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&endpoint.data_dir)
        .map_err(|e| e.to_string())?;
    let log_file = keyhold_client::paths::open_private_file(&log, false)
        .and_then(|f| f.set_len(0).map(|()| f))
        .map_err(|e| format!("{}: {e}", log.display()))?;
    let child = Command::new(&program)
        .args(prefix)
        .arg("--socket")
        .arg(&endpoint.socket)
        .arg("--data-dir")
        .arg(&endpoint.data_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
    Ok(Daemon {
        how: format!("{how}, pid {}, log {}", child.id(), log.display()),
        child: Some(child),
    })
}

fn stop(child: &mut Child) -> Result<std::process::ExitStatus, String> {
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id()).map_err(|e| e.to_string())?)
        .ok_or("bad pid")?;
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            return child.wait().map_err(|e| e.to_string());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
