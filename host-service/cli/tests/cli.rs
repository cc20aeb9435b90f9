//! Every `keyhold` command end to end against a real daemon (`keyhold
//! daemon`), with signatures checked by an independent verifier (openssl),
//! plus the exit-status contract, auto-spawn, and refusals across uids and
//! executables.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const KEYHOLD: &str = env!("CARGO_BIN_EXE_keyhold");
const MNEMONIC: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

struct Env {
    dir: tempfile::TempDir,
    socket: PathBuf,
    data_dir: PathBuf,
    daemon: Option<Child>,
}

impl Env {
    /// Starts `keyhold daemon` in a private temporary directory.
    fn start(extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("run/keyhold.sock");
        let data_dir = dir.path().join("data");
        let mut env = Self {
            dir,
            socket,
            data_dir,
            daemon: None,
        };
        let log = fs::File::create(env.dir.path().join("daemon.log")).unwrap();
        let child = Command::new(KEYHOLD)
            .arg("--socket")
            .arg(&env.socket)
            .arg("--data-dir")
            .arg(&env.data_dir)
            .arg("daemon")
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        env.daemon = Some(child);
        env.wait_ready();
        env
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(90);
        while std::os::unix::net::UnixStream::connect(&self.socket).is_err() {
            if let Some(c) = self.daemon.as_mut()
                && let Some(status) = c.try_wait().unwrap()
            {
                panic!(
                    "daemon exited: {status}: {}",
                    fs::read_to_string(self.dir.path().join("daemon.log")).unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "daemon did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn cmd(&self, program: &str, args: &[&str]) -> Command {
        let mut c = Command::new(program);
        c.arg("--socket")
            .arg(&self.socket)
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--no-spawn")
            .args(args)
            .env_remove("KEYHOLD_SOCKET")
            .env_remove("KEYHOLD_DATA_DIR")
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(KEYHOLD, args).output().unwrap()
    }

    fn run_stdin(&self, args: &[&str], input: &str) -> Output {
        let mut child = self
            .cmd(KEYHOLD, args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// Runs and expects success; returns trimmed stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "keyhold {args:?}: {}", describe(&out));
        stdout(&out)
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(mut c) = self.daemon.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

fn describe(o: &Output) -> String {
    format!(
        "{} stdout={} stderr={}",
        o.status,
        stdout(o),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited normally")
}

/// Verifies a signature with openssl against an SPKI PEM.
fn openssl_verifies(env: &Env, alg: &str, pem: &str, message: &[u8], signature: &[u8]) -> bool {
    let (pub_path, msg_path, sig_path) = (
        env.path("pub.pem"),
        env.path("msg.bin"),
        env.path("sig.bin"),
    );
    fs::write(&pub_path, pem).unwrap();
    fs::write(&msg_path, message).unwrap();
    fs::write(&sig_path, signature).unwrap();
    let mut cmd = Command::new("openssl");
    if alg == "ed25519" {
        cmd.args(["pkeyutl", "-verify", "-pubin", "-inkey"])
            .arg(&pub_path)
            .args(["-rawin", "-in"])
            .arg(&msg_path)
            .arg("-sigfile")
            .arg(&sig_path);
    } else {
        cmd.args(["dgst", "-sha256", "-verify"])
            .arg(&pub_path)
            .arg("-signature")
            .arg(&sig_path)
            .arg(&msg_path);
    }
    let out = cmd
        .output()
        .expect("openssl is installed (/usr/bin/openssl)");
    out.status.success()
}

#[test]
fn signatures_verify_with_openssl() {
    let env = Env::start(&[]);
    let message = b"keyhold signs, openssl checks";
    for alg in ["p256", "ed25519", "secp256k1"] {
        let alias = format!("sig-{alg}");
        let info = env.json(&["generate", "--alg", alg, "--alias", &alias]);
        assert_eq!(info["algorithm"], alg);
        let pem = env.ok(&["pubkey", &alias, "--format", "spki-pem"]);
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
        let sig_hex = env.ok(&["sign", &alias, "--message-hex", &hex::encode(message)]);
        let sig = hex::decode(&sig_hex).unwrap();
        assert!(
            openssl_verifies(&env, alg, &pem, message, &sig),
            "openssl rejected the {alg} signature"
        );
        assert!(
            !openssl_verifies(&env, alg, &pem, b"another message", &sig),
            "control: openssl rejects a wrong message ({alg})"
        );
        // keyhold's own verify agrees, with the documented exit statuses.
        assert_eq!(
            env.ok(&[
                "verify",
                &alias,
                "--signature-hex",
                &sig_hex,
                "--message-hex",
                &hex::encode(message)
            ]),
            "valid"
        );
        let bad = env.run(&[
            "verify",
            &alias,
            "--signature-hex",
            &sig_hex,
            "--message-hex",
            "00",
        ]);
        assert_eq!((code(&bad), stdout(&bad).as_str()), (2, "invalid"));
    }
}

#[test]
fn every_command_end_to_end() {
    let env = Env::start(&[]);
    // import --mnemonic from stdin; addresses of the test mnemonic.
    let out = env.run_stdin(
        &["import", "--alias", "root", "--mnemonic", "-"],
        &format!("{MNEMONIC}\n"),
    );
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(
        env.ok(&[
            "pubkey",
            "root",
            "--path",
            "m/44'/60'/0'/0/0",
            "--format",
            "eth-address"
        ]),
        "0x9858EfFD232B4033E47d90003D41EC34EcaEda94"
    );
    assert_eq!(
        env.ok(&[
            "pubkey",
            "root",
            "--path",
            "m/84'/0'/0'/0/0",
            "--format",
            "btc-p2wpkh"
        ]),
        "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"
    );
    let xpub = env.json(&[
        "pubkey",
        "root",
        "--path",
        "m/44'/60'/0'",
        "--format",
        "xpub",
    ]);
    assert!(xpub["text"].as_str().unwrap().starts_with("xpub"));
    let jwk = env.ok(&["pubkey", "root", "--path", "m/0", "--format", "jwk"]);
    assert!(jwk.contains("secp256k1"), "{jwk}");

    // derive, storing the child; its xpub equals the one read through pubkey.
    let derived = env.json(&[
        "derive",
        "root",
        "--path",
        "m/44'/60'/0'",
        "--alias",
        "acct",
    ]);
    assert_eq!(derived["xpub"], xpub["text"]);
    assert_eq!(derived["stored"]["alias"], "acct");
    assert_eq!(derived["stored"]["origin"], "derived");

    // sign a digest with a path and a recoverable scheme, then verify it.
    let digest = "11".repeat(32);
    let sig = env.ok(&[
        "sign",
        "root",
        "--digest-hex",
        &digest,
        "--path",
        "m/44'/60'/0'/0/0",
        "--scheme",
        "ecdsa-recoverable",
    ]);
    assert_eq!(sig.len(), 130, "65 bytes r||s||v");
    env.ok(&[
        "verify",
        "root",
        "--signature-hex",
        &sig,
        "--digest-hex",
        &digest,
        "--path",
        "m/44'/60'/0'/0/0",
        "--scheme",
        "ecdsa-recoverable",
    ]);
    let schnorr = env.ok(&[
        "sign",
        "root",
        "--message-hex",
        "00",
        "--path",
        "m/86'/0'/0'/0/0",
        "--scheme",
        "bip340",
    ]);
    assert_eq!(schnorr.len(), 128);

    // import a raw private key from stdin, a seed, and PKCS#8 made by openssl.
    let k = "4646464646464646464646464646464646464646464646464646464646464646";
    let out = env.run_stdin(&["import", "--alias", "raw", "--private-key-hex", "-"], k);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(
        env.ok(&["pubkey", "raw", "--format", "eth-address"]),
        "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F"
    );
    // Secrets on the command line are refused unless explicitly allowed.
    for flag in ["--seed-hex", "--private-key-hex", "--mnemonic", "--xprv"] {
        let out = env.run(&[
            "import",
            "--alias",
            "argv",
            flag,
            "000102030405060708090a0b0c0d0e0f",
        ]);
        assert_eq!(out.status.code(), Some(1), "{flag}: {}", describe(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("--insecure-secret-in-argv"),
            "{flag}: {stderr}"
        );
        assert!(
            !stderr.contains("000102030405"),
            "{flag}: the refusal echoes no secret"
        );
    }
    let seeded = env.json(&[
        "import",
        "--insecure-secret-in-argv",
        "--alias",
        "seed",
        "--seed-hex",
        "000102030405060708090a0b0c0d0e0f",
        "--alg",
        "ed25519",
    ]);
    assert_eq!(seeded["hd_scheme"], "slip10-ed25519");
    let pkcs8 = env.path("key.pem");
    assert!(
        Command::new("openssl")
            .args(["genpkey", "-algorithm", "ed25519", "-out"])
            .arg(&pkcs8)
            .status()
            .unwrap()
            .success()
    );
    let imported = env.json(&[
        "import",
        "--alias",
        "p8",
        "--pkcs8",
        pkcs8.to_str().unwrap(),
    ]);
    assert_eq!(imported["algorithm"], "ed25519");
    let openssl_pub = Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&pkcs8)
        .output()
        .unwrap();
    assert_eq!(
        env.ok(&["pubkey", "p8", "--format", "spki-pem"]),
        stdout(&openssl_pub),
        "same public key as openssl derives"
    );

    // encrypt / decrypt, with and without the right AAD.
    env.ok(&["generate", "--alg", "aes256-gcm", "--alias", "box"]);
    let ct = env.ok(&[
        "encrypt",
        "box",
        "--plaintext-hex",
        "deadbeef",
        "--aad-hex",
        "01",
    ]);
    assert_eq!(
        env.ok(&["decrypt", "box", "--ciphertext-hex", &ct, "--aad-hex", "01"]),
        "deadbeef"
    );
    let wrong = env.run(&["decrypt", "box", "--ciphertext-hex", &ct, "--aad-hex", "02"]);
    assert_eq!(
        code(&wrong),
        64 + 15,
        "DECRYPTION_FAILED: {}",
        describe(&wrong)
    );

    // generate --hd, list, info, delete, audit verify.
    let hd = env.json(&[
        "generate",
        "--alg",
        "p256",
        "--alias",
        "hdp",
        "--hd",
        "--max-uses",
        "10",
    ]);
    assert_eq!(hd["hd_scheme"], "slip10-p256");
    assert_eq!(hd["policy"]["max_uses"], 10);
    let list = env.json(&["list"]);
    let aliases: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["alias"].as_str().unwrap())
        .collect();
    assert_eq!(aliases, ["acct", "box", "hdp", "p8", "raw", "root", "seed"]);
    let info = env.json(&["info", "root"]);
    assert_eq!(info["origin"], "imported");
    assert!(info["usage_count"].as_u64().unwrap() >= 2);
    let by_id = env.json(&["info", &format!("id:{}", info["id"].as_str().unwrap())]);
    assert_eq!(by_id["alias"], "root");
    env.ok(&["delete", "acct"]);
    let gone = env.run(&["info", "acct"]);
    assert_eq!(code(&gone), 64 + 4, "KEY_NOT_FOUND: {}", describe(&gone));
    let audit = env.json(&["audit", "verify"]);
    assert_eq!(audit["intact"], true);
    assert!(audit["entries"].as_u64().unwrap() > 20);

    // Error statuses are 64 + the stable code, also in JSON.
    let dup = env.run(&["--json", "generate", "--alg", "ed25519", "--alias", "root"]);
    assert_eq!(code(&dup), 64 + 12, "ALIAS_EXISTS");
    let err: serde_json::Value = serde_json::from_str(&stdout(&dup)).unwrap();
    assert_eq!(err["error"]["name"], "ALIAS_EXISTS");
    let path = env.run(&["pubkey", "seed", "--path", "m/0"]);
    assert_eq!(
        code(&path),
        64 + 8,
        "SLIP-10 ed25519 needs hardened paths: {}",
        describe(&path)
    );
    let usage = env.run(&["sign", "root"]);
    assert_eq!(code(&usage), 1, "usage errors exit 1");
    assert_eq!(code(&env.run(&["bogus"])), 1);
    assert_eq!(code(&env.run(&["--help"])), 0);
}

#[test]
fn the_cli_starts_a_daemon_when_none_runs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let socket = data.join("keyhold.sock");
    let run = |args: &[&str]| {
        Command::new(KEYHOLD)
            .arg("--data-dir")
            .arg(&data)
            .args(args)
            .env_remove("KEYHOLD_SOCKET")
            .env_remove("KEYHOLD_DATA_DIR")
            .env_remove("XDG_RUNTIME_DIR")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let refused = run(&["--no-spawn", "list"]);
    assert_eq!(
        code(&refused),
        1,
        "no daemon and --no-spawn: {}",
        describe(&refused)
    );
    let out = run(&["generate", "--alg", "ed25519", "--alias", "auto"]);
    assert!(out.status.success(), "{}", describe(&out));
    let pid: i32 = fs::read_to_string(socket.with_extension("sock.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // The second command reaches the same daemon.
    assert!(stdout(&run(&["list"])).contains("auto"));
    assert!(
        Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while socket.exists() {
        assert!(Instant::now() < deadline, "the spawned daemon did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The socket goes first; the last log line follows as the daemon exits.
    while !fs::read_to_string(data.join("keyholdd.log"))
        .unwrap_or_default()
        .contains("stopped")
    {
        assert!(
            Instant::now() < deadline,
            "the spawned daemon did not log its stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A copy of the keyhold binary at `dir/name`, optionally with one byte
/// appended (same program, different SHA-256).
fn copy_binary(dir: &Path, name: &str, extra_byte: bool) -> PathBuf {
    let path = dir.join(name);
    fs::copy(KEYHOLD, &path).unwrap();
    if extra_byte {
        fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(&[0])
            .unwrap();
    }
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn other_uids_and_other_binaries_are_refused() {
    if !rustix_is_root() {
        eprintln!("SKIPPED: needs root to run clients as uid 65534");
        return;
    }
    use std::os::unix::process::CommandExt;
    let env = Env::start(&["--socket-mode", "0666"]);
    fs::set_permissions(env.dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let bins = tempfile::tempdir().unwrap();
    fs::set_permissions(bins.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let trusted = copy_binary(bins.path(), "wallet-app", false);
    let other = copy_binary(bins.path(), "other-app", true);
    let as_nobody = |bin: &Path, args: &[&str]| {
        env.cmd(bin.to_str().unwrap(), args)
            .uid(65534)
            .gid(65534)
            .output()
            .unwrap()
    };

    // uid 65534's key, bound to the wallet-app binary.
    let made = as_nobody(
        &trusted,
        &[
            "--json",
            "generate",
            "--alg",
            "secp256k1",
            "--alias",
            "bound",
            "--bind-code",
        ],
    );
    assert!(made.status.success(), "{}", describe(&made));
    let made: serde_json::Value = serde_json::from_str(&stdout(&made)).unwrap();
    assert_eq!(made["policy"]["allowed_callers"][0]["uid"], 65534);
    assert!(made["policy"]["allowed_callers"][0]["code_sha256"].is_string());
    let digest = "22".repeat(32);
    let signed = as_nobody(&trusted, &["sign", "bound", "--digest-hex", &digest]);
    assert!(
        signed.status.success(),
        "the same binary may use it: {}",
        describe(&signed)
    );
    // Another executable of the same uid: PERMISSION_DENIED.
    let refused = as_nobody(&other, &["sign", "bound", "--digest-hex", &digest]);
    assert_eq!(
        code(&refused),
        64 + 5,
        "PERMISSION_DENIED: {}",
        describe(&refused)
    );

    // Another uid (root) cannot reach uid 65534's key at all: keys live in
    // per-uid namespaces, so it is not even found.
    let id = format!("id:{}", made["id"].as_str().unwrap());
    let root_try = env.run(&["sign", &id, "--digest-hex", &digest]);
    assert_eq!(
        code(&root_try),
        64 + 4,
        "KEY_NOT_FOUND for another uid: {}",
        describe(&root_try)
    );
    // And the reverse: root's uid-bound key is invisible to uid 65534.
    let rk = env.json(&["generate", "--alg", "p256", "--alias", "roots"]);
    let rid = format!("id:{}", rk["id"].as_str().unwrap());
    let nobody_try = as_nobody(&trusted, &["sign", &rid, "--digest-hex", &digest]);
    assert_eq!(code(&nobody_try), 64 + 4, "{}", describe(&nobody_try));
    assert!(stdout(&as_nobody(&trusted, &["list"])).contains("bound"));
    assert!(!stdout(&as_nobody(&trusted, &["list"])).contains("roots"));
}

fn rustix_is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .is_some_and(|l| l.split_whitespace().nth(2) == Some("0"))
}

#[test]
fn the_auto_spawn_log_never_follows_a_link() {
    // Issue 10.7: a `keyholdd.log` planted as a symbolic link is refused,
    // its target left untouched, and no daemon is started.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    fs::create_dir(&data).unwrap();
    fs::set_permissions(&data, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let victim = dir.path().join("victim");
    fs::write(&victim, b"untouched").unwrap();
    std::os::unix::fs::symlink(&victim, data.join("keyholdd.log")).unwrap();
    let out = Command::new(KEYHOLD)
        .arg("--data-dir")
        .arg(&data)
        .args(["list"])
        .env_remove("KEYHOLD_SOCKET")
        .env_remove("KEYHOLD_DATA_DIR")
        .env_remove("XDG_RUNTIME_DIR")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&out), 1, "{}", describe(&out));
    assert_eq!(fs::read(&victim).unwrap(), b"untouched");
    assert!(!data.join("keyhold.sock").exists(), "no daemon was started");
}

#[test]
fn agree_matches_rfc7748_and_openssl_hkdf() {
    // X25519 keys and shared secret from RFC 7748 section 6.1; HKDF-SHA256
    // of that secret computed independently by `openssl kdf`.
    const ALICE_PRIV: &str = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
    const ALICE_PUB: &str = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
    const BOB_PRIV: &str = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
    const BOB_PUB: &str = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
    const SHARED: &str = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
    let env = Env::start(&[]);
    for (alias, key) in [("alice", ALICE_PRIV), ("bob", BOB_PRIV)] {
        let out = env.run_stdin(
            &[
                "import",
                "--alias",
                alias,
                "--alg",
                "x25519",
                "--private-key-hex",
                "-",
            ],
            key,
        );
        assert!(out.status.success(), "{}", describe(&out));
    }
    assert_eq!(env.ok(&["pubkey", "alice", "--format", "raw"]), ALICE_PUB);
    let openssl = Command::new("openssl")
        .args(["kdf", "-keylen", "42", "-kdfopt", "digest:SHA256"])
        .args(["-kdfopt", &format!("hexkey:{SHARED}")])
        .args([
            "-kdfopt",
            "hexsalt:00010203",
            "-kdfopt",
            "hexinfo:6b657968",
            "HKDF",
        ])
        .output()
        .unwrap();
    let expected = String::from_utf8(openssl.stdout)
        .unwrap()
        .trim()
        .replace(':', "")
        .to_lowercase();
    assert_eq!(
        expected.len(),
        84,
        "openssl kdf: {}",
        String::from_utf8_lossy(&openssl.stderr)
    );
    let agree = |name: &str, peer: &str| {
        env.ok(&[
            "agree",
            name,
            "--peer-hex",
            peer,
            "--salt-hex",
            "00010203",
            "--info-hex",
            "6b657968",
            "--length",
            "42",
        ])
    };
    assert_eq!(agree("alice", BOB_PUB), expected);
    assert_eq!(agree("bob", ALICE_PUB), expected);
    // Stored as an AES key: usable, and never printed.
    let stored = env.json(&[
        "agree",
        "alice",
        "--peer-hex",
        BOB_PUB,
        "--alias",
        "session",
    ]);
    assert_eq!(stored["stored"]["alias"], "session", "{stored}");
    let ct = env.ok(&["encrypt", "session", "--plaintext-hex", "68656c6c6f"]);
    assert_eq!(
        env.ok(&["decrypt", "session", "--ciphertext-hex", &ct]),
        "68656c6c6f"
    );
}
