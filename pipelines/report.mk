# report.mk — the demo summary and the paper's table, for any pipeline that includes mt.mk.
TOOLS        := $(dir $(lastword $(MAKEFILE_LIST)))tools
TABLE_LABELS ?= 1 5 10 100#          labels per class
TABLE_PROPAGATIONS ?= knn ncut
TABLE_SEEDS  ?= 0 1 2
TABLE_ONE_LABEL_SEEDS ?= 0 1 2 3 4 5 6 7 8 9#  seeds at 1 label per class, where the draw is the experiment
TABLE_BASELINES ?= pixels pca#       metrics whose pseudo-labels are compared (no finetuning)
TABLE_ROUNDS ?= 2#                   rounds of metric transfer (1 = finetune once)
TABLE_ROUND_SEEDS ?= 0#              seeds that get rounds 2 and later
TABLE_SSL    ?=#                     semi-supervised methods with a row each (mt-train ssl, SSL_ITERATIONS steps)
TABLE_TEACHER_STUDENT ?=#            KxP: teacher/student rows (TOP_K=K TOP_P=P, the teacher trained on the labels)
TABLE_RELAB  ?=#                     pool sizes per class: ReLaB rows (mt-select clean, then finetuning on the pool)
TABLE_DIR    := $(ROOT)/table-$(METRIC_TAG)-$(SELECT_TAG)-$(TRAIN_TAG)
prop_tag      = $(if $(filter knn,$(1)),knn,$(if $(filter spread,$(1)),spread-k$(K),ncut-k$(K)-n$(EIGENPAIRS)))$(PRIOR_TAG)
metric_dir    = $(ROOT)/$(if $(filter pca,$(1)),pca$(PCA_DIM)$(if $(filter yes,$(PCA_WHITEN)),w),$(1))

comma := ,

.PHONY: demo summary table

demo: evaluate
	@$(MAKE) --no-print-directory -f $(PIPELINE) summary

# Each stage's artifact with the time its tool took, then the evaluations.
summary:
	@sh $(TOOLS)/summary.sh $(DATA)/train.h5 $(DATA)/test.h5 $(TRAIN_FEATURES) $(SPLIT) \
	  $(if $(filter knn,$(PROPAGATION)),,$(GRAPH)) $(if $(filter ncut,$(PROPAGATION)),$(EIGEN)) \
	  $(PSEUDO) $(SELECTION) $(MODEL)
	@echo; echo "pseudo-labels ($(PROPAGATION), $(LABELS_PER_CLASS) labels per class, seed $(SEED)):"; cat $(PSEUDO_EVAL:.json=.txt)
	@if [ -f $(TEST_EVAL:.json=.txt) ]; then echo; echo "test set ($(ARCH) finetuned on the selection):"; cat $(TEST_EVAL:.json=.txt); fi

# The paper's experiment: for every label count, propagation method and seed, the pseudo-labels of the
# baseline metrics and of METRIC, the classifier finetuned from METRIC (rounds 2+ for TABLE_ROUND_SEEDS),
# the supervised-only baseline and the all-labels upper bound; then results.md (tools/results.py) and
# the accuracy-coverage curves of seed 0. Seeds are the outer loop, so the first seed's complete column
# (rounds and all-labels bound included) comes first; every run is a make target, so a stopped sweep resumes.
# One label per class runs over TABLE_ONE_LABEL_SEEDS, the other label counts over TABLE_SEEDS.
TABLE_ALL_SEEDS := $(TABLE_SEEDS) $(filter-out $(TABLE_SEEDS),$(TABLE_ONE_LABEL_SEEDS))
table:
	@set -e; run() { $(MAKE) --no-print-directory -f $(PIPELINE) "$$@"; }; \
	for metric in $(TABLE_BASELINES) $(METRIC); do run METRIC=$$metric metric-eval; done; \
	for seed in $(TABLE_ALL_SEEDS); do for labels in $(TABLE_LABELS); do \
	  if [ "$$labels" = 1 ]; then seeds=" $(TABLE_ONE_LABEL_SEEDS) "; else seeds=" $(TABLE_SEEDS) "; fi; \
	  case "$$seeds" in *" $$seed "*) ;; *) continue;; esac; \
	  for metric in $(TABLE_BASELINES); do for propagation in $(TABLE_PROPAGATIONS); do \
	    run METRIC=$$metric LABELS_PER_CLASS=$$labels PROPAGATION=$$propagation SEED=$$seed pseudo; done; done; \
	  for propagation in $(TABLE_PROPAGATIONS); do \
	    run LABELS_PER_CLASS=$$labels PROPAGATION=$$propagation SEED=$$seed evaluate; \
	    case " $(TABLE_ROUND_SEEDS) " in *" $$seed "*) for round in $(wordlist 2,$(TABLE_ROUNDS),1 2 3 4 5 6 7 8 9); do \
	      run ROUND=$$round LABELS_PER_CLASS=$$labels PROPAGATION=$$propagation SEED=$$seed evaluate; done;; esac; \
	  done; \
	  run LABELS_PER_CLASS=$$labels SEED=$$seed supervised; \
	  for method in $(TABLE_SSL); do run SSL=$$method LABELS_PER_CLASS=$$labels SEED=$$seed ssl; done; \
	  for kp in $(TABLE_TEACHER_STUDENT); do run TOP_K=$${kp%x*} TOP_P=$${kp#*x} LABELS_PER_CLASS=$$labels SEED=$$seed teacher-student; done; \
	  for pool in $(TABLE_RELAB); do for propagation in $(TABLE_PROPAGATIONS); do \
	    run POOL=$$pool PROPAGATION=$$propagation LABELS_PER_CLASS=$$labels SEED=$$seed SSL= relab; done; done; \
	done; [ "$$seed" != "$(firstword $(TABLE_SEEDS))" ] || run oracle; done
	@mkdir -p $(TABLE_DIR)
	python3 $(TOOLS)/results.py --out $(TABLE_DIR)/results.md \
	  $(foreach m,$(TABLE_BASELINES) $(METRIC),--metric $(if $(filter $(METRIC),$(m)),$(METRIC_TAG),$(notdir $(call metric_dir,$(m))))=$(if $(filter $(METRIC),$(m)),$(ROOT)/$(METRIC_TAG),$(call metric_dir,$(m)))) \
	  $(foreach p,$(TABLE_PROPAGATIONS),--propagation $(p)=$(call prop_tag,$(p))) \
	  --labels $(TABLE_LABELS) --seeds $(TABLE_SEEDS) $(if $(filter 1,$(TABLE_LABELS)),--label-seeds 1=$(subst $() ,$(comma),$(strip $(TABLE_ONE_LABEL_SEEDS)))) --rounds $(TABLE_ROUNDS) --round-seeds $(TABLE_ROUND_SEEDS) \
	  --select-tag select-$(SELECT_TAG) --train-tag $(TRAIN_TAG) \
	  --supervised $(ROOT)/supervised --oracle $(ORACLE_DIR) \
	  $(if $(TABLE_SSL),--ssl $(TABLE_SSL) --ssl-root $(ROOT)/ssl --ssl-suffix=-$(ARCH)-i$(SSL_ITERATIONS)) \
	  $(if $(TABLE_TEACHER_STUDENT),--teacher-student $(TABLE_TEACHER_STUDENT)) $(if $(TABLE_RELAB),--relab $(TABLE_RELAB))
	$(MT_BIN)/mt-eval pseudo $(MT_FLAGS) --truth $(DATA)/train.h5 --plot $(TABLE_DIR) \
	  $(foreach l,$(TABLE_LABELS),$(foreach p,$(TABLE_PROPAGATIONS),\
	    $(ROOT)/$(METRIC_TAG)/$(call prop_tag,$(p))/n$(l)-s0/pseudo.h5 --name $(p)-$(l))) > /dev/null
	@cat $(TABLE_DIR)/results.md; echo "wrote $(TABLE_DIR)/results.md and $(TABLE_DIR)/accuracy-coverage.png"
