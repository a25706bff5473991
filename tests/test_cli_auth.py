"""`hub agency|client|keys|external` and `hub demo-clients` on a temp SQLite file."""

import json
import re
import sqlite3
from pathlib import Path

import pytest
from typer.testing import Result

from auth.secrets import verify_secret
from seeds.builders import credit_code
from tests.helpers import hub


def assert_refused(result: Result, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0], lines[0]


def field(result: Result, name: str) -> str:
    match = re.search(rf"^{name}: (.+)$", result.stdout, re.MULTILINE)
    assert match, result.stdout
    return match[1]


class TestAgency:
    def test_add_and_list(self, cli: Path) -> None:
        added = hub("agency", "add", "江苏银行无锡分行", "--kind", "commercial_bank")
        county = hub(
            "agency", "add", "锡山分局", "--kind", "COUNTY_EPB", "--district", "320205"
        )
        listed = hub("agency", "list")

        assert added.exit_code == 0, added.output
        assert county.exit_code == 0, county.output
        assert "江苏银行无锡分行" in listed.stdout
        assert "320205" in listed.stdout

    def test_county_without_district(self, cli: Path) -> None:
        result = hub("agency", "add", "锡山分局", "--kind", "COUNTY_EPB")

        assert_refused(result, "a COUNTY_EPB agency needs --district")

    def test_unknown_district(self, cli: Path) -> None:
        result = hub(
            "agency", "add", "某分局", "--kind", "COUNTY_EPB", "--district", "999999"
        )

        assert_refused(result, "unknown district '999999'")

    def test_abolished_district(self, cli: Path) -> None:
        result = hub(
            "agency", "add", "崇安分局", "--kind", "COUNTY_EPB", "--district", "320202"
        )

        assert_refused(result, "was abolished; use 320213")

    def test_enterprise_needs_a_valid_code(self, cli: Path) -> None:
        missing = hub("agency", "add", "某公司", "--kind", "ENTERPRISE")
        invalid = hub(
            "agency",
            "add",
            "某公司",
            "--kind",
            "ENTERPRISE",
            "--enterprise-code",
            "91320205MA1XXXXXX0",
        )

        assert_refused(missing, "needs --enterprise-code")
        assert_refused(invalid, "invalid credit code")

    def test_enterprise(self, cli: Path) -> None:
        code = credit_code(7)

        result = hub(
            "agency", "add", "某公司", "--kind", "ENTERPRISE", "--enterprise-code", code
        )

        assert result.exit_code == 0, result.output
        assert code in hub("agency", "list").stdout

    def test_insurer_with_its_credit_code(self, cli: Path) -> None:
        code = credit_code(8)

        result = hub(
            "agency", "add", "人保财险无锡", "--kind", "INSURER", "--credit-code", code
        )

        assert result.exit_code == 0, result.output
        assert code in hub("agency", "list").stdout

    def test_a_bank_carries_no_credit_code(self, cli: Path) -> None:
        result = hub(
            "agency",
            "add",
            "某银行",
            "--kind",
            "COMMERCIAL_BANK",
            "--credit-code",
            credit_code(9),
        )

        assert_refused(
            result, "only ENTERPRISE and INSURER agencies carry a credit code"
        )

    def test_duplicate_name(self, cli: Path) -> None:
        hub("agency", "add", "无锡市信用办", "--kind", "CREDIT_OFFICE")

        result = hub("agency", "add", "无锡市信用办", "--kind", "CREDIT_OFFICE")

        assert_refused(result, "already exists")

    def test_unmigrated_database(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv(
            "HUB_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
        )

        result = hub("agency", "list")

        assert_refused(result, "run `hub db upgrade`")


class TestClient:
    def test_add_prints_the_secret_once(self, cli: Path) -> None:
        # given
        hub("agency", "add", "江苏银行无锡分行", "--kind", "COMMERCIAL_BANK")

        # when
        added = hub("client", "add", "--agency", "江苏银行无锡分行")

        # then
        assert added.exit_code == 0, added.output
        client_id, secret = field(added, "client_id"), field(added, "client_secret")
        assert len(secret) == 43
        assert client_id.isalnum()
        assert "Store the secret now" in added.stderr
        assert field(added, "scopes") == (
            "credit:review insurance:read penalties:detail penalties:read ratings:history "
            "ratings:read risk:read watchlist:manage webhooks:manage"
        )
        listed = hub("client", "list")
        assert client_id in listed.stdout
        assert secret not in listed.stdout
        assert "scrypt" not in listed.stdout
        assert stored_hash_matches(cli, client_id, secret)

    def test_chosen_scopes(self, cli: Path) -> None:
        hub("agency", "add", "保险", "--kind", "INSURER")

        added = hub(
            "client", "add", "--agency", "保险", "--scopes", "risk:read ratings:read"
        )

        assert field(added, "scopes") == "ratings:read risk:read"

    def test_scope_not_allowed_for_the_kind(self, cli: Path) -> None:
        hub("agency", "add", "江苏银行无锡分行", "--kind", "COMMERCIAL_BANK")

        result = hub(
            "client",
            "add",
            "--agency",
            "江苏银行无锡分行",
            "--scopes",
            "ratings:read data:write",
        )

        assert_refused(result, "a COMMERCIAL_BANK agency may not hold: data:write")

    def test_unknown_scope(self, cli: Path) -> None:
        hub("agency", "add", "江苏银行无锡分行", "--kind", "COMMERCIAL_BANK")

        result = hub(
            "client", "add", "--agency", "江苏银行无锡分行", "--scopes", "root"
        )

        assert_refused(result, "unknown scope(s): root")

    def test_unknown_agency(self, cli: Path) -> None:
        result = hub("client", "add", "--agency", "Nobody")

        assert_refused(result, "no agency named 'Nobody'")

    def test_jwks_client_has_no_secret(self, cli: Path) -> None:
        hub("agency", "add", "银行", "--kind", "COMMERCIAL_BANK")
        jwks = cli / "bank-jwks.json"
        jwks.write_text(
            json.dumps(
                {
                    "keys": [
                        {
                            "kty": "EC",
                            "crv": "P-256",
                            "kid": "bank-1",
                            "x": "kY64nFz4N6rw5f9uZ8jVdWQfR9oX95oDLcBLtoclW6s",
                            "y": "5R5rDuC6aUkS9vUb8lWRPFH_J1MP4NFtToxpV3bZZqA",
                        }
                    ]
                }
            )
        )

        added = hub("client", "add", "--agency", "银行", "--jwks-file", str(jwks))

        assert added.exit_code == 0, added.output
        assert "client_secret" not in added.stdout
        assert "private_key_jwt" in added.stdout
        assert "private_key_jwt" in hub("client", "list").stdout

    def test_jwks_with_a_private_key(self, cli: Path) -> None:
        hub("agency", "add", "银行", "--kind", "COMMERCIAL_BANK")
        jwks = cli / "oops.json"
        jwks.write_text(
            json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "a"}]})
        )

        result = hub("client", "add", "--agency", "银行", "--jwks-file", str(jwks))

        assert_refused(result, "unusable JWKS")

    def test_disable(self, cli: Path) -> None:
        hub("agency", "add", "银行", "--kind", "COMMERCIAL_BANK")
        client_id = field(hub("client", "add", "--agency", "银行"), "client_id")

        disabled = hub("client", "disable", client_id)

        assert disabled.exit_code == 0, disabled.output
        assert "within 5 s" in disabled.stdout
        assert "disabled" in hub("client", "list").stdout

    def test_rotate_secret(self, cli: Path) -> None:
        hub("agency", "add", "银行", "--kind", "COMMERCIAL_BANK")
        added = hub("client", "add", "--agency", "银行")
        client_id, old = field(added, "client_id"), field(added, "client_secret")

        rotated = hub("client", "rotate-secret", client_id)

        new = field(rotated, "client_secret")
        assert new != old
        assert stored_hash_matches(cli, client_id, new)
        assert not stored_hash_matches(cli, client_id, old)

    def test_unknown_client(self, cli: Path) -> None:
        assert_refused(hub("client", "disable", "nope"), "no client 'nope'")
        assert_refused(hub("client", "rotate-secret", "nope"), "no client 'nope'")


class TestKeys:
    def test_rotate_and_list(self, cli: Path) -> None:
        first = hub("keys", "rotate")
        second = hub("keys", "rotate")
        listed = hub("keys", "list")

        assert first.exit_code == second.exit_code == 0
        kid = first.stdout.split()[-1]
        newer = second.stdout.split()[-1]
        assert kid in listed.stdout
        assert newer in listed.stdout
        assert "PRIVATE" not in first.stdout + second.stdout + listed.stdout
        files = sorted((cli / "keys").glob("key-*.pem"))
        assert [f.stat().st_mode & 0o777 for f in files] == [0o600, 0o600]


class TestExternal:
    def test_add(self, cli: Path) -> None:
        hub("agency", "add", "苏州银行", "--kind", "COMMERCIAL_BANK")

        result = hub(
            "external",
            "add",
            "--issuer",
            "https://idp.jiangsu.example",
            "--subject",
            "suzhou-bank",
            "--agency",
            "苏州银行",
            "--scopes",
            "ratings:read",
        )

        assert result.exit_code == 0, result.output
        assert "suzhou-bank" in result.stdout

    def test_scope_not_allowed(self, cli: Path) -> None:
        hub("agency", "add", "苏州银行", "--kind", "COMMERCIAL_BANK")

        result = hub(
            "external",
            "add",
            "--issuer",
            "https://idp.jiangsu.example",
            "--subject",
            "suzhou-bank",
            "--agency",
            "苏州银行",
            "--scopes",
            "ratings:publish",
        )

        assert_refused(result, "may not hold: ratings:publish")


class TestDemoClients:
    def test_creates_one_client_per_kind(self, cli: Path) -> None:
        result = hub("demo-clients", "--enterprise-code", credit_code(1))

        assert result.exit_code == 0, result.output
        path = cli / "var" / "demo-clients.json"
        assert path.stat().st_mode & 0o777 == 0o600
        written = json.loads(path.read_text())
        assert written["token_endpoint"] == "http://127.0.0.1:8000/oauth/token"
        kinds = [c["kind"] for c in written["clients"]]
        assert len(kinds) == 9 == len(set(kinds))
        for c in written["clients"]:
            assert c["client_id"] in result.stdout
            assert c["client_secret"] not in result.stdout
            assert stored_hash_matches(cli, c["client_id"], c["client_secret"])

    def test_without_any_enterprise(self, cli: Path) -> None:
        result = hub("demo-clients")

        written = json.loads((cli / "var" / "demo-clients.json").read_text())
        assert "ENTERPRISE" not in [c["kind"] for c in written["clients"]]
        assert "no enterprise to bind it to" in result.stderr

    def test_does_nothing_when_agencies_exist(self, cli: Path) -> None:
        hub("agency", "add", "银行", "--kind", "COMMERCIAL_BANK")

        result = hub("demo-clients")

        assert result.exit_code == 0
        assert "agencies exist already" in result.stderr
        assert not (cli / "var" / "demo-clients.json").exists()


def stored_hash_matches(cli: Path, client_id: str, secret: str) -> bool:
    """Read the stored hash straight from the database file."""
    with sqlite3.connect(cli / "hub.db") as conn:
        (stored,) = conn.execute(
            "SELECT secret_hash FROM oauth_client WHERE client_id = ?", (client_id,)
        ).fetchone()
    return verify_secret(secret, stored)
