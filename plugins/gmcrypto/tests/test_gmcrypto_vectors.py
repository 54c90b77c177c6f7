"""The suite's primitives against the standards' own examples (no portal, no database).

- SM2: GM/T 0003.5-2012 (GB/T 32918.5) Annex A, the signature example on the recommended
  curve: user ID 1234567812345678, message "message digest", its Z_A, e, k, r and s.
  And against gmalg, an independent implementation, both ways.
- SM3: GM/T 0004-2012 Appendix A, "abc" and the 64-byte "abcd" x 16.
- SM4: GB/T 32907-2016 (GM/T 0002-2012) Appendix A example 1; SM4-GCM: RFC 8998 A.1.
"""

from __future__ import annotations

import pytest
import gmalg
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from opendata.crypto_default import b64
from opendata_gmcrypto.sm2 import SM2SM3
from opendata_gmcrypto.sm3 import HmacSm3, hmac_sm3, sm3
from opendata_gmcrypto.sm4 import Sm4Gcm, sm4_gcm_decrypt, sm4_gcm_encrypt


def h(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


# GM/T 0003.5-2012 Annex A (signature), recommended curve.
D_A = "3945208F 7B2144B1 3F36E38A C6D39F95 88939369 2860B51A 42FB81EF 4DF7C5B8"
X_A = "09F9DF31 1E5421A1 50DD7D16 1E4BC5C6 72179FAD 1833FC07 6BB08FF3 56F35020"
Y_A = "CCEA490C E26775A5 2DC6EA71 8CC1AA60 0AED05FB F35E084A 6632F607 2DA9AD13"
Z_A = "B2E14C5C 79C6DF5B 85F4FE7E D8DB7A26 2B9DA7E0 7CCB0EA9 F4747B8C CDA8A4F3"
E = "F0B43E94 BA45ACCA ACE692ED 534382EB 17E6AB5A 19CE7B31 F4486FDF C0D28640"
K = "59276E27 D506861A 16680F3A D9C02DCC EF3CC1FA 3CDBE4CE 6D54B80D EAC1BC21"
R = "F5A03B06 48D2C463 0EEAC513 E1BB81A1 5944DA38 27D5B741 43AC7EAC EEE720B3"
S = "B1B6AA29 DF212FD8 763182BC 0D421CA1 BB9038FD 1F7F42D4 840B69C4 85BBC1AA"
MESSAGE = b"message digest"


def test_sm2_signature_of_the_standard_with_its_user_id_and_z_value() -> None:
    signing = SM2SM3(rnd_fn=lambda bits: int.from_bytes(h(K), "big"))
    private = signing.private_from_int(int.from_bytes(h(D_A), "big"))
    assert private.public.point == h(X_A) + h(Y_A) and private.public.za == h(Z_A)
    # Z_A = SM3(ENTL || ID || a || b || xG || yG || xA || yA), and e = SM3(Z_A || M).
    a = h("FFFFFFFE FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF 00000000 FFFFFFFF FFFFFFFC")
    b = h("28E9FA9E 9D9F5E34 4D5A9E4B CF6509A7 F39789F5 15AB8F92 DDBCBD41 4D940E93")
    gx = h("32C4AE2C 1F198119 5F990446 6A39C994 8FE30BBF F2660BE1 715A4589 334C74C7")
    gy = h("BC3736A2 F4F6779C 59BDCEE3 6B692153 D0A9877C C62A4740 02DF32E5 2139F0A0")
    z = sm3((len(signing.user_id) * 8).to_bytes(2, "big") + signing.user_id + a + b + gx + gy + h(X_A) + h(Y_A))
    assert signing.user_id == b"1234567812345678" and z == h(Z_A) and sm3(z + MESSAGE) == h(E)
    signature = signing.sign(private, MESSAGE)
    assert signature == h(R) + h(S)
    public = signing.load_public(signing.public_jwk(private))
    assert signing.verify(public, MESSAGE, signature)
    assert not signing.verify(public, b"message digesT", signature)
    assert not signing.verify(public, MESSAGE, signature[:-1] + bytes([signature[-1] ^ 1]))
    # Another user ID is another Z_A: the same r, s do not verify.
    other = SM2SM3(user_id=b"ALICE123@YAHOO.COM")
    assert not other.verify(other.load_public(signing.public_jwk(private)), MESSAGE, signature)


def test_sm2_signatures_interoperate_with_an_independent_implementation() -> None:
    """gmalg (another pure-Python SM2) verifies ours, and ours verifies its, user ID and Z_A
    included: the JWS r || s and the public key mean the same to both."""
    signing = SM2SM3()
    private = signing.generate()
    public = signing.load_public(signing.public_jwk(private))
    theirs = gmalg.SM2(private.d, signing.user_id, b"\x04" + private.public.point)
    data = "令牌 token payload".encode()
    ours = signing.sign(private, data)
    assert theirs.verify(data, ours[:32], ours[32:])
    r, s = theirs.sign(data)
    assert signing.verify(public, data, r.rjust(32, b"\x00") + s.rjust(32, b"\x00"))


def test_sm2_keys_round_trip_and_bad_keys_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from opendata_gmcrypto import sm2

    monkeypatch.setattr(sm2, "PBKDF2_ITERATIONS", 1000)  # the same code; its cost is not what is tested
    signing = SM2SM3()
    private = signing.generate()
    assert signing.load_private(signing.private_text(private, None), None) == private
    encrypted = signing.private_text(private, "passphrase")
    assert private.d.hex() not in encrypted
    assert signing.load_private(encrypted, "passphrase") == private
    with pytest.raises(ValueError, match="wrong passphrase"):
        signing.load_private(encrypted, "other")
    jwk = signing.public_jwk(private)
    assert set(jwk) == {"kty", "crv", "x", "y", "kid", "alg", "use"} and jwk["alg"] == "SM2SM3"
    assert jwk["crv"] == "SM2" and jwk["kty"] == "EC"
    off_curve = {**jwk, "y": b64((int.from_bytes(private.public.point[32:], "big") ^ 1).to_bytes(32, "big"))}
    with pytest.raises(ValueError, match="not a point of the curve"):
        signing.load_public(off_curve)
    with pytest.raises(ValueError, match="not an SM2 key"):
        signing.load_public({**jwk, "crv": "P-256"})
    public = signing.load_public(jwk)
    signature = signing.sign(private, b"data")
    assert signing.verify(public, b"data", signature)
    # r or s out of [1, n-1], or not 64 bytes: refused without an exception.
    n = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
    for bad in (bytes(64), signature[:32] + n.to_bytes(32, "big"), signature + b"\x00", b""):
        assert not signing.verify(public, b"data", bad)


def test_sm3_of_the_standard() -> None:
    assert sm3(b"abc") == h("66c7f0f4 62eeedd9 d1f2d46b dc10e4e2 4167c487 5cf2f7a2 297da02b 8f4ba8e0")
    assert sm3(b"abcd" * 16) == h("debe9ff9 2275b8a1 38604889 c18e5a4d 6fdb70e5 387e5765 293dcba3 9c0c5732")
    key = bytes(range(32))
    # HMAC-SM3 is RFC 2104 over SM3 (block 64 bytes): computed here from SM3 itself.
    inner = sm3(bytes(b ^ 0x36 for b in key.ljust(64, b"\x00")) + b"record")
    assert hmac_sm3(key, b"record") == sm3(bytes(b ^ 0x5C for b in key.ljust(64, b"\x00")) + inner)
    assert HmacSm3().digest(key, b"record") == hmac_sm3(key, b"record").hex()


def test_sm4_of_the_standard_and_sm4_gcm_of_rfc_8998() -> None:
    key = h("01 23 45 67 89 ab cd ef fe dc ba 98 76 54 32 10")
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    assert encryptor.update(key) + encryptor.finalize() == h("68 1e df 34 d2 06 96 5e 86 b3 e9 4f 53 6e 42 46")
    gcm_key, iv = h("0123456789ABCDEFFEDCBA9876543210"), h("00001234567800000000ABCD")
    aad = h("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
    plain = h("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
              "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA")
    sealed = h("17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
               "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
               "83DE3541E4C2B58177E065A9BF7B62EC")
    assert sm4_gcm_encrypt(gcm_key, iv, plain, aad) == sealed
    assert sm4_gcm_decrypt(gcm_key, iv, sealed, aad) == plain
    with pytest.raises(ValueError):
        sm4_gcm_decrypt(gcm_key, iv, sealed[:-1] + b"\x00", aad)


def test_sm4_key_wrapping() -> None:
    from opendata.extensions.crypto import UnwrapError

    wrapping, kek = Sm4Gcm(), bytes(range(32))
    wrapped = wrapping.wrap(kek, b"-----private-----", b"kid-1")
    assert wrapped.startswith("kek-sm4gcm:v1:") and "private" not in wrapped
    assert wrapping.unwrap(kek, wrapped, b"kid-1") == b"-----private-----"
    for kek_, context, reason in ((bytes(32), b"kid-1", "wrong_kek"), (kek, b"kid-2", "altered")):
        with pytest.raises(UnwrapError) as caught:
            wrapping.unwrap(kek_, wrapped, context)
        assert caught.value.reason == reason


def test_the_suite_is_a_crypto_suite_and_a_wrong_selection_is_one_line(tmp_path) -> None:  # noqa: ANN001
    from click.testing import CliRunner

    from opendata import create_app
    from opendata.cli import main
    from opendata.extensions import RegistrationError, Registry, load_plugins
    from opendata.extensions.crypto import AuditHashing, CryptoSuite, KeyWrapping, TokenSigning, UnknownSuite
    from opendata.settings import Settings
    from opendata_gmcrypto import SUITE

    assert isinstance(SUITE, CryptoSuite) and isinstance(SUITE.signing, TokenSigning)
    assert isinstance(SUITE.audit, AuditHashing) and isinstance(SUITE.wrapping, KeyWrapping)
    assert load_plugins(["gmcrypto"]).crypto_suites == {"gmcrypto": SUITE}
    with pytest.raises(RegistrationError):
        Registry().add_crypto_suite("gmcrypto", object())
    # Selected but not enabled: start-up stops, naming the suite and what to do.
    with pytest.raises(UnknownSuite, match="crypto_suite 'gmcrypto' is not provided.*OPENDATA_PLUGINS"):
        create_app(Settings(data_dir=tmp_path, crypto_suite="gmcrypto"))
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "serve", "--port", "1"],
                                env={"OPENDATA_CRYPTO_SUITE": "sm9", "OPENDATA_PLUGINS": "gmcrypto"})
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1 and "crypto_suite 'sm9'" in lines[0]
