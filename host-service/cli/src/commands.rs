//! Running a parsed command: build the request from the arguments, call
//! the client, print the result. No key logic lives here.

use crate::args::{AuditCommand, Cli, Command, ImportArgs, PayloadArgs, PolicyArgs};
use crate::output;
use crate::spawn;
use keyhold_client::{
    Client, ClientError, EXIT_FAILURE, Endpoint, argv_secret_refused, parse_key_ref,
    read_secret_from_stdin, secret_from_arg,
};
use keyhold_core::{
    Agreement, Algorithm, CallerRule, HdScheme, ImportMaterial, KdfParams, KeyOptions, KeyPolicy,
    KeySpec, OperationSet, Payload, SecretBytes,
};
use keyholdd::DaemonOptions;
use serde_json::{Value, json};
use std::path::Path;
use zeroize::Zeroizing;

/// Exit status when a check answered "no" (invalid signature, broken audit chain).
pub const EXIT_CHECK_FAILED: u8 = 2;

/// What a command produced: JSON for `--json`, text otherwise, and a status.
struct Outcome {
    json: Value,
    text: String,
    status: u8,
}

impl Outcome {
    fn ok(json: Value, text: impl Into<String>) -> Self {
        Self {
            json,
            text: text.into(),
            status: 0,
        }
    }
}

/// Runs the command and returns the process exit status.
pub fn run(cli: Cli) -> u8 {
    let json = cli.json;
    let endpoint = match Endpoint::resolve(cli.socket, cli.data_dir) {
        Ok(e) => e,
        Err(e) => return fail(json, &e),
    };
    if let Command::Daemon(args) = cli.command {
        return match keyholdd::run(DaemonOptions::new(endpoint, args)) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("keyhold: {e}");
                EXIT_FAILURE
            }
        };
    }
    let result = spawn::connect(&endpoint, cli.no_spawn)
        .and_then(|mut client| execute(&mut client, cli.command));
    match result {
        Ok(out) => {
            if json {
                println!("{}", out.json);
            } else if !out.text.is_empty() {
                println!("{}", out.text);
            }
            out.status
        }
        Err(e) => fail(json, &e),
    }
}

fn fail(json: bool, e: &ClientError) -> u8 {
    if json {
        let code = e.code();
        println!(
            "{}",
            json!({"error": {
                "code": code.map(|c| c.as_u32()),
                "name": code.map(|c| c.name()),
                "message": e.to_string(),
            }})
        );
    } else {
        eprintln!("keyhold: {e}");
    }
    e.exit_status()
}

fn arg_error(e: impl std::fmt::Display) -> ClientError {
    ClientError::Argument(e.to_string())
}

fn options(alias: String, policy: PolicyArgs) -> KeyOptions {
    KeyOptions {
        alias,
        policy: KeyPolicy {
            // Empty: the service fills in "this uid" (and this binary with --bind-code).
            allowed_callers: Vec::<CallerRule>::new(),
            allowed_operations: (!policy.allow_ops.is_empty())
                .then(|| OperationSet::of(&policy.allow_ops)),
            allowed_path_prefixes: policy.allow_paths,
            max_uses: policy.max_uses,
        },
        bind_to_caller_code: policy.bind_code,
    }
}

fn payload(p: &PayloadArgs) -> Result<Payload<'_>, ClientError> {
    match (&p.message_hex, &p.digest_hex) {
        (Some(m), None) => Ok(Payload::Message(&m.0)),
        (None, Some(d)) => Ok(Payload::Digest(d)),
        _ => Err(arg_error(
            "give exactly one of --message-hex and --digest-hex",
        )),
    }
}

fn execute(client: &mut Client, command: Command) -> Result<Outcome, ClientError> {
    Ok(match command {
        Command::Generate(g) => {
            let spec = if g.hd {
                KeySpec::Hd(HdScheme::for_algorithm(g.alg).map_err(arg_error)?)
            } else {
                KeySpec::Single(g.alg)
            };
            let info = client.generate_key(spec, &options(g.alias, g.policy))?;
            Outcome::ok(output::key_json(&info), output::key_text(&info))
        }
        Command::Import(i) => {
            let alias = i.alias.clone();
            let mut i = i;
            let policy = i.policy_args();
            let material = import_material(i)?;
            let info = client.import_key(material, &options(alias, policy))?;
            Outcome::ok(output::key_json(&info), output::key_text(&info))
        }
        Command::Pubkey(p) => {
            let key = parse_key_ref(&p.name)?;
            let encoded = client.get_public_key(&key, p.path.as_ref(), p.format)?;
            match encoded.text {
                Some(text) => Outcome::ok(json!({"format": p.format.name(), "text": text}), text),
                None => {
                    let h = hex::encode(&encoded.bytes);
                    Outcome::ok(json!({"format": p.format.name(), "hex": h}), h)
                }
            }
        }
        Command::Sign(s) => {
            let key = parse_key_ref(&s.name)?;
            let signature = client.sign(&key, s.path.as_ref(), s.scheme, payload(&s.payload)?)?;
            let h = hex::encode(signature);
            Outcome::ok(json!({"signature_hex": h}), h)
        }
        Command::Verify(v) => {
            let key = parse_key_ref(&v.name)?;
            let valid = client.verify(
                &key,
                v.path.as_ref(),
                v.scheme,
                payload(&v.payload)?,
                &v.signature_hex.0,
            )?;
            Outcome {
                json: json!({"valid": valid}),
                text: if valid { "valid" } else { "invalid" }.into(),
                status: if valid { 0 } else { EXIT_CHECK_FAILED },
            }
        }
        Command::Derive(d) => {
            let key = parse_key_ref(&d.name)?;
            let store = d.alias.map(|a| options(a, d.policy));
            let derived = client.derive_key(&key, &d.path, store.as_ref())?;
            let mut text = format!("public key: {}", hex::encode(&derived.public_key));
            if let Some(x) = &derived.xpub {
                text.push_str(&format!("\nxpub:       {x}"));
            }
            if let Some(k) = &derived.stored {
                text.push_str(&format!("\nstored as:  {} ({})", k.alias, k.id));
            }
            Outcome::ok(
                json!({
                    "path": d.path.to_string(),
                    "public_key_hex": hex::encode(&derived.public_key),
                    "xpub": derived.xpub,
                    "stored": derived.stored.as_ref().map(output::key_json),
                }),
                text,
            )
        }
        Command::Encrypt(e) => {
            let key = parse_key_ref(&e.name)?;
            let plaintext = Zeroizing::new(e.plaintext_hex.0);
            let ct = client.encrypt(&key, &plaintext, &e.aad_hex.0)?;
            let h = hex::encode(ct);
            Outcome::ok(json!({"ciphertext_hex": h}), h)
        }
        Command::Decrypt(d) => {
            let key = parse_key_ref(&d.name)?;
            let pt = client.decrypt(&key, &d.ciphertext_hex.0, &d.aad_hex.0)?;
            let h = Zeroizing::new(hex::encode(pt.expose()));
            Outcome::ok(json!({"plaintext_hex": h.as_str()}), h.as_str())
        }
        Command::Agree(a) => {
            let key = parse_key_ref(&a.name)?;
            let kdf = KdfParams {
                salt: a.salt_hex.0,
                info: a.info_hex.0,
                length: a.length,
            };
            let store = a.alias.map(|alias| options(alias, a.policy));
            match client.agree(&key, &a.peer_hex.0, &kdf, store.as_ref())? {
                Agreement::Secret(out) => {
                    let h = Zeroizing::new(hex::encode(out.expose()));
                    Outcome::ok(json!({"output_hex": h.as_str()}), h.as_str())
                }
                Agreement::Stored(k) => Outcome::ok(
                    json!({"stored": output::key_json(&k)}),
                    format!("stored as: {} ({})", k.alias, k.id),
                ),
            }
        }
        Command::List => {
            let keys = client.list_keys()?;
            let text = keys
                .iter()
                .map(output::key_line)
                .collect::<Vec<_>>()
                .join("\n");
            Outcome::ok(
                Value::Array(keys.iter().map(output::key_json).collect()),
                text,
            )
        }
        Command::Delete(n) => {
            client.delete_key(&parse_key_ref(&n.name)?)?;
            Outcome::ok(json!({"deleted": n.name}), format!("deleted {}", n.name))
        }
        Command::Info(n) => {
            let info = client.get_key_info(&parse_key_ref(&n.name)?)?;
            Outcome::ok(output::key_json(&info), output::key_text(&info))
        }
        Command::Audit(AuditCommand::Verify) => {
            let verdict = client.audit_verify()?;
            let intact = verdict.first_broken_seq.is_none();
            let truncated = verdict.is_truncated();
            let text = match verdict.first_broken_seq {
                None => format!("audit log intact: {} entries", verdict.entries),
                Some(seq) if truncated => format!(
                    "audit log TRUNCATED: its {} entries verify, but entries from {seq} on, \
                     which its anchor vouches for, are missing",
                    verdict.entries
                ),
                Some(seq) => format!("audit log BROKEN at entry {seq} of {}", verdict.entries),
            };
            Outcome {
                json: json!({"entries": verdict.entries, "intact": intact, "truncated": truncated, "first_broken_seq": verdict.first_broken_seq}),
                text,
                status: if intact { 0 } else { EXIT_CHECK_FAILED },
            }
        }
        Command::Daemon(_) => unreachable!("handled before connecting"),
    })
}

impl ImportArgs {
    fn policy_args(&mut self) -> PolicyArgs {
        std::mem::take(&mut self.policy)
    }
}

/// A secret argument: `-` reads standard input (no-echo prompt on a
/// terminal); a value on the command line needs --insecure-secret-in-argv
/// (see `keyhold_client::secret_from_arg`, the one rule for every tool).
fn secret_arg(
    value: String,
    allow_argv: bool,
    what: &str,
) -> Result<Zeroizing<Vec<u8>>, ClientError> {
    secret_from_arg(value, allow_argv, what).map_err(|e| arg_error(e.to_string()))
}

fn secret_hex(value: String, allow_argv: bool, what: &str) -> Result<SecretBytes, ClientError> {
    let text = secret_arg(value, allow_argv, what)?;
    let trimmed = text.trim_ascii();
    let digits = trimmed.strip_prefix(b"0x").unwrap_or(trimmed);
    let mut bytes = Zeroizing::new(vec![0u8; digits.len() / 2]);
    hex::decode_to_slice(digits, &mut bytes)
        .map_err(|e| arg_error(format!("{what} is not hex: {e}")))?;
    Ok(SecretBytes::from(bytes))
}

fn read_file_secret(path: &Path) -> Result<SecretBytes, ClientError> {
    if path == Path::new("-") {
        return Ok(SecretBytes::from(
            read_secret_from_stdin().map_err(arg_error)?,
        ));
    }
    let data = std::fs::read(path).map_err(|e| arg_error(format!("{}: {e}", path.display())))?;
    Ok(SecretBytes::new(data))
}

fn import_material(mut i: ImportArgs) -> Result<ImportMaterial, ClientError> {
    let stdin_uses = [
        &i.mnemonic,
        &i.passphrase,
        &i.seed_hex,
        &i.private_key_hex,
        &i.xprv,
    ]
    .iter()
    .filter(|v| v.as_deref() == Some("-"))
    .count()
        + usize::from(i.pkcs8.as_deref() == Some(Path::new("-")));
    if i.passphrase.is_some() && i.mnemonic.is_none() {
        return Err(arg_error("--passphrase applies only to --mnemonic"));
    }
    if stdin_uses > 1 {
        return Err(arg_error("only one value can be read from standard input"));
    }
    let scheme =
        || HdScheme::for_algorithm(i.alg.unwrap_or(Algorithm::Secp256k1)).map_err(arg_error);
    let argv = i.insecure_secret_in_argv;
    // Refuse a secret on the command line before reading any from stdin.
    for (value, what) in [
        (&i.mnemonic, "the mnemonic"),
        (&i.passphrase, "the BIP39 passphrase"),
        (&i.seed_hex, "the seed"),
        (&i.private_key_hex, "the private key"),
        (&i.xprv, "the xprv"),
    ] {
        if !argv && value.as_deref().is_some_and(|v| v != "-" && !v.is_empty()) {
            return Err(arg_error(argv_secret_refused(what).to_string()));
        }
    }
    if let Some(m) = i.mnemonic.take() {
        let phrase = SecretBytes::from(secret_arg(m, argv, "the mnemonic")?);
        let passphrase = match i.passphrase.take() {
            Some(p) => SecretBytes::from(secret_arg(p, argv, "the BIP39 passphrase")?),
            None => SecretBytes::default(),
        };
        return Ok(ImportMaterial::Mnemonic {
            phrase,
            passphrase,
            scheme: scheme()?,
        });
    }
    if let Some(s) = i.seed_hex.take() {
        return Ok(ImportMaterial::Seed {
            seed: secret_hex(s, argv, "the seed")?,
            scheme: scheme()?,
        });
    }
    if let Some(k) = i.private_key_hex.take() {
        return Ok(ImportMaterial::RawPrivateKey {
            algorithm: i.alg.unwrap_or(Algorithm::Secp256k1),
            secret: secret_hex(k, argv, "the private key")?,
        });
    }
    if let Some(path) = i.pkcs8.take() {
        return Ok(ImportMaterial::Pkcs8 {
            data: read_file_secret(&path)?,
            algorithm: i.alg,
        });
    }
    if let Some(x) = i.xprv.take() {
        return Ok(ImportMaterial::Xprv(SecretBytes::from(secret_arg(
            x, argv, "the xprv",
        )?)));
    }
    Err(arg_error("no key material given"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn import_args(args: &[&str]) -> ImportArgs {
        let cli =
            Cli::try_parse_from(["keyhold", "import", "--alias", "a"].iter().chain(args)).unwrap();
        match cli.command {
            Command::Import(i) => i,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn mnemonics_pick_the_hd_scheme_from_the_algorithm() {
        let m = import_material(import_args(&[
            "--insecure-secret-in-argv",
            "--mnemonic",
            "w1 w2",
            "--alg",
            "ed25519",
            "--passphrase",
            "pp",
        ]))
        .unwrap();
        match m {
            ImportMaterial::Mnemonic {
                phrase,
                passphrase,
                scheme,
            } => {
                assert_eq!(phrase.expose(), b"w1 w2");
                assert_eq!(passphrase.expose(), b"pp");
                assert_eq!(scheme, HdScheme::Slip10Ed25519);
            }
            other => panic!("{other:?}"),
        }
        match import_material(import_args(&[
            "--insecure-secret-in-argv",
            "--seed-hex",
            "000102030405060708090a0b0c0d0e0f",
        ]))
        .unwrap()
        {
            ImportMaterial::Seed { seed, scheme } => {
                assert_eq!(seed.len(), 16);
                assert_eq!(
                    scheme,
                    HdScheme::Bip32Secp256k1,
                    "BIP32 secp256k1 by default"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn raw_keys_default_to_secp256k1_and_must_be_hex() {
        match import_material(import_args(&[
            "--insecure-secret-in-argv",
            "--private-key-hex",
            &"11".repeat(32),
        ]))
        .unwrap()
        {
            ImportMaterial::RawPrivateKey { algorithm, secret } => {
                assert_eq!(algorithm, Algorithm::Secp256k1);
                assert_eq!(secret.expose(), &[0x11; 32]);
            }
            other => panic!("{other:?}"),
        }
        assert!(
            import_material(import_args(&[
                "--insecure-secret-in-argv",
                "--private-key-hex",
                "zz"
            ]))
            .is_err()
        );
    }

    #[test]
    fn secret_values_on_the_command_line_need_the_insecure_flag() {
        for flag in ["--mnemonic", "--seed-hex", "--private-key-hex", "--xprv"] {
            let err = import_material(import_args(&[flag, "00112233"])).unwrap_err();
            assert!(
                err.to_string().contains("--insecure-secret-in-argv"),
                "{flag}: {err}"
            );
            assert!(!err.to_string().contains("00112233"), "{flag}: {err}");
        }
        let err = import_material(import_args(&["--mnemonic", "-", "--passphrase", "visible"]))
            .unwrap_err();
        assert!(err.to_string().contains("passphrase"), "{err}");
    }

    #[test]
    fn a_passphrase_needs_a_mnemonic_and_stdin_is_read_once() {
        assert!(import_material(import_args(&["--seed-hex", "00", "--passphrase", "p"])).is_err());
        assert!(import_material(import_args(&["--mnemonic", "-", "--passphrase", "-"])).is_err());
    }

    #[test]
    fn policy_flags_become_a_key_policy() {
        let o = options(
            "k".into(),
            PolicyArgs {
                bind_code: true,
                allow_ops: vec![keyhold_core::Operation::Sign],
                allow_paths: vec![],
                max_uses: Some(5),
            },
        );
        assert!(o.bind_to_caller_code);
        assert!(
            o.policy.allowed_callers.is_empty(),
            "the service fills in the creator"
        );
        assert!(
            o.policy
                .allowed_operations
                .unwrap()
                .contains(keyhold_core::Operation::Sign)
        );
        assert_eq!(o.policy.max_uses, Some(5));
    }
}
