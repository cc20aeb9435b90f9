use super::*;
use clap::CommandFactory;

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("keyhold").chain(args.iter().copied()))
}

#[test]
fn the_command_definition_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn generate_parses_core_names() {
    let cli = parse(&[
        "generate",
        "--alg",
        "prime256v1",
        "--alias",
        "k",
        "--hd",
        "--bind-code",
    ])
    .unwrap();
    match cli.command {
        Command::Generate(g) => {
            assert_eq!(g.alg, Algorithm::P256);
            assert!(g.hd && g.policy.bind_code);
        }
        other => panic!("{other:?}"),
    }
    assert!(parse(&["generate", "--alg", "rsa", "--alias", "k"]).is_err());
}

#[test]
fn import_needs_exactly_one_material() {
    assert!(parse(&["import", "--alias", "a"]).is_err());
    assert!(
        parse(&[
            "import",
            "--alias",
            "a",
            "--mnemonic",
            "-",
            "--seed-hex",
            "00"
        ])
        .is_err()
    );
    let cli = parse(&[
        "import",
        "--alias",
        "a",
        "--mnemonic",
        "-",
        "--alg",
        "ed25519",
    ])
    .unwrap();
    match cli.command {
        Command::Import(i) => {
            assert_eq!(i.mnemonic.as_deref(), Some("-"));
            assert_eq!(i.alg, Some(Algorithm::Ed25519));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn sign_takes_a_message_or_a_digest_not_both() {
    let d = "11".repeat(32);
    assert!(parse(&["sign", "k", "--message-hex", "00", "--digest-hex", &d]).is_err());
    assert!(parse(&["sign", "k"]).is_err());
    assert!(
        parse(&["sign", "k", "--digest-hex", "0011"]).is_err(),
        "a digest is 32 bytes"
    );
    let cli = parse(&[
        "sign",
        "k",
        "--digest-hex",
        &format!("0x{d}"),
        "--scheme",
        "ecdsa-recoverable",
        "--path",
        "m/44'/60'/0'/0/0",
    ])
    .unwrap();
    match cli.command {
        Command::Sign(s) => {
            assert_eq!(s.payload.digest_hex, Some([0x11; 32]));
            assert_eq!(s.scheme, Some(SignatureScheme::EcdsaRecoverable));
            assert_eq!(s.path.unwrap().to_string(), "m/44'/60'/0'/0/0");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn pubkey_formats_and_global_options() {
    let cli = parse(&[
        "pubkey",
        "k",
        "--format",
        "eth-address",
        "--json",
        "--socket",
        "/tmp/s",
        "--no-spawn",
    ])
    .unwrap();
    assert!(cli.json && cli.no_spawn);
    assert_eq!(cli.socket.as_deref(), Some(std::path::Path::new("/tmp/s")));
    match cli.command {
        Command::Pubkey(p) => assert_eq!(p.format, PublicKeyFormat::EthAddress),
        other => panic!("{other:?}"),
    }
    assert!(parse(&["pubkey", "k", "--format", "base58"]).is_err());
    assert!(parse(&["pubkey", "k", "--path", "44/60"]).is_err());
}

#[test]
fn daemon_takes_the_daemon_flags() {
    let cli = parse(&[
        "--data-dir",
        "/d",
        "daemon",
        "--socket-mode",
        "0666",
        "--max-connections",
        "4",
    ])
    .unwrap();
    match cli.command {
        Command::Daemon(d) => {
            assert_eq!(d.socket_mode, 0o666);
            assert_eq!(d.max_connections, 4);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn policy_flags_parse() {
    let cli = parse(&[
        "generate",
        "--alg",
        "secp256k1",
        "--alias",
        "k",
        "--hd",
        "--allow-op",
        "sign",
        "--allow-op",
        "get-public-key",
        "--allow-path",
        "m/44'/60'",
        "--max-uses",
        "3",
    ])
    .unwrap();
    match cli.command {
        Command::Generate(g) => {
            assert_eq!(
                g.policy.allow_ops,
                vec![Operation::Sign, Operation::GetPublicKey]
            );
            assert_eq!(g.policy.allow_paths.len(), 1);
            assert_eq!(g.policy.max_uses, Some(3));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn help_documents_every_exit_status() {
    let help = exit_status_help();
    for code in ErrorCode::ALL {
        assert!(help.contains(code.name()), "{}", code.name());
    }
    assert!(help.contains(" 69  PERMISSION_DENIED"), "{help}");
}

#[test]
fn byte_arguments_are_single_values() {
    let cli = parse(&[
        "verify",
        "k",
        "--signature-hex",
        "aabb",
        "--message-hex",
        "00ff",
    ])
    .unwrap();
    match cli.command {
        Command::Verify(v) => {
            assert_eq!(v.signature_hex, Hex(vec![0xaa, 0xbb]));
            assert_eq!(v.payload.message_hex, Some(Hex(vec![0, 0xff])));
        }
        other => panic!("{other:?}"),
    }
    let cli = parse(&["encrypt", "k", "--plaintext-hex", "01"]).unwrap();
    match cli.command {
        Command::Encrypt(e) => {
            assert_eq!((e.plaintext_hex, e.aad_hex), (Hex(vec![1]), Hex(vec![])))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn hex_accepts_a_0x_prefix() {
    assert_eq!(parse_hex("0xdead").unwrap(), Hex(vec![0xde, 0xad]));
    assert!(parse_hex("xyz").is_err());
}
