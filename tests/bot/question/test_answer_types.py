"""What kind of answer a question asks for (bot/question/answer_types.py)."""

import pytest

from bot.question.answer_types import asks_what, expected_type, names_someone_new, starts_with_pronoun, topic_terms


@pytest.mark.parametrize(
    "question,sentence,typed",
    [
        ("When will it be ready?", "It will be ready in 2027.", True),
        ("When will it be ready?", "It will be ready soon.", False),
        ("When will the brigade be ready?", "It has been planned since 2023.", False),
        ("When will the brigade be ready?", "The unit is expected to reach full capability in 2027.", True),
        ("And when did it start?", "It started in the 10th century.", True),
        ("What year was it built?", "Built in May.", True),
        ("How many vehicles?", "About 2,000 vehicles.", True),
        ("How many vehicles?", "Many vehicles.", False),
        ("how many episodes of touching evil are there", "Touching Evil began airing in 1997.", False),
        ("how many episodes of touching evil are there", "It ran for 16 episodes from 1997.", True),
        ("How much did it cost in 1990?", "In the 1990s it cost three million.", True),
        ("How many ships use it each year?", "It lifts ships 26 metres above sea level.", False),  # a measure
        ("How many ships use it each year?", "A ship takes about eight to ten hours.", False),
        ("How many ships use it each year?", "About 14,000 vessels pass through.", True),
        ("How many stars were in her catalogue?", "Orsenigo (14 March 1861 – 2 October 1927) was ...", False),  # dates
        ("How many stars were in her catalogue?", "It listed 412 stars.", True),
        ("how many kilometers of great wall of china", "The Ming walls measure 8,850 km.", True),  # the unit asked
        ("How tall is the tower?", "It stands 553 metres tall.", True),
        ("How heavy is it?", "It is very heavy.", False),
        ("How deep?", "At a depth of 28 meters they spotted cannons.", True),
        ("How deep?", "The ship sank more than 350 years ago.", False),  # a number, but no depth
        ("Why is it here?", "No numbers at all.", True),
        ("Who drives the number 95 car?", "He drives the No. 95 car.", False),
        ("Who drives the number 95 car?", "Michael McDowell drives it for Leavine Family Racing.", True),
        ("who talks for belle", "The voice of Belle is Paige O'Hara.", True),
        ("Where is Bonn?", "Bonn lies on the Rhine in North Rhine-Westphalia.", True),
        ("Where is Bonn?", "It is a city in the west of Bonn.", False),
        ("Where did Operation Anaconda take place?", "Operation Anaconda took place in early March 2002.", False),
        ("Who won?", "It was won on Sunday.", False),
        ("When?", "Trondheim was founded in 997 by the Viking king Olav Tryggvason.", True),  # an early year
        ("When?", "Pompeii was buried in AD 79.", True),
        ("When?", "The crossing takes place in 120 days.", False),  # a count, not a year
        ("Who got her interested in math?", "As a girl she was taught mathematics by her uncle.", True),  # a role
        ("Who was her uncle?", "As a girl she was taught mathematics by her uncle.", False),  # the question's own
        ("Where did she study?", "She studied with her uncle.", False),  # a relation is no place
        ("What's her name?", "The couple registered the name in 2010.", False),  # "name" is no name
        ("What are their names?", '"We cried," said Dana Okafor, 47.', True),
        ("How old is she?", "The couple registered the name in 2010.", False),  # a year is no age
        ("How old is she?", "Dana Okafor, 47, opened the cafe.", True),
        ("how long to cross the panama canal", "The United States controlled the canal until 1999.", False),
        ("how long to cross the panama canal", "A ship takes about eight to ten hours to pass through.", True),
        ("How long does it take diamond to form?", "Most have ages between 1billion and 3.5billion years.", True),
    ],
)
def test_expected_answer_type(question: str, sentence: str, typed: bool) -> None:
    kind = expected_type(question)
    assert (kind is None or kind(sentence)) is typed


@pytest.mark.parametrize(
    "question,topic",
    [
        ("How old is Bao?", {"bao"}),
        ("What day was it?", set()),  # "day" says what is wanted: a sentence saying "days" holds no date for it
        ("How long is the Panama Canal?", {"panama", "canal"}),
        ("In what year did the Normans reach Italy?", {"norman", "reach", "itali"}),
        ("What happened on that day?", {"happen", "day"}),  # a day it is about, not one it asks for
        ("What was his name?", set()),
        ("Under what name?", {"under", "name"}),  # the name it was given: "who named it Nidaros"
    ],
)
def test_topic_terms_leave_out_the_words_that_ask_for_a_kind_of_answer(question: str, topic: set[str]) -> None:
    assert topic_terms(question) == topic


@pytest.mark.parametrize(
    ("sentence", "pronoun"),
    [
        ("He is best known for his voice role.", True),
        ("In 1843 she translated the paper.", True),
        ("Since 2009, he has been the head coach.", True),
        ('"It was late," she said.', True),
        ("Ada wrote it.", False),  # a name first
        ("The book won its prize.", False),  # a noun phrase is the subject
        ("At age 12, Crawford rose to fame.", False),
        ("In April 1191 Richard left Messina.", False),
    ],
)
def test_a_sentence_whose_subject_is_a_pronoun(sentence: str, pronoun: bool) -> None:
    assert starts_with_pronoun(sentence) is pronoun


def test_questions_that_ask_who_or_what() -> None:
    assert asks_what("who plays colin on young and the restless") and asks_what("Whose daughter was she?")
    assert asks_what("What is the largest ship ever built?") and asks_what("Which museum has the most art?")
    assert not asks_what("Where is Bonn?") and not asks_what("How big is the brigade?")
    assert not asks_what("When was what built?")


def test_a_sentence_that_names_someone_the_question_does_not() -> None:
    assert names_someone_new("Who made Ralph earl?")("It shows the attitudes of Edward.")
    assert not names_someone_new("Who did Edward make earl?")("It shows the attitudes of Edward.")
    assert not names_someone_new("Who won?")("Norman architecture stands out.")  # a first word is no name
