"""The KAP questionnaires of the synthetic campaigns, as XLSForm rows.

One :class:`Form` per campaign family (Together; Differently Different, the
same form at both stages). Every question and choice has an English and a
Mongolian label. The form is written as ``kap_form.xlsx`` (the codebook) and
drives the survey exports: headers, answer labels and ``select_multiple``
columns all come from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: XLSForm types that are metadata, exported under their own names.
META_TYPES = ("start", "end", "today", "username", "deviceid")

LABEL_EN = "label::English (en)"
LABEL_MN = "label::Mongolian (mn)"
SURVEY_COLUMNS = ("type", "name", LABEL_EN, LABEL_MN, "required", "relevant", "constraint")
CHOICE_COLUMNS = ("list_name", "name", LABEL_EN, LABEL_MN)
#: The Together form's stratum and cluster questions: ``make bench``'s scale runs declare them as params
#: ``sampling`` to time a design-based evaluation (:mod:`evalkit.bench_design`); the shipped params do not.
TOGETHER_DESIGN: dict[str, str] = {"strata": "demo/aimag", "cluster": "resp/school"}


@dataclass(frozen=True)
class Question:
    """One exported question of a form.

    Attributes
    ----------
    name : str
        Full codebook name, groups joined with ``/`` (``resp/resp_type``).
    kind : {"select_one", "select_multiple", "text", "integer", "geopoint"}
        Answer type.
    list_name : str or None
        Choice list of a select question.
    labels : dict
        Language (``en``, ``mn``) -> label of the question itself.
    group_labels : tuple of dict
        Labels of the enclosing groups, outermost first.
    """

    name: str
    kind: str
    list_name: str | None
    labels: dict[str, str]
    group_labels: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True)
class Form:
    """An XLSForm: survey rows, choices and settings.

    Attributes
    ----------
    form_id, title, version : str
        The ``settings`` sheet.
    survey : list of tuple
        Rows of the ``survey`` sheet, in :data:`SURVEY_COLUMNS` order.
    choices : list of tuple
        Rows of the ``choices`` sheet, in :data:`CHOICE_COLUMNS` order.
    questions : list of Question
        The exported questions (not metadata or groups), in form order.
    """

    form_id: str
    title: str
    version: str
    survey: list[tuple[str, ...]]
    choices: list[tuple[str, ...]]
    questions: list[Question] = field(default_factory=list)

    def question(self, name: str) -> Question:
        """The question with this full name (``KeyError`` if none)."""
        for q in self.questions:
            if q.name == name:
                return q
        raise KeyError(name)

    def choice_names(self, list_name: str) -> list[str]:
        """Choice names of a list, in form order."""
        return [c[1] for c in self.choices if c[0] == list_name]

    def choice_labels(self, list_name: str, language: str) -> dict[str, str]:
        """Choice name -> label in ``language`` (``en`` or ``mn``)."""
        col = 2 if language == "en" else 3
        return {c[1]: c[col] for c in self.choices if c[0] == list_name}


# --------------------------------------------------------------------------- choices

_AGREE5 = [
    ("strongly_disagree", "Strongly disagree", "Огт санал нийлэхгүй"),
    ("disagree", "Disagree", "Санал нийлэхгүй"),
    ("neutral", "Neither agree nor disagree", "Төвийг сахисан"),
    ("agree", "Agree", "Санал нийлж байна"),
    ("strongly_agree", "Strongly agree", "Бүрэн санал нийлж байна"),
    ("dont_know", "Don't know", "Мэдэхгүй"),
    ("refused", "Refused to answer", "Хариулахаас татгалзсан"),
]
_COMMON_LISTS: dict[str, list[tuple[str, str, str]]] = {
    "yes_no": [("yes", "Yes", "Тийм"), ("no", "No", "Үгүй")],
    "yes_no_dk": [("yes", "Yes", "Тийм"), ("no", "No", "Үгүй"), _AGREE5[5], _AGREE5[6]],
    "agree5": _AGREE5,
    "aimag": [
        ("ulaanbaatar", "Ulaanbaatar", "Улаанбаатар"),
        ("darkhan_uul", "Darkhan-Uul", "Дархан-Уул"),
        ("orkhon", "Orkhon", "Орхон"),
        ("arkhangai", "Arkhangai", "Архангай"),
        ("uvurkhangai", "Uvurkhangai", "Өвөрхангай"),
        ("khovd", "Khovd", "Ховд"),
        ("dornod", "Dornod", "Дорнод"),
    ],
    "location": [("urban", "Urban", "Хот"), ("rural", "Rural", "Хөдөө")],
    "sex": [("female", "Female", "Эмэгтэй"), ("male", "Male", "Эрэгтэй")],
    "education": [
        ("none_primary", "None or primary", "Боловсролгүй эсвэл бага"),
        ("secondary", "Secondary", "Бүрэн дунд"),
        ("vocational", "Vocational", "Мэргэжлийн"),
        ("higher", "Higher", "Дээд"),
    ],
    "info_sources": [
        ("facebook", "Facebook", "Фэйсбүүк"),
        ("tv", "Television", "Телевиз"),
        ("school", "School", "Сургууль"),
        ("friends", "Friends", "Найзууд"),
        ("other", "Other", "Бусад"),
    ],
}
_ADULT_AGES = [
    ("age_18_29", "18 to 29", "18-29 нас"),
    ("age_30_39", "30 to 39", "30-39 нас"),
    ("age_40_49", "40 to 49", "40-49 нас"),
    ("age_50_plus", "50 or older", "50 ба түүнээс дээш нас"),
]
_CHILD_AGES = [("age_10_12", "10 to 12", "10-12 нас"), ("age_13_15", "13 to 15", "13-15 нас")]

# Question labels (en, mn). No label contains "/" or "-" (header separators).
_G = {
    "resp": ("Respondent", "Оролцогч"),
    "demo": ("Demographics", "Хүн ам зүйн мэдээлэл"),
    "know": ("Knowledge", "Мэдлэг"),
    "att": ("Attitudes", "Хандлага"),
    "prac": ("Practices", "Дадал"),
    "child": ("Questions for children", "Хүүхдэд асуух асуулт"),
}
_Q = {
    "consent": ("Do you agree to take part in this survey?", "Та энэ судалгаанд оролцохыг зөвшөөрч байна уу?"),
    "resp_id": ("Respondent ID", "Оролцогчийн дугаар"),
    "name": ("Respondent name", "Оролцогчийн нэр"),
    "phone": ("Phone number", "Утасны дугаар"),
    "school": ("School name", "Сургуулийн нэр"),
    "resp_type": ("Respondent type", "Оролцогчийн төрөл"),
    "has_sen_child": ("Do you have a child with special educational needs?",
                      "Танд тусгай хэрэгцээт хүүхэд бий юу?"),
    "grade": ("Grade", "Анги"),
    "aimag": ("Aimag or capital city", "Аймаг эсвэл нийслэл"),
    "location": ("Urban or rural", "Хот эсвэл хөдөө"),
    "sex": ("Sex", "Хүйс"),
    "age_band": ("Age band", "Насны бүлэг"),
    "education": ("Education", "Боловсрол"),
    "know_level": ("How would you rate your knowledge about people with special needs?",
                   "Тусгай хэрэгцээт хүмүүсийн талаарх мэдлэгээ та хэрхэн үнэлэх вэ?"),
    "self_know_sen": ("I know well about people with special educational needs",
                      "Би тусгай хэрэгцээт хүмүүсийн талаар сайн мэднэ"),
    "equal_participation": ("Equal participation of children with SEN in education would increase their "
                            "participation in society",
                            "Тусгай хэрэгцээт хүүхдүүд боловсролд тэгш оролцох нь тэдний нийгмийн оролцоог "
                            "нэмэгдүүлнэ"),
    "attend_regular": ("Children with special needs should attend a regular school with other children",
                       "Тусгай хэрэгцээт хүүхдүүд бусад хүүхдүүдтэй хамт ердийн сургуульд суралцах ёстой"),
    "no_harm": ("Teaching children with SEN together with other children does not harm my child's learning",
                "Тусгай хэрэгцээт хүүхдүүдийг бусадтай хамт сургах нь миний хүүхдийн сурлагад сөрөг нөлөөгүй"),
    "give_info": ("Would you give your children information about people with special needs?",
                  "Та хүүхдүүддээ тусгай хэрэгцээт хүмүүсийн талаар мэдээлэл өгөх үү?"),
    "adapted_lesson": ("In the last month, did you adapt a lesson for a child with SEN?",
                       "Сүүлийн нэг сард та тусгай хэрэгцээт хүүхдэд зориулж хичээлээ тохируулсан уу?"),
    "info_sources": ("Where do you get information about inclusive education?",
                     "Хүртээмжтэй боловсролын талаарх мэдээллийг хаанаас авдаг вэ?"),
    "need_inclusive_ed": ("All children, including children with disabilities, should learn together in "
                          "mainstream schools",
                          "Хөгжлийн бэрхшээлтэй хүүхдүүдийг оролцуулан бүх хүүхэд ердийн сургуульд хамт "
                          "суралцах хэрэгтэй"),
    "special_school_effective": ("Sending children with disabilities to special schools is effective",
                                 "Хөгжлийн бэрхшээлтэй хүүхдийг тусгай сургуульд явуулах нь үр дүнтэй"),
    "develop_talents": ("Would you encourage a child with disabilities to develop their talents rather than "
                        "keep them at home?",
                        "Хөгжлийн бэрхшээлтэй хүүхдийг гэртээ байлгахын оронд авьяасыг нь хөгжүүлэхийг дэмжих үү?"),
    "proud_helping": ("I feel proud when I help children with special needs",
                      "Би тусгай хэрэгцээт хүүхдүүдэд тусалдаг гэдгээрээ бахархдаг"),
    "comments": ("Any other comments", "Нэмэлт санал, сэтгэгдэл"),
    "gps": ("Interview location", "Ярилцлагын байршил"),
}

_PARENT_TG = "${resp_type} != 'staff'"
_STAFF_TG = "${resp_type} = 'staff'"
_PARENT_DD = "${resp_type} = 'parent'"
_CHILD_DD = "${resp_type} = 'child'"


def _build(form_id: str, title: str, version: str, spec: list[tuple], lists: dict[str, list]) -> Form:
    """Turn a compact spec into XLSForm rows and :class:`Question` objects.

    ``spec`` items: ``("meta", type)``, ``("group", name)``, ``("end",)`` or
    ``(type, name, relevant)`` where ``type`` is ``select_one <list>``,
    ``select_multiple <list>``, ``text``, ``integer`` or ``geopoint``.
    """
    survey: list[tuple[str, ...]] = []
    questions: list[Question] = []
    stack: list[str] = []
    for item in spec:
        if item[0] == "meta":
            survey.append((item[1], item[1], "", "", "", "", ""))
        elif item[0] == "group":
            en, mn = _G[item[1]]
            survey.append(("begin_group", item[1], en, mn, "", item[2] if len(item) > 2 else "", ""))
            stack.append(item[1])
        elif item[0] == "end":
            survey.append(("end_group", stack.pop(), "", "", "", "", ""))
        else:
            typ, name, relevant = item[0], item[1], item[2]
            constraint = item[3] if len(item) > 3 else ""
            en, mn = _Q[name]
            required = "" if name in ("comments", "gps") else "true"
            survey.append((typ, name, en, mn, required, relevant, constraint))
            kind, _, list_name = typ.partition(" ")
            questions.append(Question(
                name="/".join([*stack, name]), kind=kind, list_name=list_name or None,
                labels={"en": en, "mn": mn},
                group_labels=tuple({"en": _G[g][0], "mn": _G[g][1]} for g in stack)))
    choices = [(ln, n, en, mn) for ln, items in lists.items() for n, en, mn in items]
    return Form(form_id=form_id, title=title, version=version, survey=survey, choices=choices,
                questions=questions)


def together_form() -> Form:
    """The Together KAP form, version v2 (the codebook).

    Version v1 (the baseline) differs only in the name of one question:
    ``know/know_well`` became ``know/self_know_sen`` (see ``renames`` in
    ``params/together.yaml``).
    """
    lists = {
        **_COMMON_LISTS,
        "resp_type": [
            ("parent_sen", "Parent of a child with SEN", "Тусгай хэрэгцээт хүүхдийн эцэг эх"),
            ("parent_nosen", "Parent of a child without SEN", "Тусгай хэрэгцээгүй хүүхдийн эцэг эх"),
            ("staff", "School staff", "Сургуулийн ажилтан"),
        ],
        "age_band": _ADULT_AGES,
        "know_level": [
            ("very_poor", "Very poor", "Маш муу"), ("poor", "Poor", "Муу"), ("fair", "Fair", "Дунд"),
            ("good", "Good", "Сайн"), ("very_good", "Very good", "Маш сайн"), _AGREE5[5], _AGREE5[6],
        ],
    }
    spec = [
        *[("meta", t) for t in META_TYPES],
        ("select_one yes_no", "consent", ""),
        ("group", "resp", "${consent} = 'yes'"),
        ("text", "resp_id", ""), ("text", "name", ""), ("text", "phone", ""), ("text", "school", ""),
        ("select_one resp_type", "resp_type", ""),
        ("select_one yes_no", "has_sen_child", _PARENT_TG),
        ("end",),
        ("group", "demo", "${consent} = 'yes'"),
        ("select_one aimag", "aimag", ""), ("select_one location", "location", ""),
        ("select_one sex", "sex", ""), ("select_one age_band", "age_band", ""),
        ("select_one education", "education", ""),
        ("end",),
        ("group", "know", "${consent} = 'yes'"),
        ("select_one know_level", "know_level", ""), ("select_one agree5", "self_know_sen", ""),
        ("end",),
        ("group", "att", "${consent} = 'yes'"),
        ("select_one agree5", "equal_participation", ""),
        ("select_one agree5", "attend_regular", _PARENT_TG),
        ("select_one agree5", "no_harm", _PARENT_TG),
        ("end",),
        ("group", "prac", "${consent} = 'yes'"),
        ("select_one yes_no_dk", "give_info", _PARENT_TG),
        ("select_one yes_no", "adapted_lesson", _STAFF_TG),
        ("select_multiple info_sources", "info_sources", ""),
        ("end",),
        ("text", "comments", "${consent} = 'yes'"),
        ("geopoint", "gps", "${consent} = 'yes'"),
    ]
    return _build("together_kap", "Together campaign KAP survey", "v2", spec, lists)


def differently_different_form() -> Form:
    """The Differently Different KAP form (v1, used at both stages)."""
    lists = {
        **_COMMON_LISTS,
        "resp_type": [("parent", "Parent", "Эцэг эх"), ("child", "Child", "Хүүхэд")],
        "age_band": _CHILD_AGES + _ADULT_AGES,
    }
    spec = [
        *[("meta", t) for t in META_TYPES],
        ("select_one yes_no", "consent", ""),
        ("group", "resp", "${consent} = 'yes'"),
        ("text", "resp_id", ""), ("text", "name", ""), ("text", "phone", ""), ("text", "school", ""),
        ("select_one resp_type", "resp_type", ""),
        ("integer", "grade", _CHILD_DD, ". >= 1 and . <= 12"),
        ("end",),
        ("group", "demo", "${consent} = 'yes'"),
        ("select_one aimag", "aimag", ""), ("select_one location", "location", ""),
        ("select_one sex", "sex", ""), ("select_one age_band", "age_band", ""),
        ("select_one education", "education", _PARENT_DD),
        ("end",),
        ("group", "know", "${consent} = 'yes'"),
        ("select_one agree5", "need_inclusive_ed", _PARENT_DD),
        ("end",),
        ("group", "att", "${consent} = 'yes'"),
        ("select_one agree5", "special_school_effective", _PARENT_DD),
        ("select_one agree5", "attend_regular", _PARENT_DD),
        ("end",),
        ("group", "prac", "${consent} = 'yes'"),
        ("select_one yes_no", "develop_talents", _PARENT_DD),
        ("select_multiple info_sources", "info_sources", ""),
        ("end",),
        ("group", "child", "${consent} = 'yes'"),
        ("select_one agree5", "proud_helping", _CHILD_DD),
        ("end",),
        ("text", "comments", "${consent} = 'yes'"),
    ]
    return _build("differently_different_kap", "Differently Different KAP survey", "v1", spec, lists)


def form_for(campaign: str) -> Form:
    """The form of a campaign stage (``together`` or ``differently-different-*``)."""
    return together_form() if campaign == "together" else differently_different_form()
