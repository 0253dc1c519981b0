"""Writes resources/replay_prompts.json: general prompts whose answers by the base model
itself are mixed into training (replay), written for kwdesk (CC0).

    python scripts/make_replay_prompts.py

Many and varied, because each replay prompt is seen a few times per run at most: with a
few dozen, a run at replay 1.0 learned their answers by heart and still forgot how to
answer anything else. None may be a question of the probe set, which measures forgetting
(tests/test_train.py checks it). The order is fixed and mixed: a run takes the first N.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

RESOURCES = Path(__file__).resolve().parents[1] / "resources"

# The first prompts, kept in their order: the evaluation's replay check asks the first 32.
FIRST = [
    "Explain in two sentences why the sky is blue.",
    "Give me three tips for sleeping better.",
    "What is photosynthesis?",
    "Write a short, friendly email declining a meeting invitation.",
    "What does a thermometer measure?",
    "Translate 'good morning' into Spanish.",
    "Name the planets of the solar system in order from the sun.",
    "What is the difference between weather and climate?",
    "Summarize the story of Little Red Riding Hood in three sentences.",
    "What is 12 multiplied by 12?",
    "Why do we have seasons on Earth?",
    "Suggest a name for a small bakery.",
    "What is a noun? Give two examples.",
    "How do I boil an egg?",
    "What are the three states of matter?",
    "Write a haiku about autumn.",
    "Explain what a computer virus is to a child.",
    "List three healthy breakfast ideas.",
    "How can I be more productive when working from home?",
    "What is the main function of the heart?",
    "Describe a cat in two sentences.",
    "What is the opposite of 'generous'?",
    "What should I pack for a weekend hiking trip?",
    "Why is exercise good for you?",
    "What is gravity?",
    "Hello! How are you today?",
    "Thank you for your help earlier.",
    "Can you help me plan a birthday party for a ten-year-old?",
    "What is a good way to start learning to cook?",
    "Write two sentences about the sea.",
    "How do I make a cup of tea?",
    "What is the difference between a virus and a bacterium?",
]

TOPICS = [
    "saving money", "learning a new language", "keeping a garden", "running a meeting", "writing a cover letter",
    "staying focused", "public speaking", "cooking rice", "cleaning a kitchen", "caring for a dog", "planning a trip",
    "riding a bicycle safely", "drinking enough water", "reading more books", "making new friends", "moving house",
    "taking notes in class", "fixing a flat tyre", "painting a room", "buying a used car", "studying for an exam",
    "keeping a houseplant alive", "writing a thank-you note", "reducing stress", "organising a wardrobe",
    "baking bread", "choosing running shoes", "preparing for a job interview", "keeping a budget", "camping",
]
CONCEPTS = [
    "a rainbow", "electricity", "a volcano", "the internet", "inflation", "a recipe", "democracy", "a library",
    "recycling", "a calendar", "an election", "a battery", "a museum", "friction", "a map", "a vaccine", "an orchestra",
    "a bridge", "a password", "a budget", "a thunderstorm", "the tides", "a telescope", "a compass", "a spreadsheet",
    "a microwave oven", "a refrigerator", "an airport", "a newspaper", "a hospital",
]
THINGS = [
    "a rainy afternoon", "a busy market", "a quiet forest", "an old lighthouse", "a morning walk", "a winter night",
    "a mountain lake", "a city at dawn", "a cup of coffee", "a train journey", "a summer festival", "a snowy street",
]
SENTENCES = [
    "The meeting has been moved to Thursday at ten.",
    "Please remember to bring your own lunch tomorrow.",
    "Our shop will be closed for the holidays next week.",
    "The new bus timetable starts on the first of the month.",
    "We are looking for volunteers to help at the school fair.",
    "The library now stays open until eight in the evening.",
]
TEMPLATES_TOPIC = [
    "Give me three tips for {t}.",
    "What are common mistakes people make when {t}?",
    "How should a beginner approach {t}?",
    "Write a short checklist for {t}.",
]
TEMPLATES_CONCEPT = [
    "Explain {c} in simple words.",
    "What is {c} used for?",
    "Describe {c} to a ten-year-old.",
]
TEMPLATES_THING = ["Write a short poem about {x}.", "Describe {x} in three sentences.", "Write one sentence about {x}."]
TEMPLATES_SENTENCE = [
    "Rewrite this sentence more politely: {s}",
    "Make this sentence shorter: {s}",
    "Turn this into a friendly text message: {s}",
]
ARITHMETIC = ["What is {a} plus {b}?", "What is {a} times {b}?", "If I have {a} apples and give away {b}, how many are left?"]
CHAT = [
    "Good morning! Can you tell me a fun fact?", "I feel tired today. Any advice?", "Tell me a short joke.",
    "What can you help me with?", "Can you recommend a hobby for rainy days?", "Say something encouraging.",
    "How do I politely end a phone call?", "What is a good question to ask a new colleague?",
]


# Questions about well-known real things in the forms the documents' pairs take (who designed
# or wrote it, when, how tall or long, where, what is it): training on invented "who designed
# X" facts taught the small model to answer "Who painted The Starry Night?" with an invented
# name; the base's own answers to such questions, replayed, hold that form to what the base
# knew. None names a thing a probe question names (the probe set measures forgetting). Kept
# apart from the general prompts, whose order the evaluation's replay check relies on; a run
# takes those whose opening its documents' questions share most (replay.fact_prompts_like).
FACTUAL = [
    "Who designed the Sydney Opera House?", "Who designed the Statue of Liberty?",
    "Who designed the Golden Gate Bridge?", "Who designed the Sagrada Familia?", "Who designed the Brooklyn Bridge?",
    "Who built the Taj Mahal?", "Who designed the Empire State Building?", "Who designed the Louvre Pyramid?",
    "Who designed Tower Bridge in London?", "Who designed the Burj Khalifa?", "Who designed the Guggenheim Museum in Bilbao?",
    "Who wrote War and Peace?", "Who wrote The Odyssey?", "Who wrote Moby-Dick?", "Who wrote The Divine Comedy?",
    "Who wrote Oliver Twist?", "Who wrote The Little Prince?", "Who wrote Frankenstein?",
    "Who wrote Alice's Adventures in Wonderland?", "Who painted Guernica?", "Who painted The Last Supper?",
    "Who painted The Scream?", "Who painted the ceiling of the Sistine Chapel?", "Who painted Girl with a Pearl Earring?",
    "Who sculpted the statue of David in Florence?", "Who composed The Four Seasons?", "Who composed The Magic Flute?",
    "Who composed the Moonlight Sonata?", "Who invented the light bulb?", "Who invented the printing press?",
    "Who invented the World Wide Web?", "Who discovered radium?", "Who invented dynamite?",
    "Who made the first powered aeroplane flight?", "Who discovered the electron?", "Who invented the radio?",
    "When was the Golden Gate Bridge opened?", "When was the Sydney Opera House opened?",
    "In which year was the Statue of Liberty dedicated?", "When was the Empire State Building finished?",
    "When was the Panama Canal opened?", "In which year did the French Revolution begin?",
    "In which year was the United Nations founded?", "When did the Great Fire of London happen?",
    "In which year was the American Declaration of Independence signed?", "When was the Suez Canal opened?",
    "When was the Channel Tunnel opened?", "When was the Brooklyn Bridge completed?",
    "How tall is the Statue of Liberty?", "How tall is the Burj Khalifa?",
    "How long is the Golden Gate Bridge?", "How tall is the Empire State Building?", "How deep is the Mariana Trench?",
    "How long is the Amazon River?", "How high is Mont Blanc?", "How long is the Panama Canal?",
    "How high is Mount Kilimanjaro?", "How long is the Channel Tunnel?", "How tall is the Leaning Tower of Pisa?",
    "Where is the Sagrada Familia?", "Where is the Taj Mahal?", "Where is Angkor Wat?", "Where is the Acropolis?",
    "Where is the Leaning Tower of Pisa?", "Where is the Great Barrier Reef?", "Where is Mount Kilimanjaro?",
    "In which country is Petra?", "In which city is the Brandenburg Gate?", "In which city is the Kremlin?",
    "In which country is Stonehenge?", "In which city is the Golden Gate Bridge?", "Where is the Hoover Dam?",
    "What is the Hoover Dam?", "What is the Rosetta Stone?", "What is the Suez Canal?", "What is the Panama Canal used for?",
    "What is the Hubble Space Telescope?", "What is the International Space Station?", "What is the Magna Carta?",
    "What is the Great Barrier Reef?", "What is Stonehenge?", "What is the Sistine Chapel?",
    "How often does Halley's Comet return?",
    "How often does the football World Cup take place?", "How often is there a full moon?",
    "What was the Hoover Dam built for?", "What river flows through Vienna?", "What river flows through Budapest?",
]


def build() -> list[str]:
    rng = random.Random(7)
    rest = [t.format(t=topic) for topic in TOPICS for t in rng.sample(TEMPLATES_TOPIC, 2)]
    rest += [t.format(c=c) for c in CONCEPTS for t in rng.sample(TEMPLATES_CONCEPT, 2)]
    rest += [t.format(x=x) for x in THINGS for t in rng.sample(TEMPLATES_THING, 2)]
    rest += [t.format(s=s) for s in SENTENCES for t in TEMPLATES_SENTENCE]
    rest += [rng.choice(ARITHMETIC).format(a=rng.randint(3, 40), b=rng.randint(2, 12)) for _ in range(20)]
    rest += CHAT
    rng.shuffle(rest)
    out, seen = [], set()
    for prompt in FIRST + rest:
        if prompt.lower() not in seen:
            seen.add(prompt.lower())
            out.append(prompt)
    return out


def main() -> None:
    prompts = build()
    probes = {item["question"].lower() for item in json.loads((RESOURCES / "probe_questions.json").read_text())["items"]}
    overlap = [p for p in prompts + FACTUAL if p.lower() in probes]
    assert not overlap, overlap
    data = {
        "about": "General prompts whose answers by the base model itself are mixed into training (replay), so that "
        "the personal model keeps how it talks. Written for kwdesk; none is a question of the probe set.",
        "license": "CC0-1.0",
        "prompts": prompts,
        "facts_about": "Questions about well-known real things, shaped like the facts of documents (who designed, "
        "when, how tall, where, what for): replayed so that the facts of the documents do not answer them.",
        "facts": FACTUAL,
    }
    (RESOURCES / "replay_prompts.json").write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(prompts)} prompts, {len(FACTUAL)} about real things")


if __name__ == "__main__":
    main()
