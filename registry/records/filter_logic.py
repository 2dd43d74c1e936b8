"""REDCap's logic language (filterLogic, branching logic, data-quality rules): a small, safe parser.

Grammar (REDCap's logic syntax, the part record filters and data-quality rules use; keywords in any case):

    logic      := disjunction
    disjunction:= conjunction ("or" conjunction)*
    conjunction:= comparison ("and" comparison)*
    comparison := sum [operator sum]          (a sum alone must be a parenthesised logic or not(...))
    operator   := "=" | "==" | "<>" | "!=" | "<" | "<=" | ">" | ">="
    sum        := product (("+" | "-") product)*
    product    := signed (("*" | "/") signed)*
    signed     := ("-" | "+") signed | atom
    atom       := "(" disjunction ")" | "not" "(" disjunction ")"
                | "datediff" "(" sum "," sum "," unit ["," format] ["," signed] ")"
                | "[" field "]" | "[" checkbox "(" code ")" "]" | "quoted text" | 'quoted text' | number
    unit       := "d" | "M" | "y" (days; months of 30.44 days; years of 365.2425 days, REDCap's)
    format     := "ymd" (the only date format stored); signed := true | false

A field is any export column (`[sex]`, `[alk_method___2]`, `[redcap_repeat_instrument]`); a checkbox
option is also written REDCap's way, `[alk_method(2)]` (1 ticked, 0 not). Nothing is evaluated as code.

Values compare by the field's type in the data dictionary: dates (date_ymd) as dates, integer and
number fields, coded fields (radio, dropdown, yes/no, checkbox options, form status) and the
instance number as numbers, other text as text. A comparison with a blank value is false, except
`= ""` (true when blank) and `<>`/`!=` (true when the other side is not blank); a blank field is
tested with `[field] = ""`, as in REDCap.

Arithmetic (`+ - * /`, usual precedence, parentheses) works on numbers (number, integer and coded
fields, numeric literals, datediff); a blank operand, or a division by zero, makes the result
blank, which then compares as a blank value. Dates are not added to: `datediff([d1], [d2], "d")` is
the days from d1 to d2, as an absolute value unless its last argument is `true` (REDCap's
`returnSignedValue`), then d2 - d1. `not(logic)` holds when the logic does not.

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
from decimal import Decimal, DivisionByZero, InvalidOperation

from .missing_codes import checkbox_code_suffix

TEXT, NUMBER, DATE = "text", "number", "date"
COMPARISONS = ("=", "==", "<>", "!=", "<=", ">=", "<", ">")
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<field>\[[^\]]*\])
      | (?P<string>"[^"]*"|'[^']*')
      | (?P<number>(?:\d+(?:\.\d*)?|\.\d+))
      | (?P<operator><>|!=|<=|>=|==|=|<|>)
      | (?P<arithmetic>[-+*/])
      | (?P<comma>,)
      | (?P<paren>[()])
      | (?P<word>[A-Za-z_]+)
    )""",
    re.VERBOSE,
)
_CHECKBOX_OPTION = re.compile(r"^(?P<field>[a-z][a-z0-9_]*)\((?P<code>[^()]+)\)$", re.IGNORECASE)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Bounds that keep a hostile filter cheap: the parser recurses once per parenthesis (seven frames
# a level), so nesting is refused past MAX_NESTING, before parsing, far below Python's recursion
# limit; REDCap users' filters nest a few levels. A longer filter than MAX_LOGIC_CHARACTERS is no
# honest record filter either (it is read in one pass, but evaluated on every row of the export).
MAX_LOGIC_CHARACTERS = 10_000
MAX_NESTING = 50
# REDCap's datediff units: a month is 30.44 days and a year 365.2425 days (its documentation).
DAYS_PER_UNIT = {"d": Decimal(1), "M": Decimal("30.44"), "y": Decimal("365.2425")}


class FilterLogicError(ValueError):
    """Logic that cannot be read; the message says where and why (for the API's 400 answer)."""


@dataclass(frozen=True)
class Field:
    column: str  # the export column, e.g. "alk_method___2"


@dataclass(frozen=True)
class Literal:
    text: str


@dataclass(frozen=True)
class Arithmetic:
    operator: str  # "+", "-", "*" or "/"
    left: object
    right: object


@dataclass(frozen=True)
class DateDiff:
    first: object  # a date field or a date literal
    second: object
    unit: str  # a key of DAYS_PER_UNIT
    signed: bool  # REDCap's returnSignedValue: second - first; else the absolute difference


@dataclass(frozen=True)
class Comparison:
    left: object  # Field, Literal, Arithmetic or DateDiff
    operator: str
    right: object
    kind: str  # TEXT, NUMBER or DATE: how the two sides compare


@dataclass(frozen=True)
class Junction:
    operator: str  # "and" or "or"
    parts: tuple


@dataclass(frozen=True)
class Not:
    inner: object


_LOGIC = (Comparison, Junction, Not)
_COMPUTED = (Arithmetic, DateDiff)


@dataclass(frozen=True)
class FilterLogic:
    expression: Comparison | Junction | Not
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
    parser.logic(expression)
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


def _describe(node) -> str:
    if isinstance(node, Field):
        return f"[{node.column}]"
    if isinstance(node, Literal):
        return repr(node.text)
    if isinstance(node, DateDiff):
        return "datediff(...)"
    return "a calculation"


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

    def _expect(self, token: tuple[str, str], what: str) -> None:
        found = self._peek()
        if found != token:
            if found is None:
                raise FilterLogicError("filterLogic ends too early")
            raise FilterLogicError(f"filterLogic has {found[1]!r} where {what} should be")
        self.position += 1

    @staticmethod
    def logic(node):
        """`node`, which must be logic (a comparison, and/or, not) rather than a value."""
        if not isinstance(node, _LOGIC):
            raise FilterLogicError(
                f"filterLogic has {_describe(node)} where a comparison (=, <>, <, <=, >, >=) should be")
        return node

    @staticmethod
    def value(node):
        """`node`, which must be a value (a field, a literal, a calculation) rather than logic."""
        if isinstance(node, _LOGIC):
            raise FilterLogicError("filterLogic has a comparison where a value should be")
        return node

    def disjunction(self):
        parts = [self.conjunction()]
        while self._keyword("or"):
            parts.append(self.conjunction())
        if len(parts) == 1:
            return parts[0]
        return Junction("or", tuple(self.logic(part) for part in parts))

    def conjunction(self):
        parts = [self.comparison()]
        while self._keyword("and"):
            parts.append(self.comparison())
        if len(parts) == 1:
            return parts[0]
        return Junction("and", tuple(self.logic(part) for part in parts))

    def comparison(self):
        left = self.sum()
        token = self._peek()
        if token is not None and token[0] == "operator":
            self.position += 1
            right = self.sum()
            return self._comparison(self.value(left), token[1], self.value(right))
        if isinstance(left, _LOGIC):
            return left
        if token is None:
            return self.logic(left)
        if token in (("paren", ")"), ("comma", ",")):
            return left  # a parenthesised value, e.g. ([a] + [b]) > 3: the caller compares it
        raise FilterLogicError(f"filterLogic has {token[1]!r} where a comparison (=, <>, <, <=, >, >=) should be")

    def sum(self):
        left = self.product()
        while (token := self._peek()) is not None and token in (("arithmetic", "+"), ("arithmetic", "-")):
            self.position += 1
            left = self._arithmetic(token[1], left, self.product())
        return left

    def product(self):
        left = self.signed()
        while (token := self._peek()) is not None and token in (("arithmetic", "*"), ("arithmetic", "/")):
            self.position += 1
            left = self._arithmetic(token[1], left, self.signed())
        return left

    def signed(self):
        token = self._peek()
        if token in (("arithmetic", "-"), ("arithmetic", "+")):
            self.position += 1
            operand = self.signed()
            if isinstance(operand, Literal) and operand.text[:1] not in ("-", "+") and _parsed(operand.text, NUMBER) is not None:
                return Literal(token[1] + operand.text)  # a signed number, as before arithmetic: "-1"
            return self._arithmetic(token[1], Literal("0"), operand)
        return self.atom()

    def atom(self):
        token = self._peek()
        if token == ("paren", "("):
            self.position += 1
            inner = self.disjunction()
            if self._peek() != ("paren", ")"):
                raise FilterLogicError("filterLogic has a '(' that is not closed")
            self.position += 1
            return inner
        if token is not None and token[0] == "word" and self.position + 1 < len(self.tokens) \
                and self.tokens[self.position + 1] == ("paren", "("):
            word = token[1].lower()
            if word == "not":
                self.position += 2
                inner = self.logic(self.disjunction())
                self._expect(("paren", ")"), "the ')' closing not(")
                return Not(inner)
            if word == "datediff":
                self.position += 2
                return self._datediff()
        kind, text = self._take()
        if kind == "field":
            return Field(self._column(text[1:-1].strip()))
        if kind == "string":
            return Literal(text[1:-1])
        if kind == "number":
            return Literal(text)
        raise FilterLogicError(f"filterLogic has {text!r} where a [field], a quoted value or a number should be")

    def _datediff(self) -> DateDiff:
        first = self.value(self.sum())
        self._expect(("comma", ","), "a ',' between datediff's arguments")
        second = self.value(self.sum())
        for side in (first, second):
            if isinstance(side, Field) and self.kinds[side.column] == DATE:
                continue
            if isinstance(side, Literal) and _parsed(side.text, DATE) is not None:
                continue
            raise FilterLogicError(f"filterLogic's datediff takes two dates; {_describe(side)} is not a date")
        self._expect(("comma", ","), "a ',' between datediff's arguments")
        kind, unit = self._take()
        unit = unit.strip("\"'") if kind == "string" else ""
        if unit not in DAYS_PER_UNIT:
            raise FilterLogicError('filterLogic\'s datediff takes the unit "d" (days), "M" (months) or "y" (years)')
        signed = False
        while self._peek() == ("comma", ","):
            self.position += 1
            kind, text = self._take()
            if kind == "string" and text[1:-1].lower() == "ymd":
                continue
            if kind == "word" and text.lower() in ("true", "false"):
                signed = text.lower() == "true"
                continue
            raise FilterLogicError(
                f'filterLogic\'s datediff has {text!r} where "ymd" or true/false (a signed value) should be')
        self._expect(("paren", ")"), "the ')' closing datediff(")
        return DateDiff(first, second, unit, signed)

    def _arithmetic(self, operator: str, left, right) -> Arithmetic:
        for side in (self.value(left), self.value(right)):
            if isinstance(side, Field) and self.kinds[side.column] != NUMBER:
                raise FilterLogicError(
                    f"filterLogic calculates with [{side.column}], which is not a number"
                    + (" (use datediff for dates)" if self.kinds[side.column] == DATE else ""))
            if isinstance(side, Literal) and _parsed(side.text, NUMBER) is None:
                raise FilterLogicError(f"filterLogic calculates with {side.text!r}, which is not a number")
        return Arithmetic(operator, left, right)

    def _column(self, name: str) -> str:
        option = _CHECKBOX_OPTION.match(name)
        column = f"{option['field']}___{option['code']}" if option else name
        if option and column not in self.kinds:  # a missing-data code's choice (`[alk_method(UNK)]`): REDCap's
            column = f"{option['field']}___{checkbox_code_suffix(option['code'])}"  # column of it, `alk_method___unk`
        if column not in self.kinds:
            raise FilterLogicError(f"filterLogic names [{name}], which is not a field of this project")
        self.columns.add(column)
        return column

    def _comparison(self, left, operator: str, right) -> Comparison:
        if not (_has_field(left) or _has_field(right)):
            raise FilterLogicError("filterLogic compares two values without a [field]")
        fields = [side for side in (left, right) if isinstance(side, Field)]
        kind = self.kinds[fields[0].column] if fields else NUMBER
        computed = [side for side in (left, right) if isinstance(side, _COMPUTED)]
        if computed and kind != NUMBER:
            raise FilterLogicError(
                f"filterLogic compares [{fields[0].column}] with a calculation, which is a number")
        for side in (left, right):
            if isinstance(side, Literal) and side.text and _parsed(side.text, kind) is None:
                expected = "a date (YYYY-MM-DD)" if kind == DATE else "a number"
                subject = f"[{fields[0].column}]" if fields else _describe(computed[0])
                raise FilterLogicError(f"filterLogic compares {subject} with {side.text!r}, which is not {expected}")
        return Comparison(left, operator, right, kind)


def _has_field(node) -> bool:
    if isinstance(node, Field):
        return True
    if isinstance(node, Arithmetic):
        return _has_field(node.left) or _has_field(node.right)
    if isinstance(node, DateDiff):
        return _has_field(node.first) or _has_field(node.second)
    return False


def _parsed(text: str, kind: str):
    """The comparable value of a non-blank text, or None when it is not of the kind."""
    if kind == NUMBER:
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
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
    if isinstance(expression, Not):
        return not _evaluate(expression.inner, value_of)
    left = _side(expression.left, value_of)
    right = _side(expression.right, value_of)
    operator = expression.operator
    if left == "" or right == "":
        if operator in ("=", "=="):
            return left == right
        if operator in ("<>", "!="):
            return left != right
        return False
    if isinstance(left, Decimal) or isinstance(right, Decimal):  # a calculation: compare as numbers
        left_value = left if isinstance(left, Decimal) else _parsed(left, NUMBER)
        right_value = right if isinstance(right, Decimal) else _parsed(right, NUMBER)
        if left_value is None or right_value is None:  # a stored text that is no number
            return operator in ("<>", "!=")
    else:
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


def _side(side, value_of: Callable[[str], str]):
    """A comparison side's value: the raw text of a field or literal, the Decimal of a calculation
    ("" when blank)."""
    if isinstance(side, Field):
        return value_of(side.column)
    if isinstance(side, Literal):
        return side.text
    return _computed(side, value_of)


def _number(node, value_of: Callable[[str], str]):
    """A calculation operand as a Decimal, or "" when blank (or stored text that is no number)."""
    if isinstance(node, (Field, Literal)):
        text = value_of(node.column) if isinstance(node, Field) else node.text
        return "" if text == "" else (_parsed(text, NUMBER) if _parsed(text, NUMBER) is not None else "")
    return _computed(node, value_of)


def _date(node, value_of: Callable[[str], str]):
    text = value_of(node.column) if isinstance(node, Field) else node.text
    return _parsed(text, DATE) if text else None


def _computed(node, value_of: Callable[[str], str]):
    if isinstance(node, DateDiff):
        first, second = _date(node.first, value_of), _date(node.second, value_of)
        if first is None or second is None:
            return ""
        days = Decimal((second - first).days) / DAYS_PER_UNIT[node.unit]
        return days if node.signed else abs(days)
    left, right = _number(node.left, value_of), _number(node.right, value_of)
    if left == "" or right == "":
        return ""
    if node.operator == "+":
        return left + right
    if node.operator == "-":
        return left - right
    if node.operator == "*":
        return left * right
    try:
        return left / right
    except (DivisionByZero, InvalidOperation):  # a division by zero: blank, as REDCap leaves it
        return ""
