"""Webhook signatures: what the CMS signs verifies, anything else is refused with the reason."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from publisher.engine.storage.schema import webhook_signatures
from publisher.web.signing import Replayed, SignatureError, canonical, sign, spend, verify

SECRET = "whsec-test-3f9a"
NOW = 1_764_000_000


@given(body=st.binary(max_size=2000), skew=st.integers(-300, 300))
def test_a_signed_body_verifies_within_the_window(body: bytes, skew: int) -> None:
    assert verify(SECRET, str(NOW + skew), sign(SECRET, NOW + skew, body), body, now=NOW) == (
        NOW + skew
    )


@given(body=st.binary(min_size=1, max_size=500), index=st.integers(0, 499))
def test_any_changed_byte_breaks_the_signature(body: bytes, index: int) -> None:
    position = index % len(body)
    changed = body[:position] + bytes([body[position] ^ 1]) + body[position + 1 :]
    with pytest.raises(SignatureError, match="does not match"):
        verify(SECRET, str(NOW), sign(SECRET, NOW, body), changed, now=NOW)


@given(skew=st.integers(301, 10**7), sign_of=st.sampled_from([-1, 1]))
def test_timestamps_outside_five_minutes_are_replays(skew: int, sign_of: int) -> None:
    sent = NOW + sign_of * skew
    with pytest.raises(SignatureError, match="window"):
        verify(SECRET, str(sent), sign(SECRET, sent, b"{}"), b"{}", now=NOW)


def test_the_timestamp_is_part_of_what_is_signed() -> None:
    with pytest.raises(SignatureError, match="does not match"):
        verify(SECRET, str(NOW + 1), sign(SECRET, NOW, b"{}"), b"{}", now=NOW)


def test_another_secret_does_not_verify() -> None:
    with pytest.raises(SignatureError, match="does not match"):
        verify(SECRET, str(NOW), sign("other", NOW, b"{}"), b"{}", now=NOW)


@pytest.mark.parametrize(
    ("timestamp", "signature", "reason"),
    [(None, "sha256=00", "unsigned"), (str(NOW), None, "unsigned"), ("soon", "x", "unix")],
)
def test_missing_or_malformed_headers_are_refused(timestamp, signature, reason) -> None:
    with pytest.raises(SignatureError, match=reason):
        verify(SECRET, timestamp, signature, b"{}", now=NOW)


@pytest.mark.skipif(not shutil.which("openssl"), reason="needs the openssl command")
def test_signature_matches_the_readmes_openssl_recipe() -> None:
    body = '{"url": "https://e.de/a", "headline": "Schlagzeile"}'
    digest = (
        subprocess.run(
            ["openssl", "dgst", "-sha256", "-hmac", SECRET],
            input=f"{NOW}.{body}",
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.split("= ")[-1]
        .strip()
    )
    assert sign(SECRET, NOW, body.encode()) == f"sha256={digest}"


def test_the_same_signature_twice_is_a_replay(engine) -> None:
    at = datetime.fromtimestamp(NOW, UTC)
    with engine.begin() as connection:
        spend(connection, "sha256=" + "ab" * 32, 300, at)
    with pytest.raises(Replayed), engine.begin() as connection:
        spend(connection, "sha256=" + "ab" * 32, 300, at + timedelta(seconds=10))


def test_a_signature_is_forgotten_once_its_timestamp_is_refused_anyway(engine) -> None:
    at = datetime.fromtimestamp(NOW, UTC)
    with engine.begin() as connection:
        spend(connection, "sha256=" + "ab" * 32, 300, at)
    with engine.begin() as connection:
        spend(connection, "sha256=" + "cd" * 32, 300, at + timedelta(seconds=601))
    with engine.begin() as connection:
        spend(connection, "sha256=" + "ab" * 32, 300, at + timedelta(seconds=602))
    with engine.connect() as connection:
        kept = connection.execute(
            select(webhook_signatures.c.signature).order_by(webhook_signatures.c.signature)
        ).scalars()
        # The old "ab" was forgotten, so the one at 602 s was taken as new.
        assert list(kept) == ["sha256=" + "ab" * 32, "sha256=" + "cd" * 32]


@pytest.mark.parametrize("spelled", ["sha256=" + "ab" * 32 + "\xa0", "SHA256=" + "ab" * 32, ""])
def test_a_signature_spelled_otherwise_is_refused_before_it_is_checked(spelled: str) -> None:
    with pytest.raises(SignatureError, match="64 hex digits"):
        canonical(spelled)


def test_a_signature_in_capitals_is_spent_as_the_same_signature(engine) -> None:
    at = datetime.fromtimestamp(NOW, UTC)
    with engine.begin() as connection:
        spend(connection, "sha256=" + "ab" * 32, 300, at)
    with pytest.raises(Replayed), engine.begin() as connection:
        spend(connection, "sha256=" + "AB" * 32, 300, at + timedelta(seconds=10))
