"""credit-gateway: keygen, submit, verify-receipts, read-score, verify-export.

Settings come from options or the environment: CREDIT_GATEWAY_URL, CREDIT_GATEWAY_API_KEY
(or CREDIT_GATEWAY_API_KEY_FILE), CREDIT_GATEWAY_SIGNING_KEY (a PEM file) and
CREDIT_GATEWAY_LOG_KEY (the audit log's verifier key).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from credit_gateway_client import verify_export
from credit_gateway_client.messages import language
from credit_gateway_client.proofs import LogKey, ProofError, WitnessKey
from credit_gateway_client.receipts import verify_receipts
from credit_gateway_client.signing import Signer, keygen, load_private_key
from credit_gateway_client.sources import SourceError
from credit_gateway_client.submit import submit_file
from credit_gateway_client.transport import Gateway, GatewayUnavailable


def _api_key(args) -> str | None:
    if args.api_key:
        return args.api_key
    if path := os.environ.get("CREDIT_GATEWAY_API_KEY_FILE"):
        return Path(path).read_text().strip()
    return os.environ.get("CREDIT_GATEWAY_API_KEY")


def _gateway(args, *, signed: bool = False) -> Gateway:
    signer = None
    key_path = getattr(args, "signing_key", None) or os.environ.get("CREDIT_GATEWAY_SIGNING_KEY")
    if signed and key_path and not getattr(args, "unsigned", False):
        signer = Signer(load_private_key(Path(key_path)))
    return Gateway(args.url, api_key=_api_key(args), signer=signer, lang=args.lang)


def _print_json(payload) -> None:
    print(json.dumps(payload, ensure_ascii=False, indent=2))


def cmd_keygen(args) -> int:
    public_key, key_id = keygen(args.out)
    print(f"Private key written to {args.out} (keep it; it never leaves this machine).")
    print("Give the gateway's operator this public key to register:")
    print(f"  python manage.py department_signing_key add DEPARTMENT_CODE {public_key}")
    print(f"public key: {public_key}")
    print(f"key id:     {key_id}")
    return 0


def cmd_submit(args) -> int:
    gateway = _gateway(args, signed=True)
    if gateway.signer is None and not args.unsigned:
        print("submit: give --signing-key (or --unsigned)", file=sys.stderr)
        return 2
    progress = sys.stderr if (args.progress or sys.stderr.isatty()) else None
    try:
        summary = submit_file(
            args.file,
            gateway,
            mapping_path=args.mapping,
            results_path=args.results,
            skip_invalid=args.skip_invalid,
            lang=args.lang,
            progress=progress,
        )
    except SourceError as error:
        print(f"submit: {error}", file=sys.stderr)
        return 2
    except GatewayUnavailable as error:
        print(f"submit: {error}; run the same command again to resume", file=sys.stderr)
        return 3
    finally:
        gateway.close()
    for problem in summary.problems:
        print(f"row {problem['row']}: {problem['path'] or '/'} {problem['message']}")
    if summary.invalid_rows and not args.skip_invalid:
        print(f"{summary.invalid_rows} of {summary.rows} rows are invalid; nothing was sent "
              "(fix them, or send the valid ones with --skip-invalid)")  # fmt: skip
        return 1
    print(
        f"{summary.accepted} records accepted, {summary.refused} refused, "
        f"{summary.invalid_rows} invalid rows not sent; {summary.sent_batches} batches sent, "
        f"{summary.skipped_batches} already done. Results: "
        f"{args.results or str(args.file) + '.results.jsonl'}"
    )
    return 0 if summary.ok else 1


def cmd_verify_receipts(args) -> int:
    try:
        log_key = LogKey.parse(args.log_key or "")
        witnesses = tuple(WitnessKey.parse(text) for text in args.witness_key)
    except ProofError as error:
        print(f"verify-receipts: --log-key/--witness-key: {error}", file=sys.stderr)
        return 2
    gateway = _gateway(args)
    try:
        report = verify_receipts(args.file, gateway, log_key, witnesses)
    except GatewayUnavailable as error:
        print(f"verify-receipts: {error}", file=sys.stderr)
        return 3
    finally:
        gateway.close()
    for failure in report.failures:
        print(f"FAIL {failure}")
    counts = report.counts
    print(
        f"{counts['verified']} receipts verified, {counts['pending']} pending, "
        f"{counts['unknown']} unknown to the log, {counts['failed']} failed"
    )
    return report.exit_code


def cmd_read_score(args) -> int:
    citizen_id = args.citizen_id or getpass.getpass("identity number: ")
    gateway = _gateway(args)
    try:
        # In the body, never in a URL, so the number stays out of access logs.
        body = json.dumps({"citizen_id": citizen_id, "purpose": args.purpose}).encode()
        answer = gateway.request("POST", "/api/v1/score-queries", body)
    except GatewayUnavailable as error:
        print(f"read-score: {error}", file=sys.stderr)
        return 3
    finally:
        gateway.close()
    _print_json(answer.payload)
    return 0 if answer.status == 200 else 1


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="credit-gateway", description=__doc__.split("\n")[0])
    top.add_argument("--url", default=os.environ.get("CREDIT_GATEWAY_URL", "http://127.0.0.1:8000"))
    top.add_argument("--api-key", help="default: $CREDIT_GATEWAY_API_KEY")
    top.add_argument("--lang", default=language(), type=language, help="zh or en")
    commands = top.add_subparsers(dest="command", required=True)

    make = commands.add_parser("keygen", help="make an Ed25519 key pair")
    make.add_argument("--out", type=Path, default=Path("signing-key.pem"))
    make.set_defaults(run=cmd_keygen)

    send = commands.add_parser("submit", help="send a CSV, JSON Lines or Excel file")
    send.add_argument("file", type=Path)
    send.add_argument("--mapping", type=Path, help="column mapping (JSON)")
    send.add_argument("--results", type=Path, help="default: FILE.results.jsonl")
    send.add_argument("--signing-key", type=Path, help="default: $CREDIT_GATEWAY_SIGNING_KEY")
    send.add_argument("--unsigned", action="store_true", help="send without signing")
    send.add_argument(
        "--skip-invalid", action="store_true", help="send the valid rows, report the rest"
    )
    send.add_argument("--progress", action="store_true", help="show progress when not a tty")
    send.set_defaults(run=cmd_submit)

    receipts = commands.add_parser("verify-receipts", help="prove every receipt is in the log")
    receipts.add_argument("file", type=Path, help="a results file of submit")
    receipts.add_argument("--log-key", default=os.environ.get("CREDIT_GATEWAY_LOG_KEY"))
    receipts.add_argument(
        "--witness-key",
        action="append",
        default=[],
        help="a witness's verifier key (type 0x04) whose cosignature is required; repeatable",
    )
    receipts.set_defaults(run=cmd_verify_receipts)

    score = commands.add_parser("read-score", help="read a score for a granted purpose")
    score.add_argument("--purpose", required=True)
    score.add_argument("--citizen-id", help="asked for when not given (keeps it out of history)")
    score.set_defaults(run=cmd_read_score)

    export = commands.add_parser("verify-export", help="check every signature in an export")
    export.add_argument("rest", nargs=argparse.REMAINDER)
    export.set_defaults(run=lambda args: verify_export.main(args.rest))
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
