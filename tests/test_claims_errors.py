"""Bad input raises InputError with a one-line message, and nothing else ever escapes extract()."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.claims import ExtractedClaim, extract
from archive.errors import InputError

KINDS = ["html", "markdown", "text", "json", "jsonl", "csv"]


def read_all(data: bytes, kind: str, **kwargs: str) -> list[ExtractedClaim]:
    return list(extract(data, kind=kind, **kwargs).claims)


def error_for(data: bytes, kind: str, **kwargs: str) -> str:
    with pytest.raises(InputError) as info:
        read_all(data, kind, **kwargs)
    message = str(info.value)
    assert "\n" not in message and message.strip() == message and message
    return message


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("data", [b"", b"   \n\t \r\n"])
def test_empty_input_is_an_input_error(kind: str, data: bytes) -> None:
    assert "is empty" in error_for(data, kind)


@pytest.mark.parametrize("kind", ["html", "markdown", "text"])
def test_binary_input_is_not_text(kind: str) -> None:
    png_like = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)) * 4
    assert "not text" in error_for(png_like, kind)


@pytest.mark.parametrize("kind", ["html", "markdown", "text"])
def test_nul_bytes_are_binary_even_when_the_rest_is_ascii(kind: str) -> None:
    assert "not text" in error_for(b"Hello there, this is text.\x00\x00 More text here.", kind)


def test_malformed_jsonl_names_the_line() -> None:
    data = b'{"text": "One claim here."}\n\n{"text": "Two", \n'
    assert error_for(data, "jsonl").startswith("line 3: malformed JSON")


def test_jsonl_row_of_the_wrong_shape_names_the_line() -> None:
    assert error_for(b'{"text": "Fine claim."}\n["a list"]\n', "jsonl") == (
        "line 2: expected an object with a claim's text ('text', 'claim', 'statement', 'claimReviewed'), got a list"
    )
    assert "line 1: 'text' must be a string" in error_for(b'{"text": 3}\n', "jsonl")
    assert "line 1: 'text' is empty" in error_for(b'{"text": "   "}\n', "jsonl")


def test_malformed_json_says_where() -> None:
    message = error_for(b'[\n  {"text": "One claim."},\n  {"text": oops}\n]', "json")
    assert message.startswith("malformed JSON at line 3")


@pytest.mark.parametrize(
    "data, expected",
    [
        (b'"just a string"', "expected a list of claims or an object with a 'claims' list"),
        (b'{"title": "No claims here"}', "no 'claims' list"),
        (b'{"claims": {"text": "not a list"}}', "'claims' must be a list"),
        (b'[1, 2]', "claim 1: expected an object"),
        (b'{"claims": [{"text": "ok claim"}, {"quote": "no text"}]}',
         "claim 2: no claim text (found 'quote'; expected one of 'text', 'claim', 'statement', 'claimReviewed')"),
        (b'{"title": 5, "claims": []}', "'title' must be a string"),
    ],
)
def test_json_of_the_wrong_shape(data: bytes, expected: str) -> None:
    assert expected in error_for(data, "json")


def test_invalid_source_url_in_a_list_names_the_row() -> None:
    rows = [{"text": f"Claim number {i}.", "source": f"https://example.org/{i}"} for i in range(6)]
    rows.append({"text": "Claim seven.", "source": "ftp://x"})
    data = "\n".join(json.dumps(row) for row in rows).encode()
    assert error_for(data, "jsonl") == "line 7: source 'ftp://x' is not an http(s) URL"
    csv_data = b"text,sources\nFirst claim here.,https://example.org/a\nSecond claim.,https://example.org/b javascript:alert(1)\n"
    assert error_for(csv_data, "csv") == "line 3: source 'javascript:alert(1)' is not an http(s) URL"


def test_csv_without_a_text_column() -> None:
    message = error_for(b"headline,source\nRain fell.,https://example.org/\n", "csv")
    assert "no claim-text column" in message and "'headline'" in message and "'claimReviewed'" in message


@pytest.mark.parametrize(
    "data, expected",
    [
        (b'text,source\n"unterminated quote, https://example.org/\n', "malformed CSV"),
        (b'text,source\n"a"b,https://example.org/\n', "line 2: malformed CSV"),
        (b"text,source\nA claim here.,https://example.org/,extra\n", "line 2: 3 fields but the header names 2"),
        (b"text\nA claim\x00 with a NUL.\n", "not text"),
    ],
)
def test_malformed_csv(data: bytes, expected: str) -> None:
    assert expected in error_for(data, "csv")


def test_errors_in_later_rows_surface_while_iterating() -> None:
    # Rows repeating a claim are merged, so reading looks one row ahead of the claim it yields.
    doc = extract(b'{"text": "First claim."}\n{"text": "Second claim."}\n{"text": "Third."}\nnot json\n',
                  kind="jsonl")
    assert next(doc.claims).text == "First claim."
    assert next(doc.claims).text == "Second claim."
    with pytest.raises(InputError, match="^line 4: malformed JSON"):
        next(doc.claims)


# --- property: nothing but InputError escapes -------------------------------------------------------

_html_text = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "<p>", "</p>", "<a href='", "'>", "</a>", "<sup><a href='#fn1'>1</a></sup>", "<li id='fn1'>",
                "<nav>", "</nav>", "<base href='", "<meta charset='", "<!--", "-->", "<script>", "<?xml ?>",
                "https://example.org/a).", "#", "javascript:", "\x00", "\ufeff", "[^1]", "[^1]: ", "[t](", ")",
                "[r]: ", "\n\n", "\"Stop. Now.\"", "“", "”", "U.S.", "Dr.", "<article>", "<h1>", "<br>", "http://[",
                "<a href='#fn1'>", "<div id='fn1'>", "```", "---\ntitle: x\n---\n", "<link rel='canonical' href='",
            ]
        ),
        st.text(max_size=20),
    ),
    max_size=40,
).map("".join)


def _consume_or_input_error(data: bytes, kind: str, **kwargs: str | None) -> None:
    try:
        doc = extract(data, kind=kind, **kwargs)  # type: ignore[arg-type]
        for claim in doc.claims:
            assert isinstance(claim, ExtractedClaim)
            assert claim.text and claim.text == " ".join(claim.text.split())
            for source in claim.sources:
                assert source.url.startswith(("http://", "https://")) and "#" not in source.url
    except InputError:
        pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=400), kind=st.sampled_from(KINDS))
def test_random_bytes_raise_only_input_error(data: bytes, kind: str) -> None:
    _consume_or_input_error(data, kind)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=_html_text,
    kind=st.sampled_from(KINDS),
    url=st.sampled_from([None, "https://example.org/a/b.html", "http://[bad"]),
    charset=st.sampled_from([None, "utf-8", "latin-1", "no-such-charset", "utf-16"]),
)
def test_random_markup_raises_only_input_error(text: str, kind: str, url: str | None, charset: str | None) -> None:
    _consume_or_input_error(text.encode("utf-8", "surrogatepass"), kind, url=url, charset=charset)


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(
        st.dictionaries(
            st.sampled_from(["text", "quote", "sources", "source", "url", "anchor"]),
            st.one_of(
                st.text(max_size=15),
                st.none(),
                st.integers(),
                st.lists(st.one_of(st.text(max_size=10), st.just("https://example.org/x"), st.dictionaries(st.just("url"), st.text(max_size=5))), max_size=3),
            ),
            max_size=5,
        ),
        max_size=5,
    ),
    wrap=st.booleans(),
)
def test_random_claim_lists_raise_only_input_error(rows: list[dict[str, object]], wrap: bool) -> None:
    _consume_or_input_error(json.dumps({"claims": rows} if wrap else rows).encode(), "json")
    _consume_or_input_error("\n".join(json.dumps(row) for row in rows).encode(), "jsonl")
