"""Documents made on the fly for tests and benchmarks: PDFs with known text and structure."""

from __future__ import annotations

import random
from pathlib import Path

# Facts no model can know: invented places, people and numbers.
INVENTED_FACTS = [
    "The Larkspur Dam on the Veltra River is 212 metres high.",
    "Engineer Maren Oskarsdottir designed the Larkspur Dam in 1931.",
    "The Veltra River rises in the Quellan Hills and flows into Lake Orvane.",
    "Lake Orvane freezes over for about 41 days each winter.",
    "The town of Brisk Harbour exports mostly tinned mackerel and slate.",
    "Valve assembly KX-9 must be inspected every 450 operating hours.",
    "The KX-9 valve operates at a maximum pressure of 17.5 bar.",
    "Dr. Ilse Tamberg founded the Orvane Institute of Hydrology in 1964.",
]


def make_pdf(path: Path, sections: list[tuple[str, list[str]]], *, title: str = "", paragraphs_per_page: int = 4) -> Path:
    """A PDF with a title, section headings in a larger font, and body paragraphs.

    SECTIONS is a list of (heading, paragraphs). A new page starts whenever the current one
    holds PARAGRAPHS_PER_PAGE paragraphs, so tests know on which page each text lands.
    """
    import pymupdf

    doc = pymupdf.open()
    if title:
        doc.set_metadata({"title": title})
    page = None
    y = 0.0
    count = 0

    def new_page():
        nonlocal page, y, count
        page = doc.new_page(width=595, height=842)
        y = 60.0
        count = 0

    new_page()
    for heading, paragraphs in sections:
        if y > 700:
            new_page()
        page.insert_text((60, y + 16), heading, fontsize=16, fontname="hebo")
        y += 34
        for para in paragraphs:
            if count >= paragraphs_per_page:
                new_page()
            rect = pymupdf.Rect(60, y, 535, y + 160)
            leftover = page.insert_textbox(rect, para, fontsize=10.5, fontname="helv")
            if leftover < 0:
                raise ValueError("paragraph too long for the test page layout")
            used = 160 - leftover
            y += used + 14
            count += 1
    doc.save(path)
    doc.close()
    return path


def facts_pdf(path: Path) -> Path:
    """Two sections of invented facts, two paragraphs a page."""
    f = INVENTED_FACTS
    sections = [
        ("The Larkspur Dam", [f"{f[0]} {f[1]}", f"{f[2]} {f[3]}"]),
        ("Brisk Harbour", [f[4]]),
        ("Maintenance of the KX-9 valve", [f"{f[5]} {f[6]}", f[7]]),
    ]
    return make_pdf(path, sections, title="Orvane Valley Handbook", paragraphs_per_page=2)


_WORDS = (
    "pressure valve turbine contract clause liability engine maintenance patient dosage river bridge "
    "inspection schedule tolerance warranty clinic protocol reservoir spillway gasket bearing"
).split()


def large_pdf(path: Path, pages: int, *, seed: int = 7) -> Path:
    """A PDF of PAGES full pages of prose (about 3,000 characters each, like a page of a
    manual) under numbered headings, made quickly."""
    import pymupdf

    rng = random.Random(seed)
    doc = pymupdf.open()
    for number in range(1, pages + 1):
        page = doc.new_page(width=595, height=842)
        page.insert_text((60, 70), f"Section {number}: {rng.choice(_WORDS).title()} notes", fontsize=16)
        y = 90
        for _ in range(6):
            sentences = [
                " ".join(rng.choice(_WORDS) for _ in range(rng.randint(8, 16))).capitalize() + "." for _ in range(5)
            ]
            page.insert_textbox(pymupdf.Rect(60, y, 535, y + 118), " ".join(sentences), fontsize=10)
            y += 122
    doc.save(path)
    doc.close()
    return path


def scanned_pdf(path: Path, text_pdf: Path, dpi: int = 200) -> Path:
    """A copy of TEXT_PDF whose pages are pictures of the pages: no text layer, as a scan."""
    import pymupdf

    src = pymupdf.open(text_pdf)
    out = pymupdf.open()
    for page in src:
        pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
        new = out.new_page(width=page.rect.width, height=page.rect.height)
        new.insert_image(new.rect, pixmap=pix)
    out.save(path)
    return path


_PLACES = ["Orvane", "Brisk Harbour", "Quellan", "Tarrow Fen", "Melkvik", "Sorrel Point", "Vantry", "Ludmoor"]
_THINGS = ["pump station", "weir", "sluice gate", "reservoir", "turbine hall", "spillway", "canal lock", "water tower"]
_PEOPLE = ["Maren Oskarsdottir", "Ilse Tamberg", "Josef Kralik", "Ada Whitcombe", "Tomas Ferreira", "Lena Vogt"]


def handbook_pdf(path: Path, pages: int = 20, *, seed: int = 11) -> tuple[Path, list[tuple[str, str]]]:
    """A handbook of invented facts, PAGES pages long, and (question, expected answer word)
    pairs about some of its facts, for measuring what a model learned."""
    sections, checks, _ = _handbook(pages, seed)
    make_pdf(path, sections, title="Handbook of the Orvane Water Works", paragraphs_per_page=3)
    return path, checks


def handbook_heldout(pages: int = 20, *, seed: int = 11) -> list[tuple[str, str]]:
    """(question, reference answer) for four facts of every paragraph of the handbook that
    handbook_pdf makes with the same PAGES and SEED, worded unlike kwdesk's own question
    shapes: a held-out set that no side of a comparison wrote."""
    return _handbook(pages, seed)[2]


def _handbook(pages: int, seed: int) -> tuple[list, list[tuple[str, str]], list[tuple[str, str]]]:
    rng = random.Random(seed)
    sections = []
    checks: list[tuple[str, str]] = []
    heldout: list[tuple[str, str]] = []
    for number in range(pages):
        place = _PLACES[number % len(_PLACES)]
        paragraphs = []
        for k in range(3):
            thing = rng.choice(_THINGS)
            person = rng.choice(_PEOPLE)
            year = rng.randint(1890, 1990)
            height = rng.randint(12, 240)
            hours = rng.choice([150, 250, 300, 450, 600, 900])
            name = f"the {place} {thing} No. {number * 3 + k + 1}"
            paragraphs.append(
                f"The {place} {thing} No. {number * 3 + k + 1} was built in {year} to a design by {person}. "
                f"It stands {height} metres above the valley floor. "
                f"Its valves must be inspected every {hours} operating hours. "
                f"In winter the station is run from {rng.choice(_PLACES)}, because the road to {place} is often closed."
            )
            if k == 0:
                checks.append((f"When was {name} built?", str(year)))
            heldout += [
                (f"In which year was the construction of {name} completed?", f"{name[0].upper()}{name[1:]} was built in {year}."),
                (f"Whose design was {name} built to?", f"{name[0].upper()}{name[1:]} was built to a design by {person}."),
                (f"How far above the valley floor does {name} stand?", f"It stands {height} metres above the valley floor."),
                (f"After how many operating hours must the valves of {name} be inspected?",
                 f"The valves of {name} must be inspected every {hours} operating hours."),
            ]
        sections.append((f"{place}: works {number + 1}", paragraphs))
    return sections, checks, heldout


# A second domain for the learning benchmarks (so that no recipe is tuned to one text): a
# clinic's formulary of invented medicines, laid out as such documents are, with a running
# header and a footer on every page. Its sentences are shaped unlike the handbook's.
FORMULARY_HEADER = "MERIDALE DISTRICT CLINIC | STAFF FORMULARY | EDITION 7 | NOT FOR PATIENT USE"
_DRUG_STARTS = ["Vel", "Tasc", "Quen", "Briv", "Halo", "Moxa", "Pind", "Sulv", "Ketr", "Zant", "Drav", "Gorum"]
_DRUG_ENDS = ["morin", "aprine", "zamol", "estat", "cerin", "atrel", "arone", "anide", "odine", "exil"]
# One word each: the grader then asks for that word, and no half of a two-word condition passes.
_CONDITIONS = ["eczema", "gout", "chilblains", "insomnia", "migraine", "sinusitis", "shingles", "tinnitus",
               "psoriasis", "heartburn", "nausea", "vertigo"]
_PRESCRIBERS = ["Anneke Holm", "Rafael Quintero", "Signe Lindqvist", "Owain Pritchard", "Marisol Duarte",
                "Kenji Arakawa"]


def formulary_pdf(path: Path, pages: int = 1, *, seed: int = 5) -> Path:
    """The clinic's formulary, PAGES pages of three medicines each, every page with the running
    header and a 'page N of M' footer a text extractor must leave out."""
    import pymupdf

    entries = _formulary(pages, seed)[0]
    doc = pymupdf.open()
    doc.set_metadata({"title": "Meridale District Clinic Staff Formulary"})
    for number in range(pages):
        page = doc.new_page(width=595, height=842)
        page.insert_text((60, 40), FORMULARY_HEADER, fontsize=8, fontname="helv")
        y = 80.0
        for name, text in entries[number * 3:number * 3 + 3]:
            page.insert_text((60, y + 14), name, fontsize=14, fontname="hebo")
            leftover = page.insert_textbox(pymupdf.Rect(60, y + 26, 535, y + 206), text, fontsize=10.5, fontname="helv")
            if leftover < 0:
                raise ValueError("entry too long for the test page layout")
            y += 26 + (180 - leftover) + 18
        page.insert_text((60, 815), f"Formulary ed. 7 - page {number + 1} of {pages}", fontsize=8, fontname="helv")
    doc.save(path)
    doc.close()
    return path


def formulary_heldout(pages: int = 1, *, seed: int = 5) -> list[tuple[str, str]]:
    """(question, reference answer) for four facts of every medicine in formulary_pdf's
    document of the same PAGES and SEED, worded unlike the text and kwdesk's question shapes."""
    return _formulary(pages, seed)[1]


def _formulary(pages: int, seed: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    rng = random.Random(seed)
    names = [a + b for a in _DRUG_STARTS for b in _DRUG_ENDS]
    rng.shuffle(names)
    if pages * 3 > len(names):
        raise ValueError(f"the formulary has names for {len(names) // 3} pages")
    entries, heldout = [], []
    for k in range(pages * 3):
        name, other = names[k], names[(k + 1) % (pages * 3)] if pages * 3 > 1 else names[-1]
        condition, prescriber = rng.choice(_CONDITIONS), rng.choice(_PRESCRIBERS)
        dose, hours, year = rng.choice([5, 10, 20, 25, 40, 50, 75, 150, 250]), rng.choice([4, 6, 8, 12, 24]), rng.randint(1994, 2024)
        entries.append((name, (
            f"{name} is prescribed at the clinic for {condition}. The usual adult dose is {dose} mg, taken every "
            f"{hours} hours with water. It must never be given together with {other}, because the two slow the "
            f"heart. Dr. {prescriber} added {name} to the formulary in {year}.")))
        heldout += [
            (f"What condition do the clinic's doctors give {name} for?", f"{condition.capitalize()}."),
            (f"How many milligrams of {name} does an adult take at a time?", f"The usual adult dose is {dose} mg."),
            (f"Which medicine is it unsafe to combine with {name}?", f"{name} must never be given with {other}."),
            (f"Who put {name} on the clinic's list of medicines?", f"Dr. {prescriber} added it to the formulary."),
        ]
    return entries, heldout


MANUAL_HEADER = "BRISK HARBOUR PORT AUTHORITY | MARINE OPERATIONS MANUAL | REV. 4 | CONTROLLED COPY"
MANUAL_PARAGRAPHS = [
    "The harbour master assigns every berth before a vessel enters the outer channel.",
    "Pilotage is compulsory for vessels longer than 80 metres in the inner harbour.",
    "The Oil Jetty has a depth of 16.8 metres alongside at the lowest astronomical tide.",
    "Tugs must be ordered at least four hours before the planned arrival.",
    "The Fish Quay is closed to commercial traffic between midnight and five in the morning.",
    "Hot work on board requires a permit signed by the duty officer of the authority.",
]


def manual_pdf(path: Path, pages: int = 3) -> Path:
    """An operations manual laid out like a real one: a running header and a footer with the
    page number on every page, two body paragraphs a page."""
    import pymupdf

    doc = pymupdf.open()
    for number in range(1, pages + 1):
        page = doc.new_page(width=595, height=842)
        page.insert_text((60, 40), MANUAL_HEADER, fontsize=8, fontname="helv")
        y = 90.0
        for para in MANUAL_PARAGRAPHS[(number - 1) * 2 : (number - 1) * 2 + 2] or MANUAL_PARAGRAPHS[:2]:
            page.insert_textbox(pymupdf.Rect(60, y, 535, y + 80), para, fontsize=10.5, fontname="helv")
            y += 90
        page.insert_text((60, 815), f"BH-MOM Rev. 4 Page {number} of {pages}", fontsize=8, fontname="helv")
    doc.save(path)
    doc.close()
    return path
