"""``citevault receipt`` and ``citevault key``: signed, timestamped proof of a claim's evidence.

Thin click layers over :meth:`archive.api.Archive.receipt`, :meth:`~archive.api.Archive.receipts`,
:meth:`~archive.api.Archive.verify_receipt` and :meth:`~archive.api.Archive.key`; README
"Proving the evidence", docs/receipts.md.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from archive.cli.options import binary_stdout, json_option, open_archive, print_json

if TYPE_CHECKING:
    from archive.api import Archive


def _is_zip(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) == b"PK\x03\x04"
    except OSError:
        return False


@click.command()
@click.argument("claim_id", required=False)
@click.option("-o", "--output", type=click.Path(path_type=Path), metavar="PATH",
              help="Write the receipt to FILE (`-` for stdout); with --document, a directory.")
@click.option("--document", "document_id", metavar="DOC_ID", help="One receipt per sourced claim of DOC_ID.")
@click.option("--tsa", multiple=True, metavar="URL",
              help="RFC 3161 Time-Stamp Authority to stamp the signature (repeat for several). "
                   "Default: CITEVAULT_TSA (URLs separated by spaces or commas); none: no trusted time.")
@click.option("--verify", "verify_file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Check a receipt offline instead: signature, signer, timestamps, WARC records; or a signed "
                   "WACZ: its files, its signature and timestamp.")
@click.option("--tsa-cert", multiple=True, type=click.Path(dir_okay=False, exists=True), metavar="FILE",
              help="PEM certificate(s) of the TSA's CA. Writing: carried with each stamp (default "
                   "CITEVAULT_TSA_CERT). With --verify: the anchors to trust instead of those the receipt carries.")
@click.option("--home", "home", metavar="DIR",
              help="Data home whose key signed the receipt and whose WARC files back it (default: the "
                   "global --home / CITEVAULT_HOME).")
@json_option
@click.pass_context
def receipt(ctx: click.Context, claim_id: str | None, output: Path | None, document_id: str | None,
            tsa: tuple[str, ...], verify_file: Path | None, tsa_cert: tuple[str, ...], home: str | None,
            as_json: bool) -> None:
    """Write a signed, timestamped receipt of a claim's evidence, or check one (or a signed WACZ).

    A receipt holds the claim and its document, the quotation with its W3C selector and verdict, and for
    each source the WARC record that backs it (record id, date, digests, file and offset), as RFC 8785
    JSON signed with the data home's Ed25519 key. The home keeps a copy in receipts/.

    \b
    citevault receipt 3e90d2b332ad3b46.4 -o claim4.receipt.json --tsa https://freetsa.org/tsr
    citevault receipt --document 3e90d2b332ad3b46 -o receipts/
    citevault receipt --verify claim4.receipt.json --home citevault-data --tsa-cert tsa.pem
    citevault receipt --verify evidence.wacz
    """
    chosen = [x for x in (claim_id, document_id, verify_file) if x is not None]
    if len(chosen) != 1:
        raise click.UsageError("give one of CLAIM_ID, --document DOC_ID or --verify FILE")
    archive = open_archive(ctx, home=home)
    if verify_file is not None:
        given = bool(home or ctx.obj["home"])
        if _is_zip(verify_file):  # a signed WACZ package
            checks = archive.verify_wacz(verify_file, tsa_certs=tsa_cert, home_given=given)
            payload: object = {"wacz": str(verify_file), "checks": [c.as_json() for c in checks]}
        else:
            result = archive.verify_receipt(verify_file, home_given=given, tsa_certs=tsa_cert)
            checks, payload = result.checks, result.as_json()
        if as_json:
            print_json(payload)
        else:
            for check in checks:
                click.echo(check.line())
        failed = [c.name for c in checks if c.status == "FAIL"]
        if failed:
            raise click.ClickException(f"{verify_file} failed: " + "; ".join(failed))
        return
    if document_id is not None:
        _document(archive, document_id, output, tsa, tsa_cert, as_json)
        return
    assert claim_id is not None
    issued = archive.receipt(claim_id, tsa=tsa, tsa_certs=tsa_cert)
    for problem in issued.problems:
        click.echo(f"citevault: {problem}", err=True)
    if output is not None and str(output) == "-":
        out = binary_stdout()
        out.write(issued.data + b"\n")
        out.flush()
        return
    target = output or issued.path
    if output is not None:
        output.write_bytes(issued.data + b"\n")
    if as_json:
        print_json({"claim_id": claim_id, "path": str(target), "trusted_time": issued.receipt["trusted_time"]})
    else:
        time = "timestamped" if issued.receipt["trusted_time"] else "no trusted time (no TSA)"
        click.echo(f"citevault: wrote {target} (signed, {time})", err=True)


def _document(archive: Archive, document_id: str, output: Path | None, tsa: tuple[str, ...],
              tsa_cert: tuple[str, ...], as_json: bool) -> None:
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
    written = []
    for issued in archive.receipts(document_id, tsa=tsa, tsa_certs=tsa_cert):
        for problem in issued.problems:
            click.echo(f"citevault: {issued.claim_id}: {problem}", err=True)
        target = issued.path
        if output is not None:
            target = output / issued.path.name
            target.write_bytes(issued.data + b"\n")
        written.append({"claim_id": issued.claim_id, "path": str(target),
                        "trusted_time": issued.receipt["trusted_time"]})
        if not as_json:
            click.echo(f"{issued.claim_id}  {target}")
    if as_json:
        print_json(written)
    else:
        click.echo(f"citevault: wrote {len(written)} receipts", err=True)


@click.command()
@json_option
@click.pass_context
def key(ctx: click.Context, as_json: bool) -> None:
    """Print the data home's public keys (made on first use, kept owner-only in keys/).

    The Ed25519 key signs receipts; the ECDSA P-384 key signs WACZ packages (the WACZ auth spec's
    anonymous mode). Publish them where readers of your receipts can find them.

    \b
    citevault key
    """
    keys = open_archive(ctx).key()
    if as_json:
        print_json(keys)
        return
    click.echo(f"receipts  Ed25519  {keys['receipts']}  ({keys['receipts_key_id']})")
    click.echo(f"wacz      ECDSA P-384 (SPKI)  {keys['wacz']}")
