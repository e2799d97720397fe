"""A throwaway CA with a server certificate for 127.0.0.1 and a client certificate, written as PEM files."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


def make_certificates(folder: Path) -> dict[str, Path]:
    """Files `ca`, `server_cert`, `server_key`, `client_cert`, `client_key` (and `other_ca`: a CA that signed
    nothing of ours) in `folder`."""
    now = datetime.datetime.now(datetime.UTC)
    files: dict[str, Path] = {}

    def certificate(subject: str, issuer: x509.Name, key: ec.EllipticCurvePrivateKey,
                    signer: ec.EllipticCurvePrivateKey, ca: bool, usage: list[x509.ObjectIdentifier],
                    san: x509.SubjectAlternativeName | None = None) -> x509.Certificate:  # fmt: skip
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(subject))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if usage:
            builder = builder.add_extension(x509.ExtendedKeyUsage(usage), critical=False)
        if san is not None:
            builder = builder.add_extension(san, critical=False)
        return builder.sign(signer, hashes.SHA256())

    def write(name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey | None = None) -> None:
        files[f"{name}_cert" if key else name] = folder / f"{name}.pem"
        (folder / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        if key is not None:
            files[f"{name}_key"] = folder / f"{name}.key"
            _write_key(key, folder / f"{name}.key")

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = certificate("test CA", _name("test CA"), ca_key, ca_key, True, [])
    write("ca", ca)
    other_key = ec.generate_private_key(ec.SECP256R1())
    write("other_ca", certificate("other CA", _name("other CA"), other_key, other_key, True, []))
    server_key = ec.generate_private_key(ec.SECP256R1())
    san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    write("server", certificate("127.0.0.1", ca.subject, server_key, ca_key, False,
                                [ExtendedKeyUsageOID.SERVER_AUTH], san), server_key)  # fmt: skip
    client_key = ec.generate_private_key(ec.SECP256R1())
    write("client", certificate("dify", ca.subject, client_key, ca_key, False, [ExtendedKeyUsageOID.CLIENT_AUTH]),
          client_key)  # fmt: skip
    return files
