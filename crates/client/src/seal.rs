//! Passwords an admin staged (an add's `set_and_email` / `set_silently`, an import's Password
//! column) are kept in the cache sealed with AES-256-GCM under the profile's cache key, a
//! random 256-bit key in the OS keyring beside the session token: the SQLite file, its WAL,
//! copies and backups never hold them in clear. They are opened only to be sent or re-read.
//!
//! If the keyring loses the key (keyutils after a reboot), what it sealed cannot be opened:
//! the callers refuse those changes and ask for the password again; nothing else needs it.

use crate::cache::META_PROFILE_ID;
use crate::error::{Error, Result};
use crate::secrets;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use orgdesk_domain::wire::MutationKind;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use rusqlite::{Connection, OptionalExtension, params};
use std::borrow::Cow;
use std::cell::OnceCell;

/// How a sealed text starts (then base64 of nonce, ciphertext and tag): a password in a
/// staged add's JSON, the cells of an import row.
pub(crate) const SEALED_TEXT: &str = "sealed:v1:";

/// How a sealed import file starts (then nonce, ciphertext and tag). A stored file without
/// it was kept in clear (no Password column, or staged before sealing existed).
const SEALED_FILE: &[u8] = b"orgdesk-sealed-v1\0";

/// A sealed password as `serde_json` writes it inside a staged add (compact JSON).
const SEALED_PASSWORD_JSON: &str = "\"password\":\"sealed:v1:";

/// What the admin is told when sealed passwords cannot be opened.
pub(crate) const UNREADABLE: &str = "the passwords staged in this profile can no longer be read: \
    the OS keyring no longer has this profile's cache key (the kernel keyring forgets it at a \
    reboot, or it was removed). Enter them again: drop the staged add and add the user again \
    with the password, or stage the import file again";

/// Sealed material that this profile's key cannot open (the key is gone or was replaced).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unreadable;

impl From<Unreadable> for Error {
    fn from(_: Unreadable) -> Error {
        Error::Keyring(UNREADABLE.into())
    }
}

/// Opening sealed material: the outer `Result` is the keyring failing (try again later),
/// the inner one the key not opening it (enter the password again).
pub(crate) type Opened<T> = Result<std::result::Result<T, Unreadable>>;

/// The profile's cache key for one operation: read from the keyring at most once, and only
/// when a password is met, so that changes without one never need the keyring.
pub(crate) struct Seal {
    profile_id: String,
    key: OnceCell<LessSafeKey>,
}

pub(crate) fn is_sealed(text: &str) -> bool {
    text.starts_with(SEALED_TEXT)
}

impl Seal {
    /// The seal of the profile whose cache `conn` is.
    pub(crate) fn of(conn: &Connection) -> Result<Seal> {
        let profile_id: String = conn
            .query_row(
                "SELECT value FROM meta WHERE key = ?1",
                params![META_PROFILE_ID],
                |row| row.get(0),
            )
            .optional()?
            .ok_or_else(|| Error::Invalid("the cache has no profile id".into()))?;
        Ok(Seal {
            profile_id,
            key: OnceCell::new(),
        })
    }

    /// The key to seal with: the keyring's, or a new one put there first.
    fn sealing_key(&self) -> Result<&LessSafeKey> {
        if let Some(key) = self.key.get() {
            return Ok(key);
        }
        if secrets::load_cache_key(&self.profile_id)?.is_none() {
            let mut bytes = [0u8; 32];
            SystemRandom::new()
                .fill(&mut bytes)
                .map_err(|_| Error::Task("no randomness for a cache key".into()))?;
            secrets::save_cache_key(&self.profile_id, &URL_SAFE_NO_PAD.encode(bytes))?;
        }
        // Read back rather than use `bytes`: if another process stored its key meanwhile,
        // both seal with the one the keyring kept.
        self.opening_key()?.map_err(Error::from)
    }

    /// The key to open with; `Unreadable` when the keyring has none (or a damaged one).
    fn opening_key(&self) -> Opened<&LessSafeKey> {
        if let Some(key) = self.key.get() {
            return Ok(Ok(key));
        }
        let Some(text) = secrets::load_cache_key(&self.profile_id)? else {
            return Ok(Err(Unreadable));
        };
        let key = URL_SAFE_NO_PAD
            .decode(text)
            .ok()
            .and_then(|bytes| UnboundKey::new(&AES_256_GCM, &bytes).ok());
        let Some(key) = key else {
            return Ok(Err(Unreadable));
        };
        Ok(Ok(self.key.get_or_init(|| LessSafeKey::new(key))))
    }

    /// nonce ‖ ciphertext ‖ tag, after `prefix`. A random nonce per message: a key seals far
    /// fewer than the 2³² messages that allows.
    fn seal(&self, prefix: &[u8], plain: &[u8]) -> Result<Vec<u8>> {
        let key = self.sealing_key()?;
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| Error::Task("no randomness for a nonce".into()))?;
        let mut out = Vec::with_capacity(prefix.len() + NONCE_LEN + plain.len() + 16);
        out.extend_from_slice(prefix);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plain);
        let body = prefix.len() + NONCE_LEN;
        let tag = key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::empty(),
                &mut out[body..],
            )
            .map_err(|_| Error::Task("sealing failed".into()))?;
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    /// The plain bytes of nonce ‖ ciphertext ‖ tag.
    fn open(&self, sealed: &[u8]) -> Opened<Vec<u8>> {
        let key = match self.opening_key()? {
            Ok(key) => key,
            Err(unreadable) => return Ok(Err(unreadable)),
        };
        let Some((nonce, body)) = sealed.split_at_checked(NONCE_LEN) else {
            return Ok(Err(Unreadable));
        };
        let Ok(nonce) = Nonce::try_assume_unique_for_key(nonce) else {
            return Ok(Err(Unreadable));
        };
        let mut body = body.to_vec();
        let Ok(plain) = key.open_in_place(nonce, Aad::empty(), &mut body) else {
            return Ok(Err(Unreadable));
        };
        let len = plain.len();
        body.truncate(len);
        Ok(Ok(body))
    }

    /// `plain` as a sealed text ([`SEALED_TEXT`], then base64: safe inside JSON as is).
    pub(crate) fn seal_text(&self, plain: &str) -> Result<String> {
        let sealed = self.seal(&[], plain.as_bytes())?;
        Ok(format!("{SEALED_TEXT}{}", URL_SAFE_NO_PAD.encode(sealed)))
    }

    /// The plain text of a sealed text.
    pub(crate) fn open_text(&self, text: &str) -> Opened<String> {
        let sealed = text
            .strip_prefix(SEALED_TEXT)
            .and_then(|b64| URL_SAFE_NO_PAD.decode(b64).ok());
        let Some(sealed) = sealed else {
            return Ok(Err(Unreadable));
        };
        Ok(self
            .open(&sealed)?
            .and_then(|plain| String::from_utf8(plain).map_err(|_| Unreadable)))
    }

    /// An import file, sealed whole (AES-GCM runs at memory speed: a 10 MB file is a few ms).
    pub(crate) fn seal_file(&self, file: &[u8]) -> Result<Vec<u8>> {
        self.seal(SEALED_FILE, file)
    }

    /// An import file as stored: opened if sealed, as is otherwise.
    pub(crate) fn open_file(&self, stored: Vec<u8>) -> Opened<Vec<u8>> {
        match stored.strip_prefix(SEALED_FILE) {
            Some(sealed) => self.open(sealed),
            None => Ok(Ok(stored)),
        }
    }

    /// `change` with its password sealed, if it carries one in clear (an add with `set_*`);
    /// `None` when there is nothing to seal.
    pub(crate) fn seal_password(&self, change: &MutationKind) -> Result<Option<MutationKind>> {
        let MutationKind::AddMember { member } = change else {
            return Ok(None);
        };
        let Some(password) = member.password.as_deref().filter(|p| !is_sealed(p)) else {
            return Ok(None);
        };
        let mut member = member.clone();
        member.password = Some(self.seal_text(password)?);
        Ok(Some(MutationKind::AddMember { member }))
    }

    /// `change` with its password opened (the offline checks read it).
    pub(crate) fn open_password<'c>(
        &self,
        change: &'c MutationKind,
    ) -> Opened<Cow<'c, MutationKind>> {
        let MutationKind::AddMember { member } = change else {
            return Ok(Ok(Cow::Borrowed(change)));
        };
        let Some(sealed) = member.password.as_deref().filter(|p| is_sealed(p)) else {
            return Ok(Ok(Cow::Borrowed(change)));
        };
        let password = match self.open_text(sealed)? {
            Ok(password) => password,
            Err(unreadable) => return Ok(Err(unreadable)),
        };
        let mut member = member.clone();
        member.password = Some(password);
        Ok(Ok(Cow::Owned(MutationKind::AddMember { member })))
    }

    /// A staged change's JSON (as `insert_staged` wrote it) with its sealed password opened,
    /// spliced in place: the bulk push writes changes as stored, and decoding and encoding
    /// each one again was most of its cost. Borrowed when it holds no sealed password.
    ///
    /// In `serde_json`'s output a `"` that is not escaped only starts or ends a string, so
    /// `"password":"sealed:v1:` is the `password` key with a sealed value, never text.
    pub(crate) fn open_passwords_json<'j>(&self, json: &'j str) -> Opened<Cow<'j, str>> {
        if !json.contains(SEALED_PASSWORD_JSON) {
            return Ok(Ok(Cow::Borrowed(json)));
        }
        let mut out = String::with_capacity(json.len());
        let mut rest = json;
        while let Some(at) = rest.find(SEALED_PASSWORD_JSON) {
            // The value's opening quote ends the key part.
            let value = at + SEALED_PASSWORD_JSON.len() - SEALED_TEXT.len();
            let Some(len) = rest[value..].find('"') else {
                return Ok(Err(Unreadable));
            };
            let password = match self.open_text(&rest[value..value + len])? {
                Ok(password) => password,
                Err(unreadable) => return Ok(Err(unreadable)),
            };
            out.push_str(&rest[..value - 1]);
            out.push_str(&serde_json::to_string(&password)?);
            rest = &rest[value + len + 1..];
        }
        out.push_str(rest);
        Ok(Ok(Cow::Owned(out)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use orgdesk_domain::Role;
    use orgdesk_domain::wire::{NewMember, Onboarding};

    /// A seal on a fresh profile id; its key is removed from the keyring when dropped.
    struct TestSeal(Seal);

    impl Drop for TestSeal {
        fn drop(&mut self) {
            let _ = secrets::delete_cache_key(&self.0.profile_id);
        }
    }

    fn seal() -> TestSeal {
        TestSeal(Seal {
            profile_id: format!("test-{}", uuid::Uuid::new_v4()),
            key: OnceCell::new(),
        })
    }

    /// The same profile's key as a later operation (another process) reads it.
    fn again(seal: &TestSeal) -> Seal {
        Seal {
            profile_id: seal.0.profile_id.clone(),
            key: OnceCell::new(),
        }
    }

    fn add(password: &str) -> MutationKind {
        MutationKind::AddMember {
            member: NewMember {
                email: "new@example.com".into(),
                role: Role::Member,
                profile: Default::default(),
                workspaces: Vec::new(),
                guest_expires: None,
                properties: Default::default(),
                onboarding: Onboarding::SetSilently,
                password: Some(password.into()),
            },
        }
    }

    #[test]
    fn a_sealed_add_holds_no_password_and_opens_to_the_same_json() {
        let seal = seal();
        let password = "correct \"horse\" battery ü";
        let change = add(password);
        let sealed = seal.0.seal_password(&change).unwrap().unwrap();
        let json = serde_json::to_string(&sealed).unwrap();
        assert!(!json.contains("horse"), "{json}");
        let opened = again(&seal).open_passwords_json(&json).unwrap().unwrap();
        assert_eq!(opened, serde_json::to_string(&change).unwrap());
    }

    #[test]
    fn a_change_without_a_password_is_left_alone_and_needs_no_key() {
        let seal = seal();
        let mut change = add("x");
        if let MutationKind::AddMember { member } = &mut change {
            member.password = None;
        }
        assert_eq!(seal.0.seal_password(&change).unwrap(), None);
        let json = serde_json::to_string(&change).unwrap();
        let opened = seal.0.open_passwords_json(&json).unwrap().unwrap();
        assert!(matches!(opened, Cow::Borrowed(_)));
        assert_eq!(secrets::load_cache_key(&seal.0.profile_id).unwrap(), None);
    }

    #[test]
    fn a_sealed_password_is_not_sealed_twice() {
        let seal = seal();
        let sealed = seal
            .0
            .seal_password(&add("twelve chars ok"))
            .unwrap()
            .unwrap();
        assert_eq!(seal.0.seal_password(&sealed).unwrap(), None);
    }

    #[test]
    fn without_the_key_sealed_material_is_unreadable_not_an_error_of_the_keyring() {
        let seal = seal();
        let text = seal.0.seal_text("twelve chars ok").unwrap();
        let file = seal
            .0
            .seal_file(b"Email,Password\na@b.c,twelve chars ok\n")
            .unwrap();
        secrets::delete_cache_key(&seal.0.profile_id).unwrap();
        let later = again(&seal);
        assert_eq!(later.open_text(&text).unwrap(), Err(Unreadable));
        assert_eq!(later.open_file(file).unwrap(), Err(Unreadable));
    }

    #[test]
    fn a_new_key_does_not_open_what_the_lost_one_sealed() {
        let seal = seal();
        let text = seal.0.seal_text("twelve chars ok").unwrap();
        secrets::delete_cache_key(&seal.0.profile_id).unwrap();
        let later = again(&seal);
        let fresh = later.seal_text("another password").unwrap();
        assert_eq!(later.open_text(&text).unwrap(), Err(Unreadable));
        assert_eq!(
            later.open_text(&fresh).unwrap().unwrap(),
            "another password"
        );
    }

    #[test]
    fn a_file_is_sealed_whole_and_a_clear_one_is_read_as_is() {
        let seal = seal();
        let file = b"Email,Password\na@b.c,twelve chars ok\n".to_vec();
        let sealed = seal.0.seal_file(&file).unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"twelve"));
        assert_eq!(again(&seal).open_file(sealed).unwrap().unwrap(), file);
        assert_eq!(seal.0.open_file(file.clone()).unwrap().unwrap(), file);
    }

    #[test]
    fn a_tampered_text_is_unreadable() {
        let seal = seal();
        let mut text = seal.0.seal_text("twelve chars ok").unwrap();
        let last = text.pop().unwrap();
        text.push(if last == 'A' { 'B' } else { 'A' });
        assert_eq!(seal.0.open_text(&text).unwrap(), Err(Unreadable));
    }
}
