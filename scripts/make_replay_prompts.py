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
    overlap = [p for p in prompts if p.lower() in probes]
    assert not overlap, overlap
    data = {
        "about": "General prompts whose answers by the base model itself are mixed into training (replay), so that "
        "the personal model keeps how it talks. Written for kwdesk; none is a question of the probe set.",
        "license": "CC0-1.0",
        "prompts": prompts,
    }
    (RESOURCES / "replay_prompts.json").write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(prompts)} prompts")


if __name__ == "__main__":
    main()
