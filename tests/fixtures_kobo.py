"""A French KoboToolbox-style form and its exports in every option Kobo and ODK Central offer.

Written for this project from the KoboToolbox export options (formpack's
``export``: ``lang``, ``hierarchy_in_labels``, ``group_sep``,
``multiple_select``) and the XLSForm specification; no data is copied. The
shapes reproduced (see ``docs/design.md``, "Raw export format"):

- labels in ``label::Français (fr)`` and a partial ``label::Español (es)``
  (a question and choices without Spanish labels), ``default_language`` in
  settings;
- a note, a geopoint (Kobo adds ``_<q>_latitude`` ... ``_precision``), a
  ``select_one ... or_other`` with its ``<q>_other`` text, two questions with
  the same label ("Veuillez préciser") in different groups, a ``calculate``
  group whose values differ in case (``AZ``/``az``/`` wi ``), a repeat group;
- exports with XML or label headers and values, with or without group names,
  with or without note and GPS columns, CSV (``;`` with every cell quoted, or
  ``,``) or XLSX (repeat group on its own sheet), and ODK Central's CSV zip.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import openpyxl

FR, ES = "label::Français (fr)", "label::Español (es)"

# (type, name, fr, es); "" = no label in that language.
SURVEY = [
    ("start", "start", "", ""),
    ("end", "end", "", ""),
    ("username", "username", "", ""),
    ("select_one oui_non", "consent", "Acceptez-vous de participer ?", "¿Acepta participar?"),
    ("begin_group", "menage", "Ménage", "Hogar"),
    ("text", "id_menage", "Identifiant du ménage", "Identificador del hogar"),
    ("calculate", "groupe", "", ""),
    ("select_one sexe", "sexe", "Sexe du répondant", "Sexo"),
    ("note", "note_intro", "Merci de répondre à toutes les questions.", "Gracias."),
    ("geopoint", "gps", "Position du ménage", "Ubicación"),
    ("select_one ecole or_other", "ecole", "Quelle école fréquente l'enfant ?", "¿Qué escuela?"),
    ("text", "precision1", "Veuillez préciser", "Especifique"),
    ("end_group", "", "", ""),
    ("begin_group", "connaissances", "Connaissances", ""),
    ("select_one accord5", "inclusion", "Un enfant handicapé doit aller à l'école ordinaire", "Escuela regular"),
    ("text", "precision2", "Veuillez préciser", "Especifique"),
    ("select_multiple canaux", "canaux", "Où avez-vous vu la campagne ?", "¿Dónde vio la campaña?"),
    ("select_one oui_non", "savoir", "Savez-vous où trouver de l'aide ?", ""),
    ("end_group", "", "", ""),
    ("begin_repeat", "enfants", "Enfants", "Niños"),
    ("integer", "age_enfant", "Âge de l'enfant", "Edad del niño"),
    ("end_repeat", "", "", ""),
]

CHOICES = [
    ("oui_non", "oui", "Oui", "Sí"), ("oui_non", "non", "Non", "No"),
    ("sexe", "f", "Féminin", "Femenino"), ("sexe", "m", "Masculin", "Masculino"),
    ("ecole", "publique", "École publique", "Escuela pública"), ("ecole", "privee", "École privée", ""),
    ("accord5", "pas_du_tout", "Pas du tout d'accord", "Nada de acuerdo"),
    ("accord5", "pas_accord", "Pas d'accord", "En desacuerdo"), ("accord5", "neutre", "Neutre", "Neutral"),
    ("accord5", "accord", "D'accord", "De acuerdo"), ("accord5", "tout_a_fait", "Tout à fait d'accord", ""),
    ("canaux", "facebook", "Facebook", "Facebook"), ("canaux", "radio", "Radio", "Radio"),
    ("canaux", "ecole", "À l'école", "En la escuela"),
]

#: Metadata columns Kobo appends to every export, in its order.
KOBO_META = ["_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status", "_submitted_by",
             "__version__", "_tags", "_index"]
#: Columns ODK Central writes around the questions of its CSV export.
CENTRAL_FIRST = ["SubmissionDate"]
CENTRAL_LAST = ["meta-instanceID", "KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent",
                "AttachmentsExpected", "Status", "ReviewState", "DeviceID", "Edits", "FormVersion"]


def rows() -> list[dict]:
    """Six submissions by codebook name; ``groupe`` is calculated, in mixed case (issue 12, point 9)."""
    groups = ["AZ", "az", " wi ", "WI", "Az", "wi"]
    out = []
    for i in range(6):
        out.append({
            "start": f"2023-05-{10 + i:02d}T09:00:00.000+01:00", "end": f"2023-05-{10 + i:02d}T09:20:00.000+01:00",
            "username": "enq1" if i % 2 else "enq2", "consent": "oui",
            "menage/id_menage": f"M{i + 1:03d}", "menage/groupe": groups[i], "menage/sexe": "f" if i % 2 else "m",
            "menage/gps": f"14.69{i} -17.44{i} 12.0 5.0", "menage/ecole": ["publique", "privee", "other"][i % 3],
            "menage/ecole_other": "École du quartier Médina" if i % 3 == 2 else "",
            "menage/precision1": "Près du marché" if i == 0 else "",
            "connaissances/inclusion": ["accord", "tout_a_fait", "neutre", "pas_accord", "accord", "pas_du_tout"][i],
            "connaissances/precision2": "Selon l'enseignant" if i == 1 else "",
            "connaissances/canaux": ["facebook radio", "ecole", "radio", "", "facebook", "facebook ecole"][i],
            "connaissances/savoir": "oui" if i % 3 else "non",
            "_id": str(501 + i), "_uuid": f"a1b2c3d4-0000-4000-8000-{i:012d}",
            "_submission_time": f"2023-05-{10 + i:02d}T10:00:00", "_status": "submitted_via_web",
            "__version__": "vGx7", "_index": str(i + 1),
            "children": [str(3 + i), str(7 + i)][: 1 + i % 2],
        })
    return out


def write_form(path: Path, *, languages: tuple[str, ...] = (FR, ES), default_language: str = "Français (fr)") -> Path:
    """The XLSForm with the given label columns (``"label"`` for a plain column)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(["type", "name", *languages, "required", "calculation"])
    for t, n, fr, es in SURVEY:
        labels = {FR: fr, ES: es, "label": fr, "label::English (en)": ""}
        calc = "if(${consent}='oui', 'AZ', 'WI')" if n == "groupe" else None
        ws.append([t, n or None, *[labels[c] or None for c in languages], None, calc])
    ws = wb.create_sheet("choices")
    ws.append(["list_name", "name", *languages])
    for ln, n, fr, es in CHOICES:
        labels = {FR: fr, ES: es, "label": fr, "label::English (en)": ""}
        ws.append([ln, n, *[labels[c] or None for c in languages]])
    ws = wb.create_sheet("settings")
    ws.append(["form_title", "form_id", "version", "default_language"])
    ws.append(["Enquête CAP", "cap_fr", "vGx7", default_language])
    wb.save(path)
    return path


def _lab(fr: str, es: str, lang: str) -> str:
    return fr if lang == "fr" else es


def _choice_label(list_name: str, name: str, lang: str) -> str:
    for ln, n, fr, es in CHOICES:
        if ln == list_name and n == name:
            return _lab(fr, es, lang) or fr  # Kobo: a choice without a label in the language -> default language
    return name  # "other" of or_other


def kobo_export(data: list[dict], *, headers: str = "xml", values: str = "xml", lang: str = "fr",
                group_names: bool = True, sep: str = "/", notes: bool = False, gps: bool = True
                ) -> tuple[list[str], list[list[str]]]:
    """Headers and cells of a KoboToolbox export with these options (main table only)."""
    header: list[str] = []
    getters: list = []
    stack: list[tuple[str, str]] = []
    for t, n, fr, es in SURVEY:
        base = t.split()[0]
        if base in ("begin_group", "begin_repeat"):
            stack.append((n, _lab(fr, es, lang) or n))
            continue
        if base in ("end_group", "end_repeat"):
            stack.pop()
            continue
        if any(g[0] == "enfants" for g in stack):
            continue  # repeat-group answers are on their own sheet
        full = "/".join([g[0] for g in stack] + [n])
        label = _lab(fr, es, lang) or n  # Kobo: the XML name where the label is missing
        if headers == "xml":
            head = sep.join([g[0] for g in stack] + [n]) if group_names else n
        else:
            head = sep.join([g[1] for g in stack] + [label]) if group_names else label
        if base == "note":
            if notes:
                header.append(head)
                getters.append(lambda r: "")
            continue
        list_name = t.split()[1] if base.startswith("select") else None

        def get(r: dict, full: str = full, base: str = base, list_name: str | None = list_name) -> str:
            v = r.get(full, "")
            if not v or values == "xml" or not list_name:
                return v
            return " ".join(_choice_label(list_name, x, lang) for x in v.split())

        header.append(head)
        getters.append(get)
        if base == "geopoint" and gps:
            prefix = (head[: len(head) - len(label if headers == "label" else n)] if group_names else "")
            short = label if headers == "label" else n
            for k, part in enumerate(("latitude", "longitude", "altitude", "precision")):
                header.append(f"{prefix}_{short}_{part}")
                getters.append(lambda r, k=k, full=full: r[full].split()[k])
        if base == "select_multiple":
            for ln, c, cfr, ces in CHOICES:
                if ln == list_name:
                    suffix = c if headers == "xml" else (_lab(cfr, ces, lang) or cfr)
                    header.append(f"{head}{sep}{suffix}")
                    getters.append(lambda r, full=full, c=c: ("1" if c in r[full].split() else "0") if r[full] else "")
        if t.endswith("or_other"):
            other = head + "_other" if headers == "xml" else (
                sep.join([g[1] for g in stack] + ["Specify other."]) if group_names else "Specify other.")
            header.append(other)
            getters.append(lambda r, full=full: r[full + "_other"])
    header += KOBO_META
    getters += [lambda r, m=m: r.get(m, "") for m in KOBO_META]
    return header, [[g(r) for g in getters] for r in data]


def repeat_rows(data: list[dict]) -> tuple[list[str], list[list[str]]]:
    """The ``enfants`` repeat sheet: one row per child, linked by ``_parent_index``."""
    header = ["age_enfant", "_index", "_parent_table_name", "_parent_index", "_submission__id", "_submission__uuid"]
    body, k = [], 0
    for r in data:
        for age in r["children"]:
            k += 1
            body.append([age, str(k), "Enquête CAP", r["_index"], r["_id"], r["_uuid"]])
    return header, body


def write_csv(path: Path, header: list[str], body: list[list[str]], *, delimiter: str = ";",
              encoding: str = "utf-8") -> Path:
    """Kobo CSV: ``;`` and every cell quoted by default."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, quoting=csv.QUOTE_ALL if delimiter == ";" else csv.QUOTE_MINIMAL,
                   lineterminator="\r\n")
    w.writerow(header)
    w.writerows(body)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, header: list[str], body: list[list[str]], data: list[dict]) -> Path:
    """Kobo XLSX: the survey sheet, then one sheet per repeat group."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Enquête CAP"
    ws.append(header)
    for row in body:
        ws.append([int(v) if v.isdigit() and not v.startswith("0") else (v or None) for v in row])
    rh, rb = repeat_rows(data)
    ws = wb.create_sheet("enfants")
    ws.append(rh)
    for row in rb:
        ws.append(row)
    wb.save(path)
    return path


def central_zip(path: Path, data: list[dict]) -> Path:
    """ODK Central's "CSV zip": ``cap_fr.csv`` (``-`` between groups) and ``cap_fr-enfants.csv``."""
    head, body = kobo_export(data, headers="xml", values="xml", sep="-", gps=False, notes=True)
    keep = [i for i, h in enumerate(head) if h not in KOBO_META]
    head, body = [head[i] for i in keep], [[row[i] for i in keep] for row in body]
    g = head.index("menage-gps") + 1
    head[g:g] = ["menage-gps-Latitude", "menage-gps-Longitude", "menage-gps-Altitude", "menage-gps-Accuracy"]
    body = [row[:g] + row[g - 1].split()[:4] + row[g:] for row in body]
    head = CENTRAL_FIRST + head + CENTRAL_LAST
    body = [[r["_submission_time"], *row, f"uuid:{r['_uuid']}", f"uuid:{r['_uuid']}", "5", "Enquêteur 1", "0", "0",
             "", "", "collect:abc", "0", "vGx7"] for r, row in zip(data, body)]
    main = io.StringIO()
    csv.writer(main, lineterminator="\n").writerows([head, *body])
    rep = io.StringIO()
    w = csv.writer(rep, lineterminator="\n")
    w.writerow(["age_enfant", "PARENT_KEY", "KEY"])
    for r in data:
        for k, age in enumerate(r["children"], start=1):
            w.writerow([age, f"uuid:{r['_uuid']}", f"uuid:{r['_uuid']}/enfants[{k}]"])
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("cap_fr.csv", main.getvalue().encode("utf-8"))
        zf.writestr("cap_fr-enfants.csv", rep.getvalue().encode("utf-8"))
    return path
