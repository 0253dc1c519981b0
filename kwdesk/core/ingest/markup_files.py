"""Reads the formats that are structured markup underneath: web pages (.html), Word
(.docx), OpenDocument text (.odt) and e-books (.epub), all through the HTML reader.

- Word: mammoth turns the file into clean HTML (headings from the styles, numbered and
  bulleted lists resolved from Word's numbering, tables, footnotes). Chosen over
  python-docx, which reads the same paragraphs about twice as fast but leaves list
  numbering (numbering.xml) and footnotes to the caller; see NOTES.md for the figures.
- OpenDocument: its content.xml is plain, well-documented XML; it is rewritten as HTML
  here with the standard library (no maintained reader does more than that for text).
- EPUB: a ZIP of XHTML chapters in the order of its spine; each chapter is a "page".

These formats have no pages: a document is cut into sections (text/blocks.number_sections)
and a passage's provenance is its section and heading path.
"""

from __future__ import annotations

import html
import io
import posixpath
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

from kwdesk.core.ingest.html_reader import HtmlText, read_html_text
from kwdesk.core.ingest.pdf_reader import RejectedFile
from kwdesk.core.text.blocks import (
    ExtractedDocument,
    attach_captions,
    clean_text,
    number_sections,
)


def _document(text: HtmlText, extractor: str, fallback_title: str, *, chapters: bool = False) -> ExtractedDocument:
    blocks = attach_captions(text.blocks)
    if not blocks:
        raise RejectedFile("empty: the file has no text")
    if chapters:
        # Renumber the chapters that have text 1, 2, 3...
        numbers = {page: n for n, page in enumerate(sorted({b.page for b in blocks}), start=1)}
        for block in blocks:
            block.page = block.page_end = numbers[block.page]
        count = len(numbers)
    else:
        count = number_sections(blocks)
    title = text.title or next((b.text for b in blocks if b.kind == "heading"), "") or fallback_title
    return ExtractedDocument(
        page_count=count, blocks=blocks, extractor=extractor, title=title[:200],
        hidden_chars=text.hidden_chars, hidden_samples=text.hidden_samples, page_unit="section",
    )


# --- web pages ---------------------------------------------------------------------------

_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", re.IGNORECASE)


def decode_html(data: bytes) -> str:
    """HTML bytes as text: the charset the page declares, else UTF-8, else Windows-1252."""
    declared = _CHARSET.search(data[:4096])
    encodings = [declared.group(1).decode("ascii", "ignore")] if declared else []
    for encoding in encodings + ["utf-8-sig", "cp1252", "latin-1"]:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("latin-1")


def read_html_file(path: Path) -> ExtractedDocument:
    return _document(read_html_text(decode_html(path.read_bytes())), "html", path.stem)


# --- Word ----------------------------------------------------------------------------------

# Word's title style is the document's top heading.
_DOCX_STYLES = "p[style-name='Title'] => h1:fresh\np[style-name='Subtitle'] => p:fresh"


def read_docx(path: Path) -> ExtractedDocument:
    import mammoth

    try:
        package, hidden = _without_hidden_runs(path)
        result = mammoth.convert_to_html(package, style_map=_DOCX_STYLES, ignore_empty_paragraphs=True)
    except (zipfile.BadZipFile, KeyError, ValueError, ElementTree.ParseError) as exc:
        raise RejectedFile(f"damaged Word file: {exc}") from exc
    text = read_html_text(result.value)
    text.hidden_chars += sum(len(t) for t in hidden)
    text.hidden_samples += hidden[: 5 - len(text.hidden_samples)]
    return _document(text, "docx", path.stem)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _without_hidden_runs(path: Path) -> tuple[io.BytesIO, list[str]]:
    """The Word package with its hidden runs (w:vanish: Word neither shows nor prints them)
    taken out, and their texts. mammoth would keep them as text."""
    data = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("word/document.xml")
        if b"vanish" not in xml:
            return io.BytesIO(data), []
        # The file's own prefixes, so that the rewritten part reads as before.
        for _event, (prefix, uri) in ElementTree.iterparse(io.BytesIO(xml), events=("start-ns",)):
            ElementTree.register_namespace(prefix, uri)
        root = ElementTree.fromstring(xml)
        hidden: list[str] = []
        for parent in root.iter():
            for run in list(parent.findall(f"{_W}r")):
                props = run.find(f"{_W}rPr")
                if props is not None and props.find(f"{_W}vanish") is not None:
                    text = "".join(t.text or "" for t in run.iter(f"{_W}t")).strip()
                    if text:
                        hidden.append(text)
                    parent.remove(run)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as rewritten:
            for info in archive.infolist():
                content = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True) \
                    if info.filename == "word/document.xml" else archive.read(info)
                rewritten.writestr(info, content)
    out.seek(0)
    return out, hidden


# --- OpenDocument ----------------------------------------------------------------------------

_NS = {
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "dc": "http://purl.org/dc/elements/1.1/",
}


def _q(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{_NS[prefix]}}}{local}"


def read_odt(path: Path) -> ExtractedDocument:
    try:
        with zipfile.ZipFile(path) as archive:
            content = ElementTree.fromstring(archive.read("content.xml"))
            try:
                meta = ElementTree.fromstring(archive.read("meta.xml"))
            except KeyError:
                meta = None
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError) as exc:
        raise RejectedFile(f"damaged OpenDocument file: {exc}") from exc
    converter = _OdtToHtml(content)
    text = read_html_text(converter.html())
    if meta is not None:
        title = meta.find(f".//{_q('dc:title')}")
        text.title = clean_text(title.text or "") if title is not None else text.title
    return _document(text, "odt", path.stem)


class _OdtToHtml:
    """OpenDocument text's body rewritten as the HTML its structure means."""

    def __init__(self, root):
        self.root = root
        self.numbered_lists: set[str] = set()
        self.hidden_styles: set[str] = set()
        for style in root.iter(_q("text:list-style")):
            if style.find(_q("text:list-level-style-number")) is not None:
                self.numbered_lists.add(style.get(_q("style:name")))
        for style in root.iter(_q("style:style")):
            props = style.find(_q("style:text-properties"))
            if props is not None and props.get(_q("text:display")) == "none":
                self.hidden_styles.add(style.get(_q("style:name")))
        self.notes: list[str] = []

    def html(self) -> str:
        body = self.root.find(f"{_q('office:body')}/{_q('office:text')}")
        parts = [self.children(body)] if body is not None else []
        if self.notes:
            parts.append("<ol>" + "".join(self.notes) + "</ol>")
        return "<html><body>" + "".join(parts) + "</body></html>"

    def children(self, element) -> str:
        out = [html.escape(element.text or "")]
        for child in element:
            out.append(self.element(child))
            out.append(html.escape(child.tail or ""))
        return "".join(out)

    def element(self, el) -> str:
        tag = el.tag
        inner = self.children
        if tag == _q("text:h"):
            level = max(1, min(6, int(el.get(_q("text:outline-level")) or 1)))
            return f"<h{level}>{inner(el)}</h{level}>"
        if tag == _q("text:p"):
            return f"<p>{inner(el)}</p>"
        if tag == _q("text:span"):
            if el.get(_q("text:style-name")) in self.hidden_styles:
                return f'<span style="display:none">{inner(el)}</span>'
            return inner(el)
        if tag in (_q("text:hidden-text"), _q("text:hidden-paragraph")):
            return f'<span style="display:none">{html.escape(el.get(_q("text:string-value")) or "")}{inner(el)}</span>'
        if tag == _q("text:list"):
            kind = "ol" if el.get(_q("text:style-name")) in self.numbered_lists else "ul"
            return f"<{kind}>{inner(el)}</{kind}>"
        if tag == _q("text:list-item"):
            return f"<li>{inner(el)}</li>"
        if tag == _q("table:table"):
            return f"<table>{inner(el)}</table>"
        if tag == _q("table:table-row"):
            return f"<tr>{inner(el)}</tr>"
        if tag == _q("table:table-cell"):
            return f"<td>{inner(el)}</td>"
        if tag == _q("text:note"):
            number = len(self.notes) + 1
            body = el.find(_q("text:note-body"))
            self.notes.append(f'<li id="footnote-{number}">{inner(body) if body is not None else ""}</li>')
            return f'<sup><a href="#footnote-{number}">{number}</a></sup>'
        if tag in (_q("text:s"), _q("text:tab")):
            return " "
        if tag == _q("text:line-break"):
            return "<br>"
        if tag in (_q("text:sequence-decls"), _q("office:forms"), _q("text:tracked-changes")):
            return ""
        return inner(el)  # tables of contents, sections, frames: their text


# --- EPUB ----------------------------------------------------------------------------------

_OPF = "http://www.idpf.org/2007/opf"
_CONTAINER = "urn:oasis:names:tc:opendocument:xmlns:container"


def read_epub(path: Path) -> ExtractedDocument:
    try:
        with zipfile.ZipFile(path) as archive:
            container = ElementTree.fromstring(archive.read("META-INF/container.xml"))
            rootfile = container.find(f".//{{{_CONTAINER}}}rootfile")
            opf_path = rootfile.get("full-path") if rootfile is not None else None
            if not opf_path:
                raise RejectedFile("damaged e-book: it names no package file")
            opf = ElementTree.fromstring(archive.read(opf_path))
            base = posixpath.dirname(opf_path)
            manifest = {item.get("id"): item.get("href") for item in opf.iter(f"{{{_OPF}}}item")}
            spine = [ref.get("idref") for ref in opf.iter(f"{{{_OPF}}}itemref")]
            blocks, hidden, samples = [], 0, []
            for number, idref in enumerate(spine, start=1):
                href = manifest.get(idref)
                if not href:
                    continue
                name = posixpath.normpath(posixpath.join(base, href.split("#")[0]))
                try:
                    chapter = read_html_text(decode_html(archive.read(name)), page=number)
                except KeyError:
                    continue  # a spine entry whose file is missing: the rest still reads
                blocks += chapter.blocks
                hidden += chapter.hidden_chars
                samples += chapter.hidden_samples
            title_el = opf.find(".//{http://purl.org/dc/elements/1.1/}title")
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError) as exc:
        raise RejectedFile(f"damaged e-book: {exc}") from exc
    title = clean_text(title_el.text or "") if title_el is not None else ""
    return _document(HtmlText(blocks, title, hidden, samples[:5]), "epub", path.stem, chapters=True)


# --- which format --------------------------------------------------------------------------

_ZIP_FORMATS = {
    "application/vnd.oasis.opendocument.text": "odt",
    "application/epub+zip": "epub",
}
_ZIP_NAMES = {
    "application/vnd.oasis.opendocument.spreadsheet": "an OpenDocument spreadsheet",
    "application/vnd.oasis.opendocument.presentation": "an OpenDocument presentation",
}


def zip_format(path: Path) -> str | None:
    """docx, odt or epub for a ZIP file that is one; raises RejectedFile naming what
    another ZIP is (a spreadsheet, a presentation); None for any other ZIP."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype").decode("ascii", "ignore").strip() if "mimetype" in names else ""
    except (zipfile.BadZipFile, OSError):
        return None
    if "word/document.xml" in names:
        return "docx"
    if mimetype in _ZIP_FORMATS:
        return _ZIP_FORMATS[mimetype]
    if "xl/workbook.xml" in names:
        raise RejectedFile(f"an Excel workbook; {SUPPORTED_FORMATS_TEXT}")
    if "ppt/presentation.xml" in names:
        raise RejectedFile(f"a PowerPoint presentation; {SUPPORTED_FORMATS_TEXT}")
    if mimetype in _ZIP_NAMES:
        raise RejectedFile(f"{_ZIP_NAMES[mimetype]}; {SUPPORTED_FORMATS_TEXT}")
    return None


SUPPORTED_FORMATS_TEXT = "kwdesk reads PDF, Word (.docx), OpenDocument text (.odt), web pages (.html), EPUB, .txt and .md files"

READERS = {"html": read_html_file, "docx": read_docx, "odt": read_odt, "epub": read_epub}
