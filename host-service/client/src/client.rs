//! The typed client: one method per operation, named like the core's verbs.

use crate::convert;
use crate::error::{ClientError, Result};
use crate::frame;
use crate::names;
use crate::proto as pb;
use keyhold_core::{
    Agreement, AuditVerdict, DerivationPath, DerivedKey, EncodedPublicKey, ImportMaterial,
    KdfParams, KeyId, KeyInfo, KeyOptions, KeyPage, KeyRef, KeySpec, PROTOCOL_VERSION, Payload,
    PublicKeyFormat, SecretBytes, SignatureScheme,
};
use prost::Message;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// Default read/write timeout on the socket.
pub const DEFAULT_IO_TIMEOUT: Duration = Duration::from_secs(120);

/// A connection to `keyholdd`. Requests on one connection run in order;
/// open several connections for parallelism.
#[derive(Debug)]
pub struct Client {
    stream: UnixStream,
    path: PathBuf,
    /// The last round trip on this connection (send to response).
    last_round_trip: Duration,
}

/// Client threads of this process polling for a response right now.
static POLLING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Most threads of one process that poll at once: half the CPUs, so
/// pollers never take the CPUs the daemon needs to answer them.
fn max_pollers() -> usize {
    static MAX: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *MAX.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()) / 2)
}

impl Client {
    /// Connects to the daemon's socket and waits for its greeting (sent
    /// once the daemon has identified this process; see
    /// [`frame::GREETING`]). A connection the daemon refuses (too many
    /// connections, say) fails here with the daemon's typed error.
    pub fn connect(path: &Path) -> Result<Self> {
        let stream = UnixStream::connect(path).map_err(|source| ClientError::Connect {
            path: path.to_owned(),
            source,
        })?;
        stream.set_read_timeout(Some(DEFAULT_IO_TIMEOUT))?;
        stream.set_write_timeout(Some(DEFAULT_IO_TIMEOUT))?;
        let mut client = Self {
            stream,
            path: path.to_owned(),
            last_round_trip: Duration::ZERO,
        };
        client.await_greeting()?;
        Ok(client)
    }

    fn await_greeting(&mut self) -> Result<()> {
        let first = self.read_response()?;
        if first.is_empty() {
            return Ok(());
        }
        let response = pb::Response::decode(first.as_slice())
            .map_err(|e| ClientError::Protocol(format!("bad greeting: {e}")))?;
        match response.result {
            Some(pb::response::Result::Error(e)) => Err(ClientError::Service {
                code: names::error_code_from(e.code)?,
                message: e.message,
            }),
            _ => Err(ClientError::Protocol(
                "keyholdd did not greet the connection".into(),
            )),
        }
    }

    /// Connects, retrying while the socket is missing or refuses
    /// connections (a daemon that is starting), for up to `wait`.
    pub fn connect_waiting(path: &Path, wait: Duration) -> Result<Self> {
        let deadline = Instant::now() + wait;
        loop {
            match Self::connect(path) {
                Ok(c) => return Ok(c),
                Err(e) if Instant::now() >= deadline => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(25)),
            }
        }
    }

    /// The socket this client is connected to.
    pub fn socket_path(&self) -> &Path {
        &self.path
    }

    /// Sets the read and write timeout (`None`: wait forever).
    pub fn set_timeout(&self, timeout: Option<Duration>) -> Result<()> {
        self.stream.set_read_timeout(timeout)?;
        self.stream.set_write_timeout(timeout)?;
        Ok(())
    }

    /// Sends one already-encoded request body as a frame and returns the
    /// response body, undecoded. For tests and tools that speak raw bytes.
    pub fn call_raw(&mut self, request: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let sent = Instant::now();
        frame::write_frame_attested(&self.stream, &frame::encode(request)?)?;
        self.read_response_after(sent)
    }

    /// Reads the next response frame. `sent` is when the request went out.
    ///
    /// Polling before blocking (issue 10.5): on a VM a thread blocked in
    /// `read` is often woken tens of microseconds after its data arrived,
    /// so a short poll can halve a 30 µs round trip; but a poller holds a
    /// CPU, and with more pollers than spare CPUs (several clients on a
    /// 2-CPU machine, a busy machine) the daemon thread that must answer
    /// waits behind them for a scheduler tick: the 4 ms p99 of the attack
    /// run. So the daemon never polls, and a client polls only while it is
    /// likely to pay off and cannot crowd the daemon out: its previous
    /// round trip on this connection fit in the window, and fewer than
    /// half the CPUs are polling in this process.
    fn read_response_after(&mut self, sent: Instant) -> Result<Zeroizing<Vec<u8>>> {
        if self.last_round_trip <= frame::POLL_BEFORE_BLOCKING {
            use std::sync::atomic::Ordering;
            if POLLING.fetch_add(1, Ordering::AcqRel) < max_pollers() {
                frame::poll_readable(&self.stream, frame::POLL_BEFORE_BLOCKING);
            }
            POLLING.fetch_sub(1, Ordering::AcqRel);
        }
        let response = self.read_response();
        self.last_round_trip = sent.elapsed();
        response
    }

    fn read_response(&mut self) -> Result<Zeroizing<Vec<u8>>> {
        frame::read_frame(&mut self.stream, frame::MAX_RESPONSE_FRAME)?.ok_or_else(|| {
            ClientError::Io(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "keyholdd closed the connection",
            ))
        })
    }

    /// Encodes, sends and scrubs one request; decodes the response.
    fn call(&mut self, operation: pb::request::Operation) -> Result<pb::response::Result> {
        let mut request = pb::Request {
            version: PROTOCOL_VERSION,
            operation: Some(operation),
        };
        let len = request.encoded_len();
        let mut buf = Zeroizing::new(Vec::with_capacity(frame::HEADER_LEN + len));
        buf.extend_from_slice(&frame::header(len)?);
        let encoded = request.encode(&mut *buf);
        convert::scrub(&mut request);
        drop(request);
        encoded.map_err(|e| ClientError::Protocol(format!("cannot encode request: {e}")))?;
        debug_assert_eq!(buf.len(), buf.capacity(), "the frame was written in place");
        let sent = Instant::now();
        frame::write_frame_attested(&self.stream, &buf)?;
        drop(buf);
        let body = self.read_response_after(sent)?;
        let response = pb::Response::decode(body.as_slice())
            .map_err(|e| ClientError::Protocol(format!("bad response: {e}")))?;
        match response.result {
            None => Err(ClientError::Protocol("empty response".into())),
            Some(pb::response::Result::Error(e)) => Err(ClientError::Service {
                code: names::error_code_from(e.code)?,
                message: e.message,
            }),
            Some(result) => Ok(result),
        }
    }

    /// Creates a key inside the service: a single key, or an HD root.
    pub fn generate_key(&mut self, spec: KeySpec, options: &KeyOptions) -> Result<KeyInfo> {
        let (algorithm, hd) = match spec {
            KeySpec::Single(a) => (names::algorithm(a) as i32, None),
            KeySpec::Hd(s) => (0, Some(s)),
        };
        let op = pb::request::Operation::GenerateKey(pb::GenerateKeyRequest {
            alias: options.alias.clone(),
            algorithm,
            policy: Some(convert::policy(options)),
            hd_scheme: names::hd_scheme(hd) as i32,
        });
        match self.call(op)? {
            pb::response::Result::GenerateKey(r) => convert::key_info(r.key),
            other => Err(unexpected("generate_key", &other)),
        }
    }

    /// Imports key material. The request's copy of the secret is zeroized
    /// as soon as it is written; `material` zeroizes itself when dropped.
    pub fn import_key(
        &mut self,
        material: ImportMaterial,
        options: &KeyOptions,
    ) -> Result<KeyInfo> {
        let request = convert::import_request(&material, options)?;
        drop(material);
        match self.call(pb::request::Operation::ImportKey(request))? {
            pb::response::Result::ImportKey(r) => convert::key_info(r.key),
            other => Err(unexpected("import_key", &other)),
        }
    }

    /// A public key (of the child at `path` for HD keys) in `format`.
    pub fn get_public_key(
        &mut self,
        key: &KeyRef,
        path: Option<&DerivationPath>,
        format: PublicKeyFormat,
    ) -> Result<EncodedPublicKey> {
        let op = pb::request::Operation::GetPublicKey(pb::GetPublicKeyRequest {
            key: Some(convert::key_ref(key)),
            format: names::public_key_format(format) as i32,
            path: path.map(ToString::to_string).unwrap_or_default(),
        });
        match self.call(op)? {
            pb::response::Result::GetPublicKey(r) if r.text.is_empty() => {
                Ok(EncodedPublicKey::binary(r.public_key))
            }
            pb::response::Result::GetPublicKey(r) => Ok(EncodedPublicKey::text(r.text)),
            other => Err(unexpected("get_public_key", &other)),
        }
    }

    /// Signs a message or a 32-byte digest. `scheme: None` lets the service
    /// pick the algorithm's default.
    pub fn sign(
        &mut self,
        key: &KeyRef,
        path: Option<&DerivationPath>,
        scheme: Option<SignatureScheme>,
        payload: Payload<'_>,
    ) -> Result<Vec<u8>> {
        let op = pb::request::Operation::Sign(pb::SignRequest {
            key: Some(convert::key_ref(key)),
            scheme: names::signature_scheme(scheme) as i32,
            payload: Some(convert::sign_payload(payload)),
            path: path.map(ToString::to_string).unwrap_or_default(),
        });
        match self.call(op)? {
            pb::response::Result::Sign(r) => Ok(r.signature),
            other => Err(unexpected("sign", &other)),
        }
    }

    /// Verifies a signature; `Ok(false)` when it does not verify.
    pub fn verify(
        &mut self,
        key: &KeyRef,
        path: Option<&DerivationPath>,
        scheme: Option<SignatureScheme>,
        payload: Payload<'_>,
        signature: &[u8],
    ) -> Result<bool> {
        let op = pb::request::Operation::Verify(pb::VerifyRequest {
            key: Some(convert::key_ref(key)),
            scheme: names::signature_scheme(scheme) as i32,
            payload: Some(convert::verify_payload(payload)),
            signature: signature.to_vec(),
            path: path.map(ToString::to_string).unwrap_or_default(),
        });
        match self.call(op)? {
            pb::response::Result::Verify(r) => Ok(r.valid),
            other => Err(unexpected("verify", &other)),
        }
    }

    /// Derives the HD child at `path`; stores it when `store_as` is given.
    pub fn derive_key(
        &mut self,
        key: &KeyRef,
        path: &DerivationPath,
        store_as: Option<&KeyOptions>,
    ) -> Result<DerivedKey> {
        let op = pb::request::Operation::DeriveKey(pb::DeriveKeyRequest {
            key: Some(convert::key_ref(key)),
            path: path.to_string(),
            store_as_alias: store_as.map(|o| o.alias.clone()).unwrap_or_default(),
            policy: store_as.map(convert::policy),
        });
        match self.call(op)? {
            pb::response::Result::DeriveKey(r) => Ok(DerivedKey {
                public_key: r.public_key,
                xpub: (!r.xpub.is_empty()).then_some(r.xpub),
                stored: r.stored.map(|k| convert::key_info(Some(k))).transpose()?,
            }),
            other => Err(unexpected("derive_key", &other)),
        }
    }

    /// Encrypts with an AES-256-GCM key: nonce || ciphertext || tag.
    pub fn encrypt(&mut self, key: &KeyRef, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        let op = pb::request::Operation::Encrypt(pb::EncryptRequest {
            key: Some(convert::key_ref(key)),
            plaintext: plaintext.to_vec(),
            associated_data: aad.to_vec(),
        });
        match self.call(op)? {
            pb::response::Result::Encrypt(r) => Ok(r.ciphertext),
            other => Err(unexpected("encrypt", &other)),
        }
    }

    /// Decrypts what [`Client::encrypt`] produced.
    pub fn decrypt(&mut self, key: &KeyRef, ciphertext: &[u8], aad: &[u8]) -> Result<SecretBytes> {
        let op = pb::request::Operation::Decrypt(pb::DecryptRequest {
            key: Some(convert::key_ref(key)),
            ciphertext: ciphertext.to_vec(),
            associated_data: aad.to_vec(),
        });
        match self.call(op)? {
            pb::response::Result::Decrypt(r) => Ok(SecretBytes::new(r.plaintext)),
            other => Err(unexpected("decrypt", &other)),
        }
    }

    /// Key agreement followed by HKDF-SHA256; the output is returned, or
    /// stored as a new AES-256-GCM key when `store_as` is given.
    pub fn agree(
        &mut self,
        key: &KeyRef,
        peer_public_key: &[u8],
        kdf: &KdfParams,
        store_as: Option<&KeyOptions>,
    ) -> Result<Agreement> {
        let op = pb::request::Operation::Agree(pb::AgreeRequest {
            key: Some(convert::key_ref(key)),
            peer_public_key: peer_public_key.to_vec(),
            hkdf_salt: kdf.salt.clone(),
            hkdf_info: kdf.info.clone(),
            output_length: u32::try_from(kdf.length).unwrap_or(u32::MAX),
            store_as_alias: store_as.map(|o| o.alias.clone()).unwrap_or_default(),
            policy: store_as.map(convert::policy),
        });
        match self.call(op)? {
            pb::response::Result::Agree(r) => match r.stored {
                Some(k) => Ok(Agreement::Stored(convert::key_info(Some(k))?)),
                None => Ok(Agreement::Secret(SecretBytes::new(r.derived_secret))),
            },
            other => Err(unexpected("agree", &other)),
        }
    }

    /// Deletes a key.
    pub fn delete_key(&mut self, key: &KeyRef) -> Result<()> {
        let op = pb::request::Operation::DeleteKey(pb::DeleteKeyRequest {
            key: Some(convert::key_ref(key)),
        });
        match self.call(op)? {
            pb::response::Result::DeleteKey(_) => Ok(()),
            other => Err(unexpected("delete_key", &other)),
        }
    }

    /// Every key in the caller's namespace, ordered by alias (as before
    /// paging): asks for pages of the core's maximum size until the last one
    /// (each reply stays bounded), then sorts. Refuses a service whose
    /// cursor does not move forward.
    pub fn list_keys(&mut self) -> Result<Vec<KeyInfo>> {
        let mut keys = Vec::new();
        let mut after = None;
        loop {
            let page = self.list_keys_page(after, u32::MAX)?;
            keys.extend(page.keys);
            match page.next_after {
                None => {
                    keys.sort_by(|a, b| a.alias.cmp(&b.alias));
                    return Ok(keys);
                }
                Some(next) if after.is_some_and(|a| next <= a) || keys.is_empty() => {
                    return Err(ClientError::Protocol(format!(
                        "list_keys: the service's cursor {next} does not advance"
                    )));
                }
                next => after = next,
            }
        }
    }

    /// One page of the caller's keys with ids above `after` (`None`: from
    /// the first), at most `limit` of them (0: the core's default; the core
    /// caps it); `next_after` is the cursor of the next page, if any.
    pub fn list_keys_page(&mut self, after: Option<KeyId>, limit: u32) -> Result<KeyPage> {
        let op = pb::request::Operation::ListKeys(pb::ListKeysRequest {
            after_id: after.map(KeyId::as_u64),
            limit,
        });
        match self.call(op)? {
            pb::response::Result::ListKeys(r) => Ok(KeyPage {
                keys: r
                    .keys
                    .into_iter()
                    .map(|k| convert::key_info(Some(k)))
                    .collect::<Result<_>>()?,
                next_after: r.next_after_id.map(KeyId::from_u64),
            }),
            other => Err(unexpected("list_keys", &other)),
        }
    }

    /// Metadata of one key.
    pub fn get_key_info(&mut self, key: &KeyRef) -> Result<KeyInfo> {
        let op = pb::request::Operation::GetKeyInfo(pb::GetKeyInfoRequest {
            key: Some(convert::key_ref(key)),
        });
        match self.call(op)? {
            pb::response::Result::GetKeyInfo(r) => convert::key_info(r.key),
            other => Err(unexpected("get_key_info", &other)),
        }
    }

    /// Checks the service's hash-chained audit log.
    pub fn audit_verify(&mut self) -> Result<AuditVerdict> {
        match self.call(pb::request::Operation::AuditVerify(
            pb::AuditVerifyRequest {},
        ))? {
            pb::response::Result::AuditVerify(r) => Ok(AuditVerdict {
                entries: r.entries,
                first_broken_seq: (!r.intact).then_some(r.first_broken_seq),
            }),
            other => Err(unexpected("audit_verify", &other)),
        }
    }
}

fn unexpected(op: &str, got: &pb::response::Result) -> ClientError {
    let kind = match got {
        pb::response::Result::Error(_) => "error",
        _ => "a response to another operation",
    };
    ClientError::Protocol(format!("{op}: the service answered with {kind}"))
}
