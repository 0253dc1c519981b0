"""Questions built by rule from a sentence's shape: each asks for a fact its sentence holds,
names the sentence's subject, and passes the checks the teacher's questions pass."""

from __future__ import annotations

import pytest
from docgen import INVENTED_FACTS, MANUAL_PARAGRAPHS

from kwdesk.core.data.checks import question_problem
from kwdesk.core.text.fact_questions import base_form, fact_questions, split_subject


def asked(sentence: str) -> dict[str, str]:
    return {fq.question: fq.target for fq in fact_questions(sentence)}


@pytest.mark.parametrize(
    "sentence, question, target",
    [
        ("The Larkspur Dam on the Veltra River is 212 metres high.", "How high is the Larkspur Dam on the Veltra River?", "212 metres"),
        ("The Larkspur Dam on the Veltra River is 212 metres high.", "Where is the Larkspur Dam?", "the Veltra River"),
        ("Engineer Maren Oskarsdottir designed the Larkspur Dam in 1931.", "Who designed the Larkspur Dam?", "Engineer Maren Oskarsdottir"),
        ("Engineer Maren Oskarsdottir designed the Larkspur Dam in 1931.", "When was the Larkspur Dam designed?", "1931"),
        ("The Veltra River rises in the Quellan Hills and flows into Lake Orvane.", "Where does the Veltra River flow?", "Lake Orvane"),
        ("Lake Orvane freezes over for about 41 days each winter.", "How long does Lake Orvane freeze over each winter?", "about 41 days"),
        ("Valve assembly KX-9 must be inspected every 450 operating hours.", "How often must valve assembly KX-9 be inspected?",
         "every 450 operating hours"),
        ("The KX-9 valve operates at a maximum pressure of 17.5 bar.", "What is the maximum pressure of the KX-9 valve?", "17.5 bar"),
        ("Dr. Ilse Tamberg founded the Orvane Institute of Hydrology in 1964.", "Who founded the Orvane Institute of Hydrology?",
         "Dr. Ilse Tamberg"),
        ("The Oil Jetty has a depth of 16.8 metres alongside at the lowest astronomical tide.", "How deep is the Oil Jetty?", "16.8 metres"),
        ("Tugs must be ordered at least four hours before the planned arrival.",
         "How long before the planned arrival must tugs be ordered?", "at least four hours"),
        ("The Fish Quay is closed to commercial traffic between midnight and five in the morning.",
         "When is the Fish Quay closed to commercial traffic?", "between midnight and five in the morning"),
        ("The harbour master assigns every berth before a vessel enters the outer channel.",
         "Who assigns every berth before a vessel enters the outer channel?", "The harbour master"),
        ("The quay wall at Orvane is 5.7 m high and carries 38 bollards.", "How many bollards does the quay wall at Orvane carry?", "38"),
        ("The Orvane pump station No. 4 was built in 1931 to a design by Ilse Tamberg.", "Who designed the Orvane pump station No. 4?",
         "Ilse Tamberg"),
        ("The Marine Operations Manual was first issued in 2009 and is reviewed every two years.",
         "How often is the Marine Operations Manual reviewed?", "every two years"),
        ("Operators record the readings in the log book before the end of each watch.",
         "When do operators record the readings in the log book?", "before the end of each watch"),
        ("Tenants notify the landlord within 14 days of any damage.", "When do tenants notify the landlord?",
         "within 14 days of any damage"),
        # A pointer or a label before the sentence: the fact is what follows it.
        ("According to Fig. 10 the pump station drains towards Quellan.", "Where does the pump station drain?", "Quellan"),
        ("Note 1: Chart datum is the lowest astronomical tide at the breakwater.", "What is chart datum?",
         "lowest astronomical tide at the breakwater"),
        # The value opens the sentence; a measure of a thing; a code that is followed.
        ("A pressure of 4.7 bar must not be exceeded during documentation work.",
         "What is the maximum pressure during documentation work?", "4.7 bar"),
        ("The design flow of the weir is approx. 67.6 m3/s, i.e. about 6 times the mean flow.",
         "What is the design flow of the weir?", "67.6 m3/s"),
        ("The population of Orvane was 12,400 in 2011.", "What was the population of Orvane?", "12,400"),
        ("The length of the Veltra River is 212 km.", "How long is the Veltra River?", "212 km"),
        ("Inspections of the weir follow Ref. No. 666, e.g. a visual check every 24 months.",
         "What do inspections of the weir follow?", "Ref. No. 666"),
        # Second wordings: the passive of a past act, what a thing requires, what a rule applies to.
        ("Engineer Maren Oskarsdottir designed the Larkspur Dam in 1931.", "By whom was the Larkspur Dam designed?",
         "Engineer Maren Oskarsdottir"),
        ("Hot work on board requires a permit signed by the duty officer.", "What is required for hot work on board?",
         "a permit signed by the duty officer"),
        ("This Marine Operations Manual (Rev. 4) applies to every berth of the port.",
         "What does the Marine Operations Manual apply to?", "every berth of the port"),
        ("Dr. Ilse Tamberg leads the emergency team of the port authority.",
         "Who leads the emergency team of the port authority?", "Dr. Ilse Tamberg"),
        ("Ms. Lena Vogt approved the specifications for the dry dock at Brisk Harbour.",
         "By whom were the specifications for the dry dock at Brisk Harbour approved?", "Ms. Lena Vogt"),
        # Third wordings: the year of the act as a noun; the agent of a passive in its own voice.
        ("The Orvane pump station No. 4 was built in 1931 to a design by Ilse Tamberg.",
         "What is the year of construction of the Orvane pump station No. 4?", "1931"),
        ("The Orvane pump station No. 4 was built in 1931 to a design by Ilse Tamberg.",
         "By whom was the Orvane pump station No. 4 designed?", "Ilse Tamberg"),
        ("The Marine Operations Manual was first issued in 2009 and is reviewed every two years.",
         "What is the year of issue of the Marine Operations Manual?", "2009"),
        ("Pilotage must be ordered by the Master.", "By whom must pilotage be ordered?", "the Master"),
        ("The permit is signed by the Harbour Master.", "By whom is the permit signed?", "the Harbour Master"),
        ("This Marine Operations Manual (Rev. 4) applies to every berth of the port.",
         "Which berths does the Marine Operations Manual apply to?", "every berth of the port"),
        ("Inspections of the weir follow Ref. No. 666, e.g. a visual check every 24 months.",
         "What reference number do inspections of the weir follow?", "Ref. No. 666"),
        ("Note 1: Chart datum is the lowest astronomical tide at the breakwater.", "What does chart datum mean?",
         "lowest astronomical tide at the breakwater"),
        ("Tugs must be ordered at least four hours before the planned arrival.",
         "How many hours before the planned arrival must tugs be ordered?", "at least four hours"),
        ("According to Fig. 10 the pump station drains towards Quellan.", "In which direction does the pump station drain?",
         "Quellan"),
        ("The Veltra River rises in the Quellan Hills and flows into Lake Orvane.", "What does the Veltra River flow into?",
         "Lake Orvane"),
        ("Dr. Ilse Tamberg leads the emergency team of the port authority.",
         "Who is the leader of the emergency team of the port authority?", "Dr. Ilse Tamberg"),
    ],
)
def test_a_sentence_of_a_known_shape_gives_the_question_a_person_would_ask(sentence, question, target):
    questions = asked(sentence)
    assert question in questions, questions
    assert questions[question].lower() == target.lower()
    assert target.lower() in sentence.lower()  # the answer holds what the question asks


@pytest.mark.parametrize(
    "sentence",
    [
        "It stands 121 metres above the valley floor.",  # "it" needs its subject restored first
        "If the alarm sounds, the crews muster at the North Wharf.",
        "Hot work on board is not permitted during bunkering.",  # a rule would get a negation wrong
        "See Sec. 4.2 for the responsibilities that apply to the slipway.",
    ],
)
def test_a_sentence_without_a_plain_subject_or_with_a_negation_gives_no_rule_question(sentence):
    assert fact_questions(sentence) == []


def test_a_numbered_instruction_is_asked_as_a_step_of_its_section():
    step = {fq.question: fq.target for fq in fact_questions("2. Close the sluice gates of the inner basin.", "4. Emergencies")}
    assert step["What is step 2 of the emergencies procedure?"] == "Close the sluice gates of the inner basin"
    for question in step:
        assert question_problem(question, "2. Close the sluice gates of the inner basin.",
                                "2. Close the sluice gates of the inner basin.") is None
    # Without its section a step is nobody's; a numbered statement is no instruction.
    assert fact_questions("2. Close the sluice gates of the inner basin.") == []
    assert not any("step" in fq.question for fq in fact_questions("2. Tugs are ordered by the pilot.", "Pilotage"))


def test_a_place_without_a_name_is_not_asked_where():
    # "Where is the quay wall?" has a different answer in every town of the documents.
    assert not any(q.startswith("Where") for q in asked("The quay wall at Melkvik is 16.6 m high and carries 32 bollards."))


def test_every_rule_question_of_the_handbook_and_the_manual_passes_the_checks():
    for sentence in INVENTED_FACTS + MANUAL_PARAGRAPHS:
        for fq in fact_questions(sentence):
            assert question_problem(fq.question, sentence, sentence) is None, (fq.question, sentence)
    # and several facts of one sentence give several questions
    assert sum(1 for s in INVENTED_FACTS if len(fact_questions(s)) >= 2) >= 6


def test_plural_nouns_and_adjectives_do_not_end_a_subject():
    assert split_subject("The Orvane pump station No. 4's valves must be inspected every 450 hours.")[0] == \
        "The Orvane pump station No. 4's valves"
    assert split_subject("The reinforced wall is 3 m thick.")[0] == "The reinforced wall"
    assert [base_form(v) for v in ("stands", "carries", "freezes", "passes", "has", "lies")] == \
        ["stand", "carry", "freeze", "pass", "have", "lie"]


def test_a_rule_to_be_done_by_someone_is_not_asked_as_a_past_act():
    # "must be ordered by the Master" says who is to order it, not who ordered it.
    assert list(asked("Pilotage must be ordered by the Master.")) == ["By whom must pilotage be ordered?"]


# A clinic formulary's entry, as pymupdf gives a one-page document: its running header kept
# (one page cannot show that it repeats), each medicine's name a heading line above its text.
FORMULARY_PASSAGE = (
    "MERIDALE DISTRICT CLINIC | STAFF FORMULARY | EDITION 7 | NOT FOR PATIENT USE\n\n"
    "Pindaprine\n\n"
    "Pindaprine is prescribed at the clinic for sinusitis. The usual adult dose is 50 mg, taken every 6 hours with "
    "water. It must never be given together with Moxaodine, because the two slow the heart. Dr. Marisol Duarte added "
    "Pindaprine to the formulary in 2004.\n\n"
    "Moxaodine\n\n"
    "Moxaodine is prescribed at the clinic for migraine. The usual adult dose is 250 mg, taken every 4 hours with water."
)


def test_a_formulary_entry_anchors_to_its_medicine_not_to_the_running_header():
    """ "It" is the medicine of the heading above, not the header line's clinic; a dose
    without a name is the dose of that medicine; a one-word name that opens a sentence is a
    name where the passage uses it as one."""
    from kwdesk.core.text.anchors import anchors_for_text, names_used_inside, subject_of

    texts = [a.text for a in anchors_for_text(FORMULARY_PASSAGE)]
    assert "Pindaprine must never be given together with Moxaodine, because the two slow the heart." in texts
    assert "The usual adult dose of Pindaprine is 50 mg, taken every 6 hours with water." in texts
    assert "The usual adult dose of Moxaodine is 250 mg, taken every 4 hours with water." in texts
    assert not any("MERIDALE" in text for text in texts)
    known = names_used_inside(FORMULARY_PASSAGE)
    assert subject_of("Pindaprine is prescribed at the clinic for sinusitis.", known) == "Pindaprine"
    # Without the passage's word for it, a capitalised first word is an ordinary word.
    assert subject_of("Valve assembly needs grease.", known) is None


@pytest.mark.parametrize(
    "sentence, question, target",
    [
        ("Pindaprine is prescribed at the clinic for sinusitis.", "What is Pindaprine prescribed at the clinic for?",
         "sinusitis"),
        ("Pindaprine is prescribed at the clinic for sinusitis.", "For what is Pindaprine prescribed?", "sinusitis"),
        ("The usual adult dose of Pindaprine is 50 mg, taken every 6 hours with water.",
         "What is the usual adult dose of Pindaprine?", "50 mg"),
        ("The usual adult dose of Pindaprine is 50 mg, taken every 6 hours with water.",
         "How often is the usual adult dose of Pindaprine taken?", "every 6 hours"),
        ("The usual adult dose of Pindaprine is 50 mg, taken every 6 hours with water.",
         "How many mg is the usual adult dose of Pindaprine?", "50 mg"),
        ("Pindaprine must never be given together with Moxaodine, because the two slow the heart.",
         "What must Pindaprine never be given together with?", "Moxaodine"),
    ],
)
def test_what_a_medicine_is_for_its_dose_and_what_not_to_combine_it_with_are_asked(sentence, question, target):
    from kwdesk.core.text.anchors import names_used_inside

    questions = {fq.question: fq.target for fq in fact_questions(sentence, None, names_used_inside(FORMULARY_PASSAGE))}
    assert questions.get(question) == target, questions
    assert question_problem(question, sentence, sentence) is None
