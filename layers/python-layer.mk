# The build steps every Python dependency layer shares; layers/<name>/Makefile includes this file and
# calls $(install_layer), its own pruning, then $(finish_layer). `sam build` (BuildMethod: makefile)
# runs the layer's Makefile from a scratch copy of its folder, so paths are taken from MAKEFILE_LIST
# (the original files), never from the working directory.
#
# TARGET_PYTHON is the interpreter the layer runs on: Lambda's python3.12 by default; the host build
# that tests and `make bench` use passes its own version with PYTHON=… and PIP_PLATFORM_ARGS= (empty).
TARGET_PYTHON ?= 3.12
ifeq ($(origin PYTHON),undefined)  # the first TARGET_PYTHON interpreter that runs (pyenv's shim may not)
PYTHON := $(firstword $(foreach py,python$(TARGET_PYTHON) \
	$(wildcard $(HOME)/.pyenv/versions/$(TARGET_PYTHON).*/bin/python$(TARGET_PYTHON)), \
	$(shell $(py) -c 'import sys' >/dev/null 2>&1 && echo $(py))) python3)
endif
PIP_PLATFORM_ARGS ?= --platform manylinux_2_28_aarch64 --platform manylinux2014_aarch64 \
	--implementation cp --python-version $(TARGET_PYTHON) --only-binary=:all:
PIP_INSTALL_ARGS ?=
SITE = $(ARTIFACTS_DIR)/python
LAYER_SRC := $(dir $(firstword $(MAKEFILE_LIST)))
# Modules that read their own source at import time: they keep their .py (and a __pycache__ .pyc).
# anyio builds its lazy-import table from `inspect.getsource(anyio)`; without the source it silently
# imports every submodule eagerly (slower cold start, same behaviour).
KEEP_SOURCES ?= anyio/__init__.py anyio/abc/__init__.py

# pip's console scripts (bin/) are never run in Lambda.
define install_layer
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --no-compile -r "$(LAYER_SRC)requirements.txt" \
		--target "$(SITE)" $(PIP_PLATFORM_ARGS) $(PIP_INSTALL_ARGS)
	rm -rf "$(SITE)/bin"
endef

# Type stubs go. Then bytecode: /opt is read-only in Lambda, so a layer without .pyc files is compiled
# again on every cold start. When the compiling interpreter is exactly TARGET_PYTHON (a .pyc only loads
# on the minor version that wrote it), the layer ships sourceless bytecode: `compileall -b` writes each
# .pyc beside its module (the layout Python imports without a source), then each .py that got a .pyc
# goes; dist-info stays (importlib.metadata: pydantic checks email-validator's version through it).
# Otherwise the layer ships its sources only (a .pyc from another minor version is ignored by the
# runtime, dead weight) and a warning on stderr says so. Sourceless modules show no source lines in
# tracebacks (file and line numbers stay).
define finish_layer
	find "$(SITE)" \( -name "__pycache__" -o -name "*.pyi" \) -prune -exec rm -rf {} +
	if $(PYTHON) -c 'import sys; sys.exit("%d.%d" % sys.version_info[:2] != "$(TARGET_PYTHON)")'; then \
		$(PYTHON) -m compileall -q -j 0 -b --invalidation-mode unchecked-hash "$(SITE)" >/dev/null; \
		cd "$(SITE)" && rm -f $(addsuffix c,$(KEEP_SOURCES)) \
		&& find . -name "*.py" $(foreach keep,$(KEEP_SOURCES),! -path "./$(keep)") \
			-exec sh -c 'for py; do [ ! -f "$${py}c" ] || rm "$$py"; done' sh {} + \
		&& { ls $(KEEP_SOURCES) 2>/dev/null | xargs -r $(PYTHON) -m compileall -q --invalidation-mode unchecked-hash; }; \
	else \
		echo "warning: $(PYTHON) is not Python $(TARGET_PYTHON): the layer ships .py sources, no bytecode" >&2; \
	fi
endef

# $(call strip_symbols,globs under the layer): drop the symbol tables of extension modules a wheel ships
# unstripped (the dynamic symbols Python loads them by stay). llvm-strip reads any architecture; the
# host's GNU strip usually cannot read arm64, and then the file ships as it came, with a warning.
STRIP ?= $(firstword $(shell command -v llvm-strip strip 2>/dev/null) true)
define strip_symbols
	cd "$(SITE)" && for so in $(1); do \
		$(STRIP) --strip-unneeded -o "$$so.stripped" "$$so" 2>/dev/null && mv "$$so.stripped" "$$so" \
		|| { rm -f "$$so.stripped"; echo "warning: '$(STRIP)' could not strip $$so: shipped unstripped" >&2; }; \
	done
endef
