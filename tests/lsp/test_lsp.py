"""`palisade lsp` driven end to end by a real LSP client (pytest-lsp, on
pygls), over the binary's standard input and output, with the client
capabilities of VS Code. Run by tests/lsp.rs (`cargo test --test lsp`),
which sets PALISADE_BIN and PALISADE_REPO.

What the server answers is compared with the compiler's own commands where
there is one: diagnostics with `palisade check --format json`, formatting
with `palisade fmt -`.
"""

import json
import os
import pathlib
import re
import subprocess

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

PALISADE = os.environ["PALISADE_BIN"]
REPO = pathlib.Path(os.environ["PALISADE_REPO"])


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[PALISADE, "lsp"]))
async def client(lsp_client: LanguageClient, tmp_path):
    params = types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        root_uri=tmp_path.as_uri(),
    )
    result = await lsp_client.initialize_session(params)
    assert result.server_info.name == "palisade"
    yield
    await lsp_client.shutdown_session()


# ---------------------------------------------------------------- helpers


async def open_doc(client, path, text=None):
    path = pathlib.Path(path)
    uri = path.as_uri()
    client.diagnostics.pop(uri, None)
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri,
                language_id="palisade",
                version=1,
                text=path.read_text() if text is None else text,
            )
        )
    )
    return uri


async def diagnostics_of(client, uri):
    """The next diagnostics published for `uri`."""
    while uri not in client.diagnostics:
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return client.diagnostics[uri]


def check_json(path):
    out = subprocess.run(
        [PALISADE, "check", "--format", "json", str(path)],
        capture_output=True,
        text=True,
    )
    assert out.returncode in (0, 1), out.stderr
    return json.loads(out.stdout)["diagnostics"]


def utf16_col(line_text, char_col):
    """0-based UTF-16 column of a 1-based character column."""
    return sum(2 if ord(c) > 0xFFFF else 1 for c in line_text[: char_col - 1])


def position_of(text, needle, nth=1, delta=1):
    """Position `delta` characters into the nth occurrence of `needle`."""
    i = -1
    for _ in range(nth):
        i = text.index(needle, i + 1)
    i += delta
    line = text.count("\n", 0, i)
    col = i - (text.rfind("\n", 0, i) + 1)
    return types.Position(line=line, character=col)


BROKEN = """\
system shop "Shop \U0001F680"
namespace web
app front "Front \U0001F680 end" in web { image = "ghcr.io/acme/front:1.0"  ports = { http = 8080 } }
app front in web { image = "ghcr.io/acme/front:1.1" }
app api "\U0001F680" in nowhere { image = "ghcr.io/acme/api:1.0" }
allow frnt -> front: http
"""


# ---------------------------------------------------------------- diagnostics


async def test_diagnostics_are_exactly_palisade_checks(client: LanguageClient, tmp_path):
    model = tmp_path / "shop.sec"
    model.write_text(BROKEN)
    uri = await open_doc(client, model)
    got = await diagnostics_of(client, uri)
    expected = check_json(model)
    assert len(expected) >= 3
    lines = BROKEN.split("\n")
    want = sorted(
        (
            d["code"],
            d["message"],
            d["line"] - 1,
            utf16_col(lines[d["line"] - 1], d["column"]),
            d["end_line"] - 1,
            utf16_col(lines[d["end_line"] - 1], d["end_column"]),
            d["severity"],
        )
        for d in expected
    )
    severity = {
        types.DiagnosticSeverity.Error: "error",
        types.DiagnosticSeverity.Warning: "warning",
        types.DiagnosticSeverity.Information: "note",
    }
    have = sorted(
        (
            d.code,
            d.message.split("\nnote: ")[0],
            d.range.start.line,
            d.range.start.character,
            d.range.end.line,
            d.range.end.character,
            severity[d.severity],
        )
        for d in got
    )
    assert have == want
    assert all(d.source == "palisade" for d in got)

    # `nowhere` comes after a character outside the BMP: two UTF-16 units.
    e0101 = [d for d in got if d.code == "E0101" and "nowhere" in d.message]
    assert len(e0101) == 1
    line4 = lines[4]
    assert e0101[0].range.start.character == line4.index("nowhere") + 1

    # Secondary labels and help are related information.
    dup = next(d for d in got if d.code == "E0102")
    j = next(x for x in expected if x["code"] == "E0102")
    related = [(r.location.uri, r.location.range.start.line, r.message) for r in dup.related_information]
    for s in j["secondary"]:
        assert (uri, s["line"] - 1, s["message"]) in related
    assert (uri, j["line"] - 1, j["label"]) in related
    assert (uri, j["line"] - 1, "help: " + j["help"]) in related


async def test_diagnostics_follow_changes(client: LanguageClient, tmp_path):
    model = tmp_path / "shop.sec"
    model.write_text(BROKEN)
    uri = await open_doc(client, model)
    assert any(d.code == "E0101" for d in await diagnostics_of(client, uri))

    fixed = (
        'system shop\nnamespace web\n'
        'app front in web { image = "ghcr.io/acme/front@sha256:0123"  ports = { http = 8080 } }\n'
        'app api in web { image = "ghcr.io/acme/api@sha256:4567" }\n'
        'allow api -> front: http\n'
    )
    client.diagnostics.pop(uri)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=fixed)],
        )
    )
    assert list(await diagnostics_of(client, uri)) == []
    # The editor's text, not the file on disk, was checked.
    assert model.read_text() == BROKEN

    # A syntax error while typing.
    client.diagnostics.pop(uri)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=3),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=fixed + "allow api -> front http\n")],
        )
    )
    got = await diagnostics_of(client, uri)
    assert [d.code for d in got] == ["E0001"]
    assert got[0].range.start.line == 5


async def test_a_directory_is_one_model(client: LanguageClient):
    platform = REPO / "examples/platform"
    uri = await open_doc(client, platform / "20-payments.sec")
    await diagnostics_of(client, uri)
    # Every file of the model gets its diagnostics: `palisade check DIR`'s.
    expected = check_json(platform)
    assert expected, "examples/platform has warnings to compare"
    for f in sorted(platform.glob("*.sec")):
        got = await diagnostics_of(client, f.as_uri())
        want = sorted((d["code"], d["line"] - 1, d["message"]) for d in expected if pathlib.Path(d["file"]) == f)
        assert sorted((d.code, d.range.start.line, d.message.split("\nnote: ")[0]) for d in got) == want, f
    # A name declared in another file of the directory.
    text = (platform / "20-payments.sec").read_text()
    m = re.search(r"^allow ([a-z-]+) ->", text, re.M)
    assert m
    declared_elsewhere = [
        f for f in platform.glob("*.sec")
        if re.search(rf"^(persona|app|store|external) {re.escape(m.group(1))}\b", f.read_text(), re.M)
    ]
    assert len(declared_elsewhere) == 1
    locs = await client.text_document_definition_async(
        types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(text, m.group(0), delta=len("allow ") + 1),
        )
    )
    assert [l.uri for l in locs] == [declared_elsewhere[0].as_uri()]


# ---------------------------------------------------------------- names

WEBSHOP = REPO / "examples/webshop.sec"


def code_occurrences(text, name):
    """(line, column) of `name` as a whole word outside comments and strings."""
    out = []
    for n, line in enumerate(text.split("\n")):
        code = re.sub(r'"(?:[^"\\]|\\.)*"', lambda m: " " * len(m.group(0)), line)
        code = code.split("#")[0]
        for m in re.finditer(rf"(?<![\w-]){re.escape(name)}(?![\w-])", code):
            out.append((n, m.start()))
    return out


async def test_definition_and_references(client: LanguageClient):
    uri = await open_doc(client, WEBSHOP)
    text = WEBSHOP.read_text()
    at_use = position_of(text, "allow auth -> users-db", delta=len("allow auth -> ") + 2)

    locs = await client.text_document_definition_async(
        types.DefinitionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=at_use)
    )
    decl = position_of(text, "store users-db", delta=len("store "))
    assert [(l.uri, l.range.start) for l in locs] == [(uri, decl)]
    assert locs[0].range.end.character == decl.character + len("users-db")

    refs = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=at_use,
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    expected = code_occurrences(text, "users-db")
    assert len(expected) >= 5
    assert sorted((r.range.start.line, r.range.start.character) for r in refs) == expected
    assert all(r.uri == uri for r in refs)

    without = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=at_use,
            context=types.ReferenceContext(include_declaration=False),
        )
    )
    assert len(without) == len(expected) - 1

    # Namespaces and environments are names of their own.
    at_env = position_of(text, "in dev ", delta=4)
    refs = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=at_env,
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert sorted((r.range.start.line, r.range.start.character) for r in refs) == [
        (n, c) for (n, c) in code_occurrences(text, "dev")
    ]

    # No name under the cursor: no answer.
    nothing = await client.text_document_definition_async(
        types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(text, "# --- traffic", delta=3),
        )
    )
    assert nothing is None


async def test_hover_shows_the_declaration_and_effective_access(client: LanguageClient):
    uri = await open_doc(client, WEBSHOP)
    text = WEBSHOP.read_text()
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(text, "allow auth -> users-db", delta=len("allow auth -> ") + 2),
        )
    )
    assert hover is not None
    value = hover.contents.value
    decl_line = next(l for l in text.split("\n") if l.startswith("store users-db"))
    assert f"```sec\n{decl_line.rstrip()}\n```" in value
    # From the access graph (the same answers as `palisade query`):
    # auth holds write credentials of users-db, backup read, in both envs.
    for env in ("dev", "prod"):
        section = value.split(f"**Reached by** in `{env}`:")[1].split("**Reaches**")[0]
        assert re.search(r"^- `auth`: .*\bwrite\b", section, re.M), value
        assert re.search(r"^- `backup`: .*\bread\b", section, re.M), value
        assert "`customer`" not in section, value
    # A subject: what it reaches.
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(text, "app backup", delta=len("app ") + 1),
        )
    )
    value = hover.contents.value
    reaches = value.split("**Reaches** in `prod`:")[1]
    assert re.search(r"^- `users-db`: .*\bread\b", reaches, re.M), value
    assert re.search(r"^- `backups`: .*\bwrite\b", reaches, re.M), value
    assert "- `developer`: view, logs\n" in value.split("**Reached by** in `prod`:")[1], value


async def test_document_symbols(client: LanguageClient):
    uri = await open_doc(client, WEBSHOP)
    text = WEBSHOP.read_text()
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    expected = re.findall(
        r"^(system|environment|namespace|persona|app|pod|store|external) +([a-z][a-z0-9-]*)",
        text,
        re.M,
    )
    assert [(s.detail, s.name) for s in symbols] == expected
    kinds = {s.name: s.kind for s in symbols}
    assert kinds["shop"] == types.SymbolKind.Namespace
    assert kinds["web"] == types.SymbolKind.Class
    for s in symbols:
        assert s.range.start.line <= s.selection_range.start.line
        assert s.selection_range.end.line <= s.range.end.line


# ---------------------------------------------------------------- formatting


def fmt_stdin(text):
    out = subprocess.run([PALISADE, "fmt", "-"], input=text, capture_output=True, text=True)
    return out.returncode, out.stdout


def apply_edits(text, edits):
    lines = text.split("\n")
    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        def offset(p):
            return sum(len(l) + 1 for l in lines[: p.line]) + p.character
        start, end = offset(e.range.start), offset(e.range.end)
        text = text[:start] + e.new_text + text[end:]
        lines = text.split("\n")
    return text


async def test_formatting_is_palisade_fmt(client: LanguageClient, tmp_path):
    messy = (
        'system shop   "Shop"\nnamespace web "Storefront"\n'
        'app front "Front end" in web{\n\timage="ghcr.io/acme/front:1.0"\n ports={http=8080,metrics=9090},\n'
        'replicas=2\n# a note\n}\nallow front -> front : http   # self\n\n\n'
    )
    model = tmp_path / "messy.sec"
    model.write_text(messy)
    uri = await open_doc(client, model)
    options = types.FormattingOptions(tab_size=2, insert_spaces=True)
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(text_document=types.TextDocumentIdentifier(uri=uri), options=options)
    )
    code, expected = fmt_stdin(messy)
    assert code == 0
    assert expected != messy
    assert apply_edits(messy, edits) == expected

    # Canonical already: no edits.
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=expected)],
        )
    )
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(text_document=types.TextDocumentIdentifier(uri=uri), options=options)
    )
    assert list(edits) == []

    # A syntax error: nothing to format (the error is in the diagnostics).
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=3),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=expected + "allow {\n")],
        )
    )
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(text_document=types.TextDocumentIdentifier(uri=uri), options=options)
    )
    assert not edits


async def test_every_example_opens_clean(client: LanguageClient):
    for f in sorted((REPO / "examples").glob("*.sec")):
        uri = await open_doc(client, f)
        got = await diagnostics_of(client, uri)
        assert sorted(d.code for d in got) == sorted(d["code"] for d in check_json(f)), f


async def test_hover_on_lints_and_namespaces(client: LanguageClient):
    marketing = REPO / "examples/marketing.sec"
    uri = await open_doc(client, marketing)
    text = marketing.read_text()
    at_lint = position_of(text, "accept namespace-wide-grant", delta=len("accept ") + 3)
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=at_lint)
    )
    explain = subprocess.run([PALISADE, "explain"], capture_output=True, text=True).stdout
    summary_line = next(l for l in explain.split("\n") if "namespace-wide-grant" in l)
    value = hover.contents.value
    assert value.startswith("lint `namespace-wide-grant` (default: warn)"), value
    # The summary `palisade explain` lists.
    summary = value.split("\n\n")[1]
    assert summary in summary_line, (value, summary_line)
    refs = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=at_lint,
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert len(refs) == len(code_occurrences(text, "namespace-wide-grant")) == 1

    uri = await open_doc(client, WEBSHOP)
    text = WEBSHOP.read_text()
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(text, "in identity {", delta=4),
        )
    )
    value = hover.contents.value
    assert value.startswith('```sec\nnamespace identity "Accounts and authentication"'), value
    assert "apps: `auth`, `backup`" in value, value
    assert "stores: `users-db`, `sessions`" in value, value


async def test_fast_edits_end_with_the_last_texts_diagnostics(client: LanguageClient, tmp_path):
    import asyncio

    model = tmp_path / "shop.sec"
    base = 'system shop\nnamespace web\napp front in web { image = "ghcr.io/acme/front@sha256:0123"  ports = { http = 8080 } }\n'
    model.write_text(base)
    uri = await open_doc(client, model)
    await diagnostics_of(client, uri)
    for i in range(30):
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2 + i),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=base + f"allow frnt{i} -> front: http\n")],
            )
        )

    async def last():
        while not any("frnt29" in d.message for d in client.diagnostics.get(uri, [])):
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)

    await asyncio.wait_for(last(), 60)
    assert [d.code for d in client.diagnostics[uri]] == ["E0101"]
