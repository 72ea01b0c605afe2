"""Dollar-sign expansion with a fake set of callbacks."""

from __future__ import annotations

import pytest

from qscript.errors import ScriptSyntaxError
from qscript.script.expand import (
    MAX_DEPTH,
    Expanded,
    Expander,
    expand,
    find_close,
    split_args,
    substitute_params,
)


class Fake:
    """Variables in a dict; ``$(=...)`` answers from a dict; includes from a dict of files."""

    def __init__(self, variables=None, results=None, files=None):
        self.variables = dict(variables or {})
        self.results = dict(results or {})
        self.files = dict(files or {})
        self.looked_up: list[str] = []
        self.evaluated: list[str] = []
        self.included: list[tuple[str, bool]] = []

    def variable(self, name: str) -> str | None:
        self.looked_up.append(name)
        return self.variables.get(name)

    def number(self, name: str) -> str:
        text = self.variables.get(name)
        try:
            return str(float(text.replace(",", "."))).removesuffix(".0")
        except (AttributeError, ValueError):
            return "0"

    def evaluate(self, text: str) -> str:
        self.evaluated.append(text)
        return self.results.get(text, f"<{text}>")

    def include(self, path: str, must: bool) -> str | None:
        self.included.append((path, must))
        return self.files.get(path)

    def expander(self) -> Expander:
        return Expander(self.variable, self.number, self.evaluate, self.include)


VARS = {
    "v": "hello",
    "vPath": "lib://Data/",
    "X": "3,5",
    "vF": "$1*$2+$0",
    "vThree": "[$1|$2|$3]",
    "i": "2",
    "v2": "two",
    "vRef": "v",
    "vLiteral": "$(v)",
    "vEmpty": "",
}


def run(text: str, fake: Fake | None = None) -> str:
    return expand(text, (fake or Fake(VARS)).expander()).text


# -- variables ---------------------------------------------------------------------------


def test_text_without_dollar_parenthesis_is_returned_unchanged():
    result = expand("LOAD '$skiptoken=' AS [$] FROM $URLs;", Fake(VARS).expander())
    assert result == Expanded("LOAD '$skiptoken=' AS [$] FROM $URLs;", ())
    assert result.changed is False


def test_variable_is_replaced_by_its_text():
    result = expand("LOAD * FROM [$(vPath)x.qvd];", Fake(VARS).expander())
    assert result.text == "LOAD * FROM [lib://Data/x.qvd];"
    assert result.substitutions == ((13, 24, 13, 21),)
    assert result.changed is True


def test_undefined_and_empty_variables_give_empty_text():
    result = expand("a$(nope)b$(vEmpty)c", Fake(VARS).expander())
    assert result.text == "abc"
    assert result.substitutions == ((1, 1, 1, 8), (2, 2, 9, 18))
    assert result.changed is True


def test_blanks_around_the_name_are_ignored():
    assert run("$( v )") == "hello"


def test_variable_names_with_spaces_and_dots():
    fake = Fake({"my var": "spaced", "x.y 2": "dotted"})
    assert run("$(my var)/$(x.y 2)", fake) == "spaced/dotted"


def test_several_substitutions_and_quotes_around_them():
    assert run("TRACE '$(v)' $(i)$(i) $(v);") == "TRACE 'hello' 22 hello;"


def test_result_is_not_expanded_again():
    assert run("[$(vLiteral)]") == "[$(v)]"


def test_number_form():
    assert run("$(#X) $(#i) $(#v) $(#missing) $( # X )") == "3.5 2 0 0 3.5"


# -- parameters --------------------------------------------------------------------------


def test_parameters_replace_dollar_digits_and_dollar_zero_counts():
    assert run("$(vF(3, 4))") == "3* 4+2"


def test_unmatched_parameter_stays_literal():
    assert run("$(vThree(a))") == "[a|$2|$3]"


def test_extra_arguments_are_ignored():
    assert run("$(vThree(a,b,c,d,e))") == "[a|b|c]"
    assert run("$(v(1,2))") == "hello"


def test_arguments_with_quoted_commas_and_parentheses():
    assert run("$(vThree('a,b',f(1,2),(3)))") == "['a,b'|f(1,2)|(3)]"


def test_parameterised_variable_without_arguments_gives_its_raw_text():
    assert run("$(vF)") == "$1*$2+$0"


def test_undefined_parameterised_variable_gives_empty_text():
    assert run("<$(nope(1,2))>") == "<>"


def test_variable_whose_name_contains_parentheses_wins_over_a_call():
    assert run("$(v(1))", Fake({"v(1)": "whole", "v": "$1"})) == "whole"


def test_arguments_are_expanded_before_the_call():
    assert run("$(vThree($(i),$(v)))") == "[2|hello|$3]"


# -- expressions -------------------------------------------------------------------------


def test_expression_goes_to_the_evaluate_callback():
    fake = Fake(VARS, results={"Date(Today()-1)": "1/14/2024"})
    assert run("WHERE d = '$(=Date(Today()-1))'", fake) == "WHERE d = '1/14/2024'"
    assert fake.evaluated == ["Date(Today()-1)"]


def test_expression_text_is_right_trimmed():
    fake = Fake(VARS)
    assert run("$( = 1 + 2 )", fake) == "< 1 + 2>"
    assert fake.evaluated == [" 1 + 2"]


def test_closing_parenthesis_inside_a_quoted_string():
    fake = Fake(VARS)
    assert run("x$(=')' & 'a(')y", fake) == "x<')' & 'a('>y"
    assert fake.evaluated == ["')' & 'a('"]


def test_dollar_inside_an_expression_is_expanded_first():
    fake = Fake(VARS)
    assert run("$(=Len('$(v)'))", fake) == "<Len('hello')>"
    assert fake.evaluated == ["Len('hello')"]


# -- nesting -----------------------------------------------------------------------------


def test_nested_expansion_runs_innermost_first():
    fake = Fake(VARS)
    result = expand("[$(v$(i))]", fake.expander())
    assert result.text == "[two]"
    assert result.substitutions == ((1, 4, 1, 9),)
    assert fake.looked_up.index("i") < fake.looked_up.index("v2")


def test_double_expansion():
    assert run("$($(vRef))") == "hello"


def test_unclosed_dollar_parenthesis_stays_literal():
    result = expand("TRACE cost $( estimate;", Fake(VARS).expander())
    assert result == Expanded("TRACE cost $( estimate;", ())


def test_expansion_after_an_unclosed_dollar_parenthesis_still_happens():
    # The scan used to stop at the first unclosed "$(" and leave $(v) unexpanded.
    result = expand("a $( b $(v) c", Fake(VARS).expander())
    assert result.text == "a $( b hello c"
    assert result.substitutions == ((7, 12, 7, 11),)


def test_unbalanced_quote_leaves_the_expansion_literal():
    assert run("$(=a & 'x)") == "$(=a & 'x)"


@pytest.mark.parametrize("levels", [1, 2, 50, MAX_DEPTH])
def test_nesting_up_to_the_limit(levels):
    fake = Fake({"v": "v"})
    assert run("$(" * levels + "v" + ")" * levels, fake) == "v"
    assert len(fake.looked_up) >= levels


def test_nesting_beyond_the_limit_is_an_error():
    text = "$(" * (MAX_DEPTH + 1) + "v" + ")" * (MAX_DEPTH + 1)
    with pytest.raises(ScriptSyntaxError) as info:
        expand(text, Fake({"v": "v"}).expander())
    assert info.value.message == "dollar-sign expansion nested more than 1000 levels"
    assert info.value.code == 2


# -- includes ----------------------------------------------------------------------------


def test_include_reaches_the_callback():
    fake = Fake(VARS, files={"lib://Scripts/sub.qvs": "SET a = 1;"})
    assert run("$(Include=lib://Scripts/sub.qvs);", fake) == "SET a = 1;;"
    assert fake.included == [("lib://Scripts/sub.qvs", False)]


def test_must_include_with_brackets_passes_the_unbracketed_path():
    fake = Fake(VARS, files={"lib://x/y.qvs": "TRACE y;"})
    assert run("$(Must_Include=[lib://x/y.qvs])", fake) == "TRACE y;"
    assert fake.included == [("lib://x/y.qvs", True)]


@pytest.mark.parametrize(
    ("text", "call"),
    [
        ("$(include = 'q.qvs' )", ("q.qvs", False)),
        ('$(INCLUDE="a b.qvs")', ("a b.qvs", False)),
        ("$(must_include=lib://$(vDir)/c.qvs)", ("lib://D/c.qvs", True)),
    ],
)
def test_include_forms(text, call):
    fake = Fake({"vDir": "D"})
    assert run(text, fake) == ""
    assert fake.included == [call]


def test_missing_optional_include_gives_empty_text():
    fake = Fake(VARS)
    assert run("[$(Include=none.qvs)]", fake) == "[]"
    assert fake.included == [("none.qvs", False)]


# -- offset map --------------------------------------------------------------------------


def test_source_offset_before_inside_and_after_substitutions():
    source = "ab$(v)cd$(nope)ef"
    result = expand(source, Fake(VARS).expander())
    assert result.text == "abhellocdef"
    mapped = [result.source_offset(i) for i in range(len(result.text) + 1)]
    assert mapped == [0, 1, 2, 2, 2, 2, 2, 6, 7, 15, 16, 17]
    assert source[mapped[7]] == "c"
    assert source[mapped[9]] == "e"


def test_source_offset_when_the_replacement_is_shorter():
    source = "x = $(vLong) + y"
    result = expand(source, Fake({"vLong": "1"}).expander())
    assert result.text == "x = 1 + y"
    assert [result.source_offset(i) for i in (0, 4, 5, 6, 8)] == [0, 4, 12, 13, 15]
    assert source[result.source_offset(8)] == "y"


def test_source_offset_without_substitutions_is_identity():
    result = expand("plain text", Fake(VARS).expander())
    assert [result.source_offset(i) for i in (0, 5, 10)] == [0, 5, 10]


# -- helpers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "expected"),
    [
        ("$(v)", 2, 3),
        ("$(f(a)(b)) x", 2, 9),
        ("$(=')')", 2, 6),
        ("$(v", 2, -1),
        ("$(='x)", 2, -1),
    ],
)
def test_find_close(text, start, expected):
    assert find_close(text, start) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a,b", ["a", "b"]),
        ("a, 'b,c' ,f(d, e)", ["a", " 'b,c' ", "f(d, e)"]),
        ("", [""]),
        (",x,", ["", "x", ""]),
    ],
)
def test_split_args(text, expected):
    assert split_args(text) == expected


@pytest.mark.parametrize(
    ("body", "args", "expected"),
    [
        ("$1-$2", ["a", "b"], "a-b"),
        ("$0:$1", ["a", "b", "c"], "3:a"),
        ("$2$1$3", ["x"], "$2x$3"),
        ("$10", ["a"], "$10"),
        ("no params", [], "no params"),
    ],
)
def test_substitute_params(body, args, expected):
    assert substitute_params(body, args) == expected
