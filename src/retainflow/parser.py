"""Parse rflow text into a Lark tree: text in, `ParseResult` (tree or RF001, comments) out.

The grammar lives in `grammars/rflow.lark` and ships inside the package; the Lark LALR
parser is built once per process, or loaded from the user's cache folder where an earlier
process left it (`_parser_cache`: building takes 150-300 ms, loading 20). A post-lexer
turns newlines and `;` into separators where they matter and sets comments aside for the
formatter and for suppressions.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import attrs
import lark
from lark.lexer import Token

from retainflow.diagnostics import Diagnostic
from retainflow.source import Span

_OPENERS = {"LPAR": 1, "LSQB": 1, "RPAR": -1, "RSQB": -1}


def grammar_text() -> str:
    """The grammar shipped in the wheel; in a source checkout, the top-level file."""
    packaged = importlib.resources.files("retainflow").joinpath("grammars/rflow.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    checkout = Path(__file__).resolve().parents[2] / "grammars" / "rflow.lark"
    return checkout.read_text(encoding="utf-8")


@attrs.frozen
class RawComment:
    text: str
    start: int
    end: int


class _SeparatorPostLexer:
    """Drops separators inside ( ) and [ ] and next to braces; collects comments."""

    always_accept = ("_NL", "COMMENT")

    def __init__(self) -> None:
        self.comments: list[RawComment] = []

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        # No lookahead here: the contextual lexer lexes each token in the parser state
        # reached by the tokens yielded so far, so holding one back would mislex the next.
        self.comments = []
        depth = 0
        last: str | None = None
        for token in stream:
            kind = token.type
            if kind == "COMMENT":
                assert token.start_pos is not None and token.end_pos is not None
                self.comments.append(RawComment(str(token), token.start_pos, token.end_pos))
                continue
            if kind == "_NL" and (depth > 0 or last in (None, "_NL", "LBRACE")):
                continue
            depth = max(0, depth + _OPENERS.get(kind, 0))
            last = kind
            yield token


@functools.cache
def _build() -> tuple[lark.Lark, _SeparatorPostLexer]:
    post = _SeparatorPostLexer()
    grammar = grammar_text()
    parser = lark.Lark(
        grammar,
        parser="lalr",
        lexer="contextual",
        postlex=post,
        propagate_positions=True,
        maybe_placeholders=False,
        start="start",
        cache=_parser_cache(grammar),
    )
    return parser, post


def _parser_cache(grammar: str) -> str | bool:
    """The file Lark keeps the built parser in between processes (every `retainflow`
    command and every lint worker would otherwise build it again): in the user's cache
    folder (`$XDG_CACHE_HOME` or `~/.cache`, then `retainflow/`; never a shared temporary
    folder, as the file is a pickle), named by the grammar, Lark's and Python's versions.
    Lark checks the same hash inside the file and rebuilds (and rewrites) it on any
    mismatch or damage. False, no cache, when `RETAINFLOW_PARSER_CACHE` is `0` or the
    folder cannot be made."""
    if os.environ.get("RETAINFLOW_PARSER_CACHE", "1") == "0":
        return False
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "retainflow")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError:
        return False
    key = f"{grammar}{lark.__version__}{sys.version_info[:2]}".encode()
    return os.path.join(folder, f"parser-{hashlib.sha256(key).hexdigest()[:16]}.lark")


_LOCK = threading.Lock()


@attrs.frozen
class ParseResult:
    tree: lark.Tree[Token] | None
    comments: tuple[RawComment, ...]
    error: Diagnostic | None


def parse(text: str) -> ParseResult:
    """Parse one file's text; a syntax error becomes one RF001 diagnostic."""
    parser, post = _build()
    with _LOCK:
        try:
            tree = parser.parse(text)
            return ParseResult(tree, tuple(post.comments), None)
        except lark.exceptions.UnexpectedInput as error:
            return ParseResult(None, tuple(post.comments), _syntax_error(text, error))


# ---- syntax errors in words ---------------------------------------------------------

_TOKEN_WORDS = {
    "NAME": "a name",
    "INT": "a whole number",
    "NUMBER": "a number",
    "STRING": 'a string in "double quotes"',
    "MONEY": "an amount of money like 500 USD",
    "PERCENT": "a percent like 15%",
    "DURATION": "a duration like 4h or 2d",
    "BAD_DURATION": "a duration",
    "DATE": "a date like 2026-12-25",
    "TIME_OF_DAY": "a time of day like 09:00",
    "_NL": "a new line",
    "$END": "the end of the file",
    "COMPARE": "a comparison",
    "ADD_OP": "'+' or '-'",
    "MUL_OP": "'*' or '/'",
    "OPTIONAL": "'?'",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COMMA": "','",
    "COLON": "':'",
    "DOT": "'.'",
    "EQUAL": "'='",
    "MINUS": "'-'",
    "__ANON_0": "'->'",
}


def _describe_expected(expected: set[str], parser: lark.Lark) -> str:
    words: list[str] = []
    for name in sorted(expected):
        word = _TOKEN_WORDS.get(name)
        if word is None:
            try:
                pattern = parser.get_terminal(name).pattern
            except KeyError:
                continue
            if isinstance(pattern, lark.lexer.PatternStr):
                word = f"'{pattern.value}'"
            else:
                continue
        if word not in words:
            words.append(word)
    closers = ("'}'", "')'", "']'")
    words.sort(key=lambda w: (w not in closers, not w.startswith("'"), w))
    if not words:
        return "something else"
    if len(words) > 10:
        return ", ".join(words[:10]) + " or another statement"
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _describe_found(token: Token | None) -> str:
    if token is None or token.type == "$END":
        return "the end of the file"
    if token.type == "_NL":
        return "the end of the line" if str(token) != ";" else "';'"
    return f"'{token}'"


def _syntax_error(text: str, error: lark.exceptions.UnexpectedInput) -> Diagnostic:
    parser, _ = _build()
    pos = error.pos_in_stream if error.pos_in_stream is not None else len(text)
    if isinstance(error, lark.exceptions.UnexpectedToken):
        token = error.token
        start = token.start_pos if token.start_pos is not None else pos
        end = token.end_pos if token.end_pos is not None and token.end_pos > start else start + 1
        if token.type == "$END":
            start = end = len(text.rstrip())  # zero-width: shown as one caret after the text
        if token.type == "_NL":
            end = start + 1
        found = _describe_found(token)
        expected = _describe_expected(_acceptable(error), parser)
        hint = _hint(token, set(error.expected))
        if token.type == "$END":
            lead = "the file ends here"
        elif token.type == "_NL" and str(token) != ";":
            lead = "the line ends here"
        else:
            lead = f"unexpected {found}"
        return Diagnostic("RF001", Span(start, end), f"{lead}: expected {expected}", label=hint)
    if isinstance(error, lark.exceptions.UnexpectedCharacters):
        char = text[pos] if pos < len(text) else ""
        expected = _describe_expected(set(error.allowed or ()), parser)
        return Diagnostic(
            "RF001", Span(pos, pos + 1), f"unexpected character {char!r}: expected {expected}"
        )
    return Diagnostic("RF001", Span(pos, pos + 1), str(error).splitlines()[0])


def _acceptable(error: lark.exceptions.UnexpectedToken) -> set[str]:
    """Tokens that would really be accepted here (LALR's raw set includes look-alikes)."""
    interactive = getattr(error, "interactive_parser", None)
    if interactive is not None:
        try:
            accepted = set(interactive.accepts()) - {"COMMENT"}
            if accepted:
                return accepted
        except Exception:  # pragma: no cover - fall back to Lark's own set
            pass
    return set(error.expected)


def _hint(token: Token, expected: set[str]) -> str | None:
    if token.type == "BAD_DURATION" or (token.type == "NUMBER" and "DURATION" in expected):
        return "durations are a whole number and one unit: 30s, 15m, 4h, 2d, 1w"
    if token.type == "COMPARE":
        return "comparisons do not chain: join them with 'and'"
    if token.type == "IF":
        return "put parentheses around an if ... then ... else inside an operand"
    return None
