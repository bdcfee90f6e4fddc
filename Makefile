# evalkit reports: `make help` lists the targets.
# The recipes stay thin: each calls `python -m evalkit ...`, so the same steps
# work without make (see README, "Without make").

.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PIP_FILTER := { grep -v 'is ignored: it is neither a file nor a directory' || true; }
# No .DELETE_ON_ERROR: every target is published atomically by evalkit itself
# (complete or not at all), so a file make sees is a good one, and deleting it
# after a later failure or an interrupt would only destroy a published output.
# Keep intermediate files (processed data, results.csv): they are outputs too.
.SECONDARY:
# Never delete a target on SIGINT/SIGTERM either (make does by default when
# the recipe changed the file, e.g. an interrupt just after a step published).
.PRECIOUS: data/processed/%/responses.parquet reports/%/results.csv reports/%/plan.html reports/%.html reports/%.docx reports/%.pdf reports/%/report-with-code.html reports/index.html reports/%.ipynb reports/%/fieldwork.html
.SECONDEXPANSION:

PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.evalkit-installed
EK := $(VPY) -m evalkit
CAMPAIGN ?= together
CAMPAIGNS := $(sort $(basename $(notdir $(wildcard params/*.yaml))))
SRC := pyproject.toml $(shell find src/evalkit -name '*.py' -o -name '*.j2' -o -name '*.css' -o -name '*.tpl' 2>/dev/null)
NB_CLEAN := notebooks/01_clean.ipynb
NB_EVAL := notebooks/02_evaluate.ipynb
NB_PLAN := notebooks/03_plan.ipynb
# REPORT_CODE=1: also build the researchers' variant with the code cells kept.
ifeq ($(REPORT_CODE),1)
CODE_REPORT = reports/$(CAMPAIGN)/report-with-code.html
endif
# FORMATS=html,docx,pdf: also the Word and PDF copies, each its own target (issue 18).
FORMATS ?= html
comma := ,
COPY_FORMATS := $(filter docx pdf,$(subst $(comma), ,$(FORMATS)))
BAD_FORMATS := $(filter-out html docx pdf,$(subst $(comma), ,$(FORMATS)))
# REPORT_LANG=mn: the report in that language, reports/$(CAMPAIGN).mn.html; without it the
# params' default language (report.language, English unless set), reports/$(CAMPAIGN).html.
# `make reports` builds the default and every language in REPORT_LANGS (issue 14).
REPORT_LANG ?=
REPORT_LANGS ?= mn
LANGS := en mn
L_SUFFIX := $(if $(REPORT_LANG),.$(REPORT_LANG))
BAD_LANG := $(filter-out $(LANGS),$(REPORT_LANG) $(REPORT_LANGS))
COPY_REPORTS = $(foreach f,$(COPY_FORMATS),reports/$(CAMPAIGN)$(L_SUFFIX).$(f))

.PHONY: help setup report reports index check plan test bench bench-smoke lab clean clean-venv lock

help: ## Show this list of targets
	@echo "evalkit reports. Usage: make <target> [CAMPAIGN=name]"
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-14s %s\n", $$1, $$2}'
	@echo "Campaigns: $(CAMPAIGNS)"

setup: $(STAMP) ## Create .venv from requirements.lock (done automatically by every target)

$(STAMP): requirements.lock pyproject.toml
	@if [ -L $(VENV) ]; then echo "error: $(VENV) is a link to another project's environment; run make setup there instead of re-installing it from here." >&2; exit 1; fi
	@# Self-repairing: the stamp is written last, so a .venv without it is an interrupted
	@# set-up (e.g. Ctrl-C while pip ran, or a venv without pip) and is rebuilt from scratch.
	@if [ -e $(VENV) ] && [ ! -f $(STAMP) ]; then echo "Removing the incomplete $(VENV) left by an interrupted set-up ..."; rm -rf $(VENV); fi
	@if [ -x $(VPY) ] && ! $(VPY) -m pip --version >/dev/null 2>&1; then echo "Removing $(VENV): it has no pip ..."; rm -rf $(VENV); fi
	@echo "Setting up the virtual environment in $(VENV) from requirements.lock (first run only) ..."
	@rm -f $(STAMP)
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	@$(VPY) -m pip install --disable-pip-version-check -q -r requirements.lock 2>&1 | $(PIP_FILTER)
	@$(VPY) -m pip install --disable-pip-version-check -q --no-deps -e . 2>&1 | $(PIP_FILTER)
	@touch $@

# The campaign name is checked in the shell (fast, no Python start) before it is
# used in any path; an unknown or malformed name gets evalkit's message listing
# the available campaigns.
export CAMPAIGN
report: $(STAMP) ## Build reports/$(CAMPAIGN).html (CAMPAIGN=together by default; REPORT_CODE=1 adds a variant with code; FORMATS=html,docx,pdf adds Word and PDF)
	@if [[ ! "$$CAMPAIGN" =~ ^[a-z0-9][a-z0-9-]{0,63}$$ ]] || [[ ! -f "params/$$CAMPAIGN.yaml" ]]; then $(EK) check "$$CAMPAIGN"; exit 2; fi
	@if [ -n "$(BAD_FORMATS)" ]; then echo "error: FORMATS=$(FORMATS) has unknown format(s) '$(BAD_FORMATS)'; use a comma-separated list of html, docx, pdf (e.g. FORMATS=html,docx,pdf)." >&2; exit 2; fi
	@if [ -n "$(BAD_LANG)" ]; then echo "error: the report language '$(BAD_LANG)' is not available; use REPORT_LANG=en or REPORT_LANG=mn (or leave it out for the params' default)." >&2; exit 2; fi
	@$(EK) locked "$$CAMPAIGN" -- $(MAKE) --no-print-directory reports/$(CAMPAIGN)$(L_SUFFIX).html $(CODE_REPORT) $(COPY_REPORTS)
	@echo "Report: reports/$(CAMPAIGN)$(L_SUFFIX).html (executed notebooks and results.csv in reports/$(CAMPAIGN)/)"
	@$(if $(COPY_REPORTS),echo "Copies: $(COPY_REPORTS)")
	@$(if $(CODE_REPORT),echo "With code: $(CODE_REPORT)")

LANG_HTML := $(foreach l,$(REPORT_LANGS),$(addprefix reports/,$(addsuffix .$(l).html,$(CAMPAIGNS))))
reports: $(STAMP) $(addprefix reports/,$(addsuffix .html,$(CAMPAIGNS))) $(LANG_HTML) $(foreach c,$(CAMPAIGNS),$(foreach f,$(COPY_FORMATS),reports/$(c).$(f))) reports/index.html $(foreach l,$(REPORT_LANGS),reports/index.$(l).html) ## Build every campaign's report in the default language and in REPORT_LANGS (mn), and the indexes (FORMATS= as for report)
	@if [ -n "$(BAD_LANG)" ]; then echo "error: REPORT_LANGS='$(REPORT_LANGS)' has a language that is not available; use en and/or mn." >&2; exit 2; fi
	@echo "Reports: $(addprefix reports/,$(addsuffix .html,$(CAMPAIGNS))) $(LANG_HTML) and reports/index.html $(foreach l,$(REPORT_LANGS),reports/index.$(l).html)"

index: reports/index.html ## Build reports/index.html from the campaigns' results

plan: $(STAMP) ## Plan the next survey: reports/$(CAMPAIGN)/plan.html, sample sizes for 80% power per indicator and group
	@if [[ ! "$$CAMPAIGN" =~ ^[a-z0-9][a-z0-9-]{0,63}$$ ]] || [[ ! -f "params/$$CAMPAIGN.yaml" ]]; then $(EK) check "$$CAMPAIGN"; exit 2; fi
	@$(EK) locked "$$CAMPAIGN" -- $(MAKE) --no-print-directory reports/$(CAMPAIGN)/plan.html
	@echo "Plan: reports/$(CAMPAIGN)/plan.html"

# results -> plan (03_plan.ipynb)
reports/%/plan.html: reports/%/results.csv $(NB_PLAN) $(SRC) | $(STAMP)
	@$(EK) plan $*

# raw -> processed (01_clean.ipynb)
data/processed/%/responses.parquet: params/%.yaml $$(wildcard data/raw/$$*/*) $(NB_CLEAN) $(SRC) | $(STAMP)
	@$(EK) clean $*

# The Differently Different 2020 claims compare with the 2019 baseline.
reports/differently-different-2020/results.csv: data/processed/differently-different-2019/responses.parquet

# processed -> results (02_evaluate.ipynb)
reports/%/results.csv: data/processed/%/responses.parquet params/%.yaml $(NB_EVAL) $(SRC) | $(STAMP)
	@$(EK) evaluate $*

# results -> HTML
reports/%.html: reports/%/results.csv | $(STAMP)
	@$(EK) report $*

# The report in another language: its own executed notebook (02_evaluate.<lang>.ipynb), then its HTML.
# These rules have a shorter stem than reports/%.html, so make picks them for reports/<c>.mn.html.
define LANG_RULES
reports/%/02_evaluate.$(1).ipynb: data/processed/%/responses.parquet params/%.yaml $$(NB_EVAL) $$(SRC) | $$(STAMP)
	@$$(EK) evaluate $$* --lang $(1)

reports/%.$(1).html: reports/%/02_evaluate.$(1).ipynb | $$(STAMP)
	@$$(EK) report $$* --lang $(1)

reports/%.$(1).docx: reports/%.$(1).html params/%.yaml src/evalkit/report/docexport.py | $$(STAMP)
	@$$(EK) report $$* --lang $(1) --formats docx

reports/%.$(1).pdf: reports/%.$(1).html src/evalkit/report/pdfexport.py src/evalkit/report/docexport.py | $$(STAMP)
	@$$(EK) report $$* --lang $(1) --formats pdf

reports/differently-different-2020/02_evaluate.$(1).ipynb: data/processed/differently-different-2019/responses.parquet

reports/index.$(1).html: $$(addprefix reports/,$$(addsuffix .html,$$(CAMPAIGNS))) $$(addprefix reports/,$$(addsuffix .$(1).html,$$(CAMPAIGNS))) $$(addprefix reports/,$$(addsuffix /results.csv,$$(CAMPAIGNS))) $$(SRC) | $$(STAMP)
	@$$(EK) index --lang $(1)
endef
$(foreach l,$(LANGS),$(eval $(call LANG_RULES,$(l))))
# During fieldwork: checks on the exports so far (one wave, some days); see README "During fieldwork".
check: $(STAMP) ## Fieldwork checks on the exports so far: reports/$(CAMPAIGN)/fieldwork.html and fieldwork.csv
	@if [[ ! "$$CAMPAIGN" =~ ^[a-z0-9][a-z0-9-]{0,63}$$ ]] || [[ ! -f "params/$$CAMPAIGN.yaml" ]]; then $(EK) check "$$CAMPAIGN"; exit 2; fi
	@$(EK) locked "$$CAMPAIGN" -- $(MAKE) --no-print-directory reports/$(CAMPAIGN)/fieldwork.html

# The raw folder itself is a prerequisite too: deleting a decision file changes its time.
reports/%/fieldwork.html: params/%.yaml $$(wildcard data/raw/$$* data/raw/$$*/*) $(SRC) | $(STAMP)
	@$(EK) fieldwork $*

# HTML -> Word and PDF copies (made from the finished HTML, so they carry its numbers)
reports/%.docx: reports/%.html params/%.yaml src/evalkit/report/docexport.py | $(STAMP)
	@$(EK) report $* --formats docx

reports/%.pdf: reports/%.html src/evalkit/report/pdfexport.py src/evalkit/report/docexport.py | $(STAMP)
	@$(EK) report $* --formats pdf

reports/%/report-with-code.html: reports/%/results.csv | $(STAMP)
	@$(EK) report $* --code

# The index links every stage's HTML, so it is built after them (make -j2 reports).
reports/index.html: $(addprefix reports/,$(addsuffix .html,$(CAMPAIGNS))) $(LANG_HTML) $(addprefix reports/,$(addsuffix /results.csv,$(CAMPAIGNS))) $(SRC) | $(STAMP)
	@$(EK) index

test: $(STAMP) ## Run the whole test suite (unit, statistics, notebooks end to end, browser)
	@$(VPY) -m pytest

bench: $(STAMP) ## Measure report speed and memory; writes reports/bench.md and reports/bench.json
	@$(VPY) -m evalkit.bench

bench-smoke: $(STAMP) ## A tiny bench run (no targets asserted), as CI does
	@$(VPY) -m evalkit.bench --smoke

lab: $(STAMP) ## Open the notebooks in JupyterLab
	@$(VENV)/bin/jupyter lab notebooks/

lock: ## Re-resolve requirements.in into requirements.lock (needs the package index)
	@rm -rf build/lock-venv && $(PYTHON) -m venv build/lock-venv
	@build/lock-venv/bin/pip install --disable-pip-version-check -q -r requirements.in
	@{ echo "# Pinned dependency lock: exact versions of every package (direct and transitive)."; \
	   echo "# Regenerate: make lock   (installs requirements.in in a fresh venv and freezes it)"; \
	   build/lock-venv/bin/pip freeze --disable-pip-version-check; } > requirements.lock
	@rm -rf build/lock-venv
	@echo "requirements.lock updated; update environment.yml to the same versions."

clean: ## Remove build outputs (data/processed/, reports/); raw data is never touched
	rm -rf data/processed reports build

clean-venv: ## Remove the virtual environment too
	rm -rf $(VENV)
