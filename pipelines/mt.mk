# mt.mk — the generic stage library: one rule per tool, every artifact named from its parameters.
#
# A pipeline (mnist.mk, cifar10.mk) sets DATASET and provides the rules that make
# $(DATA)/train.h5 and $(DATA)/test.h5, then includes this file. Each variable below chooses one stage;
# changing it either changes that stage's file name or the command recorded beside the file (see
# "recorded commands"), so make reruns that stage and the ones after it, and nothing before. Every
# intermediate file stays on disk and is valid input for the tools by hand. Outputs are written
# atomically by the tools, and no two rules write the same file, so -j is safe.

MT_BIN           ?= $(abspath $(dir $(lastword $(MAKEFILE_LIST)))../.build/release)
OUT              ?= out
THREADS          ?=
MT_FLAGS         ?= -q $(if $(THREADS),--threads $(THREADS))#   never change an artifact: not recorded

# --- stage variables ------------------------------------------------------------------------------
METRIC           ?= pca#            pixels | pca | simclr | instance | selflabel | imported:FILE.h5 | model:CHECKPOINT.h5
METRIC_EPOCHS    ?= 10#             simclr / instance / selflabel: epochs of mt-train metric (ARCH's network)
METRIC_FLAGS     ?=
PCA_DIM          ?= 50
PCA_WHITEN       ?= no#             yes | no
K                ?= 20#             neighbours in the kNN graph (spread, ncut)
KNN_INDEX        ?=#                approximate graph through faiss (mt-knn graph --index, e.g. IVF4096,Flat or HNSW32; unset: exact)
NPROBE           ?=#                ... its --nprobe (IVF)
EF               ?=#                ... its --ef (HNSW)
SHARDS           ?=#                n > 1: a network's embedding and the graph run as n shards (--shard i/n), merged (merge): the same files
SUBMIT           ?=#                slurm: the shards run as one Slurm job array (sbatch --array --wait; shared file system); unset: here
EIGENPAIRS       ?= 200#            normalised-cut eigenpairs
SIGMA            ?=#                ncut affinity scale (mt-ncut eigen --sigma; unset: the tool's default)
PROPAGATION      ?= ncut#           knn | spread | ncut
VOTERS           ?=#                knn: voters per sample (mt-knn propagate -k; unset: min(#labelled, 200))
TEMPERATURE      ?=#                knn, ncut: temperature of the weights (unset: the tool's default)
ALPHA            ?=#                spread: weight of the graph; ncut: the bias alpha (unset: the tool's default)
PRIOR            ?=#                uniform | labeled | FILE: class marginals the propagation balances to (--prior; unset: none)
PRIOR_LAMBDA     ?=#                its Sinkhorn power (--prior-lambda; unset: the tool's default)
PROPAGATE_FLAGS  ?=#                any other option of the propagation tool
LABELS_PER_CLASS ?= 10
SEED             ?= 0
SELECT           ?= ratio:0.5#      ratio:R | per-class-top:K | threshold:T | reliable:N
WEIGHTS          ?= confidence#     confidence | uniform | nc
SELECT_FLAGS     ?=#                any other option of mt-select pseudo
ARCH             ?= mnist-cnn
EPOCHS           ?= 10
ITERATIONS       ?=#               finetune for this many optimiser steps instead of EPOCHS epochs
TRAIN_FLAGS      ?=
ROUND            ?= 1#             R > 1: the classifier finetuned in round R-1 is the metric (and the start) of round R
ORACLE_EPOCHS    ?= 5#             the all-labels upper bound (target oracle)
SSL              ?=#               target ssl: a semi-supervised method (mt-train ssl --method: fixmatch, flexmatch, ...)
SSL_LABELS       ?= split#         split: the split's labelled samples; propagated: the selection too (ReLaB's chain)
SSL_INIT         ?= scratch#       scratch | metric (start from METRIC's network: simclr, instance or model:FILE)
SSL_ITERATIONS   ?= 1000
SSL_FLAGS        ?=
TEACHER          ?= labels#        teacher-student: labels (TEACHER_ARCH on the split's labels) | finetuned (this pipeline's MODEL)
TEACHER_ARCH     ?= $(ARCH)
STUDENT_ARCH     ?= $(ARCH)
TOP_K            ?= 1000#          teacher-student: images kept per class (mt-select pseudo --per-class-top)
TOP_P            ?= 1#             ... over each image's TOP_P most likely classes (--top-classes)
STUDENT_FLAGS    ?=#               e.g. --targets soft --soft-temperature 2
POOL             ?= 100#           relab: reliable samples kept per class (mt-select clean --per-class)
CLEAN_FLAGS      ?=
QUERY            ?= margin#        active: how the next labels are chosen (mt-select query --by: margin, coverage, mix, random)
ACTIVE_BUDGET    ?= 10#            active: labels asked per round
ACTIVE_ROUNDS    ?= 10#            active: rounds of propagate -> query -> answer
ORACLE_LABELS    ?= yes#           active: yes answers from the data set's labels (benchmarks); no waits for answers.csv

# --- artifact names -------------------------------------------------------------------------------
PIPELINE    := $(firstword $(MAKEFILE_LIST))
ROOT        := $(OUT)/$(DATASET)$(if $(LIMIT),-first$(LIMIT))
DATA        := $(ROOT)/data
IMPORTED     = $(patsubst imported:%,%,$(METRIC))
CHECKPOINT   = $(patsubst model:%,%,$(METRIC))
METRIC_TAG  := $(strip $(if $(filter pca,$(METRIC)),pca$(PCA_DIM)$(if $(filter yes,$(PCA_WHITEN)),w),\
                  $(if $(filter imported:%,$(METRIC)),imported-$(basename $(notdir $(IMPORTED))),\
                  $(if $(filter model:%,$(METRIC)),model-$(basename $(notdir $(CHECKPOINT))),\
                  $(if $(filter simclr instance selflabel,$(METRIC)),$(METRIC)-$(ARCH)-e$(METRIC_EPOCHS),$(METRIC))))))
MDIR        := $(ROOT)/$(METRIC_TAG)
TRAIN_FEATURES := $(MDIR)/features-train.h5
TEST_FEATURES  := $(MDIR)/features-test.h5
GRAPH       := $(MDIR)/graph-k$(K).h5
EIGEN       := $(MDIR)/eigen-k$(K)-n$(EIGENPAIRS).h5
SPLIT_TAG   := n$(LABELS_PER_CLASS)-s$(SEED)
SPLIT       := $(ROOT)/splits/split-$(SPLIT_TAG).h5
PRIOR_FILE  := $(filter-out uniform labeled,$(PRIOR))
PRIOR_TAG   := $(if $(PRIOR),-prior-$(if $(PRIOR_FILE),$(basename $(notdir $(PRIOR_FILE))),$(PRIOR))$(if $(PRIOR_LAMBDA),-l$(PRIOR_LAMBDA)))
PROP_TAG    := $(if $(filter knn,$(PROPAGATION)),knn,$(if $(filter spread,$(PROPAGATION)),spread-k$(K),ncut-k$(K)-n$(EIGENPAIRS)))$(PRIOR_TAG)
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
PROPAGATE_OPTIONS := $(if $(filter knn,$(PROPAGATION)),$(if $(VOTERS),-k $(VOTERS))) \
                     $(if $(filter knn ncut,$(PROPAGATION)),$(if $(TEMPERATURE),--temperature $(TEMPERATURE))) \
                     $(if $(filter spread ncut,$(PROPAGATION)),$(if $(ALPHA),--alpha $(ALPHA))) \
                     $(if $(PRIOR),--prior $(PRIOR)) $(if $(PRIOR_LAMBDA),--prior-lambda $(PRIOR_LAMBDA)) $(PROPAGATE_FLAGS)

# --- recorded commands ----------------------------------------------------------------------------
# Every artifact X is made by one command, CMD (set per target): the tool, its inputs and every option
# that can change the result, without -o and MT_FLAGS. X.cmd holds the command X was made with. When a
# target is considered, its CMD is compared with X.cmd; if they differ (or X.cmd is missing) the target
# depends on FORCE and is remade, and what follows it is remade because X is then newer. So TRAIN_FLAGS,
# ALPHA or MNIST_DIR changes rerun exactly the stages they reach, and `make -n` / `make -q` tell which
# (the idea of the Linux kernel's .cmd files). run: the recipe of every stage.
.SECONDEXPANSION:
differ   = $(subst x$(strip $(1))x,,x$(strip $(2))x)
recorded = $$(if $$(call differ,$$(file <$$@.cmd),$$(CMD)),FORCE)
quoted   = '$(subst ','\'',$(strip $(1)))'
record   = printf '%s\n' $(call quoted,$(CMD)) > $@.cmd
define run
$(MT_BIN)/$(strip $(CMD)) $(MT_FLAGS) -o $@
@$(record)
endef
# SHARDS=n: the command runs n times, shard i/n each (through Slurm with SUBMIT=slurm), then the shards are
# merged into $@. The recorded command is the unsharded one: sharding does not change the result.
shard_indices    = $(shell seq 0 $$(( $(SHARDS) - 1 )))
shard_jobs_local = for i in $(shard_indices); do $(MT_BIN)/$(strip $(CMD)) $(MT_FLAGS) --shard $$i/$(SHARDS) -o $(basename $@).shard$$i.h5 || exit 1; done
shard_jobs_slurm = sbatch --wait --quiet --array=0-$$(( $(SHARDS) - 1 )) --job-name=mt-$(notdir $(basename $@)) -o $(basename $@).slurm-%a.log \
                   --wrap "$(MT_BIN)/$(strip $(CMD)) $(MT_FLAGS) --shard \$$SLURM_ARRAY_TASK_ID/$(SHARDS) -o $(basename $@).shard\$$SLURM_ARRAY_TASK_ID.h5"
define sharded_run
$(if $(filter slurm,$(SUBMIT)),$(shard_jobs_slurm),$(shard_jobs_local))
$(MT_BIN)/$(firstword $(CMD)) merge $(foreach i,$(shard_indices),$(basename $@).shard$(i).h5) $(MT_FLAGS) -o $@
@rm -f $(foreach i,$(shard_indices),$(basename $@).shard$(i).h5 $(basename $@).slurm-$(i).log)
@$(record)
endef
# Training keeps its epochs in X.partial.h5 and continues it (--resume) only when it was started by the
# same command, whose record is X.partial.cmd. (make expands a recipe's lines before it runs the first.)
partial  = $(basename $@).partial
resume   = $(if $(wildcard $(partial).h5),$(if $(call differ,$(file <$(partial).cmd),$(CMD)),,--resume))
define train
@printf '%s\n' $(call quoted,$(CMD)) > $(partial).cmd
$(MT_BIN)/$(strip $(CMD)) $(resume) $(MT_FLAGS) -o $@
@$(record) && rm -f $(partial).cmd
endef
# mt-eval writes JSON (--json) and its table on stdout.
define evaluation
$(MT_BIN)/$(strip $(CMD)) $(MT_FLAGS) --json $@ > $(@:.json=.txt)
@$(record)
endef

.PHONY: features graph eigen split pseudo select model evaluate metric-eval supervised oracle ssl teacher-student relab active FORCE
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
PCA_DIR := $(ROOT)/pca$(PCA_DIM)$(if $(filter yes,$(PCA_WHITEN)),w)

$(ROOT)/pixels/features-%.h5: CMD = mt-features extract $(DATA)/$*.h5 --model pixels
$(ROOT)/pixels/features-%.h5: $(DATA)/%.h5 $(recorded)
	@mkdir -p $(@D)
	$(run)

$(PCA_DIR)/features-train.h5: CMD = mt-features extract $(DATA)/train.h5 --model pca:$(PCA_DIM) --$(if $(filter yes,$(PCA_WHITEN)),,no-)whiten
$(PCA_DIR)/features-train.h5: $(DATA)/train.h5 $(recorded)
	@mkdir -p $(@D)
	$(run)

$(PCA_DIR)/features-test.h5: CMD = mt-features extract $(DATA)/test.h5 --model pca:$(PCA_DIR)/features-train.h5
$(PCA_DIR)/features-test.h5: $(DATA)/test.h5 $(PCA_DIR)/features-train.h5 $(recorded)
	$(run)

ifneq ($(filter simclr instance selflabel,$(METRIC)),)
# A metric learned without labels. mt-train keeps its epochs in metric.partial.h5, so an interrupted run
# resumes where it stopped when make is run again; metric.h5 appears only when all epochs are done.
# The finetuned classifier starts from this network.
CHECKPOINT := $(ROOT)/$(METRIC_TAG)/metric.h5
ifeq ($(ROUND),1)
INIT := $(CHECKPOINT)
endif
$(CHECKPOINT): CMD = mt-train metric $(DATA)/train.h5 --arch $(ARCH) --objective $(METRIC) --epochs $(METRIC_EPOCHS) $(METRIC_FLAGS)
$(CHECKPOINT): $(DATA)/train.h5 $(recorded)
	@mkdir -p $(@D)
	$(train)
endif

ifneq ($(filter model:%,$(METRIC))$(filter simclr instance selflabel,$(METRIC)),)
# A trained network (mt-train, or a PyTorch model converted with tools/torch2h5.py) embeds the images.
$(ROOT)/$(METRIC_TAG)/features-%.h5: CMD = mt-features extract $(DATA)/$*.h5 --model $(CHECKPOINT)
$(ROOT)/$(METRIC_TAG)/features-%.h5: $(DATA)/%.h5 $(CHECKPOINT) $(recorded)
	@mkdir -p $(@D)
	$(if $(filter-out 0 1,$(SHARDS)),$(sharded_run),$(run))
endif

FORCE:

ifneq ($(ROUND),1)
# The previous round is made by make itself (a no-op when it is up to date); its classifier embeds this round.
$(PREVIOUS_MODEL): FORCE
	@$(MAKE) --no-print-directory -f $(PIPELINE) ROUND=$(words $(wordlist 2,$(ROUND),1 2 3 4 5 6 7 8 9)) model
$(MDIR)/features-%.h5: CMD = mt-features extract $(DATA)/$*.h5 --model $(PREVIOUS_MODEL)
$(MDIR)/features-%.h5: $(DATA)/%.h5 $(PREVIOUS_MODEL) $(recorded)
	@mkdir -p $(@D)
	$(run)
endif

ifneq ($(filter imported:%,$(METRIC)),)
# Features made elsewhere (h5py, another framework), copied in; the tools check them when they read them.
$(ROOT)/$(METRIC_TAG)/features-train.h5: CMD = cp $(IMPORTED)
$(ROOT)/$(METRIC_TAG)/features-train.h5: $(IMPORTED) $(recorded)
	@mkdir -p $(@D)
	cp $< $@
	@$(record)
endif

# --- mt-select split ------------------------------------------------------------------------------
$(SPLIT): CMD = mt-select split $(DATA)/train.h5 --per-class $(LABELS_PER_CLASS) --seed $(SEED)
$(SPLIT): $(DATA)/train.h5 $(recorded)
	@mkdir -p $(@D)
	$(run)

# --- mt-knn / mt-ncut: propagation ---------------------------------------------------------------------
$(GRAPH): CMD = mt-knn graph $(TRAIN_FEATURES) -k $(K) $(if $(KNN_INDEX),--index $(KNN_INDEX) $(if $(NPROBE),--nprobe $(NPROBE)) $(if $(EF),--ef $(EF)))
$(GRAPH): $(TRAIN_FEATURES) $(recorded)
	$(if $(filter-out 0 1,$(SHARDS)),$(sharded_run),$(run))

$(EIGEN): CMD = mt-ncut eigen $(GRAPH) -n $(EIGENPAIRS) $(if $(SIGMA),--sigma $(SIGMA))
$(EIGEN): $(GRAPH) $(recorded)
	$(run)

$(MDIR)/knn$(PRIOR_TAG)/$(SPLIT_TAG)/pseudo.h5: CMD = mt-knn propagate $(TRAIN_FEATURES) --split $(SPLIT) $(PROPAGATE_OPTIONS)
$(MDIR)/knn$(PRIOR_TAG)/$(SPLIT_TAG)/pseudo.h5: $(TRAIN_FEATURES) $(SPLIT) $(PRIOR_FILE) $(recorded)
	@mkdir -p $(@D)
	$(run)

$(MDIR)/spread-k$(K)$(PRIOR_TAG)/$(SPLIT_TAG)/pseudo.h5: CMD = mt-knn spread $(GRAPH) --split $(SPLIT) $(PROPAGATE_OPTIONS)
$(MDIR)/spread-k$(K)$(PRIOR_TAG)/$(SPLIT_TAG)/pseudo.h5: $(GRAPH) $(SPLIT) $(PRIOR_FILE) $(recorded)
	@mkdir -p $(@D)
	$(run)

$(MDIR)/ncut-k$(K)-n$(EIGENPAIRS)$(PRIOR_TAG)/$(SPLIT_TAG)/pseudo.h5: CMD = mt-ncut propagate $(EIGEN) --split $(SPLIT) $(PROPAGATE_OPTIONS)
$(MDIR)/ncut-k$(K)-n$(EIGENPAIRS)$(PRIOR_TAG)/$(SPLIT_TAG)/pseudo.h5: $(EIGEN) $(SPLIT) $(PRIOR_FILE) $(recorded)
	@mkdir -p $(@D)
	$(run)

# --- mt-select pseudo / mt-train / mt-eval --------------------------------------------------------------
$(SELECTION): CMD = mt-select pseudo $(PSEUDO) $(SELECT_FLAG) --weights $(WEIGHTS) $(SELECT_FLAGS)
$(SELECTION): $(PSEUDO) $(recorded)
	@mkdir -p $(@D)
	$(run)

$(PSEUDO_EVAL): CMD = mt-eval pseudo $(PSEUDO) --truth $(DATA)/train.h5
$(PSEUDO_EVAL): $(PSEUDO) $(DATA)/train.h5 $(recorded)
	$(evaluation)

$(MODEL): CMD = mt-train classifier $(DATA)/train.h5 --selection $(SELECTION) --arch $(ARCH) $(TRAIN_BUDGET) --seed $(SEED) \
                $(if $(INIT),--init $(INIT)) $(TRAIN_FLAGS)
$(MODEL): $(DATA)/train.h5 $(SELECTION) $(INIT) $(recorded)
	@mkdir -p $(@D)
	$(train)

# The metric's own quality: 200-NN accuracy of the test images voted by the labelled training images.
$(METRIC_EVAL): CMD = mt-eval metric $(TRAIN_FEATURES) $(TEST_FEATURES)
$(METRIC_EVAL): $(TRAIN_FEATURES) $(TEST_FEATURES) $(recorded)
	$(evaluation)

# --- baselines: no propagation ----------------------------------------------------------------------------
# supervised: the split's labelled samples alone, from scratch; oracle: every training label, from scratch.
SUPERVISED_DIR := $(ROOT)/supervised/$(SPLIT_TAG)/$(TRAIN_TAG)
ORACLE_DIR     := $(ROOT)/oracle/$(ARCH)-e$(ORACLE_EPOCHS)
supervised: $(SUPERVISED_DIR)/test-metrics.json
oracle:     $(ORACLE_DIR)/test-metrics.json

$(SUPERVISED_DIR)/model.h5: CMD = mt-train classifier $(DATA)/train.h5 --split $(SPLIT) --arch $(ARCH) $(TRAIN_BUDGET) --seed $(SEED) $(TRAIN_FLAGS)
$(SUPERVISED_DIR)/model.h5: $(DATA)/train.h5 $(SPLIT) $(recorded)
	@mkdir -p $(@D)
	$(train)

$(ORACLE_DIR)/model.h5: CMD = mt-train classifier $(DATA)/train.h5 --arch $(ARCH) --epochs $(ORACLE_EPOCHS) --seed $(SEED) $(TRAIN_FLAGS)
$(ORACLE_DIR)/model.h5: $(DATA)/train.h5 $(recorded)
	@mkdir -p $(@D)
	$(train)

# --- mt-train ssl: semi-supervised learning instead of (or after) propagation -------------------------------
# SSL_LABELS=split: the method sees the split's labelled samples and every other image unlabelled, beside the
# supervised baseline. SSL_LABELS=propagated: the selected pseudo-labels join the labelled set (the chain
# metric -> propagation -> selection -> semi-supervised training), inside the selection's directory.
SSL_TAG       := $(SSL)-$(ARCH)-i$(SSL_ITERATIONS)$(if $(filter metric,$(SSL_INIT)),-from-metric)
SSL_DIR       := $(if $(filter propagated,$(SSL_LABELS)),$(SDIR)/ssl-$(SSL_TAG),$(if $(filter metric,$(SSL_INIT)),$(MDIR),$(ROOT))/ssl/$(SPLIT_TAG)/$(SSL_TAG))
SSL_START     := $(if $(filter metric,$(SSL_INIT)),$(if $(filter model:% simclr instance selflabel,$(METRIC)),$(CHECKPOINT),\
                   $(error SSL_INIT=metric needs METRIC=simclr, instance, selflabel or model:FILE, found METRIC=$(METRIC))))
ifneq ($(filter ssl,$(MAKECMDGOALS)),)
ifeq ($(SSL),)
$(error the ssl target needs SSL, a method of mt-train ssl (e.g. SSL=fixmatch))
endif
endif
ssl: $(SSL_DIR)/test-metrics.json

$(SSL_DIR)/model.h5: CMD = mt-train ssl $(DATA)/train.h5 --split $(SPLIT) $(if $(filter propagated,$(SSL_LABELS)),--labeled-from $(SELECTION)) \
                           --method $(SSL) --arch $(ARCH) --iterations $(SSL_ITERATIONS) --seed $(SEED) $(if $(SSL_START),--init $(SSL_START)) $(SSL_FLAGS)
$(SSL_DIR)/model.h5: $(DATA)/train.h5 $(SPLIT) $(if $(filter propagated,$(SSL_LABELS)),$(SELECTION)) $(SSL_START) $(recorded)
	@mkdir -p $(@D)
	$(train)

# --- teacher/student (Yalniz et al.): teacher -> predictions -> top-K per class over the top P -> student ----
# The teacher is TEACHER_ARCH trained on the split's labels (TEACHER=labels) or the finetuned classifier of
# this pipeline (TEACHER=finetuned); the student (STUDENT_ARCH) learns from the selection alone, then is
# finetuned on the split's labels. Test accuracy of teacher, student and finetuned student.
TEACHER_DIR   := $(if $(filter finetuned,$(TEACHER)),$(MODEL_DIR),$(ROOT)/supervised/$(SPLIT_TAG)/$(TEACHER_ARCH)-$(if $(ITERATIONS),i$(ITERATIONS),e$(EPOCHS)))
TS_DIR        := $(TEACHER_DIR)/students/top$(TOP_K)x$(TOP_P)
STUDENT_DIR   := $(TS_DIR)/$(STUDENT_ARCH)-$(if $(ITERATIONS),i$(ITERATIONS),e$(EPOCHS))
teacher-student: $(TEACHER_DIR)/test-metrics.json $(STUDENT_DIR)/test-metrics.json $(STUDENT_DIR)/finetuned/test-metrics.json

ifneq ($(TEACHER_DIR),$(MODEL_DIR))
ifneq ($(TEACHER_DIR),$(SUPERVISED_DIR))
$(TEACHER_DIR)/model.h5: CMD = mt-train classifier $(DATA)/train.h5 --split $(SPLIT) --arch $(TEACHER_ARCH) $(TRAIN_BUDGET) --seed $(SEED) $(TRAIN_FLAGS)
$(TEACHER_DIR)/model.h5: $(DATA)/train.h5 $(SPLIT) $(recorded)
	@mkdir -p $(@D)
	$(train)
endif
endif

$(TEACHER_DIR)/predictions.h5: CMD = mt-train predict $(TEACHER_DIR)/model.h5 $(DATA)/train.h5 --split $(SPLIT)
$(TEACHER_DIR)/predictions.h5: $(TEACHER_DIR)/model.h5 $(DATA)/train.h5 $(SPLIT) $(recorded)
	$(run)

$(TS_DIR)/selection.h5: CMD = mt-select pseudo $(TEACHER_DIR)/predictions.h5 --per-class-top $(TOP_K) --top-classes $(TOP_P) --exclude-labeled
$(TS_DIR)/selection.h5: $(TEACHER_DIR)/predictions.h5 $(recorded)
	@mkdir -p $(@D)
	$(run)

$(STUDENT_DIR)/model.h5: CMD = mt-train classifier $(DATA)/train.h5 --selection $(TS_DIR)/selection.h5 --arch $(STUDENT_ARCH) $(TRAIN_BUDGET) \
                               --seed $(SEED) $(STUDENT_FLAGS)
$(STUDENT_DIR)/model.h5: $(DATA)/train.h5 $(TS_DIR)/selection.h5 $(recorded)
	@mkdir -p $(@D)
	$(train)

$(STUDENT_DIR)/finetuned/model.h5: CMD = mt-train classifier $(DATA)/train.h5 --split $(SPLIT) --init $(STUDENT_DIR)/model.h5 \
                                         --arch $(STUDENT_ARCH) $(TRAIN_BUDGET) --seed $(SEED) $(TRAIN_FLAGS)
$(STUDENT_DIR)/finetuned/model.h5: $(DATA)/train.h5 $(SPLIT) $(STUDENT_DIR)/model.h5 $(recorded)
	@mkdir -p $(@D)
	$(train)

# --- ReLaB: propagate -> clean to POOL reliable samples per class -> SSL (or finetune) on the pool ---------
# With SSL set, that method trains on the pool as its labelled set (every other image unlabelled, from
# SSL_INIT); without, the classifier is finetuned from the metric on the pool, as MODEL is on the selection.
RELAB_DIR     := $(PDIR)/relab-p$(POOL)
RELAB_POOL    := $(RELAB_DIR)/pool.h5
RELAB_MODEL_DIR := $(RELAB_DIR)/$(if $(SSL),ssl-$(SSL_TAG),$(TRAIN_TAG))
relab: $(RELAB_MODEL_DIR)/test-metrics.json $(RELAB_DIR)/pool-metrics.json

$(RELAB_POOL): CMD = mt-select clean $(PSEUDO) --features $(TRAIN_FEATURES) --per-class $(POOL) $(CLEAN_FLAGS)
$(RELAB_POOL): $(PSEUDO) $(TRAIN_FEATURES) $(recorded)
	@mkdir -p $(@D)
	$(run)

$(RELAB_DIR)/pool-metrics.json: CMD = mt-eval pseudo $(RELAB_POOL) --truth $(DATA)/train.h5
$(RELAB_DIR)/pool-metrics.json: $(RELAB_POOL) $(DATA)/train.h5 $(recorded)
	$(evaluation)

$(RELAB_MODEL_DIR)/model.h5: CMD = $(if $(SSL),mt-train ssl $(DATA)/train.h5 --split $(SPLIT) --labeled-from $(RELAB_POOL) --method $(SSL) \
                                     --arch $(ARCH) --iterations $(SSL_ITERATIONS) --seed $(SEED) $(if $(SSL_START),--init $(SSL_START)) $(SSL_FLAGS),\
                                   mt-train classifier $(DATA)/train.h5 --selection $(RELAB_POOL) --arch $(ARCH) $(TRAIN_BUDGET) --seed $(SEED) \
                                     $(if $(INIT),--init $(INIT)) $(TRAIN_FLAGS))
$(RELAB_MODEL_DIR)/model.h5: $(DATA)/train.h5 $(SPLIT) $(RELAB_POOL) $(if $(SSL),$(SSL_START),$(INIT)) $(recorded)
	@mkdir -p $(@D)
	$(train)

# --- active learning: propagate -> ask for the ACTIVE_BUDGET most useful labels -> answer -> propagate again --
# Round 0 is the split; round r+1's split is round r's plus the answers to round r's questions
# (roundR/queries.csv: mt-select query). ORACLE_LABELS=yes answers from the data set's own labels (how the
# loop is benchmarked); ORACLE_LABELS=no stops at each round until a person has saved the filled-in table
# as roundR/answers.csv. After the last round: selection and finetuning as for MODEL, and a table of
# pseudo-label accuracy per round (labels spent = the split's + r x ACTIVE_BUDGET).
ACTIVE_DIR    := $(MDIR)/$(PROP_TAG)/active-$(QUERY)-b$(ACTIVE_BUDGET)/$(SPLIT_TAG)
ACTIVE_LAST   := $(ACTIVE_DIR)/round$(ACTIVE_ROUNDS)
ACTIVE_MODEL_DIR := $(ACTIVE_LAST)/select-$(SELECT_TAG)/$(TRAIN_TAG)
active_split   = $(if $(filter 0,$(1)),$(SPLIT),$(ACTIVE_DIR)/round$(1)/split.h5)
ACTIVE_PSEUDO := $(foreach r,$(shell seq 0 $(ACTIVE_ROUNDS)),$(ACTIVE_DIR)/round$(r)/pseudo.h5)
PROPAGATION_INPUT := $(if $(filter knn,$(PROPAGATION)),$(TRAIN_FEATURES),$(if $(filter spread,$(PROPAGATION)),$(GRAPH),$(EIGEN)))
propagate_cmd  = $(if $(filter knn,$(PROPAGATION)),mt-knn propagate,$(if $(filter spread,$(PROPAGATION)),mt-knn spread,mt-ncut propagate)) \
                 $(PROPAGATION_INPUT) --split $(1) $(PROPAGATE_OPTIONS)
active: $(ACTIVE_DIR)/pseudo-by-round.json $(ACTIVE_MODEL_DIR)/test-metrics.json

define active_round
$(ACTIVE_DIR)/round$(1)/pseudo.h5: CMD = $$(call propagate_cmd,$(call active_split,$(1)))
$(ACTIVE_DIR)/round$(1)/pseudo.h5: $$(PROPAGATION_INPUT) $(call active_split,$(1)) $$(PRIOR_FILE) $$(recorded)
	@mkdir -p $$(@D)
	$$(run)

$(ACTIVE_DIR)/round$(1)/queries.csv: CMD = mt-select query $(ACTIVE_DIR)/round$(1)/pseudo.h5 --budget $$(ACTIVE_BUDGET) --by $$(QUERY) \
                                           --features $$(TRAIN_FEATURES) --dataset $$(DATA)/train.h5 --seed $$(SEED)
$(ACTIVE_DIR)/round$(1)/queries.csv: $(ACTIVE_DIR)/round$(1)/pseudo.h5 $$(TRAIN_FEATURES) $$(recorded)
	$$(run)

$(ACTIVE_DIR)/round$(2)/split.h5: CMD = mt-select split $$(DATA)/train.h5 --merge $(call active_split,$(1)) \
                                        $$(if $$(filter yes,$$(ORACLE_LABELS)),--from-csv $(ACTIVE_DIR)/round$(1)/queries.csv --oracle,--from-csv $(ACTIVE_DIR)/round$(1)/answers.csv)
$(ACTIVE_DIR)/round$(2)/split.h5: $$(DATA)/train.h5 $(call active_split,$(1)) \
                                  $(ACTIVE_DIR)/round$(1)/$$(if $$(filter yes,$$(ORACLE_LABELS)),queries,answers).csv $$(recorded)
	@mkdir -p $$(@D)
	$$(run)
endef
$(foreach r,$(shell seq 0 $(ACTIVE_ROUNDS)),$(eval $(call active_round,$(r),$(shell echo $$(( $(r) + 1 ))))))

$(ACTIVE_DIR)/%/answers.csv:
	@echo "active: label the images of $(@D)/queries.csv (fill label or class_name), save the table as $@, then run make again" >&2; exit 2

$(ACTIVE_DIR)/pseudo-by-round.json: CMD = mt-eval pseudo $(ACTIVE_PSEUDO) --truth $(DATA)/train.h5 \
                                          $(foreach r,$(shell seq 0 $(ACTIVE_ROUNDS)),--name round$(r))
$(ACTIVE_DIR)/pseudo-by-round.json: $(ACTIVE_PSEUDO) $(DATA)/train.h5 $(recorded)
	$(evaluation)

$(ACTIVE_LAST)/select-$(SELECT_TAG)/selection.h5: CMD = mt-select pseudo $(ACTIVE_LAST)/pseudo.h5 $(SELECT_FLAG) --weights $(WEIGHTS) $(SELECT_FLAGS)
$(ACTIVE_LAST)/select-$(SELECT_TAG)/selection.h5: $(ACTIVE_LAST)/pseudo.h5 $(recorded)
	@mkdir -p $(@D)
	$(run)

$(ACTIVE_MODEL_DIR)/model.h5: CMD = mt-train classifier $(DATA)/train.h5 --selection $(ACTIVE_LAST)/select-$(SELECT_TAG)/selection.h5 --arch $(ARCH) \
                                    $(TRAIN_BUDGET) --seed $(SEED) $(if $(INIT),--init $(INIT)) $(TRAIN_FLAGS)
$(ACTIVE_MODEL_DIR)/model.h5: $(DATA)/train.h5 $(ACTIVE_LAST)/select-$(SELECT_TAG)/selection.h5 $(INIT) $(recorded)
	@mkdir -p $(@D)
	$(train)

# Test accuracy of every classifier: the finetuned one, the two baselines, the semi-supervised one, the
# teacher/student chain, ReLaB's and the active loop's.
# (sorted: the teacher is the supervised baseline or the finetuned classifier when the names say so)
CLASSIFIER_EVALS := $(sort $(TEST_EVAL) $(SUPERVISED_DIR)/test-metrics.json $(ORACLE_DIR)/test-metrics.json $(if $(SSL),$(SSL_DIR)/test-metrics.json) \
                      $(TEACHER_DIR)/test-metrics.json $(STUDENT_DIR)/test-metrics.json $(STUDENT_DIR)/finetuned/test-metrics.json \
                      $(RELAB_MODEL_DIR)/test-metrics.json $(ACTIVE_MODEL_DIR)/test-metrics.json)
$(CLASSIFIER_EVALS): CMD = mt-eval model $(@D)/model.h5 $(DATA)/test.h5
$(CLASSIFIER_EVALS): %/test-metrics.json: %/model.h5 $(DATA)/test.h5 $(recorded)
	$(evaluation)
