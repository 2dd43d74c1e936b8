"""REDCap's filterLogic for record exports: a small, safe parser of comparisons joined by and/or.

Grammar (REDCap's logic syntax, the part record filters use; keywords in any case):

    logic      := disjunction
    disjunction:= conjunction ("or" conjunction)*
    conjunction:= primary ("and" primary)*
    primary    := "(" disjunction ")" | comparison
    comparison := operand operator operand
    operator   := "=" | "==" | "<>" | "!=" | "<" | "<=" | ">" | ">="
    operand    := "[" field "]" | "[" checkbox "(" code ")" "]" | "quoted text" | 'quoted text' | number

A field is any export column (`[sex]`, `[alk_method___2]`, `[redcap_repeat_instrument]`); a checkbox
option is also written REDCap's way, `[alk_method(2)]` (1 ticked, 0 not). Nothing is evaluated as code.

Values compare by the field's type in the data dictionary: dates (date_ymd) as dates, integer and
number fields, coded fields (radio, dropdown, yes/no, checkbox options, form status) and the
instance number as numbers, other text as text. A comparison with a blank value is false, except
`= ""` (true when blank) and `<>`/`!=` (true when the other side is not blank); a blank field is
tested with `[field] = ""`, as in REDCap.

Which records a filter keeps (REDCap's rule for classic projects with repeating instruments: the
logic is evaluated in the context of each row, where the record's non-repeating fields are also
known): a record is exported, with all its rows, when the logic holds on at least one of its rows,
each row seeing its own instrument's values and the record's enrollment and vital-status values
(the fields of other repeating instruments are blank there). So `[sex] = "2" and [line_drug] = "2"`
keeps the women with a line of alectinib.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

TEXT, NUMBER, DATE = "text", "number", "date"
COMPARISONS = ("=", "==", "<>", "!=", "<=", ">=", "<", ">")
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<field>\[[^\]]*\])
      | (?P<string>"[^"]*"|'[^']*')
      | (?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+))
      | (?P<operator><>|!=|<=|>=|==|=|<|>)
      | (?P<paren>[()])
      | (?P<word>[A-Za-z_]+)
    )""",
    re.VERBOSE,
)
_CHECKBOX_OPTION = re.compile(r"^(?P<field>[a-z][a-z0-9_]*)\((?P<code>[^()]+)\)$", re.IGNORECASE)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Bounds that keep a hostile filter cheap: the parser recurses once per parenthesis (three frames
# a level), so nesting is refused past MAX_NESTING, before parsing, far below Python's recursion
# limit; REDCap users' filters nest a few levels. A longer filter than MAX_LOGIC_CHARACTERS is no
# honest record filter either (it is read in one pass, but evaluated on every row of the export).
MAX_LOGIC_CHARACTERS = 10_000
MAX_NESTING = 50


class FilterLogicError(ValueError):
    """Logic that cannot be read; the message says where and why (for the API's 400 answer)."""


@dataclass(frozen=True)
class Field:
    column: str  # the export column, e.g. "alk_method___2"


@dataclass(frozen=True)
class Literal:
    text: str


@dataclass(frozen=True)
class Comparison:
    left: Field | Literal
    operator: str
    right: Field | Literal
    kind: str  # TEXT, NUMBER or DATE: how the two sides compare


@dataclass(frozen=True)
class Junction:
    operator: str  # "and" or "or"
    parts: tuple


@dataclass(frozen=True)
class FilterLogic:
    expression: Comparison | Junction
    columns: frozenset[str]  # the export columns the logic reads

    def matches(self, value_of: Callable[[str], str]) -> bool:
        """Whether the logic holds for one row; `value_of(column)` is the row's raw text (blank: "")."""
        return _evaluate(self.expression, value_of)


def parse_filter_logic(text: str, kinds: Mapping[str, str]) -> FilterLogic:
    """Parses `text`; `kinds` maps every export column to TEXT, NUMBER or DATE. Raises FilterLogicError."""
    if len(text) > MAX_LOGIC_CHARACTERS:
        raise FilterLogicError(f"filterLogic is longer than {MAX_LOGIC_CHARACTERS} characters")
    parser = _Parser(_tokens(text), kinds)
    expression = parser.disjunction()
    if parser.position < len(parser.tokens):
        raise FilterLogicError(f"filterLogic has {parser.tokens[parser.position][1]!r} where it should end")
    return FilterLogic(expression, frozenset(parser.columns))


def _tokens(text: str) -> list[tuple[str, str]]:
    """The tokens; nesting past MAX_NESTING is refused as soon as it is read."""
    tokens, position, depth = [], 0, 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            rest = text[position:]
            if rest.isspace():
                break
            start = position + len(rest) - len(rest.lstrip())
            raise FilterLogicError(f"filterLogic cannot be read at character {start + 1}: {text[start:][:20]!r}")
        kind = match.lastgroup
        token = (kind, match.group(kind))
        if token == ("paren", "("):
            depth += 1
            if depth > MAX_NESTING:
                raise FilterLogicError(f"filterLogic nests parentheses deeper than {MAX_NESTING} levels "
                                       f"(at character {match.start(kind) + 1})")
        elif token == ("paren", ")"):
            depth -= 1
        tokens.append(token)
        position = match.end()
    if not tokens:
        raise FilterLogicError("filterLogic is blank")
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], kinds: Mapping[str, str]):
        self.tokens = tokens
        self.position = 0
        self.kinds = kinds
        self.columns: set[str] = set()

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        token = self._peek()
        if token is None:
            raise FilterLogicError("filterLogic ends too early")
        self.position += 1
        return token

    def _keyword(self, word: str) -> bool:
        token = self._peek()
        if token is not None and token[0] == "word" and token[1].lower() == word:
            self.position += 1
            return True
        return False

    def disjunction(self):
        parts = [self.conjunction()]
        while self._keyword("or"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Junction("or", tuple(parts))

    def conjunction(self):
        parts = [self.primary()]
        while self._keyword("and"):
            parts.append(self.primary())
        return parts[0] if len(parts) == 1 else Junction("and", tuple(parts))

    def primary(self):
        token = self._peek()
        if token == ("paren", "("):
            self.position += 1
            inner = self.disjunction()
            if self._peek() != ("paren", ")"):
                raise FilterLogicError("filterLogic has a '(' that is not closed")
            self.position += 1
            return inner
        left = self.operand()
        kind, operator = self._take()
        if kind != "operator":
            raise FilterLogicError(f"filterLogic has {operator!r} where a comparison (=, <>, <, <=, >, >=) should be")
        right = self.operand()
        return self._comparison(left, operator, right)

    def operand(self) -> Field | Literal:
        kind, text = self._take()
        if kind == "field":
            return Field(self._column(text[1:-1].strip()))
        if kind == "string":
            return Literal(text[1:-1])
        if kind == "number":
            return Literal(text)
        raise FilterLogicError(f"filterLogic has {text!r} where a [field], a quoted value or a number should be")

    def _column(self, name: str) -> str:
        option = _CHECKBOX_OPTION.match(name)
        column = f"{option['field']}___{option['code']}" if option else name
        if column not in self.kinds:
            raise FilterLogicError(f"filterLogic names [{name}], which is not a field of this project")
        self.columns.add(column)
        return column

    def _comparison(self, left, operator: str, right) -> Comparison:
        fields = [side for side in (left, right) if isinstance(side, Field)]
        if not fields:
            raise FilterLogicError("filterLogic compares two values without a [field]")
        kind = self.kinds[fields[0].column]
        for side in (left, right):
            if isinstance(side, Literal) and side.text and _parsed(side.text, kind) is None:
                expected = "a date (YYYY-MM-DD)" if kind == DATE else "a number"
                raise FilterLogicError(
                    f"filterLogic compares [{fields[0].column}] with {side.text!r}, which is not {expected}"
                )
        return Comparison(left, operator, right, kind)


def _parsed(text: str, kind: str):
    """The comparable value of a non-blank text, or None when it is not of the kind."""
    if kind == NUMBER:
        try:
            return Decimal(text)
        except InvalidOperation:
            return None
    if kind == DATE:
        if not _ISO_DATE.match(text):
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    return text


def _evaluate(expression, value_of: Callable[[str], str]) -> bool:
    if isinstance(expression, Junction):
        results = (_evaluate(part, value_of) for part in expression.parts)
        return all(results) if expression.operator == "and" else any(results)
    left = _side(expression.left, value_of)
    right = _side(expression.right, value_of)
    operator = expression.operator
    if left == "" or right == "":
        if operator in ("=", "=="):
            return left == right
        if operator in ("<>", "!="):
            return left != right
        return False
    left_value, right_value = _parsed(left, expression.kind), _parsed(right, expression.kind)
    if left_value is None or right_value is None:  # a stored value that is not of its field's kind
        left_value, right_value = left, right
    if operator in ("=", "=="):
        return left_value == right_value
    if operator in ("<>", "!="):
        return left_value != right_value
    if operator == "<":
        return left_value < right_value
    if operator == "<=":
        return left_value <= right_value
    if operator == ">":
        return left_value > right_value
    return left_value >= right_value


def _side(side: Field | Literal, value_of: Callable[[str], str]) -> str:
    return value_of(side.column) if isinstance(side, Field) else side.text
