"""A private certificate authority and a server certificate for 127.0.0.1, made at test time.

Nothing is checked in: a committed key would be a key anyone can use, and a
committed certificate expires. The CA is deliberately absent from every system
bundle, so a client that trusts it must have been told to (``ca_path``).

The certificates carry the extensions strict verifiers (OpenSSL's
``X509_V_FLAG_X509_STRICT``, the default for Python 3.13's
``ssl.create_default_context``) insist on: critical basic constraints and key
usage, subject and authority key identifiers, and the server's names only in
subjectAltName.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class TestPki:
    """Paths of the PEM files: the CA certificate (what ``ca_path`` names), the server's chain and key."""

    __test__ = False  # a dataclass named Test* is not a pytest test class

    ca_cert: Path
    server_cert: Path
    server_key: Path

    def server_context(self) -> ssl.SSLContext:
        """An ``ssl.SSLContext`` for a server presenting the certificate for 127.0.0.1 and localhost."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.server_cert, self.server_key)
        return context


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mediaops.streaming tests"), x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_usage(**allowed: bool) -> x509.KeyUsage:
    """A critical key usage: only the uses named in ``allowed`` (e.g. ``key_cert_sign=True``) are set."""
    uses = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement", "key_cert_sign", "crl_sign")
    return x509.KeyUsage(**{use: allowed.get(use, False) for use in uses}, encipher_only=False, decipher_only=False)


def _certificate(subject: x509.Name, issuer: x509.Name, public_key, valid: tuple[datetime.datetime, datetime.datetime], *, ca: bool, usage: x509.KeyUsage):
    """A certificate builder with what both certificates carry: names, key, serial, validity, basic constraints and key usage."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid[0])
        .not_valid_after(valid[1])
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(usage, critical=True)
    )


def make_pki(directory: Path, hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> TestPki:
    """Write a fresh CA and a server certificate for ``hosts`` (IP addresses or DNS names) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    # Backdated a little, so a clock a few seconds behind the test's does not see "not yet valid".
    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    valid = (now, now + datetime.timedelta(days=2))

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("mediaops.streaming test CA")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        _certificate(ca_name, ca_name, ca_key.public_key(), valid, ca=True, usage=_key_usage(key_cert_sign=True, crl_sign=True))
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    server_key = ec.generate_private_key(ec.SECP256R1())
    names = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    server_cert = (
        _certificate(_name(hosts[0]), ca_name, server_key.public_key(), valid, ca=False, usage=_key_usage(digital_signature=True))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    pki = TestPki(ca_cert=directory / "ca.pem", server_cert=directory / "server.pem", server_key=directory / "server-key.pem")
    pki.ca_cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    pki.server_cert.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    pki.server_key.write_bytes(
        server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )
    pki.server_key.chmod(0o600)
    return pki
