"""The checks that keep generated data grounded, on planted good and bad examples."""

import pytest

from kwdesk.core.data.checks import (
    DuplicateFilter,
    copied_fraction,
    parse_json_field,
    question_problem,
    strip_label,
    support_problem,
    supported_sentences,
)
from kwdesk.core.text.anchors import (
    anchors_for_text,
    entities_in,
    restore_subject,
    sentence_kind,
    subject_of,
)

SOURCE = (
    "The Larkspur Dam on the Veltra River is 212 metres high. "
    "Engineer Maren Oskarsdottir designed the Larkspur Dam in 1931. "
    "Valve assembly KX-9 must be inspected every 450 operating hours."
)
ANSWER = "The Larkspur Dam on the Veltra River is 212 metres high."


@pytest.mark.parametrize(
    "question, problem",
    [
        ("How high is the Larkspur Dam on the Veltra River?", None),
        (None, "output did not parse"),
        ("How high is the dam", "not a question"),
        ("What is the answer to this question?", "refers to the text instead of the subject"),
        ("What does the passage say about dams?", "refers to the text instead of the subject"),
        ("In what year did Marnna Oskarsdottir build it?", "mentions names or numbers not in the source"),
        ("Was the dam built in 1950?", "mentions names or numbers not in the source"),
        ("Is the Larkspur Dam 212 metres high?", "gives its answer away"),
        ("Who likes cheese sandwiches?", "not about its answer"),
        ("dam dam dam dam high?", "repeats itself"),
    ],
)
def test_question_checks(question, problem):
    assert question_problem(question, SOURCE, ANSWER) == problem


def test_a_question_about_an_entity_must_name_it():
    assert question_problem("How high is it on the river?", SOURCE, ANSWER, must_mention="Larkspur Dam") == "does not name its subject"


def test_unsupported_answers_are_caught():
    assert support_problem(ANSWER, SOURCE) is None
    assert support_problem("The Larkspur Dam is 300 metres high.", SOURCE) == "answer has numbers not in the source"
    assert support_problem("The Quarantine Hills feed the Veltra River.", SOURCE) == "answer has names not in the source"
    assert support_problem("Bananas are yellow fruit loved by monkeys everywhere.", SOURCE) == "answer not supported by the source"
    assert support_problem("", SOURCE) == "empty answer"


def test_a_rephrasing_keeps_only_supported_sentences():
    text = "The dam is 212 metres high. It was built by aliens in 1950. Maren Oskarsdottir designed the dam."
    assert supported_sentences(text, SOURCE) == "The dam is 212 metres high. Maren Oskarsdottir designed the dam."
    assert supported_sentences("🇮🇪\n🇨🇩\n🇨🇩 🇨🇩 🇨🇩\nDam.", SOURCE) == ""
    looping = "The dam is 212 metres high.\nThe dam is 212 metres high. The dam is 212 metres high."
    assert supported_sentences(looping, SOURCE) == "The dam is 212 metres high."
    assert copied_fraction(ANSWER, SOURCE) == 1.0
    assert copied_fraction("A dam of 212 metres, designed by an engineer in 1931, stands on the river.", SOURCE) < 0.3
    assert strip_label("Summary: The dam is high.") == "The dam is high."


def test_planted_duplicates_are_found():
    dedupe = DuplicateFilter([("How high is the Larkspur Dam?", ANSWER)])
    assert dedupe.problem("How high is the Larkspur Dam?", ANSWER) == "exact duplicate"
    assert dedupe.problem("how HIGH is the Larkspur Dam", ANSWER) == "exact duplicate"
    assert dedupe.problem("How high is the Larkspur Dam exactly?", ANSWER) == "near duplicate"
    assert dedupe.problem("Who designed the Larkspur Dam?", ANSWER) is None
    # The same question with another answer is another pair.
    assert dedupe.problem("How high is the Larkspur Dam?", "It is 212 m.") is None


def test_json_output_is_parsed_or_refused():
    assert parse_json_field('{"question": " Why? "}', "question") == "Why?"
    assert parse_json_field('noise {"question": "Why?"} noise', "question") == "Why?"
    assert parse_json_field("not json", "question") is None
    assert parse_json_field('{"other": 1}', "question") is None


def test_entities_subjects_and_kinds():
    assert entities_in(SOURCE) == ["Larkspur Dam", "Veltra River", "Maren Oskarsdottir", "KX-9"]
    # A name never runs on over the end of a sentence; a short abbreviation may join one.
    assert entities_in("It flows into Lake Orvane. The Veltra River rises.") == ["Lake Orvane", "Veltra River"]
    assert entities_in("Later, Dr. Ilse Tamberg came.") == ["Ilse Tamberg"]
    assert entities_in("He built the Larkspur Dam.\nThe Larkspur Dam is high.") == ["Larkspur Dam"]
    # Months are dates, references are not names, initials belong to them.
    assert entities_in("The weir at Amberhollow is shut from April to October.") == ["Amberhollow"]
    assert entities_in("This Marine Operations Manual (Rev. 4) applies.") == ["Marine Operations Manual"]
    assert entities_in("Capt. J. Kralik approved it at Brisk Harbour.") == ["Capt. J. Kralik", "Brisk Harbour"]
    assert subject_of("This Marine Operations Manual (Rev. 4) applies.") == "The Marine Operations Manual"
    assert subject_of("The town of Brisk Harbour exports slate.") == "The town of Brisk Harbour"
    assert subject_of("Valve assembly KX-9 must be inspected.") == "Valve assembly KX-9"
    # The words between the name and the verb belong to the subject: without them every
    # structure in Orvane became "The Orvane", and their heights contradicted each other.
    assert subject_of("The Orvane water tower No. 1 was built in 1989.") == "The Orvane water tower No. 1"
    assert subject_of("The Larkspur Dam on the Veltra River is 212 metres high.") == "The Larkspur Dam"
    assert restore_subject("Its crest is 300 metres long.", "The Larkspur Dam") == "The Larkspur Dam's crest is 300 metres long."
    assert restore_subject("It holds back Lake Orvane.", "The Larkspur Dam") == "The Larkspur Dam holds back Lake Orvane."
    assert restore_subject("This is important.", "The Larkspur Dam") is None
    assert sentence_kind("Marie Curie discovered polonium in 1898.") == "date"
    assert sentence_kind("Ice floats because it is less dense.") == "why"


def test_anchors_restore_it_to_the_thing_and_she_to_the_person():
    text = (
        "The Larkspur Dam on the Veltra River is 212 metres high. Engineer Maren Oskarsdottir designed "
        "the Larkspur Dam in 1931. It holds back Lake Orvane. She later moved to Brisk Harbour."
    )
    texts = [a.text for a in anchors_for_text(text)]
    assert "The Larkspur Dam holds back Lake Orvane." in texts
    assert "Engineer Maren Oskarsdottir later moved to Brisk Harbour." in texts


def test_questions_that_ask_what_their_answer_does_not_hold_are_rejected_on_the_labelled_set():
    # tests/labelled/plain_path_questions.jsonl: the stored questions of the plain path on a
    # laid-out manual, each marked right or wrong by hand with the reason (BENCHMARKS.md).
    import json
    from pathlib import Path

    from kwdesk.core.data.checks import answer_lacks

    rows = [json.loads(line) for line in (Path(__file__).parent / "labelled" / "plain_path_questions.jsonl").open()]
    right = [r for r in rows if r["right"]]
    wrong = [r for r in rows if not r["right"]]
    assert len(rows) == 68 and len(right) == 31
    rejected_right = [r["question"] for r in right if answer_lacks(r["question"], r["answer"])]
    rejected_wrong = [r for r in wrong if answer_lacks(r["question"], r["answer"])]
    assert rejected_right == []  # no right question is lost
    assert len(rejected_wrong) >= 24  # of 37: a purpose, a status, a time, who, how, what it is, its subject
    assert answer_lacks("What is the purpose of the weir?", "The weir was built in 1963.") == \
        "asks a purpose the answer does not give"
    assert answer_lacks("Why was the weir built?", "The weir was built because the river flooded in 1963.") is None
    assert answer_lacks("Who designed the Larkspur Dam?", "Engineer Maren Oskarsdottir designed the Larkspur Dam in 1931.") is None
    assert answer_lacks("When was the Larkspur Dam built?", "The Larkspur Dam was built in 1931.") is None


def test_a_question_that_points_at_another_sentence_of_its_passage_is_rejected():
    from docgen import INVENTED_FACTS

    from kwdesk.core.data.checks import roundtrip_problem

    passage = " ".join(INVENTED_FACTS)
    dam, designer, river = INVENTED_FACTS[0], INVENTED_FACTS[1], INVENTED_FACTS[2]
    # Asked of the dam's height, but the passage answers it with the river's sentence.
    assert roundtrip_problem("Where does the Veltra River rise?", dam, passage) == "another sentence of the passage answers it"
    assert roundtrip_problem("Who designed the Larkspur Dam?", dam, passage) is not None
    # The right sentences lead back to themselves.
    assert roundtrip_problem("Where does the Veltra River rise?", river, passage) is None
    assert roundtrip_problem("Who designed the Larkspur Dam?", designer, passage) is None
    assert roundtrip_problem("How high is the Larkspur Dam?", dam, passage) is None


def test_a_rephrasing_that_joins_two_sentences_into_a_new_claim_is_dropped():
    source = ("The contractor Tollgate Marine maintains the buoys of the outer channel. "
              "Any incident must be reported to the operations manager within 24 hours. "
              "The Larkspur Dam on the Veltra River is 212 metres high. "
              "Engineer Maren Oskarsdottir designed the Larkspur Dam in 1931.")
    joined = "The contractor Tollgate Marine ensures that any incident is reported to the operations manager within 24 hours."
    assert supported_sentences(joined, source) == ""
    # Two facts of the same dam told in one sentence are both in the passage: kept.
    together = "The Larkspur Dam, designed by Maren Oskarsdottir in 1931, is 212 metres high."
    assert supported_sentences(together, source) == together
    assert supported_sentences("Tollgate Marine maintains the buoys of the outer channel.", source)


def test_the_second_labelled_set_keeps_its_right_teacher_questions():
    # tests/labelled/second_sample_questions.jsonl: 50 stored questions of the plain path
    # after the rule-built questions and the new checks, read by hand (43 right:
    # BENCHMARKS.md). The teacher's questions that were right must still pass the checks
    # (their answer as the passage); rule-built ones are made without question_problem.
    import json
    from pathlib import Path

    rows = [json.loads(line) for line in (Path(__file__).parent / "labelled" / "second_sample_questions.jsonl").open()]
    assert len(rows) == 50 and sum(r["right"] for r in rows) == 43
    teacher = [r for r in rows if r["made_by"] != "kwdesk-rules" and "related" not in r["question"]]
    lost = [r["question"] for r in teacher if r["right"] and question_problem(r["question"], r["answer"], r["answer"])]
    assert lost == []
    caught = [r["question"] for r in teacher if not r["right"] and question_problem(r["question"], r["answer"], r["answer"])]
    assert any("cubic meters" in q for q in caught)


def test_each_statement_of_a_rephrasing_must_be_said_of_its_subject_by_the_passage():
    source = ("The Marine Operations Manual was first issued in 2009 and is reviewed every two years. "
              "The communication of the pump station were revised by St. Anne's yard in 2003. "
              "The infrastructure of the canal lock were revised by St. Anne's yard in 2018.\n"
              "Pilotage is compulsory for vessels longer than 80 m in the inner harbour.\n"
              "- Tugs must be ordered at least four hours before the planned arrival.")
    # Every word is in the passage, but the canal lock's 2018 revision was of its infrastructure.
    assert supported_sentences("The communication of the canal lock was revised in 2018.", source) == ""
    # The tugs' four hours said of pilotage, in an apposition and through a pronoun.
    assert supported_sentences("Pilotage, a requirement for vessels longer than 80 m in the inner harbour, must be "
                               "ordered at least four hours before the planned arrival.", source) == ""
    told = "Pilotage is compulsory for vessels longer than 80 m. It must be ordered at least four hours before the planned arrival."
    assert supported_sentences(told, source) == "Pilotage is compulsory for vessels longer than 80 m."
    assert supported_sentences("It must be ordered at least four hours before the planned arrival.", source) == ""
    # What the passage says of its subject stays, in other words, through a pronoun, in a dialogue.
    kept = "The Marine Operations Manual was first issued in 2009. It is reviewed every two years."
    assert supported_sentences(kept, source) == kept
    assert supported_sentences("Teacher: The communication of the pump station was revised in 2003.", source)
    assert supported_sentences("Student: When must tugs be ordered?", source) == ""  # fewer than 3 content words


def test_no_unsupported_statement_of_the_labelled_rephrasings_is_kept():
    # tests/labelled/rephrasing_sentences.jsonl: 33 raw rephrasings by the bundled teacher
    # (summary, lecture notes, dialogue of 11 passages of the laid-out manual, the Word manual
    # and the handbook), each sentence marked supported or not by hand, with the reason.
    import json
    from pathlib import Path

    from kwdesk.core.data.checks import normalized
    from kwdesk.core.text.sentences import split_sentences

    rows = [json.loads(line) for line in (Path(__file__).parent / "labelled" / "rephrasing_sentences.jsonl").open()]
    assert len(rows) == 33
    kept_wrong, kept_right, right = [], 0, 0
    for row in rows:
        text = "\n".join(s["sentence"] for s in row["sentences"])
        kept = {normalized(k) for line in supported_sentences(text, row["source"]).splitlines() for k in split_sentences(line)}
        for s in {normalized(s["sentence"]): s for s in row["sentences"]}.values():
            hit = normalized(s["sentence"]) in kept
            if s["supported"]:
                right += 1
                kept_right += hit
            elif hit:
                kept_wrong.append((s["sentence"], s["reason"]))
    assert kept_wrong == []  # the check before statement-by-statement support kept 18 of 191
    assert right == 37 and kept_right >= 34  # what the passage says of its subject stays


@pytest.mark.parametrize("new, original, answer, problem", [
    # Garbled rewordings of rule-built questions by the bundled teacher, read on the plain path.
    ("Can you tell me when the Brisk Harbour was commissioned to dry dock?", "When was the Brisk Harbour dry dock commissioned?",
     "The Brisk Harbour dry dock was commissioned in 2009 under Rev. 6 of the plan.", "breaks up a name of the original"),
    ("Can you tell me what happens when hot work on board requires?", "What does hot work on board require?",
     "Hot work on board requires a permit signed by the duty officer.", "asks something else"),
    ("When did the Brisk Harbour dry dock be commissioned?", "When was the Brisk Harbour dry dock commissioned?",
     "The Brisk Harbour dry dock was commissioned in 2009 under Rev. 6 of the plan.", "ungrammatical"),
    ("How many bollards does the quay wall carry?", "How many bollards does the quay wall at Brisk Harbour carry?",
     "The quay wall at Brisk Harbour is 13.8 m high and carries 22 bollards.", "drops a name of the original"),
    # Right rewordings stay.
    ("Can you tell me when the Brisk Harbour dry dock was commissioned?", "When was the Brisk Harbour dry dock commissioned?",
     "The Brisk Harbour dry dock was commissioned in 2009 under Rev. 6 of the plan.", None),
    ("Can you tell me how many bollards the quay wall at Brisk Harbour carries?",
     "How many bollards does the quay wall at Brisk Harbour carry?",
     "The quay wall at Brisk Harbour is 13.8 m high and carries 22 bollards.", None),
])
def test_a_rewording_that_changes_what_is_asked_is_rejected(new, original, answer, problem):
    from kwdesk.core.data.checks import paraphrase_problem

    assert paraphrase_problem(new, original, answer) == problem


def test_a_question_about_a_name_brings_no_words_of_its_own():
    # The teacher's questions of the entities strategy, read in the session 10 sample (0 of 4 right).
    source = ("Ms. Lena Vogt approved the authorisation for the turbine hall at Brisk Harbour. "
              "The town of Brisk Harbour exports mostly tinned mackerel and slate. "
              "According to Fig. 10 the weir drains towards Orvane.")
    approved, exports, drains = ("Ms. Lena Vogt approved the authorisation for the turbine hall at Brisk Harbour.",
                                 "The town of Brisk Harbour exports mostly tinned mackerel and slate.",
                                 "According to Fig. 10 the weir drains towards Orvane.")
    assert question_problem("Which ship approved the authorisation for the turbine hall at Brisk Harbour?", source,
                            approved, must_mention="Brisk Harbour") == "asks about what the passage does not say"
    assert question_problem("What is the main export of mackerel in the town of Brisk Harbour?", source, exports,
                            must_mention="Brisk Harbour") == "asks about what the passage does not say"
    assert question_problem("What was the weir that the weir drains to Orvane?", source, drains,
                            must_mention="Orvane") == "names the same thing twice"
    assert question_problem("What does the town of Brisk Harbour export?", source, exports, must_mention="Brisk Harbour") is None


def test_the_third_labelled_set_loses_no_right_question_and_catches_what_turned_into_another_question():
    # tests/labelled/third_sample_questions.jsonl: 50 stored questions of the plain path with
    # a small teacher that asks only where the rules asked less than twice (session 11), read
    # by hand: 46 right (rule-built 32 of 32, the teacher's 14 of 18), each wrong one with its
    # reason. Paraphrases carry the question they reword.
    import json
    from pathlib import Path

    from kwdesk.core.data.checks import paraphrase_problem

    rows = [json.loads(line) for line in (Path(__file__).parent / "labelled" / "third_sample_questions.jsonl").open()]
    assert len(rows) == 50 and sum(r["right"] for r in rows) == 46

    def problem(r):
        found = question_problem(r["question"], r["answer"], r["answer"])
        if found is None and r["original"]:
            found = paraphrase_problem(r["question"], r["original"], r["answer"])
        return found

    teacher = [r for r in rows if r["made_by"] != "kwdesk-rules"]
    assert [r["question"] for r in teacher if r["right"] and problem(r)] == []
    caught = {r["question"]: problem(r) for r in teacher if not r["right"] and problem(r)}
    assert caught == {
        "What is the town of Brisk Harbour famous for?": "asks what it is known for; the answer does not say",
        "Can you tell me how to operate the KX-9 valve at maximum pressure?": "asks something else",
        "What is the authorisation for the water tower at Brisk Harbour?": "asks for another kind of answer than the original",
    }
    # Rewordings that keep the kind of answer by other words stay.
    assert paraphrase_problem("What is the name of the designer of the Larkspur Dam?", "Who designed the Larkspur Dam?",
                              "Engineer Maren Oskarsdottir designed the Larkspur Dam in 1931.") is None


def test_a_question_that_several_sentences_answer_differently_is_rejected():
    # A manual says "Operators record X in the log book before the end of each watch" of four
    # things: asked what they record, no one sentence is the answer (read by hand, session 11).
    from kwdesk.core.data.checks import roundtrip_problem

    passage = ("Operators record the specifications in the log book before the end of each watch. "
               "Operators record the infrastructure in the log book before the end of each watch.")
    one = "Operators record the specifications in the log book before the end of each watch."
    assert roundtrip_problem("What does the operator record in the log book before the end of each watch?", one, passage) == \
        "several sentences of the passage answer it differently"
    # Asked by what tells them apart, each leads back to its own sentence.
    assert roundtrip_problem("When do operators record the specifications in the log book?", one, passage) is None


def test_the_fourth_labelled_set_loses_no_right_question_and_catches_one_of_its_four_wrong_ones():
    # tests/labelled/fourth_sample_questions.jsonl: 50 stored questions of the plain path with
    # the third rule wordings (session 11), read by hand with their passage: 46 right
    # (rule-built 33 of 33, the teacher's 13 of 17).
    import json
    from pathlib import Path

    from kwdesk.core.data.checks import paraphrase_problem

    rows = [json.loads(line) for line in (Path(__file__).parent / "labelled" / "fourth_sample_questions.jsonl").open()]
    assert len(rows) == 50 and sum(r["right"] for r in rows) == 46
    # A table's cells are asked by rule from the table, not checked against its prose.
    rows = [r for r in rows if "(Table 1:" not in r["answer"]]

    def problem(r):
        found = question_problem(r["question"], r["passage"], r["answer"])
        if found is None and r["original"]:
            found = paraphrase_problem(r["question"], r["original"], r["answer"])
        return found

    assert [r["question"] for r in rows if r["right"] and problem(r)] == []
    caught = {r["question"]: problem(r) for r in rows if not r["right"] and problem(r)}
    # "What does the operator record ...?" stays: the other sentences of that shape are in
    # other passages, which a question's checks do not read (the tie check reads one passage).
    assert caught == {"How many cubic meters does a pump station have?": "asks about any such thing, not the one the answer names"}


def test_a_question_that_other_passages_of_the_document_answer_differently_is_rejected():
    from kwdesk.core.data.checks import DocumentSentences

    passages = ["The Larkspur Dam is 212 metres high. Operators record the specifications in the log book before the "
                "end of each watch.", "Operators record the infrastructure in the log book before the end of each watch."]
    document = DocumentSentences(passages)
    one = "Operators record the specifications in the log book before the end of each watch."
    assert document.ambiguity("What does the operator record in the log book before the end of each watch?", one) == \
        "several sentences of the document answer it differently"
    assert document.ambiguity("When do operators record the specifications in the log book?", one) is None
    assert document.ambiguity("How high is the Larkspur Dam?", "The Larkspur Dam is 212 metres high.") is None
