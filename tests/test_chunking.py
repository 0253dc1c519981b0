import re

import pytest

from kwdesk.core.ingest.chunking import chunk_blocks, merge_continued_paragraphs
from kwdesk.core.text.blocks import HEADING, LIST_ITEM, PARAGRAPH, Block, clean_text
from kwdesk.core.text.sentences import approx_tokens, split_sentences


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The dam is high. It was built in 1931.", ["The dam is high.", "It was built in 1931."]),
        ("Dr. Tamberg founded it. Prof. J. Smith agreed.", ["Dr. Tamberg founded it.", "Prof. J. Smith agreed."]),
        ("Use e.g. Valves. Check it!", ["Use e.g. Valves.", "Check it!"]),
        ('He said "stop." Then he left.', ['He said "stop."', "Then he left."]),
        ("Pressure is 17.5 bar. Next.", ["Pressure is 17.5 bar.", "Next."]),
        ("no capital after. so one sentence", ["no capital after. so one sentence"]),
        ("Is it safe? Yes. 40 days later it froze.", ["Is it safe?", "Yes.", "40 days later it froze."]),
        # A name's closing abbreviation ends a sentence before a sentence's first word.
        ("Ask Pitt, Briggs & Co. They know. Jane and co. arrived.", ["Ask Pitt, Briggs & Co.", "They know.",
                                                                    "Jane and co. arrived."]),
        ("I work for the U.S. Government in Virginia.", ["I work for the U.S. Government in Virginia."]),
        ("Pumps are listed in Annex B. Tab. 3 gives the fees.", ["Pumps are listed in Annex B.", "Tab. 3 gives the fees."]),
        ("We make a good team, you and I. Did you see Albert I. Jones?", ["We make a good team, you and I.",
                                                                         "Did you see Albert I. Jones?"]),
        # A run-in list: each item starts at its number, a number ending a sentence stays.
        ("It rose to 25. 1. The first item 2. The second item", ["It rose to 25.", "1. The first item",
                                                               "2. The second item"]),
        ("a. Keep the dock b. Supply parts", ["a. Keep the dock b. Supply parts"]),
        ("a. Keep the dock. b. Supply the parts.", ["a. Keep the dock.", "b. Supply the parts."]),
        ("", []),
    ],
)
def test_split_sentences(text, expected):
    assert split_sentences(text) == expected


def test_clean_text_expands_ligatures_and_drops_control_characters_and_leaders():
    assert clean_text("Auﬂage\x03 of  the\u00a0ﬁle") == "Auflage of the file"
    assert clean_text("Valves . . . . . . . 12") == "Valves 12"


def _doc(n_paragraphs=30, sentences=5):
    blocks = [Block(HEADING, "Handbook", 1, level=1)]
    all_sentences = []
    for i in range(n_paragraphs):
        page = 1 + i // 4
        if i % 10 == 0:
            blocks.append(Block(HEADING, f"Part {i // 10 + 1}", page, level=2))
        sentences_i = [f"Fact number {i}-{j} says the valve {j} holds {i * 10 + j} bar." for j in range(sentences)]
        all_sentences += sentences_i
        blocks.append(Block(PARAGRAPH, " ".join(sentences_i), page))
    return blocks, all_sentences


@pytest.mark.parametrize("max_tokens", [32, 64, 300])
def test_chunks_never_cut_a_sentence_and_respect_the_size(max_tokens):
    blocks, sentences = _doc()
    chunks = chunk_blocks(blocks, max_tokens)
    assert all(c.tokens <= max_tokens for c in chunks)
    assert all(c.tokens == approx_tokens(c.text) for c in chunks)
    # Every sentence lands whole in exactly one chunk, in order.
    joined = "\n".join(c.text for c in chunks)
    for sentence in sentences:
        owners = [c.seq for c in chunks if sentence in c.text]
        assert len(owners) == 1, sentence
    positions = [joined.index(s) for s in sentences]
    assert positions == sorted(positions)
    assert [c.seq for c in chunks] == list(range(len(chunks)))


def test_chunks_carry_pages_and_heading_paths():
    blocks, _ = _doc()
    chunks = chunk_blocks(blocks, 64)
    first = chunks[0]
    assert first.heading_path == "Handbook > Part 1"
    assert first.page_start == 1
    for chunk in chunks:
        numbers = [int(m) for m in re.findall(r"Fact number (\d+)-", chunk.text)]
        pages = {1 + n // 4 for n in numbers}
        assert chunk.page_start == min(pages) and chunk.page_end == max(pages)
        part = 1 + min(numbers) // 10
        assert chunk.heading_path == f"Handbook > Part {part}"


def test_a_new_section_starts_a_new_chunk():
    blocks = [
        Block(HEADING, "Valves", 1, level=1),
        Block(PARAGRAPH, "Valve KX-9 must be inspected every 450 hours. " * 12, 1),
        Block(HEADING, "Pumps", 2, level=1),
        Block(PARAGRAPH, "The pump runs at 3000 rpm.", 2),
    ]
    chunks = chunk_blocks(blocks, 300)
    assert [c.heading_path for c in chunks] == ["Valves", "Pumps"]
    assert chunks[1].text == "The pump runs at 3000 rpm."


def test_short_sections_share_a_chunk_and_keep_their_headings():
    blocks = [
        Block(HEADING, "Valves", 1, level=1),
        Block(PARAGRAPH, "Valves are checked.", 1),
        Block(HEADING, "Pumps", 1, level=1),
        Block(PARAGRAPH, "Pumps are oiled.", 1),
    ]
    (chunk,) = chunk_blocks(blocks, 300)
    assert chunk.text == "Valves are checked.\n\nPumps\n\nPumps are oiled."


def test_list_items_stay_one_per_line():
    blocks = [
        Block(PARAGRAPH, "Check these parts:", 1),
        Block(LIST_ITEM, "the gasket", 1),
        Block(LIST_ITEM, "the bearing", 1),
        Block(PARAGRAPH, "Then close the valve.", 1),
    ]
    (chunk,) = chunk_blocks(blocks, 300)
    assert chunk.text == "Check these parts:\n\n- the gasket\n- the bearing\n\nThen close the valve."


def test_a_paragraph_cut_by_a_page_break_is_joined():
    blocks = [Block(PARAGRAPH, "The dam holds back the", 1), Block(PARAGRAPH, "water of the river.", 2)]
    (merged,) = merge_continued_paragraphs(blocks)
    assert merged.text == "The dam holds back the water of the river."
    assert (merged.page, merged.page_end) == (1, 2)
    (chunk,) = chunk_blocks(blocks, 300)
    assert (chunk.page_start, chunk.page_end) == (1, 2)


def test_sentences_of_a_long_paragraph_keep_their_own_pages():
    # One paragraph flowing over three pages, as in a document set in one block.
    blocks = [
        Block(PARAGRAPH, "First page sentence one. First page sentence two. And it goes on", 1),
        Block(PARAGRAPH, "onto page two. Second page sentence. Then more text that runs", 2),
        Block(PARAGRAPH, "into page three. Third page sentence.", 3),
    ]
    chunks = chunk_blocks(blocks, 16)
    assert [(c.text, c.page_start, c.page_end) for c in chunks] == [
        ("First page sentence one. First page sentence two.", 1, 1),
        ("And it goes on onto page two. Second page sentence.", 1, 2),
        ("Then more text that runs into page three. Third page sentence.", 2, 3),
    ]


def test_an_endless_sentence_is_cut_between_words():
    words = " ".join(f"w{i}" for i in range(2000))
    chunks = chunk_blocks([Block(PARAGRAPH, words, 1)], 50)
    assert all(c.tokens <= 50 for c in chunks)
    assert " ".join(c.text for c in chunks).split() == words.split()


def test_sentences_are_not_cut_at_abbreviations_numbers_or_units():
    """The abbreviations of manuals, contracts and reports (a cut after "Rev." made answers
    end in "Manual (Rev.")."""
    from kwdesk.core.text.sentences import split_sentences

    text = ("This is the Marine Operations Manual (Rev. 4) of the authority. Berth No. 3 is 16.8 m deep, see "
            "Fig. 2 and Sec. 2.3.1 for details. Dr. Ilse Tamberg and St. Clair approved it, e.g. for tankers, "
            "i.e. ships of approx. 310 m. It was first issued in 2009.")
    assert split_sentences(text) == [
        "This is the Marine Operations Manual (Rev. 4) of the authority.",
        "Berth No. 3 is 16.8 m deep, see Fig. 2 and Sec. 2.3.1 for details.",
        "Dr. Ilse Tamberg and St. Clair approved it, e.g. for tankers, i.e. ships of approx. 310 m.",
        "It was first issued in 2009.",
    ]


def test_numbered_list_items_keep_their_numbers(tmp_path):
    """A step or clause is named by its number ("2. Pilotage"): numbered items keep it,
    bullets are dropped, and the number starts the item's sentence instead of being one."""
    from kwdesk.core.ingest.text_reader import read_text_file
    from kwdesk.core.text.sentences import split_sentences

    path = tmp_path / "steps.md"
    path.write_text("# Arrival\n\n1. Report to the harbour master.\n2. Pilotage is compulsory above 80 m.\n"
                    "- Tugs on request.\n", encoding="utf-8")
    items = [b.text for b in read_text_file(path, markdown=True).blocks if b.kind == "list"]
    assert items == ["1. Report to the harbour master.", "2. Pilotage is compulsory above 80 m.", "Tugs on request."]
    assert split_sentences("2. Pilotage is compulsory. Tugs are on request.") == [
        "2. Pilotage is compulsory.", "Tugs are on request."]
    assert split_sentences("See 2.3. Then go on.") == ["See 2.3.", "Then go on."]


def test_a_name_that_only_places_a_thing_is_no_relation_of_the_subject():
    from kwdesk.core.text.anchors import only_places_a_thing

    assert only_places_a_thing("Brisk Harbour", "Dr. Ilse Tamberg approved the specifications for the weir at Brisk Harbour.")
    assert not only_places_a_thing("Lake Orvane", "The Veltra River rises in the Quellan Hills and flows into Lake Orvane.")
    assert not only_places_a_thing("Orvane Institute", "Dr. Ilse Tamberg founded the Orvane Institute in 1964.")
