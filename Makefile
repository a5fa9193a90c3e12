# rnnkit developer tasks. `make test` works from a fresh clone: it builds .venv first.
PYTHON      ?= python3
VENV        := .venv
VPY         := $(VENV)/bin/python
STAMP       := $(VENV)/.installed
CONSTRAINTS := $(CURDIR)/constraints.txt
# The benchmark data sets: ../shared/data in this checkout, unless RNNKIT_DATA says otherwise.
RNNKIT_DATA ?= $(if $(wildcard ../shared/data),$(abspath ../shared/data),)
export RNNKIT_DATA
# Lint only the directories that exist (benchmarks/ and examples/ may not yet).
LINT_DIRS   := $(wildcard src tests benchmarks examples)

.PHONY: venv lint test demo bench bench-gpu bench-lm bench-lm-long bench-classify bench-classify-ulmfit bench-forecast bench-tag bench-tag-context bench-tag-ulm bench-translate bench-versus clean

venv: $(STAMP)

# Reinstall only when the project metadata or the lock file changes. PIP_CONSTRAINT (not only
# -c) so the isolated build environment of the editable install is pinned too. pip itself is
# not upgraded: nothing is fetched that the lock file does not name.
$(STAMP): pyproject.toml constraints.txt
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	PIP_CONSTRAINT=$(CONSTRAINTS) $(VPY) -m pip install --disable-pip-version-check \
		-c $(CONSTRAINTS) -e '.[dev]'
	touch $@

lint: venv
	$(VENV)/bin/ruff check $(LINT_DIRS)
	$(VENV)/bin/ruff format --check $(LINT_DIRS)

test: venv
	$(MAKE) lint
	$(VENV)/bin/pytest -q

# The main job: a character-level LSTM on tinyshakespeare (3 minutes of training), its
# validation bits/char and loss curve, then 500 sampled characters.
demo: venv
	$(VENV)/bin/rnnkit lm train --preset demo --out runs/demo --overwrite
	$(VENV)/bin/rnnkit lm sample runs/demo --prompt "ROMEO:" --length 500 --temperature 0.8 --seed 0

bench: venv
	$(VPY) -m benchmarks.bench_core
	$(VPY) -m benchmarks.bench_native
	$(VPY) -m benchmarks.bench_gemm
	$(VPY) -m benchmarks.bench_dispatch
	$(VPY) -m benchmarks.bench_reference

# On a CUDA machine only (docs/benchmarks.md, "On a GPU"); benchmarks/gpu_checks.sh runs it
# with the CUDA tests on a lent GPU machine.
bench-gpu: venv
	$(VPY) -m benchmarks.bench_gpu --json docs/results/gpu-core.json

# Language-model benchmarks (issue #5): throughput, then 30 minutes of training each for the
# char-level and PTB presets. Results go to docs/results/; docs/benchmarks.md reports them.
bench-lm: venv
	$(VPY) -m benchmarks.bench_lm throughput --rounds 7 --steps 100 --json docs/results/lm-throughput.json
	$(VPY) -m benchmarks.bench_lm quality shakespeare-char --minutes 30 --out runs/bench-shakespeare \
		--json docs/results/lm-shakespeare-char.json
	$(VPY) -m benchmarks.bench_lm quality ptb-small --minutes 30 --out runs/bench-ptb-small \
		--json docs/results/lm-ptb-small.json

# The long language-model runs (2.5 hours): PTB with dropout and weight tying for 2 hours (the
# figure in docs/benchmarks.md came from 55 minutes plus a --resume to 120), then WikiText-2.
bench-lm-long: venv
	$(VPY) -m benchmarks.bench_lm quality ptb-small --minutes 120 --out runs/bench-ptb-tied \
		--set model.embedding_size=400 --set model.rnn.hidden_size=400 \
		--set model.tie_weights=true --set model.rnn.dropout=0.4 --set train.epochs=40 \
		--set train.schedule=plateau --set train.lr_decay=0.25 --set train.plateau_patience=0 \
		--json docs/results/lm-ptb-tied-2h-one-stint.json
	$(VPY) -m benchmarks.bench_lm quality wikitext2 --minutes 30 --out runs/bench-wt2 \
		--json docs/results/lm-wikitext2-alone.json

# Classification benchmarks (issue #6): packing throughput, IMDB within 20 minutes, SST-2 with
# word2vec vectors trained on IMDB's training reviews.
bench-classify: venv
	$(VPY) -m benchmarks.bench_classify packing --rounds 5 --steps 20 --json docs/results/classify-packing.json
	$(VPY) -m benchmarks.bench_classify quality imdb --minutes 20 --out runs/bench-imdb \
		--json docs/results/classify-imdb.json
	for seed in 0 1 2; do $(VPY) -m benchmarks.bench_classify quality sst2 --minutes 10 \
		--embeddings-from imdb --set model.freeze_embeddings=true --set train.epochs=16 \
		--set train.seed=$$seed --out runs/bench-sst2-e16-seed$$seed \
		--json docs/results/classify-sst2-w2v-imdb-frozen-e16-seed$$seed.json || exit 1; done

# Tagging benchmarks (issue #24): CoNLL-2003 NER, three seeds of each preset (no external data
# within 28 minutes of training, GloVe 6B 50d within 55), eng.testb F1 and tagging speed.
# About 4.5 hours; needs RNNKIT_DATA (and the glove extra, in the dev install).
bench-tag: venv
	for seed in 0 1 2; do $(VPY) -m benchmarks.bench_tag quality conll2003 --minutes 28 \
		--seed $$seed --out runs/bench-conll-seed$$seed \
		--json docs/results/tag-conll2003-seed$$seed.json || exit 1; done
	for seed in 0 1 2; do $(VPY) -m benchmarks.bench_tag quality conll2003-glove --minutes 55 \
		--seed $$seed --out runs/bench-conll-glove-seed$$seed \
		--json docs/results/tag-conll2003-glove-seed$$seed.json || exit 1; done

# CoNLL-2003 with contextual string embeddings (issue #24, "going beyond"): the corpus
# (eng.train and WikiText-2, 11.5 M characters), a forward and a backward 1x512 character
# LSTM language model (35 minutes each), then the GloVe preset reading their states, three
# seeds. About 4 hours one after another; needs RNNKIT_DATA and the glove extra.
NER_LM = --data runs/ner-lm/corpus.txt --level char --min-freq 10 --valid-fraction 0.01 \
	--embedding-size 64 --cell lstm --hidden-size 512 --num-layers 1 --dropout 0.1 \
	--batch-size 64 --eval-batch-size 32 --set train.bptt=150 --set train.optimizer=adam \
	--set train.lr=2e-3 --set train.clip_norm=5.0 --set train.epochs=3 --set train.max_time=35m
bench-tag-context: venv
	mkdir -p runs/ner-lm
	$(VPY) -m benchmarks.ner_lm_corpus --out runs/ner-lm/corpus.txt
	$(VENV)/bin/rnnkit lm train $(NER_LM) --out runs/ner-lm/fwd
	$(VENV)/bin/rnnkit lm train $(NER_LM) --reverse --out runs/ner-lm/bwd
	for seed in 0 1 2; do $(VPY) -m benchmarks.bench_tag quality conll2003-glove --minutes 55 \
		--seed $$seed --set init.context_lms=runs/ner-lm/fwd,runs/ner-lm/bwd \
		--out runs/bench-conll-context-seed$$seed \
		--json docs/results/tag-conll2003-glove-context-seed$$seed.json || exit 1; done

# CoNLL-2003 from word language models (issue #24, "--init-from"; not yet measured): the
# corpus above with digits read as 0 (as the conll2003 preset reads words), a forward and a
# backward 1x256 word LSTM language model (25 minutes each), then the conll2003 preset
# started from them, three seeds. Needs RNNKIT_DATA.
NER_WLM = --data runs/ner-wlm/corpus.txt --level word --max-vocab 30000 --valid-fraction 0.01 \
	--embedding-size 100 --cell lstm --hidden-size 256 --num-layers 1 --dropout 0.3 \
	--batch-size 32 --set train.bptt=70 --set train.optimizer=adam --set train.lr=2e-3 \
	--set train.clip_norm=1.0 --set train.epochs=10 --set train.max_time=25m
bench-tag-ulm: venv
	mkdir -p runs/ner-lm runs/ner-wlm
	$(VPY) -m benchmarks.ner_lm_corpus --out runs/ner-lm/corpus.txt
	sed 's/[0-9]/0/g' runs/ner-lm/corpus.txt > runs/ner-wlm/corpus.txt
	$(VENV)/bin/rnnkit lm train $(NER_WLM) --out runs/ner-wlm/fwd
	$(VENV)/bin/rnnkit lm train $(NER_WLM) --reverse --out runs/ner-wlm/bwd
	for seed in 0 1 2; do $(VPY) -m benchmarks.bench_tag quality conll2003 --minutes 28 \
		--seed $$seed --set init.init_from=runs/ner-wlm/fwd \
		--set init.init_from_backward=runs/ner-wlm/bwd --out runs/bench-conll-ulm-seed$$seed \
		--json docs/results/tag-conll2003-ulm-seed$$seed.json || exit 1; done

# Translation (issue #25, about 5.5 hours one after another, both cores each): Multi30k
# English to German within 60 minutes, the same without attention, English to French; eng-fra
# with and without attention; then training speed against a bare torch loop and batched beam
# search. Needs RNNKIT_DATA.
bench-translate: venv
	$(VPY) -m benchmarks.bench_translate quality multi30k --minutes 60 --beam 5 \
		--out runs/bench-multi30k-60min-seed0 --json docs/results/translate-multi30k-60min-seed0.json
	for c in "noatt model.attention=none" "fr data.tgt=fr"; do set -- $$c; \
		$(VPY) -m benchmarks.bench_translate quality multi30k --minutes 60 --beam 5 --set $$2 \
		--out runs/bench-multi30k-$$1-60min-seed0 \
		--json docs/results/translate-multi30k-$$1-60min-seed0.json || exit 1; done
	for c in "att model.attention=general" "noatt model.attention=none"; do set -- $$c; \
		$(VPY) -m benchmarks.bench_translate quality eng-fra --minutes 60 --beam 5 --set $$2 \
		--out runs/bench-engfra-$$1-60min-seed0 \
		--json docs/results/translate-engfra-$$1-60min-seed0.json || exit 1; done
	$(VPY) -m benchmarks.bench_translate speed --rounds 5 --steps 40 \
		--json docs/results/translate-speed.json
	$(VPY) -m benchmarks.bench_translate decode runs/bench-multi30k-60min-seed0 --beam 5 \
		--json docs/results/translate-decode-beam5.json

# IMDB from language models of its training reviews (about 2.5 hours): the corpus, a forward
# and a backward 1x256 LSTM language model (4,774 steps each, 31-36 minutes), then the
# unidirectional and the bidirectional fine-tuning. Needs RNNKIT_DATA.
ULMFIT_LM = --level word --max-vocab 30000 --valid-fraction 0.02 --embedding-size 256 \
	--cell lstm --hidden-size 256 --num-layers 1 --dropout 0.2 --adaptive-cutoffs 2000,10000 \
	--batch-size 64 --set train.bptt=70 --set train.optimizer=adam --set train.lr=2e-3 \
	--set train.clip_norm=1.0 --set train.schedule=plateau --set train.lr_decay=0.5 \
	--set train.plateau_patience=0 --set train.epochs=6 --set train.max_steps=4774
ULMFIT_FT = --set model.pooling=concat --set train.lr=3e-3 --set init.discriminative_lr=2.6 \
	--set train.schedule=cosine --set train.warmup_steps=100
bench-classify-ulmfit: venv
	mkdir -p runs/ulmfit
	$(VENV)/bin/rnnkit text preprocess --input $(RNNKIT_DATA)/imdb/train.jsonl.gz --text-col text \
		--output runs/ulmfit/corpus.txt
	$(VENV)/bin/rnnkit lm train --data runs/ulmfit/corpus.txt $(ULMFIT_LM) --out runs/ulmfit/fwd
	$(VENV)/bin/rnnkit lm train --data runs/ulmfit/corpus.txt $(ULMFIT_LM) --reverse \
		--out runs/ulmfit/bwd
	$(VPY) -m benchmarks.bench_classify quality imdb --minutes 25 --out runs/ulmfit/clf \
		$(ULMFIT_FT) --set init.init_from=runs/ulmfit/fwd \
		--json docs/results/classify-imdb-init-from-lm-discr-make.json
	$(VPY) -m benchmarks.bench_classify quality imdb --minutes 60 --out runs/ulmfit/clf-bi \
		$(ULMFIT_FT) --set init.init_from=runs/ulmfit/fwd --set init.init_from_backward=runs/ulmfit/bwd \
		--json docs/results/classify-imdb-init-from-lm-bi-make.json

# Forecasting benchmarks (issue #7): ETTh1 under the LTSF protocol (4 horizons, then 2 more
# seeds at 96), household power weekly forecasts and airline passengers (5 seeds each).
bench-forecast: venv
	$(VPY) -m benchmarks.bench_forecast quality etth1 --horizons 96,192,336,720 --seeds 0 \
		--out runs/bench-etth1 --json docs/results/forecast-etth1.json
	$(VPY) -m benchmarks.bench_forecast quality etth1 --horizons 96 --seeds 1,2 \
		--out runs/bench-etth1-seeds --json docs/results/forecast-etth1-h96-seeds.json
	$(VPY) -m benchmarks.bench_forecast quality household-power-daily --seeds 0,1,2,3,4 \
		--out runs/bench-power --json docs/results/forecast-power.json
	$(VPY) -m benchmarks.bench_forecast quality airline --seeds 0,1,2,3,4 \
		--out runs/bench-airline --json docs/results/forecast-airline.json

clean:
	rm -rf $(VENV) runs build dist .pytest_cache .ruff_cache src/*.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# rnnkit's classifier defaults (stacked on the baseline, GloVe with the dev install) against
# the TF-IDF baseline (issue #27): IMDB with 500 and 2,000 training reviews, SST-2 with 1,000
# phrases and all of them, three seeded subsets each, every run scored with its baseline on
# the full reported split; then the imdb preset (stacked) on all 25,000 reviews. About two
# hours. Needs RNNKIT_DATA.
bench-versus: venv
	$(VPY) -m benchmarks.bench_versus imdb --sizes 500,2000 --seeds 0,1,2 --out runs/versus \
		--json docs/results/versus-imdb-small-defaults.json
	$(VPY) -m benchmarks.bench_versus sst2 --sizes 1000,all --seeds 0,1,2 --out runs/versus \
		--json docs/results/versus-sst2-defaults.json
	$(VPY) -m benchmarks.bench_classify quality imdb --minutes 20 --out runs/bench-imdb-stacked \
		--json docs/results/classify-imdb-stacked.json
