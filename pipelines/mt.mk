# mt.mk — the generic stage library: one rule per tool, every artifact named from its parameters.
#
# A pipeline (mnist.mk, cifar10.mk) sets DATASET and provides the rules that make
# $(DATA)/train.h5 and $(DATA)/test.h5, then includes this file. Each variable below chooses one stage;
# changing it changes that stage's file name, so make reruns that stage and the ones after it, and
# nothing before. Every intermediate file stays on disk and is valid input for the tools by hand.
# Outputs are written atomically by the tools, and no two rules write the same file, so -j is safe.

MT_BIN           ?= $(abspath $(dir $(lastword $(MAKEFILE_LIST)))../.build/release)
OUT              ?= out
THREADS          ?=
MT_FLAGS         ?= -q $(if $(THREADS),--threads $(THREADS))

# --- stage variables ------------------------------------------------------------------------------
METRIC           ?= pca#            pixels | pca | simclr | instance | imported:FILE.h5 | model:CHECKPOINT.h5
METRIC_EPOCHS    ?= 10#             simclr / instance: epochs of mt-train metric (ARCH's network)
METRIC_FLAGS     ?=
PCA_DIM          ?= 50
PCA_WHITEN       ?= no#             yes | no
K                ?= 20#             neighbours in the kNN graph (spread, ncut)
EIGENPAIRS       ?= 200#            normalised-cut eigenpairs
PROPAGATION      ?= ncut#           knn | spread | ncut
LABELS_PER_CLASS ?= 10
SEED             ?= 0
SELECT           ?= ratio:0.5#      ratio:R | per-class-top:K | threshold:T | reliable:N
WEIGHTS          ?= confidence#     confidence | uniform | nc
ARCH             ?= mnist-cnn
EPOCHS           ?= 10
ITERATIONS       ?=#               finetune for this many optimiser steps instead of EPOCHS epochs
TRAIN_FLAGS      ?=
ROUND            ?= 1#             R > 1: the classifier finetuned in round R-1 is the metric (and the start) of round R
ORACLE_EPOCHS    ?= 5#             the all-labels upper bound (target oracle)

# --- artifact names -------------------------------------------------------------------------------
PIPELINE    := $(firstword $(MAKEFILE_LIST))
ROOT        := $(OUT)/$(DATASET)$(if $(LIMIT),-first$(LIMIT))
DATA        := $(ROOT)/data
IMPORTED     = $(patsubst imported:%,%,$(METRIC))
CHECKPOINT   = $(patsubst model:%,%,$(METRIC))
METRIC_TAG  := $(strip $(if $(filter pca,$(METRIC)),pca$(PCA_DIM)$(if $(filter yes,$(PCA_WHITEN)),w),\
                  $(if $(filter imported:%,$(METRIC)),imported-$(basename $(notdir $(IMPORTED))),\
                  $(if $(filter model:%,$(METRIC)),model-$(basename $(notdir $(CHECKPOINT))),\
                  $(if $(filter simclr instance,$(METRIC)),$(METRIC)-$(ARCH)-e$(METRIC_EPOCHS),$(METRIC))))))
MDIR        := $(ROOT)/$(METRIC_TAG)
TRAIN_FEATURES := $(MDIR)/features-train.h5
TEST_FEATURES  := $(MDIR)/features-test.h5
GRAPH       := $(MDIR)/graph-k$(K).h5
EIGEN       := $(MDIR)/eigen-k$(K)-n$(EIGENPAIRS).h5
SPLIT_TAG   := n$(LABELS_PER_CLASS)-s$(SEED)
SPLIT       := $(ROOT)/splits/split-$(SPLIT_TAG).h5
PROP_TAG    := $(if $(filter knn,$(PROPAGATION)),knn,$(if $(filter spread,$(PROPAGATION)),spread-k$(K),ncut-k$(K)-n$(EIGENPAIRS)))
PDIR        := $(MDIR)/$(PROP_TAG)/$(SPLIT_TAG)
PSEUDO      := $(PDIR)/pseudo.h5
PSEUDO_EVAL := $(PDIR)/pseudo-metrics.json
SELECT_TAG  := $(subst :,,$(SELECT))-$(WEIGHTS)
SDIR        := $(PDIR)/select-$(SELECT_TAG)
SELECTION   := $(SDIR)/selection.h5
TRAIN_TAG   := $(ARCH)-$(if $(ITERATIONS),i$(ITERATIONS),e$(EPOCHS))
TRAIN_BUDGET = $(if $(ITERATIONS),--iterations $(ITERATIONS),--epochs $(EPOCHS))
MODEL_DIR   := $(SDIR)/$(TRAIN_TAG)
MODEL       := $(MODEL_DIR)/model.h5
TEST_EVAL   := $(MODEL_DIR)/test-metrics.json
METRIC_EVAL := $(MDIR)/metric-test.json
INIT        :=

# Round R > 1 lives inside the directory of round R-1's model: its network embeds the images, the same
# split is propagated again, and the classifier of round R starts from it.
define next_round
PREVIOUS_MODEL := $$(MODEL)
MDIR        := $$(MODEL_DIR)/round$(1)
TRAIN_FEATURES := $$(MDIR)/features-train.h5
TEST_FEATURES  := $$(MDIR)/features-test.h5
GRAPH       := $$(MDIR)/graph-k$$(K).h5
EIGEN       := $$(MDIR)/eigen-k$$(K)-n$$(EIGENPAIRS).h5
PDIR        := $$(MDIR)/$$(PROP_TAG)/$$(SPLIT_TAG)
PSEUDO      := $$(PDIR)/pseudo.h5
PSEUDO_EVAL := $$(PDIR)/pseudo-metrics.json
SDIR        := $$(PDIR)/select-$$(SELECT_TAG)
SELECTION   := $$(SDIR)/selection.h5
MODEL_DIR   := $$(SDIR)/$$(TRAIN_TAG)
MODEL       := $$(MODEL_DIR)/model.h5
TEST_EVAL   := $$(MODEL_DIR)/test-metrics.json
METRIC_EVAL := $$(MDIR)/metric-test.json
INIT        := $$(PREVIOUS_MODEL)
endef
$(foreach round,$(wordlist 2,$(ROUND),1 2 3 4 5 6 7 8 9),$(eval $(call next_round,$(round))))

SELECT_FLAG := --$(firstword $(subst :, ,$(SELECT))) $(word 2,$(subst :, ,$(SELECT)))

.PHONY: features graph eigen split pseudo select model evaluate metric-eval supervised oracle FORCE
.DELETE_ON_ERROR:

features: $(TRAIN_FEATURES)
graph:    $(GRAPH)
eigen:    $(EIGEN)
split:    $(SPLIT)
pseudo:   $(PSEUDO_EVAL)
select:   $(SELECTION)
model:    $(MODEL)
evaluate: $(TEST_EVAL) $(PSEUDO_EVAL)
metric-eval: $(METRIC_EVAL)

# --- mt-features: metric ------------------------------------------------------------------------------
$(ROOT)/pixels/features-%.h5: $(DATA)/%.h5
	@mkdir -p $(@D)
	$(MT_BIN)/mt-features extract $< --model pixels $(MT_FLAGS) -o $@

$(ROOT)/pca$(PCA_DIM)$(if $(filter yes,$(PCA_WHITEN)),w)/features-train.h5: $(DATA)/train.h5
	@mkdir -p $(@D)
	$(MT_BIN)/mt-features extract $< --model pca:$(PCA_DIM) --$(if $(filter yes,$(PCA_WHITEN)),,no-)whiten $(MT_FLAGS) -o $@

$(ROOT)/pca$(PCA_DIM)$(if $(filter yes,$(PCA_WHITEN)),w)/features-test.h5: $(DATA)/test.h5 $(ROOT)/pca$(PCA_DIM)$(if $(filter yes,$(PCA_WHITEN)),w)/features-train.h5
	$(MT_BIN)/mt-features extract $< --model pca:$(word 2,$^) $(MT_FLAGS) -o $@

ifneq ($(filter simclr instance,$(METRIC)),)
# A metric learned without labels. Epoch checkpoints go to metric-partial.h5, so an interrupted run
# resumes where it stopped when make is run again; metric.h5 appears only when all epochs are done.
# The finetuned classifier starts from this network.
CHECKPOINT := $(ROOT)/$(METRIC_TAG)/metric.h5
ifeq ($(ROUND),1)
INIT := $(CHECKPOINT)
endif
$(CHECKPOINT): $(DATA)/train.h5
	@mkdir -p $(@D)
	$(MT_BIN)/mt-train metric $< --arch $(ARCH) --objective $(METRIC) --epochs $(METRIC_EPOCHS) \
	  $(if $(wildcard $(@D)/metric-partial.h5),--resume) $(METRIC_FLAGS) $(MT_FLAGS) -o $(@D)/metric-partial.h5
	mv $(@D)/metric-partial.h5 $@
endif

ifneq ($(filter model:%,$(METRIC))$(filter simclr instance,$(METRIC)),)
# A trained network (mt-train, or a PyTorch model converted with tools/torch2h5.py) embeds the images.
$(ROOT)/$(METRIC_TAG)/features-%.h5: $(DATA)/%.h5 $(CHECKPOINT)
	@mkdir -p $(@D)
	$(MT_BIN)/mt-features extract $< --model $(CHECKPOINT) $(MT_FLAGS) -o $@
endif

FORCE:

ifneq ($(ROUND),1)
# The previous round is made by make itself (a no-op when it is up to date); its classifier embeds this round.
$(PREVIOUS_MODEL): FORCE
	@$(MAKE) --no-print-directory -f $(PIPELINE) ROUND=$(words $(wordlist 2,$(ROUND),1 2 3 4 5 6 7 8 9)) model
$(MDIR)/features-%.h5: $(DATA)/%.h5 $(PREVIOUS_MODEL)
	@mkdir -p $(@D)
	$(MT_BIN)/mt-features extract $< --model $(PREVIOUS_MODEL) $(MT_FLAGS) -o $@
endif

ifneq ($(filter imported:%,$(METRIC)),)
# Features made elsewhere (h5py, another framework): checked by copying them through the reader.
$(ROOT)/$(METRIC_TAG)/features-train.h5: $(IMPORTED)
	@mkdir -p $(@D)
	cp $< $@
endif

# --- mt-select split ------------------------------------------------------------------------------
$(SPLIT): $(DATA)/train.h5
	@mkdir -p $(@D)
	$(MT_BIN)/mt-select split $< --per-class $(LABELS_PER_CLASS) --seed $(SEED) $(MT_FLAGS) -o $@

# --- mt-knn / mt-ncut: propagation ---------------------------------------------------------------------
$(GRAPH): $(TRAIN_FEATURES)
	$(MT_BIN)/mt-knn graph $< -k $(K) $(MT_FLAGS) -o $@

$(EIGEN): $(GRAPH)
	$(MT_BIN)/mt-ncut eigen $< -n $(EIGENPAIRS) $(MT_FLAGS) -o $@

$(MDIR)/knn/$(SPLIT_TAG)/pseudo.h5: $(TRAIN_FEATURES) $(SPLIT)
	@mkdir -p $(@D)
	$(MT_BIN)/mt-knn propagate $< --split $(SPLIT) $(MT_FLAGS) -o $@

$(MDIR)/spread-k$(K)/$(SPLIT_TAG)/pseudo.h5: $(GRAPH) $(SPLIT)
	@mkdir -p $(@D)
	$(MT_BIN)/mt-knn spread $< --split $(SPLIT) $(MT_FLAGS) -o $@

$(MDIR)/ncut-k$(K)-n$(EIGENPAIRS)/$(SPLIT_TAG)/pseudo.h5: $(EIGEN) $(SPLIT)
	@mkdir -p $(@D)
	$(MT_BIN)/mt-ncut propagate $< --split $(SPLIT) $(MT_FLAGS) -o $@

# --- mt-select pseudo / mt-train / mt-eval --------------------------------------------------------------
$(SELECTION): $(PSEUDO)
	@mkdir -p $(@D)
	$(MT_BIN)/mt-select pseudo $< $(SELECT_FLAG) --weights $(WEIGHTS) $(MT_FLAGS) -o $@

$(PSEUDO_EVAL): $(PSEUDO) $(DATA)/train.h5
	$(MT_BIN)/mt-eval pseudo $< --truth $(DATA)/train.h5 --json $@ $(MT_FLAGS) > $(@:.json=.txt)

$(MODEL): $(DATA)/train.h5 $(SELECTION) $(INIT)
	@mkdir -p $(@D)
	$(MT_BIN)/mt-train classifier $< --selection $(SELECTION) --arch $(ARCH) $(TRAIN_BUDGET) --seed $(SEED) \
	  $(if $(INIT),--init $(INIT)) $(TRAIN_FLAGS) $(MT_FLAGS) -o $@

# The metric's own quality: 200-NN accuracy of the test images voted by the labelled training images.
$(METRIC_EVAL): $(TRAIN_FEATURES) $(TEST_FEATURES)
	$(MT_BIN)/mt-eval metric $^ --json $@ $(MT_FLAGS) > $(@:.json=.txt)

# --- baselines: no propagation ----------------------------------------------------------------------------
# supervised: the split's labelled samples alone, from scratch; oracle: every training label, from scratch.
SUPERVISED_DIR := $(ROOT)/supervised/$(SPLIT_TAG)/$(TRAIN_TAG)
ORACLE_DIR     := $(ROOT)/oracle/$(ARCH)-e$(ORACLE_EPOCHS)
supervised: $(SUPERVISED_DIR)/test-metrics.json
oracle:     $(ORACLE_DIR)/test-metrics.json

$(SUPERVISED_DIR)/model.h5: $(DATA)/train.h5 $(SPLIT)
	@mkdir -p $(@D)
	$(MT_BIN)/mt-train classifier $< --split $(SPLIT) --arch $(ARCH) $(TRAIN_BUDGET) --seed $(SEED) $(TRAIN_FLAGS) $(MT_FLAGS) -o $@

$(ORACLE_DIR)/model.h5: $(DATA)/train.h5
	@mkdir -p $(@D)
	$(MT_BIN)/mt-train classifier $< --arch $(ARCH) --epochs $(ORACLE_EPOCHS) --seed $(SEED) $(TRAIN_FLAGS) $(MT_FLAGS) -o $@

# Test accuracy of every classifier: the finetuned one and the two baselines.
$(TEST_EVAL) $(SUPERVISED_DIR)/test-metrics.json $(ORACLE_DIR)/test-metrics.json: %/test-metrics.json: %/model.h5 $(DATA)/test.h5
	$(MT_BIN)/mt-eval model $< $(DATA)/test.h5 --json $@ $(MT_FLAGS) > $(@:.json=.txt)
