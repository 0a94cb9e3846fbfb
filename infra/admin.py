"""Admin commands run by the city's administrator.

    python -m infra.admin import-subscribers FILE.csv [--dry-run] [--mapping mapping.json] [--aws]

Exit status 0 when done, 1 when some welcome SMS could not be sent (run it again), 2 for a file
that cannot be imported.

Without --aws the command works on the running local stack (its state file, `.local/stack.json`
or $LOCAL_STATE_FILE, as `python -m infra.local token` does). With --aws it uses the environment
as it is: AWS credentials, AWS_DEFAULT_REGION, RESOURCE_PREFIX and, if the topics are not
`arn:aws:sns:<region>:<account>:<prefix>-alerts-*`, TOPIC_ARN_PREFIX and AWS_ACCOUNT_ID.
"""
from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any


def local_env(state_file: Path) -> dict[str, str]:
    """The environment the local stack's API runs with (from its state file)."""
    if not state_file.exists():
        raise SystemExit(f"{state_file} not found: start the local stack (make run) or use --aws")
    state = json.loads(state_file.read_text())
    return {k: str(v) for k, v in state.items() if isinstance(v, str)}


def load_mapping(path: str | None) -> dict[str, str] | None:
    """A JSON object {legacy name: category id}, or {"categories": {...}} like the data file."""
    if not path:
        return None
    data: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    if isinstance(data, dict) and isinstance(data.get("categories"), dict):
        data = data["categories"]
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise SystemExit(f"{path}: expected a JSON object of legacy name → category id")
    return {str(k): v for k, v in data.items()}


def import_subscribers(args: argparse.Namespace) -> int:
    if not args.aws:
        from infra.local import STATE

        os.environ.update(local_env(STATE))
    elif not os.environ.get("RESOURCE_PREFIX"):
        raise SystemExit("--aws needs RESOURCE_PREFIX (and AWS credentials) in the environment")
    from chalicelib.errors import Invalid
    from chalicelib.services import importer

    text = importer.decode_csv(Path(args.file).read_bytes())
    try:
        report = importer.import_csv(text, dry_run=args.dry_run,
                                     actor=f"cli:{getpass.getuser()}",
                                     extra_mapping=load_mapping(args.mapping))
    except Invalid as exc:
        print(f"error: {exc.message} {exc.fields}", file=sys.stderr)
        return 2
    for line in report["lines"]:
        print(line)
    verb = "would be" if args.dry_run else "were"
    print(f"{report['rows']} rows: {report['added']} {verb} added, {report['updated']} {verb} "
          f"updated, {report['unchanged']} unchanged, {report['skipped']} skipped; "
          f"{report['welcome_sent']} welcome SMS sent" + (" (dry run: nothing written)"
                                                           if args.dry_run else ""))
    if report.get("welcome_failed"):
        print(f"{report['welcome_failed']} welcome SMS not sent: run the same command again "
              "to send them (nobody gets a second one)", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.admin")
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import-subscribers", help="import the previous SMS system's people")
    imp.add_argument("file", help="CSV export (telefon;kategorie;osiedla;jezyk)")
    imp.add_argument("--dry-run", action="store_true", help="show what would happen; write nothing")
    imp.add_argument("--mapping", help="JSON file: extra legacy category names → category ids")
    imp.add_argument("--aws", action="store_true",
                     help="use the AWS environment instead of the local stack")
    args = parser.parse_args(argv)
    if args.command == "import-subscribers":
        return import_subscribers(args)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
