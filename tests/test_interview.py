"""The mock interview: the question bank (data) and the logic and widgets built on it."""

from __future__ import annotations

import json
import re
import textwrap

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from conftest import ROOT, THEMES  # noqa: E402
from curso_mlops import interview  # noqa: E402
from curso_mlops.interview import BankError, Progress  # noqa: E402

COURSE_THEMES = [
    "00-introduccion", "01-deriva", "02-pruebas", "03-versionado", "04-reproducibilidad",
    "05-empaquetado", "06-cicd", "07-datos", "08-monitorizacion", "09-despliegue",
    "10-reentrenamiento", "11-explicabilidad", "12-nube", "13-borde-y-disponibilidad",
    "14-seguridad", "15-escalado", "16-comportamiento",
]


@pytest.fixture(scope="module")
def bank():
    return interview.load_bank()


# --------------------------------------------------------------------------- the bank


def test_bank_covers_every_theme_of_the_course(bank):
    assert list(bank.temas) == COURSE_THEMES
    missing = sorted(set(THEMES) - set(bank.temas))
    assert not missing, f"temas de solutions/ sin sitio en el banco: {missing}"
    for theme in COURSE_THEMES:
        open_ = bank.select(tema=theme, tipo="abierta")
        choice = bank.select(tema=theme, tipo="test")
        assert len(open_) >= 3, f"{theme}: {len(open_)} preguntas abiertas (mínimo 3)"
        assert len(choice) >= 2, f"{theme}: {len(choice)} preguntas de test (mínimo 2)"


def test_every_article_question_is_in_the_bank(bank):
    asked = {q.pregunta_articulo for q in bank.preguntas}
    missing = [f"Q{i:02d}" for i in range(1, 37) if f"Q{i:02d}" not in asked]
    assert not missing, f"preguntas del artículo sin pregunta en el banco: {missing}"
    for article in ("Q35", "Q36"):
        assert len(bank.select(articulo=article, tipo="test")) >= 3, f"{article}: ronda de test corta"
    for article in ("Q32", "Q33", "Q34"):
        assert bank.select(articulo=article, tipo="abierta"), article


def test_article_questions_sit_in_the_theme_the_coverage_map_gives_them(bank):
    """cobertura.md says which notebook answers each question; the bank must agree."""
    row = re.compile(r"^\| (Q\d\d) \|[^|]+\| `(?:solutions/([^/]+)/|notebooks/simulacro)")
    home = {}
    for line in (ROOT / "docs" / "cobertura.md").read_text(encoding="utf-8").splitlines():
        if m := row.match(line):
            home[m.group(1)] = m.group(2) or interview.FAQ_THEME
    for q in bank.preguntas:
        if q.pregunta_articulo:
            assert q.tema == home[q.pregunta_articulo], \
                f"{q.id}: {q.pregunta_articulo} es de {home[q.pregunta_articulo]}, no de {q.tema}"


def test_every_question_has_an_answer_key_points_and_a_valid_choice(bank):
    assert len({q.id for q in bank.preguntas}) == len(bank.preguntas)
    for q in bank.preguntas:
        assert q.respuesta and 3 <= len(q.puntos_clave) <= 6, q.id
        if q.tipo == "test":
            assert 3 <= len(q.opciones) <= 5 and 0 <= q.correcta < len(q.opciones), q.id
            assert q.explicacion, q.id
        else:
            assert q.opciones == () and q.correcta is None, q.id


def test_checklist_has_the_article_tips_and_faq(bank):
    ids = [item.id for item in bank.preparacion]
    assert len(ids) == len(set(ids)) >= 10
    assert {item.origen for item in bank.preparacion} == {"consejo", "faq"}
    for tip in ("repasar-conceptos", "pila-de-la-empresa", "historias-star", "practicar-codigo",
                "al-dia"):
        assert tip in ids


# --------------------------------------------------------------------------- bad banks

GOOD = {
    "id": "a-1", "tema": "01-deriva", "tipo": "test", "pregunta": "¿P?", "respuesta": "R.",
    "puntos_clave": ["uno", "dos", "tres"], "opciones": ["x", "y", "z"], "correcta": 0,
    "explicacion": "E.",
}


def write_bank(tmp_path, questions, temas=None):
    data = {"temas": temas or {"01-deriva": "Deriva"}, "preguntas": questions}
    path = tmp_path / "banco.yaml"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")  # JSON is YAML
    return path


def with_(**changes):
    q = dict(GOOD, **changes)
    return {k: v for k, v in q.items() if v is not None}


def without(field):
    return {k: v for k, v in GOOD.items() if k != field}


def test_a_minimal_bank_loads(tmp_path):
    loaded = interview.load_bank(write_bank(tmp_path, [GOOD]))
    assert loaded.get("a-1").opciones == ("x", "y", "z")
    assert loaded.preparacion == ()


@pytest.mark.parametrize("question, words", [
    (without("respuesta"), ["a-1", "falta el campo «respuesta»"]),
    (without("puntos_clave"), ["a-1", "«puntos_clave»"]),
    (without("correcta"), ["a-1", "«correcta»", "test"]),
    (with_(tema="99-inventado"), ["a-1", "«tema»", "99-inventado"]),
    (with_(correcta=3), ["a-1", "«correcta»", "de 0 a 2"]),
    (with_(correcta=True), ["a-1", "«correcta»"]),
    (with_(correcta="0"), ["a-1", "«correcta»"]),
    (with_(tipo="libre"), ["a-1", "«tipo»"]),
    (with_(opciones=["x", "y"]), ["a-1", "«opciones»"]),
    (with_(puntos_clave=["solo uno"]), ["a-1", "«puntos_clave»"]),
    (with_(pregunta_articulo="Q99"), ["a-1", "«pregunta_articulo»"]),
    (with_(id="Mal Id"), ["Mal Id", "«id»"]),
    (with_(pregunta="  "), ["a-1", "«pregunta»"]),
    (with_(opcion=["x"]), ["a-1", "campo desconocido «opcion»"]),
    (with_(tipo="abierta"), ["a-1", "campo desconocido", "solo las preguntas de tipo «test»"]),
    ("una cadena", ["n.º 1", "diccionario"]),
])
def test_bad_questions_are_explained(tmp_path, question, words):
    with pytest.raises(BankError) as caught:
        interview.load_bank(write_bank(tmp_path, [question]))
    for word in words:
        assert word in str(caught.value), f"falta {word!r} en: {caught.value}"


def test_duplicate_ids_are_explained(tmp_path):
    path = write_bank(tmp_path, [GOOD, with_(pregunta="¿Otra?")])
    with pytest.raises(BankError, match=r"«a-1» \(n\.º 2 del banco\).*repetido.*n\.º 1"):
        interview.load_bank(path)


def test_broken_files_are_explained(tmp_path):
    with pytest.raises(BankError, match="No encuentro el banco"):
        interview.load_bank(tmp_path / "no-existe.yaml")
    broken = tmp_path / "roto.yaml"
    broken.write_text("temas: [\n", encoding="utf-8")
    with pytest.raises(BankError, match="no es YAML válido"):
        interview.load_bank(broken)
    broken.write_text(textwrap.dedent("""\
        temas: {01-deriva: Deriva}
        """), encoding="utf-8")
    with pytest.raises(BankError, match="falta la sección «preguntas»"):
        interview.load_bank(broken)
    with pytest.raises(BankError, match="NN-tema"):
        interview.load_bank(write_bank(tmp_path, [GOOD], temas={"deriva": "Deriva"}))


def test_bad_checklist_items_are_explained(tmp_path):
    path = tmp_path / "banco.yaml"
    data = {"temas": {"01-deriva": "Deriva"}, "preguntas": [GOOD],
            "preparacion": [{"id": "x", "texto": "Hacer algo", "origen": "blog"}]}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(BankError, match=r"«x».*«origen»"):
        interview.load_bank(path)


# --------------------------------------------------------------------------- drawing


def test_draw_is_deterministic_and_spread_across_themes(bank):
    first = interview.draw(bank, 17, seed=7, tipo="abierta")
    assert [q.id for q in first] == [q.id for q in interview.draw(bank, 17, seed=7, tipo="abierta")]
    assert [q.id for q in first] != [q.id for q in interview.draw(bank, 17, seed=8, tipo="abierta")]
    assert sorted(q.tema for q in first) == COURSE_THEMES  # one per theme
    twice = interview.draw(bank, 34, seed=1, tipo="abierta")
    assert len({q.id for q in twice}) == 34
    assert all(sum(q.tema == t for q in twice) == 2 for t in COURSE_THEMES)
    few = interview.draw(bank, 5, seed=3)
    assert len({q.tema for q in few}) == 5
    assert all(q.tema != interview.FAQ_THEME for q in interview.draw(bank, 200, seed=3))


def test_draw_filters_and_caps(bank):
    only = interview.draw(bank, 10, seed=0, themes=["01-deriva"], tipo="test")
    assert {q.id for q in only} == {q.id for q in bank.select(tema="01-deriva", tipo="test")}
    faq = interview.draw(bank, 4, seed=0, themes=[interview.FAQ_THEME], tipo="test")
    assert len(faq) == 4 and all(q.pregunta_articulo in {"Q35", "Q36"} for q in faq)
    with pytest.raises(ValueError, match="entero positivo"):
        interview.draw(bank, 0, seed=0)
    with pytest.raises(ValueError, match="no es un tema"):
        interview.draw(bank, 3, seed=0, themes=["99-nada"])
    with pytest.raises(ValueError, match="tipo"):
        interview.draw(bank, 3, seed=0, tipo="oral")


# --------------------------------------------------------------------------- scoring


def test_score_choice(bank):
    q = bank.select(tipo="test")[0]
    wrong = (q.correcta + 1) % len(q.opciones)
    assert interview.score_choice(q, q.correcta).score == 1.0
    assert interview.score_choice(q, wrong).score == 0.0
    assert interview.score_choice(q, None).score == 0.0
    result = interview.score_choice(q, q.correcta)
    assert (result.question_id, result.tema, result.tipo) == (q.id, q.tema, "test")
    with pytest.raises(ValueError, match="índice"):
        interview.score_choice(q, len(q.opciones))
    with pytest.raises(ValueError, match="score_open"):
        interview.score_choice(bank.select(tipo="abierta")[0], 0)


def test_score_open(bank):
    q = bank.get("intro-que-es-mlops")  # five key points
    assert interview.score_open(q, []).score == 0
    assert interview.score_open(q, [0, 2, 2]).score == pytest.approx(2 / 5)
    assert interview.score_open(q, range(5)).score == 1
    with pytest.raises(ValueError, match="fuera de rango"):
        interview.score_open(q, [5])
    with pytest.raises(ValueError, match="score_choice"):
        interview.score_open(bank.select(tipo="test")[0], [0])


def result(tema, score, tipo="abierta"):
    return interview.Result(f"{tema}-x", tema, tipo, score)


def test_theme_scores_and_weak_themes(bank):
    results = [result("01-deriva", 0.2), result("01-deriva", 0.6), result("07-datos", 1.0),
               result("12-nube", 0.5), result(interview.FAQ_THEME, 0.0, "test")]
    scores = interview.theme_scores(results, bank)
    assert [s.tema for s in scores] == [interview.FAQ_THEME, "01-deriva", "12-nube", "07-datos"]
    deriva = scores[1]
    assert deriva.score == pytest.approx(0.4) and deriva.n == 2
    assert deriva.titulo == "Deriva de datos y de concepto"
    assert deriva.link == "../trabajo/01-deriva/01-deriva.ipynb"
    weak = interview.weak_themes(results, bank)
    assert [s.tema for s in weak] == [interview.FAQ_THEME, "01-deriva", "12-nube"]
    assert [s.tema for s in interview.weak_themes(results, bank, threshold=0.45)] == \
        [interview.FAQ_THEME, "01-deriva"]
    assert interview.weak_themes([], bank) == []


def test_revisit_links_open_the_learners_copy_of_existing_themes():
    """From notebooks/, the link reaches trabajo/, which mirrors exercises/."""
    for theme in THEMES:
        link = interview.revisit_link(theme)
        resolved = (ROOT / "notebooks" / link).resolve()
        assert resolved == (ROOT / "trabajo" / theme / f"{theme}.ipynb").resolve()
        assert (ROOT / "exercises" / theme / f"{theme}.ipynb").is_file(), theme
    assert interview.revisit_link(interview.FAQ_THEME) == "simulacro.ipynb"


def test_summary_html_links_only_themes_that_exist(bank):
    scores = interview.theme_scores([result("01-deriva", 0.2), result("14-seguridad", 0.0),
                                     result("07-datos", 0.9)], bank)
    text = interview.summary_html(scores, available=lambda t: t == "01-deriva")
    assert '<a href="../trabajo/01-deriva/01-deriva.ipynb"' in text
    assert ("14-seguridad · Seguridad y cumplimiento</b>: 0 % en 1 pregunta(s) → "
            "tema en preparación") in text
    assert "07-datos" not in text
    assert "Ningún tema" in interview.summary_html(scores[-1:])
    assert "Todavía no hay" in interview.summary_html([])


def test_focus_themes():
    assert interview.focus_themes({"b": 2, "a": 2, "c": 5, "d": 1}, k=2) == ["d", "a"]


# --------------------------------------------------------------------------- impact (Q33)


def test_impact_sentences():
    lines = interview.impact_sentences([
        interview.Metric("bajas detectadas", 550, 800),
        interview.Metric("AUC", 0.7641, 0.8017, decimals=3),
        interview.Metric("latencia p95", 157.2, 67.6, unit="ms", higher_is_better=False, decimals=1),
        interview.Metric("falsas alarmas", 129, 226, higher_is_better=False),
        interview.Metric("clientes", 1500, 12000),
        interview.Metric("incidentes", 0, 2, higher_is_better=False),
        interview.Metric("réplicas", 4, 10, higher_is_better=False),
        interview.Metric("coste", 10, 10, unit="$"),
    ])
    assert lines == [
        "bajas detectadas: de 550 a 800 (+45 %, mejor)",
        "AUC: de 0.764 a 0.802 (+4.9 %, mejor)",
        "latencia p95: de 157.2 ms a 67.6 ms (−57 %, mejor)",
        "falsas alarmas: de 129 a 226 (+75 %, peor)",
        "clientes: de 1 500 a 12 000 (×8, mejor)",
        "incidentes: de 0 a 2 (peor)",
        "réplicas: de 4 a 10 (×2.5, peor)",
        "coste: de 10 $ a 10 $ (0.0 %, igual)",
    ]
    assert interview.relative_change(interview.Metric("x", 0, 1)) is None


# --------------------------------------------------------------------------- progress file


def test_progress_creates_the_folder_and_keeps_other_keys(tmp_path):
    path = tmp_path / "trabajo" / "simulacro.json"
    progress = Progress(path)
    assert progress.load() == {}
    progress.save("lista_preparacion", {"al-dia": True})
    assert json.loads(path.read_text()) == {"lista_preparacion": {"al-dia": True}}
    path.write_text(json.dumps({"lista_preparacion": {}, "mis_notas": "no tocar"}))
    progress.save("autoevaluacion", {"01-deriva": 4})
    assert json.loads(path.read_text()) == {"lista_preparacion": {}, "mis_notas": "no tocar",
                                            "autoevaluacion": {"01-deriva": 4}}
    assert sorted(p.name for p in path.parent.iterdir()) == ["simulacro.json"]


@pytest.mark.parametrize("content", ["{roto", "[1, 2]"])
def test_progress_never_overwrites_a_file_it_cannot_read(tmp_path, content):
    path = tmp_path / "simulacro.json"
    path.write_text(content)
    with pytest.raises(interview.ProgressError, match="no lo sobrescribo"):
        Progress(path).save("lista_preparacion", {})
    assert path.read_text() == content


# --------------------------------------------------------------------------- widgets


def test_mock_interview_flow(bank):
    questions = [bank.get("intro-que-es-mlops"), bank.get("deriva-modelo-y-concepto")]
    finished = []
    mock = interview.MockInterview(questions, seconds=90, on_finish=finished.append)
    assert "Pregunta 1 de 2" in mock.header.value and "Q01" in mock.header.value
    assert "¿Qué es MLOps" in mock.text.value
    assert (mock.timer.max, mock.bar.max, mock.timer.interval) == (90, 90, 1000)
    assert not mock.timer.playing and mock.clock.value == "1:30 · pulsa ▶ para empezar"
    mock.timer.playing = True  # the learner presses ▶
    assert mock.clock.value == "quedan 1:30"
    assert mock.reveal.disabled and mock.next.disabled
    mock.reveal.click()  # nothing written yet: nothing happens
    assert mock.checks == []
    mock.answer.value = "   "
    assert mock.reveal.disabled
    mock.answer.value = "Prácticas para llevar modelos a producción…"
    assert not mock.reveal.disabled
    mock.timer.value = 40  # the browser's clock ticks
    assert mock.clock.value == "quedan 0:50"
    mock.reveal.click()
    assert mock.elapsed == [40] and not mock.timer.playing and mock.answer.disabled
    assert "Respuesta modelo" in mock.model_answer.value
    assert [c.text for c in mock.checks] == list(questions[0].puntos_clave)
    assert questions[0].puntos_clave[0] in mock.checks_box.children[0].children[1].value
    mock.checks[0].value = mock.checks[3].value = True
    mock.next.click()
    assert mock.results[0].score == pytest.approx(2 / 5)
    assert "Pregunta 2 de 2" in mock.header.value and mock.answer.value == ""
    assert mock.timer.value == 0 and mock.checks == [] and mock.reveal.disabled
    assert mock.timer.playing  # from the second question on, the clock starts by itself
    mock.timer.value = 90  # time is up: the key points open even with no answer
    assert "Tiempo" in mock.clock.value and not mock.reveal.disabled
    mock.reveal.click()
    mock.next.click()
    assert mock.finished and finished == [mock.results]
    assert [r.score for r in mock.results] == [pytest.approx(0.4), 0.0]
    assert "terminado" in mock.header.value and "2 preguntas" in mock.status.value
    mock.next.click()  # clicking after the end changes nothing
    assert len(mock.results) == 2


def test_mock_interview_rejects_choice_questions(bank):
    with pytest.raises(ValueError, match="QuizRound"):
        interview.MockInterview(bank.select(tipo="test")[:1])
    with pytest.raises(ValueError, match="al menos una"):
        interview.MockInterview([])


def test_quiz_round_scores_at_once(bank):
    questions = bank.select(articulo="Q35", tipo="test")[:2]
    finished = []
    quiz = interview.QuizRound(questions, title="Errores", on_finish=finished.append)
    assert quiz.check.disabled and quiz.options.value is None
    assert [label for label, _ in quiz.options.options] == list("ABCDE"[:len(questions[0].opciones)])
    assert all(option in quiz.text.value for option in questions[0].opciones)
    quiz.options.value = questions[0].correcta
    assert not quiz.check.disabled
    quiz.check.click()
    assert "Correcto" in quiz.feedback.value and quiz.options.disabled and not quiz.next.disabled
    quiz.next.click()
    assert "Pregunta 2 de 2" in quiz.header.value and quiz.next.description == "Ver resultado"
    quiz.options.value = (questions[1].correcta + 1) % len(questions[1].opciones)
    quiz.check.click()
    assert "No." in quiz.feedback.value and questions[1].explicacion[:20] in quiz.feedback.value
    quiz.check.click()  # a second check does not score twice
    quiz.next.click()
    assert [r.score for r in quiz.results] == [1.0, 0.0] and quiz.correct == 1
    assert finished == [quiz.results] and "Acertaste 1 de 2" in quiz.text.value
    with pytest.raises(ValueError, match="test"):
        interview.QuizRound(bank.select(tipo="abierta")[:1])


def test_summary_collects_every_round(bank):
    quiz = interview.QuizRound(bank.select(tema="01-deriva", tipo="test"))
    mock = interview.MockInterview(bank.select(tema="07-datos", tipo="abierta")[:1])
    summary = interview.Summary(bank, [quiz, mock], available=lambda t: True)
    assert summary.scores == [] and "Todavía no" in summary.text.value
    for _ in quiz.questions:
        quiz.options.value = 0 if quiz.current.correcta != 0 else 1  # always wrong
        quiz.check.click()
        quiz.next.click()
    mock.answer.value = "contratos"
    mock.reveal.click()
    for box in mock.checks:
        box.value = True
    mock.next.click()
    summary.button.click()
    assert [(s.tema, s.score) for s in summary.scores] == [("01-deriva", 0.0), ("07-datos", 1.0)]
    assert "../trabajo/01-deriva/01-deriva.ipynb" in summary.text.value
    assert "07-datos" not in summary.text.value
    assert summary.figure is None or not matplotlib.pyplot.fignum_exists(summary.figure.number)


def test_checklist_saves_ticks_and_reloads_them(tmp_path, bank):
    path = tmp_path / "trabajo" / "simulacro.json"
    checklist = interview.Checklist(bank.preparacion, Progress(path))
    assert not path.exists()  # showing the checklist writes nothing
    assert "0 de 13" in checklist.status.value
    checklist.boxes["al-dia"].value = True
    checklist.boxes["historias-star"].value = True
    saved = json.loads(path.read_text())["lista_preparacion"]
    assert saved["al-dia"] and saved["historias-star"] and not saved["repasar-conceptos"]
    assert "2 de 13" in checklist.status.value and "Guardado" in checklist.status.value
    again = interview.Checklist(bank.preparacion, Progress(path))
    assert again.ticked() == ["historias-star", "al-dia"]


def test_checklist_leaves_an_unreadable_file_alone(tmp_path, bank):
    path = tmp_path / "simulacro.json"
    path.write_text("mis notas, no JSON")
    checklist = interview.Checklist(bank.preparacion, Progress(path))
    assert "no lo sobrescribo" in checklist.status.value
    checklist.boxes["al-dia"].value = True
    assert path.read_text() == "mis notas, no JSON"
    assert "no lo sobrescribo" in checklist.status.value
    unsaved = interview.Checklist(bank.preparacion, None)
    unsaved.boxes["al-dia"].value = True
    assert "no se guardan" in unsaved.status.value


def test_self_assessment_saves_levels_and_compares(tmp_path, bank):
    path = tmp_path / "simulacro.json"
    path.write_text(json.dumps({"otra_cosa": 1,
                                "autoevaluacion": {"01-deriva": 5, "02-pruebas": 9}}))
    rating = interview.SelfAssessment(bank, Progress(path))
    assert rating.sliders["01-deriva"].value == 5 and rating.sliders["02-pruebas"].value == 3
    assert list(rating.sliders) == COURSE_THEMES
    rating.sliders["12-nube"].value = 1
    saved = json.loads(path.read_text())
    assert saved["otra_cosa"] == 1 and saved["autoevaluacion"]["12-nube"] == 1
    assert interview.focus_themes(rating.levels(), k=1) == ["12-nube"]
    rating.compare(interview.theme_scores([result("12-nube", 0.5)], bank))
    assert rating.figure is not None
