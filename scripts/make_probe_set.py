"""Writes resources/probe_questions.json: general questions with short known answers,
written for kwdesk (public-domain facts, our wording). They measure forgetting: the share
of the base model's right answers that a personal model still gets right.

    python scripts/make_probe_set.py

Each item: question, answers (any one, matched as words after normalizing), topic.
"""

from __future__ import annotations

import json
from pathlib import Path

CAPITALS = [
    ("France", "Paris"), ("Germany", "Berlin"), ("Italy", "Rome"), ("Spain", "Madrid"), ("Portugal", "Lisbon"),
    ("Japan", "Tokyo"), ("China", "Beijing"), ("Russia", "Moscow"), ("Egypt", "Cairo"), ("Greece", "Athens"),
    ("Ireland", "Dublin"), ("Norway", "Oslo"), ("Sweden", "Stockholm"), ("Finland", "Helsinki"), ("Denmark", "Copenhagen"),
    ("Austria", "Vienna"), ("Poland", "Warsaw"), ("Hungary", "Budapest"), ("Canada", "Ottawa"), ("Australia", "Canberra"),
    ("Mexico", "Mexico City"), ("Argentina", "Buenos Aires"), ("Peru", "Lima"), ("Chile", "Santiago"), ("Kenya", "Nairobi"),
    ("India", "New Delhi"), ("Thailand", "Bangkok"), ("South Korea", "Seoul"), ("the United Kingdom", "London"),
    ("the Netherlands", "Amsterdam"), ("Belgium", "Brussels"), ("Switzerland", "Bern"), ("Turkey", "Ankara"),
    ("Iran", "Tehran"), ("Cuba", "Havana"), ("Colombia", "Bogota"), ("Venezuela", "Caracas"), ("Nigeria", "Abuja"),
    ("Ethiopia", "Addis Ababa"), ("Vietnam", "Hanoi"),
]

FACTS = [
    ("How many days are in a week?", ["7", "seven"], "general"),
    ("How many months are in a year?", ["12", "twelve"], "general"),
    ("How many hours are in a day?", ["24", "twenty-four", "twenty four"], "general"),
    ("How many minutes are in an hour?", ["60", "sixty"], "general"),
    ("How many seconds are in a minute?", ["60", "sixty"], "general"),
    ("How many days are in a leap year?", ["366"], "general"),
    ("How many legs does a spider have?", ["8", "eight"], "science"),
    ("How many legs does an insect have?", ["6", "six"], "science"),
    ("How many continents are there?", ["7", "seven"], "geography"),
    ("How many planets are in the solar system?", ["8", "eight"], "science"),
    ("What is the largest planet in the solar system?", ["Jupiter"], "science"),
    ("Which planet is closest to the Sun?", ["Mercury"], "science"),
    ("Which planet is known as the Red Planet?", ["Mars"], "science"),
    ("What is the chemical symbol for water?", ["H2O"], "science"),
    ("What is the chemical symbol for gold?", ["Au"], "science"),
    ("What is the chemical symbol for oxygen?", ["O"], "science"),
    ("What gas do plants take in from the air?", ["carbon dioxide", "CO2"], "science"),
    ("What gas do humans need to breathe?", ["oxygen"], "science"),
    ("At what temperature in Celsius does water boil at sea level?", ["100"], "science"),
    ("At what temperature in Celsius does water freeze?", ["0", "zero"], "science"),
    ("What is the largest ocean on Earth?", ["Pacific"], "geography"),
    ("What is the longest river in Africa?", ["Nile"], "geography"),
    ("What is the tallest mountain on Earth?", ["Everest"], "geography"),
    ("What is the largest desert in Africa?", ["Sahara"], "geography"),
    ("On which continent is Brazil?", ["South America"], "geography"),
    ("On which continent is Kenya?", ["Africa"], "geography"),
    ("What is the largest country by area?", ["Russia"], "geography"),
    ("What star is at the centre of our solar system?", ["Sun"], "science"),
    ("What is the natural satellite of the Earth called?", ["Moon"], "science"),
    ("What organ pumps blood through the body?", ["heart"], "science"),
    ("What organ do humans use to breathe?", ["lungs", "lung"], "science"),
    ("How many bones are in the adult human body?", ["206"], "science"),
    ("What is the freezing point of water in Fahrenheit?", ["32"], "science"),
    ("What colour do you get when you mix blue and yellow?", ["green"], "general"),
    ("What colour do you get when you mix red and white?", ["pink"], "general"),
    ("What colour do you get when you mix red and yellow?", ["orange"], "general"),
    ("What colour is the sky on a clear day?", ["blue"], "general"),
    ("What colour are most leaves in summer?", ["green"], "general"),
    ("What animal is known as the king of the jungle?", ["lion"], "general"),
    ("What is the largest mammal?", ["blue whale", "whale"], "science"),
    ("What do bees make?", ["honey"], "general"),
    ("What is the young of a dog called?", ["puppy"], "general"),
    ("What is the young of a cat called?", ["kitten"], "general"),
    ("What is frozen water called?", ["ice"], "general"),
    ("Who wrote Romeo and Juliet?", ["Shakespeare"], "culture"),
    ("Who painted the Mona Lisa?", ["Leonardo", "da Vinci"], "culture"),
    ("Who developed the theory of relativity?", ["Einstein"], "science"),
    ("Who was the first person to walk on the Moon?", ["Armstrong"], "history"),
    ("In which country are the pyramids of Giza?", ["Egypt"], "geography"),
    ("In which city is the Eiffel Tower?", ["Paris"], "geography"),
    ("What language is mainly spoken in Brazil?", ["Portuguese"], "culture"),
    ("What language is mainly spoken in Mexico?", ["Spanish"], "culture"),
    ("What is the currency of Japan?", ["yen"], "general"),
    ("What is the currency of the United States?", ["dollar"], "general"),
    ("How many sides does a triangle have?", ["3", "three"], "math"),
    ("How many sides does a hexagon have?", ["6", "six"], "math"),
    ("How many sides does a square have?", ["4", "four"], "math"),
    ("How many degrees are in a right angle?", ["90", "ninety"], "math"),
    ("How many degrees are in a full circle?", ["360"], "math"),
    ("What is the square root of 81?", ["9", "nine"], "math"),
    ("What is the square root of 144?", ["12", "twelve"], "math"),
    ("How many centimetres are in a metre?", ["100", "hundred"], "math"),
    ("How many grams are in a kilogram?", ["1000", "thousand"], "math"),
    ("How many metres are in a kilometre?", ["1000", "thousand"], "math"),
]

OPPOSITES = [
    ("hot", "cold"), ("up", "down"), ("big", "small"), ("fast", "slow"), ("day", "night"), ("open", "closed"),
    ("light", "dark"), ("happy", "sad"), ("old", "young"), ("full", "empty"), ("early", "late"), ("left", "right"),
    ("wet", "dry"), ("win", "lose"), ("buy", "sell"), ("push", "pull"), ("north", "south"), ("east", "west"),
    ("true", "false"), ("high", "low"),
]

DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


def items() -> list[dict]:
    out = []
    for country, capital in CAPITALS:
        out.append({"question": f"What is the capital of {country}?", "answers": [capital], "topic": "geography"})
    for question, answers, topic in FACTS:
        out.append({"question": question, "answers": answers, "topic": topic})
    for word, opposite in OPPOSITES:
        out.append({"question": f"What is the opposite of '{word}'?", "answers": [opposite], "topic": "language"})
    for i, day in enumerate(DAYS):
        out.append({"question": f"Which day comes after {day}?", "answers": [DAYS[(i + 1) % 7]], "topic": "calendar"})
    for i, month in enumerate(MONTHS):
        out.append({"question": f"Which month comes after {month}?", "answers": [MONTHS[(i + 1) % 12]], "topic": "calendar"})
    for a, b in [(2, 3), (4, 5), (7, 8), (6, 9), (12, 3), (9, 9), (11, 4), (15, 2), (8, 6), (5, 5), (3, 7), (10, 10),
                 (25, 4), (13, 3), (6, 7)]:
        out.append({"question": f"What is {a} times {b}?", "answers": [str(a * b)], "topic": "math"})
    for a, b in [(2, 2), (5, 7), (12, 8), (20, 22), (15, 15), (9, 6), (30, 12), (45, 5), (100, 250), (17, 3),
                 (64, 36), (11, 11), (8, 13), (40, 60), (3, 4)]:
        out.append({"question": f"What is {a} plus {b}?", "answers": [str(a + b)], "topic": "math"})
    for a, b in [(10, 3), (20, 5), (15, 7), (100, 1), (50, 25), (9, 4), (30, 12), (18, 9), (1000, 1), (44, 4)]:
        out.append({"question": f"What is {a} minus {b}?", "answers": [str(a - b)], "topic": "math"})
    for a, b in [(10, 2), (20, 4), (81, 9), (100, 10), (36, 6), (49, 7), (12, 3), (90, 3), (64, 8), (15, 5)]:
        out.append({"question": f"What is {a} divided by {b}?", "answers": [str(a // b)], "topic": "math"})
    return out


def main() -> None:
    data = {
        "about": "General questions with short known answers, written for kwdesk; they measure forgetting. "
                 "Facts are common knowledge; the wording is kwdesk's own. Made by scripts/make_probe_set.py.",
        "license": "CC0-1.0",
        "items": items(),
    }
    path = Path(__file__).resolve().parents[1] / "resources" / "probe_questions.json"
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(data['items'])} questions written to {path}")


if __name__ == "__main__":
    main()
