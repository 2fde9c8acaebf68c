"""The mock interview of ``notebooks/simulacro.ipynb``: question bank, scoring and widgets.

The bank (``preguntas.yaml``, next to this file) is data: ``load_bank`` validates it and says
in Spanish which question and which field are wrong, so a contributor adding a question
gets a precise message instead of a widget that breaks later. The scoring is plain functions
over the bank (``draw``, ``score_choice``, ``score_open``, ``theme_scores``, ``weak_themes``)
so it is tested without a browser; the widgets only wire those functions to ipywidgets, and
the tests drive them from Python (set values, ``button.click()``).

The timer ticks in the browser: an ``ipywidgets.Play`` linked with ``jslink`` to a progress
bar, so no kernel thread or sleep is involved and a busy kernel does not freeze it.

The learner's checklist and self-assessment are kept in ``trabajo/simulacro.json`` (ignored
by git). Saving only rewrites the keys it owns, through a temporary file and an atomic
rename, and never replaces a file it cannot read.
"""

from __future__ import annotations

import html
import json
import math
import os
import random
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

BANK_PATH = Path(__file__).with_name("preguntas.yaml")
ROOT = Path(__file__).resolve().parents[2]
EXERCISES = ROOT / "exercises"

OPEN = "abierta"
CHOICE = "test"
KINDS = (OPEN, CHOICE)
FAQ_THEME = "simulacro"  # the questions about the interview itself (Q32-Q36)
FAQ_TITLE = "Preparación de la entrevista"
WEAK_THRESHOLD = 0.6  # a theme scoring below 60 % is worth revisiting
LEVELS = (1, 5)  # self-assessment scale: 1 = no sabría empezar, 5 = lo explico con números

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
THEME_NAME = re.compile(r"^\d\d-[a-z0-9-]+$")
ARTICLE_ID = re.compile(r"^Q(?:0[1-9]|[12]\d|3[0-6])$")
REQUIRED = ("id", "tema", "tipo", "pregunta", "respuesta", "puntos_clave")
CHOICE_FIELDS = ("opciones", "correcta", "explicacion")
OPTIONAL = ("pregunta_articulo",)
KEY_POINTS = (3, 6)
OPTIONS = (3, 5)
CHECKLIST_FIELDS = ("id", "texto", "origen")
CHECKLIST_ORIGINS = ("consejo", "faq")


class BankError(ValueError):
    """The question bank is malformed; the message names the question and the field."""


class ProgressError(RuntimeError):
    """The learner's progress file exists but cannot be read, so it is left untouched."""


# --------------------------------------------------------------------------- the bank


@dataclass(frozen=True)
class Question:
    id: str
    tema: str
    tipo: str
    pregunta: str
    respuesta: str
    puntos_clave: tuple[str, ...]
    pregunta_articulo: str | None = None
    opciones: tuple[str, ...] = ()
    correcta: int | None = None
    explicacion: str = ""


@dataclass(frozen=True)
class ChecklistItem:
    id: str
    texto: str
    origen: str


@dataclass(frozen=True)
class Bank:
    temas: Mapping[str, str]  # theme folder -> title, in the course's order
    preguntas: tuple[Question, ...]
    preparacion: tuple[ChecklistItem, ...]

    def title(self, tema: str) -> str:
        return FAQ_TITLE if tema == FAQ_THEME else self.temas[tema]

    def select(self, tema: str | None = None, tipo: str | None = None,
               articulo: str | None = None) -> list[Question]:
        """Questions of a theme, a kind and/or an article question, in bank order."""
        return [q for q in self.preguntas if (tema is None or q.tema == tema)
                and (tipo is None or q.tipo == tipo)
                and (articulo is None or q.pregunta_articulo == articulo)]

    def get(self, question_id: str) -> Question:
        for q in self.preguntas:
            if q.id == question_id:
                return q
        raise KeyError(f"No hay ninguna pregunta con id {question_id!r} en el banco.")


def _text(value) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _where(raw, position: int) -> str:
    qid = raw.get("id") if isinstance(raw, Mapping) else None
    name = f"«{qid}»" if _text(qid) else "sin id"
    return f"Pregunta {name} (n.º {position} del banco)"


def _question(raw, position: int, temas: Mapping[str, str]) -> Question:
    where = _where(raw, position)
    if not isinstance(raw, Mapping):
        raise BankError(f"{where}: cada pregunta debe ser un diccionario con campos, "
                        f"no {type(raw).__name__}.")
    for name in REQUIRED:
        if name not in raw:
            raise BankError(f"{where}: falta el campo «{name}».")
    tipo = raw["tipo"]
    if tipo not in KINDS:
        raise BankError(f"{where}: el campo «tipo» debe ser «abierta» o «test», no {tipo!r}.")
    allowed = set(REQUIRED) | set(OPTIONAL) | (set(CHOICE_FIELDS) if tipo == CHOICE else set())
    unknown = sorted(set(raw) - allowed)
    if unknown:
        extra = " (solo las preguntas de tipo «test» llevan opciones, correcta y explicacion)" \
            if set(unknown) & set(CHOICE_FIELDS) else ""
        raise BankError(f"{where}: campo desconocido «{unknown[0]}»{extra}.")
    if tipo == CHOICE:
        for name in CHOICE_FIELDS:
            if name not in raw:
                raise BankError(f"{where}: falta el campo «{name}», obligatorio en las "
                                "preguntas de tipo «test».")
    if not (_text(raw["id"]) and SLUG.match(raw["id"])):
        raise BankError(f"{where}: el campo «id» debe ser minúsculas, números y guiones "
                        f"(p. ej. «deriva-concepto»), no {raw['id']!r}.")
    if raw["tema"] != FAQ_THEME and raw["tema"] not in temas:
        raise BankError(f"{where}: el campo «tema» vale {raw['tema']!r}, que no es un tema del curso "
                        f"(temas: {', '.join(temas)} o «{FAQ_THEME}»).")
    for name in ("pregunta", "respuesta") + (("explicacion",) if tipo == CHOICE else ()):
        if not _text(raw[name]):
            raise BankError(f"{where}: el campo «{name}» debe ser un texto no vacío.")
    article = raw.get("pregunta_articulo")
    if article is not None and not (isinstance(article, str) and ARTICLE_ID.match(article)):
        raise BankError(f"{where}: el campo «pregunta_articulo» debe ser un id del artículo "
                        f"entre Q01 y Q36, no {article!r}.")
    points = raw["puntos_clave"]
    low, high = KEY_POINTS
    if not (isinstance(points, list) and low <= len(points) <= high and all(map(_text, points))):
        raise BankError(f"{where}: el campo «puntos_clave» debe ser una lista de {low} a {high} "
                        "textos no vacíos.")
    options, correct = (), None
    if tipo == CHOICE:
        options, correct = raw["opciones"], raw["correcta"]
        low, high = OPTIONS
        if not (isinstance(options, list) and low <= len(options) <= high and all(map(_text, options))):
            raise BankError(f"{where}: el campo «opciones» debe ser una lista de {low} a {high} "
                            "textos no vacíos.")
        if len(set(options)) != len(options):
            raise BankError(f"{where}: el campo «opciones» tiene opciones repetidas.")
        if isinstance(correct, bool) or not isinstance(correct, int) or not 0 <= correct < len(options):
            raise BankError(f"{where}: el campo «correcta» debe ser el índice (desde 0) de una de "
                            f"las {len(options)} opciones, es decir de 0 a {len(options) - 1}; "
                            f"vale {correct!r}.")
    return Question(id=raw["id"], tema=raw["tema"], tipo=tipo, pregunta=raw["pregunta"].strip(),
                    respuesta=raw["respuesta"].strip(), puntos_clave=tuple(points),
                    pregunta_articulo=article, opciones=tuple(options), correcta=correct,
                    explicacion=raw.get("explicacion", "").strip())


def _checklist(raw, position: int) -> ChecklistItem:
    where = f"Elemento {_where(raw, position).removeprefix('Pregunta ')} de «preparacion»"
    if not isinstance(raw, Mapping):
        raise BankError(f"{where}: debe ser un diccionario con id, texto y origen.")
    for name in CHECKLIST_FIELDS:
        if name not in raw:
            raise BankError(f"{where}: falta el campo «{name}».")
    unknown = sorted(set(raw) - set(CHECKLIST_FIELDS))
    if unknown:
        raise BankError(f"{where}: campo desconocido «{unknown[0]}».")
    if not (_text(raw["id"]) and SLUG.match(raw["id"])):
        raise BankError(f"{where}: el campo «id» debe ser minúsculas, números y guiones, "
                        f"no {raw['id']!r}.")
    if not _text(raw["texto"]):
        raise BankError(f"{where}: el campo «texto» debe ser un texto no vacío.")
    if raw["origen"] not in CHECKLIST_ORIGINS:
        raise BankError(f"{where}: el campo «origen» debe ser «consejo» o «faq», no {raw['origen']!r}.")
    return ChecklistItem(id=raw["id"], texto=raw["texto"].strip(), origen=raw["origen"])


def load_bank(path: str | os.PathLike | None = None) -> Bank:
    """Read and validate the question bank (``preguntas.yaml`` by default)."""
    path = Path(path) if path is not None else BANK_PATH
    if not path.is_file():
        raise BankError(f"No encuentro el banco de preguntas {path}.")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise BankError(f"{path.name} no es YAML válido: {exc}") from exc
    if not isinstance(data, Mapping):
        raise BankError(f"{path.name} debe ser un diccionario con «temas», «preparacion» y "
                        "«preguntas».")
    for name in ("temas", "preguntas"):
        if name not in data:
            raise BankError(f"{path.name}: falta la sección «{name}».")
    temas = data["temas"]
    if not (isinstance(temas, Mapping) and temas):
        raise BankError(f"{path.name}: «temas» debe ser un diccionario carpeta → título.")
    for name, title in temas.items():
        if not (isinstance(name, str) and THEME_NAME.match(name)) or not _text(title):
            raise BankError(f"{path.name}: el tema {name!r} debe llamarse NN-tema y tener un título.")
    raw_questions = data["preguntas"]
    if not (isinstance(raw_questions, list) and raw_questions):
        raise BankError(f"{path.name}: «preguntas» debe ser una lista no vacía.")
    questions, seen = [], {}
    for position, raw in enumerate(raw_questions, start=1):
        question = _question(raw, position, temas)
        if question.id in seen:
            raise BankError(f"{_where(raw, position)}: el id está repetido (también lo usa la "
                            f"n.º {seen[question.id]}); cada pregunta necesita un «id» único.")
        seen[question.id] = position
        questions.append(question)
    raw_items = data.get("preparacion") or []
    if not isinstance(raw_items, list):
        raise BankError(f"{path.name}: «preparacion» debe ser una lista.")
    items, seen_items = [], set()
    for position, raw in enumerate(raw_items, start=1):
        item = _checklist(raw, position)
        if item.id in seen_items:
            raise BankError(f"Elemento «{item.id}» de «preparacion»: el id está repetido.")
        seen_items.add(item.id)
        items.append(item)
    return Bank(temas=dict(temas), preguntas=tuple(questions), preparacion=tuple(items))


# --------------------------------------------------------------------------- drawing


def draw(bank: Bank, n: int, seed: int, themes: Iterable[str] | None = None,
         tipo: str | None = None) -> list[Question]:
    """Draw up to ``n`` questions, the same ones for the same seed, spread across themes.

    Themes take turns in a shuffled order, so no theme gets a second question before every
    theme with questions left has had one. ``themes=None`` means every course theme (not
    the questions about the interview itself, theme ``simulacro``).
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"`n` debe ser un entero positivo; recibido {n!r}.")
    if tipo is not None and tipo not in KINDS:
        raise ValueError(f"`tipo` debe ser «abierta», «test» o None; recibido {tipo!r}.")
    chosen = list(bank.temas) if themes is None else list(dict.fromkeys(themes))
    for theme in chosen:
        if theme != FAQ_THEME and theme not in bank.temas:
            raise ValueError(f"{theme!r} no es un tema del banco.")
    rng = random.Random(seed)
    groups = {}
    for theme in chosen:
        pool = bank.select(tema=theme, tipo=tipo)
        rng.shuffle(pool)
        if pool:
            groups[theme] = pool
    order = sorted(groups)
    rng.shuffle(order)
    picked: list[Question] = []
    while len(picked) < n and any(groups.values()):
        for theme in order:
            if groups[theme] and len(picked) < n:
                picked.append(groups[theme].pop())
    return picked


# --------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class Result:
    """One answered question: its score from 0 to 1."""
    question_id: str
    tema: str
    tipo: str
    score: float


def score_choice(question: Question, chosen: int | None) -> Result:
    """1 if ``chosen`` is the correct option's index, 0 otherwise (also when unanswered)."""
    if question.tipo != CHOICE:
        raise ValueError(f"La pregunta {question.id!r} es abierta: puntúala con score_open.")
    if chosen is not None and (isinstance(chosen, bool) or not isinstance(chosen, int)
                               or not 0 <= chosen < len(question.opciones)):
        raise ValueError(f"`chosen` debe ser el índice de una opción (0 a "
                         f"{len(question.opciones) - 1}) o None; recibido {chosen!r}.")
    return Result(question.id, question.tema, question.tipo, float(chosen == question.correcta))


def score_open(question: Question, ticked: Iterable[int]) -> Result:
    """The share of key points the learner says their answer covered (self-assessment)."""
    if question.tipo != OPEN:
        raise ValueError(f"La pregunta {question.id!r} es de test: puntúala con score_choice.")
    marks = set(ticked)
    bad = sorted(i for i in marks if isinstance(i, bool) or not isinstance(i, int)
                 or not 0 <= i < len(question.puntos_clave))
    if bad:
        raise ValueError(f"Índices de puntos clave fuera de rango para {question.id!r}: {bad} "
                         f"(hay {len(question.puntos_clave)}, de 0 a {len(question.puntos_clave) - 1}).")
    return Result(question.id, question.tema, question.tipo, len(marks) / len(question.puntos_clave))


def revisit_link(tema: str) -> str:
    """Where the learner reopens a theme: their own copy in ``trabajo/`` (from notebooks/)."""
    if tema == FAQ_THEME:
        return "simulacro.ipynb"
    return f"../trabajo/{tema}/{tema}.ipynb"


@dataclass(frozen=True)
class ThemeScore:
    tema: str
    titulo: str
    score: float  # mean of the theme's results, 0 to 1
    n: int  # how many answered questions
    link: str


def theme_scores(results: Iterable[Result], bank: Bank | None = None) -> list[ThemeScore]:
    """Mean score per theme, weakest first (ties by theme name)."""
    bank = bank if bank is not None else load_bank()
    totals: dict[str, list[float]] = {}
    for result in results:
        totals.setdefault(result.tema, []).append(result.score)
    scores = [ThemeScore(tema, bank.title(tema), sum(v) / len(v), len(v), revisit_link(tema))
              for tema, v in totals.items()]
    return sorted(scores, key=lambda s: (s.score, s.tema))


def weak_themes(results: Iterable[Result], bank: Bank | None = None,
                threshold: float = WEAK_THRESHOLD) -> list[ThemeScore]:
    """The themes scoring below ``threshold``, weakest first, with the link to revisit."""
    return [s for s in theme_scores(results, bank) if s.score < threshold]


def focus_themes(levels: Mapping[str, int], k: int = 3) -> list[str]:
    """The ``k`` themes the learner rated lowest in the self-assessment (ties by name)."""
    return [t for t, _ in sorted(levels.items(), key=lambda kv: (kv[1], kv[0]))[:k]]


# --------------------------------------------------------------------------- impact (Q33)


@dataclass(frozen=True)
class Metric:
    """A before/after number of a story, e.g. churners detected by the campaign."""
    name: str
    before: float
    after: float
    unit: str = ""
    higher_is_better: bool = True
    decimals: int = 0


def _number(value: float, decimals: int) -> str:
    text = f"{abs(value):,.{decimals}f}".replace(",", " ")
    return ("−" if value < 0 else "") + text


def relative_change(metric: Metric) -> float | None:
    """(after − before) / |before|, or None when there is no before to compare with."""
    if metric.before == 0:
        return None
    return (metric.after - metric.before) / abs(metric.before)


def impact_sentence(metric: Metric) -> str:
    """One line of an impact story: «bajas detectadas: de 550 a 800 (+45 %, mejor)».

    Changes of ×2 or more read as a factor (``×12``); the verdict follows the direction in
    which the metric is better, so a latency going down is «mejor».
    """
    unit = f" {metric.unit}" if metric.unit else ""
    before, after = _number(metric.before, metric.decimals), _number(metric.after, metric.decimals)
    change = relative_change(metric)
    if metric.after == metric.before:
        verdict = "igual"
    else:
        verdict = "mejor" if (metric.after > metric.before) == metric.higher_is_better else "peor"
    if change is None:
        detail = verdict
    elif metric.before > 0 and metric.after >= 2 * metric.before:  # «×12» reads better than «+1100 %»
        ratio = f"{metric.after / metric.before:.1f}".removesuffix(".0")
        detail = f"×{ratio}, {verdict}"
    else:
        pct = 100 * change
        digits = 1 if abs(pct) < 10 else 0
        sign = "+" if pct > 0 else ("−" if pct < 0 else "")
        detail = f"{sign}{abs(pct):.{digits}f} %, {verdict}"
    return f"{metric.name}: de {before}{unit} a {after}{unit} ({detail})"


def impact_sentences(metrics: Iterable[Metric]) -> list[str]:
    return [impact_sentence(m) for m in metrics]


# --------------------------------------------------------------------------- progress file


class Progress:
    """The learner's ``simulacro.json``: each widget reads and rewrites only its own key."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def load(self) -> dict:
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ProgressError(f"No puedo leer {self.path} ({exc}); no lo sobrescribo. "
                                "Arréglalo o muévelo para guardar tu progreso.") from exc
        if not isinstance(data, dict):
            raise ProgressError(f"{self.path} no contiene un objeto JSON; no lo sobrescribo.")
        return data

    def get(self, key: str, default=None):
        return self.load().get(key, default)

    def save(self, key: str, value) -> None:
        """Rewrite ``key`` keeping every other key, atomically (temporary file + rename)."""
        data = self.load()
        data[key] = value
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, ensure_ascii=False, indent=2, sort_keys=True)
                handle.write("\n")
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


# --------------------------------------------------------------------------- plots


def plot_theme_scores(scores: Sequence[ThemeScore], threshold: float = WEAK_THRESHOLD,
                      title: str = "Tu simulacro por tema"):
    """Horizontal bars per theme (weakest on top), red below the threshold."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 0.35 * max(len(scores), 3) + 1))
    ordered = list(reversed(scores))  # barh draws bottom-up: weakest on top
    values = [100 * s.score for s in ordered]
    colors = ["tab:red" if s.score < threshold else "tab:green" for s in ordered]
    ax.barh([f"{s.tema} ({s.n})" for s in ordered], values, color=colors)
    ax.axvline(100 * threshold, color="grey", linestyle="--", linewidth=1)
    ax.set(xlim=(0, 100), xlabel="puntuación media (%)", title=title)
    fig.tight_layout()
    return fig


def plot_self_assessment(levels: Mapping[str, int], bank: Bank,
                         mock: Sequence[ThemeScore] | None = None):
    """Self-rated level per theme (1-5) and, if given, the mock interview's score on the
    same scale (0 % → 1, 100 % → 5), so the gaps between the two stand out."""
    import matplotlib.pyplot as plt

    themes = [t for t in bank.temas if t in levels]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(themes) + 1.4))
    y = list(range(len(themes)))[::-1]
    low, high = LEVELS
    height = 0.4 if mock else 0.7
    shift = height / 2 if mock else 0
    ax.barh([v + shift for v in y], [levels[t] for t in themes], height=height,
            color="tab:blue", label="cómo te ves")
    if mock:
        by_theme = {s.tema: s.score for s in mock}
        ax.barh([v - shift for v in y],
                [low + (high - low) * by_theme.get(t, math.nan) for t in themes],
                height=height, color="tab:orange", label="simulacro (0 % → 1, 100 % → 5)")
    ax.set_yticks(y, themes)
    ax.set_xticks(range(low, high + 1))
    ax.set(xlim=(0, high), xlabel="nivel", title="Autoevaluación por tema")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize="small",
              frameon=False)
    fig.tight_layout()
    return fig


def summary_html(scores: Sequence[ThemeScore], threshold: float = WEAK_THRESHOLD,
                 available: Callable[[str], bool] | None = None) -> str:
    """The weak themes as an HTML list with links (a theme still being written, without)."""
    available = available or _exercise_exists
    weak = [s for s in scores if s.score < threshold]
    if not scores:
        return "<p>Todavía no hay respuestas puntuadas.</p>"
    if not weak:
        return (f"<p>✔ Ningún tema por debajo del {100 * threshold:.0f} %. Sube la dificultad: "
                "más preguntas, menos tiempo o en voz alta.</p>")
    rows = []
    for s in weak:
        name = html.escape(f"{s.tema} · {s.titulo}")
        if s.tema == FAQ_THEME:
            target = "las secciones de este cuaderno"
        elif available(s.tema):
            target = f'<a href="{html.escape(s.link)}" target="_blank">{html.escape(s.link)}</a>'
        else:
            target = "tema en preparación"
        rows.append(f"<li><b>{name}</b>: {100 * s.score:.0f} % en {s.n} pregunta(s) → {target}</li>")
    return (f"<p>Temas por debajo del {100 * threshold:.0f} %, del más débil al menos débil:</p>"
            f"<ul>{''.join(rows)}</ul>")


def _exercise_exists(tema: str) -> bool:
    return (EXERCISES / tema / f"{tema}.ipynb").is_file()


# --------------------------------------------------------------------------- widgets


def _widgets():
    import ipywidgets

    return ipywidgets


class _Displayable:
    """Show ``self.widget`` when the object is the value of a cell."""

    widget = None

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def _in_kernel() -> bool:
    """True inside Jupyter; tests build the widgets without a kernel and skip drawing."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _tick_row(text: str, value: bool = False):
    """A checkbox with its text beside it, wrapped: a Checkbox's own description is one
    line cut with an ellipsis, too short for a key point or a piece of advice."""
    w = _widgets()
    box = w.Checkbox(value=value, indent=False, layout=w.Layout(width="2.2em", flex="0 0 auto"))
    label = w.HTML(html.escape(text), layout=w.Layout(flex="1 1 auto"))
    box.text = text  # what the checkbox stands for, for the tests and the curious
    return box, w.HBox([box, label], layout=w.Layout(align_items="center"))


LETTERS = "ABCDE"


def _clock(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


class _Round(_Displayable):
    """Questions of one kind, one at a time; ``results`` grows as the learner scores them."""

    kind = OPEN
    empty = "El simulacro necesita al menos una pregunta."

    def _start(self, questions: Sequence[Question],
               on_finish: Callable[[list[Result]], None] | None) -> None:
        self.questions = list(questions)
        if not self.questions:
            raise ValueError(self.empty)
        wrong = [q.id for q in self.questions if q.tipo != self.kind]
        if wrong:
            raise ValueError(self.wrong_kind.format(wrong))
        self.on_finish = on_finish
        self.index = 0
        self.results: list[Result] = []

    @property
    def current(self) -> Question | None:
        return self.questions[self.index] if self.index < len(self.questions) else None

    @property
    def finished(self) -> bool:
        return self.index >= len(self.questions)


class MockInterview(_Round):
    """Open questions one at a time: answer against the clock, reveal, tick, next.

    ``results`` holds one ``Result`` per scored question; ``on_finish(results)`` is called
    after the last one.
    """

    wrong_kind = ("El simulacro cronometrado es para preguntas abiertas; estas son de test: "
                  "{}. Úsalas en una QuizRound.")

    def __init__(self, questions: Sequence[Question], seconds: int = 120,
                 on_finish: Callable[[list[Result]], None] | None = None):
        w = _widgets()
        self._start(questions, on_finish)
        self.seconds = int(seconds)
        self.elapsed: list[int] = []  # seconds on the clock when the key points were revealed
        self.header = w.HTML()
        self.text = w.HTML()
        self.answer = w.Textarea(placeholder="Escribe tu respuesta, o dila en voz alta y anota "
                                 "aquí las ideas principales…",
                                 layout=w.Layout(width="100%", height="9em"))
        self.timer = w.Play(value=0, min=0, max=self.seconds, step=1, interval=1000,
                            show_repeat=False, description="Cronómetro")
        self.bar = w.IntProgress(value=0, min=0, max=self.seconds, layout=w.Layout(width="50%"))
        w.jslink((self.timer, "value"), (self.bar, "value"))  # ticks in the browser
        self.clock = w.Label()
        self.reveal = w.Button(description="Ver puntos clave", icon="eye", disabled=True,
                               tooltip="Se activa cuando escribes algo o se acaba el tiempo")
        self.model_answer = w.HTML()
        self.checks: list = []
        self.checks_box = w.VBox()
        self.next = w.Button(description="Puntuar y seguir", icon="forward", disabled=True,
                             button_style="primary")
        self.status = w.HTML()
        self.answer.observe(self._update_reveal, names="value")
        self.timer.observe(self._on_tick, names=["value", "playing"])
        self.reveal.on_click(self._on_reveal)
        self.next.on_click(self._on_next)
        self.widget = w.VBox([self.header, self.text, w.HBox([self.timer, self.bar, self.clock]),
                              self.answer, self.reveal, self.model_answer, self.checks_box,
                              self.next, self.status])
        self._show(start=False)

    def _show(self, start: bool = True) -> None:
        """Show the current question; from the second one on, the clock starts by itself.

        The first waits for ▶: the browser starts a Play only when ``playing`` changes
        while it is on screen, and before the first display there is no screen yet.
        """
        q = self.current
        article = f" · {q.pregunta_articulo}" if q.pregunta_articulo else ""
        self.header.value = (f"<b>Pregunta {self.index + 1} de {len(self.questions)}</b> · "
                             f"{html.escape(q.tema)}{article}")
        self.text.value = f"<h3>{html.escape(q.pregunta)}</h3>"
        self.answer.value = ""
        self.answer.disabled = False
        self.model_answer.value = ""
        self.checks = []
        self.checks_box.children = ()
        self.next.disabled = True
        self.timer.playing = False
        self.timer.value = 0
        self.timer.playing = start
        self._on_tick()

    def _time_up(self) -> bool:
        return self.timer.value >= self.seconds

    def _on_tick(self, change=None) -> None:
        left = self.seconds - self.timer.value
        if left <= 0:
            self.clock.value = "¡Tiempo! Cierra la idea y mira los puntos clave."
        elif self.timer.value == 0 and not self.timer.playing and not self.checks:
            self.clock.value = f"{_clock(left)} · pulsa ▶ para empezar"
        else:
            self.clock.value = f"quedan {_clock(left)}"
        self._update_reveal()

    def _update_reveal(self, change=None) -> None:
        if self.finished or self.checks:
            return
        self.reveal.disabled = not (self.answer.value.strip() or self._time_up())

    def _on_reveal(self, button=None) -> None:
        if self.reveal.disabled or self.finished:
            return
        w = _widgets()
        q = self.current
        self.timer.playing = False
        self.elapsed.append(int(self.timer.value))
        self.answer.disabled = True
        self.reveal.disabled = True
        self.model_answer.value = (f"<p><b>Respuesta modelo:</b> {html.escape(q.respuesta)}</p>"
                                   "<p><b>Marca los puntos clave que cubrió tu respuesta:</b></p>")
        rows = [_tick_row(point) for point in q.puntos_clave]
        self.checks = [box for box, _ in rows]
        self.checks_box.children = tuple(row for _, row in rows)
        self.next.disabled = False

    def _on_next(self, button=None) -> None:
        if self.next.disabled or self.finished:
            return
        q = self.current
        result = score_open(q, [i for i, box in enumerate(self.checks) if box.value])
        self.results.append(result)
        self.index += 1
        if self.finished:
            self._finish()
        else:
            self._show()

    def _finish(self) -> None:
        self.timer.playing = False
        self.next.disabled = True
        self.reveal.disabled = True
        self.answer.disabled = True
        self.checks_box.children = ()
        self.model_answer.value = ""
        mean = sum(r.score for r in self.results) / len(self.results)
        self.header.value = "<b>Simulacro terminado</b>"
        self.text.value = ""
        self.status.value = (f"<p>✔ {len(self.results)} preguntas; cubriste de media el "
                             f"{100 * mean:.0f} % de los puntos clave. Mira el resumen por tema "
                             "más abajo.</p>")
        if self.on_finish:
            self.on_finish(self.results)


class QuizRound(_Round):
    """Multiple-choice questions one at a time, scored as soon as the learner checks."""

    kind = CHOICE
    empty = "La ronda necesita al menos una pregunta."
    wrong_kind = "Una ronda de test solo admite preguntas de tipo «test»: {}."

    def __init__(self, questions: Sequence[Question], title: str = "",
                 on_finish: Callable[[list[Result]], None] | None = None):
        w = _widgets()
        self._start(questions, on_finish)
        self.title = title
        self.header = w.HTML()
        self.text = w.HTML()
        # long options go in the HTML (a radio label is one line high); the buttons are letters
        self.options = w.RadioButtons(options=[("A", 0)], value=None, orientation="horizontal",
                                      description="Tu respuesta:",
                                      style={"description_width": "initial"})
        self.check = w.Button(description="Comprobar", icon="check", disabled=True)
        self.feedback = w.HTML()
        self.next = w.Button(description="Siguiente", icon="forward", disabled=True,
                             button_style="primary")
        self.options.observe(self._on_choice, names="value")
        self.check.on_click(self._on_check)
        self.next.on_click(self._on_next)
        self.widget = w.VBox([self.header, self.text, self.options, self.check, self.feedback,
                              self.next])
        self._show()

    @property
    def correct(self) -> int:
        return int(sum(r.score for r in self.results))

    def _show(self) -> None:
        q = self.current
        title = f"{html.escape(self.title)} · " if self.title else ""
        self.header.value = f"<b>{title}Pregunta {self.index + 1} de {len(self.questions)}</b>"
        items = "".join(f"<li><b>{LETTERS[i]}.</b> {html.escape(text)}</li>"
                        for i, text in enumerate(q.opciones))
        self.text.value = (f"<h3>{html.escape(q.pregunta)}</h3>"
                           f"<ul style='list-style: none; padding-left: 0'>{items}</ul>")
        self.options.options = [(LETTERS[i], i) for i in range(len(q.opciones))]
        self.options.value = None
        self.options.disabled = False
        self.feedback.value = ""
        self.check.disabled = True
        self.next.disabled = True
        self.next.description = "Siguiente" if self.index + 1 < len(self.questions) else "Ver resultado"

    def _on_choice(self, change=None) -> None:
        if not self.finished and self.next.disabled:
            self.check.disabled = self.options.value is None

    def _on_check(self, button=None) -> None:
        if self.check.disabled or self.finished:
            return
        q = self.current
        result = score_choice(q, self.options.value)
        self.results.append(result)
        if result.score == 1:
            verdict = "✔ <b>Correcto.</b>"
        else:
            verdict = (f"✗ <b>No.</b> La buena era la {LETTERS[q.correcta]}: "
                       f"«{html.escape(q.opciones[q.correcta])}».")
        self.feedback.value = f"<p>{verdict} {html.escape(q.explicacion)}</p>"
        self.options.disabled = True
        self.check.disabled = True
        self.next.disabled = False

    def _on_next(self, button=None) -> None:
        if self.next.disabled or self.finished:
            return
        self.index += 1
        if self.finished:
            self.header.value = f"<b>{html.escape(self.title) or 'Ronda'} terminada</b>"
            self.text.value = (f"<p>Acertaste {self.correct} de {len(self.questions)}.</p>")
            self.options.options = []
            self.options.disabled = True
            self.feedback.value = ""
            self.next.disabled = True
            if self.on_finish:
                self.on_finish(self.results)
        else:
            self._show()


class Summary(_Displayable):
    """Results of several rounds per theme: a bar chart and the weak themes with links."""

    def __init__(self, bank: Bank, sources: Sequence, threshold: float = WEAK_THRESHOLD,
                 available: Callable[[str], bool] | None = None):
        w = _widgets()
        self.bank = bank
        self.sources = list(sources)  # objects with a ``results`` list (rounds)
        self.threshold = threshold
        self.available = available
        self.scores: list[ThemeScore] = []
        self.figure = None
        self.button = w.Button(description="Actualizar resumen", icon="refresh")
        self.text = w.HTML()
        self.plot = w.Output()
        self.button.on_click(self.refresh)
        self.widget = w.VBox([self.button, self.text, self.plot])
        self.refresh()

    def results(self) -> list[Result]:
        return [r for source in self.sources for r in source.results]

    def refresh(self, button=None) -> None:
        import matplotlib.pyplot as plt
        from IPython.display import display

        self.scores = theme_scores(self.results(), self.bank)
        self.text.value = summary_html(self.scores, self.threshold, self.available)
        if _in_kernel():
            self.plot.clear_output(wait=True)
        if self.figure is not None:
            plt.close(self.figure)
            self.figure = None
        if self.scores:
            self.figure = plot_theme_scores(self.scores, self.threshold)
            if _in_kernel():
                with self.plot:
                    display(self.figure)
            plt.close(self.figure)


class _Persisted(_Displayable):
    """Base of the widgets whose state lives under one key of ``simulacro.json``."""

    key = ""

    def _read(self, progress: Progress | None) -> dict:
        self.progress = progress
        self.error = None
        if progress is None:
            return {}
        try:
            saved = progress.get(self.key, {})
        except ProgressError as exc:
            self.error = str(exc)
            return {}
        return saved if isinstance(saved, dict) else {}

    def _write(self, value) -> str:
        if self.progress is None:
            return "Sin fichero de progreso: tus marcas no se guardan."
        if self.error:
            return f"⚠ {html.escape(self.error)}"
        try:
            self.progress.save(self.key, value)
        except (OSError, ProgressError) as exc:
            self.error = str(exc)
            return f"⚠ No pude guardar: {html.escape(str(exc))}"
        return f"Guardado en <code>{html.escape(str(self.progress.path))}</code>."


class Checklist(_Persisted):
    """The preparation advice as checkboxes, saved under ``lista_preparacion``."""

    key = "lista_preparacion"

    def __init__(self, items: Sequence[ChecklistItem], progress: Progress | None = None):
        w = _widgets()
        saved = self._read(progress)
        self.items = list(items)
        rows = {item.id: _tick_row(item.texto, bool(saved.get(item.id, False)))
                for item in self.items}
        self.boxes = {item_id: box for item_id, (box, _) in rows.items()}
        self.status = w.HTML()
        for box in self.boxes.values():
            box.observe(self._on_change, names="value")
        self.widget = w.VBox([*(row for _, row in rows.values()), self.status])
        self._render(self._where())

    def ticked(self) -> list[str]:
        return [item_id for item_id, box in self.boxes.items() if box.value]

    def _where(self) -> str:
        if self.error:
            return f"⚠ {html.escape(self.error)}"
        if self.progress is None:
            return "Sin fichero de progreso: tus marcas no se guardan."
        return f"Se guarda en <code>{html.escape(str(self.progress.path))}</code> al marcar."

    def _render(self, note: str) -> None:
        self.status.value = f"<p>{len(self.ticked())} de {len(self.boxes)} hechos. {note}</p>"

    def _on_change(self, change=None) -> None:
        self._render(self._write({k: b.value for k, b in self.boxes.items()}))


class SelfAssessment(_Persisted):
    """One slider per theme (1-5) and a bar chart, saved under ``autoevaluacion``."""

    key = "autoevaluacion"

    def __init__(self, bank: Bank, progress: Progress | None = None, default: int = 3):
        w = _widgets()
        saved = self._read(progress)
        low, high = LEVELS
        self.bank = bank
        self.mock: list[ThemeScore] = []
        self.sliders = {}
        for tema, title in bank.temas.items():
            value = saved.get(tema, default)
            value = value if isinstance(value, int) and low <= value <= high else default
            self.sliders[tema] = w.IntSlider(value=value, min=low, max=high, step=1,
                                             continuous_update=False, description=tema,
                                             tooltip=title, style={"description_width": "16em"},
                                             layout=w.Layout(width="32em"))
        self.status = w.HTML()
        self.plot = w.Output()
        self.figure = None
        for slider in self.sliders.values():
            slider.observe(self._on_change, names="value")
        scale = ("<p>1 = no sabría por dónde empezar · 3 = lo explico sin ejemplos · "
                 "5 = lo explico con un ejemplo, números y compromisos.</p>")
        self.widget = w.VBox([w.HTML(scale), *self.sliders.values(), self.status, self.plot])
        self.status.value = f"<p>{self._where()}</p>"
        self.draw()

    def levels(self) -> dict[str, int]:
        return {tema: s.value for tema, s in self.sliders.items()}

    def _where(self) -> str:
        if self.error:
            return f"⚠ {html.escape(self.error)}"
        if self.progress is None:
            return "Sin fichero de progreso: tu autoevaluación no se guarda."
        return f"Se guarda en <code>{html.escape(str(self.progress.path))}</code> al mover."

    def _on_change(self, change=None) -> None:
        self.status.value = f"<p>{self._write(self.levels())}</p>"
        self.draw()

    def compare(self, scores: Sequence[ThemeScore]) -> None:
        """Draw the mock interview's scores next to the self-assessment."""
        self.mock = list(scores)
        self.draw()

    def draw(self) -> None:
        import matplotlib.pyplot as plt
        from IPython.display import display

        if _in_kernel():
            self.plot.clear_output(wait=True)
        if self.figure is not None:
            plt.close(self.figure)
        self.figure = plot_self_assessment(self.levels(), self.bank, self.mock)
        if _in_kernel():
            with self.plot:
                display(self.figure)
        plt.close(self.figure)
