"""``curso``: the course's command line, for learners and instructors (``curso --help``).

Argument parsing and printing only; the work is done by ``grading`` (one notebook),
``progress`` and ``workspace`` (the learner's copies) and ``classroom`` (a class). Bad input
ends in one Spanish line that says what to fix and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import classroom, grading, progress, workspace

EXAMPLES = """
ejemplos:
  curso comprobar 01-deriva              tu nota del tema 01, con las pruebas ocultas
  curso progreso                         tabla de temas e informe HTML con tu avance
  curso reiniciar 01-deriva              copia nueva del tema (la tuya queda en trabajo/.copias/)
  curso corregir 01-deriva submitted/    corrige una clase en paralelo → gradebook.db
  curso exportar --salida notas.csv      las notas del gradebook en CSV
  curso benchmark-correccion             nbgrader de serie frente a corregir en paralelo
"""


SPANISH = {"the following arguments are required": "faltan los argumentos",
           "unrecognized arguments": "argumentos desconocidos",
           "invalid choice": "opción desconocida", "choose from": "elige entre",
           "expected one argument": "falta su valor", "argument ": "argumento ",
           "invalid": "no válido", "value": "valor"}


class UserError(Exception):
    """Something the user can fix; printed as one line."""


class Formatter(argparse.RawDescriptionHelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups, "uso: " if prefix is None else prefix)


class Parser(argparse.ArgumentParser):
    """argparse in Spanish where it shows: headings, -h, errors."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = "argumentos"
        self._optionals.title = "opciones"
        self.add_argument("-h", "--help", action="help", help="muestra esta ayuda y sale")

    def error(self, message):  # argparse's own wording, in one line, with where to look
        for english, spanish in SPANISH.items():
            message = message.replace(english, spanish)
        self.exit(2, f"{self.prog}: argumentos no válidos: {message}. "
                     f"Ayuda: {self.prog} --help\n")


def _positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} no es un número") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} debe ser mayor que 0")
        return value
    return parse


def _learner_notebook(target: str) -> tuple[Path, str | None]:
    """A path to a notebook, or a theme name meaning the learner's copy of it."""
    path = Path(target)
    if path.suffix != ".ipynb":
        if "/" in target or path.exists():
            raise UserError(f"{target} no es un cuaderno (.ipynb). Indica un cuaderno o un tema, "
                            "p. ej. curso comprobar 01-deriva")
        themes = sorted(p.parent.name for p in workspace.EXERCISES.glob("*/*.ipynb"))
        if target not in themes:
            raise UserError(f"Tema desconocido: {target!r}. Los temas son: {', '.join(themes)}.")
        copy = workspace.WORKSPACE / target / f"{target}.ipynb"
        if not copy.is_file():
            raise UserError(f"No tienes copia del tema {target} ({copy}): 'make trabajo' "
                            "crea las que falten.")
        return copy, target
    if not path.is_file():
        raise UserError(f"No encuentro el cuaderno {path}.")
    return path, None


def cmd_check(args) -> int:
    notebook, theme = _learner_notebook(args.cuaderno)
    theme = args.tema or theme or notebook.stem
    print(f"Corrigiendo {notebook} como {theme} (pruebas ocultas incluidas; tu cuaderno no se "
          "modifica)…", flush=True)
    report = classroom.grade_one(theme, notebook, source=args.fuente)
    for cell in report.cells:
        if not cell.auto:
            print(f"  {cell.grade_id:<36} la corrige tu profesor (hasta {cell.max_points:g} puntos)")
            continue
        mark = "✔" if cell.points == cell.max_points else "✗"
        print(f"{mark} {cell.grade_id:<36} {cell.points or 0:g} / {cell.max_points:g}")
        if cell.message and mark == "✗":
            print("    " + cell.message.replace("\n", "\n    "))
    print(f"Nota automática: {report.auto_score:g} / {report.auto_max:g} "
          f"(más {report.manual_max:g} puntos de respuestas corregidas a mano)")
    mine = workspace.WORKSPACE / theme / f"{theme}.ipynb"
    if mine.is_file() and mine.resolve() == notebook.resolve():
        progress.save_score(theme, notebook, report.auto_score, report.auto_max)
    return 0


def cmd_progress(args) -> int:
    if not workspace.EXERCISES.is_dir():
        raise UserError(f"No encuentro {workspace.EXERCISES}: ¿estás en el repositorio del curso?")
    rows = progress.progress()
    if args.calificar:
        todo = [r.theme for r in rows if r.status != progress.NOT_STARTED
                and (r.score is None or r.stale)]
        if todo:
            print(f"Corrigiendo {len(todo)} temas en paralelo: {', '.join(todo)}…", flush=True)
            source = Path(args.fuente) if args.fuente else classroom.SOLUTIONS
            jobs = [classroom.make_job(
                t, classroom.Submission("alumna", workspace.WORKSPACE / t / f"{t}.ipynb"),
                classroom.theme_files(t, source), classroom.Limits(), feedback=False)
                for t in todo]
            for result in classroom.run_local(jobs, args.trabajadores or os.cpu_count() or 1,
                                              classroom.MEMORY_MIB):
                t = result["theme"]
                if result["status"] != classroom.GRADABLE:
                    print(f"  {t}: no se pudo corregir: {result.get('reason', '')}")
                    continue
                auto = [g for g in result["grades"] if g["auto"]]
                progress.save_score(t, workspace.WORKSPACE / t / f"{t}.ipynb",
                                    sum(g["auto_score"] or 0 for g in auto),
                                    sum(g["max_score"] for g in auto))
            rows = progress.progress()
    print(progress.table(rows))
    out = Path(args.html) if args.html else workspace.WORKSPACE / "progreso.html"
    progress.html_report(rows, out)
    print(f"Informe con gráfica: {out}")
    if not args.calificar and any(r.status != progress.NOT_STARTED and (r.score is None or r.stale)
                                  for r in rows):
        print("Para poner nota a los temas en curso sin comprobar: curso progreso --calificar")
    return 0


def cmd_reset(args) -> int:
    try:
        target, saved = workspace.reset(args.tema)
    except workspace.WorkspaceError as exc:
        raise UserError(str(exc)) from exc
    (workspace.WORKSPACE / progress.SCORES / f"{Path(target).stem}.json").unlink(missing_ok=True)
    if saved:
        print(f"Tu versión está a salvo en {saved}")
    print(f"Copia nueva: {target}")
    return 0


def _limits(args) -> classroom.Limits:
    return classroom.Limits(cell_timeout=args.tiempo_celda, notebook_timeout=args.tiempo_cuaderno,
                            memory_mib=args.memoria)


def cmd_grade(args) -> int:
    course = Path(args.curso)
    classroom.theme_files(args.tema, Path(args.fuente) if args.fuente else classroom.SOLUTIONS)
    classroom.find_submissions(args.carpeta, args.tema, args.patron)  # say what is wrong first
    where = f"el clúster de Dask {args.dask}" if args.dask else \
        f"{args.trabajadores or os.cpu_count()} trabajadores"
    print(f"Corrigiendo {args.tema} desde {args.carpeta} con {where}; gradebook: "
          f"{course / 'gradebook.db'}", flush=True)

    def show(s: classroom.StudentResult) -> None:
        if s.status == classroom.GRADABLE:
            extra = f"  ({s.note})" if s.note else ""
            print(f"  ✔ {s.student:<24} {s.score:g} / {s.max_score:g}{extra}", flush=True)
        else:
            print(f"  ✗ {s.student:<24} no calificable: {s.reason}", flush=True)

    report = classroom.grade_class(
        args.tema, args.carpeta, course=course, source=args.fuente, workers=args.trabajadores,
        scheduler=args.dask, limits=_limits(args), feedback=not args.sin_informes,
        pattern=args.patron, on_result=show)
    graded = len(report.students) - len(report.ungradable)
    print(f"{graded} entregas corregidas, {len(report.ungradable)} no calificables, "
          f"en {report.seconds:.1f} s.")
    if not args.sin_informes:
        print(f"Informes por alumno: {course / 'feedback'}/<alumno>/{args.tema}/{args.tema}.html")
    print(f"Resumen de esta corrección (también las no calificables): "
          f"{course / f'correccion-{args.tema}.csv'}")
    print("Exporta las notas del gradebook con: curso exportar")
    return 0


def cmd_export(args) -> int:
    out = classroom.export_csv(args.curso, args.salida)
    print(f"Notas exportadas a {out}")
    return 0


def cmd_benchmark(args) -> int:
    result = classroom.benchmark(args.tema, size=args.alumnos, workers=args.trabajadores,
                                 keep=Path(args.conservar) if args.conservar else None)
    if not result["same"]:
        print("error: las dos vías no dieron las mismas notas", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="curso", description="La línea de órdenes de curso-mlops: comprueba "
                    "tu trabajo, mira tu progreso, corrige una clase.",
                    epilog=EXAMPLES)
    sub = parser.add_subparsers(dest="orden", metavar="ORDEN", parser_class=Parser)

    p = sub.add_parser("comprobar", help="tu nota en un tema, con las pruebas ocultas",
                       description="Corrige tu copia de un ejercicio como lo haría nbgrader "
                       "(pruebas ocultas incluidas) e imprime la nota de cada ejercicio y el "
                       "mensaje de cada prueba que falla. Tu cuaderno no se modifica.")
    p.add_argument("cuaderno", help="un cuaderno (trabajo/01-deriva/01-deriva.ipynb) o un tema "
                   "(01-deriva: tu copia en trabajo/)")
    p.add_argument("--tema", help="el tema del cuaderno, si su nombre no lo dice")
    p.add_argument("--fuente", help="carpeta con los temas del profesor (por defecto solutions/)")
    p.set_defaults(run=cmd_check)

    p = sub.add_parser("progreso", help="tabla de temas con estado y nota, e informe HTML",
                       description="Cada tema con su estado (sin empezar, en curso, hecho) y la "
                       "nota de tu última comprobación, leído de tus cuadernos en trabajo/. "
                       "Escribe además un informe HTML con una gráfica de barras.")
    p.add_argument("--html", help="dónde escribir el informe (por defecto trabajo/progreso.html)")
    p.add_argument("--calificar", action="store_true", help="corrige antes, en paralelo, los "
                   "temas en curso sin nota o con la nota desactualizada (tarda minutos)")
    p.add_argument("--trabajadores", type=_positive(int), help="procesos en paralelo (por "
                   "defecto, uno por núcleo)")
    p.add_argument("--fuente", help="carpeta con los temas del profesor (por defecto solutions/)")
    p.set_defaults(run=cmd_progress)

    p = sub.add_parser("reiniciar", help="copia nueva de un tema; la tuya queda en trabajo/.copias/",
                       description="Sustituye tu copia de un tema (o de un cuaderno de "
                       "notebooks/, como la bienvenida) por una nueva. Antes guarda la tuya en "
                       "trabajo/.copias/<tema>-AAAAmmdd-HHMMSS.ipynb; nunca sobrescribe una copia.")
    p.add_argument("tema", help="p. ej. 01-deriva o 00-bienvenida")
    p.set_defaults(run=cmd_reset)

    p = sub.add_parser("corregir", help="corrige una clase en paralelo y guarda las notas en el "
                       "gradebook", description="Corrige con nbgrader todas las entregas de un "
                       "tema en procesos paralelos (o en un clúster de Dask), cada una con límite "
                       "de tiempo por celda y por cuaderno y de memoria. Las notas van al "
                       "gradebook del curso; los informes por alumno, a feedback/ sin el código "
                       "de las pruebas ocultas. Una entrega que no se puede corregir se informa "
                       "con el motivo y no detiene al resto.")
    p.add_argument("tema", help="p. ej. 01-deriva")
    p.add_argument("carpeta", help="las entregas: <alumno>/<tema>/<tema>.ipynb (submitted/ de "
                   "nbgrader) o ficheros sueltos <alumno>.ipynb / <alumno>_loquesea.ipynb")
    p.add_argument("--curso", default=str(classroom.ROOT), help="carpeta del curso del profesor, "
                   "con gradebook.db, autograded/ y feedback/ (por defecto, este repositorio)")
    p.add_argument("--fuente", help="carpeta con los temas del profesor (por defecto solutions/)")
    p.add_argument("--trabajadores", type=_positive(int), help="procesos en paralelo (por "
                   "defecto, uno por núcleo)")
    p.add_argument("--dask", metavar="DIRECCION", help="dirección del planificador de un clúster "
                   "de Dask existente, p. ej. tcp://10.0.0.5:8786")
    p.add_argument("--tiempo-celda", type=_positive(float), default=classroom.CELL_TIMEOUT,
                   help="segundos por celda (por defecto %(default)s)")
    p.add_argument("--tiempo-cuaderno", type=_positive(float), default=classroom.NOTEBOOK_TIMEOUT,
                   help="segundos por cuaderno (por defecto %(default)s)")
    p.add_argument("--memoria", type=_positive(int), default=classroom.MEMORY_MIB,
                   help="MiB de memoria por entrega (por defecto %(default)s)")
    p.add_argument("--patron", help="expresión regular con un grupo (?P<alumno>…) para leer el "
                   "alumno del nombre de un fichero suelto")
    p.add_argument("--sin-informes", action="store_true", help="no generar los informes HTML")
    p.set_defaults(run=cmd_grade)

    p = sub.add_parser("exportar", help="las notas del gradebook a un CSV (nbgrader export)",
                       description="Exporta las notas del gradebook del curso a CSV con nbgrader "
                       "export: una fila por alumno y tema.")
    p.add_argument("--curso", default=str(classroom.ROOT), help="carpeta del curso (por defecto, "
                   "este repositorio)")
    p.add_argument("--salida", default="notas.csv", help="fichero CSV (por defecto %(default)s)")
    p.set_defaults(run=cmd_export)

    p = sub.add_parser("benchmark-correccion", help="nbgrader de serie frente a corregir en "
                       "paralelo, en la misma ejecución",
                       description="Crea una clase de entregas de un tema (soluciones, en blanco "
                       "y a medias), la corrige con nbgrader autograde de serie (un alumno tras "
                       "otro) y con curso corregir, comprueba que las notas coinciden e imprime "
                       "los tiempos y la aceleración.")
    p.add_argument("--tema", default="01-deriva", help="tema (por defecto %(default)s)")
    p.add_argument("--alumnos", type=_positive(int), default=20, help="entregas (por defecto "
                   "%(default)s)")
    p.add_argument("--trabajadores", type=_positive(int), help="procesos en paralelo (por "
                   "defecto, uno por núcleo)")
    p.add_argument("--conservar", metavar="CARPETA", help="guardar ahí las entregas y los dos "
                   "cursos en vez de borrarlos")
    p.set_defaults(run=cmd_benchmark)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except (UserError, grading.GradingError, classroom.ClassroomError,
            workspace.WorkspaceError, FileNotFoundError) as exc:
        message = str(exc).strip().splitlines()
        print(f"error: {message[0] if message else exc}", file=sys.stderr)
        if len(message) > 1 and os.environ.get("CURSO_DETALLE"):
            print("\n".join(message[1:]), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrumpido", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
