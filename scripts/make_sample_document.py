"""Write the sample document that "Try it on a sample" teaches: resources/sample/*.pdf.

    .venv/bin/python scripts/make_sample_document.py

A two-page handbook of invented facts (so that no model knows them before it is taught),
laid out as documents are: a running header and footer, headings, a small table. Run again
after changing the text; the PDF is committed so that the app ships it.
"""

from pathlib import Path

import pymupdf

OUT = Path(__file__).resolve().parents[1] / "resources" / "sample" / "kestrel-point-lighthouse.pdf"
TITLE = "Kestrel Point Lighthouse: Keeper's Handbook"

PAGES = [
    [
        ("h1", TITLE),
        ("p", "This handbook is a sample that ships with kwdesk. Every fact in it is invented, so a model "
              "that answers these questions has learned them from this document."),
        ("h2", "The tower"),
        ("p", "Kestrel Point Lighthouse stands on the northern cape of Tamsin Island. The tower is 38 metres "
              "tall and was built from grey Corran granite between 1874 and 1877."),
        ("p", "The architect of the tower was Ilse Varga. She also designed the keeper's cottage, which "
              "has walls one metre thick against the winter storms."),
        ("p", "The lantern room holds a second-order Fresnel lens made in Lyon. The light flashes white "
              "twice every 15 seconds and can be seen from 22 nautical miles."),
        ("h2", "Keepers and duties"),
        ("p", "The first head keeper was Tomas Reyes, who kept the light for 31 years. Three keepers "
              "worked at the station in turns: each watch lasted four hours."),
        ("p", "Keepers wound the clockwork that turns the lens every two hours. The log book was signed "
              "at sunset and at sunrise, and the weather was noted at each change of watch."),
    ],
    [
        ("h2", "Supplies"),
        ("p", "The supply boat Marigold came from the harbour town of Pellow every second Thursday. It "
              "brought paraffin, fresh water, flour and letters."),
        ("table", [("Supply", "Amount a visit"), ("Paraffin", "180 litres"), ("Fresh water", "900 litres"),
                   ("Flour", "40 kilograms")]),
        ("h2", "Automation"),
        ("p", "The light was automated in 1989 and the last keeper, Agnes Lowry, left the station that "
              "year. Since then the lighthouse has been run from the coastguard centre at Pellow."),
        ("p", "Today the cottage is a small museum. It opens from May to September, and the tower can be "
              "climbed on Saturdays: there are 174 steps to the lantern room."),
    ],
]


def write(path: Path = OUT) -> Path:
    doc = pymupdf.open()
    for number, blocks in enumerate(PAGES, start=1):
        page = doc.new_page(width=595, height=842)  # A4
        page.insert_text((50, 30), TITLE, fontsize=8, color=(0.4, 0.4, 0.4))  # the running header
        page.insert_text((280, 820), f"Page {number} of {len(PAGES)}", fontsize=8, color=(0.4, 0.4, 0.4))
        y = 70
        for kind, content in blocks:
            if kind == "table":
                for row, (left, right) in enumerate(content):
                    font = "hebo" if row == 0 else "helv"
                    page.insert_text((70, y), left, fontsize=10, fontname=font)
                    page.insert_text((260, y), right, fontsize=10, fontname=font)
                    y += 16
                y += 10
                continue
            size = {"h1": 18, "h2": 13, "p": 10.5}[kind]
            box = pymupdf.Rect(50, y, 545, y + 200)
            left = page.insert_textbox(box, content, fontsize=size, fontname="hebo" if kind != "p" else "helv")
            used = 200 - left
            y += used + (8 if kind == "p" else 6)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path, garbage=4, deflate=True)
    return path


if __name__ == "__main__":
    print(write())
