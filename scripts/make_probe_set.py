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

# Added in session 4 (from 193 to about 300 questions): more topics, so that a forgetting
# figure does not lean on arithmetic and capitals.
MORE_FACTS = [
    ("On which continent is Egypt?", ["Africa"], "geography"),
    ("On which continent is Germany?", ["Europe"], "geography"),
    ("On which continent is Japan?", ["Asia"], "geography"),
    ("What is the highest mountain in the world?", ["Everest"], "geography"),
    ("Which country has the largest population in South America?", ["Brazil"], "geography"),
    ("Which ocean lies between Europe and North America?", ["Atlantic"], "geography"),
    ("In which city is the Colosseum?", ["Rome"], "geography"),
    ("Which country is shaped like a boot?", ["Italy"], "geography"),
    ("What is the chemical symbol for iron?", ["Fe"], "science"),
    ("What is the chemical symbol for sodium?", ["Na"], "science"),
    ("What is the chemical symbol for silver?", ["Ag"], "science"),
    ("What is the chemical symbol for carbon?", ["C"], "science"),
    ("What is the chemical symbol for hydrogen?", ["H"], "science"),
    ("What is the lightest gas?", ["hydrogen"], "science"),
    ("What is the hardest natural substance?", ["diamond"], "science"),
    ("What force pulls objects towards the Earth?", ["gravity"], "science"),
    ("What do bees collect from flowers?", ["nectar", "pollen"], "science"),
    ("How many hearts does an octopus have?", ["3", "three"], "science"),
    ("How many legs does a cow have?", ["4", "four"], "science"),
    ("How many wings does a bird have?", ["2", "two"], "science"),
    ("What is the closest star to the Earth?", ["Sun"], "science"),
    ("Which planet has the most famous rings?", ["Saturn"], "science"),
    ("Which planet is the third from the Sun?", ["Earth"], "science"),
    ("What is the boiling point of water in Fahrenheit?", ["212"], "science"),
    ("What part of the plant takes in water from the soil?", ["roots", "root"], "science"),
    ("What do caterpillars turn into?", ["butterflies", "butterfly", "moths", "moth"], "science"),
    ("What is the largest organ of the human body?", ["skin"], "science"),
    ("What blood cells carry oxygen?", ["red"], "science"),
    ("How many teeth does an adult human usually have?", ["32", "thirty-two"], "science"),
    ("What is H2O more commonly called?", ["water"], "science"),
    ("What metal is liquid at room temperature?", ["mercury"], "science"),
    ("What is the fastest land animal?", ["cheetah"], "science"),
    ("What is the tallest animal?", ["giraffe"], "science"),
    ("What animal is known for its black and white stripes?", ["zebra"], "science"),
    ("Which animal has a trunk?", ["elephant"], "science"),
    ("In which year did the Second World War end?", ["1945"], "history"),
    ("In which year did the First World War begin?", ["1914"], "history"),
    ("In which year did humans first land on the Moon?", ["1969"], "history"),
    ("Who was the first President of the United States?", ["Washington"], "history"),
    ("In which year did the Berlin Wall fall?", ["1989"], "history"),
    ("In which year did Columbus first reach the Americas?", ["1492"], "history"),
    ("Which ship sank in 1912 after hitting an iceberg?", ["Titanic"], "history"),
    ("Who invented the telephone?", ["Bell"], "history"),
    ("Who discovered penicillin?", ["Fleming"], "history"),
    ("Who proposed the theory of evolution by natural selection?", ["Darwin"], "history"),
    ("Which ancient people built Machu Picchu?", ["Inca", "Incas"], "history"),
    ("Who wrote Hamlet?", ["Shakespeare"], "culture"),
    ("Who composed the Fifth Symphony that begins with four famous notes?", ["Beethoven"], "culture"),
    ("Who painted The Starry Night?", ["van Gogh", "Gogh"], "culture"),
    ("Who wrote Pride and Prejudice?", ["Austen"], "culture"),
    ("Who wrote the novel 1984?", ["Orwell"], "culture"),
    ("Who wrote Don Quixote?", ["Cervantes"], "culture"),
    ("How many strings does a standard violin have?", ["4", "four"], "culture"),
    ("How many players are on a football (soccer) team on the field?", ["11", "eleven"], "culture"),
    ("How many players are on a basketball team on the court?", ["5", "five"], "culture"),
    ("In which sport is a shuttlecock used?", ["badminton"], "culture"),
    ("How often are the Summer Olympic Games held, in years?", ["4", "four"], "culture"),
    ("How many keys does a standard piano have?", ["88", "eighty-eight"], "culture"),
    ("What language is mainly spoken in Argentina?", ["Spanish"], "culture"),
    ("What language is mainly spoken in Austria?", ["German"], "culture"),
    ("What is the currency of the United Kingdom?", ["pound"], "general"),
    ("What is the currency of India?", ["rupee"], "general"),
    ("What is the currency of most countries of the European Union?", ["euro"], "general"),
    ("How many sides does an octagon have?", ["8", "eight"], "math"),
    ("How many sides does a pentagon have?", ["5", "five"], "math"),
    ("What is half of 50?", ["25", "twenty-five"], "math"),
    ("What is a quarter of 100?", ["25", "twenty-five"], "math"),
    ("What is 10 percent of 200?", ["20", "twenty"], "math"),
    ("What is 3 squared?", ["9", "nine"], "math"),
    ("What is 2 to the power of 10?", ["1024"], "math"),
    ("What is the next prime number after 7?", ["11", "eleven"], "math"),
    ("Is 15 an odd or an even number?", ["odd"], "math"),
    ("How many millimetres are in a centimetre?", ["10", "ten"], "math"),
    ("How many days are in a common year?", ["365"], "general"),
    ("How many weeks are in a year?", ["52", "fifty-two"], "general"),
    ("How many days does February have in a leap year?", ["29", "twenty-nine"], "calendar"),
    ("How many days does April have?", ["30", "thirty"], "calendar"),
    ("How many days does January have?", ["31", "thirty-one"], "calendar"),
    ("Which season comes after winter?", ["spring"], "calendar"),
    ("Which season comes after summer?", ["autumn", "fall"], "calendar"),
    ("On which day of December is Christmas Day?", ["25"], "calendar"),
    ("How many years are in a century?", ["100", "hundred"], "general"),
    ("How many years are in a decade?", ["10", "ten"], "general"),
    ("How many items are in a dozen?", ["12", "twelve"], "general"),
    ("What do you call a baby sheep?", ["lamb"], "general"),
    ("What do you call a baby cow?", ["calf"], "general"),
    ("What do you call a baby horse?", ["foal"], "general"),
    ("What do cows drink as babies?", ["milk"], "general"),
    ("What is the main ingredient of bread?", ["flour", "wheat"], "general"),
    ("What fruit is used to make wine?", ["grapes", "grape"], "general"),
    ("What colour is a ripe banana?", ["yellow"], "general"),
    ("What colour do you get when you mix black and white?", ["grey", "gray"], "general"),
    ("How many colours are in a rainbow?", ["7", "seven"], "general"),
    ("What is the plural of 'mouse'?", ["mice"], "language"),
    ("What is the plural of 'child'?", ["children"], "language"),
    ("What is the plural of 'foot'?", ["feet"], "language"),
    ("What is the past tense of 'go'?", ["went"], "language"),
    ("What is the past tense of 'eat'?", ["ate"], "language"),
    ("How many letters are in the English alphabet?", ["26", "twenty-six"], "language"),
    ("What is the first letter of the English alphabet?", ["A"], "language"),
    ("Which letter comes after Q in the alphabet?", ["R"], "language"),
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
    for question, answers, topic in FACTS + MORE_FACTS:
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
